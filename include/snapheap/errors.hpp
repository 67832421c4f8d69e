// The exceptions snapheap throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

namespace snapheap {

/// What is wrong with a snapshot (or with an attempt to write one).
enum class SnapshotErrc : std::uint8_t {
  io_error = 1,          ///< the file or stream could not be opened, read, written or synced
  truncated,             ///< the data ends before the snapshot does
  not_a_snapshot,        ///< the magic bytes are wrong
  unsupported_format,    ///< the format version is newer than this library reads
  machine_mismatch,      ///< written on a machine with another byte order or float format
  checksum_mismatch,     ///< the bytes were changed after they were written
  malformed,             ///< a length, count or varint is out of range or inconsistent
  bad_reference,         ///< a reference names no object, or an object of the wrong kind or type
  unknown_type,          ///< the snapshot holds a type this program has not registered
  newer_class_version,   ///< a type's class version is newer than this program's
  record_mismatch,       ///< a type's load read more or less than its record holds
  root_conflict,         ///< a root name in the snapshot is already used in the destination heap
  unregistered_type,     ///< save reached an object whose type is not registered
  unsaved_reference,     ///< a type's save wrote a Member that its trace() does not visit
  unsupported_value,     ///< save was asked to write a value the format cannot hold
  missing_external,      ///< a reference to an external root the destination heap does not have
  external_mismatch,     ///< the destination's root of an external name holds another type than the field
};

/// A bad snapshot, or a save that could not complete. what() says what is wrong and where:
/// "snapheap: checksum mismatch: ... (at byte 1234)".
class SnapshotError : public std::runtime_error {
 public:
  static constexpr std::uint64_t kNoOffset = std::numeric_limits<std::uint64_t>::max();

  SnapshotError(SnapshotErrc code, const std::string& detail, std::uint64_t offset = kNoOffset);

  SnapshotErrc code() const noexcept { return code_; }
  /// The byte offset in the snapshot where the problem was found, or kNoOffset.
  std::uint64_t offset() const noexcept { return offset_; }
  /// The message without the "snapheap: " prefix and the offset.
  const std::string& detail() const noexcept { return detail_; }

 private:
  SnapshotErrc code_;
  std::uint64_t offset_;
  std::string detail_;
};

/// A short name for an error code ("checksum_mismatch").
const char* to_string(SnapshotErrc code) noexcept;

/// Thrown by Heap::make when the heap's configured limit would be passed even after a
/// collection. The heap stays consistent and usable.
class HeapExhausted : public std::runtime_error {
 public:
  HeapExhausted(std::size_t limit, std::size_t live, std::size_t requested);
  std::size_t limit() const noexcept { return limit_; }
  std::size_t live_bytes() const noexcept { return live_; }
  /// The bytes the new object would have taken: its cell, which may be larger than its sizeof.
  std::size_t requested() const noexcept { return requested_; }

 private:
  std::size_t limit_, live_, requested_;
};

}  // namespace snapheap
