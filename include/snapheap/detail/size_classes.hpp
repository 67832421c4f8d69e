// Size classes of the page allocator (make()'s inline path picks one). Not API.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace snapheap::detail {

/// Objects up to this size share pages by size class; larger ones get a block of their own.
inline constexpr std::size_t kMaxSmallSize = 8192;

// Size classes: 8-byte steps to 128 bytes (most objects), then eight classes per doubling, so
// that internal waste stays under 12.5%. Every class above 128 is a multiple of 16, and an object
// aligned to 16 has a size that is a multiple of 16, so its cells are 16-aligned.
inline constexpr std::array<std::uint32_t, 63> kClassSizes = [] {
  std::array<std::uint32_t, 63> sizes{};
  std::size_t n = 0;
  for (std::uint32_t s = 16; s <= 128; s += 8) sizes[n++] = s;
  for (std::uint32_t base = 128; base < kMaxSmallSize; base *= 2)
    for (std::uint32_t k = 1; k <= 8; ++k) sizes[n++] = base + k * (base / 8);
  return sizes;
}();
inline constexpr std::size_t kClassCount = kClassSizes.size();
static_assert(kClassSizes.back() == kMaxSmallSize);

// size_class_for[(bytes + 7) / 8] for bytes <= kMaxSmallSize.
inline constexpr std::array<std::uint8_t, kMaxSmallSize / 8 + 1> kClassBySize = [] {
  std::array<std::uint8_t, kMaxSmallSize / 8 + 1> table{};
  std::size_t c = 0;
  for (std::size_t i = 0; i < table.size(); ++i) {
    while (kClassSizes[c] < i * 8) ++c;
    table[i] = static_cast<std::uint8_t>(c);
  }
  return table;
}();

}  // namespace snapheap::detail
