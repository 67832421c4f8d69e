// Reading a snapshot without the types' code: what the `snapheap` tool's commands use.
//
//   inspect()          the counts behind `snapheap info` and `snapheap verify`
//   SnapshotGraph      every object (type, record bytes) and every reference (strong, weak,
//                      tombstone, empty, by its position in the record), and the named roots,
//                      from a snapshot file or from a live heap
//   dominators()       immediate dominators over strong references (Lengauer-Tarjan) and
//                      retained bytes: `snapheap top`
//   shortest_path()    the shortest strong path from a root: `snapheap why`, Heap::retainer_path
//   export_devtools()  V8's .heapsnapshot JSON (Chrome DevTools, memlab): `snapheap export`
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "snapheap/detail/wire.hpp"
#include "snapheap/errors.hpp"
#include "snapheap/snapshot.hpp"

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
  /// Format 3's summary of weak structures (0 in older formats, which have none): Ephemeron
  /// fields and WeakKeyMap entries saved and dropped (key not saved), WeakValueMap entries saved
  /// and dropped (value not saved).
  std::size_t ephemerons_saved = 0;
  std::size_t ephemerons_dropped = 0;
  std::size_t weak_values_saved = 0;
  std::size_t weak_values_dropped = 0;
  std::uint64_t summary_bytes = 0;  ///< the summary section (format 3), between the roots and the trailer
};

/// Checks a snapshot completely (header, trailer, checksum, type table, external-root table,
/// every record's length and references, the roots) and describes it. Throws SnapshotError at
/// the first problem.
SnapshotInfo inspect(std::span<const std::byte> bytes);
SnapshotInfo inspect(const std::filesystem::path& path);

/// A snapshot's object graph, read from the file alone (references are stored apart from the
/// data, so no type's code is needed), or a live heap's graph as its collector sees it.
///
/// Objects are numbered 0..objects()-1: in a file, by their snapshot IDs; for a live heap, in
/// the order a breadth-first walk from the roots reaches them (as a save would number them).
/// The graph keeps the file's bytes and a 4-byte index per object (8 for a file over 4 GiB), and
/// decodes references on demand: about 4 bytes per object beyond the file.
class SnapshotGraph {
 public:
  static constexpr std::uint32_t kNone = 0xffffffffu;
  /// A tombstone is any weak handle whose target was not saved (expired or left out); the
  /// external kinds are references to an external root (SaveOptions::external, format 2).
  enum class RefKind : std::uint8_t { strong, weak, tombstone, empty_strong, empty_weak, external_strong, external_weak };
  struct Ref {
    RefKind kind = RefKind::empty_strong;
    std::uint32_t target = kNone;  ///< the object referred to (strong and weak), else kNone
    std::uint32_t external = kNone;  ///< for the external kinds: the index into externals()
    std::uint32_t position = 0;    ///< the reference's index among its record's references
  };
  struct Type {
    std::string name;
    std::uint32_t version = 0;
  };
  struct Root {
    std::string name;  ///< a named root, or "(strong handle)" for a live heap's Strong handles
    std::uint32_t id = 0;
  };
  struct Counts {
    std::uint64_t strong_refs = 0, strong_empty = 0, weak_targets = 0, weak_tombstones = 0, weak_empty = 0;
    std::uint64_t strong_external = 0, weak_external = 0;  ///< references to external roots
  };

  SnapshotGraph() = default;

  /// Checks a snapshot completely (as inspect() does) and keeps its bytes. Throws SnapshotError.
  static SnapshotGraph read(ByteBuffer bytes);
  static SnapshotGraph read(const std::filesystem::path& path);
  /// The live graph of `heap`: what its named roots and Strong handles reach through strong
  /// edges (the collector's reachability; unreachable garbage is left out, and weak handles to
  /// it are tombstones, as are expired ones). Self bytes are the objects' cell bytes.
  static SnapshotGraph of_heap(const Heap& heap);

