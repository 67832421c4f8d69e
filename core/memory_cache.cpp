#include "core/memory_cache.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

namespace snapheap::detail::memory_cache {

namespace {

constexpr std::size_t kUnset = ~std::size_t{0};  // no fixed limit: the default's

struct Entry {
  void* data;
  std::size_t bytes;
  unsigned role;  // 0: a chunk
  std::uint64_t since_ns;  // when it was given
};

std::uint64_t now_ns() noexcept {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

bool off_by_environment() noexcept {
  const char* value = std::getenv("SNAPHEAP_PAGE_CACHE");
  return value && std::strcmp(value, "0") == 0;
}

struct Cache {
  std::mutex mutex;
  std::vector<Entry> entries;  // oldest first
  std::atomic<std::size_t> held{0};
  std::size_t fixed_limit = off_by_environment() ? 0 : kUnset;
  std::size_t largest_heap = 0;

  std::size_t limit() const noexcept {
    if (fixed_limit != kUnset) return fixed_limit;
    return std::min(largest_heap, kDefaultCap);
  }
  // Unmaps entry i (the caller holds the mutex).
  void drop(std::size_t i) noexcept {
    ::munmap(entries[i].data, entries[i].bytes);
    held.fetch_sub(entries[i].bytes, std::memory_order_relaxed);
    entries.erase(entries.begin() + static_cast<std::ptrdiff_t>(i));
  }
  void drop_idle(std::uint64_t now) noexcept {
    std::size_t count = 0;
    while (count < entries.size() && now - entries[count].since_ns >= kIdleNs) ++count;
    for (std::size_t i = 0; i < count; ++i) {
      ::munmap(entries[i].data, entries[i].bytes);
      held.fetch_sub(entries[i].bytes, std::memory_order_relaxed);
    }
    entries.erase(entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(count));
  }
  // Unmaps the oldest entries until `room` more bytes fit under the limit.
  void make_room(std::size_t room) noexcept {
    const std::size_t cap = limit();
    while (!entries.empty() && held.load(std::memory_order_relaxed) + room > cap) drop(0);
  }
  bool keep(unsigned role, void* data, std::size_t bytes) noexcept {
    std::lock_guard<std::mutex> lock(mutex);
    const std::uint64_t now = now_ns();
    drop_idle(now);
    if (bytes > limit()) return false;
    make_room(bytes);
    try {
      entries.push_back({data, bytes, role, now});
    } catch (...) {
      return false;  // no memory for the bookkeeping: the caller unmaps
    }
    held.fetch_add(bytes, std::memory_order_relaxed);
    return true;
  }
  // The newest entry of `role` (chunks), or the largest (mappings, newest among equals).
  Entry take(unsigned role) noexcept {
    if (held.load(std::memory_order_relaxed) == 0) return {nullptr, 0, role, 0};
    std::lock_guard<std::mutex> lock(mutex);
    drop_idle(now_ns());
    std::size_t best = entries.size();
    for (std::size_t i = entries.size(); i-- > 0;) {
      if (entries[i].role != role) continue;
      if (best == entries.size() || entries[i].bytes > entries[best].bytes) best = i;
      if (role == 0) break;
    }
    if (best == entries.size()) return {nullptr, 0, role, 0};
    const Entry e = entries[best];
    entries.erase(entries.begin() + static_cast<std::ptrdiff_t>(best));
    held.fetch_sub(e.bytes, std::memory_order_relaxed);
    return e;
  }
};

// Never destroyed: heaps may be destroyed by other static destructors after this file's.
Cache& cache() noexcept {
  static Cache* const instance = new Cache;
  return *instance;
}

}  // namespace

void* take_chunk() noexcept { return cache().take(0).data; }

bool keep_chunk(void* chunk) noexcept { return cache().keep(0, chunk, kChunkBytes); }

CachedMapping take_mapping(unsigned role) noexcept {
  const Entry e = cache().take(role);
  return {e.data, e.bytes};
}

bool keep_mapping(unsigned role, void* data, std::size_t bytes) noexcept {
  if (role == 0 || role >= kMappingRoles) return false;
  return cache().keep(role, data, bytes);
}

void note_heap(std::size_t bytes) noexcept {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  c.largest_heap = std::max(c.largest_heap, bytes);
}

void set_limit(std::size_t bytes) noexcept {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  c.fixed_limit = bytes;
  c.make_room(0);
}

std::size_t limit() noexcept {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  return c.limit();
}

std::size_t bytes() noexcept { return cache().held.load(std::memory_order_relaxed); }

void trim() noexcept {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  while (!c.entries.empty()) c.drop(c.entries.size() - 1);
}

void trim_idle() noexcept {
  Cache& c = cache();
  if (c.held.load(std::memory_order_relaxed) == 0) return;
  std::lock_guard<std::mutex> lock(c.mutex);
  c.drop_idle(now_ns());
}

}  // namespace snapheap::detail::memory_cache
