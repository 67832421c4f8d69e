// The archives a managed type's serialize() runs against when a snapshot is saved or loaded.
//
// A type describes its fields once, Boost.Serialization style, and the same function saves and
// loads:
//
//     template <class Archive>
//     void serialize(Archive& ar, unsigned version) {
//       ar & values & next & large_data;       // plain data, a Member, a Weak
//       if (version >= 2) ar & label;          // fields added by later class versions
//     }
//
// or splits into `save(Archive&, unsigned) const` and `load(Archive&, unsigned)` with
// BOOST_SERIALIZATION_SPLIT_MEMBER() where the two must differ (a recipe instead of data).
// `friend class boost::serialization::access;` lets serialize() be private, free
// `serialize(Archive&, T&, unsigned)` functions are found as Boost finds them, and
// boost::serialization::make_nvp / make_array / make_binary_object are understood.
//
// What the archives write: integers as variable-length integers (zigzag for signed types),
// floating point and bool as raw bytes, strings as a length and bytes, containers as a count and
// their elements, and contiguous arrays of trivially copyable scalars (std::vector<std::int64_t>,
// std::array<float, N>, anything boost::serialization::is_bitwise_serializable marks) as one
// block. A Member is written as its target's snapshot ID, a Weak as its target's ID when the
// target is in the snapshot and as a tombstone otherwise (expired or left out), and either as a
// reference to a root's name when the target is an external root's object (SaveOptions::external).
// References are stored apart from the data of a record, so tools read them without the type's code.
#pragma once

#include <boost/mpl/bool.hpp>
// base_object<Base> on a polymorphic value-type base registers a void cast through these (and the
// compiled Boost.Serialization library, which snapheap links).
#include <boost/serialization/extended_type_info_typeid.hpp>
#include <boost/serialization/void_cast.hpp>
#include <boost/serialization/split_free.hpp>
#include <boost/serialization/split_member.hpp>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "snapheap/detail/traits.hpp"
#include "snapheap/detail/type_info.hpp"
#include "snapheap/detail/wire.hpp"
#include "snapheap/errors.hpp"
#include "snapheap/handles.hpp"

namespace snapheap {

class OutputArchive;
class InputArchive;
struct SnapshotStats;

namespace detail {
class SnapshotWriter;
class SnapshotReader;
struct CopyingScope;

/// Arrays of at least this many bytes that belong to the object being saved (its own fields) are
/// not copied into the record buffer: the writer sends them from the object's memory straight to
/// the output once the type's save() has returned (one copy, hashed on the way). Bytes of any
/// other storage (a local, a temporary, another object) are copied when they are written.
inline constexpr std::size_t kBulkThreshold = 4096;

/// Tells whether a container still holds `bytes` bytes at `data`: checked after a type's save()
/// returns for every container whose bytes were recorded by pointer.
using StillHolds = bool (*)(const void* container, const void* data, std::size_t bytes) noexcept;
template <class C>
bool still_holds(const void* container, const void* data, std::size_t bytes) noexcept {
  const C& c = *static_cast<const C*>(container);
  return static_cast<const void*>(c.data()) == data && c.size() * sizeof(typename C::value_type) == bytes;
}

/// The weak structures whose entries a snapshot keeps or drops (counted by the archives, written
/// in the snapshot's summary and reported by `snapheap info`).
enum class WeakEntryKind : std::uint8_t {
  ephemeron,   ///< an Ephemeron field or a WeakKeyMap entry: saved iff its key is saved
  weak_value,  ///< a WeakValueMap entry: saved iff its value is saved
};

/// The edges the snapshot writer logged while numbering, which OutputArchive reads back in the
/// order serialize() writes them, so that writing needs no lookups.
struct StrongEdge {
  const Object* target;
  std::uint32_t id;
};
struct WeakEdge {
  std::uint32_t slot;  // kNoSlot: the handle points into another heap
  std::uint32_t generation;
  std::uint32_t id;    // after resolution: the target's ID, or one of the writer's special IDs
};

/// The writer's special IDs, above every object ID of a snapshot: a weak handle's tombstones, and
/// the objects of external roots (external root k, in SaveOptions::external's name order, is
/// kFirstExternalId - k).
inline constexpr std::uint32_t kExpiredId = kNoSlot;
inline constexpr std::uint32_t kLeftOutId = kNoSlot - 1;
inline constexpr std::uint32_t kFirstExternalId = kNoSlot - 2;

template <class T>
void save_value(OutputArchive& ar, const T& value);
template <class T>
void load_value(InputArchive& ar, T& value);

}  // namespace detail

/// `ar & snapheap::base<Base>(*this)`: the fields of a managed base class, through Base's own
/// serialize() (which receives the record's class version).
template <class B, class D>
detail::BaseRef<B> base(D& derived) noexcept {
  static_assert(std::is_base_of_v<B, D>, "snapheap::base<B>(d): B must be a base class of d");
  return {static_cast<B&>(derived)};
}

/// `boost::serialization::base_object<Base>(*this)` on a managed base works like
/// snapheap::base<Base>(*this): Boost registers a void cast for every polymorphic base (a symbol
/// of the compiled Boost.Serialization library), which snapheap's archives never use. This
/// overload, found by argument-dependent lookup through snapheap::Object and preferred for
/// being more constrained, registers nothing.
template <class Derived, class Base>
  requires std::is_base_of_v<Object, std::remove_cv_t<Base>>
const char& void_cast_register(const Derived*, const Base*) noexcept {
  static constexpr char kNoCast = 0;
  return kNoCast;
}

/// The archive serialize() writes to while a snapshot is saved. Boost-compatible surface:
/// `ar & x`, `ar << x`, `Archive::is_saving`.
class OutputArchive {
 public:
  using is_saving = boost::mpl::true_;
  using is_loading = boost::mpl::false_;

