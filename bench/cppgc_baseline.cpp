// cppgc_baseline.hpp's functions: V8's cppgc as a benchmark baseline. Compiled with -fno-rtti
// (libnode is, and a class deriving from V8's would need typeinfo libnode does not have), with the
// V8 headers as system headers; it includes no snapheap or Google Benchmark header.
#include "cppgc_baseline.hpp"

#include <cppgc/allocation.h>
#include <cppgc/garbage-collected.h>
#include <cppgc/heap.h>
#include <cppgc/member.h>
#include <cppgc/persistent.h>
#include <cppgc/platform.h>
#include <cppgc/process-heap-statistics.h>
#include <cppgc/visitor.h>
#include <libplatform/libplatform.h>
#include <v8-initialization.h>
#include <v8-platform.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <random>
#include <utility>
#include <vector>

namespace cppgc_baseline {
namespace {

constexpr std::uint32_t kNoEdge = 0xFFFFFFFFu;

// ---- the platform --------------------------------------------------------------------------------

/// cppgc's platform over V8's default platform (the one V8::InitializePlatform was given: cppgc's
/// collections trace through V8's current platform, and crash without one).
class Platform final : public cppgc::Platform {
 public:
  explicit Platform(v8::Platform* v8_platform) noexcept : v8_(v8_platform) {}
  cppgc::PageAllocator* GetPageAllocator() override { return v8_->GetPageAllocator(); }
  double MonotonicallyIncreasingTime() override { return v8_->MonotonicallyIncreasingTime(); }
  std::shared_ptr<cppgc::TaskRunner> GetForegroundTaskRunner() override {
    return v8_->GetForegroundTaskRunner(nullptr);  // no isolate: cppgc stands alone
  }
  std::unique_ptr<cppgc::JobHandle> PostJob(cppgc::TaskPriority priority,
                                            std::unique_ptr<cppgc::JobTask> job_task) override {
    return v8_->PostJob(priority, std::move(job_task));
  }
  cppgc::TracingController* GetTracingController() override { return v8_->GetTracingController(); }

