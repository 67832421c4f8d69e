#include "gc/collector.hpp"

#include <algorithm>
#include <chrono>
#include <string>

#include "core/thread_stats.hpp"
#include "snapheap/allocator.hpp"

namespace snapheap::detail {

namespace {

using Clock = std::chrono::steady_clock;

// Empty pages go back to the operating system after two seconds unused, 8 MiB excepted: a heap
// that fills and empties every cycle keeps reusing warm memory (touching a fresh page costs far
// more than reusing one), and a heap that has shrunk for good returns the rest soon after.
constexpr std::uint64_t kPageIdleNs = 2'000'000'000;
constexpr std::size_t kWarmPoolBytes = std::size_t{8} << 20;

std::uint64_t ns_since_epoch(Clock::time_point t) noexcept {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

/// One collection's bookkeeping: the phase flags, clocks and statistics around the phases, and
/// what every collection does at its end (the next trigger, the extensions' hooks, page
/// trimming, verification).
class CollectionScope {
 public:
  explicit CollectionScope(HeapImpl& heap) noexcept
      : heap_(heap), thrown_before_(thread_stats().destructor_exceptions), start_(Clock::now()) {
    ObjectTable& table = heap_.table;
    table.set_collection_deferred(false);
    table.set_inline_budget(0);  // make() from a destructor must reach the slow path and its check
    table.set_clock(ns_since_epoch(start_));
    table.set_phase(Phase::kMarking);
  }
  void end_marking(std::size_t weak_expired) noexcept {
    heap_.table.set_phase(Phase::kIdle);
    marked_ = Clock::now();
    heap_.stats.last_weak_expired = weak_expired;
    heap_.stats.total_weak_expired += weak_expired;
  }
  void end_sweeping(const SweepResult& swept) noexcept {
    HeapStats& s = heap_.stats;
    s.last_freed_objects = swept.freed_objects;
    s.last_freed_bytes = swept.freed_bytes;
    s.total_freed_objects += swept.freed_objects;
  }
  ~CollectionScope() {
    const auto done = Clock::now();
    HeapStats& s = heap_.stats;
    ++s.collections;
    s.last_mark_time = marked_ - start_;
    s.last_sweep_time = done - marked_;
    s.destructor_exceptions += thread_stats().destructor_exceptions - thrown_before_;
    Collector::set_next_trigger(heap_);
    heap_.after_collection();
    heap_.table.trim(kWarmPoolBytes, ns_since_epoch(done), kPageIdleNs);
    if (heap_.options.verify_after_collect) verify_or_stop();
  }
  CollectionScope(const CollectionScope&) = delete;
  CollectionScope& operator=(const CollectionScope&) = delete;

 private:
  void verify_or_stop() const noexcept;

  HeapImpl& heap_;
  const std::uint64_t thrown_before_;
  const Clock::time_point start_;
  Clock::time_point marked_;
};

void CollectionScope::verify_or_stop() const noexcept {
  const VerifyResult check = verify(heap_);
  if (!check.ok) {
    const std::string message = "heap.verify() failed after a collection: " + check.problem;
    fatal(__FILE__, __LINE__, message.c_str());
  }
}

// Before anything is marked or freed: a forgotten trace() would have its target freed under it.
void check_traces_or_stop(const HeapImpl& heap) noexcept {
  const std::string problem = check_traces(heap.table);
  if (problem.empty()) return;
  const std::string message = "a managed object's trace() misses a handle: " + problem;
  fatal(__FILE__, __LINE__, message.c_str());
}

}  // namespace

void Collector::collect(HeapImpl& heap) noexcept {
  CollectionScope scope(heap);
  if (checks_traces(heap.options)) check_traces_or_stop(heap);
  mark_roots(heap);
  scope.end_marking(count_expired_weak(heap));
  scope.end_sweeping(sweep(heap));
}

void Collector::set_next_trigger(HeapImpl& heap) noexcept {
  const double grown = static_cast<double>(heap.counted_bytes()) * (heap.options.growth_factor - 1.0);
  heap.stats.next_collection_bytes = std::max(heap.options.min_trigger_bytes, static_cast<std::size_t>(grown));
  heap.table.reset_allocation_count();
  const bool inline_path = !heap.options.stress && heap.options.max_bytes == 0;
  heap.table.set_inline_budget(inline_path ? heap.stats.next_collection_bytes : 0);
}

void Collector::prepare_make(HeapImpl& heap, std::size_t bytes) {
  heap.table.check_thread();
  SNAPHEAP_CHECK(heap.table.phase() == Phase::kIdle,
                 "Heap::make was called from a destructor or a trace(): nothing may be allocated "
                 "while the collector runs");
  // The limit is on the cells live_bytes() counts (plus owned memory): compare the cell the
  // object will take, not its sizeof, or the heap could pass its limit by a size class step or a
  // large object's pages.
  make_room(heap, ObjectTable::cell_bytes_for(bytes));
}

void Collector::make_room(HeapImpl& heap, std::size_t bytes) {
  ObjectTable& table = heap.table;
  if ((heap.options.stress || table.allocated_since_collection() >= heap.stats.next_collection_bytes) &&
      table.can_collect())
    collect(heap);
  const std::size_t limit = heap.options.max_bytes;
  if (limit != 0 && heap.counted_bytes() + bytes > limit) {
    if (table.can_collect()) collect(heap);
    if (heap.counted_bytes() + bytes > limit) throw HeapExhausted(limit, heap.counted_bytes(), bytes);
  }
}

void charge_external(HeapTag tag, std::size_t bytes) {
  HeapCore* core = heap_of(tag);
  if (!core || bytes == 0) return;
  ObjectTable& table = ObjectTable::of(*core);
  HeapImpl& heap = HeapImpl::of(table);
  // Charged while the collector runs (a destructor's container): count it, decide nothing.
  if (table.phase() == Phase::kIdle) {
    table.check_thread();
    Collector::make_room(heap, bytes);
  }
  table.add_external(bytes);
}

void refund_external(HeapTag tag, std::size_t bytes) noexcept {
  if (HeapCore* core = heap_of(tag)) ObjectTable::of(*core).remove_external(bytes);
}

}  // namespace snapheap::detail
