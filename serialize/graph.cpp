// SnapshotGraph: a snapshot's objects and references, read from the file without the types' code
// (the records' references are stored apart from their data), or a live heap's graph walked
// through trace(). The graph keeps the bytes and an offset per object; references are decoded on
// demand (snapheap/inspect.hpp), so it costs about 4 bytes per object beyond the file.
#include <algorithm>
#include <unordered_map>
#include <utility>

#include "gc/heap_impl.hpp"
#include "serialize/format.hpp"
#include "serialize/scope.hpp"
#include "snapheap/detail/wire.hpp"
#include "snapheap/inspect.hpp"
#include "snapheap/tracer.hpp"

namespace snapheap {

namespace {

using detail::format::Cursor;

/// Checks every reference of a record (as inspect() does) and counts them.
void check_refs(const detail::format::Record& record, std::uint32_t id, const detail::format::Prefix& prefix,
                const unsigned char* file, SnapshotGraph::Counts& counts) {
  using detail::wire::RefKind;
  detail::format::for_each_checked_ref(record, id, prefix, file, [&](const detail::wire::Ref& ref) {
    switch (ref.kind) {
      case RefKind::empty_strong: ++counts.strong_empty; break;
      case RefKind::empty_weak: ++counts.weak_empty; break;
      case RefKind::tombstone:
      case RefKind::expired:
      case RefKind::left_out: ++counts.weak_tombstones; break;
      case RefKind::external_strong: ++counts.strong_external; break;
      case RefKind::external_weak: ++counts.weak_external; break;
      case RefKind::strong: ++counts.strong_refs; break;
      case RefKind::weak: ++counts.weak_targets; break;
    }
  });
}

}  // namespace

/// Builds graphs (SnapshotGraph befriends it).
struct GraphBuilder {
  static SnapshotGraph from_bytes(ByteBuffer bytes) {
    SnapshotGraph g;
    g.bytes_ = std::move(bytes);
    const auto* raw = reinterpret_cast<const unsigned char*>(g.bytes_.data());
    detail::format::Prefix prefix;
    Cursor cursor = detail::format::open({raw, g.bytes_.size()}, true, prefix);
    detail::format::read_prefix(cursor, prefix);
    const std::uint32_t n = prefix.object_count;
    g.first_id_ = prefix.first_id_ref();
    for (const std::string_view name : prefix.externals) g.externals_.emplace_back(name);
    g.types_.reserve(prefix.types.size());
    for (const auto& t : prefix.types) g.types_.push_back({std::string(t.name), t.version});
    std::uint32_t end = 0;
    for (const auto& run : prefix.runs) {
      end += run.count;
      g.run_end_.push_back(end);
      g.run_type_.push_back(run.type);
    }
    // read_prefix checked the object count against the bytes left (2 bytes per record at least).
    g.record_at_.reserve(std::size_t{n} + 1, g.bytes_.size());
    for (std::uint32_t id = 0; id < n; ++id) {
      g.record_at_.push_back(cursor.offset());
      const auto record = detail::format::read_record(cursor, id);
      check_refs(record, id, prefix, raw, g.counts_);
    }
    g.record_at_.push_back(cursor.offset());
    for (const auto& r : detail::format::read_roots(cursor, n)) g.roots_.push_back({std::string(r.name), r.id});
    detail::format::read_summary(cursor, prefix.format_version);
    detail::format::expect_end(cursor);
    return g;
  }

  /// The live graph; `order` receives the objects by graph ID. `target` (may be null) is not
  /// counted as held by `own_handles` of its Strong handles.
  static SnapshotGraph from_heap(const Heap& heap, std::vector<const Object*>& order, const Object* target,
                                 std::uint32_t own_handles);
};

namespace {

using detail::EdgeVisitor;
using detail::HeapTag;

/// Pass 1: the breadth-first numbering (strong targets not seen yet are queued).
class NumberVisitor final : public EdgeVisitor {
 public:
  NumberVisitor(std::vector<std::uint32_t>& id_of, std::vector<const Object*>& order) : id_of_(id_of), order_(order) {}
  void visit_strong(const Object* target, const void*) override {
    const std::uint32_t slot = detail::ObjectAccess::slot(target);
    if (id_of_[slot] != SnapshotGraph::kNone) return;
    id_of_[slot] = static_cast<std::uint32_t>(order_.size());
    order_.push_back(target);
  }
  void visit_weak(HeapTag, std::uint32_t, std::uint32_t, const void*) override {}

