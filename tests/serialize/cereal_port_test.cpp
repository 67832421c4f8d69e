// cereal's unit tests (github.com/USCiLab/cereal, unittests/ at 22a1b36), ported to snapheap
// round trips: the values cereal writes to an archive are the fields of managed objects here,
// saved to a ByteBuffer, loaded into a fresh Heap and compared field by field (floating point
// bit for bit, where cereal uses doctest::Approx). cereal's shared_ptr / weak_ptr graphs become
// Member / Weak graphs of managed objects. Each case names the cereal file it comes from.
//
// Not ported, and why:
// - atomic.cpp, chrono.cpp, forward_list.cpp, priority_queue.cpp, queue.cpp, stack.cpp,
//   valarray.cpp, boost/boost_variant.cpp: snapheap does not support std::atomic, std::chrono
//   types, std::forward_list, the container adaptors, std::valarray or boost::variant.
// - memory.cpp's shared_ptr and memory_cycles.cpp's weak_ptr: snapheap saves no shared_ptr,
//   weak_ptr or raw pointer; their sharing, null pointers and cycles are ported as Members and
//   Weaks between managed objects (memory.cpp, memory_cycles.cpp, defer.cpp below).
// - memory.cpp's std::unique_ptr<const int>: loading into a const element does not compile.
// - load_construct.cpp and MemoryCycleLoadAndConstruct (memory_cycles.cpp): snapheap has no
//   load_and_construct; a registered type is default-constructed before its load (a private
//   default constructor is ported from memory.cpp's test_default_construction).
// - polymorphic.cpp's CEREAL_REGISTER_TYPE, virtual_base_class and shared_ptr<Base> to value
//   types: snapheap does not save a value type through a pointer to its base, and a managed class
//   cannot have snapheap::Object as a virtual base (the library static_casts Object* to the
//   derived type). Ported: base classes of managed types, Member<Base> /
//   Weak<Base> holding managed derived objects, and the refusal of a unique_ptr<Base> that holds
//   a derived value type.
// - pod.cpp's long double: refused at compile time (no portable representation).
// - versioning.cpp's versions of value types (Nested::NestedClass, the Version* structs as plain
//   structs): snapheap versions registered managed types only (a static_assert refuses a
//   BOOST_CLASS_VERSION on a value type); the Version* structs are ported as managed types.
// - portable_binary_archive.cpp, portability_test.cpp: a snapshot records its byte order and is
//   refused on a machine with another one (machine_mismatch, tested elsewhere); the binary_data
//   part is ported to make_binary_object.
// - structs_specialized.cpp (cereal::specialize picks one of several functions),
//   user_data_adapters.cpp (archive adapters), defer.cpp's cereal::defer (snapheap's save does not
//   recurse into edges, so there is nothing to defer: the graph itself is ported),
//   unordered_loads.cpp's loads in another order than the saves, by name (snapheap's archives
//   are positional and store no names, like Boost's binary archives: its NVPs in order are
//   ported), basic_string.cpp's XML whitespace cases, and every XML/JSON/text archive.
//
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <bitset>
#include <boost/serialization/bitset.hpp>
#include <boost/serialization/split_free.hpp>
#include <boost/serialization/split_member.hpp>
#include <complex>
#include <cstdint>
#include <deque>
#include <limits>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <typeinfo>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

#include "serialize/snapshot_types.hpp"
#include "support/port_helpers.hpp"

using namespace snapheap;
using snapheap_port::bits;
using snapheap_port::mismatch;
using snapheap_port::round_trip;

namespace cereal_port_test {

// ---- unittests/common.hpp ----------------------------------------------------------------------

int random_int(std::mt19937_64& gen) {
  return std::uniform_int_distribution<int>(std::numeric_limits<int>::min(), std::numeric_limits<int>::max())(gen);
}
template <class T>
T random_value(std::mt19937_64& gen) {
  if constexpr (std::is_same_v<T, bool>) {
    return (gen() & 1) != 0;
  } else if constexpr (std::is_floating_point_v<T>) {
    return std::uniform_real_distribution<T>(-10000, 10000)(gen);
  } else {
    const std::uint64_t r = gen();
    T v;
    std::memcpy(&v, &r, sizeof(T));
    return v;
  }
}
template <class C>
std::basic_string<C> random_basic_string(std::mt19937_64& gen) {
  std::basic_string<C> s(std::uniform_int_distribution<std::size_t>(3, 30)(gen), C(' '));
  for (C& c : s) c = static_cast<C>(std::uniform_int_distribution<int>('A', 'Z')(gen));
  return s;
}

struct StructBase {
  int x = 0, y = 0;
  StructBase() = default;
  StructBase(int xx, int yy) : x(xx), y(yy) {}
  bool operator==(const StructBase&) const = default;
  bool operator<(const StructBase& o) const { return std::tie(x, y) < std::tie(o.x, o.y); }
};
struct StructInternalSerialize : StructBase {
  using StructBase::StructBase;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & x & y;
  }
};
struct StructInternalSplit : StructBase {
  using StructBase::StructBase;
  template <class Archive>
  void save(Archive& ar, unsigned) const {
    ar << x << y;
  }
  template <class Archive>
  void load(Archive& ar, unsigned) {
    ar >> x >> y;
  }
  BOOST_SERIALIZATION_SPLIT_MEMBER()
};
struct StructExternalSerialize : StructBase {
  using StructBase::StructBase;
};
template <class Archive>
void serialize(Archive& ar, StructExternalSerialize& s, unsigned) {
  ar & s.x & s.y;
}
struct StructExternalSplit : StructBase {
  using StructBase::StructBase;
};
template <class Archive>
void save(Archive& ar, const StructExternalSplit& s, unsigned) {
  ar << s.x << s.y;
}
template <class Archive>
void load(Archive& ar, StructExternalSplit& s, unsigned) {
  ar >> s.x >> s.y;
}
template <class T>
struct StructHash {
  std::size_t operator()(const T& s) const {
    return std::hash<int>()(s.x) ^ (std::hash<int>()(s.y) << 1);
  }
};

template <class T>
T random_struct(std::mt19937_64& gen) {
  return T(random_int(gen), random_int(gen));
}

/// A managed object whose fields are the values one cereal test writes: each is written as a
/// field of its own type (not as a tuple).
template <class... Ts>
struct Fields final : Object {
  std::tuple<Ts...> values;
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    std::apply([&](auto&... v) { ((ar & v), ...); }, values);
  }
};

/// Saves `values` as the fields of one managed object, loads them into a fresh heap and checks
/// every field against what was saved.
template <class F>
void check_round_trip(const decltype(F::values)& values) {
  Heap heap;
  auto saved = heap.make<F>();
  saved->values = values;
  heap.set_root("root", saved);
  Heap restored;
  auto r = round_trip<F>(heap, restored);
  REQUIRE(r);
  snapheap_port::for_each_index<std::tuple_size_v<decltype(F::values)>>([&](auto i) {
    INFO("field " << i.value);
    CHECK(mismatch(std::get<i.value>(r->values), std::get<i.value>(values)) == "");
  });
}

// ---- unittests/pod.cpp -------------------------------------------------------------------------

struct PodValues {
  bool b = false;
  char c = 0;
  signed char sc = 0;
  unsigned char uc = 0;
  wchar_t wc = 0;
  char8_t c8 = 0;
  char16_t c16 = 0;
  char32_t c32 = 0;
  std::int8_t i8 = 0;
  std::uint8_t u8 = 0;
  std::int16_t i16 = 0;
  std::uint16_t u16 = 0;
  std::int32_t i32 = 0;
  std::uint32_t u32 = 0;
  std::int64_t i64 = 0;
  std::uint64_t u64 = 0;
  short s = 0;
  unsigned short us = 0;
  int i = 0;
  unsigned u = 0;
  long l = 0;
  unsigned long ul = 0;
  long long ll = 0;
  unsigned long long ull = 0;
  float f = 0;
  double d = 0;

  static constexpr const char* kNames[] = {"bool",   "char",    "signed char", "unsigned char", "wchar_t",
                                           "char8_t", "char16_t", "char32_t",   "int8_t",        "uint8_t",
                                           "int16_t", "uint16_t", "int32_t",    "uint32_t",      "int64_t",
                                           "uint64_t", "short",  "unsigned short", "int",       "unsigned",
                                           "long",   "unsigned long", "long long", "unsigned long long",
                                           "float",  "double"};
  auto tie() {
    return std::tie(b, c, sc, uc, wc, c8, c16, c32, i8, u8, i16, u16, i32, u32, i64, u64, s, us, i, u, l, ul, ll, ull,
                    f, d);
  }
};
static_assert(std::tuple_size_v<decltype(std::declval<PodValues&>().tie())> == std::size(PodValues::kNames));
/// Every field of PodValues written as a field of the managed object.
struct Pod final : Object {
  PodValues v;
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    std::apply([&](auto&... field) { ((ar & field), ...); }, v.tie());
  }
};

// ---- unittests/pod.cpp: the widest integers ----------------------------------------------------

struct Wide final : Object {
  snapheap_port::int128 s = 0;
  snapheap_port::uint128 u = 0;
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & s & u;
  }
};

// ---- unittests/pod.cpp: floating point, bit for bit --------------------------------------------

constexpr std::uint32_t kFloatBits[] = {
    0x00000000, 0x80000000,              // +0, -0
    0x7f800000, 0xff800000,              // +inf, -inf
    0x7fc00000, 0xffc00000, 0x7fc00001,  // quiet NaNs, one with a payload
    0x7fd5a5a5, 0x7f800001, 0x7fbfffff,  // quiet NaN payload, signalling NaNs (smallest, largest payload)
    0xffa00005,                          // a negative signalling NaN
    0x00000001, 0x007fffff, 0x80000001,  // denormals: smallest, largest, negative
    0x00800000, 0x7f7fffff, 0xff7fffff,  // smallest normal, max, lowest
    0x3f800000, 0x3eaaaaab,              // 1, 1/3
};
constexpr std::uint64_t kDoubleBits[] = {
    0x0000000000000000, 0x8000000000000000,                      // +0, -0
    0x7ff0000000000000, 0xfff0000000000000,                      // +inf, -inf
    0x7ff8000000000000, 0xfff8000000000000, 0x7ff8000000000001,  // quiet NaNs
    0x7ffdeadbeefcafe5, 0x7ff0000000000001, 0x7ff7ffffffffffff,  // quiet payload, signalling NaNs
    0xfff4000000000123,                                          // a negative signalling NaN
    0x0000000000000001, 0x000fffffffffffff, 0x8000000000000001,  // denormals
    0x0010000000000000, 0x7fefffffffffffff, 0xffefffffffffffff,  // smallest normal, max, lowest
    0x3ff0000000000000, 0x3fd5555555555555,                      // 1, 1/3
};
constexpr std::size_t kFloatCount = std::size(kFloatBits);
constexpr std::size_t kDoubleCount = std::size(kDoubleBits);

