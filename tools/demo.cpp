// `snapheap demo`: the seed document's three scenarios (examples/seed), each saved twice (every
// root, and the model alone), restored into a fresh heap and checked, with a table of what was
// written and how long it took.
//
// What the checks hold the library to (the seed's point): a weak handle whose target is saved
// comes back pointing at the restored target; one whose target is left out comes back expired
// (a tombstone), and the target's data is not in the file; a strong edge drags its target into
// every snapshot; a proxy's snapshot stays small and the data is rebuilt on load.
#include <charconv>
#include <chrono>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <limits>
#include <snapheap/config.hpp>
#include <snapheap/snapheap.hpp>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "cli.hpp"
#include "seed/seed_model.hpp"

namespace snapheap_tool {

namespace {

namespace fs = std::filesystem;

/// The seed's `range(1000000)`.
constexpr std::int64_t kDefaultElements = 1'000'000;
/// The largest payload the seed model accepts (DataProxy's bound): 2^31 elements, 16 GiB.
constexpr std::int64_t kMaxElements = std::int64_t{1} << 31;
/// A proxy's snapshot holds a recipe (a generator name and a count), never the data: a few
/// hundred bytes at most, whatever the element count.
constexpr std::uint64_t kSmallFileBytes = 1024;

std::int64_t parse_elements(std::string_view text) {
  std::uint64_t n = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), n);
  const bool digits_only = !text.empty() && text.front() != '+' && end == text.data() + text.size();
  if (error != std::errc() || !digits_only || n == 0 || n > static_cast<std::uint64_t>(kMaxElements))
    throw UsageError("bad --elements value '" + std::string(text) + "': expected a whole number from 1 to " +
                     std::to_string(kMaxElements));
  return static_cast<std::int64_t>(n);
}

std::string cpu_model() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) != 0) continue;
    const std::size_t colon = line.find(':');
    if (colon != std::string::npos) return line.substr(line.find_first_not_of(" \t", colon + 1));
  }
  return "unknown CPU";
}

void print_context(std::int64_t elements, const fs::path& dir) {
  std::cout << "snapheap " << SNAPHEAP_VERSION_MAJOR << '.' << SNAPHEAP_VERSION_MINOR << '.'
            << SNAPHEAP_VERSION_PATCH << " demo: " << elements << " elements per payload; CPU: " << cpu_model()
            << " (" << std::thread::hardware_concurrency() << " threads); "
#ifdef NDEBUG
            << "release build"
#else
            << "debug build (slower)"
#endif
            << "; snapshots in " << dir.string() << "\n\n";
}

// ---- the runs -------------------------------------------------------------------------------------

/// One snapshot of one scenario: which roots were saved, what the save wrote, what the load
/// restored, and the times.
struct Run {
  seed::Scenario scenario{};
  bool model_only = false;
  fs::path file;
  snapheap::SnapshotStats saved, loaded;
  std::uint64_t file_bytes = 0;
  double save_ms = 0, load_ms = 0;
  bool completed = false;  // false if the save or the load threw

  std::string label() const {
    return std::string(seed::name_of(scenario)) + (model_only ? ", model only" : ", all roots");
  }
};

/// The failed checks, each as "<scenario>, <roots>: <what was expected>".
class Checks {
 public:
  void expect(bool ok, const Run& run, std::string_view what) {
    ++count_;
    if (!ok) failures_.push_back(run.label() + ": " + std::string(what));
  }
  void fail(const Run& run, std::string_view what) { expect(false, run, what); }
  const std::vector<std::string>& failures() const { return failures_; }
  std::size_t count() const { return count_; }

 private:
  std::vector<std::string> failures_;
  std::size_t count_ = 0;
};

