// save_file/<workload>/<mode> and load_file/<workload>/<mode>: the payload and the graph saved
// to a file against the same save to memory, in one family so the ratio is direct.
//  - snapheap_fsync: save(heap, path): temporary file, write, fsync of the file and the directory,
//    rename (the default SaveOptions{.sync = true}).
//  - snapheap_no_fsync: the same with .sync = false (what the fsync costs).
//  - snapheap_memory: save(heap, ByteBuffer), as in save/<workload>/snapheap.
//  - load_file: load(heap, path) (from the page cache: the file was just written) against
//    load(heap, bytes).
//  - fwrite_fsync (payload): the baseline of the sync save, the same snapshot bytes written to a
//    file in the same directory with fopen + fwrite + fflush + fsync + fclose.
//  - fread (payload): the baseline of the load from the file: fopen + fread of the whole file
//    (the size from fstat) into a reused, warm buffer + fclose.
// These wait for the disk, so they are timed and compared by wall time (UseRealTime).
// The directory is $SNAPHEAP_BENCH_DIR, or the system temporary directory; the report names its
// file system.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <seed/seed_model.hpp>

#include "support.hpp"
#include "types.hpp"

namespace snapbench {
namespace {

std::filesystem::path bench_dir() {
  if (const char* dir = std::getenv("SNAPHEAP_BENCH_DIR"); dir && *dir) return dir;
  return std::filesystem::temp_directory_path();
}

enum class Workload { payload, graph };

struct FileFixture final : Fixture {
  snapheap::Heap heap;
  snapheap::Heap restored;
  snapheap::ByteBuffer buffer;
  std::filesystem::path path;
  std::uint64_t bytes = 0;

  FileFixture(Workload workload, std::int64_t n)
      : path(bench_dir() / ("snapheap-bench-" + std::to_string(::getpid()) + ".snap")) {
    if (workload == Workload::payload)
      heap.set_root("data", heap.make<seed::Payload>(n));
    else
      heap.set_root("data", build_graph(heap, n));
    bytes = snapheap::save(heap, path).bytes;
    snapheap::save(heap, buffer);
    snapheap::load(restored, path);
    drop_restored();
  }
  ~FileFixture() override {
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
  }
  void drop_restored() {
    restored.remove_root("data");
    restored.collect();
  }
};

enum class Mode { fsync, no_fsync, memory };

FileFixture& file_fixture(Workload workload, std::int64_t n) {
  return fixture<FileFixture>(key(workload == Workload::payload ? "file/payload" : "file/graph", n), workload, n);
}

template <Workload kWorkload, Mode kMode>
void save_to(benchmark::State& state, std::int64_t n) {
  FileFixture& f = file_fixture(kWorkload, n);
  snapheap::SaveOptions options;
  options.sync = kMode == Mode::fsync;
  std::uint64_t bytes = 0;
  TimedFaults faults;
  for (auto _ : state) {
    bytes = kMode == Mode::memory ? snapheap::save(f.heap, f.buffer).bytes
                                  : snapheap::save(f.heap, f.path, options).bytes;
  }
  set_rates(state, n, static_cast<std::int64_t>(bytes));
  set_counter(state, "snapshot_bytes", static_cast<double>(bytes));
  state.SetLabel(kMode == Mode::fsync      ? "temp file + write + fsync (file and directory) + rename"
                 : kMode == Mode::no_fsync ? "temp file + write + rename, no fsync"
                                           : "into a reused ByteBuffer");
}

template <Workload kWorkload, Mode kMode>
void load_from(benchmark::State& state, std::int64_t n) {
  FileFixture& f = file_fixture(kWorkload, n);
  TimedFaults faults;
  for (auto _ : state) {
    if constexpr (kMode == Mode::memory) snapheap::load(f.restored, f.buffer);
    else snapheap::load(f.restored, f.path);
    Untimed untimed(state);
    f.drop_restored();
  }
  set_rates(state, n, static_cast<std::int64_t>(f.bytes));
  set_counter(state, "snapshot_bytes", static_cast<double>(f.bytes));
  state.SetLabel(kMode == Mode::memory ? "from a ByteBuffer" : "from the file (in the page cache)");
}

/// The plain C stdio baselines, on the payload's snapshot bytes, in the same directory.
struct StdioFixture final : Fixture {
  std::vector<char> bytes;
  std::vector<char> read_back;
  std::filesystem::path path;

