// snapheap_inspect_bench: the inspection tools on a random graph snapshot of 10^6 objects (10^7
// with --sizes=1000000,10000000), beside memlab's own load of the same export, in one run.
//
//   inspect/<step>/snapheap/N    library calls on a graph in memory: SnapshotGraph::read,
//                                dominators(), shortest_path() to the last object, export_devtools()
//   inspect/<command>/snapheap/N the tool's commands as a child process (`snapheap top FILE`,
//                                `why FILE --id LAST`, `export --devtools FILE -o OUT`): wall time,
//                                and the child's peak resident memory (counters peak_rss_bytes,
//                                peak_rss_bytes_per_object: the whole process, file bytes included)
//   inspect/memlab_load/memlab/N `node bench/memlab_load.mjs OUT` on the same export: memlab's
//                                getFullHeapFromFile (parse, paths, dominators); its own timing as
//                                the counter memlab_load_ms, its peak memory likewise
//
// The graph (tests/tools/graphgen/random_graph.hpp): 1 spanning + 1 random strong reference and
// 1 weak handle per object, 0 or 1 int64 value each, 1% outsiders (tombstones), 4 roots.
//   snapheap_inspect_bench [--sizes=N,N...] [--smoke] [Google Benchmark flags]
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <ostream>
#include <snapheap/inspect.hpp>
#include <streambuf>
#include <string>
#include <vector>

#include "tools/graphgen/random_graph.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;

struct Inputs {
  std::int64_t objects = 0;
  fs::path snapshot, heapsnapshot;
  snapheap::ByteBuffer bytes;
  snapheap::SnapshotGraph graph;
};

fs::path work_dir() {
  const char* dir = std::getenv("SNAPHEAP_BENCH_DIR");
  fs::path path = dir && *dir ? fs::path(dir) : fs::temp_directory_path() / "snapheap-inspect-bench";
  fs::create_directories(path);
  return path;
}

/// The inputs of one size, built once (the last size's are dropped when another is asked for).
Inputs& inputs(std::int64_t n) {
  static std::unique_ptr<Inputs> kept;
  if (kept && kept->objects == n) return *kept;
  kept.reset();
  auto in = std::make_unique<Inputs>();
  in->objects = n;
  in->snapshot = work_dir() / ("graph-" + std::to_string(n) + ".snap");
  in->heapsnapshot = work_dir() / ("graph-" + std::to_string(n) + ".heapsnapshot");
  {
    snapheap::Heap heap;
    // Like the main suite's graph (an int64, a strong and a weak edge per object), with a second
    // strong reference per object so that dominators have work to do.
    const auto outsiders = snapheap_graphgen::build(
        heap, {.objects = static_cast<std::uint32_t>(n), .seed = 2025, .extra_edges = 1.0, .weak_edges = 1.0,
               .max_values = 1});
    snapheap::save(heap, in->snapshot, {.sync = false});
    snapheap::save(heap, in->bytes);
  }
  snapheap::ByteBuffer copy;
  copy.append(in->bytes.data(), in->bytes.size());
  in->graph = snapheap::SnapshotGraph::read(std::move(copy));
  std::ofstream out(in->heapsnapshot, std::ios::binary | std::ios::trunc);
  snapheap::export_devtools(in->graph, out);
  kept = std::move(in);
  return *kept;
}

class CountingBuf final : public std::streambuf {
 public:
  std::uint64_t count = 0;

 protected:
  int_type overflow(int_type c) override {
    ++count;
    return traits_type::not_eof(c);
  }
  std::streamsize xsputn(const char*, std::streamsize n) override {
    count += static_cast<std::uint64_t>(n);
    return n;
  }
};

struct ChildResult {
  double seconds = 0;
  std::uint64_t max_rss_bytes = 0;
  int exit_code = -1;
  std::string out;
};

/// Runs argv[0] with stdout to a file (returned) and stderr to /dev/null; wall time and the
/// child's own peak resident set. The child runs under GNU time, which forks it from its own
/// small process: a child spawned from this one directly would report this process's resident
/// set as its peak (the high-water mark survives exec), which is the graph this benchmark holds.
ChildResult run_child(const std::vector<std::string>& command) {
  const fs::path out = work_dir() / "child-stdout";
  const fs::path rss = work_dir() / "child-maxrss";
  std::vector<std::string> argv = {"/usr/bin/time", "-f", "%M", "-o", rss.string()};
  argv.insert(argv.end(), command.begin(), command.end());
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  ChildResult r;
  const auto start = std::chrono::steady_clock::now();
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return r;
  int status = 0;
  struct rusage usage {};
  while (wait4(pid, &status, 0, &usage) < 0) {}
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  (void)usage;
  std::uint64_t kib = 0;
  if (std::ifstream in(rss); in >> kib) r.max_rss_bytes = kib * 1024;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(out);
  r.out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return r;
}

void objects_counter(benchmark::State& state, std::int64_t n) {
  state.counters["objects"] = static_cast<double>(n);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * n);
}

void bench_read(benchmark::State& state, std::int64_t n) {
  Inputs& in = inputs(n);
  for (auto _ : state) {
    state.PauseTiming();
    snapheap::ByteBuffer copy;
    copy.append(in.bytes.data(), in.bytes.size());
    state.ResumeTiming();
    benchmark::DoNotOptimize(snapheap::SnapshotGraph::read(std::move(copy)));
  }
  objects_counter(state, n);
}

void bench_dominators(benchmark::State& state, std::int64_t n) {
  Inputs& in = inputs(n);
  for (auto _ : state) benchmark::DoNotOptimize(snapheap::dominators(in.graph));
  objects_counter(state, n);
}

