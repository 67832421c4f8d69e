// One codec per family of field types, its save and its load side by side, so the two
// directions cannot drift apart (fmt's formatter<T> is the shape). family_of<T>() picks the
// family in one ordered list; Codec<T> implements it. Included by snapheap/archive.hpp after the
// archive classes; not API.
//
// What the codecs write: integers as varints (zigzag for signed types, 128-bit ones too),
// floating point and bool as raw bytes, strings as a length and bytes, containers as a count and
// their elements, contiguous arrays of trivially copyable scalars as one block (count, element
// size, bytes), a Member as a reference to its target, a Weak as a reference or a tombstone.
#pragma once

#include <boost/serialization/access.hpp>
#include <boost/serialization/serialization.hpp>
#include <boost/serialization/version.hpp>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <string>
#include <typeinfo>

#include "snapheap/detail/traits.hpp"

namespace snapheap::detail {

template <class T>
void save_value(OutputArchive& ar, const T& value);
template <class T>
void load_value(InputArchive& ar, T& value);

enum class Family {
  boolean, wide_integer, integer, floating, enumeration,           // scalars
  member, weak, ephemeron, strong, pointer,                   // handles, and what is refused
  nvp, base_ref, managed,                                     // Boost's wrappers, base parts
  string, vector, fixed_array, array_wrapper, binary_object,  // contiguous
  pair, tuple, optional, unique_ptr, variant,                 // wrappers of other values
  sequence, associative, complex,                             // containers
  value_class,                                                // a serialize() of its own
  unsupported,
};

template <class T>
constexpr Family family_of() {
  if constexpr (std::is_same_v<T, bool>) return Family::boolean;
  else if constexpr (is_int128_v<T>) return Family::wide_integer;
  else if constexpr (std::is_integral_v<T>) return Family::integer;
  else if constexpr (std::is_floating_point_v<T>) return Family::floating;
  else if constexpr (std::is_enum_v<T>) return Family::enumeration;
  else if constexpr (is_member<T>::value) return Family::member;
  else if constexpr (is_weak<T>::value) return Family::weak;
  else if constexpr (is_ephemeron<T>::value) return Family::ephemeron;
  else if constexpr (is_strong<T>::value) return Family::strong;
  else if constexpr (std::is_pointer_v<T>) return Family::pointer;
  else if constexpr (is_nvp<T>::value) return Family::nvp;
  else if constexpr (is_base_ref<T>::value) return Family::base_ref;
  else if constexpr (std::is_base_of_v<Object, T>) return Family::managed;
  else if constexpr (is_basic_string<T>::value) return Family::string;
  else if constexpr (is_std_vector<T>::value) return Family::vector;
  else if constexpr (is_std_array<T>::value || std::is_array_v<T>) return Family::fixed_array;
  else if constexpr (is_array_wrapper<T>::value) return Family::array_wrapper;
  else if constexpr (std::is_same_v<T, boost::serialization::binary_object>) return Family::binary_object;
  else if constexpr (is_pair<T>::value) return Family::pair;
  else if constexpr (is_tuple<T>::value) return Family::tuple;
  else if constexpr (is_optional<T>::value) return Family::optional;
  else if constexpr (is_unique_ptr<T>::value) return Family::unique_ptr;
  else if constexpr (is_variant<T>::value) return Family::variant;
  else if constexpr (is_sequence<T>::value) return Family::sequence;
  else if constexpr (is_associative<T>::value) return Family::associative;
  else if constexpr (std::is_same_v<T, std::complex<float>> || std::is_same_v<T, std::complex<double>>)
    return Family::complex;
  else if constexpr (std::is_class_v<T>) return Family::value_class;
  else return Family::unsupported;
}

/// Wrappers Boost hands over as const temporaries (make_nvp, make_array, base_object): loading
/// writes through them, not into them.
template <class T>
inline constexpr bool is_load_wrapper_v =
    is_nvp<T>::value || is_array_wrapper<T>::value || is_base_ref<T>::value ||
    std::is_same_v<T, boost::serialization::binary_object>;

template <class T, Family F = family_of<T>()>
struct Codec {
  static_assert(kAlwaysFalse<T>, "snapheap cannot save or load this type");
};

[[noreturn]] void throw_sliced_pointer(const std::type_info& declared, const std::type_info& held);
[[noreturn]] void throw_silent_elements(std::size_t count);

// ---- scalars -----------------------------------------------------------------------------------------

template <class T>
struct Codec<T, Family::boolean> {
  static void save(OutputArchive& ar, const T& value) {
    const unsigned char byte = value ? 1 : 0;
    ar.put_bytes(&byte, 1);
  }
  static void load(InputArchive& ar, T& value) {
    const unsigned char byte = *ar.get_bytes(1);
    if (byte > 1) ar.fail(SnapshotErrc::malformed, "a bool holds the byte " + std::to_string(byte));
    value = byte != 0;
  }
};

template <class T>
struct Codec<T, Family::wide_integer> {
  static void save(OutputArchive& ar, const T& value) {
    if constexpr (std::is_same_v<T, int128>) ar.put_varint128(wire::zigzag128(value));
    else ar.put_varint128(value);
  }
  static void load(InputArchive& ar, T& value) {
    const uint128 raw = ar.get_varint128();
    if constexpr (std::is_same_v<T, int128>) value = wire::unzigzag128(raw);
    else value = raw;
  }
};

template <class T>
struct Codec<T, Family::integer> {
  static void save(OutputArchive& ar, const T& value) {
    if constexpr (std::is_signed_v<T>) ar.put_varint(wire::zigzag(static_cast<std::int64_t>(value)));
    else ar.put_varint(static_cast<std::uint64_t>(value));
  }
  static void load(InputArchive& ar, T& value) {
    const std::uint64_t raw = ar.get_varint();
    if constexpr (std::is_signed_v<T>) {
      const std::int64_t v = wire::unzigzag(raw);
      if (v < static_cast<std::int64_t>(std::numeric_limits<T>::min()) ||
          v > static_cast<std::int64_t>(std::numeric_limits<T>::max()))
        ar.fail(SnapshotErrc::record_mismatch, "the value " + std::to_string(v) + " does not fit the field's integer type");
      value = static_cast<T>(v);
    } else {
      if (raw > static_cast<std::uint64_t>(std::numeric_limits<T>::max()))
        ar.fail(SnapshotErrc::record_mismatch, "the value " + std::to_string(raw) + " does not fit the field's integer type");
      value = static_cast<T>(raw);
    }
  }
};

template <class T>
struct Codec<T, Family::floating> {
  static_assert(sizeof(T) <= 8, "long double has no portable representation: use double");
  static void save(OutputArchive& ar, const T& value) { ar.put_bytes(&value, sizeof(T)); }
  static void load(InputArchive& ar, T& value) { std::memcpy(&value, ar.get_bytes(sizeof(T)), sizeof(T)); }
};

template <class T>
struct Codec<T, Family::enumeration> {
  using U = std::underlying_type_t<T>;
  static void save(OutputArchive& ar, const T& value) { save_value(ar, static_cast<U>(value)); }
  static void load(InputArchive& ar, T& value) {
    U raw{};
    load_value(ar, raw);
    value = static_cast<T>(raw);
  }
};

template <class T>
struct Codec<T, Family::complex> {
  static void save(OutputArchive& ar, const T& value) { ar.put_bytes(&value, sizeof(T)); }
  static void load(InputArchive& ar, T& value) {
    std::memcpy(static_cast<void*>(&value), ar.get_bytes(sizeof(T)), sizeof(T));
  }
};

// ---- handles -------------------------------------------------------------------------------------------

template <class T>
struct Codec<T, Family::member> {
  static void save(OutputArchive& ar, const T& value) { ar.put_strong(value.get()); }
  static void load(InputArchive& ar, T& value) { value = ar.template get_strong<typename T::element_type>(); }
};

template <class T>
struct Codec<T, Family::weak> {
  static void save(OutputArchive& ar, const T& value) {
    ar.put_weak(HandleAccess::tag(value), HandleAccess::slot(value), HandleAccess::generation(value));
  }
  static void load(InputArchive& ar, T& value) { value = ar.template get_weak<typename T::element_type>(); }
};

// An ephemeron: a varint state, 0 empty, 1 dropped (its key was not saved: then the key as a
// tombstone, and it loads expired, with no value), 2 saved, then its key (a weak reference) and
// its value (a strong one).
template <class T>
struct Codec<T, Family::ephemeron> {
  static void save(OutputArchive& ar, const T& value) {
    const auto& key = HandleAccess::key(value);
    if (HandleAccess::tag(key) == 0) return ar.put_varint(0);
    if (!ar.saves(key)) {
      ar.count_weak_entries(WeakEntryKind::ephemeron, 0, 1);
      ar.put_varint(1);
      return save_value(ar, key);  // a tombstone
    }
    ar.put_varint(2);
    save_value(ar, key);
    save_value(ar, HandleAccess::value(value));
    ar.count_weak_entries(WeakEntryKind::ephemeron, 1, 0);
  }
  static void load(InputArchive& ar, T& value) {
    switch (ar.get_varint()) {
      case 0: value.reset(); return;
      case 1: {
        value.reset();
        load_value(ar, HandleAccess::key(value));
        if (!HandleAccess::key(value).expired())
          ar.fail(SnapshotErrc::malformed, "a dropped Ephemeron's key is in the snapshot");
        ar.count_weak_entries(WeakEntryKind::ephemeron, 0, 1);
        return;
      }
      case 2: {
        auto& key = HandleAccess::key(value);
        auto& held = HandleAccess::value(value);
        load_value(ar, key);
        load_value(ar, held);
        ar.count_weak_entries(WeakEntryKind::ephemeron, 1, 0);
        return;
      }
      default: ar.fail(SnapshotErrc::malformed, "an Ephemeron's state is not 0, 1 or 2");
    }
  }
};

template <class T>
struct Codec<T, Family::strong> {
  static_assert(kAlwaysFalse<T>,
                "a Strong handle is a root held by host code and cannot be saved inside an object: "
                "store a snapheap::Member (strong edge) or snapheap::Weak");
};

template <class T>
struct Codec<T, Family::pointer> {
  static_assert(kAlwaysFalse<T>,
                "raw pointers cannot be saved or loaded: point at managed objects with "
                "snapheap::Member or snapheap::Weak, and hold plain data by value");
};

// ---- Boost's wrappers and base parts --------------------------------------------------------------------

template <class T>
struct Codec<T, Family::nvp> {
  static void save(OutputArchive& ar, const T& value) { save_value(ar, value.const_value()); }
  static void load(InputArchive& ar, T& value) { load_value(ar, value.value()); }
};

/// A base part (snapheap::base<B>, or boost::serialization::base_object<B> on a managed B): B's
/// own serialize(), given the record's class version.
template <class T>
struct Codec<T, Family::managed> {
  static void save(OutputArchive& ar, const T& value) {
    boost::serialization::access::serialize(ar, const_cast<T&>(value), ar.class_version());
  }
  static void load(InputArchive& ar, T& value) {
    boost::serialization::access::serialize(ar, value, ar.class_version());
  }
};
template <class T>
struct Codec<T, Family::base_ref> {
  using B = std::remove_cv_t<std::remove_reference_t<decltype(std::declval<T&>().base)>>;
  static void save(OutputArchive& ar, const T& value) { Codec<B, Family::managed>::save(ar, value.base); }
  static void load(InputArchive& ar, T& value) { Codec<B, Family::managed>::load(ar, value.base); }
};

/// A value type with a serialize() of its own (member, free, or split).
template <class T>
struct Codec<T, Family::value_class> {
  static_assert(boost::serialization::version<T>::value == 0,
                "snapheap keeps class versions for registered managed types only: version a value "
                "type through the managed type that holds it (ar.class_version())");
  static void save(OutputArchive& ar, const T& value) {
    boost::serialization::serialize_adl(ar, const_cast<T&>(value), 0u);
  }
  static void load(InputArchive& ar, T& value) { boost::serialization::serialize_adl(ar, value, 0u); }
};

// ---- contiguous data -------------------------------------------------------------------------------------

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

/// An array block: count, element size, then the bytes. `owner` holds the bytes (see
/// OutputArchive::put_owned_bytes); `check` says whether it still does after save() returns.
struct Block {
  template <class T>
  static void save(OutputArchive& ar, const void* owner, StillHolds check, const T* data, std::size_t count) {
    ar.put_varint(count);
    ar.put_varint(sizeof(T));
    ar.put_owned_bytes(owner, data, count * sizeof(T), check);
  }
  /// The block's count (checked against the record) and a pointer to its bytes.
  template <class T>
  static const unsigned char* load(InputArchive& ar, std::size_t& count) {
    count = ar.get_count(sizeof(T));
    const std::uint64_t element_size = ar.get_varint();
    if (element_size != sizeof(T))
      ar.fail(SnapshotErrc::record_mismatch, "an array of " + std::to_string(element_size) +
                                                 "-byte elements is read into " + std::to_string(sizeof(T)) +
                                                 "-byte elements");
    return ar.get_bytes(count * sizeof(T));
  }
  template <class T>
  static void load_fixed(InputArchive& ar, T* out, std::size_t expected) {
    std::size_t count = 0;
    const unsigned char* bytes = load<T>(ar, count);
    expect_count(ar, count, expected);
    if (count) std::memcpy(static_cast<void*>(out), bytes, count * sizeof(T));
  }
  static void expect_count(InputArchive& ar, std::size_t count, std::size_t expected) {
    if (count != expected)
      ar.fail(SnapshotErrc::record_mismatch, "an array of " + std::to_string(count) +
                                                 " elements is read into one of " + std::to_string(expected));
  }
};

/// Element by element: a count, then each element. Every element must write at least one byte
/// or reference, so that a hostile count cannot make a reader loop without input.
struct Elements {
  template <class Range>
  static void save(OutputArchive& ar, const Range& range, std::size_t count) {
    ar.put_varint(count);
    const std::size_t before = ar.progress();
    for (const auto& element : range) save_value(ar, element);
    if (ar.progress() - before < count) throw_silent_elements(count);
  }
  template <class T>
  static void load_fixed(InputArchive& ar, T* out, std::size_t expected) {
    const std::size_t count = ar.get_count(0);
    Block::expect_count(ar, count, expected);
    for (std::size_t i = 0; i < count; ++i) load_value(ar, out[i]);
  }
  /// Appends `count` elements (read after the caller's get_count) with emplace_back.
  template <class C>
  static void load_back(InputArchive& ar, C& value, std::size_t count) {
    value.clear();
    if constexpr (requires { value.reserve(count); }) value.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
      value.emplace_back();
      load_value(ar, value.back());
    }
  }
};

