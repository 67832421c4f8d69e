// Helpers for the tests ported from the cereal and Boost.Serialization suites and for the
// property test: a save-and-load round trip through a ByteBuffer, comparison that is bitwise for
// floating point (and says where two values first differ), deterministic value patterns, and
// 128-bit integer types that -Wpedantic accepts.
#pragma once

#include <catch2/catch.hpp>

#include <snapheap/snapheap.hpp>

#include <bit>
#include <bitset>
#include <complex>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace snapheap_port {

__extension__ typedef __int128 int128;
__extension__ typedef unsigned __int128 uint128;

/// The two 64-bit halves of a 128-bit integer (high, low): printable by Catch.
inline std::pair<std::uint64_t, std::uint64_t> halves(uint128 v) {
  return {static_cast<std::uint64_t>(v >> 64), static_cast<std::uint64_t>(v)};
}
inline std::pair<std::uint64_t, std::uint64_t> halves(int128 v) { return halves(static_cast<uint128>(v)); }

/// Saves every named root of `source` to a buffer and loads it into `target`; returns the root
/// `name` of `target` (empty if the load did not restore it).
template <class T>
snapheap::Strong<T> round_trip(snapheap::Heap& source, snapheap::Heap& target, const std::string& name = "root") {
  snapheap::ByteBuffer bytes;
  snapheap::save(source, bytes);
  snapheap::load(target, bytes);
  return target.template root<T>(name);
}

inline std::uint32_t bits(float f) noexcept { return std::bit_cast<std::uint32_t>(f); }
inline std::uint64_t bits(double d) noexcept { return std::bit_cast<std::uint64_t>(d); }

/// SplitMix64: a tiny generator whose output depends only on the seed, so that a test can
/// regenerate what it wrote without keeping it.
struct SplitMix {
  std::uint64_t state;
  std::uint64_t next() noexcept {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
};

/// n values of an arithmetic type (bool excluded) with random bits: every bit pattern is
/// possible, NaNs with payloads and denormals included for floating point.
template <class T>
std::vector<T> pattern(std::size_t n, std::uint64_t seed) {
  static_assert(std::is_arithmetic_v<T> && !std::is_same_v<T, bool> && sizeof(T) <= 8);
  SplitMix g{seed};
  std::vector<T> out(n);
  for (auto& v : out) {
    const std::uint64_t r = g.next();
    std::memcpy(&v, &r, sizeof(T));
  }
  return out;
}
/// n random bytes (embedded NULs included) as a string.
inline std::string pattern_string(std::size_t n, std::uint64_t seed) {
  const auto bytes = pattern<unsigned char>(n, seed);
  return std::string(bytes.begin(), bytes.end());
}

// ---- comparison --------------------------------------------------------------------------------

template <class T>
struct is_complex : std::false_type {};
template <class T>
struct is_complex<std::complex<T>> : std::true_type {};
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
concept Range = requires(const T& t) {
  std::begin(t);
  std::end(t);
};
template <class T>
concept Unordered = requires { typename T::hasher; };

/// Equality that compares floating point by its bits (NaN payloads and the sign of zero count),
/// through containers, pairs, tuples, optionals, variants and unique_ptrs.
template <class T>
bool same(const T& a, const T& b) {
  if constexpr (std::is_floating_point_v<T>) {
    return std::memcmp(&a, &b, sizeof(T)) == 0;
  } else if constexpr (is_complex<T>::value) {
    return same(a.real(), b.real()) && same(a.imag(), b.imag());
  } else if constexpr (is_pair<T>::value) {
    return same(a.first, b.first) && same(a.second, b.second);
  } else if constexpr (is_tuple<T>::value) {
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
      return (same(std::get<I>(a), std::get<I>(b)) && ...);
    }(std::make_index_sequence<std::tuple_size_v<T>>{});
  } else if constexpr (is_optional<T>::value) {
    return a.has_value() == b.has_value() && (!a || same(*a, *b));
  } else if constexpr (is_variant<T>::value) {
    if (a.index() != b.index() || a.valueless_by_exception() != b.valueless_by_exception()) return false;
    if (a.valueless_by_exception()) return true;
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
      bool equal = false;
      (void)((a.index() == I ? (equal = same(*std::get_if<I>(&a), *std::get_if<I>(&b)), true) : false) || ...);
      return equal;
    }(std::make_index_sequence<std::variant_size_v<T>>{});
  } else if constexpr (is_unique_ptr<T>::value) {
    return (a == nullptr) == (b == nullptr) && (!a || same(*a, *b));
  } else if constexpr (Unordered<T> || std::is_same_v<T, std::string> || std::is_same_v<T, std::wstring> ||
                       std::is_same_v<T, std::u16string> || std::is_same_v<T, std::u32string>) {
    return a == b;
  } else if constexpr (std::is_array_v<T> || Range<T>) {
    auto ia = std::begin(a), ib = std::begin(b);
    for (; ia != std::end(a) && ib != std::end(b); ++ia, ++ib)
      if (!same(*ia, *ib)) return false;
    return ia == std::end(a) && ib == std::end(b);
  } else {
    return a == b;
  }
}

