// The process-wide cache of destroyed heaps' memory: the 4 MiB chunks their pages were carved
// from and the mappings of their slot tables' arrays. A heap made after another was destroyed
// takes them instead of mapping fresh memory, whose first touch costs a page fault per 4 KiB
// (about 10 us on these machines: a 10^6-object heap paid tens of milliseconds for it), as
// malloc-based code reuses freed memory.
//
// What comes out is warm but stale: the previous heap's bytes, unpoisoned (the giver clears
// ASan's poison first). The takers rewrite or zero what they promise to be zero
// (PageAllocator::new_page writes every header field and zeroes pages in the zero-on-free mode;
// Mapping zeroes the elements an array grows into).
//
// Bound: the limit is, by default, the footprint of the largest heap destroyed so far (one
// heap's worth, as malloc's dynamic mmap threshold follows the largest block freed), capped at
// kDefaultCap; set_limit() fixes it, 0 turns the cache off, SNAPHEAP_PAGE_CACHE=0 in the
// environment starts the process with it off. Memory given beyond the limit evicts the oldest
// entries (munmap). Trim: entries idle for kIdleNs are unmapped at the next cache operation or
// collection of any heap (trim_idle), and trim() unmaps everything. Thread-safe (one mutex).
#pragma once

#include <cstddef>
#include <cstdint>

namespace snapheap::detail {

inline constexpr std::size_t kChunkBytes = std::size_t{4} << 20;  // the page allocator's chunks

namespace memory_cache {

inline constexpr std::size_t kDefaultCap = std::size_t{1} << 30;
inline constexpr std::uint64_t kIdleNs = 10'000'000'000;  // 10 s
/// Roles of cached mappings are 1 .. kMappingRoles - 1 (Mapping's role); 0 is a chunk.
inline constexpr unsigned kMappingRoles = 8;

/// A cached chunk (kChunkBytes, aligned as it was mapped), or null.
void* take_chunk() noexcept;
/// Keeps the chunk (true) or, with the cache off or the chunk bigger than the limit, leaves it
/// to the caller to unmap (false).
bool keep_chunk(void* chunk) noexcept;

struct CachedMapping {
  void* data = nullptr;
  std::size_t bytes = 0;
};
/// The largest cached mapping of `role`, or {null, 0}.
CachedMapping take_mapping(unsigned role) noexcept;
/// As keep_chunk, for a mapping of `bytes` (a multiple of the system page).
bool keep_mapping(unsigned role, void* data, std::size_t bytes) noexcept;

/// A heap whose chunks and mappings total `bytes` is being destroyed (before it gives them).
void note_heap(std::size_t bytes) noexcept;

/// `bytes` as the fixed limit (~0: back to the default); the excess is unmapped now.
void set_limit(std::size_t bytes) noexcept;
std::size_t limit() noexcept;
/// Bytes held now.
std::size_t bytes() noexcept;
/// Unmaps everything held.
void trim() noexcept;
/// Unmaps what has been idle for kIdleNs; one atomic load when the cache is empty.
void trim_idle() noexcept;

}  // namespace memory_cache
}  // namespace snapheap::detail
