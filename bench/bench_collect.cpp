// collect/<shape>/<system>: a full collection of n objects, all live (mark cost) or all dead
// (sweep cost), against Boehm GC's GC_gcollect on the same shapes and against tearing the same
// graph down with shared_ptr; the dead chain also against free() of a malloc'ed chain (the
// floor of giving a million objects back one by one).
//
// Shapes: live_chain / dead_chain (node i points at node i-1, allocated just before it) and
// live_graph / dead_graph (graph_spec(n): each node a strong edge to a random earlier node and a
// weak edge to a random node at or before it, all nodes held by one root object / array / vector).
// The chain has no weak edges; the graph's 10^6 weak edges are work of their own for a collector
// (Boehm clears or keeps each disappearing link; snapheap counts the weak handles), so the graph
// is measured both ways: <system> with the weak edges, <system>_no_weak with the strong edges
// alone, each pair of variants on the same shape.
//
// Warm: one snapheap Heap is reused, and Boehm's heap is process-wide; inputs are built (and for
// the dead shapes rebuilt every iteration) outside the timed region. Timed: heap.collect(),
// GC_gcollect(), or dropping the last shared_ptr (the chain iteratively: a recursive teardown of
// a chain longer than ~260k nodes overflows an 8 MiB stack).
//
// Boehm: GC_MALLOC'ed nodes (value, next, and the weak edge as a hidden pointer registered with
// GC_general_register_disappearing_link), rooted from static data; one marker thread unless
// SNAPHEAP_BENCH_BOEHM_MARKERS says otherwise (snapheap marks on one thread). GC_gcollect frees
// wholly empty blocks at once and sweeps the others lazily, at later allocations.
//
// cppgc (V8's C++ collector, bench/cppgc_baseline.hpp): the same shapes as garbage-collected
// classes (Member next, WeakMember peer; the graph's nodes in a std::vector<Member> of a root
// object), rooted by a cppgc::Persistent; timed: ForceGarbageCollectionSlow with the stack state
// kNoHeapPointers (atomic marking and sweeping, finished on return), in one reused heap.
#include <gc/gc.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "support.hpp"
#include "types.hpp"
#if SNAPHEAP_BENCH_CPPGC
#include "cppgc_baseline.hpp"
#endif

