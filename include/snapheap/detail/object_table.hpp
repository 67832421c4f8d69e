// The object table: every managed object's slot, generation, root count and mark bit, and the
// page allocator its cells come from. Not API: Heap, the handles and the snapshot module use it.
//
// Invariants kept here (each has a test in tests/core/object_table_test.cpp):
//  - A live object's header says its own slot: objects_[o->slot_] == o.
//  - A slot's generation changes exactly when its object is found dead, before the destructor
//    runs; a Weak holding {slot, generation} is expired iff the generations differ. Slot 0 is never
//    published and is what a tombstone points at.
//  - root_counts_[s] is the number of Strong handles and named roots that hold slot s's object.
//  - Every cell lives in a 64 KiB-aligned page (or a 64 KiB-aligned large-object block) whose
//    header names the table, so a handle finds its heap from the object's address alone.
//  - Nothing here allocates or frees while state() is kSweeping or kTearingDown.
#pragma once

#include <boost/container/vector.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>

#include "snapheap/config.hpp"
#include "snapheap/detail/sanitizer.hpp"
#include "snapheap/detail/size_classes.hpp"
#include "snapheap/object.hpp"

namespace snapheap::detail {

class ObjectTable;

/// 64 KiB: the header (64 bytes) costs 0.1% of a page, a page of 48-byte cells holds 1364 objects,
/// and a nearly empty page wastes little. Pages are carved from 4 MiB chunks (see allocator.cpp).
inline constexpr std::size_t kPageSize = 64 * 1024;
inline constexpr std::size_t kPageHeaderSize = 64;
/// Objects up to this size share pages by size class; larger ones get a block of their own.
inline constexpr std::size_t kMaxSmallSize = kMaxSmallSizeForClasses;
inline constexpr std::uint32_t kTombstoneSlot = 0;

struct FreeCell {
  FreeCell* next;
};

struct alignas(kPageHeaderSize) PageHeader {
  ObjectTable* table;
  PageHeader* prev_available;  // links in the size class's list of pages with free cells
  PageHeader* next_available;
  FreeCell* free_list;         // cells freed in this page
  char* bump;                  // next never-used cell
  union {
    char* end;                 // small pages: end of the last whole cell
    std::size_t large_bytes;   // large-object blocks: size of the mapping
  };
  std::uint32_t cell_size;     // 0 for a large-object block
  std::uint32_t reciprocal;    // ceil(2^32 / cell_size): cell index by multiplication
  std::uint32_t used;          // live cells
  std::uint16_t size_class;
  bool in_available_list;
  bool emptied;                // set by release_dead() when the page's last cell died
};
static_assert(sizeof(PageHeader) == kPageHeaderSize);

inline PageHeader* page_of(const void* p) noexcept {
  return reinterpret_cast<PageHeader*>(reinterpret_cast<std::uintptr_t>(p) & ~(kPageSize - 1));
}

/// The one place that reads and writes an Object's header.
class ObjectAccess {
 public:
  static std::uint32_t slot(const Object* o) noexcept { return o->slot_; }
  static std::uint32_t type(const Object* o) noexcept { return o->type_; }
  static void set_header(Object* o, std::uint32_t slot, std::uint32_t type) noexcept {
    o->slot_ = slot;
    o->type_ = type;
  }
};

enum class TableState : std::uint8_t { kIdle, kMarking, kSweeping, kTearingDown };

/// A cell reserved for an object about to be constructed: its memory and its slot.
struct Reservation {
  void* memory;
  std::size_t cell_bytes;
  std::uint32_t slot;
};

class ObjectTable {
 public:
  ObjectTable();
  ~ObjectTable();
  ObjectTable(const ObjectTable&) = delete;
  ObjectTable& operator=(const ObjectTable&) = delete;

  /// The table that owns `o`, found from the page the object lives in.
  static ObjectTable& of(const Object* o) noexcept { return *page_of(o)->table; }

  // ---- handles: the hot paths, inline ----------------------------------------------------

  void add_root(std::uint32_t slot) noexcept {
    if (state_ != TableState::kIdle) [[unlikely]]
      check_root_while_collecting(slot);
    ++root_counts_[slot];
  }
  void remove_root(std::uint32_t slot) noexcept { --root_counts_[slot]; }
  const std::uint32_t& generation(std::uint32_t slot) const noexcept { return generations_[slot]; }
  Object* object_at(std::uint32_t slot) const noexcept { return objects_[slot]; }
  bool is_marked(std::uint32_t slot) const noexcept {
    return (mark_bits_[slot >> 6] >> (slot & 63)) & 1u;
  }
  TableState state() const noexcept { return state_; }
  void set_state(TableState s) noexcept { state_ = s; }

