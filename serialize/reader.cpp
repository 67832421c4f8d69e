#include "serialize/reader.hpp"

#include <algorithm>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/lifecycle.hpp"
#include "serialize/format.hpp"
#include "serialize/registry.hpp"
#include "serialize/scope.hpp"
#include "serialize/scratch.hpp"

namespace snapheap {

// ---- InputArchive: the out-of-line parts -----------------------------------------------------------

void InputArchive::fail(SnapshotErrc code, const std::string& what) const {
  throw SnapshotError(code, detail::format::record_context(record_id_, type_->display_name()) + ": " + what, offset());
}

void InputArchive::fail_overrun(std::size_t wanted) const {
  fail(SnapshotErrc::record_mismatch,
       "the type's load reads " + std::to_string(wanted) + " bytes but the record has " +
           std::to_string(end_ - cur_) + " left (does the class version match its serialize()?)");
}

std::uint64_t InputArchive::get_varint_slow() {
  std::uint64_t v = 0;
  const std::size_t n = detail::wire::decode_varint(cur_, end_, v);
  if (n == 0) fail_overrun(static_cast<std::size_t>(end_ - cur_) + 1);
  if (n == detail::wire::kMalformed) {
    detail::uint128 wide = 0;
    const std::size_t w = detail::wire::decode_varint128(cur_, end_, wide);
    if (w != 0 && w != detail::wire::kMalformed)
      fail(SnapshotErrc::record_mismatch,
           "a value wider than 64 bits (a 128-bit integer's) does not fit the field's integer type");
    fail(SnapshotErrc::malformed, "a malformed variable-length integer");
  }
  cur_ += n;
  return v;
}

detail::uint128 InputArchive::get_varint128() {
  detail::uint128 v = 0;
  const std::size_t n = detail::wire::decode_varint128(cur_, end_, v);
  if (n == 0) fail_overrun(static_cast<std::size_t>(end_ - cur_) + 1);
  if (n == detail::wire::kMalformed) fail(SnapshotErrc::malformed, "a malformed variable-length integer");
  cur_ += n;
  return v;
}

std::size_t InputArchive::get_count(std::size_t min_bytes) {
  const std::uint64_t count = get_varint();
  const std::size_t left = static_cast<std::size_t>(end_ - cur_);
  // Each element takes min_bytes of data, or at least one byte or one reference (the writer
  // refuses containers whose elements write nothing).
  const std::uint64_t limit = min_bytes ? left / min_bytes : left + static_cast<std::size_t>(refs_end_ - refs_cur_);
  if (count > limit)
    fail(SnapshotErrc::record_mismatch, "a count of " + std::to_string(count) +
                                            " elements is more than the record's " + std::to_string(left) +
                                            " remaining bytes can hold");
  return static_cast<std::size_t>(count);
}

std::int64_t InputArchive::get_target_slow(bool weak) {
  using detail::wire::RefKind;
  const auto at = static_cast<std::uint64_t>(refs_cur_ - begin_);
  const std::string type = type_->display_name();
  auto bad = [&](const char* what) {
    throw SnapshotError(SnapshotErrc::bad_reference, detail::format::record_context(record_id_, type) + ": " + what, at);
  };
  if (refs_cur_ == refs_end_)
    throw SnapshotError(SnapshotErrc::record_mismatch,
                        detail::format::record_context(record_id_, type) +
                            ": the type's load reads more references than the record holds",
                        at);
  detail::wire::Ref ref{};
  const std::size_t n = detail::wire::decode_reference(refs_cur_, refs_end_, previous_id_, first_id_ref_, ref);
  if (n == 0 || n == detail::wire::kMalformed) detail::format::fail_malformed_reference(record_id_, type, at);
  refs_cur_ += n;
  ref_at_ = at;
  if (detail::wire::is_weak(ref.kind) != weak)
    bad(weak ? "a Weak field holds a Member reference" : "a Member field holds a weak reference");
  switch (ref.kind) {
    case RefKind::empty_strong: return kNullTarget;
    case RefKind::empty_weak: ++stats_->weak_empty; return kNullTarget;
    case RefKind::tombstone: ++stats_->weak_tombstones; return kExpiredTarget;  // version 1: either kind
    case RefKind::expired: ++stats_->weak_tombstones; ++stats_->weak_expired; return kExpiredTarget;
    case RefKind::left_out: ++stats_->weak_tombstones; ++stats_->weak_left_out; return kLeftOutTarget;
    case RefKind::external_strong:
    case RefKind::external_weak:
      if (ref.index >= external_count_)
        detail::format::fail_external_range(record_id_, type, ref.index, external_count_, at);
      ++(weak ? stats_->weak_external : stats_->strong_external);
      return kExternalTarget - static_cast<std::int64_t>(ref.index);
    case RefKind::strong:
    case RefKind::weak: break;
  }
  if (ref.id < 0 || ref.id >= static_cast<std::int64_t>(object_count_))
    detail::format::fail_reference_range(record_id_, type, ref.id, object_count_, at);
  previous_id_ = static_cast<std::uint32_t>(ref.id);
  ++(weak ? weak_targets_ : strong_refs_);
  return ref.id;
}

Object* InputArchive::external_object(std::size_t k, bool weak) {
  if (Object* o = external_objects_[k]) return o;
  if (weak && !weak_external_required_) {
    ++stats_->weak_unbound;
    return nullptr;
  }
  throw SnapshotError(SnapshotErrc::missing_external,
                      detail::format::record_context(record_id_, type_->display_name()) + ": a " +
                          (weak ? "Weak" : "Member") + " refers to the external root '" +
                          std::string(external_names_[k]) + "', which the destination heap does not have" +
                          (weak ? " (LoadOptions::on_missing_weak_external is error)" : ""),
                      ref_at_);
}

void InputArchive::wrong_external_type(std::size_t k, const Object* o, const detail::TypeInfo& wanted) const {
  const detail::TypeInfo* held = detail::type_at(detail::ObjectAccess::type(o));
  throw SnapshotError(SnapshotErrc::external_mismatch,
                      detail::format::record_context(record_id_, type_->display_name()) + ": the external root '" +
                          std::string(external_names_[k]) + "' holds a " +
                          (held ? held->display_name() : std::string("?")) + " where the field holds a " +
                          wanted.display_name(),
                      ref_at_);
}

std::uint32_t InputArchive::type_index_slow(std::uint32_t id) const noexcept {
  const std::uint32_t* end = run_end_ + run_count_;
  run_hint_ = static_cast<std::size_t>(std::upper_bound(run_end_, end, id) - run_end_);
  return run_type_[run_hint_];
}

void InputArchive::wrong_type(const Object* o, const detail::TypeInfo& wanted) const {
  const detail::TypeInfo* held = detail::type_at(detail::ObjectAccess::type(o));
  throw SnapshotError(SnapshotErrc::bad_reference,
                      detail::format::record_context(record_id_, type_->display_name()) + ": a reference to a " +
                          (held ? held->display_name() : std::string("?")) + " where the field holds a " +
                          wanted.display_name(),
                      static_cast<std::uint64_t>(refs_cur_ - begin_));
}

namespace detail {

namespace {
/// The anchor of no heap (its tag is never set): a left-out tombstone's handle names it, so that
/// it reads expired in every build, the collector and verify() pass it by as a handle into
/// another heap, and a save writes it as left out again.
alignas(64) constinit HeapAnchor g_no_heap{};
}  // namespace

HeapTag left_out_tag() noexcept { return reinterpret_cast<HeapTag>(&g_no_heap); }

namespace {

/// Reads the references of the records a little ahead of the one being loaded and prefetches the
/// ID-table entries they will need: references point anywhere in the snapshot, and waiting for
/// each table read in turn would dominate the load. Malformed input just stops the lookahead;
/// the real read reports it.
class Lookahead {
 public:
  /// 16 records: far enough ahead for a memory read to arrive, near enough to stay in cache.
  static constexpr std::uint32_t kDistance = 16;

