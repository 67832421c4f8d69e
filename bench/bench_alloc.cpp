// alloc/small/<system>: allocate n small objects (24 bytes of fields) and keep a handle to each.
//
// Warm runs for every system: one heap (or one malloc arena) is reused across iterations, and
// between iterations (untimed) the handles are dropped and the memory given back (collect(),
// shared_ptr release, free, GC_gcollect). An untimed warm-up round runs first, so no timed
// iteration pays first-touch page faults. Only the allocations are timed.
//  - snapheap: heap.make<SmallObject>(i), handles in a std::vector<Strong>; includes the
//    automatic collections the default trigger policy starts while the heap fills.
//  - snapheap_no_auto_gc: the same with the trigger set out of reach (pure allocation).
//  - snapheap_fresh_heap: the first in a new Heap every iteration, made (untimed) right after the
//    previous one was destroyed (a warm-up heap of the same size is made and destroyed first):
//    what a host that makes heaps one after another pays. With the process-wide page cache its
//    pages and slot table are the destroyed heap's, warm; SNAPHEAP_PAGE_CACHE=0 shows it cold.
//  - snapheap_generational / snapheap_incremental: the first, in those collector modes (minor
//    collections / bounded steps while the heap fills).
//  - make_shared: std::make_shared<PlainSmall>, handles in a std::vector<std::shared_ptr>.
//  - malloc: malloc(24) into a std::vector<void*> (free untimed, like the others' teardown).
//  - boehm: GC_MALLOC(24) into a GC_MALLOC'ed root array; includes Boehm's own collections. The
//    GC_gcollect between iterations costs milliseconds whatever n is, so the iteration count is
//    fixed (at most 50) rather than grown until the timed part reaches --benchmark_min_time.
//  - cppgc: V8's C++ collector (bench/cppgc_baseline.hpp): MakeGarbageCollected<Small> with a
//    cppgc::Persistent to each, in a heap collecting stop-the-world (atomic marking and sweeping)
//    when its growth heuristics say so; between iterations the handles are dropped and a full
//    ForceGarbageCollectionSlow runs (fixed iteration count, as for Boehm).
#include <gc/gc.h>

#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#include "support.hpp"
#include "types.hpp"
#if SNAPHEAP_BENCH_CPPGC
#include "cppgc_baseline.hpp"
#endif

namespace snapbench {
namespace {

struct SnapheapAlloc final : Fixture {
  snapheap::Heap heap;
  std::vector<snapheap::Strong<SmallObject>> handles;

