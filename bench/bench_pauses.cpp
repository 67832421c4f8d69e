// snapheap_pause_bench: a host's frame loop, timed from the outside, in every collector mode and
// beside Boehm GC (stop-the-world and incremental) and V8's cppgc (incremental), all in one run.
//
//   pauses/frame_loop/<system>/<live objects>
//
// The live set: `live` leaves (an int64 and a Member to another leaf) in chunks of 4,096, held by
// one rooted table. Every frame replaces 1% of the leaves with new ones, each pointing at a
// random current leaf (allocation and relinking; the replaced leaves become garbage unless a
// leaf still points at them), then gives the collector the frame's idle time: heap.step(1 ms) in
// every snapheap mode (stop-the-world and generational run a collection there if one is due),
// GC_collect_a_little() for Boehm's incremental mode, and for cppgc_incremental (a cppgc heap with
// incremental marking and incremental sweeping, bench/cppgc_baseline.hpp) up to 1 ms of the
// incremental-marking, finalization and sweeping tasks cppgc posted to its platform. Every
// make / GC_MALLOC / MakeGarbageCollected and every step is timed with steady_clock; the pauses
// are the durations of those calls.
//
// Counters (per run of `frames` frames; one iteration per repetition):
//   p50_us, p99_us, p999_us, max_us   the distribution of the timed calls (log-linear buckets,
//                                     1/8 of an octave; max exact)
//   over_1ms                          calls longer than 1 ms
//   calls_ms                          the time spent inside all timed calls (allocation + collection)
//   gc_ms                             collector work as the collector reports it (snapheap:
//                                     HeapStats::pauses.total; Boehm: its full collections only;
//                                     cppgc: the time in its idle-time steps, its own statistics
//                                     being internal)
//   peak_committed_mb, live_mb        memory the heap holds at its peak, and the live set's bytes
//   cycles                            collections or cycles finished during the frames (cppgc:
//                                     checks after each frame that saw a cycle's marking finish)
//
// The setup (building the live set, first-touch costs included) is not timed; the frames are
// all warm except for the heap's growth to its steady size, which each system pays alike.
//
//   snapheap_pause_bench [--smoke] [Google Benchmark flags]
#include <benchmark/benchmark.h>
#include <gc/gc.h>
#include <malloc.h>

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <snapheap/snapheap.hpp>

#if SNAPHEAP_BENCH_CPPGC
#include "cppgc_baseline.hpp"
#endif

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kChunk = 4096;
constexpr double kReplacedPerFrame = 0.01;
bool g_smoke = false;

/// Call durations in log-linear buckets: 8 per power of two of nanoseconds.
class PauseHistogram {
 public:
  void add(std::uint64_t ns) noexcept {
    ++buckets_[bucket(ns)];
    max_ = std::max(max_, ns);
    total_ += ns;
    ++count_;
    if (ns > 1'000'000) ++over_1ms_;
  }
  double quantile_us(double q) const noexcept {
    const auto want = static_cast<std::uint64_t>(q * static_cast<double>(count_));
    std::uint64_t seen = 0;
    for (std::size_t b = 0; b < buckets_.size(); ++b) {
      seen += buckets_[b];
      if (seen > want) return static_cast<double>(upper(b)) / 1000.0;
    }
    return static_cast<double>(max_) / 1000.0;
  }
  double max_us() const noexcept { return static_cast<double>(max_) / 1000.0; }
  double total_ms() const noexcept { return static_cast<double>(total_) / 1e6; }
  std::uint64_t over_1ms() const noexcept { return over_1ms_; }

