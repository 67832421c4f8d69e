// The page allocator behind a heap's cells.
//
// Objects up to kMaxSmallSize bytes live in 64 KiB pages of one size class each, carved from
// 4 MiB chunks mapped from the OS. A page hands out cells from its free list, then from its
// never-used tail (the bump region); make()'s inline path does that for the class's current page
// (HeapCore::reserve). Larger objects get a 64 KiB-aligned block of their own. A freed cell goes
// back to its page's free list; a page that becomes empty goes to a pool of warm pages (reused
// newest first), and trim() gives back to the OS the pages that have sat in the pool for a
// while: a heap that refills every cycle keeps touching warm memory, and one that shrank for
// good returns it.
//
// Chunks come from the process-wide cache of destroyed heaps' memory (core/memory_cache.hpp)
// before new ones are mapped, and go back to it when the allocator is destroyed. A cached chunk
// holds its previous heap's bytes: every page header is written in new_page, and in the
// zero-on-free mode (which promises zero cells) a page carved from a reused chunk is zeroed.
//
// The checked mode quarantines what it frees (set_quarantine): a freed cell is zeroed, poisoned
// and held back from reuse until the next sweep begins (or until kQuarantineCells newer cells or
// kQuarantineBytes wait), and a freed large block keeps only its first 4 KiB, its header zeroed.
// A Member kept in host code across a collection then finds its target freed, not reused by a
// new object that the liveness check would take for it (core/checks.cpp).
//
// Kept here: nothing allocates or frees system memory while a sweep frees cells (the pools'
// capacity is reserved when chunks are mapped), and a page is in its class's available list iff
// it has a free cell, is not the class's current page, and is not empty. A page's `used` counts
// its quarantined cells as well as its live ones.
#pragma once

#include <boost/container/vector.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <set>
#include <string>

#include "snapheap/detail/heap_core.hpp"

namespace snapheap::detail {

/// floor(offset / cell) for offset < 64 KiB and cell <= 8 KiB as one multiply: with
/// m = ceil(2^32 / cell) the error is below 2^-16, smaller than the gap 1/cell to the next integer.
inline std::uint32_t cell_index(std::uint32_t offset, std::uint32_t reciprocal) noexcept {
  return static_cast<std::uint32_t>((std::uint64_t{offset} * reciprocal) >> 32);
}

class PageAllocator {
 public:
  /// Pages name `owner` in their headers; `classes` is where HeapCore reads the current pages.
  PageAllocator(HeapCore* owner, ClassState* classes);
  ~PageAllocator();
  PageAllocator(const PageAllocator&) = delete;
  PageAllocator& operator=(const PageAllocator&) = delete;

  /// A cell of `size_class` when its current page is full: the next page with free cells, else a
  /// new one. Throws std::bad_alloc.
  void* allocate_small(std::size_t size_class);
  /// A block of its own for a large object; throws std::bad_alloc.
  void* allocate_large(std::size_t bytes);
  /// The bytes allocate_small or allocate_large takes for an object of `bytes`.
  static constexpr std::size_t cell_bytes_for(std::size_t bytes) noexcept {
    return bytes <= kMaxSmallSize ? kClassSizes[kClassBySize[(bytes + 7) / 8]]
                                  : (kPageHeaderSize + bytes + 4095) & ~std::size_t{4095};
  }
  static std::size_t cell_bytes_of(const void* object) noexcept {
    const PageHeader* page = page_of(object);
    return page->cell_size ? page->cell_size : page->large_bytes;
  }
  /// The start of the cell holding `address` (an object may begin after its cell's start).
  static void* cell_of(const void* address) noexcept;

  /// Frees the cell (or large block) holding `address`; returns the bytes it held.
  std::size_t free(const void* address) noexcept;

  // The sweep frees in two passes, so that a page whose cells all die is reset whole instead of
  // threading its cells onto a free list: count every death first, then free the counted cells.
  void count_death(const void* address) noexcept {
    PageHeader* page = page_of(address);
    if (page->cell_size != 0 && !quarantining()) --page->used;  // a quarantined cell stays counted
  }
  std::size_t free_counted(const void* address) noexcept;
  /// After the sweep's last free_counted().
  void end_sweep() noexcept;

