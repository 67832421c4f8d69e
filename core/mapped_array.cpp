#include "core/mapped_array.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>

namespace snapheap::detail {

namespace {
std::size_t page_rounded(std::size_t bytes) noexcept {
  static const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return (bytes + page - 1) / page * page;
}
}  // namespace

Mapping::~Mapping() {
  if (data_) munmap(data_, bytes_);
}

void Mapping::reserve(std::size_t bytes) {
  if (bytes <= bytes_) return;
  // At least double, so that the table's many small growths cost few system calls.
  const std::size_t want = page_rounded(std::max({bytes, 2 * bytes_, std::size_t{64} << 10}));
  void* p = data_ ? mremap(data_, bytes_, want, MREMAP_MAYMOVE)
                  : mmap(nullptr, want, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  data_ = p;
  bytes_ = want;
}

}  // namespace snapheap::detail