 private:
  static std::size_t bucket(std::uint64_t ns) noexcept {
    if (ns < 16) return static_cast<std::size_t>(ns);
    const int octave = std::bit_width(ns) - 1;  // >= 4
    const auto sub = static_cast<std::size_t>((ns >> (octave - 3)) & 7);
    return std::min<std::size_t>(16 + static_cast<std::size_t>(octave - 4) * 8 + sub, kBuckets - 1);
  }
  static std::uint64_t upper(std::size_t b) noexcept {
    if (b < 16) return b + 1;
    const std::size_t octave = (b - 16) / 8 + 4;
    const std::size_t sub = (b - 16) % 8;
    return (std::uint64_t{8} + sub + 1) << (octave - 3);
  }
  static constexpr std::size_t kBuckets = 16 + 40 * 8;
  std::array<std::uint64_t, kBuckets> buckets_{};
  std::uint64_t max_ = 0, total_ = 0, count_ = 0, over_1ms_ = 0;
};

template <class F>
void timed(PauseHistogram& h, F&& f) {
  const auto t0 = Clock::now();
  f();
  h.add(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count()));
}

struct Report {
  PauseHistogram pauses;
  double gc_ms = 0;
  double peak_committed = 0;
  double live_bytes = 0;
  double cycles = 0;
};

void publish(benchmark::State& state, const Report& r, std::int64_t frames) {
  state.counters["p50_us"] = r.pauses.quantile_us(0.50);
  state.counters["p99_us"] = r.pauses.quantile_us(0.99);
  state.counters["p999_us"] = r.pauses.quantile_us(0.999);
  state.counters["max_us"] = r.pauses.max_us();
  state.counters["over_1ms"] = static_cast<double>(r.pauses.over_1ms());
  state.counters["calls_ms"] = r.pauses.total_ms();
  state.counters["gc_ms"] = r.gc_ms;
  state.counters["peak_committed_mb"] = r.peak_committed / 1e6;
  state.counters["live_mb"] = r.live_bytes / 1e6;
  state.counters["cycles"] = r.cycles;
  state.counters["frames"] = static_cast<double>(frames);
}

std::int64_t frames_for(std::int64_t live) { return g_smoke ? 3 : (live >= 10'000'000 ? 200 : 300); }

// ---- snapheap ------------------------------------------------------------------------------------

struct Leaf final : snapheap::Object {
  std::int64_t value;
  snapheap::Member<Leaf> next;
  explicit Leaf(std::int64_t v) noexcept : value(v) {}
  void trace(snapheap::Tracer& t) const override { t.trace(next); }
};

struct Chunk final : snapheap::Object {
  snapheap::Vector<snapheap::Member<Leaf>> leaves;
  void trace(snapheap::Tracer& t) const override { t.trace(leaves); }
};

struct Table final : snapheap::Object {
  std::vector<snapheap::Member<Chunk>> chunks;
  void trace(snapheap::Tracer& t) const override { t.trace(chunks); }
};

void frame_loop_snapheap(benchmark::State& state, snapheap::GcMode mode) {
  const std::int64_t live = state.range(0);
  const std::int64_t frames = frames_for(live);
  for (auto _ : state) {
    state.PauseTiming();
    snapheap::HeapOptions o;
    o.mode = mode;
    o.stress = false;
    o.verify_after_collect = false;
    Report r;
    {
      snapheap::Heap heap(o);
      snapheap::Strong<Table> table = heap.make<Table>();
      heap.set_root("table", table);
      std::mt19937_64 rng(42);
      for (std::int64_t made = 0; made < live;) {
        snapheap::Strong<Chunk> c = heap.make<Chunk>();
        table->chunks.emplace_back(c);
        for (std::size_t i = 0; i < kChunk && made < live; ++i) c->leaves.emplace_back(heap.make<Leaf>(made++));
      }
      heap.collect();
      r.live_bytes = static_cast<double>(heap.stats().live_bytes + heap.stats().external_bytes);
      const auto before = heap.stats();
      state.ResumeTiming();
      const auto per_frame = static_cast<std::int64_t>(static_cast<double>(live) * kReplacedPerFrame);
      auto& chunks = table->chunks;
      for (std::int64_t f = 0; f < frames; ++f) {
        for (std::int64_t k = 0; k < per_frame; ++k) {
          Chunk& c = *chunks[rng() % chunks.size()];
          const std::size_t at = rng() % c.leaves.size();
          Chunk& other = *chunks[rng() % chunks.size()];
          snapheap::Strong<Leaf> l;
          timed(r.pauses, [&] { l = heap.make<Leaf>(k); });
          l->next = other.leaves[rng() % other.leaves.size()];
          c.leaves[at] = l;
        }
        timed(r.pauses, [&] { heap.step(std::chrono::milliseconds(1)); });
        r.peak_committed = std::max(r.peak_committed, static_cast<double>(heap.stats().committed_bytes));
      }
      state.PauseTiming();
      const auto after = heap.stats();
      r.gc_ms = std::chrono::duration<double, std::milli>(after.pauses.total - before.pauses.total).count();
      r.cycles = static_cast<double>(after.collections - before.collections);
      heap.remove_root("table");
    }
    publish(state, r, frames);
    state.ResumeTiming();
  }
}

