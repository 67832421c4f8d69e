#include "core/lifecycle.hpp"

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

void end_slots(ObjectTable& table, const std::vector<std::uint32_t>& slots) noexcept {
  for (std::uint32_t slot : slots) table.expire(slot);
  for (auto it = slots.rbegin(); it != slots.rend(); ++it) run_destructor(table.object_at(*it));
  for (std::uint32_t slot : slots) table.free_object(slot);
}

}  // namespace snapheap::detail
