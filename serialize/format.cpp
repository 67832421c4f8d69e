#include "serialize/format.hpp"

#include <bit>
#include <cstring>
#include <limits>

#include "serialize/checksum.hpp"

namespace snapheap::detail::format {

namespace {
std::uint64_t load_u64(const unsigned char* p) noexcept {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
}  // namespace

unsigned char native_byte_order() noexcept {
  return std::endian::native == std::endian::little ? kLittleEndian : kBigEndian;
}

std::size_t decode_varint_slow(const unsigned char* p, const unsigned char* end, std::uint64_t& out) noexcept {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 10; ++i) {
    if (p + i == end) return 0;
    const unsigned char b = p[i];
    if (i == 9 && b > 1) return std::numeric_limits<std::size_t>::max();
    v |= std::uint64_t{b & 0x7fu} << (7 * i);
    if (!(b & 0x80)) {
      if (b == 0 && i > 0) return std::numeric_limits<std::size_t>::max();  // overlong
      out = v;
      return i + 1;
    }
  }
  return std::numeric_limits<std::size_t>::max();
}

void Cursor::fail(SnapshotErrc code, const std::string& what) const { throw SnapshotError(code, what, offset()); }

void Cursor::varint_failure(std::size_t n, const char* what) const {
  if (n == 0) fail(SnapshotErrc::truncated, std::string("the data ends inside ") + what);
  fail(SnapshotErrc::malformed, std::string("a malformed variable-length integer in ") + what);
}

const unsigned char* Cursor::bytes(std::size_t n, const char* what) {
  if (remaining() < n)
    fail(SnapshotErrc::truncated, std::string(what) + " needs " + std::to_string(n) +
                                      " bytes but only " + std::to_string(remaining()) + " remain");
  const unsigned char* p = cur_;
  cur_ += n;
  return p;
}

Cursor Cursor::sub(std::size_t n, const char* what) {
  const unsigned char* p = bytes(n, what);
  return Cursor(file_, p, p + n);
}

std::string_view Cursor::name(const char* what) {
  const std::uint64_t size = varint(what);
  if (size == 0 || size > kMaxNameLength)
    fail(SnapshotErrc::malformed, std::string(what) + " has length " + std::to_string(size) +
                                      " (1 to " + std::to_string(kMaxNameLength) + " allowed)");
  const unsigned char* p = bytes(static_cast<std::size_t>(size), what);
  if (std::memchr(p, 0, static_cast<std::size_t>(size)))
    fail(SnapshotErrc::malformed, std::string(what) + " contains a NUL byte");
  return {reinterpret_cast<const char*>(p), static_cast<std::size_t>(size)};
}

Cursor open(std::span<const unsigned char> bytes, bool verify_checksum, Prefix& prefix) {
  const unsigned char* begin = bytes.data();
  const std::size_t size = bytes.size();
  // Empty input may come as a null pointer, which memcmp must not be given even for 0 bytes.
  if (size == 0) throw SnapshotError(SnapshotErrc::truncated, "the snapshot is empty (0 bytes)", 0);
  if (size < sizeof kMagic || std::memcmp(begin, kMagic, sizeof kMagic) != 0) {
    if (size < sizeof kMagic && std::memcmp(begin, kMagic, size) == 0)
      throw SnapshotError(SnapshotErrc::truncated,
                          "the data ends inside the header (" + std::to_string(size) + " bytes)", size);
    throw SnapshotError(SnapshotErrc::not_a_snapshot, "not a snapheap snapshot (wrong magic bytes)", 0);
  }
  if (size < kHeaderSize + kTrailerSize)
    throw SnapshotError(SnapshotErrc::truncated,
                        "the data ends after " + std::to_string(size) + " bytes; a snapshot has at least " +
                            std::to_string(kHeaderSize + kTrailerSize),
                        size);
  prefix.format_version = static_cast<std::uint16_t>(begin[8] | (begin[9] << 8));
  if (prefix.format_version == 0 || prefix.format_version > kFormatVersion)
    throw SnapshotError(SnapshotErrc::unsupported_format,
                        "format version " + std::to_string(prefix.format_version) +
                            " (this library reads version " + std::to_string(kFormatVersion) + ")",
                        8);
  prefix.byte_order = begin[10];
  if (prefix.byte_order != kLittleEndian && prefix.byte_order != kBigEndian)
    throw SnapshotError(SnapshotErrc::malformed, "unknown byte order code " + std::to_string(begin[10]), 10);
  if (prefix.byte_order != native_byte_order())
    throw SnapshotError(SnapshotErrc::machine_mismatch,
                        std::string("written on a ") +
                            (prefix.byte_order == kLittleEndian ? "little" : "big") +
                            "-endian machine; this one is not",
                        10);
  if (begin[11] != kIeee754)
    throw SnapshotError(SnapshotErrc::machine_mismatch,
                        "unknown floating-point format code " + std::to_string(begin[11]), 11);
  if (begin[12] | begin[13] | begin[14] | begin[15])
    throw SnapshotError(SnapshotErrc::malformed, "reserved header bytes are not zero", 12);

  const unsigned char* trailer = begin + size - kTrailerSize;
  if (std::memcmp(trailer + 8, kEndMagic, sizeof kEndMagic) != 0)
    throw SnapshotError(SnapshotErrc::truncated,
                        "the end marker is missing: the snapshot is cut short or was not completely "
                        "written (" + std::to_string(size) + " bytes)",
                        size);
  const std::uint64_t declared = load_u64(trailer);
  if (declared != size)
    throw SnapshotError(SnapshotErrc::truncated,
                        "the snapshot says it is " + std::to_string(declared) + " bytes long but " +
                            std::to_string(size) + " bytes were given",
                        size - kTrailerSize);
  if (verify_checksum) {
    const std::uint64_t stored = load_u64(trailer + 16);
    const std::uint64_t actual = checksum(begin, size - 8);
    if (stored != actual)
      throw SnapshotError(SnapshotErrc::checksum_mismatch,
                          "checksum mismatch: the bytes were changed after they were written", size - 8);
  }
  return Cursor(begin, begin + kHeaderSize, trailer);
}

void read_prefix(Cursor& c, Prefix& prefix) {
  const std::uint64_t type_count = c.varint("the type count");
  // A type entry takes at least three bytes (name length, one name byte, version).
  if (type_count > c.remaining() / 3)
    c.fail(SnapshotErrc::malformed, "a type count of " + std::to_string(type_count) +
                                        " is more than the snapshot can hold");
  prefix.types.clear();
  prefix.types.reserve(static_cast<std::size_t>(type_count));
  for (std::uint64_t i = 0; i < type_count; ++i) {
    TypeEntry entry;
    entry.offset = c.offset();
    entry.name = c.name("a type name");
    const std::uint64_t version = c.varint("a class version");
    if (version > std::numeric_limits<std::uint32_t>::max())
      c.fail(SnapshotErrc::malformed, "class version " + std::to_string(version) + " is out of range");
    entry.version = static_cast<std::uint32_t>(version);
    for (const TypeEntry& earlier : prefix.types)
      if (earlier.name == entry.name)
        throw SnapshotError(SnapshotErrc::malformed,
                            "the type '" + std::string(entry.name) + "' is listed twice", entry.offset);
    prefix.types.push_back(entry);
  }
  const std::uint64_t objects = c.varint("the object count");
  if (objects > c.remaining() / kMinRecordBytes || objects >= std::numeric_limits<std::uint32_t>::max())
    c.fail(SnapshotErrc::malformed,
           "an object count of " + std::to_string(objects) + " is more than the snapshot can hold");
  prefix.object_count = static_cast<std::uint32_t>(objects);
  const std::uint64_t run_count = c.varint("the type run count");
  if (run_count > objects || run_count > c.remaining() / 2)
    c.fail(SnapshotErrc::malformed, "a type run count of " + std::to_string(run_count) +
                                        " is more than the snapshot can hold");
  prefix.runs.clear();
  prefix.runs.reserve(static_cast<std::size_t>(run_count));
  std::uint64_t covered = 0;
  for (std::uint64_t i = 0; i < run_count; ++i) {
    const std::uint64_t type = c.varint("a type run");
    if (type >= prefix.types.size())
      c.fail(SnapshotErrc::malformed, "a type run names type " + std::to_string(type) + " but the table has " +
                                          std::to_string(prefix.types.size()));
    const std::uint64_t count = c.varint("a type run");
    if (count == 0 || count > objects - covered)
      c.fail(SnapshotErrc::malformed, "a type run of " + std::to_string(count) +
                                          " objects does not fit the object count");
    covered += count;
    prefix.runs.push_back({static_cast<std::uint32_t>(type), static_cast<std::uint32_t>(count)});
  }
  if (covered != objects)
    c.fail(SnapshotErrc::malformed, "the type runs cover " + std::to_string(covered) + " of " +
                                        std::to_string(objects) + " objects");
}

Record read_record_slow(Cursor& c, std::uint32_t id) {
  Record r;
  r.offset = c.offset();
  const std::uint64_t length = c.varint("a record length");
  if (length == 0 || length > c.remaining())
    c.fail(length == 0 ? SnapshotErrc::malformed : SnapshotErrc::truncated,
           "record " + std::to_string(id) + " has length " + std::to_string(length) + " but " +
               std::to_string(c.remaining()) + " bytes remain");
  Cursor rec = c.sub(static_cast<std::size_t>(length), "a record");
  const unsigned char* body_end = rec.position() + length;
  const std::uint64_t ref_bytes = rec.varint("a record's reference size");
  if (ref_bytes > rec.remaining())
    rec.fail(SnapshotErrc::malformed, "record " + std::to_string(id) + " says its references take " +
                                          std::to_string(ref_bytes) + " bytes but it has " +
                                          std::to_string(rec.remaining()) + " left");
  r.refs = rec.position();
  r.data = r.refs + ref_bytes;
  r.end = body_end;
  return r;
}

std::vector<RootEntry> read_roots(Cursor& c, std::uint32_t object_count) {
  const std::uint64_t count = c.varint("the root count");
  // A root takes at least three bytes (name length, one name byte, ID).
  if (count > c.remaining() / 3)
    c.fail(SnapshotErrc::malformed, "a root count of " + std::to_string(count) +
                                        " is more than the snapshot can hold");
  std::vector<RootEntry> roots;
  roots.reserve(static_cast<std::size_t>(count));
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::uint64_t at = c.offset();
    RootEntry root;
    root.name = c.name("a root name");
    const std::uint64_t id = c.varint("a root's object ID");
    if (id >= object_count)
      c.fail(SnapshotErrc::bad_reference, "root '" + std::string(root.name) + "' names object " +
                                              std::to_string(id) + " but the snapshot has " +
                                              std::to_string(object_count));
    root.id = static_cast<std::uint32_t>(id);
    if (!roots.empty() && !(roots.back().name < root.name))
      throw SnapshotError(SnapshotErrc::malformed,
                          "root names are not in strictly increasing order at '" + std::string(root.name) + "'",
                          at);
    roots.push_back(root);
  }
  return roots;
}

void expect_end(const Cursor& c) {
  if (c.remaining() != 0)
    c.fail(SnapshotErrc::malformed,
           std::to_string(c.remaining()) + " unexpected bytes between the root table and the trailer");
}

}  // namespace snapheap::detail::format
