#include "serialize/writer.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <ostream>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "serialize/format.hpp"
#include "serialize/registry.hpp"
#include "serialize/scope.hpp"
#include "serialize/scratch.hpp"

namespace snapheap {

// ---- OutputArchive: the out-of-line parts ----------------------------------------------------------

void OutputArchive::grow(std::size_t n) {
  const std::size_t used = static_cast<std::size_t>(cur_ - data_);
  data_storage_.resize(std::max(data_storage_.size() * 2, used + n + 256));
  data_ = data_storage_.data();
  cur_ = data_ + used;
  end_ = data_ + data_storage_.size();
}

void OutputArchive::grow_refs() {
  const std::size_t used = static_cast<std::size_t>(refs_cur_ - refs_);
  refs_storage_.resize(std::max(refs_storage_.size() * 2, used + 256));
  refs_ = refs_storage_.data();
  refs_cur_ = refs_ + used;
  refs_end_ = refs_ + refs_storage_.size();
}

// The object being saved spans its most derived type's bytes; its fields (and the storage they
// own) stay put while the heap is held still for the save.
bool OutputArchive::owned_by_record(const void* owner) noexcept {
  if (object_begin_ == 0) {
    object_begin_ = reinterpret_cast<std::uintptr_t>(dynamic_cast<const void*>(object_));
    object_end_ = object_begin_ + detail::type_at(detail::ObjectAccess::type(object_))->size;
  }
  const auto at = reinterpret_cast<std::uintptr_t>(owner);
  return at >= object_begin_ && at < object_end_;
}

void OutputArchive::put_bulk(const void* owner, const void* p, std::size_t n, detail::StillHolds check) {
  segments_.push_back({static_cast<std::size_t>(cur_ - data_), p, n, owner, check});
  bulk_bytes_ += n;
}

void OutputArchive::check_segments() const {
  for (const Segment& segment : segments_) {
    if (!segment.check || segment.check(segment.owner, segment.data, segment.size)) continue;
    const detail::TypeInfo* type = detail::type_at(detail::ObjectAccess::type(object_));
    throw SnapshotError(SnapshotErrc::unsupported_value,
                        "a " + (type ? type->display_name() : std::string("?")) + "'s save() changed a field of " +
                            std::to_string(segment.size) + " bytes after writing it (at byte " +
                            std::to_string(segment.at) + " of its record's data); write a copy instead");
  }
}

std::uint32_t OutputArchive::lookup_strong(const Object* target) const {
  const std::uint32_t slot = detail::ObjectAccess::slot(target);
  if (&detail::HeapCore::of(target) != heap_ || !in_snapshot(slot)) unsaved_reference(target);
  return ids_[slot];
}

namespace {
/// Whether a weak handle's target has died: its slot was reused, or a finished marking left it
/// unmarked and it awaits the sweep (Weak::expired() reads it dead then, so the save does too).
bool target_died(const detail::HeapCore& heap, std::uint32_t slot, std::uint32_t generation) noexcept {
  return heap.generation(slot) != generation || (heap.sweep_pending() && !heap.is_marked(slot));
}
}  // namespace

// As resolve_edges decides for the logged edges: another heap's handle (or a left-out
// tombstone's, which names no heap) is left out, a handle whose target died is expired.
std::uint32_t OutputArchive::lookup_weak(detail::HeapTag heap, std::uint32_t slot,
                                         std::uint32_t generation) const noexcept {
  if (heap != heap_->tag()) return detail::kLeftOutId;
  if (target_died(*heap_, slot, generation)) return detail::kExpiredId;
  return in_snapshot(slot) ? ids_[slot] : detail::kLeftOutId;
}

void OutputArchive::put_special_weak(std::uint32_t id) {
  if (id == detail::kExpiredId) {
    ++weak_tombstones_;
    ++weak_expired_;
    return put_ref(detail::wire::kExpiredRef);
  }
  if (id == detail::kLeftOutId) {
    ++weak_tombstones_;
    ++weak_left_out_;
    return put_ref(detail::wire::kLeftOutRef);
  }
  put_external(id, true);
}

void OutputArchive::put_external(std::uint32_t id, bool weak) {
  const std::uint32_t k = detail::kFirstExternalId - id;
  const std::uint32_t index = external_index_[k];
  if (index == detail::kNoSlot) unsaved_external(k);
  ++(weak ? weak_external_ : strong_external_);
  put_ref(weak ? detail::wire::kExternalWeakRef : detail::wire::kExternalStrongRef);
  if (refs_end_ - refs_cur_ < 10) grow_refs();  // the index, part of the same reference
  refs_cur_ += detail::wire::encode_varint(refs_cur_, std::uint64_t{index});
}

void OutputArchive::unsaved_reference(const Object* target) const {
  const detail::TypeInfo* holder = detail::type_at(detail::ObjectAccess::type(object_));
  const bool foreign = &detail::HeapCore::of(target) != heap_;
  const detail::TypeInfo* to = foreign ? nullptr : detail::type_at(detail::ObjectAccess::type(target));
  throw SnapshotError(SnapshotErrc::unsaved_reference,
                      "a " + (holder ? holder->display_name() : std::string("?")) + " saved a Member " +
                          (foreign ? std::string("that points into another heap")
                                   : "to a " + (to ? to->display_name() : std::string("?")) +
                                         " that its trace() does not visit"));
}

// The table of external roots lists those the logged edges reach; a reference to another one was
// written by a serialize() whose trace() does not visit it.
void OutputArchive::unsaved_external(std::uint32_t k) const {
  const detail::TypeInfo* holder = detail::type_at(detail::ObjectAccess::type(object_));
  throw SnapshotError(SnapshotErrc::unsaved_reference,
                      "a " + (holder ? holder->display_name() : std::string("?")) +
                          " saved a reference to the object of the external root '" + std::string(external_names_[k]) +
                          "' that no trace() visits");
}

namespace detail {

void throw_sliced_pointer(const std::type_info& declared, const std::type_info& held) {
  throw SnapshotError(SnapshotErrc::unsupported_value,
                      "a std::unique_ptr<" + demangled_name(declared) + "> holds a " + demangled_name(held) +
                          ", which would be saved and loaded as a plain " + demangled_name(declared) +
                          " (snapheap saves value types by value; make the object managed and hold it "
                          "with a Member)");
}

void throw_silent_elements(std::size_t count) {
  throw SnapshotError(SnapshotErrc::unsupported_value, "a container of " + std::to_string(count) +
                                                           " elements whose elements write nothing cannot be saved");
}

namespace {

/// The writer's view of the edges: every Member target is queued unread and logged with its
/// queue position, every weak handle logged; IDs are filled in once the numbering is done.
/// Ephemerons met while numbering whose keys were not numbered yet: key slot -> values.
using PendingValues = std::unordered_map<std::uint32_t, std::vector<const Object*>>;

class NumberingVisitor final : public EdgeVisitor {
 public:
  NumberingVisitor(const HeapCore& heap, SnapshotScratch& scratch, const std::uint64_t* visited,
                   PendingValues& pending) noexcept
      : heap_(heap), scratch_(scratch), visited_(visited), pending_(pending) {}
  // An ephemeron's value is saved iff its key is (the fixpoint marking computes): queued now if
  // the key is numbered already, else when the key is (SnapshotWriter::number_objects). Neither
  // part is logged: the archive looks both up when the record is written.
  void visit_ephemeron(HeapTag heap, std::uint32_t slot, std::uint32_t, const void*, const Object* value, const void*,
                       const Object*) override {
    has_weak_structures_ = true;
    if (!value || heap != heap_.tag()) return;
    if ((visited_[slot >> 6] >> (slot & 63)) & 1u) scratch_.queue.push_back(value);
    else pending_[slot].push_back(value);
  }
  void visit_weak_structure() override { has_weak_structures_ = true; }
  bool has_weak_structures() const noexcept { return has_weak_structures_; }
  void visit_strong(const Object* target, const void*) override {
    SNAPHEAP_DCHECK(&HeapCore::of(target) == &heap_, "a Member points into another heap: edges must stay within one heap");
    scratch_.strong_edges.push_back({target, static_cast<std::uint32_t>(scratch_.queue.size())});
    scratch_.queue.push_back(target);
  }
  void visit_weak(HeapTag heap, std::uint32_t slot, std::uint32_t generation, const void*) override {
    scratch_.weak_edges.push_back({heap == heap_.tag() ? slot : kNoSlot, generation, 0});
  }