  SnapheapAlloc(std::int64_t n, const snapheap::HeapOptions& options) : heap(options) {
    handles.reserve(static_cast<std::size_t>(n));
    fill(n);
    drain();
  }
  ~SnapheapAlloc() override { handles.clear(); }
  void fill(std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) handles.push_back(heap.make<SmallObject>(i));
  }
  void drain() {
    handles.clear();
    heap.collect();
  }
};

void run_snapheap(benchmark::State& state, std::int64_t n, bool auto_gc,
                  snapheap::GcMode mode = snapheap::GcMode::stop_the_world) {
  snapheap::HeapOptions options;
  options.mode = mode;
  if (!auto_gc) options.min_trigger_bytes = std::numeric_limits<std::size_t>::max() / 2;
  const char* name = !auto_gc ? "alloc/snapheap_no_auto_gc"
                     : mode == snapheap::GcMode::generational ? "alloc/snapheap_generational"
                     : mode == snapheap::GcMode::incremental  ? "alloc/snapheap_incremental"
                                                              : "alloc/snapheap";
  auto& f = fixture<SnapheapAlloc>(key(name, n), n, options);
  std::uint64_t collections = 0;
  TimedFaults faults;
  for (auto _ : state) {
    const std::uint64_t before = f.heap.stats().collections;
    f.fill(n);
    Untimed untimed(state);
    collections += f.heap.stats().collections - before;
    f.drain();
  }
  set_rates(state, n, n * static_cast<std::int64_t>(sizeof(SmallObject)));
  set_counter(state, "collections_per_iteration",
              static_cast<double>(collections) / static_cast<double>(state.iterations()));
  state.SetLabel(auto_gc ? "warm; heap reused; includes automatic collections"
                         : "warm; heap reused; automatic collection disabled");
}

void alloc_snapheap(benchmark::State& state, std::int64_t n) { run_snapheap(state, n, true); }
void alloc_snapheap_no_gc(benchmark::State& state, std::int64_t n) { run_snapheap(state, n, false); }
void alloc_snapheap_generational(benchmark::State& state, std::int64_t n) {
  run_snapheap(state, n, true, snapheap::GcMode::generational);
}
void alloc_snapheap_incremental(benchmark::State& state, std::int64_t n) {
  run_snapheap(state, n, true, snapheap::GcMode::incremental);
}

void alloc_snapheap_fresh(benchmark::State& state, std::int64_t n) {
  drop_fixture();
  std::vector<snapheap::Strong<SmallObject>> handles;
  handles.reserve(static_cast<std::size_t>(n));
  auto heap = std::make_unique<snapheap::Heap>();
  auto fill = [&] {
    for (std::int64_t i = 0; i < n; ++i) handles.push_back(heap->make<SmallObject>(i));
  };
  auto renew = [&] {
    handles.clear();
    heap.reset();
    heap = std::make_unique<snapheap::Heap>();
  };
  fill();  // warm-up: a heap of this size is destroyed before the first timed one is made
  renew();
  std::uint64_t collections = 0;
  TimedFaults faults;
  for (auto _ : state) {
    fill();
    Untimed untimed(state);
    collections += heap->stats().collections;
    renew();
  }
  handles.clear();
  heap.reset();
  set_rates(state, n, n * static_cast<std::int64_t>(sizeof(SmallObject)));
  set_counter(state, "collections_per_iteration",
              static_cast<double>(collections) / static_cast<double>(state.iterations()));
  state.SetLabel("fresh heap after destroyed heaps; includes automatic collections");
}

void alloc_make_shared(benchmark::State& state, std::int64_t n) {
  drop_fixture();
  std::vector<std::shared_ptr<PlainSmall>> handles;
  handles.reserve(static_cast<std::size_t>(n));
  auto fill = [&] {
    for (std::int64_t i = 0; i < n; ++i) handles.push_back(std::make_shared<PlainSmall>(PlainSmall{i, nullptr, nullptr}));
  };
  fill();  // warm-up
  handles.clear();
  TimedFaults faults;
  for (auto _ : state) {
    fill();
    Untimed untimed(state);
    handles.clear();
  }
  set_rates(state, n, n * static_cast<std::int64_t>(sizeof(PlainSmall)));
  state.SetLabel("warm; malloc arena reused; release untimed");
}

void alloc_malloc(benchmark::State& state, std::int64_t n) {
  drop_fixture();
  std::vector<PlainSmall*> handles;
  handles.reserve(static_cast<std::size_t>(n));
  auto fill = [&] {
    for (std::int64_t i = 0; i < n; ++i) {
      auto* p = static_cast<PlainSmall*>(std::malloc(sizeof(PlainSmall)));
      if (!p) std::abort();
      *p = PlainSmall{i, nullptr, nullptr};
      handles.push_back(p);
    }
  };
  auto release = [&] {
    for (PlainSmall* p : handles) std::free(p);
    handles.clear();
  };
  fill();  // warm-up
  release();
  TimedFaults faults;
  for (auto _ : state) {
    fill();
    Untimed untimed(state);
    release();
  }
  set_rates(state, n, n * static_cast<std::int64_t>(sizeof(PlainSmall)));
  state.SetLabel("warm; malloc only, free untimed");
}

// Boehm finds roots in static data: the root array is reachable from here only.
void** g_alloc_roots = nullptr;

void alloc_boehm(benchmark::State& state, std::int64_t n) {
  drop_fixture();
  const auto count = static_cast<std::size_t>(n);
  g_alloc_roots = static_cast<void**>(GC_MALLOC(count * sizeof(void*)));
  auto fill = [&] {
    for (std::size_t i = 0; i < count; ++i) {
      auto* p = static_cast<PlainSmall*>(GC_MALLOC(sizeof(PlainSmall)));
      p->value = static_cast<std::int64_t>(i);
      g_alloc_roots[i] = p;
    }
  };
  auto release = [&] {
    std::memset(static_cast<void*>(g_alloc_roots), 0, count * sizeof(void*));
    GC_gcollect();
  };
  fill();  // warm-up
  release();
  TimedFaults faults;
  for (auto _ : state) {
    fill();
    Untimed untimed(state);
    release();
  }
  g_alloc_roots = nullptr;
  GC_gcollect();
  set_rates(state, n, n * static_cast<std::int64_t>(sizeof(PlainSmall)));
  state.SetLabel("warm; GC heap reused; includes Boehm's automatic collections");
}

#if SNAPHEAP_BENCH_CPPGC
void alloc_cppgc(benchmark::State& state, std::int64_t n) {
  drop_fixture();
  const auto count = static_cast<std::size_t>(n);
  cppgc_baseline::alloc_reserve(count);
  cppgc_baseline::alloc_fill(count);  // warm-up
  cppgc_baseline::alloc_drain();
  TimedFaults faults;
  for (auto _ : state) {
    cppgc_baseline::alloc_fill(count);
    Untimed untimed(state);
    cppgc_baseline::alloc_drain();
  }
  cppgc_baseline::alloc_release();
  set_rates(state, n, n * static_cast<std::int64_t>(sizeof(PlainSmall)));
  state.SetLabel("warm; cppgc heap reused; includes cppgc's automatic collections (atomic)");
}
#endif

}  // namespace

void register_alloc_benchmarks() {
  add("alloc/small/snapheap", alloc_snapheap, and_huge(sweep()));
  add("alloc/small/snapheap_fresh_heap", alloc_snapheap_fresh, {kMillion});
  add("alloc/small/snapheap_no_auto_gc", alloc_snapheap_no_gc, and_huge(sweep()));
  add("alloc/small/snapheap_generational", alloc_snapheap_generational, sweep());
  add("alloc/small/snapheap_incremental", alloc_snapheap_incremental, sweep());
  add("alloc/small/make_shared", alloc_make_shared, and_huge(sweep()));
  add("alloc/small/malloc", alloc_malloc, sweep());
  add("alloc/small/boehm", alloc_boehm, sweep(), {.costly_reset = true});
#if SNAPHEAP_BENCH_CPPGC
  add("alloc/small/cppgc", alloc_cppgc, sweep(), {.costly_reset = true});
#endif
}

}  // namespace snapbench
