#include "core/object_table.hpp"

#include "core/memory_cache.hpp"
#include "core/messages.hpp"

#include <bit>
#include <string>

#include "snapheap/detail/type_info.hpp"

namespace snapheap::detail {

ObjectTable::ObjectTable() : slots_table_(slots_), pages_(this, classes_) {}

ObjectTable::~ObjectTable() {
  set_marking(false);
  set_generational(false);
  slots_.anchor->sweep_pending = false;
  // Large objects have blocks of their own; the chunks of small ones go with pages_.
  for (std::uint32_t s = 1; s < slot_limit(); ++s)
    if (Object* o = slots_.objects[s]; o && page_of(o)->cell_size == 0) pages_.free(o);
  // The chunks and the table's arrays go to the process-wide cache as the members are destroyed;
  // its default limit follows the largest heap destroyed.
  memory_cache::note_heap(pages_.chunk_bytes() + slots_table_.mapped_bytes());
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

// ---- the barriers -------------------------------------------------------------------------------

std::atomic<std::uint32_t> g_barrier_heaps{0};
std::atomic<std::uint32_t> g_marking_heaps{0};

// A new root while the collector runs (a destructor's, or trace()'s), while marking (shade it:
// it is reachable now), or while dead objects wait for the sweep (only a live one may be rooted).
void HeapCore::add_root_slow(std::uint32_t slot) noexcept {
  if (phase_ == Phase::kTearingDown)
    fatal(__FILE__, __LINE__, "a Strong handle was made while the heap was being destroyed");
  const bool dying = (phase_ == Phase::kSweeping || slots_.anchor->sweep_pending) && !is_marked(slot);
  if (dying)
    fatal(__FILE__, __LINE__,
          "a Strong handle was made to an object that is being destroyed (a destructor "
          "tried to resurrect a dead object)");
  if (marking_) shade(slots_.objects[slot]);
}

// Dijkstra's insertion barrier while marking: a target stored into a Member is shaded, so that a
// black object never points to a white one. Generational mode: a young target is remembered, so
// that the next minor collection keeps what the old objects may point to.
void write_barrier_slow(const Object* target) noexcept {
  if (!target) return;
  // A freed object's page may have been emptied and given back (its header reads zero).
  HeapCore* owner = page_of(target)->heap;
  if (!owner) [[unlikely]]
    check_edge_target(nullptr, target, EdgeCheck::barrier);
  HeapCore& heap = *owner;
  if (heap.checks_edges()) [[unlikely]]
    check_edge_target(&heap, target, EdgeCheck::barrier);
  // An object under construction (a constructor storing a Member to its own object) has no slot
  // yet: make() publishes it gray while marking runs, and logs it young in generational mode.
  if (ObjectAccess::slot(target) == kNoSlot) [[unlikely]]
    return;
  if (heap.marking()) {
    heap.shade(target);
  } else if (heap.generational() && !heap.is_marked(ObjectAccess::slot(target))) {
    MarkStack& remembered = heap.remembered();
    if (remembered.empty() || remembered.back() != target) remembered.push_back(target);
  }
}

void HeapCore::note_young_slow(void* memory, std::uint32_t slot) {
  try {
    young_.push_back(slot);
  } catch (...) {
    cancel(memory, slot);
    throw;
  }
}

void ObjectTable::set_marking(bool marking) noexcept {
  if (marking == marking_) return;
  marking_ = marking;
  if (marking) {
    g_barrier_heaps.fetch_add(1, std::memory_order_relaxed);
    g_marking_heaps.fetch_add(1, std::memory_order_relaxed);
  } else {
    g_barrier_heaps.fetch_sub(1, std::memory_order_relaxed);
    g_marking_heaps.fetch_sub(1, std::memory_order_relaxed);
  }
  update_root_barrier();
}

void ObjectTable::set_generational(bool generational) noexcept {
  if (generational == generational_) return;
  set_pretenuring(false);
  generational_ = generational;
  logs_young_ = generational;
  if (generational) g_barrier_heaps.fetch_add(1, std::memory_order_relaxed);
  else g_barrier_heaps.fetch_sub(1, std::memory_order_relaxed);
  young_.clear();
  remembered_.clear();
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
