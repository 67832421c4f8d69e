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
//
// External roots: a snapshot can leave out the objects of roots it names instead, and the load
// links to the destination heap's roots of those names (pickle's persistent_id):
//
//     snapheap::save(heap, "model.snap", {.roots = {"model"}, .external = {"large_data"}});
//     other.set_root("large_data", dataset);                      // the destination has its own
//     snapheap::load(other, "model.snap");                         // the model's Member -> dataset
//     auto a = snapheap::load_roots(other, "ckpt-a.snap");         // roots as handles, no names
#pragma once

#include <algorithm>
#include <boost/container/vector.hpp>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <iosfwd>
#include <map>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
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
  /// The named roots to save; empty saves every root of the heap (except the external ones).
  std::vector<std::string> roots{};
  /// Roots whose objects are not saved: every reference, strong or weak, from a saved object to
  /// an external root's object is written as a reference to that root's name, and a load binds
  /// it to the destination heap's root of that name. What only external objects reach is left
  /// out like any unreached object. Each name must be a root of the heap and not one of `roots`;
  /// a saved root may not hold an external root's object. Where two external names hold the
  /// same object, references to it are written under the first name in name order.
  std::vector<std::string> external{};
  /// For files: fsync the data and the directory, so the new snapshot survives a power cut.
  bool sync = true;
};

/// Where a root name in the snapshot already names a root of the destination heap.
enum class RootConflict : std::uint8_t {
  error,    ///< throw SnapshotError(root_conflict) before anything changes
  replace,  ///< the snapshot's root replaces the heap's
};

/// What a Weak in the snapshot that refers to an external root becomes when the destination heap
/// has no root of that name. (A Member that does is always an error: SnapshotErrc::missing_external.)
enum class MissingExternal : std::uint8_t {
  tombstone,  ///< the handle is restored expired, as a tombstone of a left-out target
  error,      ///< throw SnapshotError(missing_external) before anything changes
};

struct LoadOptions {
  RootConflict on_root_conflict = RootConflict::error;
  /// Checking the checksum first keeps a damaged file away from the types' load code. A hostile
  /// file can carry a valid checksum, so the reader never relies on it for memory safety; tools
  /// and fuzzers turn it off to reach the structural checks.
  bool verify_checksum = true;
  /// A Weak to an external root the destination heap lacks.
  MissingExternal on_missing_weak_external = MissingExternal::tombstone;
  /// Renames the snapshot's roots on load: a root listed here is bound (or returned, by
  /// load_roots) under the name it maps to; every other root under `root_prefix` + its name.
  /// External references are bound by their own names, to the roots the heap holds when the
  /// load starts. Mapped names must not be empty; two roots renamed to one name are an error
  /// (root_conflict). Entries for roots the snapshot does not have are ignored.
  std::map<std::string, std::string, std::less<>> rename_roots{};
  std::string root_prefix{};
};

/// What a save wrote or a load restored.
struct SnapshotStats {
  std::size_t objects = 0;          ///< objects in the snapshot
  std::size_t roots = 0;            ///< named roots
  std::size_t strong_refs = 0;      ///< Member references to objects in the snapshot
  std::size_t weak_targets = 0;     ///< weak handles whose target is in the snapshot
  std::size_t weak_tombstones = 0;  ///< weak handles whose target is not (restored expired)
  std::size_t weak_empty = 0;       ///< empty weak handles
  std::uint64_t bytes = 0;          ///< size of the snapshot
  /// The tombstones by kind: the target had died before the save, or was alive but left out
  /// (not reached, or in another heap). Together weak_tombstones, except for a format-1
  /// snapshot, which does not say (both 0).
  std::size_t weak_expired = 0;
  std::size_t weak_left_out = 0;
  std::size_t external_roots = 0;   ///< names in the snapshot's external-root table
  std::size_t strong_external = 0;  ///< Member references to external roots
  std::size_t weak_external = 0;    ///< Weak references to external roots
  /// Load only: weak references to external roots the destination lacked (restored expired).
  std::size_t weak_unbound = 0;
  /// Weak structures: Ephemeron fields and WeakKeyMap entries saved (their key was saved) and
  /// dropped (it was not: the entry is not written); WeakValueMap entries saved (their value
  /// was saved) and dropped. A load reports what the file's records held.
  std::size_t ephemerons_saved = 0;
  std::size_t ephemerons_dropped = 0;
  std::size_t weak_values_saved = 0;
  std::size_t weak_values_dropped = 0;
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

/// What load_roots() gives back: the statistics and the snapshot's roots as handles, by name
/// (after LoadOptions' renaming), none of them named in the heap.
struct LoadedRoots {
  SnapshotStats stats;
  std::map<std::string, Strong<Object>, std::less<>> roots;

  /// The root of that name as a T: empty if there is none; std::invalid_argument if it holds
  /// something that is not a T (as Heap::root).
  template <class T>
  Strong<T> root(std::string_view name) const {
    const auto found = roots.find(name);
    if (found == roots.end()) return Strong<T>();
    Strong<T> typed = dynamic_handle_cast<T>(found->second);
    if (!typed)
      throw std::invalid_argument("snapheap: the loaded root '" + std::string(name) + "' does not hold the type asked for");
    return typed;
  }
};

/// Loads like load() but names nothing in the heap: the snapshot's roots come back as Strong
/// handles, so that snapshots with the same root names (two checkpoints of one model) can be
/// loaded side by side. on_root_conflict does not apply; the rest of LoadOptions does.
LoadedRoots load_roots(Heap& heap, std::span<const std::byte> bytes, const LoadOptions& options = {});
LoadedRoots load_roots(Heap& heap, const std::filesystem::path& path, const LoadOptions& options = {});
LoadedRoots load_roots(Heap& heap, std::istream& in, const LoadOptions& options = {});
inline LoadedRoots load_roots(Heap& heap, const ByteBuffer& bytes, const LoadOptions& options = {}) {
  return load_roots(heap, bytes.view(), options);
}

/// Reads a whole file into `out` (throws SnapshotError(io_error) if it cannot).
void read_snapshot_file(const std::filesystem::path& path, ByteBuffer& out);

}  // namespace snapheap
