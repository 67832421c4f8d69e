// The slot table: per slot, the object pointer, the generation, the root count, a live bit and
// a mark bit, and a stack of free slots. It owns the arrays that HeapCore's SlotArrays point at.
//
// Kept here (tests/core/object_table_test.cpp):
//  - Slot 0 is the tombstone slot: never handed out, generation 1, so the {0, 0} a restored
//    tombstone holds never matches.
//  - A slot whose generation is about to wrap is retired, never reused: a stale weak handle could
//    otherwise match a new object after 2^32 reuses.
//  - The free stack has room for every slot, so freeing during a sweep never allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/mapped_array.hpp"
#include "snapheap/detail/heap_core.hpp"

namespace snapheap::detail {

class SlotTable {
 public:
  /// Publishes the arrays through `view`, which must outlive the table.
  explicit SlotTable(SlotArrays& view);
  SlotTable(const SlotTable&) = delete;
  SlotTable& operator=(const SlotTable&) = delete;

  /// A free slot, growing the table if there is none; throws std::bad_alloc past 2^32 - 1.
  std::uint32_t take();
  /// A slot taken but never published goes back on the stack.
  void give_back(std::uint32_t slot) noexcept { view_.free[view_.free_count++] = slot; }
  /// Ends a slot's current object: weak lookups with the old generation fail from now on.
  void expire(std::uint32_t slot) noexcept { ++view_.generations[slot]; }
  /// Forgets a dead object (its generation already bumped) and frees the slot unless retired.
  void free(std::uint32_t slot) noexcept {
    view_.objects[slot] = nullptr;
    if (view_.generations[slot] != kLastGeneration) give_back(slot);  // room reserved
  }
  void clear_marks() noexcept;
  /// Bytes mapped for the per-slot arrays (used or reserved).
  std::size_t mapped_bytes() const noexcept {
    return objects_.mapped_bytes() + generations_.mapped_bytes() + root_counts_.mapped_bytes() +
           live_bits_.mapped_bytes() + mark_bits_.mapped_bytes() + free_.mapped_bytes();
  }
  std::size_t bit_words() const noexcept { return live_bits_.size(); }
  /// Bytes of the per-slot arrays in use (what the slots handed out so far can have touched).
  std::size_t bytes() const noexcept {
    return objects_.size() * (sizeof(Object*) + 3 * sizeof(std::uint32_t)) + 2 * live_bits_.size() * sizeof(std::uint64_t);
  }

  /// The first problem with the free stack or the tombstone slot, or an empty string.
  std::string check() const;

 private:
  static constexpr std::uint32_t kLastGeneration = 0xFFFFFFFFu;
  void grow();
  void publish() noexcept;

  SlotArrays& view_;
  // Mapped arrays: growing the table copies nothing and touches no page before it is used.
  // Each has a role of its own, so that a destroyed table's arrays are reused as the same arrays
  // by the next table (core/memory_cache.hpp).
  MappedArray<Object*> objects_{1};
  MappedArray<std::uint32_t> generations_{2};
  MappedArray<std::uint32_t> root_counts_{3};
  MappedArray<std::uint64_t> live_bits_{4};
  MappedArray<std::uint64_t> mark_bits_{5};
  MappedArray<std::uint32_t> free_{6};  // sized to the slot count: the stack's storage
};

}  // namespace snapheap::detail