void bench_shortest_path(benchmark::State& state, std::int64_t n) {
  Inputs& in = inputs(n);
  for (auto _ : state) benchmark::DoNotOptimize(snapheap::shortest_path(in.graph, in.graph.objects() - 1));
  objects_counter(state, n);
}

void bench_export(benchmark::State& state, std::int64_t n) {
  Inputs& in = inputs(n);
  std::uint64_t bytes = 0;
  for (auto _ : state) {
    CountingBuf counter;
    std::ostream out(&counter);
    snapheap::export_devtools(in.graph, out);
    bytes = counter.count;
  }
  objects_counter(state, n);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  state.counters["export_bytes"] = static_cast<double>(bytes);
}

void child_benchmark(benchmark::State& state, std::int64_t n, const std::vector<std::string>& argv) {
  std::uint64_t peak = 0;
  for (auto _ : state) {
    const ChildResult r = run_child(argv);
    if (r.exit_code != 0) {
      state.SkipWithError((argv[0] + " failed (exit " + std::to_string(r.exit_code) + ")").c_str());
      return;
    }
    state.SetIterationTime(r.seconds);
    peak = std::max(peak, r.max_rss_bytes);
  }
  objects_counter(state, n);
  state.counters["peak_rss_bytes"] = static_cast<double>(peak);
  state.counters["peak_rss_bytes_per_object"] = static_cast<double>(peak) / static_cast<double>(n);
}

void bench_top_command(benchmark::State& state, std::int64_t n) {
  child_benchmark(state, n, {SNAPHEAP_TOOL_PATH, "top", inputs(n).snapshot.string()});
}
void bench_why_command(benchmark::State& state, std::int64_t n) {
  child_benchmark(state, n, {SNAPHEAP_TOOL_PATH, "why", inputs(n).snapshot.string(), "--id", std::to_string(n - 1)});
}
void bench_export_command(benchmark::State& state, std::int64_t n) {
  child_benchmark(state, n, {SNAPHEAP_TOOL_PATH, "export", "--devtools", inputs(n).snapshot.string(), "-o",
                             (work_dir() / "command.heapsnapshot").string()});
}

void bench_memlab(benchmark::State& state, std::int64_t n) {
  const std::string node = SNAPHEAP_NODE_PATH;
  if (node.empty() || !fs::exists(fs::path(SNAPHEAP_SOURCE_DIR) / "tools/node/node_modules/@memlab/heap-analysis")) {
    state.SkipWithError("memlab is not installed (node and tools/install-deps)");
    return;
  }
  const std::vector<std::string> argv = {node, "--max-old-space-size=16384", SNAPHEAP_SOURCE_DIR "/bench/memlab_load.mjs",
                                         inputs(n).heapsnapshot.string()};
  double reported_ms = 0;
  std::uint64_t peak = 0;
  for (auto _ : state) {
    const ChildResult r = run_child(argv);
    const auto at = r.out.find("\"load_ms\":");
    if (r.exit_code != 0 || at == std::string::npos) {
      state.SkipWithError(("memlab's load failed (exit " + std::to_string(r.exit_code) + ")").c_str());
      return;
    }
    state.SetIterationTime(r.seconds);
    reported_ms = std::strtod(r.out.c_str() + at + 10, nullptr);
    peak = std::max(peak, r.max_rss_bytes);
  }
  objects_counter(state, n);
  state.counters["memlab_load_ms"] = reported_ms;
  state.counters["peak_rss_bytes"] = static_cast<double>(peak);
  state.counters["peak_rss_bytes_per_object"] = static_cast<double>(peak) / static_cast<double>(n);
}

using Fn = void (*)(benchmark::State&, std::int64_t);

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::int64_t> sizes = {1'000'000};
  int kept = 1;
  bool smoke = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--smoke") smoke = true;
    else if (arg.rfind("--sizes=", 0) == 0) {
      sizes.clear();
      for (std::size_t at = 8; at < arg.size();) {
        const std::size_t comma = arg.find(',', at);
        sizes.push_back(std::stoll(arg.substr(at, comma - at)));
        at = comma == std::string::npos ? arg.size() : comma + 1;
      }
    } else argv[kept++] = argv[i];
  }
  argc = kept;
  if (smoke) sizes = {1000};
  const std::pair<const char*, Fn> library[] = {{"graph_read", bench_read}, {"dominators", bench_dominators},
                                                {"shortest_path", bench_shortest_path}, {"export", bench_export}};
  const std::pair<const char*, Fn> commands[] = {{"top_command", bench_top_command}, {"why_command", bench_why_command},
                                                 {"export_command", bench_export_command}};
  for (const std::int64_t n : sizes) {
    const std::int64_t repeats = smoke ? 1 : (n >= 10'000'000 ? 1 : 3);
    for (const auto& [name, fn] : library) {
      auto* b = benchmark::RegisterBenchmark((std::string("inspect/") + name + "/snapheap/" + std::to_string(n)).c_str(),
                                             [fn = fn, n](benchmark::State& s) { fn(s, n); });
      b->Unit(benchmark::kMillisecond);
      if (smoke) b->Iterations(1);
    }
    for (const auto& [name, fn] : commands)
      benchmark::RegisterBenchmark((std::string("inspect/") + name + "/snapheap/" + std::to_string(n)).c_str(),
                                   [fn = fn, n](benchmark::State& s) { fn(s, n); })
          ->UseManualTime()->Iterations(repeats)->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("inspect/memlab_load/memlab/" + std::to_string(n)).c_str(),
                                 [n](benchmark::State& s) { bench_memlab(s, n); })
        ->UseManualTime()->Iterations(1)->Unit(benchmark::kMillisecond);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
