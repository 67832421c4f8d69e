#include "serialize/format.hpp"

#include <cstring>
#include <limits>

#include "serialize/checksum.hpp"
#include "snapheap/detail/wire.hpp"

namespace snapheap::detail::format {

using wire::kHeaderSize;
using wire::kTrailerSize;

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

namespace {

void check_magic(const unsigned char* begin, std::size_t size) {
  // Empty input may come as a null pointer, which memcmp must not be given even for 0 bytes.
  if (size == 0) throw SnapshotError(SnapshotErrc::truncated, "the snapshot is empty (0 bytes)", 0);
  if (size < sizeof wire::kMagic || std::memcmp(begin, wire::kMagic, sizeof wire::kMagic) != 0) {
    if (size < sizeof wire::kMagic && std::memcmp(begin, wire::kMagic, size) == 0)
      throw SnapshotError(SnapshotErrc::truncated,
                          "the data ends inside the header (" + std::to_string(size) + " bytes)", size);
    throw SnapshotError(SnapshotErrc::not_a_snapshot, "not a snapheap snapshot (wrong magic bytes)", 0);
  }
  if (size < kHeaderSize + kTrailerSize)
    throw SnapshotError(SnapshotErrc::truncated,
                        "the data ends after " + std::to_string(size) + " bytes; a snapshot has at least " +
                            std::to_string(kHeaderSize + kTrailerSize),
                        size);
}

// The header's fields: format version, the machine facts, the reserved bytes.
void check_header(const unsigned char* begin, Prefix& prefix) {
  prefix.format_version = static_cast<std::uint16_t>(wire::load_le(begin + wire::kVersionAt, 2));
  if (prefix.format_version < wire::kOldestFormatVersion || prefix.format_version > wire::kFormatVersion)
    throw SnapshotError(SnapshotErrc::unsupported_format,
                        "format version " + std::to_string(prefix.format_version) +
                            " (this library reads versions " + std::to_string(wire::kOldestFormatVersion) +
                            " to " + std::to_string(wire::kFormatVersion) + ")",
                        wire::kVersionAt);
  prefix.byte_order = begin[wire::kByteOrderAt];
  if (prefix.byte_order != wire::kLittleEndian && prefix.byte_order != wire::kBigEndian)
    throw SnapshotError(SnapshotErrc::malformed, "unknown byte order code " + std::to_string(prefix.byte_order),
                        wire::kByteOrderAt);
  if (prefix.byte_order != wire::native_byte_order())
    throw SnapshotError(SnapshotErrc::machine_mismatch,
                        std::string("written on a ") +
                            (prefix.byte_order == wire::kLittleEndian ? "little" : "big") +
                            "-endian machine; this one is not",
                        wire::kByteOrderAt);
  if (begin[wire::kFloatFormatAt] != wire::kIeee754)
    throw SnapshotError(SnapshotErrc::machine_mismatch,
                        "unknown floating-point format code " + std::to_string(begin[wire::kFloatFormatAt]),
                        wire::kFloatFormatAt);
  if (wire::load_le(begin + wire::kReservedAt, 4) != 0)
    throw SnapshotError(SnapshotErrc::malformed, "reserved header bytes are not zero", wire::kReservedAt);
}

// A cut or unfinished file is reported as truncated before the checksum is looked at.
void check_trailer(const unsigned char* begin, std::size_t size, bool verify_checksum) {
  const unsigned char* trailer = begin + size - kTrailerSize;
  if (std::memcmp(trailer + wire::kEndMagicAt, wire::kEndMagic, sizeof wire::kEndMagic) != 0)
    throw SnapshotError(SnapshotErrc::truncated,
                        "the end marker is missing: the snapshot is cut short or was not completely "
                        "written (" + std::to_string(size) + " bytes)",
                        size);
  const std::uint64_t declared = wire::load_le(trailer + wire::kLengthAt, 8);
  if (declared != size)
    throw SnapshotError(SnapshotErrc::truncated,
                        "the snapshot says it is " + std::to_string(declared) + " bytes long but " +
                            std::to_string(size) + " bytes were given",
                        size - kTrailerSize);
  if (verify_checksum) {
    const std::uint64_t stored = wire::load_le(trailer + wire::kChecksumAt, 8);
    const std::uint64_t actual = checksum(begin, size - kTrailerSize + wire::kChecksumAt);
    if (stored != actual)
      throw SnapshotError(SnapshotErrc::checksum_mismatch,
                          "checksum mismatch: the bytes were changed after they were written",
                          size - kTrailerSize + wire::kChecksumAt);
  }
}

}  // namespace

Cursor open(std::span<const unsigned char> bytes, bool verify_checksum, Prefix& prefix) {
  const unsigned char* begin = bytes.data();
  const std::size_t size = bytes.size();
  check_magic(begin, size);
  check_header(begin, prefix);
  check_trailer(begin, size, verify_checksum);
  return Cursor(begin, begin + kHeaderSize, begin + size - kTrailerSize);
}

namespace {

void read_types(Cursor& c, Prefix& prefix) {
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
}

// The object count, then each object's type as runs that must cover it exactly.
void read_runs(Cursor& c, Prefix& prefix) {
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

// Version 2: the names of the external roots the records refer to, strictly increasing.
void read_externals(Cursor& c, Prefix& prefix) {
  prefix.externals.clear();
  prefix.externals_offset = c.offset();
  if (prefix.format_version < 2) return;
  const std::uint64_t count = c.varint("the external root count");
  // An entry takes at least two bytes (name length, one name byte).
  if (count > c.remaining() / 2)
    c.fail(SnapshotErrc::malformed, "an external root count of " + std::to_string(count) +
                                        " is more than the snapshot can hold");
  prefix.externals.reserve(static_cast<std::size_t>(count));
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::uint64_t at = c.offset();
    const std::string_view name = c.name("an external root name");
    if (!prefix.externals.empty() && !(prefix.externals.back() < name))
      throw SnapshotError(SnapshotErrc::malformed,
                          "external root names are not in strictly increasing order at '" + std::string(name) + "'",
                          at);
    prefix.externals.push_back(name);
  }
}

}  // namespace

void read_prefix(Cursor& c, Prefix& prefix) {
  read_types(c, prefix);
  read_runs(c, prefix);
  read_externals(c, prefix);
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

Summary read_summary(Cursor& c, std::uint16_t format_version) {
  Summary s;
  if (format_version < 3) return s;
  const std::uint64_t fields = c.varint("the summary's field count");
  if (fields < 4 || fields > c.remaining())
    c.fail(SnapshotErrc::malformed, "a summary of " + std::to_string(fields) + " fields (at least 4, at most " +
                                        std::to_string(c.remaining()) + " here)");
  s.ephemerons_saved = c.varint("the summary's ephemerons saved");
  s.ephemerons_dropped = c.varint("the summary's ephemerons dropped");
  s.weak_values_saved = c.varint("the summary's weak-value entries saved");
  s.weak_values_dropped = c.varint("the summary's weak-value entries dropped");
  for (std::uint64_t i = 4; i < fields; ++i) c.varint("a summary field");
  return s;
}

void expect_end(const Cursor& c) {
  if (c.remaining() != 0)
    c.fail(SnapshotErrc::malformed,
           std::to_string(c.remaining()) + " unexpected bytes between the root table (or summary) and the trailer");
}

}  // namespace snapheap::detail::format

namespace snapheap::detail::format {

std::string record_context(std::uint32_t id, std::string_view type) {
  std::string context = "record " + std::to_string(id);
  if (!type.empty()) context.append(" (").append(type).append(")");
  return context;
}

void fail_reference_range(std::uint32_t record, std::string_view type, std::int64_t target, std::uint32_t objects,
                          std::uint64_t offset) {
  throw SnapshotError(SnapshotErrc::bad_reference,
                      record_context(record, type) + ": a reference to object " + std::to_string(target) +
                          " but the snapshot has " + std::to_string(objects) + " objects",
                      offset);
}

void fail_malformed_reference(std::uint32_t record, std::string_view type, std::uint64_t offset) {
  throw SnapshotError(SnapshotErrc::malformed, record_context(record, type) + ": a malformed reference", offset);
}

void fail_external_range(std::uint32_t record, std::string_view type, std::uint64_t index, std::size_t externals,
                         std::uint64_t offset) {
  throw SnapshotError(SnapshotErrc::bad_reference,
                      record_context(record, type) + ": a reference to external root " + std::to_string(index) +
                          " but the snapshot names " + std::to_string(externals),
                      offset);
}

}  // namespace snapheap::detail::format