template <class T>
struct Codec<T, Family::string> {
  using C = typename T::value_type;
  static void save(OutputArchive& ar, const T& value) {
    if constexpr (sizeof(C) == 1) {
      ar.put_varint(value.size());
      ar.put_owned_bytes(&value, value.data(), value.size(), &still_holds<T>);
    } else {
      Block::save(ar, &value, &still_holds<T>, value.data(), value.size());
    }
  }
  static void load(InputArchive& ar, T& value) {
    if constexpr (sizeof(C) == 1) {
      const std::size_t size = ar.get_count(1);
      value.assign(reinterpret_cast<const C*>(ar.get_bytes(size)), size);
    } else {
      std::size_t count = 0;
      const unsigned char* bytes = Block::load<C>(ar, count);
      value.resize(count);
      if (count) std::memcpy(value.data(), bytes, count * sizeof(C));
    }
  }
};

template <class T>
struct Codec<T, Family::vector> {
  using E = typename T::value_type;
  static void save(OutputArchive& ar, const T& value) {
    if constexpr (std::is_same_v<E, bool>) {
      ar.put_varint(value.size());
      for (bool b : value) save_value(ar, b);
    } else if constexpr (is_bulk<E>::value) {
      Block::save(ar, &value, &still_holds<T>, value.data(), value.size());
    } else {
      Elements::save(ar, value, value.size());
    }
  }
  static void load(InputArchive& ar, T& value) {
    if constexpr (std::is_same_v<E, bool>) {
      const std::size_t count = ar.get_count(1);
      value.assign(count, false);
      for (std::size_t i = 0; i < count; ++i) {
        bool b = false;
        load_value(ar, b);
        value[i] = b;
      }
    } else if constexpr (is_bulk<E>::value) {
      std::size_t count = 0;
      const unsigned char* bytes = Block::load<E>(ar, count);
      if (reinterpret_cast<std::uintptr_t>(bytes) % alignof(E) == 0) {
        // Allocates and copies in one pass: no zero-filling first, unlike resize() + memcpy.
        const E* first = reinterpret_cast<const E*>(bytes);
        value.assign(first, first + count);
      } else {
        value.assign(UnalignedIterator<E>{bytes}, UnalignedIterator<E>{bytes + count * sizeof(E)});
      }
    } else {
      Elements::load_back(ar, value, ar.get_count(0));
    }
  }
};