// ---- one long container ----------------------------------------------------------------------------
//
//   pauses/long_vector/<container>/<members>
//
// One rooted object holding every leaf through one container of Members: a snapheap::Vector, a
// std::vector or a std::array (incremental marking traces each a slice at a time), or a std::deque
// (traced whole: one object's trace is one unit of work, as every container but a vector's or an
// array's is). Each iteration
// runs one incremental cycle with nothing else to do: the heap is made to want one (a trigger just
// above its live size, a little garbage: the make() that passes it runs the cycle's first step),
// then heap.step(1 ms) is called until the cycle ends, every make and step timed. Counters as
// above, over the run's 3 cycles: the calls' distribution (p50_us, p99_us, max_us, over_1ms); per
// cycle: steps, and cycle_ms (the calls' sum).

template <class Container>
struct LongHolder final : snapheap::Object {
  Container members;
  void trace(snapheap::Tracer& t) const override { t.trace(members); }
};

template <class Container>
void long_container(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  snapheap::HeapOptions o;
  o.mode = snapheap::GcMode::incremental;
  o.stress = false;
  o.verify_after_collect = false;
  snapheap::Heap heap(o);
  snapheap::Strong<LongHolder<Container>> holder = heap.make<LongHolder<Container>>();
  heap.set_root("holder", holder);
  if constexpr (requires { holder->members.reserve(std::size_t{}); })
    holder->members.reserve(static_cast<std::size_t>(n));
  if constexpr (requires { holder->members.emplace_back(); }) {
    for (std::int64_t i = 0; i < n; ++i) holder->members.emplace_back(heap.make<Leaf>(i));
  } else {  // a std::array, of exactly n
    if (holder->members.size() != static_cast<std::size_t>(n)) return state.SkipWithError("array size differs");
    for (std::int64_t i = 0; i < n; ++i) holder->members[static_cast<std::size_t>(i)] = heap.make<Leaf>(i);
  }
  heap.collect();
  o.growth_factor = 1.0001;  // the next cycle comes due after a little allocation
  o.min_trigger_bytes = 64 * 1024;
  heap.set_options(o);
  PauseHistogram h;
  double steps = 0;
  for (auto _ : state) {
    for (std::int64_t k = 0; !heap.stats().cycle_running; ++k)  // garbage; the last make starts the cycle
      timed(h, [&] { heap.make<Leaf>(k); });
    bool running = true;
    while (running) {
      timed(h, [&] { running = heap.step(std::chrono::milliseconds(1)); });
      ++steps;
    }
  }
  const double cycles = static_cast<double>(state.iterations());
  state.counters["p50_us"] = h.quantile_us(0.50);
  state.counters["p99_us"] = h.quantile_us(0.99);
  state.counters["max_us"] = h.max_us();
  state.counters["over_1ms"] = static_cast<double>(h.over_1ms());
  state.counters["cycle_ms"] = h.total_ms() / cycles;
  state.counters["steps"] = steps / cycles;
  heap.remove_root("holder");
}

