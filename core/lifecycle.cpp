#include "core/lifecycle.hpp"

#include <bit>

#include "snapheap/detail/type_info.hpp"

namespace snapheap::detail {

void run_destructor(Object* o) noexcept {
  if (const TypeInfo* type = type_at(ObjectAccess::type(o)); type->destroy) type->destroy(o);
}

void expire_unmarked(ObjectTable& table, const std::uint64_t* marks) noexcept {
  table.for_each_unmarked(marks, [&](std::uint32_t slot) { table.expire(slot); });
}

void destroy_unmarked(ObjectTable& table, const std::uint64_t* marks) noexcept {
  if (!table.has_destructors()) return;
  table.for_each_unmarked(marks, [&](std::uint32_t slot) { run_destructor(table.object_at(slot)); });
}

void end_unmarked(ObjectTable& table, const std::uint64_t* marks) noexcept {
  if (!table.has_destructors()) return table.free_unmarked(marks, /*expire=*/true);
  expire_unmarked(table, marks);
  destroy_unmarked(table, marks);
  table.free_unmarked(marks, /*expire=*/false);
}

std::size_t end_unmarked_word(ObjectTable& table, const std::uint64_t* marks, std::size_t word,
                              unsigned max_objects) noexcept {
  std::uint64_t dead = table.live_bits()[word] & ~marks[word];
  if (dead == 0) return 0;
  // The lowest max_objects bits: clear the rest above the max_objects-th set bit.
  if (max_objects < 64 && static_cast<unsigned>(std::popcount(dead)) > max_objects) {
    std::uint64_t kept = 0;
    for (unsigned i = 0; i < max_objects; ++i) {
      const std::uint64_t lowest = dead & (~dead + 1);
      kept |= lowest;
      dead ^= lowest;
    }
    dead = kept;
  }
  const auto slot_of = [word](std::uint64_t rest) {
    return static_cast<std::uint32_t>(word * 64 + static_cast<unsigned>(std::countr_zero(rest)));
  };
  for (std::uint64_t rest = dead; rest; rest &= rest - 1) table.expire(slot_of(rest));
  if (table.has_destructors())
    for (std::uint64_t rest = dead; rest; rest &= rest - 1) run_destructor(table.object_at(slot_of(rest)));
  const std::size_t before = table.live_bytes();
  for (std::uint64_t rest = dead; rest; rest &= rest - 1) table.free_object(slot_of(rest));
  return before - table.live_bytes();
}

void end_slots(ObjectTable& table, const std::vector<std::uint32_t>& slots) noexcept {
  for (std::uint32_t slot : slots) table.expire(slot);
  for (auto it = slots.rbegin(); it != slots.rend(); ++it) run_destructor(table.object_at(*it));
  for (std::uint32_t slot : slots) {
    table.free_object(slot);
    // A failed load's objects may have been made marked (pretenured, or during an incremental
    // cycle): the slot's next object must not inherit the mark, which would make a young object
    // look old.
    table.unmark(slot);
  }
}

}  // namespace snapheap::detail