  template <class T>
  OutputArchive& operator&(const T& value) {
    detail::save_value(*this, value);
    return *this;
  }
  template <class T>
  OutputArchive& operator<<(const T& value) {
    detail::save_value(*this, value);
    return *this;
  }
  /// The class version of the record being written (the registered version).
  std::uint32_t class_version() const noexcept { return version_; }
  /// Boost compatibility: polymorphic pointers are not serialized, so nothing to register.
  template <class T>
  const void* register_type(const T* = nullptr) noexcept {
    return nullptr;
  }

  // ---- primitives the value serializers use --------------------------------------------------
  void put_varint(std::uint64_t v) {
    if (end_ - cur_ < 10) grow(10);
    cur_ += detail::wire::encode_varint(cur_, v);
  }
  void put_varint128(detail::uint128 v) {
    if (end_ - cur_ < 19) grow(19);
    cur_ += detail::wire::encode_varint(cur_, v);
  }
  /// Copies n bytes into the record now: right for any storage, a local or a temporary included.
  void put_bytes(const void* p, std::size_t n) {
    if (static_cast<std::size_t>(end_ - cur_) < n) grow(n);
    if (n) std::memcpy(cur_, p, n);
    cur_ += n;
  }
  /// Writes n bytes that `owner` (a container, an array or the bytes themselves) holds. When the
  /// owner is part of the object being saved and the block is large, the bytes are sent from
  /// there after save() returns, without a copy into the record; `check` (null for storage that
  /// is the owner itself) then confirms that the container still holds them, so that a save()
  /// which changes the field after writing it is refused instead of writing freed memory.
  void put_owned_bytes(const void* owner, const void* p, std::size_t n, detail::StillHolds check) {
    if (n >= detail::kBulkThreshold && copy_depth_ == 0 && owned_by_record(owner))
      return put_bulk(owner, p, n, check);
    put_bytes(p, n);
  }
  void put_strong(const Object* target) {
    if (!target) return put_ref(detail::wire::kEmptyStrongRef);
    // The writer logged this object's edges while numbering: when serialize() writes them in
    // the order trace() visits them (the usual case) the ID is the next log entry.
    std::uint32_t id;
    if (strong_cur_ != strong_end_ && strong_cur_->target == target) [[likely]]
      id = (strong_cur_++)->id;
    else
      id = lookup_strong(target);
    if (id >= special_floor_) [[unlikely]]
      return put_external(id, false);
    ++strong_refs_;
    put_id(id, 0);
  }
  void put_weak(detail::HeapTag heap, std::uint32_t slot, std::uint32_t generation) {
    if (!heap) {
      ++weak_empty_;
      return put_ref(detail::wire::kEmptyWeakRef);
    }
    // The log holds kNoSlot for a handle into another heap (or a left-out tombstone's).
    const std::uint32_t logged = heap == heap_->tag() ? slot : detail::kNoSlot;
    std::uint32_t id;
    if (weak_cur_ != weak_end_ && weak_cur_->slot == logged && weak_cur_->generation == generation) [[likely]]
      id = (weak_cur_++)->id;
    else
      id = lookup_weak(heap, slot, generation);
    if (id >= special_floor_) [[unlikely]]
      return put_special_weak(id);
    ++weak_targets_;
    put_id(id, 1);
  }
  /// Bytes and references written to the current record so far (each element of a container
  /// must add at least one, so that a hostile count cannot make a reader loop without input).
  std::size_t progress() const noexcept {
    return static_cast<std::size_t>(cur_ - data_) + bulk_bytes_ + ref_count_;
  }
  /// Whether this snapshot saves the weak handle's target (it is in the snapshot or an external
  /// root's object): what decides if an ephemeron or a weak map's entry is written.
  template <class T>
  bool saves(const Weak<T>& handle) const noexcept {
    const detail::HeapTag heap = detail::HandleAccess::tag(handle);
    if (!heap) return false;
    const std::uint32_t id =
        lookup_weak(heap, detail::HandleAccess::slot(handle), detail::HandleAccess::generation(handle));
    return id != detail::kLeftOutId && id != detail::kExpiredId;
  }
  /// Counts entries of a weak structure written and left out (SnapshotStats, the summary).
  void count_weak_entries(detail::WeakEntryKind kind, std::size_t saved, std::size_t dropped) noexcept {
    std::size_t* counts = kind == detail::WeakEntryKind::ephemeron ? ephemeron_counts_ : weak_value_counts_;
    counts[0] += saved;
    counts[1] += dropped;
  }

