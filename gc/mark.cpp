// Marking: roots, then the mark stack of gray objects drained until empty (no recursion: a
// million-long chain needs one stack entry at a time), then the weak census.
#include <cstdint>

#include "gc/collector.hpp"

namespace snapheap::detail {

void RootBatch::flush() noexcept {
  for (std::size_t i = 0; i < n_; ++i) batch_[i]->trace(tracer_);
  n_ = 0;
  drain(stack_, tracer_);
}

// Roots are the slots with a nonzero root count (Strong handles and named roots). The scan reads
// the dense root-count array 64 slots at a time and skips blocks with no root (a vectorized OR),
// so it costs about a millisecond per ten million objects. The rooted objects of a block are
// marked and prefetched together, then traced, and what they reach is drained before the next
// block: a heap held by many host handles is traced in slot order with its cache misses
// overlapped, and the mark stack stays short. The stack is empty when this returns.
void mark_roots(HeapImpl& heap) noexcept {
  ObjectTable& table = heap.table;
  const std::uint32_t* counts = table.root_counts();
  const std::uint64_t* live = table.live_bits();
  std::uint64_t* bits = table.mark_bits();
  const std::uint32_t limit = table.slot_limit();
  Tracer tracer = TracerAccess::marking(table);
  RootBatch batch(table.mark_stack(), tracer);
  for (std::uint32_t base = 0; base < limit; base += 64) {
    const std::uint32_t end = base + 64 < limit ? base + 64 : limit;
    std::uint32_t any = 0;
    for (std::uint32_t s = base; s < end; ++s) any |= counts[s];
    if (!any) continue;
    const std::uint64_t live_word = live[base >> 6];
    std::uint64_t& mark_word = bits[base >> 6];
    for (std::uint32_t s = base; s < end; ++s) {
      const std::uint64_t bit = std::uint64_t{1} << (s & 63);
      if (counts[s] == 0 || !(live_word & bit) || (mark_word & bit)) continue;
      mark_word |= bit;
      batch.add(table.object_at(s));
    }
    batch.flush();
  }
}

namespace {

// Weak edges were recorded during tracing when their target was still white; those whose
// target is white now (and still the same object: generations match) are about to expire.
std::size_t count_expired_weak(HeapImpl& heap) noexcept {
  ObjectTable& table = heap.table;
  std::size_t expired = 0;
  for (const WeakVisit& w : table.weak_census()) {
    if (w.slot < table.slot_limit() && table.generation(w.slot) == w.generation && table.object_at(w.slot) &&
        !table.is_marked(w.slot))
      ++expired;
  }
  table.weak_census().clear();
  return expired;
}

}  // namespace

std::size_t finish_marking(HeapImpl& heap) noexcept {
  settle_ephemerons(heap);
  note_weak_deaths(heap);
  return count_expired_weak(heap);
}

}  // namespace snapheap::detail