struct Floats final : Object {
  float f = 0;
  double d = 0;
  std::complex<float> cf;
  std::complex<double> cd;
  float f_array[kFloatCount] = {};
  std::array<double, kDoubleCount> d_array{};
  std::vector<float> f_vector;
  std::vector<double> d_vector;
  std::vector<double> d_bulk;  // past the 4,096-byte block threshold
  std::vector<std::complex<double>> cd_vector;
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & f & d & cf & cd & f_array & d_array & f_vector & d_vector & d_bulk & cd_vector;
  }
};

// ---- unittests/basic_string.cpp ----------------------------------------------------------------

struct StringValues {
  std::string random, empty, defaulted, nuls, every_byte, len_4095, len_4096, len_4097, megabyte;
  std::wstring wide;
  std::u8string u8;
  std::u16string u16;
  std::u32string u32;
  auto tie() {
    return std::tie(random, empty, defaulted, nuls, every_byte, len_4095, len_4096, len_4097, megabyte, wide, u8, u16, u32);
  }
};
struct Strings final : Object {
  StringValues v;
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    std::apply([&](auto&... field) { ((ar & field), ...); }, v.tie());
  }
};

// ---- unittests/array.cpp -----------------------------------------------------------------------

template <std::size_t N>
struct Arrays final : Object {
  std::array<int, N> pod{};
  std::array<StructInternalSerialize, N> iser;
  std::array<StructInternalSplit, N> ispl;
  std::array<StructExternalSerialize, N> eser;
  std::array<StructExternalSplit, N> espl;
  int c_pod[N] = {};
  StructInternalSerialize c_iser[N];
  int c_2d[2][N] = {};
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & pod & iser & ispl & eser & espl & c_pod & c_iser & c_2d;
  }
};
using Arrays1 = Arrays<1>;
using Arrays100 = Arrays<100>;
using Arrays1024 = Arrays<1024>;  // 4,096 bytes of int: the block threshold

// ---- unittests/vector.cpp, deque.cpp, list.cpp -------------------------------------------------

template <template <class...> class C>
using SequenceFields = Fields<C<int>, C<StructInternalSerialize>, C<StructInternalSplit>, C<StructExternalSerialize>,
                              C<StructExternalSplit>, C<int>>;
using VectorFields = Fields<std::vector<int>, std::vector<bool>, std::vector<StructInternalSerialize>,
                            std::vector<StructInternalSplit>, std::vector<StructExternalSerialize>,
                            std::vector<StructExternalSplit>, std::vector<int>, std::vector<int>>;
using DequeFields = SequenceFields<std::deque>;
using ListFields = SequenceFields<std::list>;

template <class Sequence>
Sequence random_sequence(std::size_t n, std::mt19937_64& gen) {
  using E = typename Sequence::value_type;
  Sequence out;
  for (std::size_t i = 0; i < n; ++i) {
    if constexpr (std::is_same_v<E, int>) out.push_back(random_int(gen));
    else if constexpr (std::is_same_v<E, bool>) out.push_back(random_value<bool>(gen));
    else out.push_back(random_struct<E>(gen));
  }
  return out;
}

// ---- unittests/map.cpp, multimap.cpp, set.cpp, multiset.cpp and the unordered ones -------------

using MapFields = Fields<std::map<std::size_t, std::vector<StructInternalSerialize>>, std::map<std::string, int>,
                         std::map<int, StructInternalSerialize>, std::map<int, StructInternalSplit>,
                         std::map<std::uint32_t, StructExternalSerialize>, std::map<std::int8_t, StructExternalSplit>>;
using MultimapFields = Fields<std::multimap<std::string, int>, std::multimap<std::uint8_t, StructInternalSerialize>,
                              std::multimap<int, StructInternalSplit>,
                              std::multimap<std::uint32_t, StructExternalSerialize>,
                              std::multimap<std::int8_t, StructExternalSplit>>;
using SetFields = Fields<std::set<int>, std::set<StructInternalSerialize>, std::set<StructInternalSplit>,
                         std::set<StructExternalSerialize>, std::set<StructExternalSplit>>;
using MultisetFields = Fields<std::multiset<int>, std::multiset<StructInternalSerialize>,
                              std::multiset<StructInternalSplit>, std::multiset<StructExternalSerialize>,
                              std::multiset<StructExternalSplit>>;
using UnorderedMapFields =
    Fields<std::unordered_map<std::string, int>, std::unordered_map<int, StructInternalSerialize>,
           std::unordered_map<int, StructInternalSplit>, std::unordered_map<std::uint32_t, StructExternalSerialize>,
           std::unordered_map<std::int8_t, StructExternalSplit>>;
using UnorderedMultimapFields =
    Fields<std::unordered_multimap<std::string, int>, std::unordered_multimap<std::uint8_t, StructInternalSerialize>,
           std::unordered_multimap<int, StructInternalSplit>,
           std::unordered_multimap<std::uint32_t, StructExternalSerialize>,
           std::unordered_multimap<std::int8_t, StructExternalSplit>>;
using UnorderedSetFields =
    Fields<std::unordered_set<int>, std::unordered_set<StructInternalSerialize, StructHash<StructInternalSerialize>>,
           std::unordered_set<StructInternalSplit, StructHash<StructInternalSplit>>,
           std::unordered_set<StructExternalSerialize, StructHash<StructExternalSerialize>>,
           std::unordered_set<StructExternalSplit, StructHash<StructExternalSplit>>>;
using UnorderedMultisetFields =
    Fields<std::unordered_multiset<int>,
           std::unordered_multiset<StructInternalSerialize, StructHash<StructInternalSerialize>>,
           std::unordered_multiset<StructInternalSplit, StructHash<StructInternalSplit>>,
           std::unordered_multiset<StructExternalSerialize, StructHash<StructExternalSerialize>>,
           std::unordered_multiset<StructExternalSplit, StructHash<StructExternalSplit>>>;

/// A random key of type K (a small range for 1-byte keys, so that multimaps repeat keys).
template <class K>
K random_key(std::mt19937_64& gen) {
  if constexpr (std::is_same_v<K, std::string>) return random_basic_string<char>(gen);
  else if constexpr (std::is_same_v<K, int>) return random_int(gen);
  else if constexpr (std::is_class_v<K>) return random_struct<K>(gen);
  else return random_value<K>(gen);
}
/// Fills every field of an associative Fields object with 100 random elements.
template <class Tuple>
void fill_associative(Tuple& values, std::mt19937_64& gen) {
  std::apply(
      [&](auto&... container) {
        (
            [&](auto& c) {
              using C = std::remove_reference_t<decltype(c)>;
              for (int j = 0; j < 100; ++j) {
                if constexpr (requires { typename C::mapped_type; }) {
                  using V = typename C::mapped_type;
                  if constexpr (std::is_same_v<V, std::vector<StructInternalSerialize>>)
                    c.insert({random_key<typename C::key_type>(gen), random_sequence<V>(10, gen)});
                  else
                    c.insert({random_key<typename C::key_type>(gen), random_key<V>(gen)});
                } else {
                  c.insert(random_key<typename C::key_type>(gen));
                }
              }
            }(container),
            ...);
      },
      values);
}

// ---- unittests/pod.cpp (narrow and wide), structs.cpp, pair.cpp, tuple.cpp, complex.cpp, cpp17/ --

using NarrowInts = Fields<std::int8_t, std::uint8_t, std::int16_t, std::uint16_t, std::int32_t>;
using WideInts = Fields<std::int64_t, std::uint64_t, long, unsigned long, long long>;
using StructFields = Fields<StructInternalSerialize, StructInternalSplit, StructExternalSerialize, StructExternalSplit>;
using PairTupleFields =
    Fields<std::pair<int, int>, std::pair<StructInternalSerialize, StructInternalSplit>,
           std::pair<StructExternalSerialize, StructExternalSplit>, std::tuple<int, int, int, int>,
           std::tuple<int, int, int, int, int, int, int, int, int, int, int>,
           std::tuple<StructInternalSerialize, StructInternalSplit, StructExternalSerialize, StructExternalSplit>,
           std::tuple<>, std::tuple<std::string, double, std::vector<int>>>;
using ComplexFields = Fields<std::complex<float>, std::complex<double>, std::vector<std::complex<float>>>;
using OptionalVariantFields =
    Fields<std::optional<int>, std::optional<double>, std::optional<std::string>, std::optional<int>,
           std::optional<double>, std::optional<std::string>, std::optional<std::optional<long>>,
           std::optional<std::optional<long>>, std::variant<int, double, std::string>,
           std::variant<int, double, std::string>, std::variant<int, double, std::string>,
           std::variant<StructInternalSerialize, StructExternalSplit>, std::variant<int, int>>;

// ---- unittests/memory.cpp ----------------------------------------------------------------------

struct IntBox final : Object {
  int value = 0;
  IntBox() = default;
  explicit IntBox(int v) : value(v) {}
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & value;
  }
};
/// cereal's shared_ptrs x1 = x2 = x3 (one object), y1 = y2, two null ones; and unique_ptrs.
struct Pointers final : Object {
  Member<IntBox> x1, x2, x3, y1, y2, null1, null2;
  std::unique_ptr<int> z1, null3;
  std::map<int, std::unique_ptr<int>> unique_map;  // map.cpp's test_map_memory
  void trace(Tracer& t) const override {
    t.trace(x1);
    t.trace(x2);
    t.trace(x3);
    t.trace(y1);
    t.trace(y2);
    t.trace(null1);
    t.trace(null2);
  }
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & x1 & x2 & x3 & y1 & y2 & null1 & null2 & z1 & null3 & unique_map;
  }
};
/// memory.cpp's TestClass: a private default constructor, reached through the access class.
class PrivatelyBuilt final : public Object {
 public:
  explicit PrivatelyBuilt(int v) : x(v) {}
  int x = 0;
  void trace(Tracer&) const override {}

 private:
  friend class boost::serialization::access;  // serialize() is private
  friend class snapheap::access;              // and so is the default constructor
  PrivatelyBuilt() = default;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & x;
  }
};