/// std::array<E, N> and E[N]: the storage is the field itself.
template <class T>
struct Codec<T, Family::fixed_array> {
  using E = std::remove_cv_t<std::remove_reference_t<decltype(std::declval<T&>()[0])>>;
  static constexpr std::size_t kCount = sizeof(T) / sizeof(E);
  static void save(OutputArchive& ar, const T& value) {
    if constexpr (is_bulk<E>::value) Block::save(ar, &value, nullptr, &value[0], kCount);
    else Elements::save(ar, value, kCount);
  }
  static void load(InputArchive& ar, T& value) {
    if constexpr (is_bulk<E>::value) Block::load_fixed(ar, &value[0], kCount);
    else Elements::load_fixed(ar, &value[0], kCount);
  }
};

/// boost::serialization::make_array(pointer, count).
template <class T>
struct Codec<T, Family::array_wrapper> {
  using E = std::remove_const_t<std::remove_pointer_t<decltype(std::declval<const T&>().address())>>;
  static void save(OutputArchive& ar, const T& value) {
    if constexpr (is_bulk<E>::value) {
      Block::save(ar, value.address(), nullptr, value.address(), value.count());
    } else {
      ar.put_varint(value.count());
      for (std::size_t i = 0; i < value.count(); ++i) save_value(ar, value.address()[i]);
    }
  }
  static void load(InputArchive& ar, T& value) {
    E* out = const_cast<E*>(value.address());
    if constexpr (is_bulk<E>::value) Block::load_fixed(ar, out, value.count());
    else Elements::load_fixed(ar, out, value.count());
  }
};