  Lookahead(const format::Cursor& cursor, Object* const* objects, const std::uint64_t* handles,
            std::uint32_t count, std::uint64_t first_id) noexcept
      : cursor_(cursor), objects_(objects), handles_(handles), count_(count), first_id_(first_id) {}

  void step(std::uint32_t current) noexcept {
    while (ok_ && next_ < count_ && next_ <= current + kDistance) prefetch_record();
  }

 private:
  static bool decoded(std::size_t n) noexcept { return n != 0 && n != wire::kMalformed; }
  void prefetch_record() noexcept {
    const unsigned char* pos = cursor_.position();
    const unsigned char* end = pos + cursor_.remaining();
    std::uint64_t length = 0, ref_bytes = 0;
    const std::size_t n = wire::decode_varint(pos, end, length);
    if (!decoded(n) || length > static_cast<std::uint64_t>(end - pos) - n) return stop();
    const unsigned char* body = pos + n;
    const unsigned char* body_end = body + length;
    const std::size_t m = wire::decode_varint(body, body_end, ref_bytes);
    if (!decoded(m) || ref_bytes > static_cast<std::uint64_t>(body_end - body) - m) return stop();
    const unsigned char* refs = body + m;
    const unsigned char* refs_end = refs + ref_bytes;
    std::int64_t previous = next_;
    while (refs < refs_end) {
      wire::Ref ref{};
      const std::size_t k = wire::decode_reference(refs, refs_end, previous, first_id_, ref);
      if (!decoded(k)) return stop();
      refs += k;
      if (ref.kind != wire::RefKind::strong && ref.kind != wire::RefKind::weak) continue;
      if (ref.id < 0 || ref.id >= static_cast<std::int64_t>(count_)) return stop();
      previous = ref.id;
      // A Member reads the object table entry, a Weak the slot and generation.
      if (ref.kind == wire::RefKind::weak) __builtin_prefetch(handles_ + ref.id);
      else __builtin_prefetch(objects_ + ref.id);
    }
    cursor_.skip(static_cast<std::size_t>(body_end - pos));
    ++next_;
  }
  void stop() noexcept { ok_ = false; }

