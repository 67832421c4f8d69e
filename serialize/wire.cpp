#include "snapheap/detail/wire.hpp"

#include <algorithm>
#include <bit>
#include <iterator>

namespace snapheap::detail::wire {

std::size_t decode_varint_slow(const unsigned char* p, const unsigned char* end, std::uint64_t& out) noexcept {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < kMaxVarint64; ++i) {
    if (p + i == end) return 0;
    const unsigned char b = p[i];
    if (i == kMaxVarint64 - 1 && b > 1) return kMalformed;  // more than 64 bits
    v |= std::uint64_t{b & 0x7fu} << (7 * i);
    if (!(b & 0x80)) {
      if (b == 0 && i > 0) return kMalformed;  // overlong
      out = v;
      return i + 1;
    }
  }
  return kMalformed;
}

std::size_t decode_varint128(const unsigned char* p, const unsigned char* end, uint128& out) noexcept {
  uint128 v = 0;
  for (std::size_t i = 0; i < kMaxVarint128; ++i) {
    if (p + i == end) return 0;
    const unsigned char b = p[i];
    if (i == kMaxVarint128 - 1 && b > 3) return kMalformed;  // more than 128 bits
    v |= static_cast<uint128>(b & 0x7fu) << (7 * i);
    if (!(b & 0x80)) {
      if (b == 0 && i > 0) return kMalformed;  // overlong
      out = v;
      return i + 1;
    }
  }
  return kMalformed;
}

unsigned char native_byte_order() noexcept {
  return std::endian::native == std::endian::little ? kLittleEndian : kBigEndian;
}

void write_header(unsigned char (&out)[kHeaderSize]) noexcept {
  std::fill(std::begin(out), std::end(out), 0);
  std::copy(std::begin(kMagic), std::end(kMagic), out);
  store_le(out + kVersionAt, kFormatVersion, 2);
  out[kByteOrderAt] = native_byte_order();
  out[kFloatFormatAt] = kIeee754;
}

}  // namespace snapheap::detail::wire
