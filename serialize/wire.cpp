#include "snapheap/detail/wire.hpp"

#include <algorithm>
#include <bit>
#include <iterator>

namespace snapheap::detail::wire {

namespace {
// Shortest-form LEB128 of up to `kMax` bytes whose last byte may carry at most `kLastMax`.
template <class Unsigned, std::size_t kMax, unsigned kLastMax>
std::size_t decode(const unsigned char* p, const unsigned char* end, Unsigned& out) noexcept {
  Unsigned v = 0;
  for (std::size_t i = 0; i < kMax; ++i) {
    if (p + i == end) return 0;
    const unsigned char b = p[i];
    if (i == kMax - 1 && b > kLastMax) return kMalformed;  // wider than the type
    v |= static_cast<Unsigned>(b & 0x7fu) << (7 * i);
    if (!(b & 0x80)) {
      if (b == 0 && i > 0) return kMalformed;  // overlong
      out = v;
      return i + 1;
    }
  }
  return kMalformed;
}
}  // namespace

std::size_t decode_varint_slow(const unsigned char* p, const unsigned char* end, std::uint64_t& out) noexcept {
  return decode<std::uint64_t, kMaxVarint64, 1>(p, end, out);  // 10 x 7 bits: the last carries 1
}

std::size_t decode_varint128(const unsigned char* p, const unsigned char* end, uint128& out) noexcept {
  return decode<uint128, kMaxVarint128, 3>(p, end, out);  // 19 x 7 bits: the last carries 2
}

unsigned char native_byte_order() noexcept {
  return std::endian::native == std::endian::little ? kLittleEndian : kBigEndian;
}

void write_header(unsigned char (&out)[kHeaderSize], std::uint16_t version) noexcept {
  std::fill(std::begin(out), std::end(out), 0);
  std::copy(std::begin(kMagic), std::end(kMagic), out);
  store_le(out + kVersionAt, version, 2);
  out[kByteOrderAt] = native_byte_order();
  out[kFloatFormatAt] = kIeee754;
}

}  // namespace snapheap::detail::wire