 private:
  const HeapCore& heap_;
  SnapshotScratch& scratch_;
  const std::uint64_t* visited_;
  PendingValues& pending_;
  bool has_weak_structures_ = false;
};

// Prefetch distances: far enough for a read from memory to arrive before it is needed.
constexpr std::size_t kAhead = 16;

}  // namespace

class SnapshotWriter {
 public:
  SnapshotWriter(Heap& heap, Sink& sink, const SaveOptions& options)
      : impl_(HeapInternals::of(heap)), table_(impl_.table), out_(sink), options_(options), scratch_(scratch_of(heap)) {}

  SnapshotStats run() {
    check_registry_conflicts();
    select_roots();
    number_objects();
    resolve_edges();
    index_externals();
    map_types();
    write_header(has_weak_structures_ ? wire::kFormatVersion : wire::kFormatVersionWithoutSummary);
    write_types();
    write_externals();
    write_records();
    write_roots();
    if (has_weak_structures_) write_summary();
    out_.finish();
    return stats();
  }

 private:
  SnapshotStats stats() const {
    SnapshotStats stats;
    stats.objects = scratch_.order.size();
    stats.roots = roots_.size();
    stats.strong_refs = archive_.strong_refs_;
    stats.weak_targets = archive_.weak_targets_;
    stats.weak_tombstones = archive_.weak_tombstones_;
    stats.weak_empty = archive_.weak_empty_;
    stats.weak_expired = archive_.weak_expired_;
    stats.weak_left_out = archive_.weak_left_out_;
    stats.external_roots = external_table_.size();
    stats.strong_external = archive_.strong_external_;
    stats.weak_external = archive_.weak_external_;
    stats.ephemerons_saved = archive_.ephemeron_counts_[0];
    stats.ephemerons_dropped = archive_.ephemeron_counts_[1];
    stats.weak_values_saved = archive_.weak_value_counts_[0];
    stats.weak_values_dropped = archive_.weak_value_counts_[1];
    stats.bytes = out_.position();
    return stats;
  }