namespace snapbench {

/// Boehm's roots (static data, which Boehm scans).
void* g_collect_root = nullptr;

namespace {

struct BoehmNode {
  std::int64_t value;
  BoehmNode* next;
  GC_word peer;  // GC_HIDE_POINTER(target), a disappearing link
};

// Built in functions of their own, so that no stale pointer to the nodes stays in this frame's
// registers or stack slots (Boehm scans the stack conservatively).
[[gnu::noinline]] void boehm_build_chain(std::int64_t n) {
  BoehmNode* head = nullptr;
  for (std::int64_t i = 0; i < n; ++i) {
    auto* node = static_cast<BoehmNode*>(GC_MALLOC(sizeof(BoehmNode)));
    node->value = i;
    node->next = head;
    head = node;
  }
  g_collect_root = head;
}

[[gnu::noinline]] void boehm_build_graph_edges(std::int64_t n, bool weak_edges) {
  const GraphSpec& spec = graph_spec(n);
  auto** nodes = static_cast<BoehmNode**>(GC_MALLOC(static_cast<std::size_t>(n) * sizeof(void*)));
  g_collect_root = nodes;
  for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i) {
    auto* node = static_cast<BoehmNode*>(GC_MALLOC(sizeof(BoehmNode)));
    node->value = static_cast<std::int64_t>(i);
    node->next = spec.strong[i] == kNoEdge ? nullptr : nodes[spec.strong[i]];
    nodes[i] = node;
    node->peer = 0;
    if (!weak_edges) continue;
    BoehmNode* target = nodes[spec.weak[i]];
    node->peer = GC_HIDE_POINTER(target);
    GC_general_register_disappearing_link(reinterpret_cast<void**>(&node->peer), target);
  }
}
[[gnu::noinline]] void boehm_build_graph(std::int64_t n) { boehm_build_graph_edges(n, true); }
[[gnu::noinline]] void boehm_build_graph_no_weak(std::int64_t n) { boehm_build_graph_edges(n, false); }

[[gnu::noinline]] void boehm_drop() {
  g_collect_root = nullptr;
  GC_gcollect();
}

using BoehmBuilder = void (*)(std::int64_t);

struct BoehmLive final : Fixture {
  explicit BoehmLive(std::int64_t n, BoehmBuilder build) {
    build(n);
    GC_gcollect();
  }
  ~BoehmLive() override { boehm_drop(); }
};

void boehm_live(benchmark::State& state, std::int64_t n, const char* shape, BoehmBuilder build) {
  fixture<BoehmLive>(key(shape, n), n, build);
  TimedFaults faults;
  for (auto _ : state) GC_gcollect();
  set_rates(state, n);
  set_counter(state, "heap_bytes_per_object",
              static_cast<double>(GC_get_memory_use()) / static_cast<double>(n));
  state.SetLabel("warm; all live; " + std::to_string(boehm_markers()) + " marker thread(s)");
}

void boehm_dead(benchmark::State& state, std::int64_t n, BoehmBuilder build) {
  drop_fixture();
  double freed = 0;
  TimedFaults faults;
  for (auto _ : state) {
    std::size_t before;
    {
      Untimed untimed(state);
      build(n);
      g_collect_root = nullptr;
      before = GC_get_memory_use();
    }
    GC_gcollect();
    Untimed untimed(state);
    freed += static_cast<double>(before) - static_cast<double>(GC_get_memory_use());
  }
  set_rates(state, n);
  // A check that the nodes really died (a stale stack word would keep a chain alive).
  set_counter(state, "freed_bytes_per_object",
              freed / static_cast<double>(state.iterations()) / static_cast<double>(n));
  state.SetLabel("warm; all dead; empty blocks freed, the rest swept lazily; " +
                 std::to_string(boehm_markers()) + " marker thread(s)");
}

// ---- cppgc ---------------------------------------------------------------------------------------

#if SNAPHEAP_BENCH_CPPGC
void cppgc_build_chain(std::int64_t n) { cppgc_baseline::build_chain(n); }
void cppgc_build_graph_edges(std::int64_t n, bool weak_edges) {
  const GraphSpec& spec = graph_spec(n);
  cppgc_baseline::build_graph(n, spec.strong.data(), spec.weak.data(), weak_edges);
}
void cppgc_build_graph(std::int64_t n) { cppgc_build_graph_edges(n, true); }
void cppgc_build_graph_no_weak(std::int64_t n) { cppgc_build_graph_edges(n, false); }

struct CppgcLive final : Fixture {
  explicit CppgcLive(std::int64_t n, void (*build)(std::int64_t)) {
    build(n);
    cppgc_baseline::collect();
  }
  ~CppgcLive() override {
    cppgc_baseline::drop_root();
    cppgc_baseline::collect();
  }
};

void cppgc_live(benchmark::State& state, std::int64_t n, const char* shape, void (*build)(std::int64_t)) {
  fixture<CppgcLive>(key(shape, n), n, build);
  const std::size_t live = cppgc_baseline::object_bytes();
  TimedFaults faults;
  for (auto _ : state) {
    cppgc_baseline::collect();
    Untimed untimed(state);
    if (cppgc_baseline::object_bytes() < live) state.SkipWithError("a live object was freed");
  }
  set_rates(state, n);
  // No heap_bytes_per_object: cppgc's page count is process-wide (memory/small/cppgc has its
  // bytes per object).
  state.SetLabel("warm; all live; atomic marking and sweeping");
}

void cppgc_dead(benchmark::State& state, std::int64_t n, void (*build)(std::int64_t)) {
  drop_fixture();
  cppgc_baseline::collect();
  // The process-wide count of object bytes, with the reused heap empty (it can hold bytes of heaps
  // already destroyed): what the collections must come back to.
  const std::size_t empty = cppgc_baseline::object_bytes();
  double freed = 0;
  TimedFaults faults;
  for (auto _ : state) {
    std::size_t before;
    {
      Untimed untimed(state);
      build(n);
      cppgc_baseline::drop_root();
      before = cppgc_baseline::object_bytes();
    }
    cppgc_baseline::collect();
    Untimed untimed(state);
    const std::size_t after = cppgc_baseline::object_bytes();
    freed += static_cast<double>(before) - static_cast<double>(after);
    if (after > empty) state.SkipWithError("a dead object survived");
  }
  set_rates(state, n);
  set_counter(state, "freed_bytes_per_object",
              freed / static_cast<double>(state.iterations()) / static_cast<double>(n));
  state.SetLabel("warm; heap reused; all dead; atomic marking and sweeping");
}

void live_chain_cppgc(benchmark::State& s, std::int64_t n) { cppgc_live(s, n, "collect/live_chain/cppgc", cppgc_build_chain); }
void live_graph_cppgc(benchmark::State& s, std::int64_t n) { cppgc_live(s, n, "collect/live_graph/cppgc", cppgc_build_graph); }
void live_graph_cppgc_no_weak(benchmark::State& s, std::int64_t n) {
  cppgc_live(s, n, "collect/live_graph/cppgc_no_weak", cppgc_build_graph_no_weak);
}
void dead_chain_cppgc(benchmark::State& s, std::int64_t n) { cppgc_dead(s, n, cppgc_build_chain); }
void dead_graph_cppgc(benchmark::State& s, std::int64_t n) { cppgc_dead(s, n, cppgc_build_graph); }
void dead_graph_cppgc_no_weak(benchmark::State& s, std::int64_t n) { cppgc_dead(s, n, cppgc_build_graph_no_weak); }
#endif

// ---- snapheap ------------------------------------------------------------------------------------

struct SnapheapChain final : Fixture {
  snapheap::Heap heap;
  snapheap::Strong<Node> head;
  explicit SnapheapChain(std::int64_t n) : head(build_chain(heap, n)) { heap.collect(); }
  ~SnapheapChain() override { head.reset(); }
};

template <bool kWeakEdges>
struct SnapheapGraph final : Fixture {
  snapheap::Heap heap;
  snapheap::Strong<Graph> graph;
  explicit SnapheapGraph(std::int64_t n) : graph(build_graph(heap, n, kWeakEdges)) { heap.collect(); }
  ~SnapheapGraph() override { graph.reset(); }
};

struct SnapheapEmpty final : Fixture {
  snapheap::Heap heap;
};

void report_phases(benchmark::State& state, double mark_ns, double sweep_ns) {
  const auto iterations = static_cast<double>(state.iterations());
  set_counter(state, "mark_us", mark_ns / iterations / 1e3);
  set_counter(state, "sweep_us", sweep_ns / iterations / 1e3);
}

template <class F>
void snapheap_live(benchmark::State& state, std::int64_t n, const char* shape) {
  F& f = fixture<F>(key(shape, n), n);
  double mark_ns = 0, sweep_ns = 0;
  TimedFaults faults;
  for (auto _ : state) {
    f.heap.collect();
    Untimed untimed(state);
    const snapheap::HeapStats stats = f.heap.stats();
    mark_ns += static_cast<double>(stats.last_mark_time.count());
    sweep_ns += static_cast<double>(stats.last_sweep_time.count());
    if (stats.last_freed_objects != 0) state.SkipWithError("a live object was freed");
  }
  set_rates(state, n);
  report_phases(state, mark_ns, sweep_ns);
  const snapheap::HeapStats stats = f.heap.stats();
  set_counter(state, "heap_bytes_per_object",
              static_cast<double>(stats.committed_bytes) / static_cast<double>(n));
  state.SetLabel("warm; all live");
}

template <class Build>
void snapheap_dead(benchmark::State& state, std::int64_t n, const char* shape, Build build) {
  auto& f = fixture<SnapheapEmpty>(key(shape, n));
  double mark_ns = 0, sweep_ns = 0;
  TimedFaults faults;
  for (auto _ : state) {
    {
      Untimed untimed(state);
      build(f.heap, n).reset();
    }
    f.heap.collect();
    Untimed untimed(state);
    const snapheap::HeapStats stats = f.heap.stats();
    mark_ns += static_cast<double>(stats.last_mark_time.count());
    sweep_ns += static_cast<double>(stats.last_sweep_time.count());
    if (stats.live_objects != 0) state.SkipWithError("a dead object survived");
  }
  set_rates(state, n);
  report_phases(state, mark_ns, sweep_ns);
  state.SetLabel("warm; heap reused; all dead");
}

// ---- the benchmarks --------------------------------------------------------------------------------

void live_chain_snapheap(benchmark::State& s, std::int64_t n) { snapheap_live<SnapheapChain>(s, n, "collect/live_chain/snapheap"); }
void live_graph_snapheap(benchmark::State& s, std::int64_t n) { snapheap_live<SnapheapGraph<true>>(s, n, "collect/live_graph/snapheap"); }
void live_graph_snapheap_no_weak(benchmark::State& s, std::int64_t n) {
  snapheap_live<SnapheapGraph<false>>(s, n, "collect/live_graph/snapheap_no_weak");
}
void live_graph_boehm_no_weak(benchmark::State& s, std::int64_t n) {
  boehm_live(s, n, "collect/live_graph/boehm_no_weak", boehm_build_graph_no_weak);
}
void live_chain_boehm(benchmark::State& s, std::int64_t n) { boehm_live(s, n, "collect/live_chain/boehm", boehm_build_chain); }
void live_graph_boehm(benchmark::State& s, std::int64_t n) { boehm_live(s, n, "collect/live_graph/boehm", boehm_build_graph); }

void dead_chain_snapheap(benchmark::State& s, std::int64_t n) {
  snapheap_dead(s, n, "collect/dead/snapheap", [](snapheap::Heap& h, std::int64_t k) { return build_chain(h, k); });
}
void dead_graph_snapheap(benchmark::State& s, std::int64_t n) {
  snapheap_dead(s, n, "collect/dead/snapheap", [](snapheap::Heap& h, std::int64_t k) { return build_graph(h, k); });
}
void dead_chain_boehm(benchmark::State& s, std::int64_t n) { boehm_dead(s, n, boehm_build_chain); }
void dead_graph_boehm(benchmark::State& s, std::int64_t n) { boehm_dead(s, n, boehm_build_graph); }
void dead_graph_snapheap_no_weak(benchmark::State& s, std::int64_t n) {
  snapheap_dead(s, n, "collect/dead/snapheap", [](snapheap::Heap& h, std::int64_t k) { return build_graph(h, k, false); });
}
void dead_graph_boehm_no_weak(benchmark::State& s, std::int64_t n) { boehm_dead(s, n, boehm_build_graph_no_weak); }

void dead_chain_shared_ptr(benchmark::State& state, std::int64_t n) {
  drop_fixture();
  TimedFaults faults;
  for (auto _ : state) {
    std::shared_ptr<SNode> head;
    {
      Untimed untimed(state);
      head = build_shared_chain(n);
    }
    drop_chain(head);
  }
  set_rates(state, n);
  state.SetLabel("warm; iterative teardown (a recursive one overflows the stack past ~260k nodes)");
}

void dead_chain_free(benchmark::State& state, std::int64_t n) {
  drop_fixture();
  auto build = [n] {
    PlainSmall* head = nullptr;
    for (std::int64_t i = 0; i < n; ++i) {
      auto* node = static_cast<PlainSmall*>(std::malloc(sizeof(PlainSmall)));
      if (!node) std::abort();
      *node = PlainSmall{i, head, nullptr};
      head = node;
    }
    return head;
  };
  TimedFaults faults;
  for (auto _ : state) {
    PlainSmall* head;
    {
      Untimed untimed(state);
      head = build();
    }
    while (head) {
      PlainSmall* next = head->left;
      std::free(head);
      head = next;
    }
  }
  set_rates(state, n);
  state.SetLabel("warm; malloc'ed chain, freed node by node from the head");
}

void dead_graph_shared_ptr(benchmark::State& state, std::int64_t n) {
  drop_fixture();
  TimedFaults faults;
  for (auto _ : state) {
    std::vector<std::shared_ptr<SNode>> nodes;
    {
      Untimed untimed(state);
      nodes = build_shared_graph(n);
    }
    std::vector<std::shared_ptr<SNode>>().swap(nodes);
  }
  set_rates(state, n);
  state.SetLabel("warm; the holder vector dropped (edges point backwards: shallow recursion)");
}

}  // namespace

