#include "support.hpp"

#include <gc/gc.h>
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <istream>
#include <limits>
#include <map>
#include <ostream>

#include "types.hpp"

SNAPHEAP_REGISTER(snapbench::SmallObject);
SNAPHEAP_REGISTER(snapbench::Node);
SNAPHEAP_REGISTER(snapbench::Graph);

namespace snapbench {

// ---- registration --------------------------------------------------------------------------------

std::vector<std::int64_t> sweep(std::int64_t max) {
  std::vector<std::int64_t> sizes;
  for (std::int64_t n : kSweep)
    if (n <= max) sizes.push_back(n);
  return sizes;
}

std::vector<std::int64_t> and_huge(std::vector<std::int64_t> sizes) {
  sizes.push_back(kHundredMillion);
  return sizes;
}

namespace {
int heavy_repetitions() {
  static const int repetitions = [] {
    const char* env = std::getenv("SNAPHEAP_BENCH_HEAVY_REPETITIONS");
    return env ? std::max(0, std::atoi(env)) : 0;
  }();
  return repetitions;
}

// The groups that registered a benchmark, in registration (and run) order; the name begin_group()
// gave, until a benchmark is registered under it.
std::vector<std::string> groups;
std::string pending_group;
int progress_fd = -1;
std::size_t started_group = static_cast<std::size_t>(-1);

std::size_t current_group() {
  if (!pending_group.empty() || groups.empty()) {
    groups.push_back(pending_group.empty() ? "other" : pending_group);
    pending_group.clear();
  }
  return groups.size() - 1;
}

// Outside the timed loop, once per group: the line for run-report (a group runs as one block, as
// it registered).
void note_group_start(std::size_t group) {
  if (progress_fd < 0 || group == started_group) return;
  started_group = group;
  const std::string line = "group " + std::to_string(group + 1) + "/" + std::to_string(groups.size()) + ": " +
                           groups[group] + "\n";
  for (std::size_t done = 0; done < line.size();) {
    const ssize_t wrote = ::write(progress_fd, line.data() + done, line.size() - done);
    if (wrote <= 0) return;
    done += static_cast<std::size_t>(wrote);
  }
}

void add_one(const std::string& name, BenchFn fn, std::int64_t n, const AddOptions& options) {
  const std::size_t group = current_group();
  auto* b = benchmark::RegisterBenchmark(name.c_str(), [fn, group](benchmark::State& state) {
    note_group_start(group);
    fn(state, state.range(0));
  });
  b->Arg(n)->Unit(benchmark::kMicrosecond);
  if (options.real_time) b->UseRealTime();
  if (options.iterations > 0) b->Iterations(options.iterations);
  if (options.costly_reset) b->Iterations(std::clamp<std::int64_t>(kSweep[4] / n, 1, 50));
  if (n >= kHundredMillion) b->Iterations(1);  // seconds each: one iteration per repetition
  const bool heavy = n >= kSweep[4] || (options.heavy && n >= kMillion);
  if (heavy && heavy_repetitions() > 0) b->Repetitions(heavy_repetitions());
}
}  // namespace

namespace {
bool scaling_only = false;
bool smoke = false;
bool huge = false;

bool lists(const std::vector<std::int64_t>& sizes, std::int64_t n) {
  return std::find(sizes.begin(), sizes.end(), n) != sizes.end();
}

// The sizes to register: all of them but 10^8; in --scaling mode 10^6 and 10^7 of a family with
// 10^7; in --huge mode 10^6 and 10^8 of a family with 10^8; in --smoke mode the smallest, at
// most kSmokeElements.
std::vector<std::int64_t> selected(const std::vector<std::int64_t>& sizes) {
  if (smoke) return {std::min(*std::min_element(sizes.begin(), sizes.end()), kSmokeElements)};
  if (huge) return lists(sizes, kHundredMillion) ? std::vector<std::int64_t>{kMillion, kHundredMillion}
                                                 : std::vector<std::int64_t>{};
  if (scaling_only) return lists(sizes, kSweep[4]) ? std::vector<std::int64_t>{kMillion, kSweep[4]}
                                                   : std::vector<std::int64_t>{};
  std::vector<std::int64_t> kept;
  for (std::int64_t n : sizes)
    if (n < kHundredMillion) kept.push_back(n);
  return kept;
}
}  // namespace

void set_scaling_only(bool on) noexcept { scaling_only = on; }
void set_smoke(bool on) noexcept { smoke = on; }
void set_huge_only(bool on) noexcept { huge = on; }
bool huge_only() noexcept { return huge; }
void begin_group(const std::string& name) { pending_group = name; }
void set_progress_fd(int fd) noexcept { progress_fd = fd; }

void add(const std::string& name, BenchFn fn, const std::vector<std::int64_t>& sizes, AddOptions options) {
  for (std::int64_t n : selected(sizes)) add_one(name, fn, n, options);
}

void add_pair(const std::string& save_name, BenchFn save, const std::string& load_name, BenchFn load,
              const std::vector<std::int64_t>& sizes, AddOptions options) {
  add_by_size({{save_name, save, sizes}, {load_name, load, sizes}}, options);
}

void add_by_size(const std::vector<Row>& rows, AddOptions options) {
  std::vector<std::vector<std::int64_t>> chosen;
  std::vector<std::int64_t> all;
  for (const Row& row : rows) {
    chosen.push_back(selected(row.sizes));
    all.insert(all.end(), chosen.back().begin(), chosen.back().end());
  }
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  for (std::int64_t n : all)
    for (std::size_t i = 0; i < rows.size(); ++i)
      if (lists(chosen[i], n)) add_one(rows[i].name, rows[i].fn, n, options);
}

void set_rates(benchmark::State& state, std::int64_t items, std::int64_t bytes) {
  if (huge) set_counter(state, "peak_rss_bytes", static_cast<double>(peak_rss()));  // the 10^8 run's memory
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * items);
  if (bytes > 0) state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * bytes);
  if (TimedFaults* faults = TimedFaults::active(); faults && state.iterations() > 0)
    set_counter(state, "page_faults_per_iteration",
                static_cast<double>(faults->total()) / static_cast<double>(state.iterations()));
}