  static std::vector<std::string> sorted_names(std::vector<std::string> names) {
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    return names;
  }

  // The roots to save and the external ones, each in name order; the saved ones are every root
  // but the external ones unless SaveOptions::roots lists them.
  void select_roots() {
    const auto& all = impl_.roots.map();
    const std::vector<std::string> external = sorted_names(options_.external);
    for (const std::string& name : external) {
      auto found = all.find(name);
      if (found == all.end())
        throw std::invalid_argument("snapheap: save: the heap has no root named '" + name +
                                    "' (in SaveOptions::external)");
      externals_.emplace_back(found->first, found->second.get());
    }
    const auto is_external = [&](std::string_view name) {
      return std::binary_search(external.begin(), external.end(), name);
    };
    if (options_.roots.empty()) {
      for (const auto& [name, handle] : all)
        if (!is_external(name)) roots_.emplace_back(name, handle.get());
      return;
    }
    for (const std::string& name : sorted_names(options_.roots)) {
      if (is_external(name))
        throw std::invalid_argument("snapheap: save: '" + name + "' is in both SaveOptions::roots and SaveOptions::external");
      auto found = all.find(name);
      if (found == all.end()) throw std::invalid_argument("snapheap: save: the heap has no root named '" + name + "'");
      roots_.emplace_back(found->first, found->second.get());
    }
  }

  // The objects of the external roots count as visited from the start, with a special ID each, so
  // that numbering never enters them and every edge to one resolves to its root's name. Where
  // two names hold one object, the first name (in name order) is the one written.
  void mark_externals() {
    special_floor_ = kFirstExternalId + 1 - static_cast<std::uint32_t>(externals_.size());
    for (std::size_t k = 0; k < externals_.size(); ++k) {
      const std::uint32_t slot = ObjectAccess::slot(externals_[k].second);
      std::uint64_t& word = visited_[slot >> 6];
      const std::uint64_t bit = std::uint64_t{1} << (slot & 63);
      if (word & bit) continue;
      word |= bit;
      ids_[slot] = kFirstExternalId - static_cast<std::uint32_t>(k);
    }
    for (const auto& [name, object] : roots_) {
      const std::uint32_t slot = ObjectAccess::slot(object);
      if ((visited_[slot >> 6] >> (slot & 63)) & 1u)
        throw std::invalid_argument("snapheap: save: the root '" + std::string(name) +
                                    "' holds the object of the external root '" +
                                    std::string(externals_[kFirstExternalId - ids_[slot]].first) + "'");
    }
  }