 private:
  std::vector<std::uint32_t>& id_of_;
  std::vector<const Object*>& order_;
};

/// Pass 2: each object's references, encoded as a record's reference codes.
class EncodeVisitor final : public EdgeVisitor {
 public:
  EncodeVisitor(const detail::ObjectTable& table, const std::vector<std::uint32_t>& id_of, std::string& codes,
                SnapshotGraph::Counts& counts)
      : table_(table), id_of_(id_of), codes_(codes), counts_(counts) {}
  void start(std::uint32_t id) {
    previous_ = id;
    codes_.clear();
  }
  void visit_strong(const Object* target, const void*) override {
    put(detail::wire::encode_ref(id_of_[detail::ObjectAccess::slot(target)], previous_, false));
    previous_ = id_of_[detail::ObjectAccess::slot(target)];
    ++counts_.strong_refs;
  }
  void visit_weak(HeapTag heap, std::uint32_t slot, std::uint32_t generation, const void*) override {
    // A target that has expired, lives in another heap, or is garbage no root reaches: a tombstone.
    if (heap == table_.tag() && slot < id_of_.size() && table_.generation(slot) == generation &&
        id_of_[slot] != SnapshotGraph::kNone) {
      put(detail::wire::encode_ref(id_of_[slot], previous_, true));
      previous_ = id_of_[slot];
      ++counts_.weak_targets;
    } else {
      put(detail::wire::kTombstoneRef);
      ++counts_.weak_tombstones;
    }
  }

