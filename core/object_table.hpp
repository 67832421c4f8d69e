// The object table: a heap's HeapCore made whole. It composes the slot table (core/slot_table.hpp)
// and the page allocator (core/page_allocator.hpp) and does what needs both: reserving a slot
// and a cell, cancelling a reservation, freeing dead objects, checking the bookkeeping.
//
// Kept here: nothing allocates or frees while phase() is kSweeping or kTearingDown except the
// sweep's own frees; live_objects() and live_bytes() count exactly the published objects and
// their cells (check_consistency() recounts them).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/page_allocator.hpp"
#include "core/slot_table.hpp"
#include "snapheap/detail/heap_core.hpp"

namespace snapheap::detail {

class ObjectTable final : public HeapCore {
 public:
  ObjectTable();
  ~ObjectTable();  // ends marking and generational mode (the barrier count) first

  /// The table that owns `o`, found from the page the object lives in.
  static ObjectTable& of(const Object* o) noexcept { return static_cast<ObjectTable&>(HeapCore::of(o)); }
  static ObjectTable& of(HeapCore& core) noexcept { return static_cast<ObjectTable&>(core); }
  static const ObjectTable& of(const HeapCore& core) noexcept { return static_cast<const ObjectTable&>(core); }

  // ---- ending objects (core/lifecycle.cpp drives these in invariant 2's order) ---------------

  void expire(std::uint32_t slot) noexcept { slots_table_.expire(slot); }
  /// Frees one published object's cell and slot (destructor run, generation bumped).
  void free_object(std::uint32_t slot) noexcept;
  void unmark(std::uint32_t slot) noexcept { slots_.mark_bits[slot >> 6] &= ~(std::uint64_t{1} << (slot & 63)); }
  /// Frees every live object whose bit in `marks` is clear, bumping its generation first when
  /// `expire`. A page whose cells all die is reset whole, without threading its cells onto a free
  /// list: it is reused from its start, in address order.
  void free_unmarked(const std::uint64_t* marks, bool expire) noexcept;
  bool has_destructors() const noexcept { return has_destructors_; }

  // ---- what the collector and the snapshot module walk -------------------------------------

  std::uint32_t slot_limit() const noexcept { return slots_.limit; }
  const std::uint64_t* live_bits() const noexcept { return slots_.live_bits; }
  const std::uint32_t* root_counts() const noexcept { return slots_.root_counts; }
  std::size_t bit_words() const noexcept { return slots_table_.bit_words(); }
  void clear_marks() noexcept { slots_table_.clear_marks(); }
  /// Calls fn(slot) for every live slot whose bit in `marks` is clear.
  template <class Fn>
  void for_each_unmarked(const std::uint64_t* marks, Fn&& fn) const;

  std::size_t live_objects() const noexcept { return live_objects_; }
  std::size_t live_bytes() const noexcept { return live_bytes_; }
  std::size_t committed_bytes() const noexcept { return pages_.committed_bytes(); }
  std::size_t table_bytes() const noexcept { return slots_table_.bytes(); }
  static constexpr std::size_t cell_bytes_for(std::size_t bytes) noexcept {
    return PageAllocator::cell_bytes_for(bytes);
  }
  static std::size_t cell_bytes_of(const Object* o) noexcept { return PageAllocator::cell_bytes_of(o); }

  // ---- the collector's controls ------------------------------------------------------------

  void set_inline_budget(std::size_t bytes) noexcept { inline_budget_ = bytes; }
  /// An incremental cycle's marking begins or ends: the barriers shade while it runs.
  void set_marking(bool marking) noexcept;
  /// Generational mode on or off: the barrier remembers young targets, make() logs young slots.
  void set_generational(bool generational) noexcept;
  /// The checked mode (debug builds, stress, verify): cells are zeroed as they are freed, so that
  /// stale bytes in a reused cell's padding cannot look like handles (the forgotten-trace check),
  /// every edge target is checked to be live before the collector reads through it, and freed
  /// memory waits in quarantine until the next sweep begins, so that a Member to a freed object
  /// is not taken for the new object its cell would have held.
  void set_checked(bool checked) noexcept {
    pages_.set_zero_freed(checked);
    pages_.set_quarantine(checked);
    checks_edges_ = checked;
  }
  /// A sweep begins (its marking has checked every edge), or the host asked for memory back:
  /// what the quarantine holds becomes reusable.
  void release_quarantine() noexcept { pages_.release_quarantine(); }
  std::size_t quarantined_cells() const noexcept { return pages_.quarantined_cells(); }
  /// Owned memory: counted toward the trigger like allocation, and toward the limit.
  void add_external(std::size_t bytes) noexcept {
    external_bytes_ += bytes;
    allocated_since_collection_ += bytes;
  }
  void remove_external(std::size_t bytes) noexcept { external_bytes_ -= bytes < external_bytes_ ? bytes : external_bytes_; }
  /// The module that owns the table (gc's HeapImpl), for calls that arrive with only a tag.
  void* owner_context() const noexcept { return owner_context_; }
  void set_owner_context(void* context) noexcept { owner_context_ = context; }
  void reset_allocation_count() noexcept { allocated_since_collection_ = 0; }
  void trim(std::size_t keep_bytes, std::uint64_t now_ns, std::uint64_t idle_ns) noexcept {
    pages_.trim(keep_bytes, now_ns, idle_ns);
  }
  void set_clock(std::uint64_t now_ns) noexcept { pages_.set_clock(now_ns); }

  /// Whether `address` is a live object of this table (its Object*), found without reading
  /// anything outside this table's own memory.
  bool is_live_object(std::uintptr_t address) const noexcept {
    const void* p = reinterpret_cast<const void*>(address);
    if ((address & 7) != 0 || !pages_.holds(p, sizeof(Object)) || SNAPHEAP_IS_POISONED(p, sizeof(Object))) return false;
    const std::uint32_t slot = ObjectAccess::slot_at(p);
    return slot < slots_.limit && slots_.objects[slot] == p;
  }
  /// Whether `address` is an object this table is constructing now (make() publishes it once its
  /// constructor returns: a constructor may store a Member to its own object).
  bool is_unpublished_object(std::uintptr_t address) const noexcept {
    const void* p = reinterpret_cast<const void*>(address);
    if ((address & 7) != 0 || !pages_.holds(p, sizeof(Object)) || SNAPHEAP_IS_POISONED(p, sizeof(Object))) return false;
    return g_thread.constructing == tag() && ObjectAccess::slot_at(p) == kNoSlot;
  }
  /// The start of the cell an object lives in (its most derived object's address).
  static const void* cell_of(const Object* o) noexcept { return PageAllocator::cell_of(o); }

  /// Checks page and slot bookkeeping; returns the first problem found, or an empty string.
  std::string check_consistency() const;

 private:
  friend class HeapCore;

  SlotTable slots_table_;
  PageAllocator pages_;
  void* owner_context_ = nullptr;
};

template <class Fn>
void ObjectTable::for_each_unmarked(const std::uint64_t* marks, Fn&& fn) const {
  const std::size_t words = bit_words();
  for (std::size_t w = 0; w < words; ++w) {
    for (std::uint64_t dead = slots_.live_bits[w] & ~marks[w]; dead; dead &= dead - 1)
      fn(static_cast<std::uint32_t>(w * 64 + static_cast<unsigned>(std::countr_zero(dead))));
  }
}

}  // namespace snapheap::detail
