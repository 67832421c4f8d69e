// The snapshot format, version 3 (this library writes versions 2 and 3 and reads 1 to 3). All integers
// are little-endian; "varint" is unsigned LEB128 in its shortest form (a longer encoding of the
// same value is rejected).
//
//   header     16 bytes   magic "\x89SNH\r\n\x1a\n", u16 format version, u8 byte order (1 little,
//                         2 big), u8 float format (1 IEEE 754), u32 reserved (0)
//   types      varint T, then T x { varint name length, name bytes, varint class version }
//   objects    varint N (objects), varint R (runs), then R x { varint type index, varint count }:
//              the type of every object in ID order, run-length encoded (the counts sum to N)
//   externals  (version 2) varint E, then E x { varint name length, name bytes } in strictly
//              increasing name order: the roots of the destination heap that the records refer to
//              by name (SaveOptions::external), each referred to at least once when save wrote it
//   records    N x { varint length L, then L bytes: varint reference bytes B, B bytes of
//              references (see snapheap/detail/wire.hpp), the rest the type's data }
//   roots      varint count, then { varint name length, name bytes, varint object ID } in
//              strictly increasing name order
//   summary    (version 3) varint F, then F varints: what the weak structures kept, F >= 4:
//              Ephemeron fields and WeakKeyMap entries saved (their key was saved) and dropped
//              (not written), WeakValueMap entries saved and dropped; fields past the fourth are
//              for later versions and skipped
//   trailer    24 bytes   u64 total length of the snapshot, end magic "SNHEND\x1a\n",
//                         u64 XXH3-64 of every byte before this field
//
// The writer uses version 3 only for a snapshot that holds weak structures; version 2 is version 3
// without the summary. Version 1 is version 2 without the externals section, and with version 1's reference codes
// (one tombstone code, ID references from code 3: wire.hpp).
//
// Objects are numbered 0..N-1 in the order the writer reached them from the roots (breadth
// first), so a record's references are mostly to near neighbours and encode in a byte or two.
// Every count and length read back is checked against the bytes that remain before anything
// is allocated for it. The encodings themselves (varints, reference codes, the header's and the
// trailer's fields) are snapheap/detail/wire.hpp's; this file reads the sections.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "snapheap/detail/wire.hpp"
#include "snapheap/errors.hpp"

namespace snapheap::detail::format {

inline constexpr std::size_t kMaxNameLength = 4096;
/// The smallest record is two bytes (length 1, no references): N objects need 2N bytes.
inline constexpr std::size_t kMinRecordBytes = 2;

/// A bounds-checked reader over a snapshot's bytes. Every failure names what was being read
/// and the byte offset.
class Cursor {
 public:
  Cursor(const unsigned char* file_begin, const unsigned char* begin, const unsigned char* end) noexcept
      : file_(file_begin), cur_(begin), end_(end) {}

  std::uint64_t varint(const char* what) {
    std::uint64_t v;
    const std::size_t n = wire::decode_varint(cur_, end_, v);
    if (n == 0 || n == wire::kMalformed) [[unlikely]]
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
  std::vector<std::string_view> externals;  // version 2: the external-root table, in name order
  std::uint64_t externals_offset = 0;       // where that table starts (the end of the runs)
  /// wire::first_id_ref(format_version)
  std::uint64_t first_id_ref() const noexcept { return wire::first_id_ref(format_version); }
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
/// Reads the type table, the type runs and (version 2) the external-root table.
void read_prefix(Cursor& cursor, Prefix& prefix);
Record read_record_slow(Cursor& cursor, std::uint32_t id);
/// The next record: its length, then the byte size of its references. Inline when both are short
/// and in range; read_record_slow checks and reports everything else.
inline Record read_record(Cursor& cursor, std::uint32_t id) {
  const unsigned char* p = cursor.position();
  const unsigned char* end = p + cursor.remaining();
  std::uint64_t length, ref_bytes;
  const std::size_t n = wire::decode_varint(p, end, length);
  if (n != 0 && n != wire::kMalformed && length != 0 && length <= static_cast<std::uint64_t>(end - p) - n) [[likely]] {
    const unsigned char* body = p + n;
    const unsigned char* body_end = body + length;
    const std::size_t m = wire::decode_varint(body, body_end, ref_bytes);
    if (m != 0 && m != wire::kMalformed && ref_bytes <= static_cast<std::uint64_t>(body_end - body) - m) [[likely]] {
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
/// Version 3's summary (after the roots); all zero for older versions.
struct Summary {
  std::uint64_t ephemerons_saved = 0, ephemerons_dropped = 0, weak_values_saved = 0, weak_values_dropped = 0;
};
Summary read_summary(Cursor& cursor, std::uint16_t format_version);
/// After the roots: nothing may be left before the trailer.
void expect_end(const Cursor& cursor);

/// The one wording of a bad reference, for the loader and inspect(): "record 12 (seed::Node): a
/// reference to object 99 but the snapshot has 40 objects". `type` may be empty.
std::string record_context(std::uint32_t id, std::string_view type);
[[noreturn]] void fail_reference_range(std::uint32_t record, std::string_view type, std::int64_t target,
                                       std::uint32_t objects, std::uint64_t offset);
[[noreturn]] void fail_malformed_reference(std::uint32_t record, std::string_view type, std::uint64_t offset);
/// "record 3 (seed::Model): a reference to external root 7 but the snapshot names 2"
[[noreturn]] void fail_external_range(std::uint32_t record, std::string_view type, std::uint64_t index,
                                      std::size_t externals, std::uint64_t offset);

/// Decodes every reference of record `id` and checks it without the types' code (as inspect()
/// and SnapshotGraph::read do): well formed, an object ID below the object count, an external
/// index inside the external-root table. Calls fn(const wire::Ref&) for each, in record order.
template <class Fn>
void for_each_checked_ref(const Record& record, std::uint32_t id, const Prefix& prefix, const unsigned char* file,
                          Fn&& fn) {
  const unsigned char* p = record.refs;
  std::int64_t previous = id;
  while (p != record.data) {
    const auto at = static_cast<std::uint64_t>(p - file);
    wire::Ref ref{};
    const std::size_t n = wire::decode_reference(p, record.data, previous, prefix.first_id_ref(), ref);
    if (n == 0 || n == wire::kMalformed) fail_malformed_reference(id, {}, at);
    p += n;
    if (wire::is_external(ref.kind)) {
      if (ref.index >= prefix.externals.size()) fail_external_range(id, {}, ref.index, prefix.externals.size(), at);
    } else if (ref.kind == wire::RefKind::strong || ref.kind == wire::RefKind::weak) {
      if (ref.id < 0 || ref.id >= static_cast<std::int64_t>(prefix.object_count))
        fail_reference_range(id, {}, ref.id, prefix.object_count, at);
      previous = ref.id;
    }
    fn(ref);
  }
}

}  // namespace snapheap::detail::format