// ---- Boehm GC ------------------------------------------------------------------------------------

struct BoehmLeaf {
  std::int64_t value;
  BoehmLeaf* next;
};

BoehmLeaf*** g_boehm_table = nullptr;  // static data: Boehm's root
std::size_t g_boehm_chunks = 0;

[[gnu::noinline]] void boehm_build(std::int64_t live) {
  g_boehm_chunks = static_cast<std::size_t>((live + kChunk - 1) / static_cast<std::int64_t>(kChunk));
  g_boehm_table = static_cast<BoehmLeaf***>(GC_MALLOC(g_boehm_chunks * sizeof(BoehmLeaf**)));
  std::int64_t made = 0;
  for (std::size_t c = 0; c < g_boehm_chunks; ++c) {
    g_boehm_table[c] = static_cast<BoehmLeaf**>(GC_MALLOC(kChunk * sizeof(BoehmLeaf*)));
    for (std::size_t i = 0; i < kChunk; ++i) {
      auto* l = static_cast<BoehmLeaf*>(GC_MALLOC(sizeof(BoehmLeaf)));
      l->value = made < live ? made : -1;
      ++made;
      g_boehm_table[c][i] = l;
    }
  }
}

void frame_loop_boehm(benchmark::State& state, bool incremental) {
  const std::int64_t live = state.range(0);
  const std::int64_t frames = frames_for(live);
  if (incremental && !GC_is_incremental_mode()) GC_enable_incremental();
  if (!incremental && GC_is_incremental_mode()) {
    state.SkipWithError("Boehm's incremental mode was enabled by an earlier benchmark");
    return;
  }
  for (auto _ : state) {
    state.PauseTiming();
    Report r;
    boehm_build(live);
    GC_gcollect();
    r.live_bytes = static_cast<double>(GC_get_heap_size() - GC_get_free_bytes());
    const unsigned long full_before = GC_get_full_gc_total_time();
    const GC_word gc_before = GC_get_gc_no();
    std::mt19937_64 rng(42);
    state.ResumeTiming();
    const auto per_frame = static_cast<std::int64_t>(static_cast<double>(live) * kReplacedPerFrame);
    for (std::int64_t f = 0; f < frames; ++f) {
      for (std::int64_t k = 0; k < per_frame; ++k) {
        BoehmLeaf** c = g_boehm_table[rng() % g_boehm_chunks];
        const std::size_t at = rng() % kChunk;
        BoehmLeaf** other = g_boehm_table[rng() % g_boehm_chunks];
        BoehmLeaf* l = nullptr;
        timed(r.pauses, [&] { l = static_cast<BoehmLeaf*>(GC_MALLOC(sizeof(BoehmLeaf))); });
        l->value = k;
        l->next = other[rng() % kChunk];
        c[at] = l;
      }
      if (incremental) timed(r.pauses, [] { GC_collect_a_little(); });
      r.peak_committed = std::max(r.peak_committed, static_cast<double>(GC_get_heap_size()));
    }
    state.PauseTiming();
    r.gc_ms = static_cast<double>(GC_get_full_gc_total_time() - full_before);
    r.cycles = static_cast<double>(GC_get_gc_no() - gc_before);
    g_boehm_table = nullptr;
    GC_gcollect();
    publish(state, r, frames);
    state.ResumeTiming();
  }
}

// ---- V8's cppgc -----------------------------------------------------------------------------------