// ---- unittests/memory_cycles.cpp ---------------------------------------------------------------

struct MemoryCycle final : Object {
  int value = 0;
  Weak<MemoryCycle> ptr;  // cereal's weak_ptr to itself
  Member<MemoryCycle> strong;
  void trace(Tracer& t) const override {
    t.trace(ptr);
    t.trace(strong);
  }
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & value & ptr & strong;
  }
};

// ---- unittests/defer.cpp -----------------------------------------------------------------------

struct DeferNode;
struct DeferRelation {
  Member<DeferNode> node;
  int x = 0;
  std::string y;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & node & x & y;
  }
};
struct DeferNode final : Object {
  std::size_t id = 0;
  long w = 0;
  StructInternalSerialize iser;
  StructInternalSplit ispl;
  StructExternalSerialize eser;
  StructExternalSplit espl;
  std::vector<DeferRelation> relations;
  char z = 0;
  void trace(Tracer& t) const override {
    for (const auto& r : relations) t.trace(r.node);
  }
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & id & w & iser & ispl & eser & espl & relations & z;
  }
};
struct DeferGraph final : Object {
  std::vector<Member<DeferNode>> nodes0, nodes1;
  void trace(Tracer& t) const override {
    t.trace(nodes0);
    t.trace(nodes1);
  }
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & nodes0 & nodes1;
  }
};
struct ChainLink final : Object {
  std::uint32_t index = 0;
  Member<ChainLink> next;
  void trace(Tracer& t) const override { t.trace(next); }
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & index & next;
  }
};

// ---- unittests/polymorphic.cpp -----------------------------------------------------------------

/// A managed class hierarchy: cereal's base_class<Base>(this) is snapheap::base<Base>(*this).
struct PolyBase : Object {
  int x = 0;
  std::string name;
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & x & name;
  }
};
struct PolyDerived : PolyBase {
  double y = 0;
  Weak<PolyBase> sibling;
  void trace(Tracer& t) const override {
    PolyBase::trace(t);
    t.trace(sibling);
  }
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & snapheap::base<PolyBase>(*this) & y & sibling;
  }
};
struct PolyDerivedD final : PolyDerived {
  std::vector<int> extra;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & snapheap::base<PolyDerived>(*this) & extra;
  }
};
struct PolyHolder final : Object {
  Member<PolyBase> one;
  std::vector<Member<PolyBase>> many;
  Weak<PolyBase> weak;
  void trace(Tracer& t) const override {
    t.trace(one);
    t.trace(many);
    t.trace(weak);
  }
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & one & many & weak;
  }
};

/// A polymorphic value type and a type derived from it, held by a unique_ptr to the base.
struct ValueBase {
  virtual ~ValueBase() = default;
  int base_value = 0;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & base_value;
  }
};
struct ValueDerived final : ValueBase {
  int derived_value = 0;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & static_cast<ValueBase&>(*this) & derived_value;
  }
};
struct OwnsValueBase final : Object {
  std::unique_ptr<ValueBase> owned;
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & owned;
  }
};

// ---- unittests/versioning.cpp ------------------------------------------------------------------

/// Each records the version its serialize (or load) was handed.
class VersionStructMS final : public Object {
 public:
  bool x = false;
  std::uint32_t v = 99;
  void trace(Tracer&) const override {}

 private:
  friend class boost::serialization::access;
  template <class Archive>
  void serialize(Archive& ar, unsigned version) {
    ar & x;
    v = version;
  }
};
struct VersionStructMSP final : Object {
  std::uint8_t x = 0;
  std::uint32_t v = 0;
  void trace(Tracer&) const override {}
  template <class Archive>
  void save(Archive& ar, unsigned) const {
    ar & x;
  }
  template <class Archive>
  void load(Archive& ar, unsigned version) {
    ar & x;
    v = version;
  }
  BOOST_SERIALIZATION_SPLIT_MEMBER()
};
/// A later build of VersionStructMSP: version 34, which reads what 33 wrote.
struct VersionStructMSPNext final : Object {
  std::uint8_t x = 0;
  std::string added = "default";
  std::uint32_t v = 0;
  void trace(Tracer&) const override {}
  template <class Archive>
  void save(Archive& ar, unsigned) const {
    ar & x & added;
  }
  template <class Archive>
  void load(Archive& ar, unsigned version) {
    ar & x;
    if (version >= 34) ar & added;
    v = version;
  }
  BOOST_SERIALIZATION_SPLIT_MEMBER()
};
struct VersionStructNMS final : Object {
  std::int32_t x = 0;
  std::uint32_t v = 0;
  void trace(Tracer&) const override {}
};
template <class Archive>
void serialize(Archive& ar, VersionStructNMS& o, unsigned version) {
  ar & o.x;
  o.v = version;
}
struct VersionStructNMSP final : Object {
  double x = 0;
  std::uint32_t v = 0;
  void trace(Tracer&) const override {}
};
template <class Archive>
void save(Archive& ar, const VersionStructNMSP& o, unsigned) {
  ar & o.x;
}
template <class Archive>
void load(Archive& ar, VersionStructNMSP& o, unsigned version) {
  ar & o.x;
  o.v = version;
}
struct Versions final : Object {
  Member<VersionStructMS> ms, ms2;
  Member<VersionStructMSP> msp, msp2;
  Member<VersionStructNMS> nms, nms2;
  Member<VersionStructNMSP> nmsp, nmsp2;
  void trace(Tracer& t) const override {
    t.trace(ms);
    t.trace(ms2);
    t.trace(msp);
    t.trace(msp2);
    t.trace(nms);
    t.trace(nms2);
    t.trace(nmsp);
    t.trace(nmsp2);
  }
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & ms & msp & nms & nmsp & ms2 & msp2 & nms2 & nmsp2;
  }
};

// ---- unittests/structs_minimal.cpp -------------------------------------------------------------

/// save_minimal returns a value computed while saving; here each split save() writes a copy it
/// makes on the spot.
class MemberMinimal {
 public:
  MemberMinimal() = default;
  explicit MemberMinimal(std::string s) : x(std::move(s)) {}
  std::string x;

 private:
  friend class boost::serialization::access;
  template <class Archive>
  void save(Archive& ar, unsigned) const {
    const std::string copy = x;
    ar & copy;
  }
  template <class Archive>
  void load(Archive& ar, unsigned) {
    ar & x;
  }
  BOOST_SERIALIZATION_SPLIT_MEMBER()
};
struct MemberMinimalVersioned {
  double x = 0;
  template <class Archive>
  void save(Archive& ar, unsigned) const {
    ar & double(x);  // a temporary
  }
  template <class Archive>
  void load(Archive& ar, unsigned) {
    ar & x;
  }
  BOOST_SERIALIZATION_SPLIT_MEMBER()
};
struct NonMemberMinimal {
  std::uint32_t x = 0;
};
template <class Archive>
void save(Archive& ar, const NonMemberMinimal& m, unsigned) {
  const std::uint32_t copy = m.x;
  ar & copy;
}
template <class Archive>
void load(Archive& ar, NonMemberMinimal& m, unsigned) {
  ar & m.x;
}
struct NonMemberMinimalVersioned {
  bool x = false;
};
template <class Archive>
void save(Archive& ar, const NonMemberMinimalVersioned& m, unsigned) {
  ar & bool(m.x);
}
template <class Archive>
void load(Archive& ar, NonMemberMinimalVersioned& m, unsigned) {
  ar & m.x;
}
struct MinimalStruct final : Object {
  MemberMinimal mm;
  MemberMinimalVersioned mmv;
  NonMemberMinimal nmm;
  NonMemberMinimalVersioned nmmv;
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & mm & mmv;
    ar & nmm & nmmv;
  }
};

/// A split save() that computes its data into locals: a std::vector<int>, a std::string and a
/// raw buffer written with make_binary_object, each `bytes` long (the vector rounds down to whole
/// ints), all of them derived from `seed`.
struct SavesLocals final : Object {
  std::uint32_t bytes = 0;
  std::uint64_t seed = 0;
  std::vector<int> ints;  // what load() read
  std::string text;
  std::vector<unsigned char> blob;
  void trace(Tracer&) const override {}
  template <class Archive>
  void save(Archive& ar, unsigned) const {
    ar & bytes & seed;
    const std::vector<int> local_ints = snapheap_port::pattern<int>(bytes / sizeof(int), seed);
    ar & local_ints;
    const std::string local_text = snapheap_port::pattern_string(bytes, seed + 1);
    ar & local_text;
    const std::vector<unsigned char> buffer = snapheap_port::pattern<unsigned char>(bytes, seed + 2);
    ar & boost::serialization::make_binary_object(buffer.data(), buffer.size());
  }
  template <class Archive>
  void load(Archive& ar, unsigned) {
    ar & bytes & seed;
    ar & ints & text;
    blob.resize(bytes);
    ar & boost::serialization::make_binary_object(blob.data(), blob.size());
  }
  BOOST_SERIALIZATION_SPLIT_MEMBER()
};
/// A split save() that writes a local std::vector<std::int64_t> of 100,000 elements (800,000 bytes).
struct SavesLocalInt64s final : Object {
  std::uint64_t seed = 0;
  std::vector<std::int64_t> values;
  void trace(Tracer&) const override {}
  template <class Archive>
  void save(Archive& ar, unsigned) const {
    ar & seed;
    const std::vector<std::int64_t> local = snapheap_port::pattern<std::int64_t>(100000, seed);
    ar & local;
  }
  template <class Archive>
  void load(Archive& ar, unsigned) {
    ar & seed & values;
  }
  BOOST_SERIALIZATION_SPLIT_MEMBER()
};
/// A serialize() that writes temporaries when saving: `ar & std::vector<int>(count, 7)`, then one
/// of the same size holding -1.
struct SavesTemporaries final : Object {
  std::uint32_t count = 0;
  std::vector<int> sevens, minus_ones;  // what load() read
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & count;
    if constexpr (Archive::is_saving::value) {
      ar & std::vector<int>(count, 7);
      ar & std::vector<int>(count, -1);
    } else {
      ar & sevens & minus_ones;
    }
  }
};

// ---- unittests/bitset.cpp ----------------------------------------------------------------------

