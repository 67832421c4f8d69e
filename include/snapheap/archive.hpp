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
// target is in the snapshot and as a tombstone otherwise. References are stored apart from the
// data of a record, so tools read them without the type's code.
#pragma once

#include <array>
#include <boost/core/nvp.hpp>
#include <boost/mpl/bool.hpp>
#include <boost/serialization/array_wrapper.hpp>
#include <boost/serialization/binary_object.hpp>
#include <boost/serialization/is_bitwise_serializable.hpp>
#include <boost/serialization/serialization.hpp>
#include <boost/serialization/version.hpp>
#include <complex>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <limits>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <typeinfo>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include "snapheap/detail/type_info.hpp"
#include "snapheap/errors.hpp"
#include "snapheap/handles.hpp"
#include "snapheap/tracer.hpp"

namespace snapheap {

class OutputArchive;
class InputArchive;
struct SnapshotStats;

namespace detail {
class SnapshotWriter;
class SnapshotReader;

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

template <class B>
struct BaseRef {
  B& base;
};

/// Decodes a varint of up to four bytes (values below 2^28: counts, lengths, small integers and
/// references across up to 2^26 objects); returns 0 when the slow path must decide. It may read
/// four bytes: the reader only calls it inside the record section, which the 24-byte trailer
/// always follows.
inline std::size_t decode_short_varint(const unsigned char* p, std::uint64_t& out) noexcept {
  const std::uint64_t b0 = p[0];
  if (b0 < 0x80) {
    out = b0;
    return 1;
  }
  const std::uint64_t b1 = p[1];
  if (b1 < 0x80) {
    if (b1 == 0) return 0;  // overlong: the slow path reports it
    out = (b0 & 0x7f) | (b1 << 7);
    return 2;
  }
  const std::uint64_t b2 = p[2];
  if (b2 < 0x80) {
    if (b2 == 0) return 0;
    out = (b0 & 0x7f) | ((b1 & 0x7f) << 7) | (b2 << 14);
    return 3;
  }
  const std::uint64_t b3 = p[3];
  if (b3 < 0x80 && b3 != 0) {
    out = (b0 & 0x7f) | ((b1 & 0x7f) << 7) | ((b2 & 0x7f) << 14) | (b3 << 21);
    return 4;
  }
  return 0;
}

inline std::size_t encode_varint(unsigned char* out, std::uint64_t v) noexcept {
  std::size_t n = 0;
  while (v >= 0x80) {
    out[n++] = static_cast<unsigned char>(v | 0x80);
    v >>= 7;
  }
  out[n++] = static_cast<unsigned char>(v);
  return n;
}
constexpr std::uint64_t zigzag(std::int64_t v) noexcept {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
constexpr std::int64_t unzigzag(std::uint64_t v) noexcept {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

// Reference codes, as stored: 0 an empty Member, 1 an empty Weak, 2 a tombstone; otherwise
// code - 3 = zigzag(id - previous id in this record) << 1 | weak. The first reference of a record
// is relative to the record's own ID: chains and arrays of neighbours cost one byte each.
inline constexpr std::uint64_t kEmptyStrongRef = 0;
inline constexpr std::uint64_t kEmptyWeakRef = 1;
inline constexpr std::uint64_t kTombstoneRef = 2;
inline constexpr std::uint64_t kFirstIdRef = 3;

// 128-bit integers (a GCC and Clang extension, in every language mode): written as varints of
// up to 19 bytes, zigzagged when signed, so values below 2^64 are encoded as a 64-bit field's
// would be and either field type reads the other's records when the value fits.
__extension__ using int128 = __int128;
__extension__ using uint128 = unsigned __int128;
template <class T>
inline constexpr bool is_int128_v = std::is_same_v<T, int128> || std::is_same_v<T, uint128>;
constexpr uint128 zigzag128(int128 v) noexcept {
  return (static_cast<uint128>(v) << 1) ^ static_cast<uint128>(v >> 127);
}
constexpr int128 unzigzag128(uint128 v) noexcept {
  return static_cast<int128>(v >> 1) ^ -static_cast<int128>(v & 1);
}

/// Save refuses a std::unique_ptr<Base> that holds a more derived object: only the Base part
/// could be written, and the object would come back sliced.
[[noreturn]] void throw_sliced_pointer(const std::type_info& declared, const std::type_info& held);

/// Scalars that may travel as raw bytes inside an array block.
template <class T>
struct is_bulk
    : std::bool_constant<(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) || is_int128_v<T> ||
                         std::is_enum_v<T> ||
                         std::is_same_v<T, std::byte> ||
                         (std::is_class_v<T> && std::is_trivially_copyable_v<T> &&
                          boost::serialization::is_bitwise_serializable<T>::value)> {};
template <class T, std::size_t N>
struct is_bulk<std::array<T, N>> : is_bulk<T> {};
template <class T>
struct is_bulk<std::complex<T>> : std::is_floating_point<T> {};

template <class T>
struct is_std_vector : std::false_type {};
template <class T, class A>
struct is_std_vector<std::vector<T, A>> : std::true_type {};
template <class T>
struct is_std_array : std::false_type {};
template <class T, std::size_t N>
struct is_std_array<std::array<T, N>> : std::true_type {};
template <class T>
struct is_basic_string : std::false_type {};
template <class C, class Tr, class A>
struct is_basic_string<std::basic_string<C, Tr, A>> : std::true_type {};
template <class T>
struct is_pair : std::false_type {};
template <class A, class B>
struct is_pair<std::pair<A, B>> : std::true_type {};
template <class T>
struct is_tuple : std::false_type {};
template <class... Ts>
struct is_tuple<std::tuple<Ts...>> : std::true_type {};
template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};
template <class T>
struct is_variant : std::false_type {};
template <class... Ts>
struct is_variant<std::variant<Ts...>> : std::true_type {};
template <class T>
struct is_unique_ptr : std::false_type {};
template <class T, class D>
struct is_unique_ptr<std::unique_ptr<T, D>> : std::true_type {};
template <class T>
struct is_sequence : std::false_type {};  // element-wise sequences with push_back
template <class T, class A>
struct is_sequence<std::deque<T, A>> : std::true_type {};
template <class T, class A>
struct is_sequence<std::list<T, A>> : std::true_type {};
template <class T>
struct is_associative : std::false_type {};  // maps and sets
template <class... Ts>
struct is_associative<std::map<Ts...>> : std::true_type {};
template <class... Ts>
struct is_associative<std::multimap<Ts...>> : std::true_type {};
template <class... Ts>
struct is_associative<std::set<Ts...>> : std::true_type {};
template <class... Ts>
struct is_associative<std::multiset<Ts...>> : std::true_type {};
template <class... Ts>
struct is_associative<std::unordered_map<Ts...>> : std::true_type {};
template <class... Ts>
struct is_associative<std::unordered_multimap<Ts...>> : std::true_type {};
template <class... Ts>
struct is_associative<std::unordered_set<Ts...>> : std::true_type {};
template <class... Ts>
struct is_associative<std::unordered_multiset<Ts...>> : std::true_type {};
template <class T>
struct is_member : std::false_type {};
template <class T>
struct is_member<Member<T>> : std::true_type {};
template <class T>
struct is_weak : std::false_type {};
template <class T>
struct is_weak<Weak<T>> : std::true_type {};
template <class T>
struct is_strong : std::false_type {};
template <class T>
struct is_strong<Strong<T>> : std::true_type {};
template <class T>
struct is_nvp : std::false_type {};
template <class T>
struct is_nvp<boost::serialization::nvp<T>> : std::true_type {};
template <class T>
struct is_array_wrapper : std::false_type {};
template <class T>
struct is_array_wrapper<boost::serialization::array_wrapper<T>> : std::true_type {};
template <class T>
struct is_base_ref : std::false_type {};
template <class B>
struct is_base_ref<BaseRef<B>> : std::true_type {};

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
    cur_ += detail::encode_varint(cur_, v);
  }
  void put_varint128(detail::uint128 v) {
    if (end_ - cur_ < 19) grow(19);
    while (v >= 0x80) {
      *cur_++ = static_cast<unsigned char>(v | 0x80);
      v >>= 7;
    }
    *cur_++ = static_cast<unsigned char>(v);
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
    if (n >= detail::kBulkThreshold && owned_by_record(owner)) return put_bulk(owner, p, n, check);
    put_bytes(p, n);
  }
  void put_strong(const Object* target) {
    if (!target) return put_ref(detail::kEmptyStrongRef);
    ++strong_refs_;
    // The writer logged this object's edges while numbering: when serialize() writes them in
    // the order trace() visits them (the usual case) the ID is the next log entry.
    if (strong_cur_ != strong_end_ && strong_cur_->target == target) [[likely]]
      return put_id((strong_cur_++)->id, 0);
    put_id(lookup_strong(target), 0);
  }
  void put_weak(const detail::ObjectTable* table, std::uint32_t slot, std::uint32_t generation) {
    if (!table) {
      ++weak_empty_;
      return put_ref(detail::kEmptyWeakRef);
    }
    std::uint32_t id;
    if (weak_cur_ != weak_end_ && weak_cur_->slot == slot && weak_cur_->generation == generation &&
        table == table_) [[likely]]
      id = (weak_cur_++)->id;
    else
      id = lookup_weak(table, slot, generation);
    if (id == detail::kNoSlot) {
      ++weak_tombstones_;
      return put_ref(detail::kTombstoneRef);
    }
    ++weak_targets_;
    put_id(id, 1);
  }
  /// Bytes and references written to the current record so far (each element of a container
  /// must add at least one, so that a hostile count cannot make a reader loop without input).
  std::size_t progress() const noexcept {
    return static_cast<std::size_t>(cur_ - data_) + bulk_bytes_ + ref_count_;
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

  OutputArchive() = default;
  bool in_snapshot(std::uint32_t slot) const noexcept { return (visited_[slot >> 6] >> (slot & 63)) & 1u; }
  std::uint32_t lookup_strong(const Object* target) const;
  std::uint32_t lookup_weak(const detail::ObjectTable* table, std::uint32_t slot, std::uint32_t generation) const noexcept;
  void put_ref(std::uint64_t code) {
    if (refs_end_ - refs_cur_ < 10) grow_refs();
    refs_cur_ += detail::encode_varint(refs_cur_, code);
    ++ref_count_;
  }
  void put_id(std::uint32_t id, unsigned weak) {
    const std::int64_t delta = static_cast<std::int64_t>(id) - static_cast<std::int64_t>(previous_id_);
    previous_id_ = id;
    put_ref(((detail::zigzag(delta) << 1) | weak) + detail::kFirstIdRef);
  }
  bool owned_by_record(const void* owner) noexcept;
  void put_bulk(const void* owner, const void* p, std::size_t n, detail::StillHolds check);
  /// Throws if a container recorded by pointer no longer holds what was written.
  void check_segments() const;
  void grow(std::size_t n);
  void grow_refs();
  [[noreturn]] void unsaved_reference(const Object* target) const;

  // The record being written.
  unsigned char* data_ = nullptr;
  unsigned char* cur_ = nullptr;
  unsigned char* end_ = nullptr;
  unsigned char* refs_ = nullptr;
  unsigned char* refs_cur_ = nullptr;
  unsigned char* refs_end_ = nullptr;
  std::size_t ref_count_ = 0;
  std::size_t bulk_bytes_ = 0;
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
  const detail::ObjectTable* table_ = nullptr;
  const std::uint64_t* visited_ = nullptr;
  const std::uint32_t* ids_ = nullptr;
  std::size_t strong_refs_ = 0;
  std::size_t weak_targets_ = 0;
  std::size_t weak_tombstones_ = 0;
  std::size_t weak_empty_ = 0;
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
    const std::size_t n = detail::decode_short_varint(cur_, v);
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
    const std::int64_t id = get_target(/*weak=*/false, nullptr);
    if (id < 0) return nullptr;
    return checked_cast<T>(static_cast<std::uint32_t>(id));
  }
  template <class T>
  Weak<T> get_weak() {
    bool tombstone = false;
    const std::int64_t id = get_target(/*weak=*/true, &tombstone);
    if (id < 0) {
      return tombstone ? detail::HandleAccess::make_weak<T>(table_, detail::kTombstoneSlot, 0)
                       : Weak<T>();
    }
    if (!type_matches<T>(static_cast<std::uint32_t>(id))) checked_cast<T>(static_cast<std::uint32_t>(id));
    const std::uint64_t handle = handles_[id];
    return detail::HandleAccess::make_weak<T>(table_, static_cast<std::uint32_t>(handle),
                                               static_cast<std::uint32_t>(handle >> 32));
  }
  /// Throws SnapshotError (record_mismatch or malformed) at the current offset.
  [[noreturn]] void fail(SnapshotErrc code, const std::string& what) const;
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
  /// The ID of the next reference, or -1 for an empty handle or a tombstone.
  std::int64_t get_target(bool weak, bool* tombstone) {
    // The common case inline: a short reference code of the expected kind, in range.
    {
      std::uint64_t code;
      const std::size_t n = detail::decode_short_varint(refs_cur_, code);
      if (n != 0 && n <= static_cast<std::size_t>(refs_end_ - refs_cur_) && code >= detail::kFirstIdRef &&
          ((code - detail::kFirstIdRef) & 1) == weak) [[likely]] {
        const std::int64_t id = static_cast<std::int64_t>(previous_id_) +
                                detail::unzigzag((code - detail::kFirstIdRef) >> 1);
        if (id >= 0 && id < static_cast<std::int64_t>(object_count_)) {
          refs_cur_ += n;
          previous_id_ = static_cast<std::uint32_t>(id);
          ++(weak ? weak_targets_ : strong_refs_);
          return id;
        }
      }
    }
    return get_target_slow(weak, tombstone);
  }
  std::int64_t get_target_slow(bool weak, bool* tombstone);
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
  Object* const* objects_ = nullptr;        // by snapshot ID
  const std::uint64_t* handles_ = nullptr;  // by snapshot ID: slot | generation << 32
  const std::uint32_t* run_end_ = nullptr;  // type runs: first ID after each run
  const std::uint32_t* run_type_ = nullptr; // type runs: registry type index
  std::size_t run_count_ = 0;
  mutable std::size_t run_hint_ = 0;
  detail::ObjectTable* table_ = nullptr;
  const detail::TypeInfo* type_ = nullptr;
  SnapshotStats* stats_ = nullptr;
  std::size_t strong_refs_ = 0;
  std::size_t weak_targets_ = 0;
};

namespace detail {

template <class T>
struct ConstructForLoad {
  static T make() { return T(); }
};

// ---- saving --------------------------------------------------------------------------------------

/// An array block: count, element size, bytes. `owner` holds the bytes (see put_owned_bytes).
template <class T>
void save_block(OutputArchive& ar, const void* owner, StillHolds check, const T* data, std::size_t count) {
  ar.put_varint(count);
  ar.put_varint(sizeof(T));
  ar.put_owned_bytes(owner, data, count * sizeof(T), check);
}

template <class Range>
void save_elements(OutputArchive& ar, const Range& range, std::size_t count) {
  ar.put_varint(count);
  const std::size_t before = ar.progress();
  for (const auto& element : range) save_value(ar, element);
  if (ar.progress() - before < count)
    throw SnapshotError(SnapshotErrc::unsupported_value,
                        "a container of " + std::to_string(count) +
                            " elements whose elements write nothing cannot be saved");
}

template <class T>
void save_class(OutputArchive& ar, const T& value) {
  static_assert(boost::serialization::version<T>::value == 0,
                "snapheap keeps class versions for registered managed types only: version a value "
                "type through the managed type that holds it (ar.class_version())");
  boost::serialization::serialize_adl(ar, const_cast<T&>(value), 0u);
}

template <class T>
void save_value(OutputArchive& ar, const T& value) {
  if constexpr (std::is_same_v<T, bool>) {
    const unsigned char byte = value ? 1 : 0;
    ar.put_bytes(&byte, 1);
  } else if constexpr (is_int128_v<T>) {
    if constexpr (std::is_same_v<T, int128>) ar.put_varint128(zigzag128(value));
    else ar.put_varint128(value);
  } else if constexpr (std::is_integral_v<T>) {
    if constexpr (std::is_signed_v<T>) ar.put_varint(zigzag(static_cast<std::int64_t>(value)));
    else ar.put_varint(static_cast<std::uint64_t>(value));
  } else if constexpr (std::is_floating_point_v<T>) {
    static_assert(sizeof(T) <= 8, "long double has no portable representation: use double");
    ar.put_bytes(&value, sizeof(T));
  } else if constexpr (std::is_enum_v<T>) {
    save_value(ar, static_cast<std::underlying_type_t<T>>(value));
  } else if constexpr (is_member<T>::value) {
    ar.put_strong(value.get());
  } else if constexpr (is_weak<T>::value) {
    ar.put_weak(HandleAccess::table(value), HandleAccess::slot(value), HandleAccess::generation(value));
  } else if constexpr (is_strong<T>::value) {
    static_assert(kAlwaysFalse<T>,
                  "a Strong handle is a root held by host code and cannot be saved inside an "
                  "object: store a snapheap::Member (strong edge) or snapheap::Weak");
  } else if constexpr (std::is_pointer_v<T>) {
    static_assert(kAlwaysFalse<T>,
                  "raw pointers cannot be saved: point at managed objects with snapheap::Member or "
                  "snapheap::Weak, and hold plain data by value");
  } else if constexpr (is_nvp<T>::value) {
    save_value(ar, value.const_value());
  } else if constexpr (is_base_ref<T>::value) {
    using B = std::remove_cv_t<std::remove_reference_t<decltype(value.base)>>;
    boost::serialization::access::serialize(ar, const_cast<B&>(value.base), ar.class_version());
  } else if constexpr (std::is_base_of_v<Object, T>) {
    // boost::serialization::base_object<Base>(*this) yields a Base&: the base part's fields.
    boost::serialization::access::serialize(ar, const_cast<T&>(value), ar.class_version());
  } else if constexpr (is_basic_string<T>::value) {
    using C = typename T::value_type;
    if constexpr (sizeof(C) == 1) {
      ar.put_varint(value.size());
      ar.put_owned_bytes(&value, value.data(), value.size(), &still_holds<T>);
    } else {
      save_block(ar, &value, &still_holds<T>, value.data(), value.size());
    }
  } else if constexpr (is_std_vector<T>::value) {
    using E = typename T::value_type;
    if constexpr (std::is_same_v<E, bool>) {
      ar.put_varint(value.size());
      for (bool b : value) save_value(ar, b);
    } else if constexpr (is_bulk<E>::value) {
      save_block(ar, &value, &still_holds<T>, value.data(), value.size());
    } else {
      save_elements(ar, value, value.size());
    }
  } else if constexpr (is_std_array<T>::value) {
    if constexpr (is_bulk<typename T::value_type>::value) save_block(ar, &value, nullptr, value.data(), value.size());
    else save_elements(ar, value, value.size());
  } else if constexpr (std::is_array_v<T>) {
    using E = std::remove_extent_t<T>;
    if constexpr (is_bulk<E>::value) save_block(ar, &value, nullptr, &value[0], std::extent_v<T>);
    else save_elements(ar, value, std::extent_v<T>);
  } else if constexpr (is_array_wrapper<T>::value) {
    using E = std::remove_const_t<std::remove_pointer_t<decltype(value.address())>>;
    if constexpr (is_bulk<E>::value) {
      save_block(ar, value.address(), nullptr, value.address(), value.count());
    } else {
      ar.put_varint(value.count());
      for (std::size_t i = 0; i < value.count(); ++i) save_value(ar, value.address()[i]);
    }
  } else if constexpr (std::is_same_v<T, boost::serialization::binary_object>) {
    ar.put_varint(value.m_size);
    ar.put_owned_bytes(value.m_t, value.m_t, value.m_size, nullptr);
  } else if constexpr (is_pair<T>::value) {
    save_value(ar, value.first);
    save_value(ar, value.second);
  } else if constexpr (is_tuple<T>::value) {
    std::apply([&](const auto&... element) { (save_value(ar, element), ...); }, value);
  } else if constexpr (is_optional<T>::value) {
    save_value(ar, value.has_value());
    if (value) save_value(ar, *value);
  } else if constexpr (is_unique_ptr<T>::value) {
    using E = typename T::element_type;
    static_assert(!std::is_base_of_v<Object, E>,
                  "managed objects are owned by the heap: hold them with Member, not unique_ptr");
    static_assert(!std::is_abstract_v<E>,
                  "a std::unique_ptr to an abstract class cannot be loaded: snapheap saves value "
                  "types by value, not polymorphic pointers (make the object managed and hold it "
                  "with a Member)");
    if constexpr (std::is_polymorphic_v<E>) {
      if (value && typeid(*value) != typeid(E)) throw_sliced_pointer(typeid(E), typeid(*value));
    }
    save_value(ar, value != nullptr);
    if (value) save_value(ar, *value);
  } else if constexpr (is_variant<T>::value) {
    ar.put_varint(value.index());
    std::visit([&](const auto& alternative) { save_value(ar, alternative); }, value);
  } else if constexpr (is_sequence<T>::value || is_associative<T>::value) {
    save_elements(ar, value, value.size());
  } else if constexpr (std::is_same_v<T, std::complex<float>> || std::is_same_v<T, std::complex<double>>) {
    ar.put_bytes(&value, sizeof(T));
  } else if constexpr (std::is_class_v<T>) {
    save_class(ar, value);
  } else {
    static_assert(kAlwaysFalse<T>, "snapheap cannot save this type");
  }
}

// ---- loading -------------------------------------------------------------------------------------

template <class T>
std::size_t load_block_header(InputArchive& ar) {
  const std::size_t count = ar.get_count(sizeof(T));
  const std::uint64_t element_size = ar.get_varint();
  if (element_size != sizeof(T))
    ar.fail(SnapshotErrc::record_mismatch,
            "an array of " + std::to_string(element_size) + "-byte elements is read into " +
                std::to_string(sizeof(T)) + "-byte elements");
  return count;
}

/// Reads raw elements from possibly unaligned snapshot bytes.
template <class T>
struct UnalignedIterator {
  using iterator_category = std::random_access_iterator_tag;
  using value_type = T;
  using difference_type = std::ptrdiff_t;
  using pointer = const T*;
  using reference = T;
  const unsigned char* p;
  T operator*() const noexcept {
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
  }
  T operator[](difference_type i) const noexcept { return *(*this + i); }
  UnalignedIterator& operator++() noexcept { p += sizeof(T); return *this; }
  UnalignedIterator operator++(int) noexcept { auto old = *this; p += sizeof(T); return old; }
  UnalignedIterator& operator--() noexcept { p -= sizeof(T); return *this; }
  UnalignedIterator operator--(int) noexcept { auto old = *this; p -= sizeof(T); return old; }
  UnalignedIterator& operator+=(difference_type n) noexcept { p += n * static_cast<difference_type>(sizeof(T)); return *this; }
  UnalignedIterator& operator-=(difference_type n) noexcept { p -= n * static_cast<difference_type>(sizeof(T)); return *this; }
  friend UnalignedIterator operator+(UnalignedIterator it, difference_type n) noexcept { return it += n; }
  friend UnalignedIterator operator+(difference_type n, UnalignedIterator it) noexcept { return it += n; }
  friend UnalignedIterator operator-(UnalignedIterator it, difference_type n) noexcept { return it -= n; }
  friend difference_type operator-(UnalignedIterator a, UnalignedIterator b) noexcept {
    return (a.p - b.p) / static_cast<difference_type>(sizeof(T));
  }
  friend bool operator==(UnalignedIterator a, UnalignedIterator b) noexcept { return a.p == b.p; }
  friend auto operator<=>(UnalignedIterator a, UnalignedIterator b) noexcept { return a.p <=> b.p; }
};

template <class T, class A>
void load_block(InputArchive& ar, std::vector<T, A>& out) {
  const std::size_t count = load_block_header<T>(ar);
  const unsigned char* bytes = ar.get_bytes(count * sizeof(T));
  if (reinterpret_cast<std::uintptr_t>(bytes) % alignof(T) == 0) {
    // Allocates and copies in one pass: no zero-filling first, unlike resize() + memcpy.
    const T* first = reinterpret_cast<const T*>(bytes);
    out.assign(first, first + count);
  } else {
    out.assign(UnalignedIterator<T>{bytes}, UnalignedIterator<T>{bytes + count * sizeof(T)});
  }
}

template <class T>
void load_fixed_block(InputArchive& ar, T* out, std::size_t expected) {
  const std::size_t count = load_block_header<T>(ar);
  if (count != expected)
    ar.fail(SnapshotErrc::record_mismatch, "an array of " + std::to_string(count) +
                                               " elements is read into one of " + std::to_string(expected));
  const unsigned char* bytes = ar.get_bytes(count * sizeof(T));
  if (count) std::memcpy(static_cast<void*>(out), bytes, count * sizeof(T));
}

template <class T>
void load_fixed_elements(InputArchive& ar, T* out, std::size_t expected) {
  const std::size_t count = ar.get_count(0);
  if (count != expected)
    ar.fail(SnapshotErrc::record_mismatch, "an array of " + std::to_string(count) +
                                               " elements is read into one of " + std::to_string(expected));
  for (std::size_t i = 0; i < count; ++i) load_value(ar, out[i]);
}

template <class T>
void load_class(InputArchive& ar, T& value) {
  static_assert(boost::serialization::version<T>::value == 0,
                "snapheap keeps class versions for registered managed types only: version a value "
                "type through the managed type that holds it (ar.class_version())");
  boost::serialization::serialize_adl(ar, value, 0u);
}

template <class T, std::size_t I = 0>
void load_variant(InputArchive& ar, T& value, std::size_t index) {
  if constexpr (I < std::variant_size_v<T>) {
    if (index == I) {
      std::variant_alternative_t<I, T> alternative{};
      load_value(ar, alternative);
      value.template emplace<I>(std::move(alternative));
      return;
    }
    load_variant<T, I + 1>(ar, value, index);
  } else {
    ar.fail(SnapshotErrc::record_mismatch, "variant alternative " + std::to_string(index) +
                                               " does not exist in this program's type");
  }
}

template <class T>
void load_associative(InputArchive& ar, T& value) {
  const std::size_t count = ar.get_count(0);
  value.clear();
  for (std::size_t i = 0; i < count; ++i) {
    if constexpr (requires { typename T::mapped_type; }) {
      std::pair<typename T::key_type, typename T::mapped_type> element{};
      load_value(ar, element.first);
      load_value(ar, element.second);
      value.insert(value.end(), std::move(element));
    } else {
      typename T::value_type element{};
      load_value(ar, element);
      value.insert(value.end(), std::move(element));
    }
  }
}

template <class T>
void load_integer(InputArchive& ar, T& value) {
  const std::uint64_t raw = ar.get_varint();
  if constexpr (std::is_signed_v<T>) {
    const std::int64_t v = unzigzag(raw);
    if (v < static_cast<std::int64_t>(std::numeric_limits<T>::min()) ||
        v > static_cast<std::int64_t>(std::numeric_limits<T>::max()))
      ar.fail(SnapshotErrc::record_mismatch,
              "the value " + std::to_string(v) + " does not fit the field's integer type");
    value = static_cast<T>(v);
  } else {
    if (raw > static_cast<std::uint64_t>(std::numeric_limits<T>::max()))
      ar.fail(SnapshotErrc::record_mismatch,
              "the value " + std::to_string(raw) + " does not fit the field's integer type");
    value = static_cast<T>(raw);
  }
}

template <class T>
void load_value(InputArchive& ar, T& value) {
  if constexpr (std::is_const_v<T>) {
    static_assert(is_nvp<std::remove_const_t<T>>::value || is_array_wrapper<std::remove_const_t<T>>::value ||
                      is_base_ref<std::remove_const_t<T>>::value ||
                      std::is_same_v<std::remove_const_t<T>, boost::serialization::binary_object>,
                  "cannot load into a const field");
    load_value(ar, const_cast<std::remove_const_t<T>&>(value));
  } else if constexpr (std::is_same_v<T, bool>) {
    const unsigned char byte = *ar.get_bytes(1);
    if (byte > 1) ar.fail(SnapshotErrc::malformed, "a bool holds the byte " + std::to_string(byte));
    value = byte != 0;
  } else if constexpr (is_int128_v<T>) {
    const uint128 raw = ar.get_varint128();
    if constexpr (std::is_same_v<T, int128>) value = unzigzag128(raw);
    else value = raw;
  } else if constexpr (std::is_integral_v<T>) {
    load_integer(ar, value);
  } else if constexpr (std::is_floating_point_v<T>) {
    std::memcpy(&value, ar.get_bytes(sizeof(T)), sizeof(T));
  } else if constexpr (std::is_enum_v<T>) {
    std::underlying_type_t<T> raw{};
    load_value(ar, raw);
    value = static_cast<T>(raw);
  } else if constexpr (is_member<T>::value) {
    value = ar.template get_strong<typename T::element_type>();
  } else if constexpr (is_weak<T>::value) {
    value = ar.template get_weak<typename T::element_type>();
  } else if constexpr (is_strong<T>::value) {
    static_assert(kAlwaysFalse<T>, "a Strong handle cannot be loaded into an object: use Member");
  } else if constexpr (std::is_pointer_v<T>) {
    static_assert(kAlwaysFalse<T>, "raw pointers cannot be loaded: use Member or Weak");
  } else if constexpr (is_nvp<T>::value) {
    load_value(ar, value.value());
  } else if constexpr (is_base_ref<T>::value) {
    boost::serialization::access::serialize(ar, value.base, ar.class_version());
  } else if constexpr (std::is_base_of_v<Object, T>) {
    boost::serialization::access::serialize(ar, value, ar.class_version());
  } else if constexpr (is_basic_string<T>::value) {
    using C = typename T::value_type;
    if constexpr (sizeof(C) == 1) {
      const std::size_t size = ar.get_count(1);
      const unsigned char* bytes = ar.get_bytes(size);
      value.assign(reinterpret_cast<const C*>(bytes), size);
    } else {
      const std::size_t count = load_block_header<C>(ar);
      const unsigned char* bytes = ar.get_bytes(count * sizeof(C));
      value.resize(count);
      if (count) std::memcpy(value.data(), bytes, count * sizeof(C));
    }
  } else if constexpr (is_std_vector<T>::value) {
    using E = typename T::value_type;
    if constexpr (std::is_same_v<E, bool>) {
      const std::size_t count = ar.get_count(1);
      value.assign(count, false);
      for (std::size_t i = 0; i < count; ++i) {
        bool b = false;
        load_value(ar, b);
        value[i] = b;
      }
    } else if constexpr (is_bulk<E>::value) {
      load_block(ar, value);
    } else {
      const std::size_t count = ar.get_count(0);
      value.clear();
      value.reserve(count);
      for (std::size_t i = 0; i < count; ++i) {
        value.emplace_back();
        load_value(ar, value.back());
      }
    }
  } else if constexpr (is_std_array<T>::value) {
    if constexpr (is_bulk<typename T::value_type>::value) load_fixed_block(ar, value.data(), value.size());
    else load_fixed_elements(ar, value.data(), value.size());
  } else if constexpr (std::is_array_v<T>) {
    using E = std::remove_extent_t<T>;
    if constexpr (is_bulk<E>::value) load_fixed_block(ar, &value[0], std::extent_v<T>);
    else load_fixed_elements(ar, &value[0], std::extent_v<T>);
  } else if constexpr (is_array_wrapper<T>::value) {
    using E = std::remove_pointer_t<decltype(value.address())>;
    if constexpr (is_bulk<E>::value) load_fixed_block(ar, value.address(), value.count());
    else load_fixed_elements(ar, value.address(), value.count());
  } else if constexpr (std::is_same_v<T, boost::serialization::binary_object>) {
    const std::size_t size = ar.get_count(1);
    if (size != value.m_size)
      ar.fail(SnapshotErrc::record_mismatch, "a binary object of " + std::to_string(size) +
                                                 " bytes is read into one of " + std::to_string(value.m_size));
    std::memcpy(const_cast<void*>(value.m_t), ar.get_bytes(size), size);
  } else if constexpr (is_pair<T>::value) {
    load_value(ar, value.first);
    load_value(ar, value.second);
  } else if constexpr (is_tuple<T>::value) {
    std::apply([&](auto&... element) { (load_value(ar, element), ...); }, value);
  } else if constexpr (is_optional<T>::value) {
    bool present = false;
    load_value(ar, present);
    if (present) {
      value.emplace();
      load_value(ar, *value);
    } else {
      value.reset();
    }
  } else if constexpr (is_unique_ptr<T>::value) {
    bool present = false;
    load_value(ar, present);
    if (present) {
      auto element = std::make_unique<typename T::element_type>();
      load_value(ar, *element);
      value = std::move(element);
    } else {
      value.reset();
    }
  } else if constexpr (is_variant<T>::value) {
    load_variant(ar, value, static_cast<std::size_t>(ar.get_varint()));
  } else if constexpr (is_sequence<T>::value) {
    const std::size_t count = ar.get_count(0);
    value.clear();
    for (std::size_t i = 0; i < count; ++i) {
      value.emplace_back();
      load_value(ar, value.back());
    }
  } else if constexpr (is_associative<T>::value) {
    load_associative(ar, value);
  } else if constexpr (std::is_same_v<T, std::complex<float>> || std::is_same_v<T, std::complex<double>>) {
    std::memcpy(static_cast<void*>(&value), ar.get_bytes(sizeof(T)), sizeof(T));
  } else if constexpr (std::is_class_v<T>) {
    load_class(ar, value);
  } else {
    static_assert(kAlwaysFalse<T>, "snapheap cannot load this type");
  }
}

}  // namespace detail
}  // namespace snapheap
