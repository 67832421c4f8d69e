// Saving and loading heap snapshots.
//
//     snapheap::save(heap, "model.snap");                              // every named root
//     snapheap::save(heap, "layer.snap", {.roots = {"model"}});        // only what "model" reaches
//     snapheap::Heap restored;
//     snapheap::load(restored, "model.snap");
//     auto layer = restored.root<WeakRefLayer>("model");
//
// A snapshot holds exactly the objects its roots reach through strong edges (Members). Each weak
// handle in it is its target's ID when the target is in the snapshot and a tombstone otherwise;
// an empty handle stays empty. Loading rebuilds the objects with identity, sharing and cycles as
// they were; restored weak handles point at restored objects, tombstones restore as expired.
#pragma once

#include <algorithm>
#include <boost/container/vector.hpp>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <iosfwd>
#include <span>
#include <string>
#include <vector>

#include "snapheap/errors.hpp"
#include "snapheap/heap.hpp"
#include "snapheap/registry.hpp"

namespace snapheap {

/// A growable byte buffer for snapshots in memory. Growth does not zero-fill, and clear() keeps
/// the capacity, so a buffer reused for every checkpoint is written at memory speed (unlike a
/// std::stringstream, which grows slowly).
class ByteBuffer {
 public:
  ByteBuffer() = default;
  explicit ByteBuffer(std::size_t capacity) { reserve(capacity); }

  const std::byte* data() const noexcept { return bytes_.data(); }
  std::byte* data() noexcept { return bytes_.data(); }
  std::size_t size() const noexcept { return bytes_.size(); }
  std::size_t capacity() const noexcept { return bytes_.capacity(); }
  bool empty() const noexcept { return bytes_.empty(); }
  void clear() noexcept { bytes_.clear(); }
  void reserve(std::size_t n) { bytes_.reserve(n); }
  /// Sets the size without initializing new bytes.
  void resize(std::size_t n) { bytes_.resize(n, boost::container::default_init); }
  void append(const void* p, std::size_t n) {
    const std::size_t old = bytes_.size();
    if (old + n > bytes_.capacity()) bytes_.reserve(std::max(old + n, bytes_.capacity() * 2));
    bytes_.resize(old + n, boost::container::default_init);
    if (n) std::memcpy(bytes_.data() + old, p, n);
  }
  std::span<const std::byte> view() const noexcept { return {bytes_.data(), bytes_.size()}; }
  operator std::span<const std::byte>() const noexcept { return view(); }

 private:
  boost::container::vector<std::byte> bytes_;
};

struct SaveOptions {
  /// The named roots to save; empty saves every root of the heap.
  std::vector<std::string> roots{};
  /// For files: fsync the data and the directory, so the new snapshot survives a power cut.
  bool sync = true;
};

/// Where a root name in the snapshot already names a root of the destination heap.
enum class RootConflict : std::uint8_t {
  error,    ///< throw SnapshotError(root_conflict) before anything changes
  replace,  ///< the snapshot's root replaces the heap's
};

struct LoadOptions {
  RootConflict on_root_conflict = RootConflict::error;
  /// Checking the checksum first keeps a damaged file away from the types' load code. A hostile
  /// file can carry a valid checksum, so the reader never relies on it for memory safety; tools
  /// and fuzzers turn it off to reach the structural checks.
  bool verify_checksum = true;
};

/// What a save wrote or a load restored.
struct SnapshotStats {
  std::size_t objects = 0;          ///< objects in the snapshot
  std::size_t roots = 0;            ///< named roots
  std::size_t strong_refs = 0;      ///< non-empty Member references
  std::size_t weak_targets = 0;     ///< weak handles whose target is in the snapshot
  std::size_t weak_tombstones = 0;  ///< weak handles whose target is not (restored expired)
  std::size_t weak_empty = 0;       ///< empty weak handles
  std::uint64_t bytes = 0;          ///< size of the snapshot
};

/// Saves to a file, atomically: the data goes to an unnamed (O_TMPFILE) or fixed temporary file
/// in the same directory, is synced, and replaces the old file by rename. A crash leaves the old
/// file or the complete new one, and no temporary files pile up. Throws SnapshotError.
SnapshotStats save(Heap& heap, const std::filesystem::path& path, const SaveOptions& options = {});
/// Saves to a stream (need not be seekable).
SnapshotStats save(Heap& heap, std::ostream& out, const SaveOptions& options = {});
/// Saves into a buffer (cleared first; its capacity is reused). The fast path for checkpoints
/// kept in memory or sent elsewhere.
SnapshotStats save(Heap& heap, ByteBuffer& out, const SaveOptions& options = {});

/// Loads a snapshot into `heap` (empty or not): all or nothing. On any problem it throws
/// SnapshotError saying what is wrong and at which byte, and the heap is as it was. An exception
/// thrown by a type's own code passes through, with the same guarantee.
SnapshotStats load(Heap& heap, const std::filesystem::path& path, const LoadOptions& options = {});
/// Loads from a stream (need not be seekable; read to its end).
SnapshotStats load(Heap& heap, std::istream& in, const LoadOptions& options = {});
/// Loads from bytes in memory.
SnapshotStats load(Heap& heap, std::span<const std::byte> bytes, const LoadOptions& options = {});
inline SnapshotStats load(Heap& heap, const ByteBuffer& bytes, const LoadOptions& options = {}) {
  return load(heap, bytes.view(), options);
}

/// Reads a whole file into `out` (throws SnapshotError(io_error) if it cannot).
void read_snapshot_file(const std::filesystem::path& path, ByteBuffer& out);

}  // namespace snapheap