/// boost::serialization::make_binary_object(pointer, bytes).
template <class T>
struct Codec<T, Family::binary_object> {
  static void save(OutputArchive& ar, const T& value) {
    ar.put_varint(value.m_size);
    ar.put_owned_bytes(value.m_t, value.m_t, value.m_size, nullptr);
  }
  static void load(InputArchive& ar, T& value) {
    const std::size_t size = ar.get_count(1);
    if (size != value.m_size)
      ar.fail(SnapshotErrc::record_mismatch, "a binary object of " + std::to_string(size) +
                                                 " bytes is read into one of " + std::to_string(value.m_size));
    const unsigned char* bytes = ar.get_bytes(size);
    if (size) std::memcpy(const_cast<void*>(value.m_t), bytes, size);  // m_t may be null when empty
  }
};

// ---- wrappers of other values ------------------------------------------------------------------------

template <class T>
struct Codec<T, Family::pair> {
  static void save(OutputArchive& ar, const T& value) {
    save_value(ar, value.first);
    save_value(ar, value.second);
  }
  static void load(InputArchive& ar, T& value) {
    load_value(ar, value.first);
    load_value(ar, value.second);
  }
};

template <class T>
struct Codec<T, Family::tuple> {
  static void save(OutputArchive& ar, const T& value) {
    std::apply([&](const auto&... element) { (save_value(ar, element), ...); }, value);
  }
  static void load(InputArchive& ar, T& value) {
    std::apply([&](auto&... element) { (load_value(ar, element), ...); }, value);
  }
};