// ---- page faults -----------------------------------------------------------------------------------

namespace {
thread_local TimedFaults* active_faults = nullptr;
std::int64_t thread_faults() noexcept {
  struct rusage usage {};
  ::getrusage(RUSAGE_THREAD, &usage);
  return static_cast<std::int64_t>(usage.ru_minflt + usage.ru_majflt);
}
}  // namespace

TimedFaults::TimedFaults() noexcept : start_(thread_faults()) { active_faults = this; }
TimedFaults::~TimedFaults() {
  if (active_faults == this) active_faults = nullptr;
}
void TimedFaults::pause() noexcept {
  if (paused_) return;
  total_ += thread_faults() - start_;
  paused_ = true;
}
void TimedFaults::resume() noexcept {
  if (!paused_) return;
  start_ = thread_faults();
  paused_ = false;
}
std::int64_t TimedFaults::total() noexcept {
  pause();
  resume();
  return total_;
}
TimedFaults* TimedFaults::active() noexcept { return active_faults; }

// ---- inputs --------------------------------------------------------------------------------------

namespace {
// Built once per size and shape; the 10^8 ones (1.6 GB for both shapes) only while a fixture
// made from them is kept (drop_fixture() forgets them).
std::map<std::pair<std::int64_t, GraphShape>, GraphSpec>& graph_specs() {
  static std::map<std::pair<std::int64_t, GraphShape>, GraphSpec> specs;
  return specs;
}
}  // namespace

const GraphSpec& graph_spec(std::int64_t n, GraphShape shape) {
  auto& specs = graph_specs();
  auto found = specs.find({n, shape});
  if (found != specs.end()) return found->second;
  GraphSpec spec;
  spec.strong.resize(static_cast<std::size_t>(n));
  spec.weak.resize(static_cast<std::size_t>(n));
  Rng rng(kSeed ^ static_cast<std::uint64_t>(n));
  for (std::size_t i = 0; i < spec.strong.size(); ++i) {
    const auto earlier = static_cast<std::uint32_t>(i - 1);
    spec.strong[i] = i == 0 ? kNoEdge : shape == GraphShape::random ? rng.below(i) : earlier;
    spec.weak[i] = rng.below(i + 1);
  }
  return specs.emplace(std::pair{n, shape}, std::move(spec)).first->second;
}

void forget_graph_spec(std::int64_t n, GraphShape shape) { graph_specs().erase({n, shape}); }

