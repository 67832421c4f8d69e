// The part of a heap that inline code touches: the slot arrays a Strong, Member and Weak read,
// the mark bits and work list the Tracer's marking path writes, and make()'s allocation fast
// path. Not API. Everything else about a heap (the page allocator's slow paths, the slot table's
// growth, the collector, the roots, snapshots) lives with its module's sources: core/, gc/ and
// serialize/. core/object_table.hpp derives the full table from HeapCore.
//
// Invariant kept here (numbered as in the README; tests/gc/construction_test.cpp):
//  I7. No collection starts while an object is being constructed, or while a snapshot is being
//      saved or loaded: can_collect() is false while the no-collect depth is nonzero, and a
//      collect() asked for meanwhile runs when the depth returns to zero.
// And what the other invariants rest on (tests in tests/core/):
//  -   A slot's generation changes exactly when its object is found dead (I2's order is
//      core/lifecycle.hpp's); a Weak holding {slot, generation} is expired iff the generations
//      differ. Slot 0 is never published and is what a tombstone points at.
//  -   A live object's header names its own slot: slots_.objects[o->slot_] == o.
//  -   slots_.root_counts[s] is the number of Strong handles and named roots holding slot s's object.
//  -   Every cell lives in a 64 KiB-aligned page (or large-object block) whose header names its
//      HeapCore, so a handle finds its heap from the object's address alone.
#pragma once

#include <atomic>
#include <boost/container/vector.hpp>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "snapheap/config.hpp"
#include "snapheap/detail/sanitizer.hpp"
#include "snapheap/detail/size_classes.hpp"
#include "snapheap/detail/thread_state.hpp"
#include "snapheap/object.hpp"