template <class T>
struct Codec<T, Family::optional> {
  static void save(OutputArchive& ar, const T& value) {
    save_value(ar, value.has_value());
    if (value) save_value(ar, *value);
  }
  static void load(InputArchive& ar, T& value) {
    bool present = false;
    load_value(ar, present);
    if (!present) return value.reset();
    value.emplace();
    load_value(ar, *value);
  }
};

/// A unique_ptr of a value type, saved as present-or-not and the value. A polymorphic one that
/// holds a more derived object is refused: only its declared part would come back.
template <class T>
struct Codec<T, Family::unique_ptr> {
  using E = typename T::element_type;
  static_assert(!std::is_base_of_v<Object, E>,
                "managed objects are owned by the heap: hold them with Member, not unique_ptr");
  static_assert(!std::is_abstract_v<E>,
                "a std::unique_ptr to an abstract class cannot be loaded: snapheap saves value types "
                "by value, not polymorphic pointers (make the object managed and hold it with a Member)");
  static void save(OutputArchive& ar, const T& value) {
    if constexpr (std::is_polymorphic_v<E>) {
      if (value && typeid(*value) != typeid(E)) throw_sliced_pointer(typeid(E), typeid(*value));
    }
    save_value(ar, value != nullptr);
    if (value) save_value(ar, *value);
  }
  static void load(InputArchive& ar, T& value) {
    bool present = false;
    load_value(ar, present);
    if (!present) return value.reset();
    auto element = std::make_unique<E>();
    load_value(ar, *element);
    value = std::move(element);
  }
};