snapheap::Strong<Graph> build_graph(snapheap::Heap& heap, std::int64_t n, bool weak_edges, GraphShape shape) {
  const GraphSpec& spec = graph_spec(n, shape);
  auto graph = heap.make<Graph>();
  graph->nodes.reserve(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    const auto at = static_cast<std::size_t>(i);
    auto node = heap.make<Node>(i);
    if (spec.strong[at] != kNoEdge) node->next = graph->nodes[spec.strong[at]];
    // The weak target may be the node itself, which is not in the vector yet.
    if (weak_edges)
      node->peer = spec.weak[at] == at ? snapheap::Weak<Node>(node) : snapheap::Weak<Node>(graph->nodes[spec.weak[at]]);
    graph->nodes.emplace_back(node);
  }
  return graph;
}

snapheap::Strong<Node> build_chain(snapheap::Heap& heap, std::int64_t n) {
  snapheap::Strong<Node> head;
  for (std::int64_t i = 0; i < n; ++i) {
    auto node = heap.make<Node>(i);
    node->next = head;
    head = std::move(node);
  }
  return head;
}

std::vector<std::shared_ptr<SNode>> build_shared_graph(std::int64_t n, GraphShape shape) {
  const GraphSpec& spec = graph_spec(n, shape);
  std::vector<std::shared_ptr<SNode>> nodes;
  nodes.reserve(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    const auto at = static_cast<std::size_t>(i);
    auto node = std::make_shared<SNode>();
    node->value = i;
    if (spec.strong[at] != kNoEdge) node->next = nodes[spec.strong[at]];
    node->peer = spec.weak[at] == at ? node : nodes[spec.weak[at]];
    nodes.push_back(std::move(node));
  }
  return nodes;
}

std::shared_ptr<SNode> build_shared_chain(std::int64_t n) {
  std::shared_ptr<SNode> head;
  for (std::int64_t i = 0; i < n; ++i) {
    auto node = std::make_shared<SNode>();
    node->value = i;
    node->next = std::move(head);
    head = std::move(node);
  }
  return head;
}

void cut_links(std::vector<std::shared_ptr<SNode>>& nodes) noexcept {
  for (auto& node : nodes)
    if (node) node->next.reset();
}

void drop_chain(std::shared_ptr<SNode>& head) noexcept {
  while (head) {
    std::shared_ptr<SNode> next = std::move(head->next);
    head = std::move(next);  // frees the old head, whose next is already empty
  }
}

// ---- kept inputs ---------------------------------------------------------------------------------

namespace {
struct KeptFixture {
  std::string key;
  std::unique_ptr<Fixture> fixture;
};
KeptFixture& kept() {
  static KeptFixture k;
  return k;
}
}  // namespace

namespace detail {
Fixture* find_fixture(const std::string& key) noexcept {
  return kept().fixture && kept().key == key ? kept().fixture.get() : nullptr;
}
void store_fixture(std::string key, std::unique_ptr<Fixture> fixture) {
  kept().key = std::move(key);
  kept().fixture = std::move(fixture);
}
}  // namespace detail

void drop_fixture() noexcept {
  kept().fixture.reset();
  kept().key.clear();
  std::erase_if(graph_specs(), [](const auto& spec) { return spec.first.first >= kHundredMillion; });
  // The 10^8 run: what malloc keeps free goes back between fixtures, so that gigabytes one
  // fixture freed are not held beside the next one's.
  if (huge) malloc_trim(0);
}

// ---- memory probes ---------------------------------------------------------------------------------

std::size_t malloc_in_use() noexcept {
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

std::size_t current_rss() noexcept {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long size = 0, resident = 0;
  const int got = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  return got == 2 ? resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)) : 0;
}

std::size_t peak_rss() noexcept {
  struct rusage usage {};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<std::size_t>(usage.ru_maxrss) * 1024;  // Linux reports KiB
}

// ---- streams -------------------------------------------------------------------------------------

VectorOutBuf::VectorOutBuf(std::vector<char>& storage) : storage_(storage) {
  if (storage_.size() < 4096) storage_.resize(4096);
  setp(storage_.data(), storage_.data() + storage_.size());
}