struct Bitsets final : Object {
  std::bitset<32> b32;
  std::bitset<65> b65;
  std::bitset<256> b256;
  std::bitset<512> b512;
  std::bitset<32> b32_low;
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & b32 & b65 & b256 & b512 & b32_low;
  }
};
/// boost/serialization/bitset.hpp saves a bitset as a local std::string of its N characters.
struct BigBitsets final : Object {
  std::bitset<4096> b4096;
  std::bitset<200000> b200000;
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & b4096 & b200000;
  }
};
template <std::size_t N>
std::bitset<N> random_bitset(std::mt19937_64& gen) {
  std::string s(N, '0');
  for (char& c : s) c = (gen() & 1) ? '1' : '0';
  return std::bitset<N>(s);
}

// ---- unittests/portable_binary_archive.cpp (its binary_data) ------------------------------------

struct BinaryData final : Object {
  std::vector<std::int32_t> small{std::vector<std::int32_t>(10)};
  std::vector<std::int32_t> large{std::vector<std::int32_t>(5000)};  // 20,000 bytes
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & boost::serialization::make_binary_object(small.data(), small.size() * sizeof(std::int32_t));
    ar & boost::serialization::make_binary_object(large.data(), large.size() * sizeof(std::int32_t));
  }
};

// ---- unittests/unordered_loads.cpp -------------------------------------------------------------

struct UnorderedNaming {
  int x = 0, xx = 0, y = 0, z = 0;
  template <class Archive>
  void save(Archive& ar, unsigned) const {
    ar << BOOST_SERIALIZATION_NVP(x) << BOOST_SERIALIZATION_NVP(z) << BOOST_SERIALIZATION_NVP(y)
       << BOOST_SERIALIZATION_NVP(xx);
  }
  template <class Archive>
  void load(Archive& ar, unsigned) {
    ar >> BOOST_SERIALIZATION_NVP(x) >> BOOST_SERIALIZATION_NVP(z) >> BOOST_SERIALIZATION_NVP(y) >>
        BOOST_SERIALIZATION_NVP(xx);
  }
  BOOST_SERIALIZATION_SPLIT_MEMBER()
  bool operator==(const UnorderedNaming&) const = default;
};
struct NamedValues final : Object {
  std::array<std::string, 7> names;  // cereal's runtime names
  int int1 = 0;
  double double2 = 0;
  std::vector<bool> vecbool3;
  int int4 = 0, int5 = 0, int6 = 0;
  std::pair<float, UnorderedNaming> un7;
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & names;
    ar & boost::serialization::make_nvp(names[0].c_str(), int1) & boost::serialization::make_nvp(names[1].c_str(), double2)
       & boost::serialization::make_nvp(names[2].c_str(), vecbool3) & boost::serialization::make_nvp(names[3].c_str(), int4)
       & boost::serialization::make_nvp(names[4].c_str(), int5) & boost::serialization::make_nvp(names[5].c_str(), int6)
       & boost::serialization::make_nvp(names[6].c_str(), un7);
  }
};

}  // namespace cereal_port_test

BOOST_SERIALIZATION_SPLIT_FREE(cereal_port_test::StructExternalSplit)
BOOST_SERIALIZATION_SPLIT_FREE(cereal_port_test::VersionStructNMSP)
BOOST_SERIALIZATION_SPLIT_FREE(cereal_port_test::NonMemberMinimal)
BOOST_SERIALIZATION_SPLIT_FREE(cereal_port_test::NonMemberMinimalVersioned)

BOOST_CLASS_VERSION(cereal_port_test::VersionStructMSP, 33)
BOOST_CLASS_VERSION(cereal_port_test::VersionStructMSPNext, 34)
BOOST_CLASS_VERSION(cereal_port_test::VersionStructNMS, 66)
BOOST_CLASS_VERSION(cereal_port_test::VersionStructNMSP, 99)

SNAPHEAP_REGISTER(cereal_port_test::Pod);
SNAPHEAP_REGISTER(cereal_port_test::Wide);
SNAPHEAP_REGISTER(cereal_port_test::Floats);
SNAPHEAP_REGISTER(cereal_port_test::Strings);
SNAPHEAP_REGISTER(cereal_port_test::Arrays1);
SNAPHEAP_REGISTER(cereal_port_test::Arrays100);
SNAPHEAP_REGISTER(cereal_port_test::Arrays1024);
SNAPHEAP_REGISTER(cereal_port_test::VectorFields);
SNAPHEAP_REGISTER(cereal_port_test::DequeFields);
SNAPHEAP_REGISTER(cereal_port_test::ListFields);
SNAPHEAP_REGISTER(cereal_port_test::MapFields);
SNAPHEAP_REGISTER(cereal_port_test::MultimapFields);
SNAPHEAP_REGISTER(cereal_port_test::SetFields);
SNAPHEAP_REGISTER(cereal_port_test::MultisetFields);
SNAPHEAP_REGISTER(cereal_port_test::UnorderedMapFields);
SNAPHEAP_REGISTER(cereal_port_test::UnorderedMultimapFields);
SNAPHEAP_REGISTER(cereal_port_test::UnorderedSetFields);
SNAPHEAP_REGISTER(cereal_port_test::UnorderedMultisetFields);
// The narrow and the wide program's types, under names of the same length.
SNAPHEAP_REGISTER_AS(cereal_port_test::NarrowInts, "cereal.Ints.A");
SNAPHEAP_REGISTER_AS(cereal_port_test::WideInts, "cereal.Ints.B");
SNAPHEAP_REGISTER(cereal_port_test::StructFields);
SNAPHEAP_REGISTER(cereal_port_test::PairTupleFields);
SNAPHEAP_REGISTER(cereal_port_test::ComplexFields);
SNAPHEAP_REGISTER(cereal_port_test::OptionalVariantFields);
SNAPHEAP_REGISTER(cereal_port_test::IntBox);
SNAPHEAP_REGISTER(cereal_port_test::Pointers);
SNAPHEAP_REGISTER(cereal_port_test::PrivatelyBuilt);
SNAPHEAP_REGISTER(cereal_port_test::MemoryCycle);
SNAPHEAP_REGISTER(cereal_port_test::DeferNode);
SNAPHEAP_REGISTER(cereal_port_test::DeferGraph);
SNAPHEAP_REGISTER(cereal_port_test::ChainLink);
SNAPHEAP_REGISTER(cereal_port_test::PolyDerived);
SNAPHEAP_REGISTER(cereal_port_test::PolyDerivedD);
SNAPHEAP_REGISTER(cereal_port_test::PolyHolder);
SNAPHEAP_REGISTER(cereal_port_test::OwnsValueBase);
SNAPHEAP_REGISTER(cereal_port_test::VersionStructMS);
// The two builds of VersionStructMSP, under names of the same length so that a test can rename
// the type in a snapshot of the older one.
SNAPHEAP_REGISTER_AS(cereal_port_test::VersionStructMSP, "cereal.VersionMSP.A");
SNAPHEAP_REGISTER_AS(cereal_port_test::VersionStructMSPNext, "cereal.VersionMSP.B");
SNAPHEAP_REGISTER(cereal_port_test::VersionStructNMS);
SNAPHEAP_REGISTER(cereal_port_test::VersionStructNMSP);
SNAPHEAP_REGISTER(cereal_port_test::Versions);
SNAPHEAP_REGISTER(cereal_port_test::MinimalStruct);
SNAPHEAP_REGISTER(cereal_port_test::SavesLocals);
SNAPHEAP_REGISTER(cereal_port_test::SavesLocalInt64s);
SNAPHEAP_REGISTER(cereal_port_test::SavesTemporaries);
SNAPHEAP_REGISTER(cereal_port_test::Bitsets);
SNAPHEAP_REGISTER(cereal_port_test::BigBitsets);
SNAPHEAP_REGISTER(cereal_port_test::BinaryData);
SNAPHEAP_REGISTER(cereal_port_test::NamedValues);

using namespace cereal_port_test;

namespace {

/// Makes one object of type T in a heap, lets `fill` set it, saves the heap and loads it into
/// `restored`; returns the loaded object.
template <class T, class Fill>
Strong<T> saved_and_loaded(Heap& restored, Fill&& fill) {
  Heap heap;
  auto saved = heap.make<T>();
  fill(*saved);
  heap.set_root("root", saved);
  auto r = round_trip<T>(heap, restored);
  REQUIRE(r);
  return r;
}

}  // namespace

// cereal unittests/pod.cpp (test_pod)
TEST_CASE("cereal pod: every integer and character type round-trips at its limits and at random values",
          "[serialize][port]") {
  std::mt19937_64 gen(20240611);
  for (int round = 0; round < 103; ++round) {
    // Round 0: every field at its lowest value, 1: at its highest, 2: zero, then random values.
    Heap restored;
    PodValues want;
    std::apply(
        [&](auto&... field) {
          (
              [&](auto& v) {
                using T = std::remove_reference_t<decltype(v)>;
                if (round == 0) v = std::numeric_limits<T>::lowest();
                else if (round == 1) v = std::numeric_limits<T>::max();
                else if (round == 2) v = T{};
                else v = random_value<T>(gen);
              }(field),
              ...);
        },
        want.tie());
    auto r = saved_and_loaded<Pod>(restored, [&](Pod& p) { p.v = want; });
    INFO("round " << round);
    snapheap_port::for_each_index<std::size(PodValues::kNames)>([&](auto i) {
      INFO("field " << PodValues::kNames[i.value]);
      CHECK(snapheap_port::same(std::get<i.value>(r->v.tie()), std::get<i.value>(want.tie())));
    });
  }
}

