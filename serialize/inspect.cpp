// inspect(): the whole snapshot is checked and described without the types' code: record
// lengths delimit the records, and references are stored apart from the data, so every edge is
// read (and its target checked) whatever the type.
#include "snapheap/inspect.hpp"

#include <limits>
#include <vector>

#include "serialize/format.hpp"
#include "snapheap/detail/wire.hpp"
#include "snapheap/snapshot.hpp"

namespace snapheap {

namespace {

using detail::format::Cursor;

void read_refs(const detail::format::Record& record, std::uint32_t id, const detail::format::Prefix& prefix,
               const unsigned char* file, SnapshotInfo& info, std::vector<std::uint32_t>& strong_targets) {
  using detail::wire::RefKind;
  detail::format::for_each_checked_ref(record, id, prefix, file, [&](const detail::wire::Ref& ref) {
    switch (ref.kind) {
      case RefKind::empty_strong: ++info.strong_empty; break;
      case RefKind::empty_weak: ++info.weak_empty; break;
      case RefKind::tombstone: ++info.weak_tombstones; break;
      case RefKind::expired: ++info.weak_tombstones, ++info.weak_expired; break;
      case RefKind::left_out: ++info.weak_tombstones, ++info.weak_left_out; break;
      case RefKind::external_strong:
      case RefKind::external_weak: {
        SnapshotInfo::External& external = info.externals[static_cast<std::size_t>(ref.index)];
        if (ref.kind == RefKind::external_weak) ++info.weak_external, ++external.weak_refs;
        else ++info.strong_external, ++external.strong_refs;
        break;
      }
      case RefKind::weak: ++info.weak_targets; break;
      case RefKind::strong:
        ++info.strong_refs;
        strong_targets.push_back(static_cast<std::uint32_t>(ref.id));
        break;
    }
  });
}

}  // namespace

SnapshotInfo inspect(std::span<const std::byte> bytes) {
  const std::span<const unsigned char> raw(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  SnapshotInfo info;
  detail::format::Prefix prefix;
  Cursor cursor = detail::format::open(raw, true, prefix);
  info.format_version = prefix.format_version;
  info.byte_order = prefix.byte_order == detail::wire::kLittleEndian ? "little" : "big";
  info.bytes = bytes.size();
  info.header_bytes = detail::wire::kHeaderSize;
  info.trailer_bytes = detail::wire::kTrailerSize;
  detail::format::read_prefix(cursor, prefix);
  info.type_table_bytes = prefix.externals_offset - info.header_bytes;
  info.external_table_bytes = cursor.offset() - prefix.externals_offset;
  info.objects = prefix.object_count;
  for (const auto& t : prefix.types) info.types.push_back({std::string(t.name), t.version, 0, 0});
  for (const std::string_view name : prefix.externals) info.externals.push_back({std::string(name), 0, 0});

  // Strong edges as an adjacency list in CSR form, for the reachability count.
  std::vector<std::uint32_t> first(prefix.object_count + std::size_t{1}, 0);
  std::vector<std::uint32_t> targets;
  std::vector<std::uint32_t> type_of(prefix.object_count);
  std::uint32_t id = 0;
  const std::uint64_t records_start = cursor.offset();
  for (const auto& run : prefix.runs) {
    for (std::uint32_t k = 0; k < run.count; ++k, ++id) {
      const std::uint64_t start = cursor.offset();
      const auto record = detail::format::read_record(cursor, id);
      read_refs(record, id, prefix, raw.data(), info, targets);
      first[id + 1] = static_cast<std::uint32_t>(targets.size());
      type_of[id] = run.type;
      ++info.types[run.type].objects;
      info.types[run.type].record_bytes += cursor.offset() - start;
    }
  }
  info.record_bytes = cursor.offset() - records_start;
  const std::uint64_t roots_start = cursor.offset();
  const auto roots = detail::format::read_roots(cursor, prefix.object_count);
  info.root_bytes = cursor.offset() - roots_start;
  const std::uint64_t summary_start = cursor.offset();
  const detail::format::Summary summary = detail::format::read_summary(cursor, prefix.format_version);
  detail::format::expect_end(cursor);
  info.summary_bytes = cursor.offset() - summary_start;
  info.ephemerons_saved = summary.ephemerons_saved;
  info.ephemerons_dropped = summary.ephemerons_dropped;
  info.weak_values_saved = summary.weak_values_saved;
  info.weak_values_dropped = summary.weak_values_dropped;
  for (const auto& r : roots) info.roots.push_back({std::string(r.name), r.id, info.types[type_of[r.id]].name});

  std::vector<bool> reached(prefix.object_count, false);
  std::vector<std::uint32_t> queue;
  for (const auto& r : roots)
    if (!reached[r.id]) reached[r.id] = true, queue.push_back(r.id);
  for (std::size_t i = 0; i < queue.size(); ++i)
    for (std::uint32_t e = first[queue[i]]; e < first[queue[i] + 1]; ++e)
      if (!reached[targets[e]]) reached[targets[e]] = true, queue.push_back(targets[e]);
  info.unreachable = prefix.object_count - queue.size();

  info.checksum = detail::wire::load_le(raw.data() + raw.size() - detail::wire::kTrailerSize + detail::wire::kChecksumAt, 8);
  return info;
}

SnapshotInfo inspect(const std::filesystem::path& path) {
  ByteBuffer bytes;
  read_snapshot_file(path, bytes);
  return inspect(bytes.view());
}

}  // namespace snapheap