  format::Cursor cursor_;
  Object* const* objects_;
  const std::uint64_t* handles_;
  std::uint32_t count_;
  std::uint64_t first_id_;
  std::uint32_t next_ = 0;
  bool ok_ = true;
};

/// The objects a load has created so far. Unless committed, ends them on the way out through
/// core/lifecycle.hpp, as a sweep would.
class Staging {
 public:
  explicit Staging(ObjectTable& table) : table_(table) {}
  ~Staging() {
    if (!committed_) end_slots(table_, slots_);
  }
  Staging(const Staging&) = delete;
  Staging& operator=(const Staging&) = delete;
  void reserve(std::size_t n) { slots_.reserve(n); }
  void add(std::uint32_t slot) { slots_.push_back(slot); }  // capacity reserved
  void commit() noexcept { committed_ = true; }

 private:
  ObjectTable& table_;
  std::vector<std::uint32_t> slots_;
  bool committed_ = false;
};

}  // namespace

class SnapshotReader {
 public:
  /// `detached`: where load_roots() takes the roots instead of the heap's registry (or null).
  SnapshotReader(Heap& heap, std::span<const unsigned char> bytes, const LoadOptions& options,
                 RootRegistry::Map* detached)
      : impl_(HeapInternals::of(heap)),
        table_(impl_.table),
        bytes_(bytes),
        options_(options),
        detached_(detached),
        scratch_(scratch_of(heap)),
        staging_(table_) {}

  SnapshotStats run() {
    check_registry_conflicts();
    check_options();
    format::Cursor cursor = format::open(bytes_, options_.verify_checksum, prefix_);
    format::read_prefix(cursor, prefix_);
    resolve_types();
    resolve_externals();
    create_objects();
    read_records(cursor);
    const std::vector<format::RootEntry> roots = format::read_roots(cursor, prefix_.object_count);
    format::read_summary(cursor, prefix_.format_version);
    format::expect_end(cursor);
    commit(roots);
    stats_.strong_refs = archive_.strong_refs_;
    stats_.weak_targets = archive_.weak_targets_;
    stats_.ephemerons_saved = archive_.ephemeron_counts_[0];
    stats_.ephemerons_dropped = archive_.ephemeron_counts_[1];
    stats_.weak_values_saved = archive_.weak_value_counts_[0];
    stats_.weak_values_dropped = archive_.weak_value_counts_[1];
    stats_.objects = prefix_.object_count;
    stats_.roots = roots.size();
    stats_.external_roots = prefix_.externals.size();
    stats_.bytes = bytes_.size();
    return stats_;
  }