 private:
  friend class detail::SnapshotWriter;
  struct Segment {
    std::size_t at;  // position in the record's data buffer the block follows
    const void* data;
    std::size_t size;
    const void* owner;         // the container holding the bytes
    detail::StillHolds check;  // null when the owner is the bytes themselves
  };

  friend struct detail::CopyingScope;
  OutputArchive() = default;
  bool in_snapshot(std::uint32_t slot) const noexcept { return (visited_[slot >> 6] >> (slot & 63)) & 1u; }
  std::uint32_t lookup_strong(const Object* target) const;
  std::uint32_t lookup_weak(detail::HeapTag heap, std::uint32_t slot, std::uint32_t generation) const noexcept;
  void put_ref(std::uint64_t code) {
    if (refs_end_ - refs_cur_ < 10) grow_refs();
    refs_cur_ += detail::wire::encode_varint(refs_cur_, code);
    ++ref_count_;
  }
  void put_id(std::uint32_t id, unsigned weak) {
    const std::uint64_t code = detail::wire::encode_ref(id, previous_id_, weak != 0);
    previous_id_ = id;
    put_ref(code);
  }
  /// A tombstone (expired or left out) or a Weak to an external root.
  void put_special_weak(std::uint32_t id);
  /// A reference to an external root's object (`id` is its special ID): the code, then the
  /// root's index in the snapshot's external table.
  void put_external(std::uint32_t id, bool weak);
  bool owned_by_record(const void* owner) noexcept;
  void put_bulk(const void* owner, const void* p, std::size_t n, detail::StillHolds check);
  /// Throws if a container recorded by pointer no longer holds what was written.
  void check_segments() const;
  void grow(std::size_t n);
  void grow_refs();
  [[noreturn]] void unsaved_reference(const Object* target) const;
  [[noreturn]] void unsaved_external(std::uint32_t k) const;

