#include "core/page_allocator.hpp"

#include "core/memory_cache.hpp"
#include "core/messages.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <new>

namespace snapheap::detail {

namespace {

constexpr std::size_t kChunkSize = kChunkBytes;  // 64 pages per mapping
constexpr std::size_t kPagesPerChunk = kChunkSize / kPageSize;
constexpr std::size_t kOsPage = 4096;  // what a quarantined large block keeps mapped

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

std::uint32_t reciprocal_of(std::uint32_t cell) noexcept {
  return static_cast<std::uint32_t>(((std::uint64_t{1} << 32) + cell - 1) / cell);
}

char* payload_of(PageHeader* page) noexcept { return reinterpret_cast<char*>(page) + kPageHeaderSize; }

}  // namespace

PageAllocator::PageAllocator(HeapCore* owner, ClassState* classes) : owner_(owner), classes_(classes) {}

PageAllocator::~PageAllocator() {
  // Quarantined small cells go with their chunks; a large block's kept page is unmapped here.
  set_quarantine(false);
  // ASan keeps the poison of free cells after munmap: clear it, or the next mapping at these
  // addresses (another heap's pages or large objects) would read as freed memory. The same for a
  // chunk given to the cache: the next heap poisons what it does not use (new_page).
  for (void* chunk : chunks_) {
    SNAPHEAP_UNPOISON(chunk, kChunkSize);
    if (!memory_cache::keep_chunk(chunk)) ::munmap(chunk, kChunkSize);
  }
}

// ---- cells ---------------------------------------------------------------------------------------

void* PageAllocator::allocate_small(std::size_t size_class) {
  ClassState& c = classes_[size_class];
  if (c.current) {
    if (void* cell = take_cell(c.current)) return cell;
  }
  // The current page is full: continue in a page with free cells, else a new one. The full page
  // leaves every list; a cell freed in it puts it back on the available list.
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

void* PageAllocator::allocate_large(std::size_t bytes) {
  const std::size_t total = cell_bytes_for(bytes);
  auto* block = static_cast<PageHeader*>(map_aligned(total));
  try {
    large_blocks_.insert(reinterpret_cast<std::uintptr_t>(block));
    note_range(reinterpret_cast<std::uintptr_t>(block), total);
  } catch (...) {
    ::munmap(block, total);
    throw;
  }
  std::memset(static_cast<void*>(block), 0, sizeof(PageHeader));
  block->heap = owner_;
  block->large_bytes = total;
  committed_bytes_ += total;
  return payload_of(block);
}

void* PageAllocator::cell_of(const void* address) noexcept {
  PageHeader* page = page_of(address);
  char* payload = payload_of(page);
  if (page->cell_size == 0) return payload;
  const auto offset = static_cast<std::uint32_t>(static_cast<const char*>(address) - payload);
  return payload + std::size_t{cell_index(offset, page->reciprocal)} * page->cell_size;
}

std::size_t PageAllocator::free_large(PageHeader* block) noexcept {
  large_blocks_.erase(reinterpret_cast<std::uintptr_t>(block));
  const std::size_t bytes = block->large_bytes;
  committed_bytes_ -= bytes;
  SNAPHEAP_UNPOISON(block, bytes);
  ::munmap(block, bytes);
  return bytes;
}

// A large block, and in the checked mode every cell, bypasses the page's free list.
std::size_t PageAllocator::free_off_list(PageHeader* page, const void* address) noexcept {
  if (page->cell_size == 0) return quarantining() ? quarantine_large(page) : free_large(page);
  quarantine_cell(page, cell_of(address));
  return page->cell_size;
}

std::size_t PageAllocator::free(const void* address) noexcept {
  PageHeader* page = page_of(address);
  if (page->cell_size == 0 || quarantining()) return free_off_list(page, address);
  --page->used;
  push_free_cell(page, cell_of(address));
  return page->cell_size;
}

std::size_t PageAllocator::free_counted(const void* address) noexcept {
  PageHeader* page = page_of(address);
  if (page->cell_size == 0 || quarantining()) return free_off_list(page, address);
  if (page->used == 0) {
    if (!page->emptied) empty_page(page);
  } else {
    push_free_cell(page, cell_of(address));
  }
  return page->cell_size;
}

void PageAllocator::end_sweep() noexcept {
  for (std::size_t c = 0; c < kClassCount; ++c)
    if (classes_[c].current) classes_[c].current->emptied = false;
}

void PageAllocator::push_free_cell(PageHeader* page, void* cell) noexcept {
  if (zero_freed_) std::memset(cell, 0, page->cell_size);
  SNAPHEAP_POISON(cell, page->cell_size);
  SNAPHEAP_UNPOISON(cell, sizeof(FreeCell));
  auto* f = static_cast<FreeCell*>(cell);
  f->next = page->free_list;
  page->free_list = f;
  // Most frees land in a page already on its class's available list and not yet empty.
  if (page->in_available_list && page->used != 0) return;
  page_gained_free_cell(page);
}

void PageAllocator::page_gained_free_cell(PageHeader* page) noexcept {
  ClassState& c = classes_[page->size_class];
  if (page == c.current) return;
  if (page->used == 0) {
    // Reset whole, not pooled with its free list: the list's links are stale bytes that a page
    // carved into another size class would hold inside its new cells (zeroed in the checked mode).
    empty_page(page);
  } else if (!page->in_available_list) {
    page->next_available = c.available;
    page->prev_available = nullptr;
    if (c.available) c.available->prev_available = page;
    c.available = page;
    page->in_available_list = true;
  }
}

// ---- the quarantine ------------------------------------------------------------------------------

void PageAllocator::set_quarantine(bool on) noexcept {
  if (!on) {
    release_quarantine();
    quarantine_ring_.reset();
  } else if (!quarantine_ring_) {
    quarantine_ring_.reset(new (std::nothrow) Quarantined[kQuarantineCells]);
  }
}

void PageAllocator::enqueue(void* memory, bool large, std::size_t bytes) noexcept {
  if (quarantine_count_ == kQuarantineCells) release_oldest();
  quarantine_ring_[(quarantine_head_ + quarantine_count_++) % kQuarantineCells] = {memory, large};
  quarantine_bytes_ += bytes;
  while (quarantine_bytes_ > kQuarantineBytes) release_oldest();
}

// The cell is zero (its slot header reads 0, so it is no live object) and poisoned; it stays
// counted in its page's `used`, so the page is neither reset nor pooled while it waits.
void PageAllocator::quarantine_cell(PageHeader* page, void* cell) noexcept {
  std::memset(cell, 0, page->cell_size);
  SNAPHEAP_POISON(cell, page->cell_size);
  enqueue(cell, /*large=*/false, page->cell_size);
}

// The block's first page stays mapped with its header zeroed: a barrier or a debug dereference
// that reads the freed object's page header finds no heap there and stops with a message, where
// an unmapped block would crash. The rest goes back to the system now.
std::size_t PageAllocator::quarantine_large(PageHeader* block) noexcept {
  large_blocks_.erase(reinterpret_cast<std::uintptr_t>(block));
  const std::size_t bytes = block->large_bytes;
  committed_bytes_ -= bytes - kOsPage;
  char* start = reinterpret_cast<char*>(block);
  SNAPHEAP_UNPOISON(start, bytes);
  if (bytes > kOsPage) ::munmap(start + kOsPage, bytes - kOsPage);
  std::memset(start, 0, kOsPage);
  SNAPHEAP_POISON(start + kPageHeaderSize, kOsPage - kPageHeaderSize);
  enqueue(block, /*large=*/true, kOsPage);
  return bytes;
}

void PageAllocator::release_oldest() noexcept {
  const Quarantined q = quarantine_ring_[quarantine_head_];
  quarantine_head_ = (quarantine_head_ + 1) % kQuarantineCells;
  --quarantine_count_;
  if (q.large) {
    quarantine_bytes_ -= kOsPage;
    committed_bytes_ -= kOsPage;
    SNAPHEAP_UNPOISON(q.memory, kOsPage);
    ::munmap(q.memory, kOsPage);
    return;
  }
  PageHeader* page = page_of(q.memory);
  quarantine_bytes_ -= page->cell_size;
  SNAPHEAP_UNPOISON(q.memory, page->cell_size);
  --page->used;
  push_free_cell(page, q.memory);
}

void PageAllocator::release_quarantine() noexcept {
  while (quarantine_count_ != 0) release_oldest();
}

// ---- pages ---------------------------------------------------------------------------------------

// A page whose last live cell died in this sweep: the class's current page restarts from its
// first cell; any other page leaves its lists for the pool of empty pages.
void PageAllocator::empty_page(PageHeader* page) noexcept {
  page->emptied = true;
  page->free_list = nullptr;
  if (zero_freed_) {
    SNAPHEAP_UNPOISON(payload_of(page), kPageSize - kPageHeaderSize);  // freed cells are poisoned
    std::memset(payload_of(page), 0, kPageSize - kPageHeaderSize);
  }
  SNAPHEAP_POISON(payload_of(page), kPageSize - kPageHeaderSize);
  if (page == classes_[page->size_class].current) {
    page->bump = payload_of(page);
    return;
  }
  retire_page(page);
}

void PageAllocator::retire_page(PageHeader* page) noexcept {
  ClassState& c = classes_[page->size_class];
  if (page->in_available_list) {
    if (page->prev_available) page->prev_available->next_available = page->next_available;
    else c.available = page->next_available;
    if (page->next_available) page->next_available->prev_available = page->prev_available;
    page->in_available_list = false;
  }
  empty_pages_.push_back({page, clock_ns_});  // capacity reserved in take_page_memory
}

void* PageAllocator::take_page_memory() {
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
      sorted_chunks_.reserve(chunks_.size() + 1);
      void* chunk = memory_cache::take_chunk();
      chunk_reused_ = chunk != nullptr;
      if (!chunk) chunk = map_aligned(kChunkSize);
      chunks_.push_back(chunk);
      const auto at = reinterpret_cast<std::uintptr_t>(chunk);
      sorted_chunks_.insert(std::upper_bound(sorted_chunks_.begin(), sorted_chunks_.end(), at), at);
      note_range(at, kChunkSize);
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
  // A fresh mapping is zero; a reused chunk holds its previous heap's cells, and the zero-on-free
  // mode promises zero cells (warm memory: a memset costs far less than first touch did).
  if (chunk_reused_ && zero_freed_) std::memset(page, 0, kPageSize);
  return page;
}

std::size_t PageAllocator::chunk_bytes() const noexcept { return chunks_.size() * kChunkSize; }

PageHeader* PageAllocator::new_page(std::size_t size_class) {
  auto* page = static_cast<PageHeader*>(take_page_memory());
  const std::uint32_t cell = kClassSizes[size_class];
  page->heap = owner_;
  page->prev_available = page->next_available = nullptr;
  page->free_list = nullptr;
  page->cell_size = cell;
  page->reciprocal = reciprocal_of(cell);
  page->used = 0;
  page->size_class = static_cast<std::uint16_t>(size_class);
  page->in_available_list = false;
  page->emptied = false;
  page->bump = payload_of(page);
  page->end = page->bump + (kPageSize - kPageHeaderSize) / cell * cell;
  SNAPHEAP_POISON(page->bump, kPageSize - kPageHeaderSize);
  return page;
}

void PageAllocator::trim(std::size_t keep_bytes, std::uint64_t now_ns, std::uint64_t idle_ns) noexcept {
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

bool PageAllocator::holds(const void* address, std::size_t bytes) const noexcept {
  const auto at = reinterpret_cast<std::uintptr_t>(address);
  if (at < low_ || at >= high_) return false;  // most words are no address of ours
  auto chunk = std::upper_bound(sorted_chunks_.begin(), sorted_chunks_.end(), at);
  if (chunk != sorted_chunks_.begin() && at - *(chunk - 1) + bytes <= kChunkSize) return true;
  const auto block = reinterpret_cast<std::uintptr_t>(page_of(address));
  auto found = large_blocks_.find(block);
  return found != large_blocks_.end() && at >= block + kPageHeaderSize &&
         at + bytes <= block + reinterpret_cast<const PageHeader*>(block)->large_bytes;
}

std::string PageAllocator::check(const void* object, const HeapCore* owner) const {
  if (page_of(object)->heap == owner) return {};
  return format_message("object %p lives in a page of another heap", object);
}

}  // namespace snapheap::detail