 private:
  struct FileType {
    const TypeInfo* info;
    const SnapshotHooks* hooks;
    std::uint32_t version;  // as written
  };

  void check_options() const {
    for (const auto& [from, to] : options_.rename_roots)
      if (to.empty())
        throw std::invalid_argument("snapheap: load: LoadOptions::rename_roots maps '" + from + "' to an empty name");
  }

  // Each external name to the destination's root of that name as the load starts (or null).
  void resolve_externals() {
    external_objects_.reserve(prefix_.externals.size());
    for (const std::string_view name : prefix_.externals) external_objects_.push_back(impl_.roots.find(name));
  }

  void resolve_types() {
    types_.reserve(prefix_.types.size());
    for (const format::TypeEntry& entry : prefix_.types) {
      const TypeInfo* info = type_by_name(entry.name);
      const SnapshotHooks* hooks = info ? info->snapshot.load(std::memory_order_acquire) : nullptr;
      if (!hooks)
        throw SnapshotError(SnapshotErrc::unknown_type,
                            "the snapshot holds objects of type '" + std::string(entry.name) +
                                "', which this program has not registered",
                            entry.offset);
      if (entry.version > hooks->version)
        throw SnapshotError(SnapshotErrc::newer_class_version,
                            "type '" + std::string(entry.name) + "' was saved with class version " +
                                std::to_string(entry.version) + ", newer than this program's " +
                                std::to_string(hooks->version),
                            entry.offset);
      types_.push_back({info, hooks, entry.version});
    }
  }

  // Every object through the one construction funnel, unrooted, not counted toward the next
  // collection's trigger (none can run during the load anyway: invariant 7).
  void create_objects() {
    objects_ = sized(scratch_.objects, prefix_.object_count);
    handles_ = sized(scratch_.handles, prefix_.object_count);
    staging_.reserve(prefix_.object_count);
    std::uint32_t id = 0;
    for (const format::Run& run : prefix_.runs) {
      const FileType& type = types_[run.type];
      run_end_.push_back(id + run.count);
      run_type_.push_back(type.info->index);
      for (std::uint32_t k = 0; k < run.count; ++k, ++id) {
        Object* o = construct_object(table_, type.info->size, type.info->index, type.info->destroy != nullptr,
                                     /*roots=*/0, Origin::load, type.hooks->construct);
        const std::uint32_t slot = ObjectAccess::slot(o);
        staging_.add(slot);
        objects_[id] = o;
        handles_[id] = slot | (std::uint64_t{table_.generation(slot)} << 32);
      }
    }
  }

  void read_records(format::Cursor& cursor) {
    prepare_archive();
    Lookahead ahead(cursor, objects_, handles_, prefix_.object_count, prefix_.first_id_ref());
    std::uint32_t id = 0;
    for (const format::Run& run : prefix_.runs) {
      const FileType& type = types_[run.type];
      for (std::uint32_t k = 0; k < run.count; ++k, ++id) {
        ahead.step(id);
        read_record(format::read_record(cursor, id), id, type);
      }
    }
  }

  void prepare_archive() {
    InputArchive& ar = archive_;
    ar.begin_ = bytes_.data();
    ar.object_count_ = prefix_.object_count;
    ar.objects_ = objects_;
    ar.handles_ = handles_;
    ar.run_end_ = run_end_.data();
    ar.run_type_ = run_type_.data();
    ar.run_count_ = run_end_.size();
    ar.run_hint_ = 0;
    ar.heap_ = &table_;
    ar.stats_ = &stats_;
    ar.first_id_ref_ = prefix_.first_id_ref();
    ar.external_names_ = prefix_.externals.data();
    ar.external_objects_ = external_objects_.data();
    ar.external_count_ = prefix_.externals.size();
    ar.left_out_tag_ = left_out_tag();
    ar.weak_external_required_ = options_.on_missing_weak_external == MissingExternal::error;
  }