template <class F>
double time_ms(F&& f) {
  const auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

bool is_range(std::span<const std::int64_t> values, std::int64_t elements) {
  if (values.size() != static_cast<std::size_t>(elements)) return false;
  for (std::size_t i = 0; i < values.size(); ++i)
    if (values[i] != static_cast<std::int64_t>(i)) return false;
  return true;
}

/// The restored model's only layer as an L, or an empty handle.
template <class L>
snapheap::Strong<L> restored_layer(snapheap::Heap& heap) {
  const auto model = heap.root<seed::Model>("model");
  if (!model || model->layers.size() != 1) return {};
  return snapheap::dynamic_handle_cast<L>(snapheap::Strong<snapheap::Object>(model->layers[0]));
}

// ---- the checks -----------------------------------------------------------------------------------

void check_weak_ref(const Run& run, snapheap::Heap& restored, std::int64_t elements, Checks& checks) {
  const auto layer = restored_layer<seed::WeakRefLayer>(restored);
  if (!layer) return checks.fail(run, "the restored model does not hold one WeakRefLayer");
  if (!run.model_only) {
    const auto payload = restored.root<seed::Payload>("large_data");
    checks.expect(payload && layer->large_data.lock() == payload, run,
                  "the layer's weak handle locks to the restored payload");
    checks.expect(payload && is_range(payload->values, elements), run, "the restored payload holds 0..N-1");
    return;
  }
  checks.expect(layer->large_data.expired() && !layer->large_data.empty(), run,
                "the layer's weak handle is restored expired (a tombstone), not empty");
  checks.expect(run.saved.weak_tombstones == 1, run, "the snapshot records the weak handle as a tombstone");
  checks.expect(run.saved.objects == 2 && restored.stats().live_objects == 2 && !restored.has_root("large_data"),
                run, "the payload is not in the snapshot (2 objects: the model and the layer)");
}

void check_strong_ref(const Run& run, snapheap::Heap& restored, std::int64_t elements, Checks& checks) {
  const auto layer = restored_layer<seed::StrongRefLayer>(restored);
  if (!layer) return checks.fail(run, "the restored model does not hold one StrongRefLayer");
  checks.expect(run.saved.objects == 3 && layer->large_data, run,
                "the payload is in the snapshot through the strong edge");
  checks.expect(layer->large_data && is_range(layer->large_data->values, elements), run,
                "the restored payload holds 0..N-1");
  if (!run.model_only)
    checks.expect(restored.root<seed::Payload>("large_data") == layer->large_data, run,
                  "the root \"large_data\" and the layer share one restored payload");
}

void check_proxy(const Run& run, snapheap::Heap& restored, std::int64_t elements, Checks& checks) {
  checks.expect(run.file_bytes < kSmallFileBytes, run,
                "the snapshot is small (under " + std::to_string(kSmallFileBytes) + " bytes): a recipe, not the data");
  const auto layer = restored_layer<seed::ProxyLayer>(restored);
  if (!layer) return checks.fail(run, "the restored model does not hold one ProxyLayer");
  checks.expect(layer->data_proxy && layer->data_proxy->count == elements, run,
                "the restored proxy holds the recipe (count N)");
  checks.expect(layer->data_proxy && is_range(layer->data_proxy->data, elements), run,
                "the proxy's data is regenerated as 0..N-1");
}

/// What holds for every snapshot: the file is as large as the save said, and the load restored
/// what the save wrote.
void check_common(const Run& run, Checks& checks) {
  checks.expect(run.file_bytes == run.saved.bytes, run, "the file is as large as the save reported");
  const auto& s = run.saved;
  const auto& l = run.loaded;
  checks.expect(l.objects == s.objects && l.roots == s.roots && l.strong_refs == s.strong_refs &&
                    l.weak_targets == s.weak_targets && l.weak_tombstones == s.weak_tombstones &&
                    l.weak_empty == s.weak_empty,
                run, "the load restored the objects, roots and references the save wrote");
}

void check_restored(const Run& run, snapheap::Heap& restored, std::int64_t elements, Checks& checks) {
  check_common(run, checks);
  switch (run.scenario) {
    case seed::Scenario::weak_ref: return check_weak_ref(run, restored, elements, checks);
    case seed::Scenario::strong_ref: return check_strong_ref(run, restored, elements, checks);
    case seed::Scenario::proxy: return check_proxy(run, restored, elements, checks);
  }
}

// ---- saving, loading, the table -------------------------------------------------------------------

/// Saves `heap` to the run's file (atomically: a temporary file renamed over the target), loads
/// it into a fresh heap and checks what came back.
void save_load_check(snapheap::Heap& heap, Run& run, std::int64_t elements, Checks& checks) {
  snapheap::SaveOptions options;
  if (run.model_only) options.roots = {"model"};
  run.save_ms = time_ms([&] { run.saved = snapheap::save(heap, run.file, options); });
  run.file_bytes = fs::file_size(run.file);
  snapheap::Heap restored;
  run.load_ms = time_ms([&] { run.loaded = snapheap::load(restored, run.file); });
  run.completed = true;
  check_restored(run, restored, elements, checks);
}

void run_scenario(seed::Scenario scenario, std::int64_t elements, const fs::path& dir, std::vector<Run>& runs,
                  Checks& checks) {
  snapheap::Heap heap;
  seed::build(heap, scenario, elements);
  for (const bool model_only : {false, true}) {
    Run& run = runs.emplace_back();
    run.scenario = scenario;
    run.model_only = model_only;
    run.file = dir / (std::string(seed::name_of(scenario)) + (model_only ? "-model.snap" : "-all.snap"));
    try {
      save_load_check(heap, run, elements, checks);
    } catch (const std::exception& e) {
      checks.fail(run, std::string("stopped by an exception: ") + e.what());
    }
  }
}

void print_table(const std::vector<Run>& runs) {
  std::cout << std::left << std::setw(12) << "scenario" << std::setw(13) << "roots saved" << std::right
            << std::setw(8) << "objects" << std::setw(14) << "weak handles" << std::setw(12) << "tombstones"
            << std::setw(12) << "file bytes" << std::setw(11) << "save ms" << std::setw(11) << "load ms" << '\n';
  for (const Run& r : runs) {
    std::cout << std::left << std::setw(12) << seed::name_of(r.scenario) << std::setw(13)
              << (r.model_only ? "model" : "all") << std::right;
    if (!r.completed) {
      std::cout << "  (failed)\n";
      continue;
    }
    const std::size_t weak = r.saved.weak_targets + r.saved.weak_tombstones + r.saved.weak_empty;
    std::cout << std::setw(8) << r.saved.objects << std::setw(14) << weak << std::setw(12)
              << r.saved.weak_tombstones << std::setw(12) << r.file_bytes << std::fixed << std::setprecision(2)
              << std::setw(11) << r.save_ms << std::setw(11) << r.load_ms << '\n';
  }
}

int run_demo(const ParsedArgs& args) {
  const fs::path dir(single_operand(args, "DIR"));
  const std::int64_t elements =
      args.has("--elements") ? parse_elements(args.value("--elements", "")) : kDefaultElements;
  fs::create_directories(dir);
  print_context(elements, dir);
  std::vector<Run> runs;
  Checks checks;
  for (const auto scenario : {seed::Scenario::weak_ref, seed::Scenario::strong_ref, seed::Scenario::proxy})
    run_scenario(scenario, elements, dir, runs, checks);
  print_table(runs);
  std::cout.flush();
  if (checks.failures().empty()) {
    std::cout << "\nall " << checks.count() << " checks passed\n";
    return kExitOk;
  }
  std::cout << '\n' << checks.failures().size() << " of " << checks.count() << " checks failed\n";
  std::cout.flush();
  for (const std::string& failure : checks.failures()) std::cerr << "snapheap demo: check failed: " << failure << '\n';
  return kExitFailure;
}

constexpr OptionSpec kDemoOptions[] = {{"--elements", true}};

constexpr std::string_view kDemoHelp =
    "Runs the seed document's three scenarios: a model whose layer holds a weak handle to an\n"
    "N-element payload (weak-ref), a strong edge instead (strong-ref), and a proxy that saves a\n"
    "recipe and rebuilds the data on load (proxy). Each is saved twice into DIR (created if\n"
    "needed), with every root (<scenario>-all.snap) and with the root \"model\" only\n"
    "(<scenario>-model.snap); each save writes a temporary file and renames it over the target,\n"
    "so a file in DIR is always a complete snapshot. Each file is loaded into a fresh heap and\n"
    "checked: weak-ref, all roots: the weak handle locks to the restored payload, which holds\n"
    "0..N-1; weak-ref, model only: the weak handle is a tombstone (expired, not empty) and the\n"
    "payload is not in the file; strong-ref: the payload is in both files; proxy: both files are\n"
    "small and the data is regenerated. Times include syncing the file to disk (save) and\n"
    "reading it (load).\n\n"
    "Options:\n"
    "  --elements N   payload size, 1 to 2147483648 (default 1000000, as in the seed)\n"
    "  -h, --help     print this help\n\n"
    "Exit status: 0 all checks passed, 1 a check failed (named on stderr), 2 bad arguments.\n";

}  // namespace

const Command& demo_command() {
  static const Command command{"demo", "usage: snapheap demo [--elements N] DIR", kDemoHelp, kDemoOptions,
                               &run_demo};
  return command;
}

}  // namespace snapheap_tool