// cereal unittests/pod.cpp (test_pod_serialization): the same value written from a narrow and
// from a wide integer type gives the same bytes, so the records of a narrow field load into a
// wide one (two programs, see version_test.cpp); a value too wide for the field it is loaded into
// is refused.
TEST_CASE("cereal pod: an integer saved from a narrow type is the same bytes as from a wide one", "[serialize][port]") {
  std::mt19937_64 gen(7);
  for (int i = 0; i < 100; ++i) {
    INFO("iteration " << i);
    Heap narrow_program, wide_program;
    auto a = narrow_program.make<NarrowInts>();
    auto b = wide_program.make<WideInts>();
    a->values = {random_value<std::int8_t>(gen), random_value<std::uint8_t>(gen), random_value<std::int16_t>(gen),
                 random_value<std::uint16_t>(gen), random_value<std::int32_t>(gen)};
    b->values = {std::get<0>(a->values), std::get<1>(a->values), std::get<2>(a->values), std::get<3>(a->values),
                 std::get<4>(a->values)};
    narrow_program.set_root("root", a);
    wide_program.set_root("root", b);
    ByteBuffer narrow_bytes, wide_bytes;
    save(narrow_program, narrow_bytes);
    save(wide_program, wide_bytes);
    auto renamed = snapheap_stest::to_vector(narrow_bytes);
    snapheap_stest::replace_bytes(renamed, "cereal.Ints.A", "cereal.Ints.B");
    renamed = snapheap_stest::reseal(std::move(renamed));
    CHECK((renamed == snapheap_stest::to_vector(wide_bytes)));
    Heap loaded_program;
    load(loaded_program, std::span<const std::byte>(renamed));
    auto r = loaded_program.root<WideInts>("root");
    REQUIRE(r);
    CHECK(r->values == b->values);
  }
  // 128 does not fit the int8_t field the wide program's first field is loaded into.
  Heap wide_program;
  auto b = wide_program.make<WideInts>();
  b->values = {128, 1, 2, 3, 4};
  wide_program.set_root("root", b);
  ByteBuffer bytes;
  save(wide_program, bytes);
  auto renamed = snapheap_stest::to_vector(bytes);
  snapheap_stest::replace_bytes(renamed, "cereal.Ints.B", "cereal.Ints.A");
  renamed = snapheap_stest::reseal(std::move(renamed));
  Heap narrow_program;
  try {
    load(narrow_program, std::span<const std::byte>(renamed));
    FAIL("load did not throw");
  } catch (const SnapshotError& e) {
    CHECK(e.code() == SnapshotErrc::record_mismatch);
  }
  CHECK(narrow_program.stats().live_objects == 0);
}

// cereal unittests/pod.cpp: the widest integer types.
// Regression: a 128-bit field was once written as a 64-bit varint.
TEST_CASE("cereal pod: __int128 and unsigned __int128 fields round-trip in full", "[serialize][port]") {
  using snapheap_port::int128;
  using snapheap_port::uint128;
  static const uint128 two_100_plus_5 = (uint128{1} << 100) + 5;
  static const int128 int128_max = static_cast<int128>(~uint128{0} >> 1);
  static const int128 int128_min = -int128_max - 1;
  static const std::pair<int128, uint128> cases[] = {
      {static_cast<int128>(two_100_plus_5), two_100_plus_5},
      {int128_min, uint128{0}},
      {int128_max, ~uint128{0}},
      {int128{-1}, uint128{1}},
      {int128{0}, uint128{0}},
      {-static_cast<int128>(two_100_plus_5), two_100_plus_5 << 27},
  };
  const std::size_t which = GENERATE(range(0, 6));
  static_assert(std::size(cases) == 6);
  const auto [s, u] = cases[which];
  INFO("signed " << snapheap_port::halves(s).first << ":" << snapheap_port::halves(s).second << ", unsigned "
                 << snapheap_port::halves(u).first << ":" << snapheap_port::halves(u).second);
  Heap restored;
  auto r = saved_and_loaded<Wide>(restored, [&](Wide& w) {
    w.s = s;
    w.u = u;
  });
  CHECK(snapheap_port::halves(r->s) == snapheap_port::halves(s));
  CHECK(snapheap_port::halves(r->u) == snapheap_port::halves(u));
}

// cereal unittests/pod.cpp: float and double, compared bit for bit instead of approximately.
TEST_CASE("cereal pod: floats and doubles come back bit for bit (NaN payloads, signed zeros, infinities, denormals)",
          "[serialize][port]") {
  for (std::size_t i = 0; i < std::max(kFloatCount, kDoubleCount); ++i) {
    const float f = std::bit_cast<float>(kFloatBits[i % kFloatCount]);
    const double d = std::bit_cast<double>(kDoubleBits[i % kDoubleCount]);
    const float f2 = std::bit_cast<float>(kFloatBits[(i + 1) % kFloatCount]);
    const double d2 = std::bit_cast<double>(kDoubleBits[(i + 1) % kDoubleCount]);
    Heap restored;
    auto r = saved_and_loaded<Floats>(restored, [&](Floats& o) {
      o.f = f;
      o.d = d;
      o.cf = {f, f2};
      o.cd = {d, d2};
      for (std::size_t k = 0; k < kFloatCount; ++k) {
        o.f_array[k] = std::bit_cast<float>(kFloatBits[(k + i) % kFloatCount]);
        o.f_vector.push_back(std::bit_cast<float>(kFloatBits[(k + i) % kFloatCount]));
      }
      for (std::size_t k = 0; k < kDoubleCount; ++k) {
        o.d_array[k] = std::bit_cast<double>(kDoubleBits[(k + i) % kDoubleCount]);
        o.d_vector.push_back(std::bit_cast<double>(kDoubleBits[(k + i) % kDoubleCount]));
        o.cd_vector.emplace_back(std::bit_cast<double>(kDoubleBits[k]),
                                 std::bit_cast<double>(kDoubleBits[(k + i) % kDoubleCount]));
      }
      for (std::size_t k = 0; k < 1024; ++k)
        o.d_bulk.push_back(std::bit_cast<double>(kDoubleBits[(k * 7 + i) % kDoubleCount]));
    });
    INFO("pattern " << i);
    CHECK(bits(r->f) == kFloatBits[i % kFloatCount]);
    CHECK(bits(r->d) == kDoubleBits[i % kDoubleCount]);
    CHECK(bits(r->cf.real()) == bits(f));
    CHECK(bits(r->cf.imag()) == bits(f2));
    CHECK(bits(r->cd.real()) == bits(d));
    CHECK(bits(r->cd.imag()) == bits(d2));
    for (std::size_t k = 0; k < kFloatCount; ++k) {
      INFO("float element " << k);
      CHECK(bits(r->f_array[k]) == kFloatBits[(k + i) % kFloatCount]);
      REQUIRE(r->f_vector.size() == kFloatCount);
      CHECK(bits(r->f_vector[k]) == kFloatBits[(k + i) % kFloatCount]);
    }
    for (std::size_t k = 0; k < kDoubleCount; ++k) {
      INFO("double element " << k);
      CHECK(bits(r->d_array[k]) == kDoubleBits[(k + i) % kDoubleCount]);
      REQUIRE(r->d_vector.size() == kDoubleCount);
      CHECK(bits(r->d_vector[k]) == kDoubleBits[(k + i) % kDoubleCount]);
      REQUIRE(r->cd_vector.size() == kDoubleCount);
      CHECK(bits(r->cd_vector[k].real()) == kDoubleBits[k]);
      CHECK(bits(r->cd_vector[k].imag()) == kDoubleBits[(k + i) % kDoubleCount]);
    }
    REQUIRE(r->d_bulk.size() == 1024);
    for (std::size_t k = 0; k < 1024; ++k) CHECK(bits(r->d_bulk[k]) == kDoubleBits[(k * 7 + i) % kDoubleCount]);
  }
}

// cereal unittests/basic_string.cpp (test_string_basic, test_string_all)
TEST_CASE("cereal basic_string: strings of every character type round-trip, with embedded NULs and long ones",
          "[serialize][port]") {
  std::mt19937_64 gen(99);
  for (int i = 0; i < 20; ++i) {
    StringValues want;
    want.random = random_basic_string<char>(gen);
    want.empty = "";
    want.nuls = std::string("\0a\0\0b\0", 6);
    for (int c = 0; c < 256; ++c) want.every_byte.push_back(static_cast<char>(c));
    want.len_4095 = snapheap_port::pattern_string(4095, gen());
    want.len_4096 = snapheap_port::pattern_string(4096, gen());
    want.len_4097 = snapheap_port::pattern_string(4097, gen());
    if (i == 0) want.megabyte = snapheap_port::pattern_string(1 << 20, gen());
    want.wide = random_basic_string<wchar_t>(gen) + L'\0' + L'\x10FFFF';
    want.u8 = random_basic_string<char8_t>(gen) + u8"\u00e9";
    want.u16 = random_basic_string<char16_t>(gen) + u'\0' + u'\xffff';
    want.u32 = random_basic_string<char32_t>(gen) + U'\0' + U'\U0010FFFF';
    Heap restored;
    auto loaded = saved_and_loaded<Strings>(restored, [&](Strings& s) { s.v = want; });
    const StringValues& r = loaded->v;
    INFO("iteration " << i);
    CHECK(mismatch(r.random, want.random) == "");
    CHECK(r.empty.empty());
    CHECK(r.defaulted.empty());
    CHECK(mismatch(r.nuls, want.nuls) == "");
    CHECK(r.nuls.size() == 6);
    CHECK(mismatch(r.every_byte, want.every_byte) == "");
    CHECK(mismatch(r.len_4095, want.len_4095) == "");
    CHECK(mismatch(r.len_4096, want.len_4096) == "");
    CHECK(mismatch(r.len_4097, want.len_4097) == "");
    CHECK(mismatch(r.megabyte, want.megabyte) == "");
    CHECK((r.wide == want.wide));
    CHECK((r.u8 == want.u8));
    CHECK((r.u16 == want.u16));
    CHECK((r.u32 == want.u32));
  }
}

// cereal unittests/structs.cpp
TEST_CASE("cereal structs: value types with member and free serialize and member and free split round-trip",
          "[serialize][port]") {
  std::mt19937_64 gen(3);
  for (int i = 0; i < 100; ++i) {
    check_round_trip<StructFields>({random_struct<StructInternalSerialize>(gen), random_struct<StructInternalSplit>(gen),
                                    random_struct<StructExternalSerialize>(gen), random_struct<StructExternalSplit>(gen)});
  }
}

