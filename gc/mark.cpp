// Marking: roots, then a work list of gray objects drained until empty (no recursion: a
// million-long chain needs one work list entry at a time), then the weak census.
#include <cstdint>

#include "gc/collector.hpp"

namespace snapheap::detail {

namespace {
void drain(WorkList& work, Tracer& tracer) noexcept {
  while (!work.empty()) {
    const Object* o = work.back();
    work.pop_back();
    o->trace(tracer);
  }
}
}  // namespace

// Roots are the slots with a nonzero root count (Strong handles and named roots). The scan reads
// the dense root-count array 64 slots at a time and skips blocks with no root (a vectorized OR),
// so it costs about a millisecond per ten million objects. The rooted objects of a block are
// marked and prefetched together, then traced, and what they reach is drained before the next
// block: a heap held by many host handles is traced in slot order with its cache misses
// overlapped, and the work list stays short.
void Collector::mark_roots(Heap& heap) noexcept {
  ObjectTable& table = heap.table_;
  const std::uint32_t* counts = table.root_counts();
  const std::uint64_t* live = table.live_bits();
  std::uint64_t* bits = table.mark_bits();
  const std::uint32_t limit = table.slot_limit();
  Tracer tracer = TracerAccess::make();
  TracerAccess::setup_mark(tracer, table, bits, heap.work_, &heap.weak_);
  const Object* batch[64];
  for (std::uint32_t base = 0; base < limit; base += 64) {
    const std::uint32_t end = base + 64 < limit ? base + 64 : limit;
    std::uint32_t any = 0;
    for (std::uint32_t s = base; s < end; ++s) any |= counts[s];
    if (!any) continue;
    const std::uint64_t live_word = live[base >> 6];
    std::uint64_t& mark_word = bits[base >> 6];
    std::size_t n = 0;
    for (std::uint32_t s = base; s < end; ++s) {
      const std::uint64_t bit = std::uint64_t{1} << (s & 63);
      if (counts[s] == 0 || !(live_word & bit) || (mark_word & bit)) continue;
      mark_word |= bit;
      const Object* o = table.object_at(s);
      __builtin_prefetch(o);
      batch[n++] = o;
    }
    for (std::size_t i = 0; i < n; ++i) batch[i]->trace(tracer);
    drain(heap.work_, tracer);
  }
}

// Whatever the roots' blocks left gray (nothing, as mark_roots drains as it goes; kept as the
// phase that guarantees an empty work list before the weak census).
void Collector::trace_references(Heap& heap) noexcept {
  Tracer tracer = TracerAccess::make();
  TracerAccess::setup_mark(tracer, heap.table_, heap.table_.mark_bits(), heap.work_, &heap.weak_);
  drain(heap.work_, tracer);
}

// Weak edges were recorded during tracing when their target was still white; those whose
// target is white now (and still the same object: generations match) are about to expire.
std::size_t Collector::count_expired_weak(Heap& heap) noexcept {
  const ObjectTable& table = heap.table_;
  std::size_t expired = 0;
  for (const WeakVisit& w : heap.weak_) {
    if (w.slot < table.slot_limit() && table.generation(w.slot) == w.generation &&
        table.object_at(w.slot) && !table.is_marked(w.slot))
      ++expired;
  }
  heap.weak_.clear();
  return expired;
}

}  // namespace snapheap::detail
