// The object table (slots, generations, root counts, mark bits) and the page allocator behind it.
//
// Allocation: objects up to kMaxSmallSize bytes live in 64 KiB pages of one size class each,
// carved from 4 MiB chunks mapped from the OS. A page hands out cells from its free list, then
// from its never-used tail (the bump region). Larger objects get a 64 KiB-aligned block of their
// own. A freed cell goes back to its page's free list; a page that becomes empty goes to a pool
// of warm pages (reused newest first), and trim() gives back to the OS the pages that have sat
// in the pool for a while: a heap that refills every cycle keeps touching warm memory, and one
// that shrank for good returns it.
#include "snapheap/detail/object_table.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <bit>
#include <array>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>

#include "snapheap/detail/sanitizer.hpp"
#include "snapheap/detail/type_info.hpp"

namespace snapheap::detail {

namespace {

constexpr std::size_t kChunkSize = std::size_t{4} << 20;  // 64 pages per mapping
constexpr std::size_t kPagesPerChunk = kChunkSize / kPageSize;

// Maps `bytes` aligned to kPageSize by mapping kPageSize more and unmapping the slack.
void* map_aligned(std::size_t bytes) {
  const std::size_t span = bytes + kPageSize;
  void* raw = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const auto start = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t aligned = (start + kPageSize - 1) & ~(kPageSize - 1);
  if (aligned > start) ::munmap(raw, aligned - start);
  const std::uintptr_t tail = aligned + bytes;
  if (start + span > tail) ::munmap(reinterpret_cast<void*>(tail), start + span - tail);
  return reinterpret_cast<void*>(aligned);
}

}  // namespace

ObjectTable::ObjectTable() : classes_(new ClassState[kClassCount]), owner_(std::this_thread::get_id()) {
  // Slot 0 is the tombstone slot: never published, generation 1, so the {0, 0} a tombstone
  // restores to never matches.
  objects_.push_back(nullptr);
  generations_.push_back(1);
  root_counts_.push_back(0);
  live_bits_.push_back(0);
  mark_bits_.push_back(0);
  free_slots_.reserve(64);
}

ObjectTable::~ObjectTable() {
  for (std::uint32_t s = 1; s < slot_limit(); ++s) {
    Object* o = objects_[s];
    if (o && page_of(o)->cell_size == 0) {
      PageHeader* block = page_of(o);
      ::munmap(block, block->large_bytes);
    }
  }
  // ASan keeps the poison of free cells after munmap: clear it, or the next mapping at these
  // addresses (another heap's pages or large objects) would read as freed memory.
  for (void* chunk : chunks_) {
    SNAPHEAP_UNPOISON(chunk, kChunkSize);
    ::munmap(chunk, kChunkSize);
  }
  delete[] classes_;
}

// ---- slots -----------------------------------------------------------------------------------------

// Slots are added in batches (half the table, at least 1024), lowest first on the free list, so
// that the inline reserve() nearly always finds one.
void ObjectTable::grow_slots() {
  const std::size_t old = objects_.size();
  const std::size_t grown = std::min<std::size_t>(old + std::max<std::size_t>(1024, old / 2), kNoSlot);
  if (grown == old) throw std::bad_alloc();
  const std::size_t words = (grown + 63) / 64;
  objects_.reserve(grown);
  generations_.reserve(grown);
  root_counts_.reserve(grown);
  live_bits_.reserve(words);
  mark_bits_.reserve(words);
  // release() pushes freed slots during sweep, when nothing may allocate: keep room for all.
  free_slots_.reserve(grown);
  objects_.resize(grown, nullptr);
  generations_.resize(grown, 0);
  root_counts_.resize(grown, 0);
  live_bits_.resize(words, 0);
  mark_bits_.resize(words, 0);
  for (std::size_t s = grown; s > old; --s) free_slots_.push_back(static_cast<std::uint32_t>(s - 1));
}

std::uint32_t ObjectTable::new_slot() {
  if (free_slots_.empty()) grow_slots();
  const std::uint32_t s = free_slots_.back();
  free_slots_.pop_back();
  return s;
}

Reservation ObjectTable::reserve_slow(std::size_t bytes) {
  const std::uint32_t slot = new_slot();
  try {
    if (bytes <= kMaxSmallSize) {
      const std::size_t cls = kClassBySize[(bytes + 7) / 8];
      return {allocate_small(cls), kClassSizes[cls], slot};
    }
    void* memory = allocate_large(bytes);
    return {memory, page_of(memory)->large_bytes, slot};
  } catch (...) {
    free_slots_.push_back(slot);
    throw;
  }
}

void ObjectTable::cancel(void* memory, std::uint32_t slot) noexcept {
  PageHeader* page = page_of(memory);
  if (page->cell_size == 0) {
    committed_bytes_ -= page->large_bytes;
    ::munmap(page, page->large_bytes);
  } else {
    free_small(page, memory);
  }
  free_slots_.push_back(slot);
}

void ObjectTable::expire(std::uint32_t slot) noexcept { ++generations_[slot]; }

std::size_t ObjectTable::free_object_cell(Object* o) noexcept {
  PageHeader* page = page_of(o);
  if (page->cell_size == 0) {
    const std::size_t bytes = page->large_bytes;
    committed_bytes_ -= bytes;
    SNAPHEAP_UNPOISON(page, bytes);
    ::munmap(page, bytes);
    return bytes;
  }
  char* payload = reinterpret_cast<char*>(page) + kPageHeaderSize;
  const auto offset = static_cast<std::uint32_t>(reinterpret_cast<char*>(o) - payload);
  free_small(page, payload + std::size_t{cell_index(offset, page->reciprocal)} * page->cell_size);
  return page->cell_size;
}

void ObjectTable::release(std::uint32_t slot) noexcept { release_word(slot >> 6, std::uint64_t{1} << (slot & 63)); }

void ObjectTable::release_word(std::size_t word, std::uint64_t dead) noexcept {
  std::size_t bytes = 0;
  std::size_t count = 0;
  for (std::uint64_t rest = dead; rest; rest &= rest - 1, ++count) {
    const auto slot = static_cast<std::uint32_t>(word * 64 + std::countr_zero(rest));
    SNAPHEAP_DCHECK(root_counts_[slot] == 0, "a dead object has a nonzero root count");
    bytes += free_object_cell(objects_[slot]);
    objects_[slot] = nullptr;
    // A slot whose generation is about to wrap is retired: a stale weak handle could otherwise
    // match a new object after 2^32 reuses.
    if (generations_[slot] != 0xFFFFFFFFu) free_slots_.push_back(slot);  // capacity reserved
  }
  live_bits_[word] &= ~dead;
  live_objects_ -= count;
  live_bytes_ -= bytes;
}

void ObjectTable::release_dead(const std::uint64_t* marks, bool expire) noexcept {
  const std::size_t words = live_bits_.size();
  // Pass 1: count the deaths in each page; touch no dead cell.
  for (std::size_t w = 0; w < words; ++w) {
    for (std::uint64_t dead = live_bits_[w] & ~marks[w]; dead; dead &= dead - 1) {
      const auto slot = static_cast<std::uint32_t>(w * 64 + std::countr_zero(dead));
      if (expire) ++generations_[slot];
      PageHeader* page = page_of(objects_[slot]);
      if (page->cell_size != 0) --page->used;
    }
  }
  // Pass 2: reset the pages that emptied, thread the other freed cells, free the slots.
  std::size_t bytes = 0;
  std::size_t count = 0;
  for (std::size_t w = 0; w < words; ++w) {
    const std::uint64_t dead = live_bits_[w] & ~marks[w];
    if (!dead) continue;
    for (std::uint64_t rest = dead; rest; rest &= rest - 1, ++count) {
      const auto slot = static_cast<std::uint32_t>(w * 64 + std::countr_zero(rest));
      SNAPHEAP_DCHECK(root_counts_[slot] == 0, "a dead object has a nonzero root count");
      Object* o = objects_[slot];
      PageHeader* page = page_of(o);
      if (page->cell_size == 0) {
        bytes += free_object_cell(o);
      } else {
        bytes += page->cell_size;
        if (page->used == 0) {
          if (!page->emptied) empty_page(page);
        } else {
          char* payload = reinterpret_cast<char*>(page) + kPageHeaderSize;
          const auto offset = static_cast<std::uint32_t>(reinterpret_cast<char*>(o) - payload);
          ++page->used;  // free_small counts it out again
          free_small(page, payload + std::size_t{cell_index(offset, page->reciprocal)} * page->cell_size);
        }
      }
      objects_[slot] = nullptr;
      if (generations_[slot] != 0xFFFFFFFFu) free_slots_.push_back(slot);  // capacity reserved
    }
    live_bits_[w] &= ~dead;
  }
  live_objects_ -= count;
  live_bytes_ -= bytes;
  for (std::size_t c = 0; c < kClassCount; ++c)
    if (classes_[c].current) classes_[c].current->emptied = false;
}

// A page whose last live cell died in this sweep: the class's current page restarts from its
// first cell; any other page leaves its lists for the pool of empty pages.
void ObjectTable::empty_page(PageHeader* page) noexcept {
  page->emptied = true;
  page->free_list = nullptr;
  SNAPHEAP_POISON(reinterpret_cast<char*>(page) + kPageHeaderSize, kPageSize - kPageHeaderSize);
  if (page == classes_[page->size_class].current) {
    page->bump = reinterpret_cast<char*>(page) + kPageHeaderSize;
    return;
  }
  retire_page(page);
}

void ObjectTable::clear_marks() noexcept {
  std::memset(mark_bits_.data(), 0, mark_bits_.size() * sizeof(std::uint64_t));
}

std::size_t ObjectTable::cell_bytes_of(const Object* o) const noexcept {
  const PageHeader* page = page_of(o);
  return page->cell_size ? page->cell_size : page->large_bytes;
}

void ObjectTable::check_root_while_collecting(std::uint32_t slot) const noexcept {
  if (state_ == TableState::kSweeping && is_marked(slot)) return;
  if (state_ == TableState::kMarking) return;
  fatal(__FILE__, __LINE__,
        state_ == TableState::kTearingDown
            ? "a Strong handle was made while the heap was being destroyed"
            : "a Strong handle was made to an object that is being destroyed (a destructor "
              "tried to resurrect a dead object)");
}

// ---- pages -----------------------------------------------------------------------------------------

void* ObjectTable::take_page_memory() {
  if (!empty_pages_.empty()) {
    void* page = empty_pages_.back().page;
    empty_pages_.pop_back();
    return page;
  }
  committed_bytes_ += kPageSize;
  if (!trimmed_pages_.empty()) {
    void* page = trimmed_pages_.back();
    trimmed_pages_.pop_back();
    return page;
  }
  if (chunk_cursor_ == chunk_end_) {
    try {
      chunks_.reserve(chunks_.size() + 1);
      void* chunk = map_aligned(kChunkSize);
      chunks_.push_back(chunk);
      chunk_cursor_ = static_cast<char*>(chunk);
      chunk_end_ = chunk_cursor_ + kChunkSize;
      // Pages may be pooled or trimmed later without allocating (that happens during sweep).
      empty_pages_.reserve(chunks_.size() * kPagesPerChunk);
      trimmed_pages_.reserve(chunks_.size() * kPagesPerChunk);
    } catch (...) {
      committed_bytes_ -= kPageSize;
      throw;
    }
  }
  void* page = chunk_cursor_;
  chunk_cursor_ += kPageSize;
  return page;
}

PageHeader* ObjectTable::new_page(std::size_t size_class) {
  auto* page = static_cast<PageHeader*>(take_page_memory());
  const std::uint32_t cell = kClassSizes[size_class];
  page->table = this;
  page->prev_available = page->next_available = nullptr;
  page->free_list = nullptr;
  page->cell_size = cell;
  page->reciprocal = reciprocal_of(cell);
  page->used = 0;
  page->size_class = static_cast<std::uint16_t>(size_class);
  page->in_available_list = false;
  page->emptied = false;
  page->bump = reinterpret_cast<char*>(page) + kPageHeaderSize;
  page->end = page->bump + (kPageSize - kPageHeaderSize) / cell * cell;
  SNAPHEAP_POISON(page->bump, kPageSize - kPageHeaderSize);
  return page;
}

void* ObjectTable::allocate_small(std::size_t size_class) {
  ClassState& c = classes_[size_class];
  if (c.current) {
    if (void* cell = take_cell(c.current)) return cell;
  }
  // The current page is full: continue in a page with free cells, else a new one. The full page
  // leaves every list; a cell freed in it puts it back on the available list (free_small).
  PageHeader* page = c.available;
  if (page) {
    c.available = page->next_available;
    if (c.available) c.available->prev_available = nullptr;
    page->in_available_list = false;
    page->next_available = nullptr;
  } else {
    page = new_page(size_class);
  }
  c.current = page;
  return take_cell(page);
}

void* ObjectTable::allocate_large(std::size_t bytes) {
  const std::size_t total = cell_bytes_for(bytes);
  auto* block = static_cast<PageHeader*>(map_aligned(total));
  std::memset(block, 0, sizeof(PageHeader));
  block->table = this;
  block->large_bytes = total;
  committed_bytes_ += total;
  return reinterpret_cast<char*>(block) + kPageHeaderSize;
}

void ObjectTable::free_small(PageHeader* page, void* cell) noexcept {
  SNAPHEAP_POISON(cell, page->cell_size);
  SNAPHEAP_UNPOISON(cell, sizeof(FreeCell));
  auto* f = static_cast<FreeCell*>(cell);
  f->next = page->free_list;
  page->free_list = f;
  --page->used;
  // Most frees land in a page already on its class's available list and not yet empty.
  if (page->in_available_list && page->used != 0) return;
  page_gained_free_cell(page);
}

void ObjectTable::page_gained_free_cell(PageHeader* page) noexcept {
  ClassState& c = classes_[page->size_class];
  if (page == c.current) return;
  if (page->used == 0) {
    retire_page(page);
  } else if (!page->in_available_list) {
    page->next_available = c.available;
    page->prev_available = nullptr;
    if (c.available) c.available->prev_available = page;
    c.available = page;
    page->in_available_list = true;
  }
}

void ObjectTable::retire_page(PageHeader* page) noexcept {
  ClassState& c = classes_[page->size_class];
  if (page->in_available_list) {
    if (page->prev_available) page->prev_available->next_available = page->next_available;
    else c.available = page->next_available;
    if (page->next_available) page->next_available->prev_available = page->prev_available;
    page->in_available_list = false;
  }
  empty_pages_.push_back({page, clock_ns_});  // capacity reserved in take_page_memory
}

void ObjectTable::trim(std::size_t keep_bytes, std::uint64_t now_ns, std::uint64_t idle_ns) noexcept {
  const std::size_t keep_pages = keep_bytes / kPageSize;
  std::size_t count = 0;
  while (count < empty_pages_.size() && empty_pages_.size() - count > keep_pages &&
         now_ns - empty_pages_[count].since_ns >= idle_ns) {
    void* page = empty_pages_[count].page;
    SNAPHEAP_UNPOISON(page, kPageSize);
    ::madvise(page, kPageSize, MADV_DONTNEED);
    trimmed_pages_.push_back(page);
    ++count;
  }
  empty_pages_.erase(empty_pages_.begin(), empty_pages_.begin() + static_cast<std::ptrdiff_t>(count));
  committed_bytes_ -= count * kPageSize;
}

// ---- consistency -----------------------------------------------------------------------------------

std::string ObjectTable::check_consistency() const {
  char buffer[256];
  std::size_t live = 0;
  std::size_t bytes = 0;
  for (std::uint32_t s = 1; s < slot_limit(); ++s) {
    const bool bit = (live_bits_[s >> 6] >> (s & 63)) & 1u;
    const Object* o = objects_[s];
    if (bit != (o != nullptr)) {
      std::snprintf(buffer, sizeof buffer, "slot %u: live bit %d but object pointer %p", s,
                    int{bit}, static_cast<const void*>(o));
      return buffer;
    }
    if (!o) continue;
    ++live;
    const PageHeader* page = page_of(o);
    if (page->table != this) {
      std::snprintf(buffer, sizeof buffer, "slot %u: object %p lives in a page of another table", s,
                    static_cast<const void*>(o));
      return buffer;
    }
    if (ObjectAccess::slot(o) != s) {
      std::snprintf(buffer, sizeof buffer, "slot %u: object header says slot %u", s,
                    ObjectAccess::slot(o));
      return buffer;
    }
    if (!type_at(ObjectAccess::type(o))) {
      std::snprintf(buffer, sizeof buffer, "slot %u: object header has unknown type index %u", s,
                    ObjectAccess::type(o));
      return buffer;
    }
    bytes += page->cell_size ? page->cell_size : page->large_bytes;
  }
  if (live != live_objects_ || bytes != live_bytes_) {
    std::snprintf(buffer, sizeof buffer,
                  "object table holds %zu objects in %zu bytes but counts %zu objects in %zu bytes",
                  live, bytes, live_objects_, live_bytes_);
    return buffer;
  }
  if (generations_[kTombstoneSlot] != 1 || objects_[kTombstoneSlot] != nullptr)
    return "the tombstone slot 0 was published or its generation changed";
  for (std::uint32_t s : free_slots_) {
    if (s == kTombstoneSlot || s >= slot_limit() || objects_[s] != nullptr) {
      std::snprintf(buffer, sizeof buffer, "free slot list holds slot %u, which is in use", s);
      return buffer;
    }
  }
  return {};
}

// ---- construction scope ----------------------------------------------------------------------------

#if SNAPHEAP_DCHECK_IS_ON
namespace {
thread_local int g_construction_depth = 0;
}
bool construction_in_progress() noexcept { return g_construction_depth > 0; }
void add_construction_depth(int delta) noexcept { g_construction_depth += delta; }
#endif

}  // namespace snapheap::detail
