// The snapshot format, version 1. All integers are little-endian; "varint" is unsigned LEB128 in
// its shortest form (a longer encoding of the same value is rejected).
//
//   header   16 bytes   magic "\x89SNH\r\n\x1a\n", u16 format version, u8 byte order (1 little,
//                       2 big), u8 float format (1 IEEE 754), u32 reserved (0)
//   types    varint T, then T x { varint name length, name bytes, varint class version }
//   objects  varint N (objects), varint R (runs), then R x { varint type index, varint count }:
//            the type of every object in ID order, run-length encoded (the counts sum to N)
//   records  N x { varint length L, then L bytes: varint reference bytes B, B bytes of
//            reference codes (varints, see archive.hpp), the rest the type's data }
//   roots    varint count, then { varint name length, name bytes, varint object ID } in
//            strictly increasing name order
//   trailer  24 bytes   u64 total length of the snapshot, end magic "SNHEND\x1a\n",
//                       u64 XXH3-64 of every byte before this field
//
// Objects are numbered 0..N-1 in the order the writer reached them from the roots (breadth
// first), so a record's references are mostly to near neighbours and encode in a byte or two.
// Every count and length read back is checked against the bytes that remain before anything
// is allocated for it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "snapheap/errors.hpp"

namespace snapheap::detail::format {

inline constexpr unsigned char kMagic[8] = {0x89, 'S', 'N', 'H', '\r', '\n', 0x1a, '\n'};
inline constexpr unsigned char kEndMagic[8] = {'S', 'N', 'H', 'E', 'N', 'D', 0x1a, '\n'};
inline constexpr std::uint16_t kFormatVersion = 1;
inline constexpr std::size_t kHeaderSize = 16;
inline constexpr std::size_t kTrailerSize = 24;
inline constexpr unsigned char kLittleEndian = 1;
inline constexpr unsigned char kBigEndian = 2;
inline constexpr unsigned char kIeee754 = 1;
inline constexpr std::size_t kMaxNameLength = 4096;
/// The smallest record is two bytes (length 1, no references): N objects need 2N bytes.
inline constexpr std::size_t kMinRecordBytes = 2;

unsigned char native_byte_order() noexcept;

/// Decodes a varint in [p, end) in shortest form; returns the bytes used, 0 if cut short, or
/// SIZE_MAX if overlong or too large for 64 bits.
std::size_t decode_varint_slow(const unsigned char* p, const unsigned char* end, std::uint64_t& out) noexcept;
inline std::size_t decode_varint(const unsigned char* p, const unsigned char* end, std::uint64_t& out) noexcept {
  // Most varints in a snapshot take one to four bytes (lengths, counts, references).
  if (end - p >= 4) [[likely]] {
    if (p[0] < 0x80) {
      out = p[0];
      return 1;
    }
    if (p[1] < 0x80) {
      if (p[1] == 0) return decode_varint_slow(p, end, out);  // overlong: reported there
      out = (p[0] & 0x7fu) | (std::uint64_t{p[1]} << 7);
      return 2;
    }
    if (p[2] < 0x80) {
      if (p[2] == 0) return decode_varint_slow(p, end, out);
      out = (p[0] & 0x7fu) | (std::uint64_t{p[1] & 0x7fu} << 7) | (std::uint64_t{p[2]} << 14);
      return 3;
    }
    if (p[3] < 0x80 && p[3] != 0) {
      out = (p[0] & 0x7fu) | (std::uint64_t{p[1] & 0x7fu} << 7) | (std::uint64_t{p[2] & 0x7fu} << 14) |
            (std::uint64_t{p[3]} << 21);
      return 4;
    }
  }
  return decode_varint_slow(p, end, out);
}
/// A bounds-checked reader over a snapshot's bytes. Every failure names what was being read
/// and the byte offset.
class Cursor {
 public:
  Cursor(const unsigned char* file_begin, const unsigned char* begin, const unsigned char* end) noexcept
      : file_(file_begin), cur_(begin), end_(end) {}

  std::uint64_t varint(const char* what) {
    std::uint64_t v;
    const std::size_t n = decode_varint(cur_, end_, v);
    if (n == 0 || n > 10) [[unlikely]]
      varint_failure(n, what);
    cur_ += n;
    return v;
  }
  const unsigned char* bytes(std::size_t n, const char* what);
  std::string_view name(const char* what);
  /// A cursor over the next n bytes (which this one skips).
  Cursor sub(std::size_t n, const char* what);
  /// Skips n bytes the caller has checked are there.
  void skip(std::size_t n) noexcept { cur_ += n; }
  std::size_t remaining() const noexcept { return static_cast<std::size_t>(end_ - cur_); }
  std::uint64_t offset() const noexcept { return static_cast<std::uint64_t>(cur_ - file_); }
  const unsigned char* position() const noexcept { return cur_; }
  const unsigned char* file() const noexcept { return file_; }
  [[noreturn]] void fail(SnapshotErrc code, const std::string& what) const;

 private:
  [[noreturn]] void varint_failure(std::size_t n, const char* what) const;

  const unsigned char* file_;
  const unsigned char* cur_;
  const unsigned char* end_;
};

inline std::size_t varint_size(std::uint64_t v) noexcept {
  std::size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

struct TypeEntry {
  std::string_view name;
  std::uint32_t version = 0;
  std::uint64_t offset = 0;
};
struct Run {
  std::uint32_t type = 0;
  std::uint32_t count = 0;
};
struct Prefix {
  std::uint16_t format_version = 0;
  unsigned char byte_order = 0;
  std::vector<TypeEntry> types;
  std::uint32_t object_count = 0;
  std::vector<Run> runs;
};
struct Record {
  std::uint64_t offset = 0;  // of the record's length field
  const unsigned char* refs = nullptr;
  const unsigned char* data = nullptr;
  const unsigned char* end = nullptr;
};
struct RootEntry {
  std::string_view name;
  std::uint32_t id = 0;
};

/// Checks the header, then the trailer (a cut or unfinished file is reported as truncated),
/// then the checksum. Returns a cursor over the body: from the type table to the trailer.
Cursor open(std::span<const unsigned char> bytes, bool verify_checksum, Prefix& prefix);
/// Reads the type table and the type runs.
void read_prefix(Cursor& cursor, Prefix& prefix);
Record read_record_slow(Cursor& cursor, std::uint32_t id);
/// The next record: its length, then the byte size of its references. Inline when both are short
/// and in range; read_record_slow checks and reports everything else.
inline Record read_record(Cursor& cursor, std::uint32_t id) {
  const unsigned char* p = cursor.position();
  const unsigned char* end = p + cursor.remaining();
  std::uint64_t length, ref_bytes;
  const std::size_t n = decode_varint(p, end, length);
  if (n != 0 && n <= 10 && length != 0 && length <= static_cast<std::uint64_t>(end - p) - n) [[likely]] {
    const unsigned char* body = p + n;
    const unsigned char* body_end = body + length;
    const std::size_t m = decode_varint(body, body_end, ref_bytes);
    if (m != 0 && m <= 10 && ref_bytes <= static_cast<std::uint64_t>(body_end - body) - m) [[likely]] {
      Record r;
      r.offset = cursor.offset();
      r.refs = body + m;
      r.data = r.refs + ref_bytes;
      r.end = body_end;
      cursor.skip(n + static_cast<std::size_t>(length));
      return r;
    }
  }
  return read_record_slow(cursor, id);
}
std::vector<RootEntry> read_roots(Cursor& cursor, std::uint32_t object_count);
/// After the roots: nothing may be left before the trailer.
void expect_end(const Cursor& cursor);

}  // namespace snapheap::detail::format