void register_collect_benchmarks() {
  // The baselines of the dead shapes stop at 10^6: rebuilding 10^7 nodes for every iteration of
  // every repetition costs more than the rest of the suite.
  add("collect/live_chain/snapheap", live_chain_snapheap, and_huge(sweep()));
  add("collect/live_chain/boehm", live_chain_boehm, sweep());
#if SNAPHEAP_BENCH_CPPGC
  add("collect/live_chain/cppgc", live_chain_cppgc, sweep());
#endif
  add("collect/live_graph/snapheap", live_graph_snapheap, and_huge(sweep()));
  add("collect/live_graph/boehm", live_graph_boehm, sweep());
#if SNAPHEAP_BENCH_CPPGC
  add("collect/live_graph/cppgc", live_graph_cppgc, sweep());
#endif
  add("collect/live_graph/snapheap_no_weak", live_graph_snapheap_no_weak, sweep(kMillion));
  add("collect/live_graph/boehm_no_weak", live_graph_boehm_no_weak, sweep(kMillion));
#if SNAPHEAP_BENCH_CPPGC
  add("collect/live_graph/cppgc_no_weak", live_graph_cppgc_no_weak, sweep(kMillion));
#endif
  add("collect/dead_chain/snapheap", dead_chain_snapheap, and_huge(sweep()));
  add("collect/dead_chain/shared_ptr_teardown", dead_chain_shared_ptr, sweep(kMillion));
  add("collect/dead_chain/boehm", dead_chain_boehm, sweep(kMillion));
  add("collect/dead_chain/free", dead_chain_free, sweep(kMillion));
#if SNAPHEAP_BENCH_CPPGC
  add("collect/dead_chain/cppgc", dead_chain_cppgc, sweep(kMillion));
#endif
  add("collect/dead_graph/snapheap", dead_graph_snapheap, and_huge(sweep()));
  add("collect/dead_graph/shared_ptr_teardown", dead_graph_shared_ptr, sweep(kMillion));
  add("collect/dead_graph/boehm", dead_graph_boehm, sweep(kMillion));
#if SNAPHEAP_BENCH_CPPGC
  add("collect/dead_graph/cppgc", dead_graph_cppgc, sweep(kMillion));
#endif
  add("collect/dead_graph/snapheap_no_weak", dead_graph_snapheap_no_weak, sweep(kMillion));
  add("collect/dead_graph/boehm_no_weak", dead_graph_boehm_no_weak, sweep(kMillion));
#if SNAPHEAP_BENCH_CPPGC
  add("collect/dead_graph/cppgc_no_weak", dead_graph_cppgc_no_weak, sweep(kMillion));
#endif
}

}  // namespace snapbench