 private:
  void put(std::uint64_t code) {
    unsigned char buffer[detail::wire::kMaxVarint64];
    codes_.append(reinterpret_cast<const char*>(buffer), detail::wire::encode_varint(buffer, code));
  }
  const detail::ObjectTable& table_;
  const std::vector<std::uint32_t>& id_of_;
  std::string& codes_;
  SnapshotGraph::Counts& counts_;
  std::uint32_t previous_ = 0;
};

void append_varint(ByteBuffer& out, std::uint64_t v) {
  unsigned char buffer[detail::wire::kMaxVarint64];
  out.append(buffer, detail::wire::encode_varint(buffer, v));
}

}  // namespace

SnapshotGraph GraphBuilder::from_heap(const Heap& heap, std::vector<const Object*>& order, const Object* target,
                                      std::uint32_t own_handles) {
  // Holding collections off while trace() runs, as a save does (the heap itself is not changed).
  detail::SnapshotScope scope(const_cast<Heap&>(heap), "snapheap: a heap's graph was walked from a destructor or trace()");
  const detail::ObjectTable& table = scope.table();
  const detail::HeapImpl& impl = detail::HeapInternals::of(heap);
  SnapshotGraph g;
  g.live_ = true;
  std::vector<std::uint32_t> id_of(table.slot_limit(), SnapshotGraph::kNone);
  std::vector<std::uint32_t> named(table.slot_limit(), 0);
  order.clear();
  const auto take = [&](const Object* o, std::string name) {
    const std::uint32_t slot = detail::ObjectAccess::slot(o);
    if (id_of[slot] == SnapshotGraph::kNone) {
      id_of[slot] = static_cast<std::uint32_t>(order.size());
      order.push_back(o);
    }
    g.roots_.push_back({std::move(name), id_of[slot]});
  };
  for (const auto& [name, handle] : impl.roots.map()) {
    take(handle.get(), name);
    ++named[detail::ObjectAccess::slot(handle.get())];
  }
  // Objects held by Strong handles: root counts beyond the named roots' (and the caller's own).
  const std::uint32_t target_slot = target ? detail::ObjectAccess::slot(target) : detail::kNoSlot;
  for (std::uint32_t slot = 0; slot < table.slot_limit(); ++slot) {
    if (!((table.live_bits()[slot >> 6] >> (slot & 63)) & 1u)) continue;
    const std::uint32_t own = slot == target_slot ? own_handles : 0;
    if (table.root_counts()[slot] > named[slot] + own) take(table.object_at(slot), "(strong handle)");
  }
  {
    NumberVisitor numbering(id_of, order);
    Tracer tracer = detail::TracerAccess::visiting(numbering);
    for (std::size_t q = 0; q < order.size(); ++q) order[q]->trace(tracer);
  }
  // Records of references only, and the types as runs.
  std::unordered_map<std::uint32_t, std::uint32_t> type_index;
  std::string codes;
  EncodeVisitor encode(table, id_of, codes, g.counts_);
  Tracer tracer = detail::TracerAccess::visiting(encode);
  g.record_at_.reserve(order.size() + 1, 0);
  g.cell_bytes_.reserve(order.size());
  for (std::uint32_t id = 0; id < order.size(); ++id) {
    const Object* o = order[id];
    const std::uint32_t registry_type = detail::ObjectAccess::type(o);
    auto [it, added] = type_index.try_emplace(registry_type, static_cast<std::uint32_t>(g.types_.size()));
    if (added) {
      const detail::TypeInfo* info = detail::type_at(registry_type);
      g.types_.push_back({info ? info->display_name() : std::string("(unknown type)"), 0});
    }
    if (g.run_type_.empty() || g.run_type_.back() != it->second) {
      g.run_type_.push_back(it->second);
      g.run_end_.push_back(id);
    }
    ++g.run_end_.back();
    encode.start(id);
    o->trace(tracer);
    g.record_at_.push_back(g.bytes_.size());
    append_varint(g.bytes_, detail::wire::varint_size(codes.size()) + codes.size());
    append_varint(g.bytes_, codes.size());
    g.bytes_.append(codes.data(), codes.size());
    g.cell_bytes_.push_back(detail::ObjectTable::cell_bytes_of(o));
  }
  g.record_at_.push_back(g.bytes_.size());
  return g;
}

SnapshotGraph SnapshotGraph::read(ByteBuffer bytes) { return GraphBuilder::from_bytes(std::move(bytes)); }

SnapshotGraph SnapshotGraph::read(const std::filesystem::path& path) {
  ByteBuffer bytes;
  read_snapshot_file(path, bytes);
  return GraphBuilder::from_bytes(std::move(bytes));
}

SnapshotGraph SnapshotGraph::of_heap(const Heap& heap) {
  std::vector<const Object*> order;
  return GraphBuilder::from_heap(heap, order, nullptr, 0);
}

std::span<const unsigned char> SnapshotGraph::record_data(std::uint32_t id) const noexcept {
  if (live_) return {};
  const unsigned char* refs_end = nullptr;
  refs_begin(id, refs_end);
  const auto* base = reinterpret_cast<const unsigned char*>(bytes_.data());
  return {refs_end, base + record_at_[id + 1]};
}

std::vector<Strong<Object>> Heap::retainer_path_of(const Object* target, std::uint32_t own_handles) const {
  std::vector<Strong<Object>> chain;
  if (!target) return chain;
  std::vector<const Object*> order;
  const SnapshotGraph graph = GraphBuilder::from_heap(*this, order, target, own_handles);
  const auto found = std::find(order.begin(), order.end(), target);
  if (found == order.end()) return chain;
  const RetainerPath path = shortest_path(graph, static_cast<std::uint32_t>(found - order.begin()));
  chain.reserve(path.steps.size());
  for (const auto& step : path.steps) chain.emplace_back(const_cast<Object*>(order[step.id]));
  return chain;
}

}  // namespace snapheap
