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
};

/// Checks a snapshot completely (header, trailer, checksum, type table, every record's length
/// and references, the roots) and describes it. Throws SnapshotError at the first problem.
SnapshotInfo inspect(std::span<const std::byte> bytes);
SnapshotInfo inspect(const std::filesystem::path& path);

}  // namespace snapheap