// cereal unittests/array.cpp (test_array<N>), with C arrays beside the std::arrays
TEMPLATE_TEST_CASE("cereal array: std::array and C arrays of scalars and of value types round-trip", "[serialize][port]",
                   Arrays1, Arrays100, Arrays1024) {
  std::mt19937_64 gen(11);
  Heap restored;
  auto want = std::make_unique<std::tuple<std::vector<int>, std::vector<StructBase>>>();
  auto r = saved_and_loaded<TestType>(restored, [&](TestType& a) {
    for (std::size_t k = 0; k < a.pod.size(); ++k) {
      a.pod[k] = random_int(gen);
      a.iser[k] = random_struct<StructInternalSerialize>(gen);
      a.ispl[k] = random_struct<StructInternalSplit>(gen);
      a.eser[k] = random_struct<StructExternalSerialize>(gen);
      a.espl[k] = random_struct<StructExternalSplit>(gen);
      a.c_pod[k] = random_int(gen);
      a.c_iser[k] = random_struct<StructInternalSerialize>(gen);
      a.c_2d[0][k] = random_int(gen);
      a.c_2d[1][k] = random_int(gen);
    }
    // What the test expects, kept apart from the object.
    auto& [ints, structs] = *want;
    for (std::size_t k = 0; k < a.pod.size(); ++k) {
      ints.insert(ints.end(), {a.pod[k], a.c_pod[k], a.c_2d[0][k], a.c_2d[1][k]});
      structs.insert(structs.end(), {a.iser[k], a.ispl[k], a.eser[k], a.espl[k], a.c_iser[k]});
    }
  });
  const auto& [ints, structs] = *want;
  for (std::size_t k = 0; k < r->pod.size(); ++k) {
    INFO("element " << k);
    CHECK(r->pod[k] == ints[4 * k]);
    CHECK(r->c_pod[k] == ints[4 * k + 1]);
    CHECK(r->c_2d[0][k] == ints[4 * k + 2]);
    CHECK(r->c_2d[1][k] == ints[4 * k + 3]);
    CHECK(static_cast<const StructBase&>(r->iser[k]) == structs[5 * k]);
    CHECK(static_cast<const StructBase&>(r->ispl[k]) == structs[5 * k + 1]);
    CHECK(static_cast<const StructBase&>(r->eser[k]) == structs[5 * k + 2]);
    CHECK(static_cast<const StructBase&>(r->espl[k]) == structs[5 * k + 3]);
    CHECK(static_cast<const StructBase&>(r->c_iser[k]) == structs[5 * k + 4]);
  }
}

// cereal unittests/vector.cpp
TEST_CASE("cereal vector: vectors of scalars, bools and value types round-trip, empty and large ones too",
          "[serialize][port]") {
  std::mt19937_64 gen(5);
  for (int i = 0; i < 20; ++i) {
    check_round_trip<VectorFields>({random_sequence<std::vector<int>>(100, gen),
                                    random_sequence<std::vector<bool>>(100, gen),
                                    random_sequence<std::vector<StructInternalSerialize>>(100, gen),
                                    random_sequence<std::vector<StructInternalSplit>>(100, gen),
                                    random_sequence<std::vector<StructExternalSerialize>>(100, gen),
                                    random_sequence<std::vector<StructExternalSplit>>(100, gen), std::vector<int>{},
                                    random_sequence<std::vector<int>>(5000, gen)});
  }
}

// cereal unittests/deque.cpp
TEST_CASE("cereal deque: deques of scalars and value types round-trip", "[serialize][port]") {
  std::mt19937_64 gen(6);
  for (int i = 0; i < 20; ++i) {
    check_round_trip<DequeFields>({random_sequence<std::deque<int>>(100, gen),
                                   random_sequence<std::deque<StructInternalSerialize>>(100, gen),
                                   random_sequence<std::deque<StructInternalSplit>>(100, gen),
                                   random_sequence<std::deque<StructExternalSerialize>>(100, gen),
                                   random_sequence<std::deque<StructExternalSplit>>(100, gen), std::deque<int>{}});
  }
}

// cereal unittests/list.cpp
TEST_CASE("cereal list: lists of scalars and value types round-trip", "[serialize][port]") {
  std::mt19937_64 gen(7);
  for (int i = 0; i < 20; ++i) {
    check_round_trip<ListFields>({random_sequence<std::list<int>>(100, gen),
                                  random_sequence<std::list<StructInternalSerialize>>(100, gen),
                                  random_sequence<std::list<StructInternalSplit>>(100, gen),
                                  random_sequence<std::list<StructExternalSerialize>>(100, gen),
                                  random_sequence<std::list<StructExternalSplit>>(100, gen), std::list<int>{}});
  }
}

// cereal unittests/map.cpp, multimap.cpp, set.cpp, multiset.cpp, unordered_map.cpp,
// unordered_multimap.cpp, unordered_set.cpp, unordered_multiset.cpp
TEMPLATE_TEST_CASE("cereal maps and sets: ordered and unordered, unique and multi, of scalars and value types",
                   "[serialize][port]", MapFields, MultimapFields, SetFields, MultisetFields, UnorderedMapFields,
                   UnorderedMultimapFields, UnorderedSetFields, UnorderedMultisetFields) {
  std::mt19937_64 gen(8);
  for (int i = 0; i < 10; ++i) {
    decltype(TestType::values) values;
    fill_associative(values, gen);
    check_round_trip<TestType>(values);
  }
}

// cereal unittests/pair.cpp, tuple.cpp
TEST_CASE("cereal pair and tuple: pairs and tuples of scalars and value types round-trip", "[serialize][port]") {
  std::mt19937_64 gen(9);
  auto i = [&] { return random_int(gen); };
  for (int n = 0; n < 100; ++n) {
    check_round_trip<PairTupleFields>(
        {{i(), i()},
         {random_struct<StructInternalSerialize>(gen), random_struct<StructInternalSplit>(gen)},
         {random_struct<StructExternalSerialize>(gen), random_struct<StructExternalSplit>(gen)},
         {i(), i(), i(), i()},
         {i(), i(), i(), i(), i(), i(), i(), i(), i(), i(), i()},
         {random_struct<StructInternalSerialize>(gen), random_struct<StructInternalSplit>(gen),
          random_struct<StructExternalSerialize>(gen), random_struct<StructExternalSplit>(gen)},
         {},
         {random_basic_string<char>(gen), random_value<double>(gen), random_sequence<std::vector<int>>(10, gen)}});
  }
}

// cereal unittests/complex.cpp
TEST_CASE("cereal complex: complex float and double round-trip bit for bit", "[serialize][port]") {
  std::mt19937_64 gen(10);
  for (int n = 0; n < 100; ++n) {
    std::vector<std::complex<float>> v;
    for (int k = 0; k < 600; ++k) v.emplace_back(random_value<float>(gen), random_value<float>(gen));  // 4,800 bytes
    check_round_trip<ComplexFields>({{random_value<float>(gen), random_value<float>(gen)},
                                     {random_value<double>(gen), random_value<double>(gen)},
                                     v});
  }
}

// cereal unittests/cpp17/optional.cpp, cpp17/variant.cpp
TEST_CASE("cereal optional and variant: engaged and empty optionals, every variant alternative", "[serialize][port]") {
  std::mt19937_64 gen(12);
  for (int n = 0; n < 50; ++n) {
    check_round_trip<OptionalVariantFields>(
        {random_int(gen), random_value<double>(gen), random_basic_string<char>(gen), std::nullopt, std::nullopt,
         std::nullopt, std::optional<long>(random_value<long>(gen)), std::optional<long>(),
         random_int(gen), random_value<double>(gen), random_basic_string<char>(gen),
         random_struct<StructExternalSplit>(gen), std::variant<int, int>(std::in_place_index<1>, random_int(gen))});
  }
  // A loaded empty optional replaces an engaged one (cereal's i_o4{1}).
  Heap restored;
  auto r = saved_and_loaded<OptionalVariantFields>(restored, [](OptionalVariantFields&) {});
  CHECK_FALSE(std::get<3>(r->values).has_value());
  CHECK(std::get<12>(r->values).index() == 0);
}

// cereal unittests/memory.cpp (test_memory): shared_ptr sharing and null pointers as Members,
// unique_ptrs as they are; map.cpp (test_map_memory): a map of unique_ptrs.
TEST_CASE("cereal memory: Members to one object stay one object, empty Members stay empty, unique_ptrs round-trip",
          "[serialize][port]") {
  std::mt19937_64 gen(13);
  for (int n = 0; n < 20; ++n) {
    Heap heap;
    auto x = heap.make<IntBox>(random_int(gen));
    auto y = heap.make<IntBox>(random_int(gen));
    auto p = heap.make<Pointers>();
    p->x1 = p->x2 = p->x3 = x;
    p->y1 = p->y2 = y;
    p->z1 = std::make_unique<int>(random_int(gen));
    std::map<int, int> want_map;
    for (int j = 0; j < 100; ++j) {
      const int key = random_int(gen), value = random_int(gen);
      want_map[key] = value;
      p->unique_map[key] = std::make_unique<int>(value);
    }
    heap.set_root("root", p);
    Heap restored;
    auto r = round_trip<Pointers>(heap, restored);
    REQUIRE(r);
    REQUIRE(r->x1);
    CHECK(r->x1.get() == r->x2.get());
    CHECK(r->x1.get() == r->x3.get());
    CHECK(r->x1->value == x->value);
    REQUIRE(r->y1);
    CHECK(r->y1.get() == r->y2.get());
    CHECK(r->y1.get() != r->x1.get());
    CHECK(r->y1->value == y->value);
    CHECK_FALSE(r->null1);
    CHECK_FALSE(r->null2);
    REQUIRE(r->z1);
    CHECK(*r->z1 == *p->z1);
    CHECK_FALSE(r->null3);
    REQUIRE(r->unique_map.size() == want_map.size());
    for (const auto& [key, value] : want_map) {
      REQUIRE(r->unique_map.at(key));
      CHECK(*r->unique_map.at(key) == value);
    }
    CHECK(restored.stats().live_objects == 3);
  }
}

// cereal unittests/memory.cpp (test_default_construction)
TEST_CASE("cereal memory: a type whose default constructor is private loads through the access class",
          "[serialize][port]") {
  Heap heap;
  heap.set_root("root", heap.make<PrivatelyBuilt>(1));
  Heap restored;
  auto r = round_trip<PrivatelyBuilt>(heap, restored);
  REQUIRE(r);
  CHECK(r->x == 1);
}

// cereal unittests/memory_cycles.cpp
TEST_CASE("cereal memory_cycles: an object whose weak and strong handles point at itself comes back pointing at itself",
          "[serialize][port]") {
  std::mt19937_64 gen(14);
  for (int n = 0; n < 20; ++n) {
    Heap heap;
    auto a = heap.make<MemoryCycle>();
    a->value = random_int(gen);
    a->ptr = Weak<MemoryCycle>(a);
    auto b = heap.make<MemoryCycle>();  // and a two-object strong cycle with weak back edges
    auto c = heap.make<MemoryCycle>();
    b->value = random_int(gen);
    c->value = random_int(gen);
    b->strong = c;
    c->strong = b;
    b->ptr = Weak<MemoryCycle>(c);
    c->ptr = Weak<MemoryCycle>(b);
    if (n % 2) a->strong = a;
    heap.set_root("root", a);
    heap.set_root("b", b);
    Heap restored;
    auto r = round_trip<MemoryCycle>(heap, restored);
    REQUIRE(r);
    CHECK(r->value == a->value);
    CHECK(r->ptr.lock().get() == r.get());
    CHECK(r->strong.get() == (n % 2 ? r.get() : nullptr));
    auto rb = restored.root<MemoryCycle>("b");
    REQUIRE(rb);
    REQUIRE(rb->strong);
    CHECK(rb->strong->value == c->value);
    CHECK(rb->strong->strong.get() == rb.get());
    CHECK(rb->ptr.lock().get() == rb->strong.get());
    CHECK(rb->strong->ptr.lock().get() == rb.get());
    // Only the saved objects came back, each once.
    CHECK(restored.stats().live_objects == 3);
    restored.remove_root("b");
    rb.reset();
    restored.collect();
    CHECK(restored.stats().live_objects == 1);
  }
}

