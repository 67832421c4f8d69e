#include "core/object_table.hpp"

#include "core/messages.hpp"

#include <bit>
#include <string>

#include "snapheap/detail/type_info.hpp"

namespace snapheap::detail {

ObjectTable::ObjectTable() : slots_table_(slots_), pages_(this, classes_) {}

ObjectTable::~ObjectTable() {
  // Large objects have blocks of their own; the chunks of small ones go with pages_.
  for (std::uint32_t s = 1; s < slot_limit(); ++s)
    if (Object* o = slots_.objects[s]; o && page_of(o)->cell_size == 0) pages_.free(o);
}

// ---- HeapCore's out-of-line parts ----------------------------------------------------------------

void* HeapCore::reserve_slow(std::size_t bytes, std::uint32_t& slot, std::size_t& cell_bytes) {
  ObjectTable& table = ObjectTable::of(*this);
  slot = table.slots_table_.take();
  try {
    if (bytes <= kMaxSmallSize) {
      const std::size_t cls = kClassBySize[(bytes + 7) / 8];
      cell_bytes = kClassSizes[cls];
      return table.pages_.allocate_small(cls);
    }
    void* memory = table.pages_.allocate_large(bytes);
    cell_bytes = page_of(memory)->large_bytes;
    return memory;
  } catch (...) {
    table.slots_table_.give_back(slot);
    throw;
  }
}

void HeapCore::cancel(void* memory, std::uint32_t slot) noexcept {
  ObjectTable& table = ObjectTable::of(*this);
  table.pages_.free(memory);
  table.slots_table_.give_back(slot);
}

void HeapCore::check_root_while_collecting(std::uint32_t slot) const noexcept {
  if (phase_ == Phase::kSweeping && is_marked(slot)) return;
  if (phase_ == Phase::kMarking) return;
  fatal(__FILE__, __LINE__,
        phase_ == Phase::kTearingDown
            ? "a Strong handle was made while the heap was being destroyed"
            : "a Strong handle was made to an object that is being destroyed (a destructor "
              "tried to resurrect a dead object)");
}

// ---- freeing -------------------------------------------------------------------------------------

void ObjectTable::free_object(std::uint32_t slot) noexcept {
  SNAPHEAP_DCHECK(slots_.root_counts[slot] == 0, "a dead object has a nonzero root count");
  live_bytes_ -= pages_.free(slots_.objects[slot]);
  --live_objects_;
  slots_.live_bits[slot >> 6] &= ~(std::uint64_t{1} << (slot & 63));
  slots_table_.free(slot);
}

void ObjectTable::free_unmarked(const std::uint64_t* marks, bool expire) noexcept {
  // Pass 1: count the deaths in each page; touch no dead cell.
  for_each_unmarked(marks, [&](std::uint32_t slot) {
    if (expire) slots_table_.expire(slot);
    pages_.count_death(slots_.objects[slot]);
  });
  // Pass 2: reset the pages that emptied, thread the other freed cells, free the slots.
  std::size_t bytes = 0;
  std::size_t count = 0;
  const std::size_t words = bit_words();
  for (std::size_t w = 0; w < words; ++w) {
    const std::uint64_t dead = slots_.live_bits[w] & ~marks[w];
    for (std::uint64_t rest = dead; rest; rest &= rest - 1, ++count) {
      const auto slot = static_cast<std::uint32_t>(w * 64 + static_cast<unsigned>(std::countr_zero(rest)));
      SNAPHEAP_DCHECK(slots_.root_counts[slot] == 0, "a dead object has a nonzero root count");
      bytes += pages_.free_counted(slots_.objects[slot]);
      slots_table_.free(slot);
    }
    slots_.live_bits[w] &= ~dead;
  }
  live_objects_ -= count;
  live_bytes_ -= bytes;
  pages_.end_sweep();
}

// ---- consistency ---------------------------------------------------------------------------------

std::string ObjectTable::check_consistency() const {
  std::size_t live = 0;
  std::size_t bytes = 0;
  for (std::uint32_t s = 1; s < slot_limit(); ++s) {
    const bool bit = (slots_.live_bits[s >> 6] >> (s & 63)) & 1u;
    const Object* o = slots_.objects[s];
    if (bit != (o != nullptr))
      return format_message("slot %u: live bit %d but object pointer %p", s, int{bit}, static_cast<const void*>(o));
    if (!o) continue;
    ++live;
    if (std::string p = pages_.check(o, this); !p.empty()) return format_message("slot %u: %s", s, p.c_str());
    if (ObjectAccess::slot(o) != s) return format_message("slot %u: object header says slot %u", s, ObjectAccess::slot(o));
    if (!type_at(ObjectAccess::type(o)))
      return format_message("slot %u: object header has unknown type index %u", s, ObjectAccess::type(o));
    bytes += cell_bytes_of(o);
  }
  if (live != live_objects_ || bytes != live_bytes_)
    return format_message("object table holds %zu objects in %zu bytes but counts %zu objects in %zu bytes", live,
                          bytes, live_objects_, live_bytes_);
  return slots_table_.check();
}

}  // namespace snapheap::detail
