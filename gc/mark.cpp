// Marking: roots, then a work list of gray objects drained until empty (no recursion: a
// million-long chain needs one work list entry at a time), then the weak census.
#include <cstdint>

#include "gc/collector.hpp"

namespace snapheap::detail {

namespace {
void mark(std::uint64_t* bits, WorkList& work, const Object* o, std::uint32_t slot) noexcept {
  std::uint64_t& word = bits[slot >> 6];
  const std::uint64_t bit = std::uint64_t{1} << (slot & 63);
  if (word & bit) return;
  word |= bit;
  work.push_back(o);
}
}  // namespace

// Roots are the slots with a nonzero root count (Strong handles and named roots). The scan reads
// the dense root-count array 64 slots at a time and skips blocks with no root (a vectorized OR),
// so it costs about a millisecond per ten million objects.
void Collector::mark_roots(Heap& heap) noexcept {
  ObjectTable& table = heap.table_;
  const std::uint32_t* counts = table.root_counts();
  const std::uint64_t* live = table.live_bits();
  std::uint64_t* bits = table.mark_bits();
  const std::uint32_t limit = table.slot_limit();
  for (std::uint32_t base = 0; base < limit; base += 64) {
    const std::uint32_t end = base + 64 < limit ? base + 64 : limit;
    std::uint32_t any = 0;
    for (std::uint32_t s = base; s < end; ++s) any |= counts[s];
    if (!any) continue;
    const std::uint64_t live_word = live[base >> 6];
    for (std::uint32_t s = base; s < end; ++s) {
      if (counts[s] != 0 && ((live_word >> (s & 63)) & 1u)) mark(bits, heap.work_, table.object_at(s), s);
    }
  }
}

void Collector::trace_references(Heap& heap) noexcept {
  Tracer tracer = TracerAccess::make();
  TracerAccess::setup_mark(tracer, heap.table_, heap.table_.mark_bits(), heap.work_, &heap.weak_);
  WorkList& work = heap.work_;
  while (!work.empty()) {
    const Object* o = work.back();
    work.pop_back();
    o->trace(tracer);
  }
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