  std::size_t committed_bytes() const noexcept { return committed_bytes_; }
  /// Bytes of the 4 MiB chunks mapped or taken from the cache.
  std::size_t chunk_bytes() const noexcept;
  /// Zero every cell as it is freed (fresh pages are zero already).
  void set_zero_freed(bool zero) noexcept { zero_freed_ = zero; }
  /// Quarantine freed cells and large blocks (see above); off releases what waits. If the
  /// quarantine's ring cannot be allocated, freed memory is reused at once, as when off.
  void set_quarantine(bool on) noexcept;
  /// Makes every quarantined cell reusable and unmaps every quarantined large block's header:
  /// a sweep begins (the marking before it has checked every edge), or release_memory().
  void release_quarantine() noexcept;
  bool quarantining() const noexcept { return quarantine_ring_ != nullptr; }
  std::size_t quarantined_cells() const noexcept { return quarantine_count_; }
  static constexpr std::size_t kQuarantineCells = std::size_t{1} << 16;
  static constexpr std::size_t kQuarantineBytes = std::size_t{32} << 20;
  /// Gives back to the operating system the empty pages idle for `idle_ns` (oldest first), keeping
  /// at least `keep_bytes` of them warm. `now_ns` is the clock that stamped the pages as they
  /// emptied (set_clock).
  void trim(std::size_t keep_bytes, std::uint64_t now_ns, std::uint64_t idle_ns) noexcept;
  /// The time stamp given to pages that empty from now on.
  void set_clock(std::uint64_t now_ns) noexcept { clock_ns_ = now_ns; }

  /// Whether the `bytes` at `address` lie in memory this allocator handed out pages or blocks
  /// from (so that reading them is safe). O(log chunks); for the forgotten-trace check.
  bool holds(const void* address, std::size_t bytes) const noexcept;

  /// The first problem with a page that holds `object`, or an empty string.
  std::string check(const void* object, const HeapCore* owner) const;

 private:
  struct PooledPage {
    void* page;
    std::uint64_t since_ns;  // when it became empty
  };
  void push_free_cell(PageHeader* page, void* cell) noexcept;
  void page_gained_free_cell(PageHeader* page) noexcept;
  void empty_page(PageHeader* page) noexcept;
  void retire_page(PageHeader* page) noexcept;
  PageHeader* new_page(std::size_t size_class);
  void* take_page_memory();
  std::size_t free_large(PageHeader* block) noexcept;
  std::size_t free_off_list(PageHeader* page, const void* address) noexcept;
  void quarantine_cell(PageHeader* page, void* cell) noexcept;
  void enqueue(void* memory, bool large, std::size_t bytes) noexcept;
  std::size_t quarantine_large(PageHeader* block) noexcept;
  void release_oldest() noexcept;

  HeapCore* owner_;
  ClassState* classes_;  // the owner's, kClassCount of them
  boost::container::vector<void*> chunks_;          // 4 MiB mappings pages are carved from
  boost::container::vector<std::uintptr_t> sorted_chunks_;  // the same, by address
  std::set<std::uintptr_t> large_blocks_;           // large-object blocks, by address
  std::uintptr_t low_ = ~std::uintptr_t{0};         // the span of everything ever mapped
  std::uintptr_t high_ = 0;
  void note_range(std::uintptr_t at, std::size_t bytes) noexcept {
    if (at < low_) low_ = at;
    if (at + bytes > high_) high_ = at + bytes;
  }
  boost::container::vector<PooledPage> empty_pages_;  // warm pages, oldest first
  boost::container::vector<void*> trimmed_pages_;   // pages given back to the OS
  std::uint64_t clock_ns_ = 0;
  char* chunk_cursor_ = nullptr;
  char* chunk_end_ = nullptr;
  bool chunk_reused_ = false;  // the chunk being carved came from the cache: its bytes are stale
  std::size_t committed_bytes_ = 0;
  bool zero_freed_ = SNAPHEAP_DCHECK_IS_ON != 0;
  // The quarantine, on while its ring exists: cells (or large blocks' kept first pages), oldest
  // at the head.
  struct Quarantined {
    void* memory;
    bool large;
  };
  std::unique_ptr<Quarantined[]> quarantine_ring_;
  std::size_t quarantine_head_ = 0;
  std::size_t quarantine_count_ = 0;
  std::size_t quarantine_bytes_ = 0;
};

}  // namespace snapheap::detail
