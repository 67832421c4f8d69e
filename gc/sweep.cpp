// Sweeping and teardown, through core/lifecycle.hpp's funnel (invariant 2's order). Dead objects
// are found word by word (live & ~marked over the bitmaps), so a heap whose objects all survive
// costs one pass over a bit per object.
#include <cstdint>
#include <string>

#include "core/lifecycle.hpp"
#include "core/messages.hpp"
#include "gc/collector.hpp"

namespace snapheap::detail {

SweepResult sweep(HeapImpl& heap, bool keep_marks) noexcept {
  ObjectTable& table = heap.table;
  const std::size_t objects_before = table.live_objects();
  const std::size_t bytes_before = table.live_bytes();
  table.release_quarantine();
  table.set_phase(Phase::kSweeping);
  end_unmarked(table, table.mark_bits());
  table.set_phase(Phase::kIdle);
  if (!keep_marks) table.clear_marks();
  return {objects_before - table.live_objects(), bytes_before - table.live_bytes()};
}

namespace {

// A Strong that outlives its heap would write to freed memory when it goes: stop with a message
// that says how many objects are still held, and of which types.
void check_no_strong_outlives(const ObjectTable& table) noexcept {
  std::size_t outstanding = 0;
  std::string types;
  for (std::uint32_t s = 1; s < table.slot_limit(); ++s) {
    const Object* o = table.object_at(s);
    if (!o || table.root_counts()[s] == 0) continue;
    if (++outstanding <= 3) {
      const TypeInfo* type = type_at(ObjectAccess::type_at(o));  // its destructor has run
      types += (outstanding > 1 ? ", " : "") + (type ? type->display_name() : std::string("?"));
    }
  }
  if (outstanding == 0) return;
  const std::string message = format_message(
      "a Heap was destroyed while %zu of its objects were still held by Strong handles (%s%s); "
      "destroy or reset every Strong before its Heap",
      outstanding, types.c_str(), outstanding > 3 ? ", ..." : "");
  fatal(__FILE__, __LINE__, message.c_str());
}

}  // namespace

void Collector::tear_down(HeapImpl& heap) noexcept {
  ObjectTable& table = heap.table;
  table.set_inline_budget(0);  // make() from a destructor must reach the slow path and its check
  // An incremental cycle in progress or generational marks: every object dies now regardless.
  table.set_marking(false);
  table.set_sweep_pending(false);
  table.set_black_allocation(false);
  table.set_generational(false);
  heap.cycle = {};
  heap.deferred_edges.clear();
  heap.sliced.clear();
  drop_watches(heap);  // pending death callbacks are dropped, not run
  table.ephemerons().clear();
  heap.roots.clear();
  table.clear_marks();
  const std::uint64_t* none = table.mark_bits();  // all clear: every object is ended
  expire_unmarked(table, none);
  table.set_phase(Phase::kTearingDown);
  // Destructors first, memory after: a Strong field inside an object (misuse, but possible)
  // releases its root while the table is still whole.
  destroy_unmarked(table, none);
  check_no_strong_outlives(table);
  table.free_unmarked(none, /*expire=*/false);
  table.set_phase(Phase::kIdle);
}

}  // namespace snapheap::detail