  /// Collections are held off while an object is being constructed or a snapshot is being
  /// loaded or saved (invariant 7): the objects involved are not reachable from roots yet.
  bool can_collect() const noexcept { return no_collect_depth_ == 0 && state_ == TableState::kIdle; }
  void enter_no_collect() noexcept { ++no_collect_depth_; }
  void exit_no_collect() noexcept { --no_collect_depth_; }

  // ---- allocation ------------------------------------------------------------------------

  /// Reserves a slot and a cell of at least `bytes`; throws std::bad_alloc if memory runs out.
  /// Inline for the common case: a free slot and a cell in the size class's current page.
  /// Returns the cell; sets `slot` and `cell_bytes`. (Scalars, not a Reservation: a struct
  /// passed around a constructor call is copied through the stack, and the copies stall store
  /// forwarding on make's hot path.)
  void* reserve(std::size_t bytes, std::uint32_t& slot, std::size_t& cell_bytes) {
    if (bytes <= kMaxSmallSize && !free_slots_.empty()) [[likely]] {
      PageHeader* page = classes_[kClassBySize[(bytes + 7) / 8]].current;
      if (page) {
        if (void* cell = take_cell(page)) {
          slot = free_slots_.back();
          free_slots_.pop_back();
          cell_bytes = page->cell_size;
          return cell;
        }
      }
    }
    const Reservation r = reserve_slow(bytes);
    slot = r.slot;
    cell_bytes = r.cell_bytes;
    return r.memory;
  }
  /// The bytes reserve(bytes) takes, which live_bytes() counts: the size class's cell, or a
  /// large object's block (its header and the object in whole 4 KiB pages).
  static constexpr std::size_t cell_bytes_for(std::size_t bytes) noexcept {
    return bytes <= kMaxSmallSize ? kClassSizes[kClassBySize[(bytes + 7) / 8]]
                                  : (kPageHeaderSize + bytes + 4095) & ~std::size_t{4095};
  }
  /// Gives back a reservation whose object was never constructed (its constructor threw).
  void cancel(void* memory, std::uint32_t slot) noexcept;
  /// Publishes a constructed object: header, slot entry, `roots` initial root count.
  void publish(Object* o, std::uint32_t slot, std::size_t cell_bytes, std::uint32_t type,
               std::uint32_t roots) noexcept {
    ObjectAccess::set_header(o, slot, type);
    objects_[slot] = o;
    root_counts_[slot] = roots;
    live_bits_[slot >> 6] |= std::uint64_t{1} << (slot & 63);
    ++live_objects_;
    live_bytes_ += cell_bytes;
  }
  /// Frees a published object's cell and slot (destructor already run, generation already bumped).
  void release(std::uint32_t slot) noexcept;
  /// release() for every slot set in `dead`, the 64 slots of live-bit word `word`, with the
  /// bookkeeping done once for the word.
  void release_word(std::size_t word, std::uint64_t dead) noexcept;
  /// The sweep's release: frees every live object whose bit in `marks` is clear (bumping its
  /// generation first when `expire`). A page whose cells all die is reset whole, without
  /// threading its cells onto a free list: it is reused from its start, in address order.
  void release_dead(const std::uint64_t* marks, bool expire) noexcept;
  /// Set when an object whose type has a destructor is published: a heap that never held one
  /// skips the sweep's destructor pass.
  void note_destructor() noexcept { has_destructors_ = true; }
  bool has_destructors() const noexcept { return has_destructors_; }
  /// Ends a slot's current object: later weak lookups with the old generation fail.
  void expire(std::uint32_t slot) noexcept;

  // ---- what the collector and the snapshot module walk -------------------------------------

  std::uint32_t slot_limit() const noexcept { return static_cast<std::uint32_t>(objects_.size()); }
  std::uint64_t* mark_bits() noexcept { return mark_bits_.data(); }
  const std::uint64_t* live_bits() const noexcept { return live_bits_.data(); }
  const std::uint32_t* root_counts() const noexcept { return root_counts_.data(); }
  std::size_t bit_words() const noexcept { return live_bits_.size(); }
  void clear_marks() noexcept;