// cereal unittests/defer.cpp: nodes related to each other through a vector of relations; with
// cereal::defer the relations are saved after the nodes. snapheap saves no edge by recursion, so
// the graph and a long chain are saved as they are.
TEST_CASE("cereal defer: a graph of nodes whose relations point at other nodes keeps its shape", "[serialize][port]") {
  std::mt19937_64 gen(15);
  Heap heap;
  auto g = heap.make<DeferGraph>();
  std::size_t id = 0;
  auto make_node = [&] {
    auto node = heap.make<DeferNode>();
    node->id = id++;
    node->w = random_value<long>(gen);
    node->iser = random_struct<StructInternalSerialize>(gen);
    node->ispl = random_struct<StructInternalSplit>(gen);
    node->eser = random_struct<StructExternalSerialize>(gen);
    node->espl = random_struct<StructExternalSplit>(gen);
    node->z = random_value<char>(gen);
    return node;
  };
  for (int k = 0; k < 50; ++k) g->nodes0.push_back(make_node());
  for (int k = 0; k < 50; ++k) g->nodes1.push_back(make_node());
  std::shuffle(g->nodes1.begin(), g->nodes1.end(), gen);
  for (auto* nodes : {&g->nodes0, &g->nodes1}) {
    for (auto& node : *nodes) {
      node->relations.resize(std::uniform_int_distribution<std::size_t>(0, 100)(gen));
      for (auto& rel : node->relations)
        rel = {g->nodes0[std::uniform_int_distribution<std::size_t>(0, 49)(gen)], random_int(gen),
               random_basic_string<char>(gen)};
    }
  }
  heap.set_root("root", g);
  Heap restored;
  auto r = round_trip<DeferGraph>(heap, restored);
  REQUIRE(r);
  REQUIRE(r->nodes0.size() == 50);
  REQUIRE(r->nodes1.size() == 50);
  // Restored node with the same id as each saved node, for the identity checks.
  std::map<std::size_t, DeferNode*> by_id;
  for (auto* nodes : {&r->nodes0, &r->nodes1})
    for (auto& node : *nodes) by_id[node->id] = node.get();
  CHECK(by_id.size() == 100);
  for (auto [saved, loaded] : {std::pair{&g->nodes0, &r->nodes0}, std::pair{&g->nodes1, &r->nodes1}}) {
    for (std::size_t k = 0; k < 50; ++k) {
      const DeferNode& o = *(*saved)[k];
      const DeferNode& i = *(*loaded)[k];
      INFO("node " << o.id);
      CHECK(i.id == o.id);
      CHECK(i.w == o.w);
      CHECK(static_cast<const StructBase&>(i.iser) == o.iser);
      CHECK(static_cast<const StructBase&>(i.ispl) == o.ispl);
      CHECK(static_cast<const StructBase&>(i.eser) == o.eser);
      CHECK(static_cast<const StructBase&>(i.espl) == o.espl);
      CHECK(i.z == o.z);
      REQUIRE(i.relations.size() == o.relations.size());
      for (std::size_t j = 0; j < o.relations.size(); ++j) {
        CHECK(i.relations[j].x == o.relations[j].x);
        CHECK(i.relations[j].y == o.relations[j].y);
        REQUIRE(i.relations[j].node);
        CHECK(i.relations[j].node.get() == by_id.at(o.relations[j].node->id));
      }
    }
  }
  CHECK(restored.stats().live_objects == 101);
}

// cereal unittests/defer.cpp: what cereal::defer exists for, a structure deeper than the stack.
TEST_CASE("cereal defer: a chain of 200,000 Members saves and loads without recursion", "[serialize][port][big]") {
  Heap heap;
  auto head = heap.make<ChainLink>();
  ChainLink* tail = head.get();
  for (std::uint32_t i = 1; i < 200000; ++i) {
    auto link = heap.make<ChainLink>();
    link->index = i;
    tail->next = link;
    tail = link.get();
  }
  heap.set_root("root", head);
  Heap restored;
  auto r = round_trip<ChainLink>(heap, restored);
  REQUIRE(r);
  std::uint32_t expected = 0;
  const ChainLink* at = r.get();
  bool in_order = true;
  for (; at; at = at->next.get()) in_order = in_order && at->index == expected++;
  CHECK(in_order);
  CHECK(expected == 200000);
}

// cereal unittests/polymorphic.cpp: base_class<Base>(this) on managed classes, objects saved
// through handles to their base class.
TEST_CASE("cereal polymorphic: Members and Weaks typed by a base class restore the derived objects", "[serialize][port]") {
  Heap heap;
  auto holder = heap.make<PolyHolder>();
  auto d = heap.make<PolyDerived>();
  d->x = 1;
  d->name = "derived";
  d->y = 2.5;
  auto dd = heap.make<PolyDerivedD>();
  dd->x = 3;
  dd->name = "most derived";
  dd->y = -0.0;
  dd->extra = {4, 5, 6};
  dd->sibling = Weak<PolyBase>(d);
  d->sibling = Weak<PolyBase>(dd);
  holder->one = dd;
  holder->many = {d, dd, nullptr, d};
  holder->weak = Weak<PolyBase>(d);
  heap.set_root("root", holder);
  Heap restored;
  auto r = round_trip<PolyHolder>(heap, restored);
  REQUIRE(r);
  auto* rdd = dynamic_cast<PolyDerivedD*>(r->one.get());
  REQUIRE(rdd != nullptr);
  CHECK(rdd->x == 3);
  CHECK(rdd->name == "most derived");
  CHECK(bits(rdd->y) == bits(-0.0));
  CHECK(rdd->extra == std::vector<int>{4, 5, 6});
  REQUIRE(r->many.size() == 4);
  auto* rd = dynamic_cast<PolyDerived*>(r->many[0].get());
  REQUIRE(rd != nullptr);
  CHECK(dynamic_cast<PolyDerivedD*>(rd) == nullptr);
  CHECK(rd->name == "derived");
  CHECK(rd->y == 2.5);
  CHECK(r->many[1].get() == rdd);
  CHECK_FALSE(r->many[2]);
  CHECK(r->many[3].get() == rd);
  CHECK(r->weak.lock().get() == rd);
  CHECK(rdd->sibling.lock().get() == rd);
  CHECK(rd->sibling.lock().get() == rdd);
}

// cereal unittests/polymorphic.cpp: a derived value type through a pointer to its base. cereal
// saves it with its registered derived type; snapheap cannot, and must say so instead of saving
// the base part alone.
// Regression: the Derived was once saved as a Base (sliced), without an error.
TEST_CASE("cereal polymorphic: a unique_ptr<Base> holding a Derived is refused at save, naming both types",
          "[serialize][port]") {
  Heap heap;
  auto o = heap.make<OwnsValueBase>();
  auto derived = std::make_unique<ValueDerived>();
  derived->base_value = 1;
  derived->derived_value = 2;
  o->owned = std::move(derived);
  heap.set_root("root", o);
  ByteBuffer bytes;
  try {
    save(heap, bytes);
    FAIL("save did not throw");
  } catch (const SnapshotError& e) {
    CHECK(e.code() == SnapshotErrc::unsupported_value);
    const std::string what = e.what();
    CHECK_THAT(what, Catch::Contains("ValueBase"));
    CHECK_THAT(what, Catch::Contains("ValueDerived"));
  }
}

// cereal unittests/polymorphic.cpp, memory.cpp: a unique_ptr<Base> holding exactly a Base.
TEST_CASE("cereal polymorphic: a unique_ptr<Base> holding a Base round-trips as a Base", "[serialize][port]") {
  Heap restored;
  auto r = saved_and_loaded<OwnsValueBase>(restored, [](OwnsValueBase& o) {
    o.owned = std::make_unique<ValueBase>();
    o.owned->base_value = 42;
  });
  REQUIRE(r->owned);
  CHECK(typeid(*r->owned) == typeid(ValueBase));
  CHECK(r->owned->base_value == 42);
  Heap restored_empty;
  auto e = saved_and_loaded<OwnsValueBase>(restored_empty, [](OwnsValueBase&) {});
  CHECK_FALSE(e->owned);
}

// cereal unittests/versioning.cpp
TEST_CASE("cereal versioning: serialize and load receive the class version of the record", "[serialize][port]") {
  std::mt19937_64 gen(16);
  for (int n = 0; n < 20; ++n) {
    Heap heap;
    auto v = heap.make<Versions>();
    auto ms = heap.make<VersionStructMS>();
    auto ms2 = heap.make<VersionStructMS>();
    auto msp = heap.make<VersionStructMSP>();
    auto msp2 = heap.make<VersionStructMSP>();
    auto nms = heap.make<VersionStructNMS>();
    auto nms2 = heap.make<VersionStructNMS>();
    auto nmsp = heap.make<VersionStructNMSP>();
    auto nmsp2 = heap.make<VersionStructNMSP>();
    ms->x = random_value<bool>(gen);
    ms2->x = random_value<bool>(gen);
    msp->x = random_value<std::uint8_t>(gen);
    msp2->x = random_value<std::uint8_t>(gen);
    nms->x = random_value<std::int32_t>(gen);
    nms2->x = random_value<std::int32_t>(gen);
    nmsp->x = random_value<double>(gen);
    nmsp2->x = random_value<double>(gen);
    v->ms = ms;
    v->ms2 = ms2;
    v->msp = msp;
    v->msp2 = msp2;
    v->nms = nms;
    v->nms2 = nms2;
    v->nmsp = nmsp;
    v->nmsp2 = nmsp2;
    heap.set_root("root", v);
    Heap restored;
    auto r = round_trip<Versions>(heap, restored);
    REQUIRE(r);
    CHECK(ms->v == 0);  // the version serialize() received while saving
    CHECK(nms->v == 66);
    CHECK(r->ms->x == ms->x);
    CHECK(r->ms->v == 0);
    CHECK(r->msp->x == msp->x);
    CHECK(r->msp->v == 33);
    CHECK(r->nms->x == nms->x);
    CHECK(r->nms->v == 66);
    CHECK(bits(r->nmsp->x) == bits(nmsp->x));
    CHECK(r->nmsp->v == 99);
    CHECK(r->ms2->x == ms2->x);
    CHECK(r->ms2->v == 0);
    CHECK(r->msp2->x == msp2->x);
    CHECK(r->msp2->v == 33);
    CHECK(r->nms2->x == nms2->x);
    CHECK(r->nms2->v == 66);
    CHECK(bits(r->nmsp2->x) == bits(nmsp2->x));
    CHECK(r->nmsp2->v == 99);
  }
}

