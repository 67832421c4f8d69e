// Size classes of the page allocator. Not API.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace snapheap::detail {

inline constexpr std::size_t kMaxSmallSizeForClasses = 8192;

// Size classes: 8-byte steps to 128 bytes (most objects), then eight classes per doubling, so
// that internal waste stays under 12.5%. Every class above 128 is a multiple of 16, and an object
// aligned to 16 has a size that is a multiple of 16, so its cells are 16-aligned.
inline constexpr std::array<std::uint32_t, 63> kClassSizes = [] {
  std::array<std::uint32_t, 63> sizes{};
  std::size_t n = 0;
  for (std::uint32_t s = 16; s <= 128; s += 8) sizes[n++] = s;
  for (std::uint32_t base = 128; base < kMaxSmallSizeForClasses; base *= 2)
    for (std::uint32_t k = 1; k <= 8; ++k) sizes[n++] = base + k * (base / 8);
  return sizes;
}();
inline constexpr std::size_t kClassCount = kClassSizes.size();
static_assert(kClassSizes.back() == kMaxSmallSizeForClasses);

// size_class_for[(bytes + 7) / 8] for bytes <= kMaxSmallSizeForClasses.
inline constexpr std::array<std::uint8_t, kMaxSmallSizeForClasses / 8 + 1> kClassBySize = [] {
  std::array<std::uint8_t, kMaxSmallSizeForClasses / 8 + 1> table{};
  std::size_t c = 0;
  for (std::size_t i = 0; i < table.size(); ++i) {
    while (kClassSizes[c] < i * 8) ++c;
    table[i] = static_cast<std::uint8_t>(c);
  }
  return table;
}();

// floor(offset / cell) for offset < 64 KiB and cell <= 8 KiB as one multiply: with
// m = ceil(2^32 / cell) the error is below 2^-16, smaller than the gap 1/cell to the next integer.
inline std::uint32_t cell_index(std::uint32_t offset, std::uint32_t reciprocal) noexcept {
  return static_cast<std::uint32_t>((std::uint64_t{offset} * reciprocal) >> 32);
}
inline std::uint32_t reciprocal_of(std::uint32_t cell) noexcept {
  return static_cast<std::uint32_t>(((std::uint64_t{1} << 32) + cell - 1) / cell);
}


}  // namespace snapheap::detail