  std::size_t live_objects() const noexcept { return live_objects_; }
  std::size_t live_bytes() const noexcept { return live_bytes_; }
  std::size_t committed_bytes() const noexcept { return committed_bytes_; }
  std::size_t cell_bytes_of(const Object* o) const noexcept;

  /// Gives back to the operating system the empty pages that have been idle for `idle_ns`
  /// (oldest first), keeping at least `keep_bytes` of them warm. `now_ns` is the clock that
  /// stamped the pages as they emptied (set_clock).
  void trim(std::size_t keep_bytes, std::uint64_t now_ns, std::uint64_t idle_ns) noexcept;
  /// The time stamp given to pages that empty from now on (the collector sets it per collection).
  void set_clock(std::uint64_t now_ns) noexcept { clock_ns_ = now_ns; }

  /// Checks page and slot bookkeeping; returns the first problem found, or an empty string.
  std::string check_consistency() const;

  std::thread::id owner() const noexcept { return owner_; }
  void set_owner(std::thread::id id) noexcept { owner_ = id; }

 private:
  void check_root_while_collecting(std::uint32_t slot) const noexcept;
  Reservation reserve_slow(std::size_t bytes);
  static void* take_cell(PageHeader* page) noexcept {
    void* cell;
    if (FreeCell* f = page->free_list) {
      SNAPHEAP_UNPOISON(f, sizeof(FreeCell*));
      page->free_list = f->next;
      cell = f;
    } else if (page->bump != page->end) {
      cell = page->bump;
      page->bump += page->cell_size;
    } else {
      return nullptr;
    }
    ++page->used;
    SNAPHEAP_UNPOISON(cell, page->cell_size);
    return cell;
  }
  void grow_slots();
  std::uint32_t new_slot();
  void* allocate_small(std::size_t size_class);
  void* allocate_large(std::size_t bytes);
  void free_small(PageHeader* page, void* cell) noexcept;
  void page_gained_free_cell(PageHeader* page) noexcept;
  void empty_page(PageHeader* page) noexcept;
  /// Frees an object's cell; returns the bytes it held.
  std::size_t free_object_cell(Object* o) noexcept;
  PageHeader* new_page(std::size_t size_class);
  void retire_page(PageHeader* page) noexcept;
  void* take_page_memory();

  boost::container::vector<Object*> objects_;
  boost::container::vector<std::uint32_t> generations_;
  boost::container::vector<std::uint32_t> root_counts_;
  boost::container::vector<std::uint64_t> live_bits_;
  boost::container::vector<std::uint64_t> mark_bits_;
  boost::container::vector<std::uint32_t> free_slots_;

  struct ClassState {
    PageHeader* current = nullptr;    // the page allocations come from
    PageHeader* available = nullptr;  // other pages with free cells
  };
  ClassState* classes_;                                   // one per size class
  boost::container::vector<void*> chunks_;                // 4 MiB mappings pages are carved from
  struct PooledPage {
    void* page;
    std::uint64_t since_ns;  // when it became empty
  };
  boost::container::vector<PooledPage> empty_pages_;      // warm pages, oldest first
  boost::container::vector<void*> trimmed_pages_;         // pages given back to the OS
  std::uint64_t clock_ns_ = 0;
  char* chunk_cursor_ = nullptr;
  char* chunk_end_ = nullptr;

  std::size_t live_objects_ = 0;
  std::size_t live_bytes_ = 0;
  std::size_t committed_bytes_ = 0;
  std::uint32_t no_collect_depth_ = 0;
  bool has_destructors_ = false;
  TableState state_ = TableState::kIdle;
  std::thread::id owner_;
};

/// Holds off collections for its lifetime; makes a debug-build note that construction is under
/// way on this thread, so that Object() can tell heap construction from a stray `T t;`.
#if SNAPHEAP_DCHECK_IS_ON
void add_construction_depth(int delta) noexcept;
#endif

class ConstructionScope {
 public:
  explicit ConstructionScope(ObjectTable& table) noexcept : table_(table) {
    table_.enter_no_collect();
#if SNAPHEAP_DCHECK_IS_ON
    add_construction_depth(1);
#endif
  }
  ~ConstructionScope() {
    table_.exit_no_collect();
#if SNAPHEAP_DCHECK_IS_ON
    add_construction_depth(-1);
#endif
  }
  ConstructionScope(const ConstructionScope&) = delete;
  ConstructionScope& operator=(const ConstructionScope&) = delete;

 private:
  ObjectTable& table_;
};

}  // namespace snapheap::detail