namespace snapheap::detail {

class HeapCore;

/// 64 KiB: the header (64 bytes) costs 0.1% of a page, a page of 48-byte cells holds 1364
/// objects, and a nearly empty page wastes little. Pages are carved from 4 MiB chunks
/// (core/page_allocator.cpp).
inline constexpr std::size_t kPageSize = 64 * 1024;
inline constexpr std::size_t kPageHeaderSize = 64;
inline constexpr std::uint32_t kTombstoneSlot = 0;

struct FreeCell {
  FreeCell* next;
};

struct alignas(kPageHeaderSize) PageHeader {
  HeapCore* heap;
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
  std::uint32_t used;          // live cells, and quarantined ones (the checked mode)
  std::uint16_t size_class;
  bool in_available_list;
  bool emptied;                // set by the sweep when the page's last cell died
};
static_assert(sizeof(PageHeader) == kPageHeaderSize);

inline PageHeader* page_of(const void* p) noexcept {
  return reinterpret_cast<PageHeader*>(reinterpret_cast<std::uintptr_t>(p) & ~(kPageSize - 1));
}

/// A cell from a page: its free list first, then its never-used tail; null if the page is full.
inline void* take_cell(PageHeader* page) noexcept {
  void* cell;
  if (FreeCell* f = page->free_list) {
    SNAPHEAP_UNPOISON(f, sizeof(FreeCell));
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

/// The one place that reads and writes an Object's header.
class ObjectAccess {
 public:
  static std::uint32_t slot(const Object* o) noexcept { return o->slot_; }
  static std::uint32_t type(const Object* o) noexcept { return o->type_; }
  static void set_header(Object* o, std::uint32_t slot, std::uint32_t type) noexcept {
    SNAPHEAP_DCHECK(reinterpret_cast<const char*>(&o->slot_) - reinterpret_cast<const char*>(o) ==
                            static_cast<std::ptrdiff_t>(kSlotOffset) &&
                        reinterpret_cast<const char*>(&o->type_) - reinterpret_cast<const char*>(&o->slot_) ==
                            static_cast<std::ptrdiff_t>(sizeof(std::uint32_t)),
                    "snapheap::Object's header is not laid out as ObjectAccess::slot_at expects");
    o->slot_ = slot;
    o->type_ = type;
  }
  /// The slot word at an address that may or may not hold an Object (the forgotten-trace check
  /// asks of any word that looks like a pointer into a page): read as bytes, not through an
  /// Object*, which would be undefined if there is none there. The header follows the vtable
  /// pointer.
  static std::uint32_t slot_at(const void* address) noexcept {
    std::uint32_t slot;
    std::memcpy(&slot, static_cast<const char*>(address) + kSlotOffset, sizeof slot);
    return slot;
  }
  /// The type word of an object whose destructor has already run (its header bytes are intact
  /// until the cell is freed), read as bytes for the same reason.
  static std::uint32_t type_at(const void* address) noexcept {
    std::uint32_t type;
    std::memcpy(&type, static_cast<const char*>(address) + kSlotOffset + sizeof(std::uint32_t), sizeof type);
    return type;
  }

 private:
  static constexpr std::size_t kSlotOffset = sizeof(void*);
};

/// What the collector is doing: handles and make() check it on their slow paths.
enum class Phase : std::uint8_t { kIdle, kMarking, kSweeping, kTearingDown };

/// A size class's pages: the one allocations come from, and the others with free cells.
struct ClassState {
  PageHeader* current = nullptr;
  PageHeader* available = nullptr;
};

/// The collector's gray objects, and the weak edges it met whose targets were still white.
using MarkStack = boost::container::vector<const Object*>;
struct WeakVisit {
  std::uint32_t slot;
  std::uint32_t generation;
};
using WeakCensus = boost::container::vector<WeakVisit>;
/// An ephemeron marking met whose key was still white: its value is marked if the key is, and
/// what is left when marking ends had a dead key (gc/mark.cpp). `owner` is the weak map holding
/// the entry (told which of its entries died), or null for an Ephemeron field.
struct PendingEphemeron {
  std::uint32_t key_slot;
  std::uint32_t key_generation;
  const Object* value;
  const Object* owner;
};
using EphemeronList = boost::container::vector<PendingEphemeron>;

/// A heap's identity as weak handles and allocators hold it: a process-wide record that outlives
/// its heap. While the heap lives, the anchor's tag is the heap's tag and it points at the heap's
/// generations and objects; when the heap is destroyed the tag is cleared, so every handle that
/// names the heap reads empty, in every build. Anchors are reused by later heaps (the tag's
/// top 16 bits count the uses, so a stale handle never matches a new heap) and never freed.
struct alignas(64) HeapAnchor {
  std::uintptr_t tag = 0;                      // the heap's tag while it lives, else 0
  const std::uint32_t* generations = nullptr;  // the heap's arrays (kept current as they grow)
  Object* const* objects = nullptr;
  const std::uint64_t* mark_bits = nullptr;
  HeapCore* heap = nullptr;
  std::uint16_t uses = 0;                      // the epoch of the current or last tag
  /// A finished marking left dead objects whose pages are not swept yet (incremental mode): a
  /// weak handle to an unmarked object reads expired already.
  bool sweep_pending = false;
};
/// A HeapTag is the anchor's address | uses << 48: what a Weak and an Allocator store.
inline constexpr int kTagEpochShift = 48;
inline HeapAnchor* anchor_of(HeapTag tag) noexcept {
  return reinterpret_cast<HeapAnchor*>(tag & ((std::uintptr_t{1} << kTagEpochShift) - 1));
}
/// The live heap a tag names, or null if it is gone (or the tag is 0).
inline HeapCore* heap_of(HeapTag tag) noexcept {
  if (tag == 0) return nullptr;
  const HeapAnchor* anchor = anchor_of(tag);
  return anchor->tag == tag ? anchor->heap : nullptr;
}

/// The slot arrays, indexed by slot: core/slot_table.cpp owns their storage and keeps these
/// pointers current as the table grows; inline code reads through them.
struct SlotArrays {
  Object** objects = nullptr;
  std::uint32_t* generations = nullptr;
  std::uint32_t* root_counts = nullptr;
  std::uint64_t* live_bits = nullptr;  // a bit per slot
  std::uint64_t* mark_bits = nullptr;
  std::uint32_t* free = nullptr;       // a stack of free slots, lowest on top
  std::uint32_t free_count = 0;
  std::uint32_t limit = 0;             // slots in the table
  HeapAnchor* anchor = nullptr;        // told about the arrays too, for weak handles
};

/// Stops the program with a message: a heap was used from a thread other than its own.
[[noreturn]] void wrong_thread() noexcept;

/// Heaps whose Member stores need the write barrier now: those marking incrementally, and those
/// in generational mode. While it is 0 the barrier is one load and a branch.
extern std::atomic<std::uint32_t> g_barrier_heaps;
/// Heaps marking incrementally now: what a container handed over whole needs the barrier for
/// (snapheap::write_barrier, snapheap::Vector's moves and swaps).
extern std::atomic<std::uint32_t> g_marking_heaps;
/// `target` may be null (the inline test below is the counter's alone).
void write_barrier_slow(const Object* target) noexcept;
/// Where a Member's value is checked: by the collector, by the write barrier, on dereference.
enum class EdgeCheck : unsigned char { marking, barrier, deref };
/// Stops the program unless `target` is a live object of `heap` (HeapCore::checks_edges): a
/// Member that outlived its target, named with the object that holds it. Reads nothing outside
/// the heap's own memory before it knows the target is live (core/checks.cpp).
void check_edge_target(const HeapCore* heap, const Object* target, EdgeCheck where) noexcept;
/// Called with every value a Member takes.
inline void write_barrier(const Object* target) noexcept {
  if (g_barrier_heaps.load(std::memory_order_relaxed) != 0) [[unlikely]]
    write_barrier_slow(target);
}

class HeapCore {
 public:
  HeapCore(const HeapCore&) = delete;
  HeapCore& operator=(const HeapCore&) = delete;

  /// The heap that owns `o`, found from the page the object lives in.
  static HeapCore& of(const Object* o) noexcept { return *page_of(o)->heap; }

  // ---- what handles read and write --------------------------------------------------------

  void add_root(std::uint32_t slot) noexcept {
    if (root_barrier_) [[unlikely]]
      add_root_slow(slot);
    ++slots_.root_counts[slot];
  }
  void remove_root(std::uint32_t slot) noexcept { --slots_.root_counts[slot]; }
  std::uint32_t root_count(std::uint32_t slot) const noexcept { return slots_.root_counts[slot]; }
  const std::uint32_t& generation(std::uint32_t slot) const noexcept { return slots_.generations[slot]; }
  Object* object_at(std::uint32_t slot) const noexcept { return slots_.objects[slot]; }
  bool is_marked(std::uint32_t slot) const noexcept { return (slots_.mark_bits[slot >> 6] >> (slot & 63)) & 1u; }
  Phase phase() const noexcept { return phase_; }
  void set_phase(Phase p) noexcept {
    phase_ = p;
    update_root_barrier();
  }

  // ---- an incremental cycle or generational mode, between the collector's steps ---------------

  /// Marking is under way: new roots and Member stores shade their targets.
  bool marking() const noexcept { return marking_; }
  /// Debug builds, stress and verify mode: every edge target the collector shades, and every
  /// value the write barrier sees, is checked to be a live object of this heap before anything is
  /// read through it (check_edge_target), so that a Member to a freed object stops the program
  /// with its holder's name instead of marking through a dead cell.
  bool checks_edges() const noexcept { return checks_edges_; }
  /// Objects made from now on are marked (during a cycle, so that the sweep keeps them); while
  /// marking runs, make()'s objects are also pushed gray (a load's stay black: publish()).
  void set_black_allocation(bool black) noexcept { black_allocation_ = black; }
  bool sweep_pending() const noexcept { return slots_.anchor->sweep_pending; }
  void set_sweep_pending(bool pending) noexcept {
    slots_.anchor->sweep_pending = pending;
    update_root_barrier();
  }
  /// Gray: mark and push an object the mutator made reachable while marking runs.
  void shade(const Object* o) noexcept {
    if (checks_edges_) [[unlikely]]
      check_edge_target(this, o, EdgeCheck::marking);
    const std::uint32_t slot = ObjectAccess::slot(o);
    std::uint64_t& word = slots_.mark_bits[slot >> 6];
    const std::uint64_t bit = std::uint64_t{1} << (slot & 63);
    if (word & bit) return;
    word |= bit;
    mark_stack_.push_back(o);
  }
  /// Generational mode: young objects stored into a Member since the last collection.
  bool generational() const noexcept { return generational_; }
  /// Generational mode: objects made now are logged young (false while pretenuring, when they
  /// are made marked, i.e. old).
  bool logs_young() const noexcept { return logs_young_; }
  bool pretenuring() const noexcept { return generational_ && !logs_young_; }
  /// Generational mode, between collections only (no young object may exist when it changes):
  /// objects made from now on are old (marked, not logged) or young again.
  void set_pretenuring(bool pretenure) noexcept {
    if (!generational_ || pretenure == pretenuring()) return;
    logs_young_ = !pretenure;
    set_black_allocation(pretenure);
  }
  MarkStack& remembered() noexcept { return remembered_; }
  /// Generational mode: the slots made since the last collection (the young objects).
  boost::container::vector<std::uint32_t>& young() noexcept { return young_; }
  /// Logs a slot about to be published young; on failure gives the reservation back and throws.
  /// Inline while the log has room; growing it is out of line.
  void note_young(void* memory, std::uint32_t slot) {
    if (young_.size() < young_.capacity()) [[likely]]
      young_.push_back(slot);  // room reserved: cannot throw
    else
      note_young_slow(memory, slot);
  }
  HeapTag tag() const noexcept { return tag_; }

  // ---- the owning thread ----------------------------------------------------------------------

  void attach_to_current_thread() noexcept { owner_ = this_thread_marker(); }
  bool on_owner_thread() const noexcept { return owner_ == this_thread_marker(); }
  /// At the heap's entry points (make, collect, set_root, save, load), in every build: one
  /// compare against a thread-local address.
  void check_thread() const noexcept {
    if (!on_owner_thread()) [[unlikely]]
      wrong_thread();
  }
  /// On the handles' paths (Weak::lock, ...), in debug builds.
  void dcheck_thread() const noexcept {
#if SNAPHEAP_DCHECK_IS_ON
    check_thread();
#endif
  }

  // ---- invariant 7: when a collection may start ---------------------------------------------

  bool can_collect() const noexcept { return no_collect_depth_ == 0 && phase_ == Phase::kIdle; }
  void enter_no_collect() noexcept { ++no_collect_depth_; }
  void exit_no_collect() noexcept { --no_collect_depth_; }
  /// Set when collect() is called while collections are held off: it runs when they end.
  bool collection_deferred() const noexcept { return collection_deferred_; }
  void set_collection_deferred(bool deferred) noexcept { collection_deferred_ = deferred; }

  // ---- make()'s inline path -------------------------------------------------------------------

  /// Bytes make() may allocate on its inline path before the heap must decide on a collection
  /// (0: every allocation takes the slow path, as in stress mode, with a limit, or while the
  /// collector runs).
  bool within_inline_budget() const noexcept { return allocated_since_collection_ < inline_budget_; }
  std::size_t allocated_since_collection() const noexcept { return allocated_since_collection_; }

  /// Reserves a slot and a cell of at least `bytes`; throws std::bad_alloc if memory runs out.
  /// Inline for the common case: a free slot and a cell in the size class's current page.
  /// Returns the cell; sets `slot` and `cell_bytes`. (Scalars, not a struct: a struct passed
  /// around a constructor call is copied through the stack, and the copies stall store
  /// forwarding on make's hot path.)
  void* reserve(std::size_t bytes, std::uint32_t& slot, std::size_t& cell_bytes) {
    if (bytes <= kMaxSmallSize && slots_.free_count != 0) [[likely]] {
      if (PageHeader* page = classes_[kClassBySize[(bytes + 7) / 8]].current) {
        if (void* cell = take_cell(page)) {
          slot = slots_.free[--slots_.free_count];
          cell_bytes = page->cell_size;
          return cell;
        }
      }
    }
    return reserve_slow(bytes, slot, cell_bytes);
  }
  /// Gives back a reservation whose object was never constructed (its constructor threw).
  void cancel(void* memory, std::uint32_t slot) noexcept;
  /// Publishes a constructed object: header, slot entry, `roots` initial root count; `gray`:
  /// pushed to the mark stack if it is made while marking runs.
  void publish(Object* o, std::uint32_t slot, std::size_t cell_bytes, std::uint32_t type, std::uint32_t roots,
               bool gray) noexcept {
    ObjectAccess::set_header(o, slot, type);
    slots_.objects[slot] = o;
    slots_.root_counts[slot] = roots;
    const std::uint64_t bit = std::uint64_t{1} << (slot & 63);
    slots_.live_bits[slot >> 6] |= bit;
    if (black_allocation_) [[unlikely]] {
      slots_.mark_bits[slot >> 6] |= bit;
      // While marking runs, an object the program made is gray, not black: a later step traces
      // it, since its constructor may have been handed a container whole (a vector moved in),
      // whose edges passed no barrier. (A load's objects stay black: their edges are stored
      // through the barrier, and a failed load frees them before any step could trace them.)
      if (gray && marking_) mark_stack_.push_back(o);
    }
    ++live_objects_;
    live_bytes_ += cell_bytes;
  }
  /// Set when an object whose type has a destructor is published: a heap that never held one
  /// skips the sweep's destructor pass.
  void note_destructor() noexcept { has_destructors_ = true; }
  void count_allocation(std::size_t bytes) noexcept { allocated_since_collection_ += bytes; }

  // ---- memory the heap's objects own (snapheap::Allocator, Heap::adjust_external_memory) -----

  std::size_t external_bytes() const noexcept { return external_bytes_; }

  // ---- what the Tracer's marking path writes --------------------------------------------------

  std::uint64_t* mark_bits() noexcept { return slots_.mark_bits; }
  MarkStack& mark_stack() noexcept { return mark_stack_; }
  WeakCensus& weak_census() noexcept { return weak_census_; }
  EphemeronList& ephemerons() noexcept { return ephemerons_; }

  // ---- weak maps: entries the collector found dead, for the maps to drop (gc/weak.cpp) ---------

  /// Some weak map has dead entries to drop: its next operation asks for them.
  bool dead_entries_pending() const noexcept { return dead_entries_pending_; }
  void set_dead_entries_pending(bool pending) noexcept { dead_entries_pending_ = pending; }

 protected:
  HeapCore();  // takes an anchor (core/anchors.cpp)
  ~HeapCore();  // clears it: every weak handle to the heap reads empty from now on

  void* reserve_slow(std::size_t bytes, std::uint32_t& slot, std::size_t& cell_bytes);
  void note_young_slow(void* memory, std::uint32_t slot);
  void add_root_slow(std::uint32_t slot) noexcept;
  void update_root_barrier() noexcept {
    root_barrier_ = phase_ != Phase::kIdle || marking_ || slots_.anchor->sweep_pending;
  }

  SlotArrays slots_;

  std::size_t live_objects_ = 0;
  std::size_t live_bytes_ = 0;
  std::size_t allocated_since_collection_ = 0;
  std::size_t inline_budget_ = 0;
  std::size_t external_bytes_ = 0;
  MarkStack mark_stack_;
  WeakCensus weak_census_;
  EphemeronList ephemerons_;
  MarkStack remembered_;
  boost::container::vector<std::uint32_t> young_;
  std::uint32_t no_collect_depth_ = 0;
  bool has_destructors_ = false;
  bool dead_entries_pending_ = false;
  bool collection_deferred_ = false;
  bool root_barrier_ = false;  // add_root's slow path: the collector runs, marking, or sweep pending
  bool marking_ = false;
  bool checks_edges_ = false;
  bool black_allocation_ = false;  // objects are made marked: during a cycle, or pretenured
  bool generational_ = false;
  bool logs_young_ = false;    // generational_ and not pretenuring
  Phase phase_ = Phase::kIdle;
  HeapTag tag_ = 0;
  const void* owner_ = this_thread_marker();
  // One per size class, kept up by core/page_allocator.cpp; held here rather than behind a
  // pointer, so that make()'s inline path reaches the current page in one load fewer (last, so
  // that the scalars above share cache lines).
  ClassState classes_[kClassCount];
};

/// Holds off collections for its lifetime and notes, for this thread, which heap is constructing:
/// Object()'s debug check tells heap construction from a stray `T t;` by it, and a
/// snapheap::Allocator default-constructed inside the object binds to that heap.
class ConstructionScope {
 public:
  explicit ConstructionScope(HeapCore& heap) noexcept : heap_(heap), outer_(g_thread.constructing) {
    heap_.enter_no_collect();
    g_thread.constructing = heap_.tag();
  }
  ~ConstructionScope() {
    g_thread.constructing = outer_;
    heap_.exit_no_collect();
  }
  ConstructionScope(const ConstructionScope&) = delete;
  ConstructionScope& operator=(const ConstructionScope&) = delete;

 private:
  HeapCore& heap_;
  const HeapTag outer_;
};

/// Who makes an object: the program's make() (counted toward the collection trigger, gray while
/// marking runs) or a snapshot load (neither).
enum class Origin : bool { load, program };

/// The one way an object comes into a heap, for make() and the snapshot loader: reserve a cell
/// and a slot, construct in it with collections held off (invariant 7), give the memory back if
/// the constructor throws, publish with `roots` initial root count. `construct(memory)` returns
/// the new object (a T*, or the Object* a loader's type-erased constructor gives).
template <class Construct>
SNAPHEAP_ALWAYS_INLINE auto construct_object(HeapCore& heap, std::size_t bytes, std::uint32_t type, bool has_destructor,
                                             std::uint32_t roots, Origin origin, Construct&& construct) {
  std::uint32_t slot;
  std::size_t cell_bytes;
  void* const memory = heap.reserve(bytes, slot, cell_bytes);
  if (origin == Origin::program) heap.count_allocation(cell_bytes);
  if (heap.logs_young()) [[unlikely]]
    heap.note_young(memory, slot);
  decltype(construct(memory)) object;
  {
    ConstructionScope scope(heap);
    try {
      object = construct(memory);
    } catch (...) {
      heap.cancel(memory, slot);
      throw;
    }
  }
  SNAPHEAP_CHECK(page_of(object) == page_of(memory),
                 "the snapheap::Object base lies more than 64 KiB into the object");
  heap.publish(object, slot, cell_bytes, type, roots, /*gray=*/origin == Origin::program);
  if (has_destructor) heap.note_destructor();
  return object;
}

}  // namespace snapheap::detail
