#include "gc/collector.hpp"

#include <algorithm>
#include <chrono>
#include <string>

#include "core/memory_cache.hpp"
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

/// A whole stop-the-world collection's bookkeeping around its phases: the phase flags, clocks,
/// its pause, and end_collection().
class CollectionScope {
 public:
  CollectionScope(HeapImpl& heap, Judge judge) noexcept
      : heap_(heap),
        judge_(judge),
        bytes_before_(heap.counted_bytes()),
        thrown_before_(thread_stats().destructor_exceptions),
        start_(Clock::now()) {
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
    heap_.stats.destructor_exceptions += thread_stats().destructor_exceptions - thrown_before_;
    record_pause(heap_.stats, done - start_);
    end_collection(heap_, marked_ - start_, done - marked_, judge_, bytes_before_);
  }
  CollectionScope(const CollectionScope&) = delete;
  CollectionScope& operator=(const CollectionScope&) = delete;
  Clock::time_point start() const noexcept { return start_; }

 private:
  HeapImpl& heap_;
  const Judge judge_;
  const std::size_t bytes_before_;
  const std::uint64_t thrown_before_;
  const Clock::time_point start_;
  Clock::time_point marked_;
};

}  // namespace

void check_traces_or_stop(HeapImpl& heap) noexcept {
  if (!checks_traces(heap.options)) return;
  // Every trace() runs here, before a minor collection or an incremental cycle has set its
  // phase: make() from a trace() must stop as it does during marking, not start a collection
  // whose check calls that trace() again.
  const Phase phase = heap.table.phase();
  heap.table.set_phase(Phase::kMarking);
  const std::string problem = check_traces(heap.table);
  heap.table.set_phase(phase);
  if (problem.empty()) return;
  const std::string message = "a managed object's trace() misses a handle: " + problem;
  fatal(__FILE__, __LINE__, message.c_str());
}

void record_pause(HeapStats& stats, std::chrono::nanoseconds pause) noexcept {
  HeapStats::Pauses& p = stats.pauses;
  ++p.count;
  p.total += pause;
  if (pause > p.max) p.max = pause;
  const auto ns = static_cast<std::uint64_t>(pause.count() > 0 ? pause.count() : 1);
  const int bucket = 63 - __builtin_clzll(ns);
  ++p.histogram[static_cast<std::size_t>(bucket < 31 ? bucket : 31)];
}

void end_collection(HeapImpl& heap, std::chrono::nanoseconds mark_time, std::chrono::nanoseconds sweep_time,
                    Judge judge, std::size_t bytes_before) noexcept {
  HeapStats& s = heap.stats;
  ++s.collections;
  s.last_mark_time = mark_time;
  s.last_sweep_time = sweep_time;
  if (judge) judge(heap, bytes_before);
  Collector::set_next_trigger(heap);
  queue_death_batch(heap);
  if (!heap.weak.ready.empty()) heap.table.set_inline_budget(0);  // make()'s slow path runs them
  heap.after_collection();
  heap.table.trim(kWarmPoolBytes, ns_since_epoch(Clock::now()), kPageIdleNs);
  memory_cache::trim_idle();  // destroyed heaps' memory idle in the process-wide cache
  if (heap.options.verify_after_collect) {
    const VerifyResult check = verify(heap);
    if (!check.ok) {
      const std::string message = "heap.verify() failed after a collection: " + check.problem;
      fatal(__FILE__, __LINE__, message.c_str());
    }
  }
}

void full_collection(HeapImpl& heap, bool keep_marks, Judge judge) noexcept {
  CollectionScope scope(heap, judge);
  check_traces_or_stop(heap);
  mark_roots(heap);
  scope.end_marking(finish_marking(heap));
  scope.end_sweeping(sweep(heap, keep_marks));
}

void Collector::collect(HeapImpl& heap) noexcept {
  switch (heap.options.mode) {
    case GcMode::stop_the_world:
      return full_collection(heap, /*keep_marks=*/false);
    case GcMode::incremental: {
      // What the running cycle marked before the call may be dead now: finish it, then collect
      // the whole heap at once. The last_* figures then describe the call: both together.
      const bool was_running = incremental_running(heap);
      incremental_finish(heap);
      const HeapStats finished = heap.stats;
      full_collection(heap, /*keep_marks=*/false);
      if (was_running) {
        heap.stats.last_freed_objects += finished.last_freed_objects;
        heap.stats.last_freed_bytes += finished.last_freed_bytes;
        heap.stats.last_weak_expired += finished.last_weak_expired;
      }
      return;
    }
    case GcMode::generational:
      return major_collection(heap, /*automatic=*/false);
  }
}

