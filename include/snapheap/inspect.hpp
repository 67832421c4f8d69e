// Reading a snapshot without the types' code: what `snapheap info` and `snapheap verify` use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "snapheap/errors.hpp"

namespace snapheap {

/// A snapshot's contents as the file describes them. Types the program does not know are
/// counted by name like any other.
struct SnapshotInfo {
  struct Type {
    std::string name;
    std::uint32_t version = 0;
    std::size_t objects = 0;
    std::uint64_t record_bytes = 0;  ///< bytes of this type's records, length fields included
  };
  struct Root {
    std::string name;
    std::uint32_t id = 0;
    std::string type;
  };
  std::uint16_t format_version = 0;
  std::string byte_order;  ///< "little" or "big"
  std::uint64_t bytes = 0;
  std::size_t objects = 0;
  std::vector<Type> types;  ///< in type table order
  std::vector<Root> roots;  ///< in name order
  std::size_t strong_refs = 0;      ///< Member references to objects
  std::size_t strong_empty = 0;     ///< empty Members
  std::size_t weak_targets = 0;     ///< weak handles whose target is in the snapshot
  std::size_t weak_tombstones = 0;  ///< weak handles whose target was left out
  std::size_t weak_empty = 0;       ///< empty weak handles
  std::size_t unreachable = 0;      ///< objects no root reaches through strong references
  std::uint64_t checksum = 0;       ///< XXH3-64 as stored
  std::uint64_t header_bytes = 0, type_table_bytes = 0, record_bytes = 0, root_bytes = 0, trailer_bytes = 0;

  /// An external root: a root of the destination heap that the snapshot refers to by name
  /// (SaveOptions::external) and a load binds to.
  struct External {
    std::string name;
    std::size_t strong_refs = 0;  ///< Member references to it: a load needs the root
    std::size_t weak_refs = 0;    ///< Weak references to it: tombstones where the root is missing
  };
  std::vector<External> externals;     ///< in name order (format 2; none in format 1)
  std::size_t strong_external = 0;     ///< Member references to external roots
  std::size_t weak_external = 0;       ///< Weak references to external roots
  /// weak_tombstones by kind: the target had died before the save / was alive but left out.
  /// Format 1 does not say which: both 0 there.
  std::size_t weak_expired = 0;
  std::size_t weak_left_out = 0;
  std::uint64_t external_table_bytes = 0;  ///< the external-root table (format 2), between the type table and the records
};

/// Checks a snapshot completely (header, trailer, checksum, type table, external-root table,
/// every record's length and references, the roots) and describes it. Throws SnapshotError at
/// the first problem.
SnapshotInfo inspect(std::span<const std::byte> bytes);
SnapshotInfo inspect(const std::filesystem::path& path);

}  // namespace snapheap