  explicit StdioFixture(std::int64_t n)
      : path(bench_dir() / ("snapheap-bench-stdio-" + std::to_string(::getpid()) + ".bin")) {
    snapheap::Heap heap;
    heap.set_root("data", heap.make<seed::Payload>(n));
    snapheap::ByteBuffer buffer;
    snapheap::save(heap, buffer);
    bytes.assign(reinterpret_cast<const char*>(buffer.data()), reinterpret_cast<const char*>(buffer.data()) + buffer.size());
    read_back.assign(bytes.size(), 0);  // warm
    if (!write(true)) throw std::runtime_error("cannot write " + path.string());
  }
  ~StdioFixture() override {
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
  }
  bool write(bool sync) const {
    std::FILE* file = std::fopen(path.c_str(), "wb");
    if (!file) return false;
    bool ok = std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size() && std::fflush(file) == 0;
    if (ok && sync) ok = ::fsync(::fileno(file)) == 0;
    return std::fclose(file) == 0 && ok;
  }
  bool read() {
    std::FILE* file = std::fopen(path.c_str(), "rb");
    if (!file) return false;
    struct stat info {};
    bool ok = ::fstat(::fileno(file), &info) == 0 && static_cast<std::size_t>(info.st_size) == bytes.size();
    if (ok) {
      read_back.resize(static_cast<std::size_t>(info.st_size));
      ok = std::fread(read_back.data(), 1, read_back.size(), file) == read_back.size();
    }
    return std::fclose(file) == 0 && ok;
  }
};

void save_fwrite_fsync(benchmark::State& state, std::int64_t n) {
  auto& f = fixture<StdioFixture>(key("file/payload/stdio", n), n);
  TimedFaults faults;
  for (auto _ : state) {
    if (!f.write(true)) state.SkipWithError("fwrite + fsync failed");
  }
  set_rates(state, n, static_cast<std::int64_t>(f.bytes.size()));
  set_counter(state, "snapshot_bytes", static_cast<double>(f.bytes.size()));
  state.SetLabel("the baseline: fopen + fwrite + fflush + fsync + fclose of the snapshot's bytes, same directory");
}

void load_fread(benchmark::State& state, std::int64_t n) {
  auto& f = fixture<StdioFixture>(key("file/payload/stdio", n), n);
  TimedFaults faults;
  for (auto _ : state) {
    if (!f.read()) state.SkipWithError("fread failed");
    benchmark::ClobberMemory();
  }
  set_rates(state, n, static_cast<std::int64_t>(f.bytes.size()));
  set_counter(state, "snapshot_bytes", static_cast<double>(f.bytes.size()));
  state.SetLabel("the baseline: fopen + fread of the whole file (in the page cache) into a warm buffer + fclose");
}

}  // namespace

void register_file_benchmarks() {
  add("save_file/payload/snapheap_fsync", save_to<Workload::payload, Mode::fsync>, and_huge({kMillion}), {.real_time = true});
  add("save_file/payload/snapheap_no_fsync", save_to<Workload::payload, Mode::no_fsync>, {kMillion}, {.real_time = true});
  add("save_file/payload/snapheap_memory", save_to<Workload::payload, Mode::memory>, and_huge({kMillion}), {.real_time = true});
  add("load_file/payload/snapheap_file", load_from<Workload::payload, Mode::fsync>, and_huge({kMillion}), {.real_time = true});
  add("load_file/payload/snapheap_memory", load_from<Workload::payload, Mode::memory>, and_huge({kMillion}), {.real_time = true});
  add("save_file/payload/fwrite_fsync", save_fwrite_fsync, and_huge({kMillion}), {.real_time = true});
  add("load_file/payload/fread", load_fread, and_huge({kMillion}), {.real_time = true});
  add("save_file/graph/snapheap_fsync", save_to<Workload::graph, Mode::fsync>, {kMillion}, {.real_time = true});
  add("save_file/graph/snapheap_no_fsync", save_to<Workload::graph, Mode::no_fsync>, {kMillion}, {.real_time = true});
  add("save_file/graph/snapheap_memory", save_to<Workload::graph, Mode::memory>, {kMillion}, {.real_time = true});
  add("load_file/graph/snapheap_file", load_from<Workload::graph, Mode::fsync>, {kMillion}, {.real_time = true});
  add("load_file/graph/snapheap_memory", load_from<Workload::graph, Mode::memory>, {kMillion}, {.real_time = true});
}

}  // namespace snapbench
