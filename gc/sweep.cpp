// Sweeping and teardown. Dead objects are found word by word (live & ~marked over the bitmaps),
// so a heap whose objects all survive costs one pass over a bit per object.
#include <bit>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "core/thread_stats.hpp"
#include "gc/collector.hpp"

namespace snapheap::detail {

namespace {
// Calls fn(slot) for every live slot whose mark bit is clear.
template <class Fn>
void for_each_white(const ObjectTable& table, const std::uint64_t* marks, Fn&& fn) {
  const std::uint64_t* live = table.live_bits();
  const std::size_t words = table.bit_words();
  for (std::size_t w = 0; w < words; ++w) {
    std::uint64_t dead = live[w] & ~marks[w];
    while (dead) {
      const auto slot = static_cast<std::uint32_t>(w * 64 + std::countr_zero(dead));
      dead &= dead - 1;
      fn(slot);
    }
  }
}
}  // namespace

void Collector::run_destructor(ObjectTable& table, std::uint32_t slot) noexcept {
  Object* o = table.object_at(slot);
  const TypeInfo* type = type_at(ObjectAccess::type(o));
  if (type->destroy) type->destroy(o);
}

SweepResult Collector::sweep(Heap& heap) noexcept {
  ObjectTable& table = heap.table_;
  const std::uint64_t* marks = table.mark_bits();
  const std::size_t objects_before = table.live_objects();
  const std::size_t bytes_before = table.live_bytes();
  table.set_state(TableState::kSweeping);
  if (table.has_destructors()) {
    // Invariant 2: every weak handle to a dead object expires before the first destructor runs,
    // so a destructor that locks a weak handle to another dying object gets an empty handle.
    for_each_white(table, marks, [&](std::uint32_t slot) { table.expire(slot); });
    // Every destructor runs before any cell is freed: the debug check that catches a destructor
    // dereferencing a Member to another dead object reads that object's header, which must
    // still be there (a freed large object is unmapped; a freed cell is poisoned under ASan).
    for_each_white(table, marks, [&](std::uint32_t slot) { run_destructor(table, slot); });
    table.release_dead(marks, /*expire=*/false);
  } else {
    // No destructor can run, so nothing can observe a weak handle between the passes: expire
    // and free in one pass over the dead objects.
    table.release_dead(marks, /*expire=*/true);
  }
  table.set_state(TableState::kIdle);
  table.clear_marks();
  return {objects_before - table.live_objects(), bytes_before - table.live_bytes()};
}

void Collector::tear_down(Heap& heap) noexcept {
  ObjectTable& table = heap.table_;
  heap.fast_budget_ = 0;  // make() from a destructor must reach the slow path and its check
  heap.roots_.clear();
  table.clear_marks();
  const std::uint64_t* marks = table.mark_bits();
  for_each_white(table, marks, [&](std::uint32_t slot) { table.expire(slot); });
  table.set_state(TableState::kTearingDown);
  // Destructors first, memory after: a Strong field inside an object (misuse, but possible)
  // releases its root while the table is still whole.
  if (table.has_destructors())
    for_each_white(table, marks, [&](std::uint32_t slot) { run_destructor(table, slot); });
  std::size_t outstanding = 0;
  for (std::uint32_t s = 1; s < table.slot_limit(); ++s)
    if (table.object_at(s) && table.root_counts()[s] != 0) ++outstanding;
  if (outstanding != 0) {
    std::fprintf(stderr,
                 "snapheap: fatal: a Heap was destroyed while %zu of its objects were still held "
                 "by Strong handles; destroy or reset every Strong before its Heap\n",
                 outstanding);
    std::fflush(stderr);
    std::abort();
  }
  table.release_dead(marks, /*expire=*/false);
  table.set_state(TableState::kIdle);
}

}  // namespace snapheap::detail