 private:
  v8::Platform* v8_;
};

struct Process {
  std::unique_ptr<v8::Platform> v8_platform;
  std::shared_ptr<Platform> platform;
  std::unique_ptr<cppgc::Heap> heap;  // the suite's reused heap
};

/// Never destroyed: the process ends with it (destroying a cppgc heap needs every Persistent to it
/// gone first, and V8's platform joins its worker threads).
Process* g_process = nullptr;

/// A heap that collects on one thread, stop-the-world, when its growth heuristics say so (from
/// an allocation, scanning the stack conservatively) or when told (ForceGarbageCollectionSlow).
std::unique_ptr<cppgc::Heap> make_heap(cppgc::Heap::MarkingType marking, cppgc::Heap::SweepingType sweeping) {
  cppgc::Heap::HeapOptions options = cppgc::Heap::HeapOptions::Default();
  options.marking_support = marking;
  options.sweeping_support = sweeping;
  return cppgc::Heap::Create(g_process->platform, std::move(options));
}

cppgc::Heap& heap() { return *g_process->heap; }

void full_collection(cppgc::Heap& h) {
  h.ForceGarbageCollectionSlow("snapheap_bench", "cppgc baseline", cppgc::Heap::StackState::kNoHeapPointers);
}

// ---- the suite's shapes --------------------------------------------------------------------------

class Small final : public cppgc::GarbageCollected<Small> {
 public:
  explicit Small(std::int64_t v) noexcept : value(v) {}
  void Trace(cppgc::Visitor* visitor) const {
    visitor->Trace(left);
    visitor->Trace(right);
  }
  std::int64_t value;
  cppgc::Member<Small> left;
  cppgc::Member<Small> right;
};
static_assert(sizeof(Small) == 24);

class Node final : public cppgc::GarbageCollected<Node> {
 public:
  explicit Node(std::int64_t v) noexcept : value(v) {}
  void Trace(cppgc::Visitor* visitor) const {
    visitor->Trace(next);
    visitor->Trace(peer);
  }
  std::int64_t value;
  cppgc::Member<Node> next;
  cppgc::WeakMember<Node> peer;
};

/// The graph's root: every node, in index order (snapheap's Graph).
class GraphRoot final : public cppgc::GarbageCollected<GraphRoot> {
 public:
  void Trace(cppgc::Visitor* visitor) const {
    for (const auto& node : nodes) visitor->Trace(node);
  }
  std::vector<cppgc::Member<Node>> nodes;
};

/// The weak benchmark's weak handles, as WeakMember fields of one live holder.
class WeakHolder final : public cppgc::GarbageCollected<WeakHolder> {
 public:
  void Trace(cppgc::Visitor* visitor) const {
    for (const auto& w : weak) visitor->Trace(w);
  }
  std::vector<cppgc::WeakMember<Small>> weak;
};

// ---- state of the benchmarks --------------------------------------------------------------------

std::vector<cppgc::Persistent<Small>> g_alloc_handles;
cppgc::Persistent<Node> g_chain;
cppgc::Persistent<GraphRoot> g_graph;

std::vector<cppgc::Persistent<Small>> g_weak_strong;
cppgc::Persistent<WeakHolder> g_weak_holder;
std::vector<cppgc::WeakPersistent<Small>> g_weak_persistent;
WeakKind g_weak_kind = WeakKind::member;

std::unique_ptr<cppgc::Heap> g_memory_heap;
std::vector<cppgc::Persistent<Small>> g_memory_handles;

}  // namespace

void init() {
  if (g_process) return;
  auto* p = new Process;
  // Idle tasks on: cppgc's incremental sweeping posts idle tasks (the frame loop runs them).
  p->v8_platform = v8::platform::NewDefaultPlatform(0, v8::platform::IdleTaskSupport::kEnabled);
  v8::V8::InitializePlatform(p->v8_platform.get());
  cppgc::InitializeProcess(p->v8_platform->GetPageAllocator());
  p->platform = std::make_shared<Platform>(p->v8_platform.get());
  g_process = p;
  p->heap = make_heap(cppgc::Heap::MarkingType::kAtomic, cppgc::Heap::SweepingType::kAtomic);
}

void collect() {
  init();
  full_collection(heap());
}

std::size_t object_bytes() { return cppgc::ProcessHeapStatistics::TotalAllocatedObjectSize(); }
std::size_t space_bytes() { return cppgc::ProcessHeapStatistics::TotalAllocatedSpace(); }

// ---- alloc ---------------------------------------------------------------------------------------

void alloc_reserve(std::size_t n) {
  init();
  g_alloc_handles.reserve(n);
}

void alloc_fill(std::size_t n) {
  cppgc::AllocationHandle& allocation = heap().GetAllocationHandle();
  for (std::size_t i = 0; i < n; ++i)
    g_alloc_handles.emplace_back(cppgc::MakeGarbageCollected<Small>(allocation, static_cast<std::int64_t>(i)));
}

void alloc_drain() {
  g_alloc_handles.clear();
  collect();
}

void alloc_release() {
  std::vector<cppgc::Persistent<Small>>().swap(g_alloc_handles);
  collect();
}

// ---- collect -------------------------------------------------------------------------------------

void build_chain(std::int64_t n) {
  init();
  cppgc::AllocationHandle& allocation = heap().GetAllocationHandle();
  // The head is rooted from the start, so an automatic (conservative) collection while the chain
  // grows keeps it whatever the stack holds.
  g_chain = cppgc::MakeGarbageCollected<Node>(allocation, 0);
  for (std::int64_t i = 1; i < n; ++i) {
    Node* node = cppgc::MakeGarbageCollected<Node>(allocation, i);
    node->next = g_chain.Get();
    g_chain = node;
  }
}

void build_graph(std::int64_t n, const std::uint32_t* strong, const std::uint32_t* weak, bool weak_edges) {
  init();
  cppgc::AllocationHandle& allocation = heap().GetAllocationHandle();
  g_graph = cppgc::MakeGarbageCollected<GraphRoot>(allocation);
  auto& nodes = g_graph->nodes;
  nodes.reserve(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i) {
    Node* node = cppgc::MakeGarbageCollected<Node>(allocation, static_cast<std::int64_t>(i));
    nodes.emplace_back(node);
    if (strong[i] != kNoEdge) node->next = nodes[strong[i]];
    if (weak_edges) node->peer = nodes[weak[i]].Get();
  }
}

void drop_root() {
  g_chain.Clear();
  g_graph.Clear();
}

// ---- weak ----------------------------------------------------------------------------------------

void weak_build(std::int64_t n, WeakKind kind) {
  init();
  g_weak_kind = kind;
  const auto count = static_cast<std::size_t>(n);
  cppgc::AllocationHandle& allocation = heap().GetAllocationHandle();
  g_weak_strong.reserve(count);
  if (kind == WeakKind::member) {
    g_weak_holder = cppgc::MakeGarbageCollected<WeakHolder>(allocation);
    g_weak_holder->weak.reserve(count);
  } else {
    g_weak_persistent.reserve(count);
  }
  for (std::size_t i = 0; i < count; ++i) {
    g_weak_strong.emplace_back(cppgc::MakeGarbageCollected<Small>(allocation, static_cast<std::int64_t>(i)));
    if (kind == WeakKind::member) g_weak_holder->weak.emplace_back(g_weak_strong.back().Get());
    else g_weak_persistent.emplace_back(g_weak_strong.back().Get());
  }
}

void weak_release_odd() {
  for (std::size_t i = 1; i < g_weak_strong.size(); i += 2) g_weak_strong[i].Clear();
}

std::int64_t weak_count_alive() {
  std::int64_t alive = 0;
  if (g_weak_kind == WeakKind::member) {
    for (const auto& w : g_weak_holder->weak) alive += w.Get() != nullptr;
  } else {
    for (const auto& w : g_weak_persistent) alive += w.Get() != nullptr;
  }
  return alive;
}

void weak_clear() {
  g_weak_strong.clear();
  g_weak_persistent.clear();
  g_weak_holder.Clear();
}

// ---- memory --------------------------------------------------------------------------------------

void memory_begin(std::int64_t n) {
  init();
  g_memory_heap = make_heap(cppgc::Heap::MarkingType::kAtomic, cppgc::Heap::SweepingType::kAtomic);
  g_memory_handles.reserve(static_cast<std::size_t>(n));
}

MemoryProbe memory_fill(std::int64_t n) {
  const auto space_before = static_cast<double>(space_bytes());
  const auto objects_before = static_cast<double>(object_bytes());
  cppgc::AllocationHandle& allocation = g_memory_heap->GetAllocationHandle();
  for (std::int64_t i = 0; i < n; ++i) g_memory_handles.emplace_back(cppgc::MakeGarbageCollected<Small>(allocation, i));
  full_collection(*g_memory_heap);  // settles the accounting: everything is live
  return {static_cast<double>(space_bytes()) - space_before, static_cast<double>(object_bytes()) - objects_before};
}

void memory_end() {
  std::vector<cppgc::Persistent<Small>>().swap(g_memory_handles);
  g_memory_heap.reset();
}

// ---- the frame loop ------------------------------------------------------------------------------

namespace {

class Leaf final : public cppgc::GarbageCollected<Leaf> {
 public:
  explicit Leaf(std::int64_t v) noexcept : value(v) {}
  void Trace(cppgc::Visitor* visitor) const { visitor->Trace(next); }
  std::int64_t value;
  cppgc::Member<Leaf> next;
};

class Chunk final : public cppgc::GarbageCollected<Chunk> {
 public:
  void Trace(cppgc::Visitor* visitor) const {
    for (const auto& l : leaves) visitor->Trace(l);
  }
  std::vector<cppgc::Member<Leaf>> leaves;
};

class Table final : public cppgc::GarbageCollected<Table> {
 public:
  void Trace(cppgc::Visitor* visitor) const {
    for (const auto& c : chunks) visitor->Trace(c);
  }
  std::vector<cppgc::Member<Chunk>> chunks;
};

/// A leaf nothing points at: when cppgc's weak processing clears the handle, a cycle's marking
/// finished; a fresh canary is then made for the next one.
class Canary final : public cppgc::GarbageCollected<Canary> {
 public:
  void Trace(cppgc::Visitor*) const {}
};

struct Frames {
  // cppgc's counters are process-wide and keep bytes of heaps already destroyed (an earlier
  // repetition's): the frame loop's figures are taken against their values before its heap.
  double objects_before = 0;
  double space_before = 0;
  std::unique_ptr<cppgc::Heap> heap;
  cppgc::Persistent<Table> table;
  cppgc::WeakPersistent<Canary> canary;
  std::mt19937_64 rng;
  FrameStats stats;
};
Frames* g_frames = nullptr;

using Clock = std::chrono::steady_clock;

std::uint64_t ns_since(Clock::time_point t0) {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());
}

void watch_cycles(Frames& f) {
  if (f.canary.Get()) return;
  f.stats.cycles += 1;
  f.canary = cppgc::MakeGarbageCollected<Canary>(f.heap->GetAllocationHandle());
}

}  // namespace