  // The record being written.
  unsigned char* data_ = nullptr;
  unsigned char* cur_ = nullptr;
  unsigned char* end_ = nullptr;
  unsigned char* refs_ = nullptr;
  unsigned char* refs_cur_ = nullptr;
  unsigned char* refs_end_ = nullptr;
  std::size_t ref_count_ = 0;
  std::size_t bulk_bytes_ = 0;
  unsigned copy_depth_ = 0;  // split save()s running: they may rewrite what they wrote, so copy now
  std::vector<Segment> segments_;
  std::uint32_t previous_id_ = 0;
  std::uint32_t version_ = 0;
  const Object* object_ = nullptr;
  std::uintptr_t object_begin_ = 0;  // the object's bytes, found on the first large block
  std::uintptr_t object_end_ = 0;
  const detail::StrongEdge* strong_cur_ = nullptr;  // this record's logged edges
  const detail::StrongEdge* strong_end_ = nullptr;
  const detail::WeakEdge* weak_cur_ = nullptr;
  const detail::WeakEdge* weak_end_ = nullptr;
  // The snapshot being written.
  const detail::HeapCore* heap_ = nullptr;
  const std::uint64_t* visited_ = nullptr;
  const std::uint32_t* ids_ = nullptr;
  std::size_t strong_refs_ = 0;
  std::size_t weak_targets_ = 0;
  std::size_t weak_tombstones_ = 0;
  std::size_t weak_empty_ = 0;
  std::size_t weak_expired_ = 0;
  std::size_t weak_left_out_ = 0;
  std::size_t strong_external_ = 0;
  std::size_t weak_external_ = 0;
  std::size_t ephemeron_counts_[2] = {0, 0};   // saved, dropped
  std::size_t weak_value_counts_[2] = {0, 0};
  /// IDs from here up are special (detail::kExpiredId, ...): kLeftOutId without external roots.
  std::uint32_t special_floor_ = detail::kLeftOutId;
  /// By external root (SaveOptions::external order): its index in the file's table, or kNoSlot
  /// if the save refers to it nowhere (then it is not in the table).
  const std::uint32_t* external_index_ = nullptr;
  const std::string_view* external_names_ = nullptr;
  std::vector<unsigned char> data_storage_;
  std::vector<unsigned char> refs_storage_;
};

/// The archive serialize() reads from while a snapshot is loaded. Every read is checked against
/// the record it belongs to; a problem throws SnapshotError with the byte offset.
class InputArchive {
 public:
  using is_saving = boost::mpl::false_;
  using is_loading = boost::mpl::true_;

  template <class T>
  InputArchive& operator&(T&& value) {
    detail::load_value(*this, value);
    return *this;
  }
  template <class T>
  InputArchive& operator>>(T&& value) {
    detail::load_value(*this, value);
    return *this;
  }
  /// The class version the record was written with (at most the registered version).
  std::uint32_t class_version() const noexcept { return version_; }
  template <class T>
  const void* register_type(const T* = nullptr) noexcept {
    return nullptr;
  }

  // ---- primitives the value serializers use --------------------------------------------------
  std::uint64_t get_varint() {
    std::uint64_t v;
    const std::size_t n = detail::wire::decode_short_varint(cur_, v);
    if (n != 0 && n <= static_cast<std::size_t>(end_ - cur_)) [[likely]] {
      cur_ += n;
      return v;
    }
    return get_varint_slow();
  }
  /// A varint of up to 128 bits (a 128-bit integer field).
  detail::uint128 get_varint128();
  /// A pointer to the next n bytes of the record, which the caller copies out.
  const unsigned char* get_bytes(std::size_t n) {
    if (static_cast<std::size_t>(end_ - cur_) < n) [[unlikely]]
      fail_overrun(n);
    const unsigned char* p = cur_;
    cur_ += n;
    return p;
  }
  /// A count of elements each taking at least `min_bytes` bytes (0: at least one byte or
  /// reference each), checked against what is left of the record before anything is allocated.
  std::size_t get_count(std::size_t min_bytes);
  template <class T>
  T* get_strong() {
    const std::int64_t id = get_target(/*weak=*/false);
    if (id < 0) return id == kNullTarget ? nullptr : external_as<T>(id, /*weak=*/false);
    return checked_cast<T>(static_cast<std::uint32_t>(id));
  }
  template <class T>
  Weak<T> get_weak() {
    const std::int64_t id = get_target(/*weak=*/true);
    if (id < 0) {
      switch (id) {
        case kNullTarget: return Weak<T>();
        case kExpiredTarget: return detail::HandleAccess::make_weak<T>(heap_->tag(), detail::kTombstoneSlot, 0);
        case kLeftOutTarget: return detail::HandleAccess::make_weak<T>(left_out_tag_, detail::kTombstoneSlot, 0);
        default: break;
      }
      // A Weak to an external root: its object, or a left-out tombstone if the heap lacks it.
      const T* target = external_as<T>(id, /*weak=*/true);
      if (!target) return detail::HandleAccess::make_weak<T>(left_out_tag_, detail::kTombstoneSlot, 0);
      const std::uint32_t slot = detail::ObjectAccess::slot(target);
      return detail::HandleAccess::make_weak<T>(heap_->tag(), slot, heap_->generation(slot));
    }
    if (!type_matches<T>(static_cast<std::uint32_t>(id))) checked_cast<T>(static_cast<std::uint32_t>(id));
    const std::uint64_t handle = handles_[id];
    return detail::HandleAccess::make_weak<T>(heap_->tag(), static_cast<std::uint32_t>(handle),
                                               static_cast<std::uint32_t>(handle >> 32));
  }
  /// Throws SnapshotError (record_mismatch or malformed) at the current offset.
  [[noreturn]] void fail(SnapshotErrc code, const std::string& what) const;
  /// Counts entries of a weak structure read back and dropped (SnapshotStats).
  void count_weak_entries(detail::WeakEntryKind kind, std::size_t saved, std::size_t dropped) noexcept {
    std::size_t* counts = kind == detail::WeakEntryKind::ephemeron ? ephemeron_counts_ : weak_value_counts_;
    counts[0] += saved;
    counts[1] += dropped;
  }
  /// Byte offset of the read cursor in the snapshot.
  std::uint64_t offset() const noexcept { return static_cast<std::uint64_t>(cur_ - begin_); }