  void clear_scratch() {
    for (auto* v : {&scratch_.types, &scratch_.strong_start, &scratch_.weak_start, &scratch_.queue_ids}) v->clear();
    scratch_.queue.clear();
    scratch_.order.clear();
    scratch_.strong_edges.clear();
    scratch_.weak_edges.clear();
    visited_ = sized(scratch_.visited, table_.bit_words());
    std::memset(visited_, 0, table_.bit_words() * sizeof(std::uint64_t));
    ids_ = sized(scratch_.ids, table_.slot_limit());
  }

  // Breadth first from the roots in name order; an object's ID is its position in the order it
  // is taken off the queue. The visitor queues targets without reading them and logs every edge;
  // an object is numbered when it comes off the queue (a few entries after being prefetched), so
  // that the cache misses of many edges overlap instead of each waiting for its own.
  void number_objects() {
    clear_scratch();
    mark_externals();
    pending_values_.clear();
    NumberingVisitor visitor(table_, scratch_, visited_, pending_values_);
    Tracer tracer = TracerAccess::visiting(visitor);
    Buffer<const Object*>& queue = scratch_.queue;
    for (const auto& root : roots_) queue.push_back(root.second);
    // queue_ids[q]: the ID of the object at queue position q (each logged edge holds the queue
    // position of its target until resolve_edges swaps it for this ID).
    for (std::size_t q = 0; q < queue.size(); ++q) {
      // Two stages: an object's header 2 x kAhead entries ahead, then its ID table entry (for a
      // repeat) kAhead ahead, once its slot has arrived.
      if (q + 2 * kAhead < queue.size()) __builtin_prefetch(queue[q + 2 * kAhead]);
      if (q + kAhead < queue.size()) __builtin_prefetch(ids_ + ObjectAccess::slot(queue[q + kAhead]));
      const Object* o = queue[q];
      const std::uint32_t slot = ObjectAccess::slot(o);
      std::uint64_t& word = visited_[slot >> 6];
      const std::uint64_t bit = std::uint64_t{1} << (slot & 63);
      if (word & bit) {
        scratch_.queue_ids.push_back(ids_[slot]);
        continue;
      }
      word |= bit;
      const auto id = static_cast<std::uint32_t>(scratch_.order.size());
      scratch_.queue_ids.push_back(id);
      ids_[slot] = id;
      scratch_.order.push_back(o);
      scratch_.types.push_back(ObjectAccess::type(o));
      scratch_.strong_start.push_back(static_cast<std::uint32_t>(scratch_.strong_edges.size()));
      scratch_.weak_start.push_back(static_cast<std::uint32_t>(scratch_.weak_edges.size()));
      o->trace(tracer);
      if (!pending_values_.empty()) [[unlikely]]
        queue_values_keyed_by(slot);
    }
    has_weak_structures_ = visitor.has_weak_structures();
    scratch_.strong_start.push_back(static_cast<std::uint32_t>(scratch_.strong_edges.size()));
    scratch_.weak_start.push_back(static_cast<std::uint32_t>(scratch_.weak_edges.size()));
    constexpr std::size_t kMax = std::numeric_limits<std::uint32_t>::max();
    if (queue.size() >= kMax || scratch_.strong_edges.size() >= kMax || scratch_.weak_edges.size() >= kMax ||
        scratch_.order.size() >= special_floor_)
      throw SnapshotError(SnapshotErrc::unsupported_value, "more than 2^32 - 3 objects or edges in one snapshot");
  }

  // The object at `slot` was just numbered: the ephemerons waiting for it as their key have their
  // values saved too.
  void queue_values_keyed_by(std::uint32_t slot) {
    const auto found = pending_values_.find(slot);
    if (found == pending_values_.end()) return;
    for (const Object* value : found->second) scratch_.queue.push_back(value);
    pending_values_.erase(found);
  }