  std::uint32_t objects() const noexcept { return static_cast<std::uint32_t>(record_at_.empty() ? 0 : record_at_.size() - 1); }
  const std::vector<Type>& types() const noexcept { return types_; }
  /// Index into types().
  std::uint32_t type_of(std::uint32_t id) const noexcept;
  const std::string& type_name(std::uint32_t id) const noexcept { return types_[type_of(id)].name; }
  /// A file's record bytes (its length field included; they add up to the records section), or
  /// a live object's cell bytes.
  std::uint64_t self_bytes(std::uint32_t id) const noexcept {
    return cell_bytes_.empty() ? record_at_[id + 1] - record_at_[id] : cell_bytes_[id];
  }
  /// A record's data (what the type's serialize wrote); empty for a live heap.
  std::span<const unsigned char> record_data(std::uint32_t id) const noexcept;
  /// Named roots in name order (then, for a live heap, objects held by Strong handles).
  const std::vector<Root>& roots() const noexcept { return roots_; }
  /// The external roots the snapshot refers to by name, in name order (none for a live heap).
  const std::vector<std::string>& externals() const noexcept { return externals_; }
  const Counts& counts() const noexcept { return counts_; }
  /// True for a graph made by of_heap().
  bool live() const noexcept { return live_; }

  /// Calls fn(Ref) for each reference of object `id`, in record order.
  template <class Fn>
  void for_each_ref(std::uint32_t id, Fn&& fn) const;
  /// Calls fn(target, position) for each strong reference to an object.
  template <class Fn>
  void for_each_strong(std::uint32_t id, Fn&& fn) const;

 private:
  friend struct GraphBuilder;
  const unsigned char* refs_begin(std::uint32_t id, const unsigned char*& refs_end) const noexcept;

  /// Offsets into bytes_: 4 bytes each while they fit (a file under 4 GiB), 8 beyond.
  class Offsets {
   public:
    void reserve(std::size_t count, std::uint64_t max_offset) {
      wide_ = max_offset > 0xffffffffu;
      if (wide_) wide_at_.reserve(count); else narrow_at_.reserve(count);
    }
    void push_back(std::uint64_t offset) {
      if (!wide_ && offset > 0xffffffffu) {  // a live graph outgrew 4 GiB: widen once
        wide_at_.assign(narrow_at_.begin(), narrow_at_.end());
        std::vector<std::uint32_t>().swap(narrow_at_);
        wide_ = true;
      }
      if (wide_) wide_at_.push_back(offset); else narrow_at_.push_back(static_cast<std::uint32_t>(offset));
    }
    std::uint64_t operator[](std::size_t i) const noexcept { return wide_ ? wide_at_[i] : narrow_at_[i]; }
    std::size_t size() const noexcept { return wide_ ? wide_at_.size() : narrow_at_.size(); }
    bool empty() const noexcept { return size() == 0; }

   private:
    std::vector<std::uint32_t> narrow_at_;
    std::vector<std::uint64_t> wide_at_;
    bool wide_ = false;
  };

  ByteBuffer bytes_;                       // the file, or (live) records of references only
  Offsets record_at_;                      // objects + 1 offsets of the records' length fields
  std::vector<std::uint64_t> cell_bytes_;  // live only
  std::vector<std::uint32_t> run_end_;     // the type runs: one past each run's last ID
  std::vector<std::uint32_t> run_type_;
  std::vector<Type> types_;
  std::vector<Root> roots_;
  std::vector<std::string> externals_;
  std::uint64_t first_id_ = detail::wire::kFirstIdRef;  // wire::first_id_ref(the file's format version)
  Counts counts_;
  bool live_ = false;
};

/// Immediate dominators over strong references, from a synthetic root that holds every root
/// (Lengauer and Tarjan's algorithm with path compression: O(E log N)), and retained bytes:
/// an object's self bytes plus those of every object it dominates, which is what would go if
/// it did. Weak references and tombstones never retain anything.
struct Dominators {
  /// idom of an object only the synthetic root dominates (held by a root, or by several).
  static constexpr std::uint32_t kRoots = 0xfffffffeu;
  std::vector<std::uint32_t> idom;      ///< per object: its immediate dominator, kRoots, or kNone (unreachable)
  std::vector<std::uint64_t> retained;  ///< per object: retained bytes (0 if unreachable)
  std::vector<std::uint32_t> retained_objects;  ///< per object: itself and the objects it dominates (0 if unreachable)
  std::uint32_t reachable = 0;          ///< objects the roots reach through strong references
};
Dominators dominators(const SnapshotGraph& graph);

/// A chain from a root to an object over strong references.
struct RetainerPath {
  struct Step {
    std::uint32_t id = 0;
    /// The position of the reference in the previous step's record that leads here (kNone for
    /// the first step, which the root holds).
    std::uint32_t position = SnapshotGraph::kNone;
  };
  std::string root;          ///< the root the chain starts from; empty if there is no chain
  std::vector<Step> steps;   ///< from the root's object to the target; empty if unreachable
};
/// The shortest strong path from any root to `target` (breadth first from every root at once,
/// roots in name order, references in record order: the first shortest path in that order).
RetainerPath shortest_path(const SnapshotGraph& graph, std::uint32_t target);