/// A scalar as text: integers as numbers (128-bit ones as their two halves), floating point as
/// its value and bits.
template <class T>
std::string printable(const T& v) {
  std::ostringstream out;
  if constexpr (std::is_floating_point_v<T>) {
    std::uint64_t raw = 0;
    std::memcpy(&raw, &v, sizeof(T));
    out << Catch::Detail::stringify(v) << " (bits 0x" << std::hex << raw << ")";
  } else if constexpr (sizeof(T) == 16) {
    const auto [high, low] = halves(static_cast<uint128>(v));
    out << "0x" << std::hex << high << ":" << low;
  } else if constexpr (std::is_signed_v<T>) {
    out << static_cast<long long>(v);
  } else {
    out << static_cast<unsigned long long>(v);
  }
  return out.str();
}

/// "" if `got` and `want` are the same (as same() sees it), otherwise where they first differ:
/// short enough for a test log even for arrays of a million elements.
template <class T>
std::string mismatch(const T& got, const T& want) {
  if (same(got, want)) return "";
  std::ostringstream out;
  if constexpr (!Unordered<T> && !std::is_same_v<T, std::string> && (std::is_array_v<T> || Range<T>)) {
    const auto n_got = static_cast<std::size_t>(std::distance(std::begin(got), std::end(got)));
    const auto n_want = static_cast<std::size_t>(std::distance(std::begin(want), std::end(want)));
    if (n_got != n_want) {
      out << "sizes differ: got " << n_got << " elements, want " << n_want;
      return out.str();
    }
    std::size_t i = 0, first = n_got, count = 0;
    auto ib = std::begin(want);
    for (auto ia = std::begin(got); ia != std::end(got); ++ia, ++ib, ++i) {
      if (!same(*ia, *ib)) {
        if (first == n_got) first = i;
        ++count;
      }
    }
    out << count << " of " << n_got << " elements differ, the first at index " << first;
    using E = std::remove_cvref_t<decltype(*std::begin(got))>;
    if constexpr (std::is_arithmetic_v<E>) {
      auto a = std::begin(got);
      auto b = std::begin(want);
      std::advance(a, static_cast<std::ptrdiff_t>(first));
      std::advance(b, static_cast<std::ptrdiff_t>(first));
      out << ": got " << printable(*a) << ", want " << printable(*b);
    }
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (got.size() != want.size()) {
      out << "lengths differ: got " << got.size() << " bytes, want " << want.size();
    } else {
      std::size_t i = 0;
      while (got[i] == want[i]) ++i;
      out << "the strings of " << got.size() << " bytes first differ at byte " << i;
    }
  } else {
    out << "values differ";
  }
  return out.str();
}

/// Calls f(std::integral_constant<std::size_t, I>{}) for I = 0 .. N-1: a loop over the fields of
/// a tuple in which each step may hold its own INFO.
template <std::size_t N, class F>
void for_each_index(F&& f) {
  [&]<std::size_t... I>(std::index_sequence<I...>) { (f(std::integral_constant<std::size_t, I>{}), ...); }(
      std::make_index_sequence<N>{});
}

/// How many bits of two bitsets differ (0: equal), without printing 200,000 bits on failure.
template <std::size_t N>
std::size_t differing_bits(const std::bitset<N>& a, const std::bitset<N>& b) {
  return (a ^ b).count();
}

}  // namespace snapheap_port