void VectorOutBuf::grow(std::size_t extra) {
  const std::size_t used = size();
  storage_.resize(std::max(storage_.size() * 2, used + extra));
  setp(storage_.data(), storage_.data() + storage_.size());
  // pbump takes an int: advance in steps for buffers past 2 GiB.
  for (std::size_t left = used; left > 0;) {
    const int step = static_cast<int>(std::min<std::size_t>(left, std::numeric_limits<int>::max()));
    pbump(step);
    left -= static_cast<std::size_t>(step);
  }
}

VectorOutBuf::int_type VectorOutBuf::overflow(int_type ch) {
  if (traits_type::eq_int_type(ch, traits_type::eof())) return traits_type::not_eof(ch);
  grow(1);
  *pptr() = traits_type::to_char_type(ch);
  pbump(1);
  return ch;
}

std::streamsize VectorOutBuf::xsputn(const char* s, std::streamsize n) {
  const auto count = static_cast<std::size_t>(n);
  if (static_cast<std::size_t>(epptr() - pptr()) < count) grow(count);
  std::memcpy(pptr(), s, count);
  for (std::size_t left = count; left > 0;) {
    const int step = static_cast<int>(std::min<std::size_t>(left, std::numeric_limits<int>::max()));
    pbump(step);
    left -= static_cast<std::size_t>(step);
  }
  return n;
}

MemoryInBuf::MemoryInBuf(const char* data, std::size_t size) {
  char* begin = const_cast<char*>(data);  // setg wants char*; nothing writes through it
  setg(begin, begin, begin + size);
}

std::streamsize MemoryInBuf::xsgetn(char* s, std::streamsize n) {
  const std::streamsize count = std::min<std::streamsize>(n, egptr() - gptr());
  std::memcpy(s, gptr(), static_cast<std::size_t>(count));
  setg(eback(), gptr() + count, egptr());  // not gbump: it takes an int, and a read may pass 2 GiB
  return count;
}

SeekableInBuf::pos_type SeekableInBuf::seekoff(off_type off, std::ios_base::seekdir dir, std::ios_base::openmode which) {
  if (!(which & std::ios_base::in)) return pos_type(off_type(-1));
  const off_type base = dir == std::ios_base::beg ? 0 : dir == std::ios_base::cur ? gptr() - eback() : egptr() - eback();
  const off_type target = base + off;
  if (target < 0 || target > egptr() - eback()) return pos_type(off_type(-1));
  setg(eback(), eback() + target, egptr());
  return pos_type(target);
}

SeekableInBuf::pos_type SeekableInBuf::seekpos(pos_type pos, std::ios_base::openmode which) {
  return seekoff(off_type(pos), std::ios_base::beg, which);
}

void time_stream_save(benchmark::State& state, snapheap::Heap& heap, void (*counters)(benchmark::State&, std::uint64_t)) {
  std::vector<char> storage;
  {
    VectorOutBuf warm(storage);
    std::ostream out(&warm);
    snapheap::save(heap, out);
  }
  std::uint64_t bytes = 0;
  TimedFaults faults;
  for (auto _ : state) {
    VectorOutBuf buf(storage);
    std::ostream out(&buf);
    bytes = snapheap::save(heap, out).bytes;
  }
  counters(state, bytes);
}

snapheap::SnapshotStats load_from_stream(snapheap::Heap& heap, const snapheap::ByteBuffer& bytes, bool seekable) {
  SeekableInBuf memory(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  NoSeekInBuf pipe(memory);
  std::istream in(seekable ? static_cast<std::streambuf*>(&memory) : &pipe);
  return snapheap::load(heap, in);
}

// ---- Boehm GC ------------------------------------------------------------------------------------

namespace {
unsigned markers = 1;
}

namespace {
// libnode.so.108 (the cppgc baseline's library) holds no pointer into Boehm's heap: its 0.7 MB of
// writable segments are not made roots, so that linking it leaves Boehm's figures as they were.
int GC_CALLBACK boehm_scans_library(const char* name, void*, std::size_t) {
  return name && std::strstr(name, "libnode.so") ? 0 : 1;
}
}  // namespace

void boehm_init() {
  GC_register_has_static_roots_callback(boehm_scans_library);
  if (const char* env = std::getenv("SNAPHEAP_BENCH_BOEHM_MARKERS"))
    markers = static_cast<unsigned>(std::max(1, std::atoi(env)));
  GC_set_markers_count(markers);
  GC_INIT();
}

unsigned boehm_markers() noexcept { return markers; }

}  // namespace snapbench