  // Strong edges: queue position -> ID (an external root's special ID for its object). Weak edges:
  // the target's ID if it is in the snapshot (still the same object, and numbered), an external
  // root's special ID, else a tombstone (invariant 4): expired if the target died, left out if it
  // lives (or is in another heap).
  void resolve_edges() {
    StrongEdge* strong = scratch_.strong_edges.data();
    const std::size_t strong_count = scratch_.strong_edges.size();
    const std::uint32_t* queue_ids = scratch_.queue_ids.data();
    for (std::size_t i = 0; i < strong_count; ++i) {
      if (i + kAhead < strong_count) __builtin_prefetch(queue_ids + strong[i + kAhead].id);
      strong[i].id = queue_ids[strong[i].id];
    }
    WeakEdge* weak = scratch_.weak_edges.data();
    const std::size_t weak_count = scratch_.weak_edges.size();
    for (std::size_t i = 0; i < weak_count; ++i) {
      if (i + kAhead < weak_count && weak[i + kAhead].slot != kNoSlot) {
        __builtin_prefetch(ids_ + weak[i + kAhead].slot);
        __builtin_prefetch(&table_.generation(weak[i + kAhead].slot));
      }
      WeakEdge& e = weak[i];
      if (e.slot == kNoSlot) e.id = kLeftOutId;
      else if (target_died(table_, e.slot, e.generation)) e.id = kExpiredId;
      else e.id = ((visited_[e.slot >> 6] >> (e.slot & 63)) & 1u) ? ids_[e.slot] : kLeftOutId;
    }
  }

  // The external table lists, in name order, the external roots the logged edges refer to.
  void index_externals() {
    external_index_.assign(externals_.size(), kNoSlot);
    if (externals_.empty()) return;
    std::vector<bool> used(externals_.size(), false);
    const auto note = [&](std::uint32_t id) {
      if (id >= special_floor_ && id <= kFirstExternalId) used[kFirstExternalId - id] = true;
    };
    for (const StrongEdge& e : scratch_.strong_edges) note(e.id);
    for (const WeakEdge& e : scratch_.weak_edges) note(e.id);
    for (std::size_t k = 0; k < externals_.size(); ++k) {
      external_names_.push_back(externals_[k].first);
      if (!used[k]) continue;
      external_index_[k] = static_cast<std::uint32_t>(external_table_.size());
      external_table_.push_back(externals_[k].first);
    }
  }

  void map_types() {
    constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();
    std::vector<std::uint32_t> file_index;  // registry index -> type table index
    std::uint32_t previous = kNone;
    for (const std::uint32_t t : scratch_.types) {
      if (t >= file_index.size()) file_index.resize(t + 1, kNone);
      if (file_index[t] == kNone) {
        const TypeInfo* info = type_at(t);
        const SnapshotHooks* hooks = info->snapshot.load(std::memory_order_acquire);
        if (!hooks)
          throw SnapshotError(SnapshotErrc::unregistered_type,
                              "the roots reach an object of type " + info->display_name() +
                                  ", which is not registered for snapshots (SNAPHEAP_REGISTER)");
        file_index[t] = static_cast<std::uint32_t>(types_.size());
        types_.push_back(hooks);
      }
      const std::uint32_t f = file_index[t];
      if (f == previous) ++runs_.back().count;
      else runs_.push_back({f, 1});
      previous = f;
    }
  }

  void write_header(std::uint16_t version) {
    unsigned char header[wire::kHeaderSize];
    wire::write_header(header, version);
    out_.put(header, sizeof header);
  }

  // Format 3: what the weak structures kept (serialize/format.hpp).
  void write_summary() {
    out_.put_varint(4);
    out_.put_varint(archive_.ephemeron_counts_[0]);
    out_.put_varint(archive_.ephemeron_counts_[1]);
    out_.put_varint(archive_.weak_value_counts_[0]);
    out_.put_varint(archive_.weak_value_counts_[1]);
  }

  void put_name(std::string_view name) {
    out_.put_varint(name.size());
    out_.put(name.data(), name.size());
  }

  void write_types() {
    out_.put_varint(types_.size());
    for (const SnapshotHooks* hooks : types_) {
      put_name(hooks->name);
      out_.put_varint(hooks->version);
    }
    out_.put_varint(scratch_.order.size());
    out_.put_varint(runs_.size());
    for (const format::Run& run : runs_) {
      out_.put_varint(run.type);
      out_.put_varint(run.count);
    }
  }

  void write_externals() {
    out_.put_varint(external_table_.size());
    for (const std::string_view name : external_table_) put_name(name);
  }