void frames_begin(std::int64_t live, std::size_t chunk, std::uint64_t seed) {
  init();
  g_frames = new Frames;
  Frames& f = *g_frames;
  f.rng.seed(seed);
  f.objects_before = static_cast<double>(object_bytes());
  f.space_before = static_cast<double>(space_bytes());
  f.heap = make_heap(cppgc::Heap::MarkingType::kIncremental, cppgc::Heap::SweepingType::kIncremental);
  cppgc::AllocationHandle& allocation = f.heap->GetAllocationHandle();
  f.table = cppgc::MakeGarbageCollected<Table>(allocation);
  // An incremental cycle may start while the live set is built (the heap grows), so every edge is
  // stored by assignment, which has cppgc's marking write barrier: constructing a Member in place
  // (emplace_back(ptr)) is an initializing store without one, and an object stored so into an
  // already-marked holder is never marked.
  for (std::int64_t made = 0; made < live;) {
    f.table->chunks.emplace_back();
    Chunk* c = cppgc::MakeGarbageCollected<Chunk>(allocation);
    f.table->chunks.back() = c;
    c->leaves.reserve(chunk);
    for (std::size_t i = 0; i < chunk && made < live; ++i) {
      c->leaves.emplace_back();
      c->leaves.back() = cppgc::MakeGarbageCollected<Leaf>(allocation, made++);
    }
  }
  full_collection(*f.heap);
  f.stats.live_bytes = static_cast<double>(object_bytes()) - f.objects_before;
  f.canary = cppgc::MakeGarbageCollected<Canary>(allocation);
}

