// The snapshot wire encoding, in one place: varints, zigzag, reference codes, little-endian
// integers and the header's layout. The archives (inline), the writer, the reader and its
// lookahead, inspect() and the tool all encode and decode through these. Not API; the format
// as a whole is described at the top of serialize/format.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

namespace snapheap::detail::wire {

// ---- varints: unsigned LEB128 in its shortest form ------------------------------------------------

/// decode_varint's result for an overlong encoding or one too large for its width.
inline constexpr std::size_t kMalformed = std::numeric_limits<std::size_t>::max();
inline constexpr std::size_t kMaxVarint64 = 10;
inline constexpr std::size_t kMaxVarint128 = 19;

/// Writes v (a 64- or 128-bit unsigned integer) into out, which has room for its varint.
template <class Unsigned>
inline std::size_t encode_varint(unsigned char* out, Unsigned v) noexcept {
  std::size_t n = 0;
  while (v >= 0x80) {
    out[n++] = static_cast<unsigned char>(v | 0x80);
    v >>= 7;
  }
  out[n++] = static_cast<unsigned char>(v);
  return n;
}
inline std::size_t varint_size(std::uint64_t v) noexcept {
  std::size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

/// The general decoder: the bytes used, 0 if [p, end) ends first, or kMalformed.
std::size_t decode_varint_slow(const unsigned char* p, const unsigned char* end, std::uint64_t& out) noexcept;

/// Decodes a varint of up to four bytes (values below 2^28: counts, lengths, small integers and
/// references across up to 2^26 objects) without a bounds check: the caller guarantees that four
/// bytes are readable (inside the record section, which the 24-byte trailer always follows).
/// Returns 0 when the general decoder must decide, and the byte count otherwise; the caller still
/// checks that count against its own end.
inline std::size_t decode_short_varint(const unsigned char* p, std::uint64_t& out) noexcept {
  const std::uint64_t b0 = p[0];
  if (b0 < 0x80) {
    out = b0;
    return 1;
  }
  const std::uint64_t b1 = p[1];
  if (b1 < 0x80) {
    if (b1 == 0) return 0;  // overlong: the general decoder reports it
    out = (b0 & 0x7f) | (b1 << 7);
    return 2;
  }
  const std::uint64_t b2 = p[2];
  if (b2 < 0x80) {
    if (b2 == 0) return 0;
    out = (b0 & 0x7f) | ((b1 & 0x7f) << 7) | (b2 << 14);
    return 3;
  }
  const std::uint64_t b3 = p[3];
  if (b3 < 0x80 && b3 != 0) {
    out = (b0 & 0x7f) | ((b1 & 0x7f) << 7) | ((b2 & 0x7f) << 14) | (b3 << 21);
    return 4;
  }
  return 0;
}

/// Decodes a varint in [p, end): the bytes used, 0 if cut short, or kMalformed.
inline std::size_t decode_varint(const unsigned char* p, const unsigned char* end, std::uint64_t& out) noexcept {
  if (end - p >= 4) [[likely]] {
    if (const std::size_t n = decode_short_varint(p, out)) return n;
  }
  return decode_varint_slow(p, end, out);
}

// ---- 128-bit integers ---------------------------------------------------------------------------------

__extension__ using int128 = __int128;
__extension__ using uint128 = unsigned __int128;

/// As decode_varint, for up to 128 bits (19 bytes, the last carrying only the top 2 bits).
std::size_t decode_varint128(const unsigned char* p, const unsigned char* end, uint128& out) noexcept;

// ---- zigzag: signed integers as varints ---------------------------------------------------------------

constexpr std::uint64_t zigzag(std::int64_t v) noexcept {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
constexpr std::int64_t unzigzag(std::uint64_t v) noexcept {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}
constexpr uint128 zigzag128(int128 v) noexcept {
  return (static_cast<uint128>(v) << 1) ^ static_cast<uint128>(v >> 127);
}
constexpr int128 unzigzag128(uint128 v) noexcept {
  return static_cast<int128>(v >> 1) ^ -static_cast<int128>(v & 1);
}

// ---- references ---------------------------------------------------------------------------------------

// Reference codes, as stored, format version 2 (what this library writes):
//   0 an empty Member                 3 a tombstone: the target was left out (alive, not saved)
//   1 an empty Weak                   4 a Member to an external root, then varint: its index
//   2 a tombstone: the target expired 5 a Weak to an external root, then varint: its index
//   otherwise code - 6 = zigzag(id - previous id in this record) << 1 | weak.
// The index is into the snapshot's external-root table; external references do not move the
// previous ID. The first ID reference of a record is relative to the record's own ID: chains and
// arrays of neighbours cost one byte each.
// Format version 1: 0, 1 as above, 2 a tombstone (the file does not say which kind), and ID
// references from code 3 (code - 3 = zigzag(delta) << 1 | weak); no external references.
inline constexpr std::uint64_t kEmptyStrongRef = 0;
inline constexpr std::uint64_t kEmptyWeakRef = 1;
inline constexpr std::uint64_t kExpiredRef = 2;
inline constexpr std::uint64_t kLeftOutRef = 3;
inline constexpr std::uint64_t kExternalStrongRef = 4;
inline constexpr std::uint64_t kExternalWeakRef = 5;
inline constexpr std::uint64_t kFirstIdRef = 6;
/// Version 1: a tombstone of either kind (the same code as version 2's expired one).
inline constexpr std::uint64_t kTombstoneRef = 2;
inline constexpr std::uint64_t kFirstIdRefV1 = 3;

/// The first ID reference code of a format version (the reader accepts 1 and 2).
constexpr std::uint64_t first_id_ref(std::uint16_t format_version) noexcept {
  return format_version == 1 ? kFirstIdRefV1 : kFirstIdRef;
}

inline std::uint64_t encode_ref(std::uint32_t id, std::uint32_t previous, bool weak,
                                std::uint64_t first_id = kFirstIdRef) noexcept {
  const std::int64_t delta = static_cast<std::int64_t>(id) - static_cast<std::int64_t>(previous);
  return ((zigzag(delta) << 1) | (weak ? 1u : 0u)) + first_id;
}

enum class RefKind : std::uint8_t {
  empty_strong,
  empty_weak,
  tombstone,        // version 1: a tombstone of either kind
  expired,          // version 2: the target had died when the snapshot was written
  left_out,         // version 2: the target was alive but not in the snapshot
  external_strong,  // version 2: a Member to the external root `index`
  external_weak,    // version 2: a Weak to the external root `index`
  strong,
  weak,
};
struct Ref {
  RefKind kind;
  std::int64_t id;  // for strong and weak: the target's ID (checked by the caller against the count)
  std::uint64_t index = 0;  // for the external kinds (checked by the caller against the table)
};
constexpr bool is_weak(RefKind kind) noexcept {
  return kind == RefKind::empty_weak || kind == RefKind::tombstone || kind == RefKind::expired ||
         kind == RefKind::left_out || kind == RefKind::external_weak || kind == RefKind::weak;
}
constexpr bool is_external(RefKind kind) noexcept {
  return kind == RefKind::external_strong || kind == RefKind::external_weak;
}
/// Decodes the code of one reference (for the external kinds, the index that follows is read by
/// decode_reference). `first_id` is first_id_ref(format version).
inline Ref decode_ref(std::uint64_t code, std::int64_t previous, std::uint64_t first_id = kFirstIdRef) noexcept {
  switch (code) {
    case kEmptyStrongRef: return {RefKind::empty_strong, -1};
    case kEmptyWeakRef: return {RefKind::empty_weak, -1};
    case kExpiredRef: return {first_id == kFirstIdRefV1 ? RefKind::tombstone : RefKind::expired, -1};
    default: break;
  }
  if (code < first_id) {
    if (code == kLeftOutRef) return {RefKind::left_out, -1};
    return {code == kExternalStrongRef ? RefKind::external_strong : RefKind::external_weak, -1};
  }
  const std::uint64_t d = code - first_id;
  return {(d & 1) ? RefKind::weak : RefKind::strong, previous + unzigzag(d >> 1)};
}
/// Decodes one whole reference from [p, end): its code and, for an external one, the index.
/// Returns the bytes used, 0 if cut short, or kMalformed. The one reference decoder of the
/// reader's slow path, its lookahead and inspect().
inline std::size_t decode_reference(const unsigned char* p, const unsigned char* end, std::int64_t previous,
                                    std::uint64_t first_id, Ref& out) noexcept {
  std::uint64_t code = 0;
  const std::size_t n = decode_varint(p, end, code);
  if (n == 0 || n == kMalformed) return n;
  out = decode_ref(code, previous, first_id);
  if (!is_external(out.kind)) return n;
  const std::size_t m = decode_varint(p + n, end, out.index);
  if (m == 0 || m == kMalformed) return m;
  return n + m;
}

// ---- little-endian integers ---------------------------------------------------------------------------

inline std::uint64_t load_le(const unsigned char* p, int bytes) noexcept {
  std::uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
inline void store_le(unsigned char* p, std::uint64_t v, int bytes) noexcept {
  for (int i = 0; i < bytes; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}

// ---- the header and the trailer -----------------------------------------------------------------------

inline constexpr unsigned char kMagic[8] = {0x89, 'S', 'N', 'H', '\r', '\n', 0x1a, '\n'};
inline constexpr unsigned char kEndMagic[8] = {'S', 'N', 'H', 'E', 'N', 'D', 0x1a, '\n'};
/// The newest version this library writes; it reads 1 to 3 (serialize/format.hpp). A snapshot
/// without weak structures (Ephemeron fields, weak maps) is written in version 2, which has no
/// summary section, so that it stays readable by the libraries that read version 2.
inline constexpr std::uint16_t kFormatVersion = 3;
inline constexpr std::uint16_t kFormatVersionWithoutSummary = 2;
inline constexpr std::uint16_t kOldestFormatVersion = 1;
inline constexpr std::size_t kHeaderSize = 16;
inline constexpr std::size_t kTrailerSize = 24;
// Header fields, by offset.
inline constexpr std::size_t kVersionAt = 8;      // u16
inline constexpr std::size_t kByteOrderAt = 10;   // u8
inline constexpr std::size_t kFloatFormatAt = 11; // u8
inline constexpr std::size_t kReservedAt = 12;    // u32, zero
inline constexpr unsigned char kLittleEndian = 1;
inline constexpr unsigned char kBigEndian = 2;
inline constexpr unsigned char kIeee754 = 1;
// Trailer fields, by offset from the trailer's start.
inline constexpr std::size_t kLengthAt = 0;       // u64: the snapshot's total length
inline constexpr std::size_t kEndMagicAt = 8;
inline constexpr std::size_t kChecksumAt = 16;    // u64: XXH3-64 of every byte before this field

unsigned char native_byte_order() noexcept;
/// The header this library writes, for a format version it writes.
void write_header(unsigned char (&out)[kHeaderSize], std::uint16_t version) noexcept;

}  // namespace snapheap::detail::wire