/// A weak handle, or a tombstone: the object holding it and its position in the record.
struct WeakHolder {
  std::uint32_t holder = 0;
  std::uint32_t position = 0;
};
/// The weak handles whose target is `target`.
std::vector<WeakHolder> weak_holders(const SnapshotGraph& graph, std::uint32_t target);
/// Every tombstone in the graph (weak handles whose target was left out or is gone).
std::vector<WeakHolder> tombstones(const SnapshotGraph& graph);

/// Writes V8's .heapsnapshot JSON, as V8's HeapSnapshotJSONSerializer lays it out, for Chrome
/// DevTools (Memory panel, Load) and memlab. Node 0 is the synthetic root; node 1 "(GC roots)"
/// holds each root by a property edge named after it; node 2 "(tombstone)" is the target of
/// every tombstone (a weak edge); then one "object" node per object, named after its type, with
/// id 7 + 2 x its ID (odd, as V8 numbers heap objects), its self bytes, an element edge per
/// strong reference and a weak edge per weak handle (indexed by position in the record); after
/// the objects, a synthetic node "(external root) NAME" per external root, the target of the
/// references to it (an element edge for a Member, a weak edge for a Weak).
void export_devtools(const SnapshotGraph& graph, std::ostream& out);
/// The same from a live heap: SnapshotGraph::of_heap(heap), its named roots and Strong handles.
void export_devtools(const Heap& heap, std::ostream& out);

// ---- inline ---------------------------------------------------------------------------------------

inline std::uint32_t SnapshotGraph::type_of(std::uint32_t id) const noexcept {
  // The first run whose end is past id.
  return run_type_[static_cast<std::size_t>(std::upper_bound(run_end_.begin(), run_end_.end(), id) - run_end_.begin())];
}

inline const unsigned char* SnapshotGraph::refs_begin(std::uint32_t id, const unsigned char*& refs_end) const noexcept {
  // The record was checked when the graph was built: both varints are well formed.
  const auto* base = reinterpret_cast<const unsigned char*>(bytes_.data());
  const unsigned char* end = base + bytes_.size();
  const unsigned char* p = base + record_at_[id];
  std::uint64_t length = 0, ref_bytes = 0;
  p += detail::wire::decode_varint(p, end, length);
  p += detail::wire::decode_varint(p, end, ref_bytes);
  refs_end = p + ref_bytes;
  return p;
}

template <class Fn>
void SnapshotGraph::for_each_ref(std::uint32_t id, Fn&& fn) const {
  using detail::wire::RefKind;
  const auto* end = reinterpret_cast<const unsigned char*>(bytes_.data()) + bytes_.size();
  const unsigned char* refs_end = nullptr;
  const unsigned char* p = refs_begin(id, refs_end);
  std::int64_t previous = id;
  for (std::uint32_t position = 0; p != refs_end; ++position) {
    detail::wire::Ref ref{};
    p += detail::wire::decode_reference(p, end, previous, first_id_, ref);
    Ref out;
    out.position = position;
    switch (ref.kind) {
      case RefKind::empty_strong: out.kind = SnapshotGraph::RefKind::empty_strong; break;
      case RefKind::empty_weak: out.kind = SnapshotGraph::RefKind::empty_weak; break;
      case RefKind::tombstone:
      case RefKind::expired:
      case RefKind::left_out: out.kind = SnapshotGraph::RefKind::tombstone; break;
      case RefKind::external_strong:
      case RefKind::external_weak:
        out.kind = ref.kind == RefKind::external_strong ? SnapshotGraph::RefKind::external_strong
                                                        : SnapshotGraph::RefKind::external_weak;
        out.external = static_cast<std::uint32_t>(ref.index);
        break;
      case RefKind::strong:
      case RefKind::weak:
        previous = ref.id;
        out.kind = ref.kind == RefKind::strong ? SnapshotGraph::RefKind::strong : SnapshotGraph::RefKind::weak;
        out.target = static_cast<std::uint32_t>(ref.id);
        break;
    }
    fn(out);
  }
}

template <class Fn>
void SnapshotGraph::for_each_strong(std::uint32_t id, Fn&& fn) const {
  for_each_ref(id, [&](const Ref& ref) {
    if (ref.kind == RefKind::strong) fn(ref.target, ref.position);
  });
}

}  // namespace snapheap