 private:
  friend class detail::SnapshotReader;
  InputArchive() = default;

  // The type check reads the snapshot's type runs, not the target object: a reference to an
  // object far away in memory costs one read of the ID table, not a cache miss on the object.
  std::uint32_t type_index_of(std::uint32_t id) const noexcept {
    if (id < run_end_[run_hint_] && (run_hint_ == 0 || id >= run_end_[run_hint_ - 1]))
      return run_type_[run_hint_];
    return type_index_slow(id);
  }
  template <class T>
  bool type_matches(std::uint32_t id) const noexcept {
    if constexpr (std::is_same_v<T, Object>) return true;
    else return type_index_of(id) == detail::TypeIndex<T>::value;
  }
  template <class T>
  T* checked_cast(std::uint32_t id) {
    Object* o = objects_[id];
    if constexpr (std::is_same_v<T, Object>) {
      return o;
    } else {
      if (type_matches<T>(id)) return static_cast<T*>(o);
      if (T* typed = dynamic_cast<T*>(o)) return typed;  // a field of a base class type
      wrong_type(o, detail::type_info_of<T>());
    }
  }
  // What get_target returns besides an object ID.
  static constexpr std::int64_t kNullTarget = -1;     // an empty handle
  static constexpr std::int64_t kExpiredTarget = -2;  // a tombstone: the target expired (or version 1's)
  static constexpr std::int64_t kLeftOutTarget = -3;  // a tombstone: the target was left out
  static constexpr std::int64_t kExternalTarget = -4; // external root k: kExternalTarget - k
  /// An external root's object as a T, for a reference to it (`target` from get_target). Null
  /// only for a Weak whose root the heap lacks, where LoadOptions allow a tombstone; a missing
  /// root otherwise, or one of another type, is a SnapshotError.
  template <class T>
  T* external_as(std::int64_t target, bool weak) {
    const auto k = static_cast<std::size_t>(kExternalTarget - target);
    Object* o = external_object(k, weak);
    if constexpr (std::is_same_v<T, Object>) {
      return o;
    } else {
      if (!o) return nullptr;
      if (detail::ObjectAccess::type(o) == detail::TypeIndex<T>::value) return static_cast<T*>(o);
      if (T* typed = dynamic_cast<T*>(o)) return typed;  // a field of a base class type
      wrong_external_type(k, o, detail::type_info_of<T>());
    }
  }
  /// The ID of the next reference, or one of the negative targets above.
  std::int64_t get_target(bool weak) {
    // The common case inline: a short reference code of the expected kind, in range.
    {
      std::uint64_t code;
      const std::size_t n = detail::wire::decode_short_varint(refs_cur_, code);
      if (n != 0 && n <= static_cast<std::size_t>(refs_end_ - refs_cur_) && code >= first_id_ref_ &&
          ((code - first_id_ref_) & 1) == weak) [[likely]] {
        const std::int64_t id = static_cast<std::int64_t>(previous_id_) + detail::wire::unzigzag((code - first_id_ref_) >> 1);
        if (id >= 0 && id < static_cast<std::int64_t>(object_count_)) {
          refs_cur_ += n;
          previous_id_ = static_cast<std::uint32_t>(id);
          ++(weak ? weak_targets_ : strong_refs_);
          return id;
        }
      }
    }
    return get_target_slow(weak);
  }
  std::int64_t get_target_slow(bool weak);
  /// External root k's object in the destination heap, or null (a Weak, tombstones allowed).
  Object* external_object(std::size_t k, bool weak);
  [[noreturn]] void wrong_external_type(std::size_t k, const Object* o, const detail::TypeInfo& wanted) const;
  std::uint32_t type_index_slow(std::uint32_t id) const noexcept;
  std::uint64_t get_varint_slow();
  [[noreturn]] void fail_overrun(std::size_t wanted) const;
  [[noreturn]] void wrong_type(const Object* o, const detail::TypeInfo& wanted) const;

