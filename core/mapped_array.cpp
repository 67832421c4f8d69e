#include "core/mapped_array.hpp"

#include "core/memory_cache.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace snapheap::detail {

namespace {
std::size_t page_rounded(std::size_t bytes) noexcept {
  static const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return (bytes + page - 1) / page * page;
}
}  // namespace

Mapping::~Mapping() {
  if (data_ && !(role_ != 0 && memory_cache::keep_mapping(role_, data_, bytes_))) munmap(data_, bytes_);
}

void Mapping::clear_stale_slow(std::size_t from, std::size_t to) noexcept {
  to = std::min(to, stale_bytes_);
  if (from < to) std::memset(static_cast<char*>(data_) + from, 0, to - from);
}

void Mapping::reserve(std::size_t bytes) {
  if (bytes <= bytes_) return;
  if (!data_ && role_ != 0) {
    // A destroyed table's array of the same role: warm, its bytes stale until grow_to() zeroes them.
    const memory_cache::CachedMapping cached = memory_cache::take_mapping(role_);
    if (cached.data) {
      data_ = cached.data;
      bytes_ = stale_bytes_ = cached.bytes;
      if (bytes <= bytes_) return;
    }
  }
  // At least double, so that the table's many small growths cost few system calls.
  const std::size_t want = page_rounded(std::max({bytes, 2 * bytes_, std::size_t{64} << 10}));
  void* p = data_ ? mremap(data_, bytes_, want, MREMAP_MAYMOVE)
                  : mmap(nullptr, want, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  data_ = p;
  bytes_ = want;
}

}  // namespace snapheap::detail
