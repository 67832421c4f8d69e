// Type traits the snapshot codecs dispatch on (snapheap/detail/codecs.hpp). Not API.
#pragma once

#include <array>
#include <boost/core/nvp.hpp>
#include <boost/serialization/array_wrapper.hpp>
#include <boost/serialization/binary_object.hpp>
#include <boost/serialization/is_bitwise_serializable.hpp>
#include <complex>
#include <cstddef>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include "snapheap/detail/wire.hpp"
#include "snapheap/handles.hpp"

namespace snapheap {
template <class T>
class Vector;
}  // namespace snapheap

namespace snapheap::detail {

using wire::int128;
using wire::uint128;
template <class T>
inline constexpr bool is_int128_v = std::is_same_v<T, int128> || std::is_same_v<T, uint128>;

/// `ar & snapheap::base<Base>(*this)` yields one: the base part of an object.
template <class B>
struct BaseRef {
  B& base;
};

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
struct is_std_vector<Vector<T>> : std::true_type {};  // a std::vector with the heap's allocator
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
struct is_ephemeron : std::false_type {};
template <class K, class V>
struct is_ephemeron<Ephemeron<K, V>> : std::true_type {};
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

}  // namespace snapheap::detail