void Collector::collect_due(HeapImpl& heap) noexcept {
  switch (heap.options.mode) {
    case GcMode::stop_the_world:
      return full_collection(heap, /*keep_marks=*/false);
    case GcMode::incremental: {
      // Work proportional to what was allocated (cells and owned memory) since the last step, or
      // for a cycle's first step since the trigger, within max_pause; stress mode steps at every
      // allocation, at least 256 bytes' worth.
      const std::size_t allocated = heap.table.allocated_since_collection();
      const std::size_t from =
          incremental_running(heap) ? heap.cycle.stepped_at : heap.stats.next_collection_bytes;
      const std::size_t since = allocated > from ? allocated - from : 0;
      const auto work = static_cast<std::size_t>(heap.options.step_multiplier * static_cast<double>(since));
      incremental_advance(heap, heap.options.max_pause, heap.options.stress ? std::max<std::size_t>(work, 256) : work + 4096);
      return;
    }
    case GcMode::generational:
      if (heap.next_is_major) return major_collection(heap, /*automatic=*/true);
      return minor_collection(heap);
  }
}

bool Collector::step(HeapImpl& heap, std::chrono::nanoseconds budget) noexcept {
  ObjectTable& table = heap.table;
  if (!table.can_collect()) return incremental_running(heap);
  const bool due = table.allocated_since_collection() >= heap.stats.next_collection_bytes;
  if (heap.options.mode == GcMode::incremental) {
    if (!due && !incremental_running(heap)) return false;
    return incremental_advance(heap, budget, ~std::size_t{0});
  }
  if (due) collect_due(heap);
  return false;
}

void Collector::set_next_trigger(HeapImpl& heap) noexcept {
  const HeapOptions& o = heap.options;
  std::size_t next;
  if (o.mode == GcMode::generational) {
    next = minor_trigger(heap);
  } else {
    const double grown = static_cast<double>(heap.counted_bytes()) * (o.growth_factor - 1.0);
    next = std::max(o.min_trigger_bytes, static_cast<std::size_t>(grown));
  }
  heap.stats.next_collection_bytes = next;
  heap.table.reset_allocation_count();
  heap.cycle.step_at = 0;
  heap.cycle.stepped_at = 0;
  refresh_inline_budget(heap);
}

void Collector::refresh_inline_budget(HeapImpl& heap) noexcept {
  const HeapOptions& o = heap.options;
  ObjectTable& table = heap.table;
  if (table.phase() != Phase::kIdle) return;  // the collector keeps it at 0 while it runs
  const bool inline_path = !o.stress && o.max_bytes == 0 && heap.weak.ready.empty();
  const std::size_t until = incremental_running(heap) ? heap.cycle.step_at : heap.stats.next_collection_bytes;
  table.set_inline_budget(inline_path ? until : 0);
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
  const bool due = heap.options.stress || table.allocated_since_collection() >= heap.stats.next_collection_bytes ||
                   (incremental_running(heap) && table.allocated_since_collection() >= heap.cycle.step_at);
  if (due && table.can_collect()) collect_due(heap);
  const std::size_t limit = heap.options.max_bytes;
  if (limit != 0 && heap.counted_bytes() + bytes > limit) {
    if (table.can_collect()) collect(heap);
    if (heap.counted_bytes() + bytes > limit) throw HeapExhausted(limit, heap.counted_bytes(), bytes);
  }
}

void Collector::apply_options(HeapImpl& heap, const HeapOptions& options) noexcept {
  const GcMode old_mode = heap.options.mode;
  if (old_mode == GcMode::incremental && heap.table.can_collect()) incremental_finish(heap);
  heap.options = options;
  if (old_mode != options.mode) {
    // Generational mode keeps the survivors marked (old); the other modes start unmarked.
    if (old_mode == GcMode::generational) heap.table.clear_marks();
    heap.table.set_generational(options.mode == GcMode::generational);
    heap.old_bytes_at_major = heap.table.live_bytes();
    heap.committed_at_major = heap.table.committed_bytes();
    heap.next_is_major = false;
    heap.major_scale = 1.0;
    heap.pretenure_left = 0;
  }
  set_next_trigger(heap);
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