  const unsigned char* begin_ = nullptr;  // start of the snapshot, for offsets
  const unsigned char* cur_ = nullptr;    // data of the current record
  const unsigned char* end_ = nullptr;
  const unsigned char* refs_cur_ = nullptr;  // references of the current record
  const unsigned char* refs_end_ = nullptr;
  std::uint32_t previous_id_ = 0;
  std::uint32_t version_ = 0;
  std::uint32_t record_id_ = 0;
  std::uint32_t object_count_ = 0;
  std::uint64_t first_id_ref_ = detail::wire::kFirstIdRef;  // wire::first_id_ref(format version)
  Object* const* objects_ = nullptr;        // by snapshot ID
  const std::uint64_t* handles_ = nullptr;  // by snapshot ID: slot | generation << 32
  const std::uint32_t* run_end_ = nullptr;  // type runs: first ID after each run
  const std::uint32_t* run_type_ = nullptr; // type runs: registry type index
  std::size_t run_count_ = 0;
  mutable std::size_t run_hint_ = 0;
  detail::HeapCore* heap_ = nullptr;
  const detail::TypeInfo* type_ = nullptr;
  SnapshotStats* stats_ = nullptr;
  std::size_t strong_refs_ = 0;
  std::size_t weak_targets_ = 0;
  std::size_t ephemeron_counts_[2] = {0, 0};   // saved, dropped
  std::size_t weak_value_counts_[2] = {0, 0};
  // External roots, by index in the snapshot's table: the name and the destination's object
  // (null where it has none).
  const std::string_view* external_names_ = nullptr;
  Object* const* external_objects_ = nullptr;
  std::size_t external_count_ = 0;
  detail::HeapTag left_out_tag_ = 0;  // what a left-out tombstone's handle names (no heap)
  std::uint64_t ref_at_ = 0;          // offset of the last reference read by get_target_slow
  bool weak_external_required_ = false;
};

namespace detail {
/// While a split save() runs, everything it writes is copied at the call: a save() may reuse a
/// member buffer (`mutable`) for several values, so its fields are not sent from the object later.
struct CopyingScope {
  explicit CopyingScope(OutputArchive& ar) noexcept : ar_(ar) { ++ar_.copy_depth_; }
  ~CopyingScope() { --ar_.copy_depth_; }
  CopyingScope(const CopyingScope&) = delete;
  CopyingScope& operator=(const CopyingScope&) = delete;
  OutputArchive& ar_;
};
}  // namespace detail

}  // namespace snapheap

// Boost's split save/load, member (BOOST_SERIALIZATION_SPLIT_MEMBER) and free
// (BOOST_SERIALIZATION_SPLIT_FREE), for snapheap's archive: as Boost's own, inside a CopyingScope.
namespace boost::serialization {
namespace detail {
template <class T>
struct member_saver<snapheap::OutputArchive, T> {
  static void invoke(snapheap::OutputArchive& ar, const T& t, const unsigned int file_version) {
    snapheap::detail::CopyingScope copying(ar);
    access::member_save(ar, t, file_version);
  }
};
}  // namespace detail
template <class T>
struct free_saver<snapheap::OutputArchive, T> {
  static void invoke(snapheap::OutputArchive& ar, const T& t, const unsigned int file_version) {
    snapheap::detail::CopyingScope copying(ar);
    const version_type v(file_version);
    save(ar, t, v);
  }
};
}  // namespace boost::serialization

// One codec per family of field types, and the dispatch save_value / load_value.
#include "snapheap/detail/codecs.hpp"