void frames_frame(std::int64_t replaced, double idle_ms, Recorder record, void* context) {
  Frames& f = *g_frames;
  cppgc::AllocationHandle& allocation = f.heap->GetAllocationHandle();
  auto& chunks = f.table->chunks;
  for (std::int64_t k = 0; k < replaced; ++k) {
    Chunk& c = *chunks[f.rng() % chunks.size()];
    const std::size_t at = f.rng() % c.leaves.size();
    Chunk& other = *chunks[f.rng() % chunks.size()];
    const auto t0 = Clock::now();
    Leaf* l = cppgc::MakeGarbageCollected<Leaf>(allocation, k);
    record(context, ns_since(t0));
    l->next = other.leaves[f.rng() % other.leaves.size()];
    c.leaves[at] = l;
  }
  // The frame's idle time: cppgc's posted foreground tasks (incremental marking steps, the
  // finalization) and idle tasks (incremental sweeping), until none is left or the time is up.
  v8::Platform* platform = g_process->v8_platform.get();
  const auto t0 = Clock::now();
  const double budget_s = idle_ms / 1e3;
  for (;;) {
    const double left = budget_s - std::chrono::duration<double>(Clock::now() - t0).count();
    if (left <= 0) break;
    if (v8::platform::PumpMessageLoop(platform, nullptr, v8::platform::MessageLoopBehavior::kDoNotWait)) continue;
    v8::platform::RunIdleTasks(platform, nullptr, left);
    break;
  }
  const std::uint64_t step = ns_since(t0);
  record(context, step);
  f.stats.step_ms += static_cast<double>(step) / 1e6;
  watch_cycles(f);
  f.stats.peak_space = std::max(f.stats.peak_space, static_cast<double>(space_bytes()) - f.space_before);
}

FrameStats frames_stats() { return g_frames->stats; }

void frames_end() {
  g_frames->table.Clear();
  g_frames->canary.Clear();
  delete g_frames;
  g_frames = nullptr;
}

}  // namespace cppgc_baseline