// cereal unittests/versioning.cpp: the version a record was written with reaches a later build of
// the class, which reads it the old way (two programs: see version_test.cpp).
TEST_CASE("cereal versioning: records of version 33 load into the version-34 class as version 33", "[serialize][port]") {
  Heap old_program;
  auto o = old_program.make<VersionStructMSP>();
  o->x = 200;
  old_program.set_root("root", o);
  ByteBuffer bytes;
  save(old_program, bytes);
  auto renamed = snapheap_stest::to_vector(bytes);
  snapheap_stest::replace_bytes(renamed, "cereal.VersionMSP.A", "cereal.VersionMSP.B");
  renamed = snapheap_stest::reseal(std::move(renamed));
  Heap new_program;
  load(new_program, std::span<const std::byte>(renamed));
  auto r = new_program.root<VersionStructMSPNext>("root");
  REQUIRE(r);
  CHECK(r->x == 200);
  CHECK(r->v == 33);
  CHECK(r->added == "default");
  // And its own records carry version 34.
  r->added = "new";
  Heap third;
  auto again = round_trip<VersionStructMSPNext>(new_program, third);
  REQUIRE(again);
  CHECK(again->v == 34);
  CHECK(again->added == "new");
}

// cereal unittests/structs_minimal.cpp: save_minimal returns a value computed while saving.
TEST_CASE("cereal structs_minimal: split saves that write copies and temporaries of small values round-trip",
          "[serialize][port]") {
  std::mt19937_64 gen(17);
  for (int n = 0; n < 100; ++n) {
    const std::string s = random_basic_string<char>(gen);
    const double d = random_value<double>(gen);
    const std::uint32_t u = random_value<std::uint32_t>(gen);
    const bool b = random_value<bool>(gen);
    Heap restored;
    auto r = saved_and_loaded<MinimalStruct>(restored, [&](MinimalStruct& m) {
      m.mm = MemberMinimal(s);
      m.mmv.x = d;
      m.nmm.x = u;
      m.nmmv.x = b;
    });
    CHECK(r->mm.x == s);
    CHECK(bits(r->mmv.x) == bits(d));
    CHECK(r->nmm.x == u);
    CHECK(r->nmmv.x == b);
  }
}

// cereal unittests/structs_minimal.cpp: values computed while saving, here as locals of a split
// save() at sizes about the 4,096-byte block threshold and far past it.
// Regression: from 4,096 bytes, locals were once copied after save() returned, from freed memory.
TEST_CASE("cereal structs_minimal: a split save that writes locals of 4,095 to 800,000 bytes loads them back exactly",
          "[serialize][port]") {
  const std::uint32_t bytes = GENERATE(4095u, 4096u, 8192u, 800000u);
  INFO(bytes << " bytes");
  Heap heap;
  auto o = heap.make<SavesLocals>();
  o->bytes = bytes;
  o->seed = 0x5eed0000 + bytes;
  heap.set_root("root", o);
  // A second object of the same type in the same snapshot: its locals reuse the memory the
  // first one's just freed.
  auto o2 = heap.make<SavesLocals>();
  o2->bytes = bytes;
  o2->seed = 0xabcd0000 + bytes;
  heap.set_root("second", o2);
  Heap restored;
  auto r = round_trip<SavesLocals>(heap, restored);
  auto r2 = restored.root<SavesLocals>("second");
  REQUIRE(r);
  REQUIRE(r2);
  for (auto [loaded, seed] : {std::pair{r.get(), o->seed}, std::pair{r2.get(), o2->seed}}) {
    INFO("seed " << seed);
    CHECK(loaded->bytes == bytes);
    CHECK(mismatch(loaded->ints, snapheap_port::pattern<int>(bytes / sizeof(int), seed)) == "");
    CHECK(mismatch(loaded->text, snapheap_port::pattern_string(bytes, seed + 1)) == "");
    CHECK(mismatch(loaded->blob, snapheap_port::pattern<unsigned char>(bytes, seed + 2)) == "");
  }
}

// cereal unittests/structs_minimal.cpp: a computed std::vector<std::int64_t> of 800,000 bytes.
// Regression: the local was once copied after save() returned, from freed memory.
TEST_CASE("cereal structs_minimal: a split save that writes a local vector of 100,000 int64 loads it back exactly",
          "[serialize][port]") {
  Heap restored;
  auto r = saved_and_loaded<SavesLocalInt64s>(restored, [](SavesLocalInt64s& o) { o.seed = 64; });
  CHECK(r->seed == 64);
  CHECK(mismatch(r->values, snapheap_port::pattern<std::int64_t>(100000, 64)) == "");
}

// cereal unittests/structs_minimal.cpp: a value returned by save_minimal is a temporary.
// Regression: from 4,096 bytes, temporaries were once copied after they were destroyed.
TEST_CASE("cereal structs_minimal: temporaries written by serialize at 4,092 to 800,000 bytes load back exactly",
          "[serialize][port]") {
  // Element counts of 4 bytes: 4,092 bytes (the 4,095 case rounded down to whole ints), then
  // 4,096, 8,192 and 800,000 bytes.
  const std::uint32_t count = GENERATE(1023u, 1024u, 2048u, 200000u);
  INFO(count << " ints");
  Heap restored;
  auto r = saved_and_loaded<SavesTemporaries>(restored, [&](SavesTemporaries& o) { o.count = count; });
  CHECK(r->count == count);
  CHECK(mismatch(r->sevens, std::vector<int>(count, 7)) == "");
  CHECK(mismatch(r->minus_ones, std::vector<int>(count, -1)) == "");
}

// cereal unittests/bitset.cpp (through boost/serialization/bitset.hpp)
TEST_CASE("cereal bitset: bitsets of 32 to 512 bits round-trip, and a loaded one replaces what was there",
          "[serialize][port]") {
  std::mt19937_64 gen(18);
  for (int n = 0; n < 100; ++n) {
    const auto b32 = random_bitset<32>(gen);
    const auto b65 = random_bitset<65>(gen);
    const auto b256 = random_bitset<256>(gen);
    const auto b512 = random_bitset<512>(gen);
    Heap heap;
    auto saved = heap.make<Bitsets>();
    saved->b32 = b32;
    saved->b65 = b65;
    saved->b256 = b256;
    saved->b512 = b512;
    heap.set_root("root", saved);
    ByteBuffer bytes;
    save(heap, bytes);
    // cereal's i_bit32_low(0xffffffff): loading replaces every bit of a bitset that held others.
    Heap restored;
    load(restored, bytes);
    auto r = restored.root<Bitsets>("root");
    REQUIRE(r);
    CHECK(r->b32 == b32);
    CHECK(r->b65 == b65);
    CHECK(r->b256 == b256);
    CHECK(r->b512 == b512);
    CHECK(r->b32_low.none());
  }
}

// cereal unittests/bitset.cpp at sizes whose string form passes the 4,096-byte block threshold.
// Regression: bitset.hpp's save() writes a local std::string, which was once copied after it was freed.
TEST_CASE("cereal bitset: bitsets of 4,096 and 200,000 bits round-trip through boost/serialization/bitset.hpp",
          "[serialize][port]") {
  std::mt19937_64 gen(19);
  auto want4096 = std::make_unique<std::bitset<4096>>(random_bitset<4096>(gen));
  auto want200000 = std::make_unique<std::bitset<200000>>(random_bitset<200000>(gen));
  Heap restored;
  auto r = saved_and_loaded<BigBitsets>(restored, [&](BigBitsets& b) {
    b.b4096 = *want4096;
    b.b200000 = *want200000;
  });
  CHECK(snapheap_port::differing_bits(r->b4096, *want4096) == 0);
  CHECK(snapheap_port::differing_bits(r->b200000, *want200000) == 0);
}

// cereal unittests/portable_binary_archive.cpp: its binary_data of an int32 vector
TEST_CASE("cereal portable_binary_archive: binary data written with make_binary_object round-trips",
          "[serialize][port]") {
  std::mt19937_64 gen(20);
  const auto small = snapheap_port::pattern<std::int32_t>(10, gen());
  const auto large = snapheap_port::pattern<std::int32_t>(5000, gen());
  Heap restored;
  auto r = saved_and_loaded<BinaryData>(restored, [&](BinaryData& b) {
    b.small = small;
    b.large = large;
  });
  CHECK(mismatch(r->small, small) == "");
  CHECK(mismatch(r->large, large) == "");
}

// cereal unittests/unordered_loads.cpp: values under runtime NVP names, loaded in the order they
// were saved.
TEST_CASE("cereal unordered_loads: values written as NVPs with runtime names round-trip in order", "[serialize][port]") {
  std::mt19937_64 gen(21);
  for (int n = 0; n < 100; ++n) {
    Heap heap;
    auto o = heap.make<NamedValues>();
    for (auto& name : o->names) name = random_basic_string<char>(gen);
    o->int1 = random_int(gen);
    o->double2 = random_value<double>(gen);
    o->vecbool3 = {random_value<bool>(gen), random_value<bool>(gen), random_value<bool>(gen),
                   random_value<bool>(gen), random_value<bool>(gen)};
    o->int4 = random_int(gen);
    o->int5 = random_int(gen);
    o->int6 = random_int(gen);
    o->un7 = {random_value<float>(gen), {random_int(gen), random_int(gen), random_int(gen), random_int(gen)}};
    heap.set_root("root", o);
    Heap restored;
    auto r = round_trip<NamedValues>(heap, restored);
    REQUIRE(r);
    CHECK(r->names == o->names);
    CHECK(r->int1 == o->int1);
    CHECK(bits(r->double2) == bits(o->double2));
    CHECK(r->vecbool3 == o->vecbool3);
    CHECK(r->int4 == o->int4);
    CHECK(r->int5 == o->int5);
    CHECK(r->int6 == o->int6);
    CHECK(bits(r->un7.first) == bits(o->un7.first));
    CHECK(r->un7.second == o->un7.second);
  }
}