  void write_records() {
    archive_.heap_ = &table_;
    archive_.visited_ = visited_;
    archive_.ids_ = ids_;
    archive_.special_floor_ = special_floor_;
    archive_.external_index_ = external_index_.data();
    archive_.external_names_ = external_names_.data();
    std::uint32_t id = 0;
    for (const format::Run& run : runs_) {
      const SnapshotHooks* hooks = types_[run.type];
      for (std::uint32_t k = 0; k < run.count; ++k, ++id) write_record(id, *hooks);
    }
  }

  void write_record(std::uint32_t id, const SnapshotHooks& hooks) {
    OutputArchive& ar = archive_;
    begin_record(ar, id, hooks.version);
    hooks.save(*scratch_.order[id], ar, hooks.version);
    if (!ar.segments_.empty()) ar.check_segments();
    const auto data_bytes = static_cast<std::size_t>(ar.cur_ - ar.data_);
    const auto ref_bytes = static_cast<std::size_t>(ar.refs_cur_ - ar.refs_);
    out_.put_varint(wire::varint_size(ref_bytes) + ref_bytes + data_bytes + ar.bulk_bytes_);
    out_.put_varint(ref_bytes);
    out_.put(ar.refs_, ref_bytes);
    std::size_t done = 0;
    for (const OutputArchive::Segment& segment : ar.segments_) {
      out_.put(ar.data_ + done, segment.at - done);
      out_.put(segment.data, segment.size);
      done = segment.at;
    }
    out_.put(ar.data_ + done, data_bytes - done);
  }

  void begin_record(OutputArchive& ar, std::uint32_t id, std::uint32_t version) {
    ar.cur_ = ar.data_;
    ar.refs_cur_ = ar.refs_;
    ar.ref_count_ = 0;
    ar.bulk_bytes_ = 0;
    ar.segments_.clear();
    ar.previous_id_ = id;
    ar.version_ = version;
    ar.object_ = scratch_.order[id];
    ar.object_begin_ = 0;
    ar.strong_cur_ = scratch_.strong_edges.data() + scratch_.strong_start[id];
    ar.strong_end_ = scratch_.strong_edges.data() + scratch_.strong_start[id + 1];
    ar.weak_cur_ = scratch_.weak_edges.data() + scratch_.weak_start[id];
    ar.weak_end_ = scratch_.weak_edges.data() + scratch_.weak_start[id + 1];
  }

  void write_roots() {
    out_.put_varint(roots_.size());
    for (const auto& [name, object] : roots_) {
      put_name(name);
      out_.put_varint(ids_[ObjectAccess::slot(object)]);
    }
  }

  HeapImpl& impl_;
  ObjectTable& table_;
  SnapshotOutput out_;
  const SaveOptions& options_;
  SnapshotScratch& scratch_;
  std::uint64_t* visited_ = nullptr;
  std::uint32_t* ids_ = nullptr;
  std::vector<std::pair<std::string_view, const Object*>> roots_;
  std::vector<std::pair<std::string_view, const Object*>> externals_;  // SaveOptions::external, in name order
  std::uint32_t special_floor_ = kLeftOutId;
  std::vector<std::uint32_t> external_index_;   // by external root: its index in the table, or kNoSlot
  std::vector<std::string_view> external_names_;
  std::vector<std::string_view> external_table_;  // what the snapshot lists
  PendingValues pending_values_;
  bool has_weak_structures_ = false;
  std::vector<const SnapshotHooks*> types_;
  std::vector<format::Run> runs_;
  OutputArchive archive_;
};

SnapshotStats write_snapshot(Heap& heap, Sink& sink, const SaveOptions& options) {
  SnapshotScope scope(heap, "snapheap::save was called from a destructor or trace(): the collector is running");
  SnapshotWriter writer(heap, sink, options);
  return writer.run();
}

}  // namespace detail

SnapshotStats save(Heap& heap, ByteBuffer& out, const SaveOptions& options) {
  out.clear();
  detail::BufferSink sink(out);
  try {
    return detail::write_snapshot(heap, sink, options);
  } catch (...) {
    out.clear();  // no half snapshot left behind
    throw;
  }
}

SnapshotStats save(Heap& heap, std::ostream& out, const SaveOptions& options) {
  detail::StreamSink sink(out);
  return detail::write_snapshot(heap, sink, options);
}

}  // namespace snapheap