#if SNAPHEAP_BENCH_CPPGC
void frame_loop_cppgc(benchmark::State& state) {
  const std::int64_t live = state.range(0);
  const std::int64_t frames = frames_for(live);
  for (auto _ : state) {
    state.PauseTiming();
    Report r;
    cppgc_baseline::frames_begin(live, kChunk, 42);
    const auto per_frame = static_cast<std::int64_t>(static_cast<double>(live) * kReplacedPerFrame);
    auto record = [](void* histogram, std::uint64_t ns) { static_cast<PauseHistogram*>(histogram)->add(ns); };
    state.ResumeTiming();
    for (std::int64_t f = 0; f < frames; ++f) cppgc_baseline::frames_frame(per_frame, 1.0, record, &r.pauses);
    state.PauseTiming();
    const cppgc_baseline::FrameStats stats = cppgc_baseline::frames_stats();
    r.gc_ms = stats.step_ms;
    r.cycles = stats.cycles;
    r.peak_committed = stats.peak_space;
    r.live_bytes = stats.live_bytes;
    cppgc_baseline::frames_end();
    publish(state, r, frames);
    state.ResumeTiming();
  }
}
#endif

// libnode.so.108 (cppgc's library) holds no pointer into Boehm's heap: not a root.
int GC_CALLBACK boehm_scans_library(const char* name, void*, std::size_t) {
  return name && std::string_view(name).find("libnode.so") != std::string_view::npos ? 0 : 1;
}

void register_all() {
  const std::vector<std::int64_t> sizes =
      g_smoke ? std::vector<std::int64_t>{10'000} : std::vector<std::int64_t>{1'000'000, 10'000'000};
  auto reg = [&](const char* system, auto fn) {
    auto* b = benchmark::RegisterBenchmark((std::string("pauses/frame_loop/") + system).c_str(), fn);
    for (auto n : sizes) b->Arg(n);
    b->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();
  };
  reg("snapheap_stop_the_world", [](benchmark::State& s) { frame_loop_snapheap(s, snapheap::GcMode::stop_the_world); });
  reg("snapheap_incremental", [](benchmark::State& s) { frame_loop_snapheap(s, snapheap::GcMode::incremental); });
  reg("snapheap_generational", [](benchmark::State& s) { frame_loop_snapheap(s, snapheap::GcMode::generational); });
#if SNAPHEAP_BENCH_CPPGC
  reg("cppgc_incremental", frame_loop_cppgc);
#endif
  for (auto n : sizes) {
    benchmark::RegisterBenchmark("pauses/long_vector/snapheap_vector",
                                 long_container<snapheap::Vector<snapheap::Member<Leaf>>>)
        ->Arg(n)->Iterations(3)->Unit(benchmark::kMillisecond)->UseRealTime();
    benchmark::RegisterBenchmark("pauses/long_vector/std_vector", long_container<std::vector<snapheap::Member<Leaf>>>)
        ->Arg(n)->Iterations(3)->Unit(benchmark::kMillisecond)->UseRealTime();
    benchmark::RegisterBenchmark("pauses/long_vector/std_deque", long_container<std::deque<snapheap::Member<Leaf>>>)
        ->Arg(n)->Iterations(3)->Unit(benchmark::kMillisecond)->UseRealTime();
    void (*array)(benchmark::State&) = n == 10'000       ? long_container<std::array<snapheap::Member<Leaf>, 10'000>>
                                       : n == 1'000'000  ? long_container<std::array<snapheap::Member<Leaf>, 1'000'000>>
                                                         : long_container<std::array<snapheap::Member<Leaf>, 10'000'000>>;
    benchmark::RegisterBenchmark("pauses/long_vector/std_array", array)
        ->Arg(n)->Iterations(3)->Unit(benchmark::kMillisecond)->UseRealTime();
  }
  reg("boehm", [](benchmark::State& s) { frame_loop_boehm(s, false); });
  // Last: Boehm's incremental mode, once enabled, stays on for the process.
  reg("boehm_incremental", [](benchmark::State& s) { frame_loop_boehm(s, true); });
}

}  // namespace

int main(int argc, char** argv) {
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--smoke") g_smoke = true;
    else argv[kept++] = argv[i];
  }
  argc = kept;
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_MMAP_MAX, 0);
  GC_register_has_static_roots_callback(boehm_scans_library);
  GC_set_markers_count(1);  // snapheap marks on one thread
  GC_INIT();
  GC_start_performance_measurement();
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