  void read_record(const format::Record& record, std::uint32_t id, const FileType& type) {
    InputArchive& ar = archive_;
    ar.cur_ = record.data;
    ar.end_ = record.end;
    ar.refs_cur_ = record.refs;
    ar.refs_end_ = record.data;
    ar.previous_id_ = id;
    ar.version_ = type.version;
    ar.record_id_ = id;
    ar.type_ = type.info;
    type.hooks->load(*objects_[id], ar, type.version);
    if (ar.cur_ != ar.end_)
      ar.fail(SnapshotErrc::record_mismatch,
              "the type's load left " + std::to_string(ar.end_ - ar.cur_) +
                  " of the record's bytes unread (does the class version match its serialize()?)");
    if (ar.refs_cur_ != ar.refs_end_)
      throw SnapshotError(SnapshotErrc::record_mismatch,
                          format::record_context(id, type.info->display_name()) +
                              ": the type's load left references unread",
                          static_cast<std::uint64_t>(ar.refs_cur_ - bytes_.data()));
  }

  /// The name a root of the snapshot is bound (or returned) under: LoadOptions' renaming.
  std::string bound_name(std::string_view name) const {
    if (const auto found = options_.rename_roots.find(name); found != options_.rename_roots.end())
      return found->second;
    std::string bound = options_.root_prefix;
    bound.append(name);
    return bound;
  }

  /// "'model'", or "'model' (bound as 'a/model')" when it was renamed.
  std::string described(std::string_view name, const std::string& bound) const {
    std::string text = "'" + std::string(name) + "'";
    if (bound != name) text += " (bound as '" + bound + "')";
    return text;
  }

  void commit(const std::vector<format::RootEntry>& roots) {
    // Everything that can fail happens before the first root is bound: the root nodes are
    // built here and spliced into the heap's registry afterwards, without allocating.
    RootRegistry::Map bound;
    for (const format::RootEntry& root : roots) {
      std::string name = bound_name(root.name);
      if (!detached_ && options_.on_root_conflict == RootConflict::error && impl_.roots.contains(name))
        throw SnapshotError(SnapshotErrc::root_conflict, "the snapshot's root " + described(root.name, name) +
                                                             " is already a root of the destination heap");
      // Without renaming the file's names are strictly increasing (format::read_roots checks), so
      // the hint is exact; a renamed one may land anywhere, and two may collide.
      const std::size_t before = bound.size();
      const auto at = bound.emplace_hint(bound.end(), name, Strong<Object>(objects_[root.id]));
      if (bound.size() == before) {
        std::string_view other;
        for (const format::RootEntry& r : roots)
          if (r.name != root.name && bound_name(r.name) == name) other = r.name;
        throw SnapshotError(SnapshotErrc::root_conflict, "the snapshot's roots '" + std::string(other) + "' and '" +
                                                             std::string(root.name) + "' would both be named '" +
                                                             at->first + "'");
      }
    }
    staging_.commit();
    if (detached_) *detached_ = std::move(bound);
    else impl_.roots.splice(bound);
  }

  HeapImpl& impl_;
  ObjectTable& table_;
  std::span<const unsigned char> bytes_;
  const LoadOptions& options_;
  RootRegistry::Map* detached_;
  format::Prefix prefix_;
  std::vector<Object*> external_objects_;  // by index in the snapshot's external table
  std::vector<FileType> types_;
  SnapshotScratch& scratch_;
  Object** objects_ = nullptr;
  std::uint64_t* handles_ = nullptr;
  std::vector<std::uint32_t> run_end_;
  std::vector<std::uint32_t> run_type_;
  Staging staging_;
  InputArchive archive_;
  SnapshotStats stats_;
};

SnapshotStats read_snapshot(Heap& heap, std::span<const unsigned char> bytes, const LoadOptions& options,
                            RootRegistry::Map* detached) {
  SnapshotScope scope(heap, "snapheap::load was called from a destructor or trace(): the collector is running");
  SnapshotReader reader(heap, bytes, options, detached);
  return reader.run();
}

}  // namespace detail

SnapshotStats load(Heap& heap, std::span<const std::byte> bytes, const LoadOptions& options) {
  return detail::read_snapshot(heap, {reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()}, options,
                               nullptr);
}

LoadedRoots load_roots(Heap& heap, std::span<const std::byte> bytes, const LoadOptions& options) {
  LoadedRoots loaded;
  loaded.stats = detail::read_snapshot(heap, {reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()},
                                       options, &loaded.roots);
  return loaded;
}

}  // namespace snapheap