template <class T>
struct Codec<T, Family::variant> {
  static void save(OutputArchive& ar, const T& value) {
    ar.put_varint(value.index());
    std::visit([&](const auto& alternative) { save_value(ar, alternative); }, value);
  }
  static void load(InputArchive& ar, T& value) { load_alternative(ar, value, static_cast<std::size_t>(ar.get_varint())); }

 private:
  template <std::size_t I = 0>
  static void load_alternative(InputArchive& ar, T& value, std::size_t index) {
    if constexpr (I < std::variant_size_v<T>) {
      if (index != I) return load_alternative<I + 1>(ar, value, index);
      std::variant_alternative_t<I, T> alternative{};
      load_value(ar, alternative);
      value.template emplace<I>(std::move(alternative));
    } else {
      ar.fail(SnapshotErrc::record_mismatch,
              "variant alternative " + std::to_string(index) + " does not exist in this program's type");
    }
  }
};

// ---- containers ---------------------------------------------------------------------------------------

/// std::deque and std::list.
template <class T>
struct Codec<T, Family::sequence> {
  static void save(OutputArchive& ar, const T& value) { Elements::save(ar, value, value.size()); }
  static void load(InputArchive& ar, T& value) { Elements::load_back(ar, value, ar.get_count(0)); }
};

/// The ordered and unordered maps and sets, multi or not: elements in iteration order.
template <class T>
struct Codec<T, Family::associative> {
  static void save(OutputArchive& ar, const T& value) { Elements::save(ar, value, value.size()); }
  static void load(InputArchive& ar, T& value) {
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
};

// ---- the dispatch -------------------------------------------------------------------------------------

template <class T>
void save_value(OutputArchive& ar, const T& value) {
  Codec<std::remove_cv_t<T>>::save(ar, value);
}

template <class T>
void load_value(InputArchive& ar, T& value) {
  using U = std::remove_const_t<T>;
  static_assert(!std::is_const_v<T> || is_load_wrapper_v<U>, "cannot load into a const field");
  Codec<U>::load(ar, const_cast<U&>(value));
}

}  // namespace snapheap::detail
