// Boost.Serialization's tests (github.com/boostorg/serialization, test/test_*.cpp at a32906b),
// ported to snapheap round trips: what a Boost test writes to an archive is held by managed
// objects here, saved to a ByteBuffer, loaded into a fresh Heap and compared field by field
// (floating point bit for bit, where Boost allows a float_distance of 1). Boost's pointers,
// shared_ptr and weak_ptr graphs become Member / Weak graphs of managed objects. Each case names
// the Boost file it comes from.
//
// Not ported, and why:
// - Boost's own archives and their machinery: test_codecvt_null, test_iterators*,
//   test_interators, test_mult_archive_types, test_reset_object_address, test__helper,
//   test_helper_support, test_p_helper, test_check, test_inclusion*, test_singleton*,
//   test_smart_cast, test_void_cast, test_static_warning, test_traits_*, test_dll_*,
//   test_multi_shared_lib, test_z; XML names and text layout (every NVP name is accepted and
//   ignored: snapheap's archives are positional).
// - Raw pointers, shared_ptr and polymorphic pointers by export/registration:
//   test_shared_ptr*, test_enable_shared_from_this, test_exported, test_polymorphic*,
//   test_registered, test_no_rtti, test_new_operator, test_delete_pointer, test_private_base2,
//   test_non_default_ctor* (save/load_construct_data), test_pimpl, test_simple_class_ptr and
//   test_nvp's pointer. Their sharing, null pointers, cycles and weak pointers are ported as
//   Member / Weak graphs (test_cyclic_ptrs, test_recursion, test_multiple_ptrs, test_null_ptr,
//   test_list_ptrs, test_shared_ptr's sharing below); pointers to a base class as Members of a
//   managed base type (test_derived, test_unregistered) and as the refusal of a
//   unique_ptr<Base> holding a derived value type (test_derived_class_ptr).
// - Types snapheap does not support: test_valarray, test_queue, test_stack, test_priority_queue,
//   test_forward_list*, test_slist*, test_strong_typedef (BOOST_STRONG_TYPEDEF), boost::optional
//   and boost::variant halves of test_optional / test_variant, optional<A*>.
// - Implementation levels and tracking traits (BOOST_CLASS_IMPLEMENTATION, BOOST_CLASS_TRACKING):
//   snapheap ignores them: a managed object is always tracked (written once), a value type never.
//   test_primitive (a type saved with stream operators) does not apply; test_tracking and
//   test_class_info_save are ported with that rule.
// - Class versions on value types (B.hpp's BOOST_CLASS_VERSION(B, 2) for the B nested in C):
//   snapheap versions registered managed types only (a static_assert refuses the rest); B is a
//   managed type where it is versioned.
// - test_const_* and test_not_serializable: compile-time checks.
// - test_diamond, test_diamond_complex: a virtual base reached through two paths is written once
//   by Boost's tracking; snapheap tracks no value type (it would be written twice), and a managed
//   class cannot have snapheap::Object as a virtual base (the library static_casts Object* to the
//   derived type).
// - test_multiple_inheritance: the same case as test_mi (two polymorphic value-type bases).
// - test_array / test_native_array's archive_exception codes: the same refusal is checked as
//   SnapshotError(record_mismatch).
//
#include <catch2/catch.hpp>

#include <array>
#include <bitset>
#include <boost/array.hpp>
#include <boost/serialization/base_object.hpp>
#include <boost/serialization/bitset.hpp>
#include <boost/serialization/boost_array.hpp>
#include <boost/serialization/level.hpp>
#include <boost/serialization/nvp.hpp>
#include <boost/serialization/split_free.hpp>
#include <boost/serialization/split_member.hpp>
#include <boost/serialization/tracking.hpp>
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
#include <stdexcept>
#include <string>
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

namespace boost_port_test {

template <class T>
T random_bits(std::mt19937_64& gen) {
  const std::uint64_t r = gen();
  T v;
  std::memcpy(&v, &r, sizeof(T));
  return v;
}

// ---- test/A.hpp, A.ipp -------------------------------------------------------------------------

/// Boost's test class A: one member of every primitive type, a string and a wide string, saved
/// through a private serialize() with NVPs.
class A {
 public:
  enum h { i = 0, j, k };

  A() = default;
  explicit A(std::mt19937_64& gen)
      : b((gen() & 1) != 0),
        f(random_bits<std::int64_t>(gen)),
        g(random_bits<std::uint64_t>(gen)),
        l(static_cast<h>(gen() % 3)),
        m(random_bits<std::size_t>(gen)),
        n(random_bits<signed long>(gen)),
        o(random_bits<unsigned long>(gen)),
        p(random_bits<signed short>(gen)),
        q(random_bits<unsigned short>(gen)),
        r(random_bits<wchar_t>(gen)),
        c(random_bits<char>(gen)),
        s(random_bits<signed char>(gen)),
        t(random_bits<unsigned char>(gen)),
        u(random_bits<signed int>(gen)),
        v(random_bits<unsigned int>(gen)),
        w(std::uniform_real_distribution<float>(-1e6f, 1e6f)(gen)),
        x(std::uniform_real_distribution<double>(-1e300, 1e300)(gen)),
        y(std::string(gen() % 40, 'y') + std::string(1, '\0') + "tail"),
        z(std::wstring(gen() % 40, L'z') + L'\x263A') {}

  /// Every member at its lowest (lowest = true) or highest value.
  static A limits(bool lowest) {
    A a;
    auto set = [&](auto& member) {
      using T = std::remove_reference_t<decltype(member)>;
      member = lowest ? std::numeric_limits<T>::lowest() : std::numeric_limits<T>::max();
    };
    set(a.b), set(a.f), set(a.g), set(a.m), set(a.n), set(a.o), set(a.p), set(a.q), set(a.r), set(a.c);
    set(a.s), set(a.t), set(a.u), set(a.v), set(a.w), set(a.x);
    a.l = lowest ? i : k;
    a.y = lowest ? std::string() : std::string(5000, '\xff');
    a.z = lowest ? std::wstring() : std::wstring(1500, static_cast<wchar_t>(0x10FFFF));
    return a;
  }
  /// Floating point members holding the given bits.
  void set_float_bits(std::uint32_t fw, std::uint64_t dx) {
    w = std::bit_cast<float>(fw);
    x = std::bit_cast<double>(dx);
  }
  std::uint32_t w_bits() const { return bits(w); }
  std::uint64_t x_bits() const { return bits(x); }

  /// Equal member by member, floating point by its bits.
  bool operator==(const A& rhs) const {
    return b == rhs.b && f == rhs.f && g == rhs.g && l == rhs.l && m == rhs.m && n == rhs.n && o == rhs.o &&
           p == rhs.p && q == rhs.q && r == rhs.r && c == rhs.c && s == rhs.s && t == rhs.t && u == rhs.u &&
           v == rhs.v && bits(w) == bits(rhs.w) && bits(x) == bits(rhs.x) && y == rhs.y && z == rhs.z;
  }
  bool operator<(const A& rhs) const { return std::tie(f, g, u, y) < std::tie(rhs.f, rhs.g, rhs.u, rhs.y); }
  std::size_t hash() const { return static_cast<std::size_t>(f) ^ (static_cast<std::size_t>(u) << 7); }

 private:
  friend class boost::serialization::access;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & BOOST_SERIALIZATION_NVP(b);
    ar & BOOST_SERIALIZATION_NVP(f);
    ar & BOOST_SERIALIZATION_NVP(g);
    ar & BOOST_SERIALIZATION_NVP(l);
    ar & BOOST_SERIALIZATION_NVP(m);
    ar & BOOST_SERIALIZATION_NVP(n);
    ar & BOOST_SERIALIZATION_NVP(o);
    ar & BOOST_SERIALIZATION_NVP(p);
    ar & BOOST_SERIALIZATION_NVP(q);
    ar & BOOST_SERIALIZATION_NVP(r);
    ar & BOOST_SERIALIZATION_NVP(c);
    ar & BOOST_SERIALIZATION_NVP(s);
    ar & BOOST_SERIALIZATION_NVP(t);
    ar & BOOST_SERIALIZATION_NVP(u);
    ar & BOOST_SERIALIZATION_NVP(v);
    ar & BOOST_SERIALIZATION_NVP(w);
    ar & BOOST_SERIALIZATION_NVP(x);
    ar & BOOST_SERIALIZATION_NVP(y);
    ar & BOOST_SERIALIZATION_NVP(z);
  }

  bool b = false;
  std::int64_t f = 0;
  std::uint64_t g = 0;
  h l = i;
  std::size_t m = 0;
  signed long n = 0;
  unsigned long o = 0;
  signed short p = 0;
  unsigned short q = 0;
  wchar_t r = 0;
  char c = 0;
  signed char s = 0;
  unsigned char t = 0;
  signed int u = 0;
  unsigned int v = 0;
  float w = 0;
  double x = 0;
  std::string y;
  std::wstring z;
};
struct AHash {
  std::size_t operator()(const A& a) const { return a.hash(); }
};

/// A managed object whose fields are the values one Boost test writes, each as a field of its own.
template <class... Ts>
struct Fields final : Object {
  std::tuple<Ts...> values;
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    std::apply([&](auto&... v) { ((ar & boost::serialization::make_nvp("value", v)), ...); }, values);
  }
};
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

using SimpleClass = Fields<A, A, A>;  // test_simple_class.cpp, test_multiple_ptrs.cpp's values

// ---- test/A.hpp: the widest integers -----------------------------------------------------------

struct Wide final : Object {
  snapheap_port::int128 s = 0;
  snapheap_port::uint128 u = 0;
  std::vector<snapheap_port::int128> in_a_vector;
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & BOOST_SERIALIZATION_NVP(s) & BOOST_SERIALIZATION_NVP(u) & BOOST_SERIALIZATION_NVP(in_a_vector);
  }
};

// ---- test/B.hpp, test_derived_class.cpp, test_nvp.cpp ------------------------------------------

/// Boost's B: derived from A (a value type, not polymorphic) and saving its base through
/// BOOST_SERIALIZATION_BASE_OBJECT_NVP in a split save/load; class version 2. Managed here (a
/// value type cannot carry a class version).
class B final : public Object, public A {
 public:
  B() = default;
  explicit B(std::mt19937_64& gen) : A(gen), s(random_bits<signed char>(gen)), x(random_bits<double>(gen)) {}
  bool operator==(const B& rhs) const {
    return static_cast<const A&>(*this) == rhs && s == rhs.s && bits(x) == bits(rhs.x);
  }
  void trace(Tracer&) const override {}
  unsigned loaded_version = 99;

 private:
  friend class boost::serialization::access;
  template <class Archive>
  void save(Archive& ar, unsigned) const {
    ar << BOOST_SERIALIZATION_BASE_OBJECT_NVP(A);
    ar << BOOST_SERIALIZATION_NVP(s) << BOOST_SERIALIZATION_NVP(x);
  }
  template <class Archive>
  void load(Archive& ar, unsigned version) {
    ar >> BOOST_SERIALIZATION_BASE_OBJECT_NVP(A);
    ar >> BOOST_SERIALIZATION_NVP(s) >> BOOST_SERIALIZATION_NVP(x);
    loaded_version = version;
  }
  BOOST_SERIALIZATION_SPLIT_MEMBER()
  signed char s = 0;
  double x = 0;
};

// ---- test/D.hpp, test_multiple_ptrs.cpp --------------------------------------------------------

struct D final : Object {
  Member<B> b1, b2;
  void trace(Tracer& t) const override {
    t.trace(b1);
    t.trace(b2);
  }

 private:
  friend class boost::serialization::access;
  template <class Archive>
  void save(Archive& ar, unsigned) const {
    ar << BOOST_SERIALIZATION_NVP(b1) << BOOST_SERIALIZATION_NVP(b2);
  }
  template <class Archive>
  void load(Archive& ar, unsigned) {
    ar >> boost::serialization::make_nvp("b", b1) >> boost::serialization::make_nvp("b", b2);
  }
  BOOST_SERIALIZATION_SPLIT_MEMBER()
};

// ---- test_contained_class.cpp ------------------------------------------------------------------

/// B as a value type (no class version), contained by value in C.
class ValueB : public A {
 public:
  ValueB() = default;
  explicit ValueB(std::mt19937_64& gen) : A(gen), u2(random_bits<int>(gen)) {}
  bool operator==(const ValueB& rhs) const { return static_cast<const A&>(*this) == rhs && u2 == rhs.u2; }

 private:
  friend class boost::serialization::access;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & BOOST_SERIALIZATION_BASE_OBJECT_NVP(A) & BOOST_SERIALIZATION_NVP(u2);
  }
  int u2 = 0;
};
class C {
 public:
  C() = default;
  explicit C(std::mt19937_64& gen) : b(gen) {}
  bool operator==(const C&) const = default;

 private:
  friend class boost::serialization::access;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & BOOST_SERIALIZATION_NVP(b);
  }
  ValueB b;
};
using ContainedClass = Fields<C, std::vector<C>>;

// ---- test_non_intrusive.cpp --------------------------------------------------------------------

/// Public members, serialized by a free function in namespace boost::serialization.
struct NonIntrusive {
  signed char s = 0;
  unsigned char t = 0;
  signed int u = 0;
  unsigned int v = 0;
  float w = 0;
  double x = 0;
  bool operator==(const NonIntrusive& o) const {
    return s == o.s && t == o.t && u == o.u && v == o.v && bits(w) == bits(o.w) && bits(x) == bits(o.x);
  }
};
struct NonIntrusiveBox final : Object {
  NonIntrusive a;
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & BOOST_SERIALIZATION_NVP(a);
  }
};
/// The test's pa1 = &a and pa2 = new A: a Member to the object holding a, and one to another.
struct NonIntrusivePointers final : Object {
  Member<NonIntrusiveBox> a, pa1, pa2;
  void trace(Tracer& t) const override {
    t.trace(a);
    t.trace(pa1);
    t.trace(pa2);
  }
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & BOOST_SERIALIZATION_NVP(a) & BOOST_SERIALIZATION_NVP(pa1) & BOOST_SERIALIZATION_NVP(pa2);
  }
};

// ---- test_split.cpp ----------------------------------------------------------------------------

/// Each counts its saves up and its loads down (the count itself is not saved).
class SplitA {
 public:
  int count = 0;

 private:
  friend class boost::serialization::access;
  template <class Archive>
  void save(Archive&, unsigned) const {
    ++const_cast<SplitA&>(*this).count;
  }
  template <class Archive>
  void load(Archive&, unsigned) {
    --count;
  }
  BOOST_SERIALIZATION_SPLIT_MEMBER()
};
class SplitB {
 public:
  int count = 0;

 private:
  friend class boost::serialization::access;
  template <class Archive>
  void save(Archive&, unsigned) const {
    ++const_cast<SplitB&>(*this).count;
  }
  template <class Archive>
  void load(Archive&, unsigned) {
    --count;
  }
};
struct SplitC {
  int count = 0;
};
struct SplitABC final : Object {
  SplitA a;
  SplitB b;
  SplitC c;
  int after = 0;  // something written after them, to see that they read nothing more
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & BOOST_SERIALIZATION_NVP(a) & BOOST_SERIALIZATION_NVP(b) & BOOST_SERIALIZATION_NVP(c) & after;
  }
};

/// test_split.cpp's split save() with data: locals computed in save() (a std::vector<int>, a
/// std::string, and a buffer written by make_binary_object as test_binary.cpp does), each
/// `bytes` long (the vector rounds down to whole ints), from `seed`.
class SplitSavesLocals final : public Object {
 public:
  std::uint32_t bytes = 0;
  std::uint64_t seed = 0;
  std::vector<int> ints;  // what load() read
  std::string text;
  std::vector<char> blob;
  void trace(Tracer&) const override {}

 private:
  friend class boost::serialization::access;
  template <class Archive>
  void save(Archive& ar, unsigned) const {
    ar << BOOST_SERIALIZATION_NVP(bytes) << BOOST_SERIALIZATION_NVP(seed);
    const std::vector<int> local_ints = snapheap_port::pattern<int>(bytes / sizeof(int), seed);
    ar << BOOST_SERIALIZATION_NVP(local_ints);
    const std::string local_text = snapheap_port::pattern_string(bytes, seed + 1);
    ar << BOOST_SERIALIZATION_NVP(local_text);
    const std::vector<char> buffer = snapheap_port::pattern<char>(bytes, seed + 2);
    ar << boost::serialization::make_nvp("data", boost::serialization::make_binary_object(buffer.data(), buffer.size()));
  }
  template <class Archive>
  void load(Archive& ar, unsigned) {
    ar >> BOOST_SERIALIZATION_NVP(bytes) >> BOOST_SERIALIZATION_NVP(seed);
    ar >> boost::serialization::make_nvp("local_ints", ints) >> boost::serialization::make_nvp("local_text", text);
    blob.resize(bytes);
    ar >> boost::serialization::make_nvp("data", boost::serialization::make_binary_object(blob.data(), blob.size()));
  }
  BOOST_SERIALIZATION_SPLIT_MEMBER()
};
/// A split save() with a local std::vector<std::int64_t> of 800,000 bytes.
class SplitSavesInt64s final : public Object {
 public:
  std::uint64_t seed = 0;
  std::vector<std::int64_t> values;
  void trace(Tracer&) const override {}

 private:
  friend class boost::serialization::access;
  template <class Archive>
  void save(Archive& ar, unsigned) const {
    ar << BOOST_SERIALIZATION_NVP(seed);
    const std::vector<std::int64_t> local = snapheap_port::pattern<std::int64_t>(100000, seed);
    ar << BOOST_SERIALIZATION_NVP(local);
  }
  template <class Archive>
  void load(Archive& ar, unsigned) {
    ar >> BOOST_SERIALIZATION_NVP(seed) >> boost::serialization::make_nvp("local", values);
  }
  BOOST_SERIALIZATION_SPLIT_MEMBER()
};
/// A serialize() that writes temporaries when saving: `ar & std::vector<int>(count, 7)`, then
/// `count` ints of -1, and reads them into members when loading.
struct SerializeSavesTemporaries final : Object {
  std::uint32_t count = 0;
  std::vector<int> sevens, minus_ones;
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & BOOST_SERIALIZATION_NVP(count);
    if constexpr (Archive::is_saving::value) {
      ar & std::vector<int>(count, 7);
      ar & std::vector<int>(count, -1);
    } else {
      ar & sevens & minus_ones;
    }
  }
};

/// test_split.cpp's A changes itself in save() (++count). Here save() reuses one member buffer
/// for two fields: it fills it, writes it, fills it again and writes it again.
struct SaveReusesBuffer final : Object {
  mutable std::vector<int> scratch;
  std::vector<int> first, second;  // what load() read
  std::uint32_t count = 0;
  void trace(Tracer&) const override {}
  template <class Archive>
  void save(Archive& ar, unsigned) const {
    ar << BOOST_SERIALIZATION_NVP(count);
    scratch.assign(count, 1);
    ar << boost::serialization::make_nvp("first", scratch);
    std::fill(scratch.begin(), scratch.end(), 2);  // same size: the buffer is reused as it is
    ar << boost::serialization::make_nvp("second", scratch);
  }
  template <class Archive>
  void load(Archive& ar, unsigned) {
    ar >> BOOST_SERIALIZATION_NVP(count) >> BOOST_SERIALIZATION_NVP(first) >> BOOST_SERIALIZATION_NVP(second);
  }
  BOOST_SERIALIZATION_SPLIT_MEMBER()
};
/// The same across objects: every object's save() fills one buffer shared by all of them.
struct SaveSharesBuffer final : Object {
  static inline std::vector<int> shared;
  int fill = 0;
  std::vector<int> loaded;
  void trace(Tracer&) const override {}
  template <class Archive>
  void save(Archive& ar, unsigned) const {
    ar << BOOST_SERIALIZATION_NVP(fill);
    shared.assign(2000, fill);
    ar << boost::serialization::make_nvp("values", shared);
  }
  template <class Archive>
  void load(Archive& ar, unsigned) {
    ar >> BOOST_SERIALIZATION_NVP(fill) >> boost::serialization::make_nvp("values", loaded);
  }
  BOOST_SERIALIZATION_SPLIT_MEMBER()
};

// ---- test_binary.cpp ---------------------------------------------------------------------------

class BinaryA {
 public:
  BinaryA() = default;
  explicit BinaryA(std::mt19937_64& gen) {
    for (char& ch : data) ch = static_cast<char>(gen() & 0xff);
  }
  bool operator==(const BinaryA& rhs) const { return std::memcmp(data, rhs.data, sizeof data) == 0; }

 private:
  friend class boost::serialization::access;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & boost::serialization::make_nvp("data", boost::serialization::make_binary_object(data, sizeof(data)));
  }
  char data[150] = {};
};
struct Binary final : Object {
  char s1[10] = {}, s2[10] = {}, s3[10] = {}, s4[10] = {};  // loaded: 2 to 5 bytes of each
  BinaryA a;
  int i = 0;
  unsigned char large[9000] = {};
  void trace(Tracer&) const override {}
  template <class Archive>
  void save(Archive& ar, unsigned) const {
    // As the test does: the C strings "a" to "abcd" (with their NUL) from the test's own arrays.
    const char t1[] = "a", t2[] = "ab", t3[] = "abc", t4[] = "abcd";
    ar << boost::serialization::make_nvp("s1", boost::serialization::make_binary_object(t1, sizeof(t1)));
    ar << boost::serialization::make_nvp("s2", boost::serialization::make_binary_object(t2, sizeof(t2)));
    ar << boost::serialization::make_nvp("s3", boost::serialization::make_binary_object(t3, sizeof(t3)));
    ar << boost::serialization::make_nvp("s4", boost::serialization::make_binary_object(t4, sizeof(t4)));
    ar << BOOST_SERIALIZATION_NVP(a) << BOOST_SERIALIZATION_NVP(i);
    ar << boost::serialization::make_nvp("large", boost::serialization::make_binary_object(large, sizeof(large)));
  }
  template <class Archive>
  void load(Archive& ar, unsigned) {
    ar >> boost::serialization::make_nvp("s1", boost::serialization::make_binary_object(s1, 2));
    ar >> boost::serialization::make_nvp("s2", boost::serialization::make_binary_object(s2, 3));
    ar >> boost::serialization::make_nvp("s3", boost::serialization::make_binary_object(s3, 4));
    ar >> boost::serialization::make_nvp("s4", boost::serialization::make_binary_object(s4, 5));
    ar >> BOOST_SERIALIZATION_NVP(a) >> BOOST_SERIALIZATION_NVP(i);
    ar >> boost::serialization::make_nvp("large", boost::serialization::make_binary_object(large, sizeof(large)));
  }
  BOOST_SERIALIZATION_SPLIT_MEMBER()
};

// ---- test_bitset.cpp ---------------------------------------------------------------------------

struct SmallBitset final : Object {
  std::bitset<8> bitset;
  std::bitset<4095> below_threshold;  // its string form: 4,095 bytes
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & boost::serialization::make_nvp("bitset", bitset) & BOOST_SERIALIZATION_NVP(below_threshold);
  }
};
struct LargeBitsets final : Object {
  std::bitset<4096> b4096;
  std::bitset<200000> b200000;
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & BOOST_SERIALIZATION_NVP(b4096) & BOOST_SERIALIZATION_NVP(b200000);
  }
};
template <std::size_t N>
std::bitset<N> random_bitset(std::mt19937_64& gen) {
  std::bitset<N> out;
  for (std::size_t k = 0; k < N; ++k) out[k] = (gen() & 1) != 0;
  return out;
}

// ---- test_array.cpp, test_native_array.cpp, test_boost_array.cpp -------------------------------

struct Arrays final : Object {
  std::array<A, 10> a_array;
  std::array<int, 10> i_array{};
  A native[10];
  A native_2d[2][3];
  int native_i[10] = {};
  int native_2d_i[2][3] = {};
  boost::array<A, 10> boost_a;
  boost::array<int, 10> boost_i{};
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & BOOST_SERIALIZATION_NVP(a_array) & BOOST_SERIALIZATION_NVP(i_array);
    ar & BOOST_SERIALIZATION_NVP(native) & BOOST_SERIALIZATION_NVP(native_2d);
    ar & BOOST_SERIALIZATION_NVP(native_i) & BOOST_SERIALIZATION_NVP(native_2d_i);
    ar & BOOST_SERIALIZATION_NVP(boost_a) & BOOST_SERIALIZATION_NVP(boost_i);
  }
};
/// The same field with 10 and with 9 elements, in two programs (names of the same length).
template <std::size_t N>
struct IntArray final : Object {
  std::array<int, N> a_array{};
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & BOOST_SERIALIZATION_NVP(a_array);
  }
};
template <std::size_t N>
struct AArray final : Object {
  A native[N];
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & BOOST_SERIALIZATION_NVP(native);
  }
};
using IntArray10 = IntArray<10>;
using IntArray9 = IntArray<9>;
using AArray10 = AArray<10>;
using AArray9 = AArray<9>;

// ---- test_vector, test_list, test_deque, test_map, test_map_hashed, test_set, test_set_hashed ---

struct RandomKey {
  int m_i = 0;
  bool operator<(const RandomKey& rhs) const { return m_i < rhs.m_i; }
  bool operator==(const RandomKey& rhs) const { return m_i == rhs.m_i; }
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & boost::serialization::make_nvp("random_key", m_i);
  }
};
struct RandomKeyHash {
  std::size_t operator()(const RandomKey& k) const { return std::hash<int>()(k.m_i); }
};
using Sequences = Fields<std::vector<A>, std::vector<int>, std::vector<bool>, std::list<A>, std::list<int>,
                         std::deque<A>, std::deque<int>, std::vector<A>>;
using Maps = Fields<std::map<RandomKey, A>, std::multimap<RandomKey, A>, std::map<int, int>, std::pair<int, int>,
                    std::unordered_map<RandomKey, A, RandomKeyHash>, std::unordered_multimap<RandomKey, A, RandomKeyHash>>;
using Sets = Fields<std::set<A>, std::multiset<A>, std::unordered_set<A, AHash>, std::unordered_multiset<A, AHash>>;

// ---- test_optional.cpp, test_variant.cpp, test_complex.cpp, test_unique_ptr.cpp ----------------

struct OptA {
  int m_x = 0;
  OptA() = default;
  explicit OptA(int x) : m_x(x) {}
  bool operator==(const OptA&) const = default;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & boost::serialization::make_nvp("x", m_x);
  }
};
using Optionals = Fields<std::optional<int>, std::optional<int>, std::optional<OptA>, std::optional<OptA>>;
using AVariant = std::variant<bool, int, float, double, A, std::string, std::vector<int>>;
using Variants = Fields<AVariant>;
using Complexes = Fields<std::complex<float>, std::complex<double>>;

/// test_unique_ptr.cpp's A, held by a unique_ptr.
class UniqueA {
 public:
  int x = 0;

 private:
  friend class boost::serialization::access;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & BOOST_SERIALIZATION_NVP(x);
  }
};
struct HoldsUnique final : Object {
  std::unique_ptr<UniqueA> spa;
  std::unique_ptr<UniqueA> empty;
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & BOOST_SERIALIZATION_NVP(spa) & BOOST_SERIALIZATION_NVP(empty);
  }
};
/// test_derived_class_ptr.cpp's base and derived, as value types held through a unique_ptr<Base>.
struct PolyValueBase {
  virtual ~PolyValueBase() = default;
  int i = 0;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & BOOST_SERIALIZATION_NVP(i);
  }
};
struct PolyValueDerived final : PolyValueBase {
  int j = 0;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & boost::serialization::make_nvp("base", static_cast<PolyValueBase&>(*this)) & BOOST_SERIALIZATION_NVP(j);
  }
};
struct HoldsPolyValue final : Object {
  std::unique_ptr<PolyValueBase> p;
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & BOOST_SERIALIZATION_NVP(p);
  }
};

// ---- test_cyclic_ptrs.cpp, test_recursion.cpp (J.hpp) ------------------------------------------

/// J: an A with a pointer to a J, its base saved with BOOST_SERIALIZATION_BASE_OBJECT_NVP(A)
/// (a value type, not polymorphic); class version 6.
class J final : public Object, public A {
 public:
  J() = default;
  explicit J(std::mt19937_64& gen) : A(gen) {}
  Member<J> j;
  unsigned loaded_version = 99;
  void trace(Tracer& tracer) const override { tracer.trace(j); }

 private:
  friend class boost::serialization::access;
  template <class Archive>
  void serialize(Archive& ar, unsigned version) {
    ar & BOOST_SERIALIZATION_BASE_OBJECT_NVP(A);
    ar & BOOST_SERIALIZATION_NVP(j);
    if (Archive::is_loading::value) loaded_version = version;
  }
};
/// K: three Js pointing at each other in a cycle (Boost refuses it with pointer_conflict, as its
/// Js are members of K; managed Js are objects of their own).
struct K final : Object {
  Member<J> j1, j2, j3;
  void trace(Tracer& t) const override {
    t.trace(j1);
    t.trace(j2);
    t.trace(j3);
  }
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & BOOST_SERIALIZATION_NVP(j1) & BOOST_SERIALIZATION_NVP(j2) & BOOST_SERIALIZATION_NVP(j3);
  }
};

// ---- test_list_ptrs.cpp, test_null_ptr.cpp, test_shared_ptr.cpp's sharing ----------------------

struct Node final : Object {
  int value = 0;
  Node() = default;
  explicit Node(int v) : value(v) {}
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & BOOST_SERIALIZATION_NVP(value);
  }
};
struct Pointers final : Object {
  std::list<Member<Node>> list;
  std::vector<Member<Node>> vector;
  Member<Node> null_member;
  Member<Node> shared1, shared2;
  Weak<Node> weak_saved, weak_unsaved, weak_dead, weak_empty;
  std::map<int, Weak<Node>> weak_map;
  void trace(Tracer& t) const override {
    t.trace(list);
    t.trace(vector);
    t.trace(null_member);
    t.trace(shared1);
    t.trace(shared2);
    t.trace(weak_saved);
    t.trace(weak_unsaved);
    t.trace(weak_dead);
    t.trace(weak_empty);
    for (const auto& [key, w] : weak_map) t.trace(w);
  }
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & BOOST_SERIALIZATION_NVP(list) & BOOST_SERIALIZATION_NVP(vector) & BOOST_SERIALIZATION_NVP(null_member);
    ar & BOOST_SERIALIZATION_NVP(shared1) & BOOST_SERIALIZATION_NVP(shared2);
    ar & BOOST_SERIALIZATION_NVP(weak_saved) & BOOST_SERIALIZATION_NVP(weak_unsaved);
    ar & BOOST_SERIALIZATION_NVP(weak_dead) & BOOST_SERIALIZATION_NVP(weak_empty) & BOOST_SERIALIZATION_NVP(weak_map);
  }
};

// ---- test_tracking.cpp, test_class_info_save.cpp, test_class_info_load.cpp, test_unregistered --

/// A managed type and a value type that count how often their serialize runs.
struct TrackedCounter final : Object {
  static inline int count = 0;
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive&, unsigned) {
    ++count;
  }
};
struct UntrackedCounter {
  static inline int count = 0;
  int payload = 1;  // a value written in a container must write something
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & payload;
    ++count;
  }
};
struct Tracking final : Object {
  Member<TrackedCounter> first, second;  // one object twice
  UntrackedCounter value;
  std::vector<UntrackedCounter> values{std::vector<UntrackedCounter>(2)};
  void trace(Tracer& t) const override {
    t.trace(first);
    t.trace(second);
  }
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & first & second & value & values;
  }
};

/// test_class_info_save / load: A without class information (version 0) and B with version 2
/// (the version a later build reads records of, with version 4).
struct InfoA final : Object {
  static inline unsigned last_version = 99;
  static inline int count = 0;
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive&, unsigned version) {
    last_version = version;
    ++count;
  }
};
/// A value type inside InfoB, versioned through its owner (it cannot have a version of its own).
struct InfoPart {
  unsigned seen = 99;  // the owner's record version, as the value type sees it
  int data = 0;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    seen = ar.class_version();
    ar & data;
  }
};
template <unsigned Version>
struct InfoB final : Object {
  static inline unsigned last_version = 99;
  static inline int count = 0;
  int data = 0;
  int added_in_4 = -1;
  InfoPart part;
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned version) {
    ar & data;
    if (version >= 4) ar & added_in_4;
    ar & part;
    last_version = version;
    ++count;
  }
};
using InfoB2 = InfoB<2>;
using InfoB4 = InfoB<4>;
struct Infos final : Object {
  Member<InfoA> a1, a2;
  Member<Object> b1, b2;
  void trace(Tracer& t) const override {
    t.trace(a1);
    t.trace(a2);
    t.trace(b1);
    t.trace(b2);
  }
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & BOOST_SERIALIZATION_NVP(a1) & BOOST_SERIALIZATION_NVP(a2) & BOOST_SERIALIZATION_NVP(b1)
       & BOOST_SERIALIZATION_NVP(b2);
  }
};

/// test_unregistered.cpp: a managed base, a derived type nobody registered, and type1 / type2
/// with class versions 1 and 2.
struct UnregBase : Object {
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive&, unsigned) {}
};
struct UnregDerived final : UnregBase {
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & snapheap::base<UnregBase>(*this);
  }
};
struct HoldsUnregistered final : Object {
  Member<UnregBase> rb1;
  void trace(Tracer& t) const override { t.trace(rb1); }
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & BOOST_SERIALIZATION_NVP(rb1);
  }
};
struct Type1 final : Object {
  static inline unsigned seen = 99;
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive&, unsigned version) {
    seen = version;
  }
};
struct Type2 final : Object {
  static inline unsigned seen = 99;
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive&, unsigned version) {
    seen = version;
  }
};

// ---- test_interrupts.cpp -----------------------------------------------------------------------

struct ThrowsOnSave final : Object {
  int value = 1;
  void trace(Tracer&) const override {}
  template <class Archive>
  void save(Archive&, unsigned) const {
    throw std::runtime_error("test_dummy_out");
  }
  template <class Archive>
  void load(Archive& ar, unsigned) {
    ar & value;
  }
  BOOST_SERIALIZATION_SPLIT_MEMBER()
};
struct ThrowsOnLoad final : Object {
  std::vector<int> payload{std::vector<int>(5000, 3)};
  void trace(Tracer&) const override {}
  template <class Archive>
  void save(Archive& ar, unsigned) const {
    ar & payload;
  }
  template <class Archive>
  void load(Archive& ar, unsigned) {
    ar & payload;
    throw std::runtime_error("test_dummy_in");
  }
  BOOST_SERIALIZATION_SPLIT_MEMBER()
};
struct InterruptHolder final : Object {
  Member<Node> before;
  Member<ThrowsOnLoad> thrower;
  void trace(Tracer& t) const override {
    t.trace(before);
    t.trace(thrower);
  }
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & before & thrower;
  }
};

// ---- test_private_base.cpp, test_private_ctor.cpp, test_mi.cpp (not polymorphic) ---------------

class PrivateBase {
  friend class boost::serialization::access;
  int m_i;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & BOOST_SERIALIZATION_NVP(m_i);
  }

 protected:
  bool equals(const PrivateBase& rhs) const { return m_i == rhs.m_i; }
  explicit PrivateBase(int i = 0) : m_i(i) {}
};
class PrivateDerived : private PrivateBase {
  friend class boost::serialization::access;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & BOOST_SERIALIZATION_BASE_OBJECT_NVP(PrivateBase);
  }

 public:
  bool operator==(const PrivateDerived& rhs) const { return PrivateBase::equals(rhs); }
  explicit PrivateDerived(int i = 0) : PrivateBase(i) {}
};
using PrivateBaseFields = Fields<PrivateDerived>;

/// test_private_ctor.cpp's V: its default constructor is private.
class V final : public Object {
 public:
  explicit V(int i) : m_i(i) {}
  int value() const { return m_i; }
  void trace(Tracer&) const override {}

 private:
  friend class boost::serialization::access;  // serialize() is private
  friend class snapheap::access;              // and so is the default constructor
  V() = default;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & m_i;
  }
  int m_i = 0;
};

/// test_mi.cpp's C: two bases saved with BOOST_SERIALIZATION_BASE_OBJECT_NVP (here not
/// polymorphic; the polymorphic original is below, with the cases that do not link).
class MiA {
  friend class boost::serialization::access;
  int x;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & BOOST_SERIALIZATION_NVP(x);
  }

 public:
  explicit MiA(int xx = 0) : x(xx) {}
  int get_x() const { return x; }
};
class MiB {
  friend class boost::serialization::access;
  int y;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & BOOST_SERIALIZATION_NVP(y);
  }

 public:
  explicit MiB(int yy = 0) : y(yy) {}
  int get_y() const { return y; }
};
class MiC : public MiA, public MiB {
  friend class boost::serialization::access;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & BOOST_SERIALIZATION_BASE_OBJECT_NVP(MiA);
    ar & BOOST_SERIALIZATION_BASE_OBJECT_NVP(MiB);
  }

 public:
  MiC() = default;
  MiC(int xx, int yy) : MiA(xx), MiB(yy) {}
};
struct HoldsMi final : Object {
  MiC c;
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & BOOST_SERIALIZATION_NVP(c);
  }
};

// ---- test_object.cpp ---------------------------------------------------------------------------

struct ObjectLevel {
  template <class Archive>
  void serialize(Archive&, unsigned) {}
};
struct HoldsObjectLevel final : Object {
  ObjectLevel a;
  int after = 0;
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & BOOST_SERIALIZATION_NVP(a) & after;
  }
};

// ---- test_derived.cpp, test_cyclic_ptrs.cpp: base_object of a MANAGED base ---------------------

/// test_derived.cpp's base / derived1 / derived2, managed: the base class is a snapheap::Object
/// (so polymorphic), and the derived classes save it with base_object / BASE_OBJECT_NVP.
struct ManagedBase : Object {
  int base_value = 0;
  std::string label;
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & BOOST_SERIALIZATION_NVP(base_value) & BOOST_SERIALIZATION_NVP(label);
  }
};
struct ManagedDerived1 final : ManagedBase {
  double d = 0;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & boost::serialization::base_object<ManagedBase>(*this);
    ar & BOOST_SERIALIZATION_NVP(d);
  }
};
struct ManagedDerived2 final : ManagedBase {
  double d = 0;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & BOOST_SERIALIZATION_BASE_OBJECT_NVP(ManagedBase);
    ar & BOOST_SERIALIZATION_NVP(d);
  }
};
/// The same fields through snapheap::base: the reference the two above must match byte for byte.
struct ManagedDerivedRef final : ManagedBase {
  double d = 0;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & snapheap::base<ManagedBase>(*this);
    ar & BOOST_SERIALIZATION_NVP(d);
  }
};
struct HoldsManagedDerived final : Object {
  Member<ManagedDerived1> d1;
  Member<ManagedDerived2> d2;
  Member<ManagedBase> b1, b2;  // the same objects through their base
  void trace(Tracer& t) const override {
    t.trace(d1);
    t.trace(d2);
    t.trace(b1);
    t.trace(b2);
  }
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & BOOST_SERIALIZATION_NVP(d1) & BOOST_SERIALIZATION_NVP(d2) & BOOST_SERIALIZATION_NVP(b1)
       & BOOST_SERIALIZATION_NVP(b2);
  }
};
/// test_cyclic_ptrs.cpp's J with a managed base: BASE_OBJECT_NVP, a pointer to itself, version 6.
struct ManagedJBase : Object {
  std::int64_t f = 0;
  std::string y;
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & BOOST_SERIALIZATION_NVP(f) & BOOST_SERIALIZATION_NVP(y);
  }
};
struct ManagedJ final : ManagedJBase {
  Member<ManagedJ> j;
  unsigned loaded_version = 99;
  void trace(Tracer& t) const override {
    ManagedJBase::trace(t);
    t.trace(j);
  }
  template <class Archive>
  void serialize(Archive& ar, unsigned version) {
    ar & BOOST_SERIALIZATION_BASE_OBJECT_NVP(ManagedJBase);
    ar & BOOST_SERIALIZATION_NVP(j);
    if (Archive::is_loading::value) loaded_version = version;
  }
};

// ---- test_mi.cpp: polymorphic value-type bases -------------------------------------------------

class PolyMiA {
  friend class boost::serialization::access;
  int x;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & BOOST_SERIALIZATION_NVP(x);
  }

 public:
  explicit PolyMiA(int xx = 0) : x(xx) {}
  virtual ~PolyMiA() = default;
  int get_x() const { return x; }
};
class PolyMiB {
  friend class boost::serialization::access;
  int y;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & BOOST_SERIALIZATION_NVP(y);
  }

 public:
  explicit PolyMiB(int yy = 0) : y(yy) {}
  virtual ~PolyMiB() = default;
  int get_y() const { return y; }
};
class PolyMiC : public PolyMiA, public PolyMiB {
  friend class boost::serialization::access;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & BOOST_SERIALIZATION_BASE_OBJECT_NVP(PolyMiA);
    ar & BOOST_SERIALIZATION_BASE_OBJECT_NVP(PolyMiB);
  }

 public:
  PolyMiC() = default;
  PolyMiC(int xx, int yy) : PolyMiA(xx), PolyMiB(yy) {}
};
struct HoldsPolyMi final : Object {
  PolyMiC c;
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & BOOST_SERIALIZATION_NVP(c);
  }
};

}  // namespace boost_port_test

// test_split.cpp: B's serialize is a free function that calls split_member; C's save and load
// are free functions joined by BOOST_SERIALIZATION_SPLIT_FREE.
namespace boost::serialization {
template <class Archive>
void serialize(Archive& ar, boost_port_test::SplitB& b, const unsigned int file_version) {
  boost::serialization::split_member(ar, b, file_version);
}
template <class Archive>
void save(Archive&, const boost_port_test::SplitC& c, const unsigned int) {
  ++const_cast<boost_port_test::SplitC&>(c).count;
}
template <class Archive>
void load(Archive&, boost_port_test::SplitC& c, const unsigned int) {
  --c.count;
}
// test_non_intrusive.cpp: serialize for a class that knows nothing of serialization.
template <class Archive>
void serialize(Archive& ar, boost_port_test::NonIntrusive& a, const unsigned int) {
  ar & boost::serialization::make_nvp("s", a.s);
  ar & boost::serialization::make_nvp("t", a.t);
  ar & boost::serialization::make_nvp("u", a.u);
  ar & boost::serialization::make_nvp("v", a.v);
  ar & boost::serialization::make_nvp("w", a.w);
  ar & boost::serialization::make_nvp("x", a.x);
}
}  // namespace boost::serialization
BOOST_SERIALIZATION_SPLIT_FREE(boost_port_test::SplitC)

BOOST_CLASS_TRACKING(boost_port_test::UntrackedCounter, boost::serialization::track_never)
BOOST_CLASS_IMPLEMENTATION(boost_port_test::InfoA, boost::serialization::object_serializable)
BOOST_CLASS_IMPLEMENTATION(boost_port_test::ObjectLevel, boost::serialization::object_serializable)

BOOST_CLASS_VERSION(boost_port_test::B, 2)
BOOST_CLASS_VERSION(boost_port_test::J, 6)
BOOST_CLASS_VERSION(boost_port_test::InfoB2, 2)
BOOST_CLASS_VERSION(boost_port_test::InfoB4, 4)
BOOST_CLASS_VERSION(boost_port_test::Type1, 1)
BOOST_CLASS_VERSION(boost_port_test::Type2, 2)
BOOST_CLASS_VERSION(boost_port_test::ManagedJ, 6)

SNAPHEAP_REGISTER(boost_port_test::SimpleClass);
SNAPHEAP_REGISTER(boost_port_test::Wide);
SNAPHEAP_REGISTER(boost_port_test::B);
SNAPHEAP_REGISTER(boost_port_test::D);
SNAPHEAP_REGISTER(boost_port_test::ContainedClass);
SNAPHEAP_REGISTER(boost_port_test::NonIntrusiveBox);
SNAPHEAP_REGISTER(boost_port_test::NonIntrusivePointers);
SNAPHEAP_REGISTER(boost_port_test::SplitABC);
SNAPHEAP_REGISTER(boost_port_test::SplitSavesLocals);
SNAPHEAP_REGISTER(boost_port_test::SplitSavesInt64s);
SNAPHEAP_REGISTER(boost_port_test::SerializeSavesTemporaries);
SNAPHEAP_REGISTER(boost_port_test::SaveReusesBuffer);
SNAPHEAP_REGISTER(boost_port_test::SaveSharesBuffer);
SNAPHEAP_REGISTER(boost_port_test::Binary);
SNAPHEAP_REGISTER(boost_port_test::SmallBitset);
SNAPHEAP_REGISTER(boost_port_test::LargeBitsets);
SNAPHEAP_REGISTER(boost_port_test::Arrays);
// One field of 10 and of 9 elements: two programs, names of the same length.
SNAPHEAP_REGISTER_AS(boost_port_test::IntArray10, "boost.IntArray.A");
SNAPHEAP_REGISTER_AS(boost_port_test::IntArray9, "boost.IntArray.B");
SNAPHEAP_REGISTER_AS(boost_port_test::AArray10, "boost.AArray.A");
SNAPHEAP_REGISTER_AS(boost_port_test::AArray9, "boost.AArray.B");
SNAPHEAP_REGISTER(boost_port_test::Sequences);
SNAPHEAP_REGISTER(boost_port_test::Maps);
SNAPHEAP_REGISTER(boost_port_test::Sets);
SNAPHEAP_REGISTER(boost_port_test::Optionals);
SNAPHEAP_REGISTER(boost_port_test::Variants);
SNAPHEAP_REGISTER(boost_port_test::Complexes);
SNAPHEAP_REGISTER(boost_port_test::HoldsUnique);
SNAPHEAP_REGISTER(boost_port_test::HoldsPolyValue);
SNAPHEAP_REGISTER(boost_port_test::J);
SNAPHEAP_REGISTER(boost_port_test::K);
SNAPHEAP_REGISTER(boost_port_test::Node);
SNAPHEAP_REGISTER(boost_port_test::Pointers);
SNAPHEAP_REGISTER(boost_port_test::TrackedCounter);
SNAPHEAP_REGISTER(boost_port_test::Tracking);
SNAPHEAP_REGISTER(boost_port_test::InfoA);
// B at version 2 and its later build at version 4: two programs, names of the same length.
SNAPHEAP_REGISTER_AS(boost_port_test::InfoB2, "boost.InfoB.v2");
SNAPHEAP_REGISTER_AS(boost_port_test::InfoB4, "boost.InfoB.v4");
SNAPHEAP_REGISTER(boost_port_test::Infos);
SNAPHEAP_REGISTER(boost_port_test::HoldsUnregistered);  // UnregDerived is left out on purpose
SNAPHEAP_REGISTER(boost_port_test::Type1);
SNAPHEAP_REGISTER(boost_port_test::Type2);
SNAPHEAP_REGISTER(boost_port_test::ThrowsOnSave);
SNAPHEAP_REGISTER(boost_port_test::ThrowsOnLoad);
SNAPHEAP_REGISTER(boost_port_test::InterruptHolder);
SNAPHEAP_REGISTER(boost_port_test::PrivateBaseFields);
SNAPHEAP_REGISTER(boost_port_test::V);
SNAPHEAP_REGISTER(boost_port_test::HoldsMi);
SNAPHEAP_REGISTER(boost_port_test::HoldsObjectLevel);
// The base_object and snapheap::base builds of one derived class: names of the same length.
SNAPHEAP_REGISTER_AS(boost_port_test::ManagedDerived1, "boost.Derived.A");
SNAPHEAP_REGISTER_AS(boost_port_test::ManagedDerivedRef, "boost.Derived.R");
SNAPHEAP_REGISTER(boost_port_test::ManagedDerived2);
SNAPHEAP_REGISTER(boost_port_test::HoldsManagedDerived);
SNAPHEAP_REGISTER(boost_port_test::ManagedJ);
SNAPHEAP_REGISTER(boost_port_test::HoldsPolyMi);

using namespace boost_port_test;

namespace {

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

/// The snapshot of `source` with the type name `from` renamed `to` (same length) and resealed:
/// what a program that registers the type under `to` reads (see version_test.cpp).
std::vector<std::byte> renamed_snapshot(Heap& source, const std::string& from, const std::string& to) {
  ByteBuffer bytes;
  save(source, bytes);
  auto renamed = snapheap_stest::to_vector(bytes);
  snapheap_stest::replace_bytes(renamed, from, to);
  return snapheap_stest::reseal(std::move(renamed));
}

}  // namespace

// Boost test/test_simple_class.cpp (A.hpp, A.ipp)
TEST_CASE("boost test_simple_class: a class with a member of every primitive type round-trips", "[serialize][port]") {
  std::mt19937_64 gen(1);
  for (int n = 0; n < 100; ++n) {
    A a(gen), a2(gen), a3(gen);
    check_round_trip<SimpleClass>({a, a2, a3});
  }
  // Every member at its lowest, then its highest value.
  check_round_trip<SimpleClass>({A::limits(true), A::limits(false), A()});
}

// Boost test/test_simple_class.cpp: A's float and double members, compared by their bits.
TEST_CASE("boost test_simple_class: float and double members keep their bits (NaN payloads, -0, inf, denormals)",
          "[serialize][port]") {
  const std::pair<std::uint32_t, std::uint64_t> patterns[] = {
      {0x80000000, 0x8000000000000000},  // -0
      {0x7f800000, 0xfff0000000000000},  // +inf, -inf
      {0x7fc12345, 0x7ff8000000abcdef},  // quiet NaNs with payloads
      {0x7f800001, 0x7ff0000000000001},  // signalling NaNs
      {0xffbfffff, 0xfff7ffffffffffff},  // negative signalling NaNs, largest payloads
      {0x00000001, 0x0000000000000001},  // smallest denormals
      {0x807fffff, 0x800fffffffffffff},  // largest negative denormals
  };
  std::mt19937_64 gen(2);
  for (auto [fw, dx] : patterns) {
    INFO("float bits " << fw << ", double bits " << dx);
    A a(gen);
    a.set_float_bits(fw, dx);
    Heap restored;
    auto r = saved_and_loaded<SimpleClass>(restored, [&](SimpleClass& s) { s.values = {a, a, a}; });
    CHECK(std::get<0>(r->values).w_bits() == fw);
    CHECK(std::get<0>(r->values).x_bits() == dx);
    CHECK(std::get<2>(r->values) == a);
  }
}

// Boost test/A.hpp: the primitives of A, widened to 128 bits.
// Regression: a 128-bit field was once written as a 64-bit varint.
TEST_CASE("boost test_simple_class: __int128 and unsigned __int128 members round-trip in full", "[serialize][port]") {
  using snapheap_port::int128;
  using snapheap_port::uint128;
  static const uint128 two_100_plus_5 = (uint128{1} << 100) + 5;
  static const int128 max = static_cast<int128>(~uint128{0} >> 1);
  static const int128 min = -max - 1;
  static const std::pair<int128, uint128> cases[] = {
      {static_cast<int128>(two_100_plus_5), two_100_plus_5}, {min, 0}, {max, ~uint128{0}}, {-1, ~uint128{0} - 1}, {0, 0},
  };
  const std::size_t which = GENERATE(range(0, 5));
  static_assert(std::size(cases) == 5);
  const auto [s, u] = cases[which];
  INFO("case " << which);
  Heap restored;
  auto r = saved_and_loaded<Wide>(restored, [&](Wide& w) {
    w.s = s;
    w.u = u;
    w.in_a_vector = {s, static_cast<int128>(u), min, max};
  });
  CHECK(snapheap_port::halves(r->s) == snapheap_port::halves(s));
  CHECK(snapheap_port::halves(r->u) == snapheap_port::halves(u));
  REQUIRE(r->in_a_vector.size() == 4);
  CHECK(snapheap_port::halves(r->in_a_vector[0]) == snapheap_port::halves(s));
  CHECK(snapheap_port::halves(r->in_a_vector[1]) == snapheap_port::halves(u));
  CHECK(snapheap_port::halves(r->in_a_vector[2]) == snapheap_port::halves(min));
  CHECK(snapheap_port::halves(r->in_a_vector[3]) == snapheap_port::halves(max));
}

// Boost test/test_derived_class.cpp, test_nvp.cpp (B.hpp): a base part saved with
// BOOST_SERIALIZATION_BASE_OBJECT_NVP of a value-type base, in a split save/load, version 2.
TEST_CASE("boost test_derived_class: a managed class saves its value-type base with BASE_OBJECT_NVP",
          "[serialize][port]") {
  std::mt19937_64 gen(3);
  for (int n = 0; n < 20; ++n) {
    Heap heap;
    auto b = heap.make<B>(gen);
    heap.set_root("b", b);
    Heap restored;
    auto r = round_trip<B>(heap, restored, "b");
    REQUIRE(r);
    CHECK(*r == *b);
    CHECK(r->loaded_version == 2);
  }
}

// Boost test/test_multiple_ptrs.cpp (D.hpp): two pointers to one B load as one object.
TEST_CASE("boost test_multiple_ptrs: two Members to one object load as the same object", "[serialize][port]") {
  std::mt19937_64 gen(4);
  Heap heap;
  auto d = heap.make<D>();
  auto b = heap.make<B>(gen);
  d->b1 = b;
  d->b2 = b;
  heap.set_root("d", d);
  Heap restored;
  auto r = round_trip<D>(heap, restored, "d");
  REQUIRE(r);
  REQUIRE(r->b1);
  CHECK(r->b1.get() == r->b2.get());
  CHECK(*r->b1 == *b);
  CHECK(restored.stats().live_objects == 2);
}

// Boost test/test_contained_class.cpp
TEST_CASE("boost test_contained_class: a class containing a derived class by value round-trips", "[serialize][port]") {
  std::mt19937_64 gen(5);
  for (int n = 0; n < 20; ++n) check_round_trip<ContainedClass>({C(gen), {C(gen), C(gen), C()}});
}

// Boost test/test_non_intrusive.cpp: a free serialize in namespace boost::serialization; the
// test's pointer to `a` (pa1) and to a new A (pa2) are Members.
TEST_CASE("boost test_non_intrusive: a free serialize in boost::serialization is used, pointer identity is kept",
          "[serialize][port]") {
  std::mt19937_64 gen(6);
  Heap heap;
  auto p = heap.make<NonIntrusivePointers>();
  auto a = heap.make<NonIntrusiveBox>();
  auto other = heap.make<NonIntrusiveBox>();
  for (auto* box : {a.get(), other.get()})
    box->a = {random_bits<signed char>(gen), random_bits<unsigned char>(gen), random_bits<int>(gen),
              random_bits<unsigned>(gen), random_bits<float>(gen), random_bits<double>(gen)};
  p->a = a;
  p->pa1 = a;
  p->pa2 = other;
  heap.set_root("root", p);
  Heap restored;
  auto r = round_trip<NonIntrusivePointers>(heap, restored);
  REQUIRE(r);
  REQUIRE(r->a);
  CHECK(r->a->a == a->a);
  CHECK(r->pa1.get() == r->a.get());  // "Copy of pointer not correctly restored"
  REQUIRE(r->pa2);
  CHECK(r->pa2.get() != r->a.get());  // "Pointer not correctly restored"
  CHECK(r->pa2->a == other->a);
}

// Boost test/test_split.cpp
TEST_CASE("boost test_split: member split, split_member from a free serialize, and free split each run once",
          "[serialize][port]") {
  Heap heap;
  auto o = heap.make<SplitABC>();
  o->after = 12345;
  heap.set_root("root", o);
  Heap restored;
  auto r = round_trip<SplitABC>(heap, restored);
  REQUIRE(r);
  // Saving ran each save() once; loading ran each load() once on the new object.
  CHECK(o->a.count == 1);
  CHECK(o->b.count == 1);
  CHECK(o->c.count == 1);
  CHECK(r->a.count == -1);
  CHECK(r->b.count == -1);
  CHECK(r->c.count == -1);
  CHECK(r->after == 12345);
}

// Boost test/test_split.cpp with data: a split save() computing what it writes into locals, at
// sizes about the 4,096-byte block threshold and far past it; test_binary.cpp's
// make_binary_object over a buffer that save() owns.
// Regression: from 4,096 bytes, locals were once copied after save() returned, from freed memory.
TEST_CASE("boost test_split: a split save that writes locals of 4,095 to 800,000 bytes loads them back exactly",
          "[serialize][port]") {
  const std::uint32_t bytes = GENERATE(4095u, 4096u, 8192u, 800000u);
  INFO(bytes << " bytes");
  Heap heap;
  std::vector<Strong<SplitSavesLocals>> saved;
  for (std::uint64_t k = 0; k < 3; ++k) {  // three objects: the locals of one reuse the others' memory
    auto o = heap.make<SplitSavesLocals>();
    o->bytes = bytes;
    o->seed = k * 1000 + bytes;
    heap.set_root("root" + std::to_string(k), o);
    saved.push_back(o);
  }
  ByteBuffer snapshot;
  save(heap, snapshot);
  Heap restored;
  load(restored, snapshot);
  for (std::uint64_t k = 0; k < 3; ++k) {
    auto r = restored.root<SplitSavesLocals>("root" + std::to_string(k));
    REQUIRE(r);
    const std::uint64_t seed = k * 1000 + bytes;
    INFO("object " << k);
    CHECK(r->bytes == bytes);
    CHECK(r->seed == seed);
    CHECK(mismatch(r->ints, snapheap_port::pattern<int>(bytes / sizeof(int), seed)) == "");
    CHECK(mismatch(r->text, snapheap_port::pattern_string(bytes, seed + 1)) == "");
    CHECK(mismatch(r->blob, snapheap_port::pattern<char>(bytes, seed + 2)) == "");
  }
}

// Boost test/test_split.cpp with data: a local std::vector<std::int64_t> of 800,000 bytes.
// Regression: the local was once copied after save() returned, from freed memory.
TEST_CASE("boost test_split: a split save that writes a local vector of 100,000 int64 loads it back exactly",
          "[serialize][port]") {
  Heap restored;
  auto r = saved_and_loaded<SplitSavesInt64s>(restored, [](SplitSavesInt64s& o) { o.seed = 0xb0057; });
  CHECK(r->seed == 0xb0057);
  CHECK(mismatch(r->values, snapheap_port::pattern<std::int64_t>(100000, 0xb0057)) == "");
}

// Boost test/test_split.cpp with data: temporaries written by the saving side of serialize.
// Regression: from 4,096 bytes, temporaries were once copied after they were destroyed.
TEST_CASE("boost test_split: temporaries written by serialize at 4,092 to 800,000 bytes load back exactly",
          "[serialize][port]") {
  // 4-byte elements: 4,092 bytes (4,095 rounded down to whole ints), 4,096, 8,192, 800,000.
  const std::uint32_t count = GENERATE(1023u, 1024u, 2048u, 200000u);
  INFO(count << " ints");
  Heap restored;
  auto r = saved_and_loaded<SerializeSavesTemporaries>(restored, [&](SerializeSavesTemporaries& o) { o.count = count; });
  CHECK(r->count == count);
  CHECK(mismatch(r->sevens, std::vector<int>(count, 7)) == "");
  CHECK(mismatch(r->minus_ones, std::vector<int>(count, -1)) == "");
}

// Boost test/test_split.cpp: A's save() changes the object it saves. A save() that writes a
// buffer, changes it and writes it again must save both values as they were when written.
// Regression (found by this port): from 4,096 bytes both fields once loaded as the second value;
// no memory was freed, so nothing crashed and AddressSanitizer had nothing to report.
TEST_CASE("boost test_split: a save that rewrites a buffer after writing it saves each value as written",
          "[serialize][port]") {
  SECTION("one object writes one buffer twice") {
    const std::uint32_t count = GENERATE(1023u, 1024u, 100000u);
    INFO(count << " ints");
    Heap restored;
    auto r = saved_and_loaded<SaveReusesBuffer>(restored, [&](SaveReusesBuffer& o) { o.count = count; });
    CHECK(mismatch(r->first, std::vector<int>(count, 1)) == "");
    CHECK(mismatch(r->second, std::vector<int>(count, 2)) == "");
  }
  SECTION("each object fills a buffer they share") {
    Heap heap;
    for (int k = 0; k < 3; ++k) {
      auto o = heap.make<SaveSharesBuffer>();
      o->fill = k + 10;
      heap.set_root("root" + std::to_string(k), o);
    }
    Heap restored;
    auto r0 = round_trip<SaveSharesBuffer>(heap, restored, "root0");
    REQUIRE(r0);
    for (int k = 0; k < 3; ++k) {
      auto r = restored.root<SaveSharesBuffer>("root" + std::to_string(k));
      REQUIRE(r);
      INFO("object " << k);
      CHECK(r->fill == k + 10);
      CHECK(mismatch(r->loaded, std::vector<int>(2000, k + 10)) == "");
    }
  }
}

// Boost test/test_binary.cpp
TEST_CASE("boost test_binary: binary objects of a few bytes, of 150 bytes in a class, and of 9,000 bytes round-trip",
          "[serialize][port]") {
  std::mt19937_64 gen(7);
  const BinaryA a(gen);
  std::vector<unsigned char> large(9000);
  for (auto& ch : large) ch = static_cast<unsigned char>(gen());
  Heap restored;
  auto r = saved_and_loaded<Binary>(restored, [&](Binary& o) {
    o.a = a;
    o.i = 12345;
    std::memcpy(o.large, large.data(), large.size());
  });
  CHECK(std::string(r->s1) == "a");
  CHECK(std::string(r->s2) == "ab");
  CHECK(std::string(r->s3) == "abc");
  CHECK(std::string(r->s4) == "abcd");
  CHECK(r->a == a);
  CHECK(r->i == 12345);
  CHECK(std::memcmp(r->large, large.data(), large.size()) == 0);
}

// Boost test/test_bitset.cpp
TEST_CASE("boost test_bitset: a bitset<8> and a bitset<4095> round-trip", "[serialize][port]") {
  std::mt19937_64 gen(8);
  std::bitset<8> bitset_a;
  bitset_a.set(0, false).set(1, true).set(2, false).set(3, true).set(4, false).set(5, false).set(6, true).set(7, true);
  const auto below = random_bitset<4095>(gen);
  Heap restored;
  auto r = saved_and_loaded<SmallBitset>(restored, [&](SmallBitset& o) {
    o.bitset = bitset_a;
    o.below_threshold = below;
  });
  CHECK(r->bitset == bitset_a);
  CHECK(snapheap_port::differing_bits(r->below_threshold, below) == 0);
}

// Boost test/test_bitset.cpp at sizes whose string form passes the 4,096-byte block threshold.
// Regression: bitset.hpp's save() writes a local std::string, which was once copied after it was freed.
TEST_CASE("boost test_bitset: a bitset<4096> and a bitset<200000> round-trip", "[serialize][port]") {
  std::mt19937_64 gen(9);
  auto b4096 = std::make_unique<std::bitset<4096>>(random_bitset<4096>(gen));
  auto b200000 = std::make_unique<std::bitset<200000>>(random_bitset<200000>(gen));
  Heap restored;
  auto r = saved_and_loaded<LargeBitsets>(restored, [&](LargeBitsets& o) {
    o.b4096 = *b4096;
    o.b200000 = *b200000;
  });
  CHECK(snapheap_port::differing_bits(r->b4096, *b4096) == 0);
  CHECK(snapheap_port::differing_bits(r->b200000, *b200000) == 0);
}

// Boost test/test_array.cpp, test_native_array.cpp, test_boost_array.cpp
TEST_CASE("boost test_array: std::array, C arrays (one and two dimensions) and boost::array round-trip",
          "[serialize][port]") {
  std::mt19937_64 gen(10);
  auto want = std::make_unique<std::vector<A>>();
  std::vector<int> want_ints;
  Heap restored;
  auto r = saved_and_loaded<Arrays>(restored, [&](Arrays& o) {
    for (std::size_t k = 0; k < 10; ++k) {
      o.a_array[k] = A(gen);
      o.native[k] = A(gen);
      o.boost_a[k] = A(gen);
      o.i_array[k] = random_bits<int>(gen);
      o.native_i[k] = random_bits<int>(gen);
      o.boost_i[k] = random_bits<int>(gen);
      want->insert(want->end(), {o.a_array[k], o.native[k], o.boost_a[k]});
      want_ints.insert(want_ints.end(), {o.i_array[k], o.native_i[k], o.boost_i[k]});
    }
    for (auto& row : o.native_2d)
      for (auto& a : row) {
        a = A(gen);
        want->push_back(a);
      }
    for (auto& row : o.native_2d_i)
      for (auto& i : row) {
        i = random_bits<int>(gen);
        want_ints.push_back(i);
      }
  });
  for (std::size_t k = 0; k < 10; ++k) {
    INFO("element " << k);
    CHECK(r->a_array[k] == (*want)[3 * k]);
    CHECK(r->native[k] == (*want)[3 * k + 1]);
    CHECK(r->boost_a[k] == (*want)[3 * k + 2]);
    CHECK(r->i_array[k] == want_ints[3 * k]);
    CHECK(r->native_i[k] == want_ints[3 * k + 1]);
    CHECK(r->boost_i[k] == want_ints[3 * k + 2]);
  }
  for (std::size_t k = 0; k < 6; ++k) {
    CHECK(r->native_2d[k / 3][k % 3] == (*want)[30 + k]);
    CHECK(r->native_2d_i[k / 3][k % 3] == want_ints[30 + k]);
  }
}

// Boost test/test_array.cpp, test_native_array.cpp: an array of 10 read into an array of 9 is
// refused (archive_exception::array_size_too_short there).
TEST_CASE("boost test_array: an array of 10 elements read into one of 9 is refused", "[serialize][port]") {
  std::mt19937_64 gen(11);
  SECTION("std::array<int>") {
    Heap old_program;
    old_program.set_root("root", old_program.make<IntArray10>());
    const auto bytes = renamed_snapshot(old_program, "boost.IntArray.A", "boost.IntArray.B");
    Heap new_program;
    try {
      load(new_program, std::span<const std::byte>(bytes));
      FAIL("load did not throw");
    } catch (const SnapshotError& e) {
      CHECK(e.code() == SnapshotErrc::record_mismatch);
    }
    CHECK(new_program.stats().live_objects == 0);
    CHECK(new_program.root_count() == 0);
  }
  SECTION("C array of A") {
    Heap old_program;
    auto o = old_program.make<AArray10>();
    for (auto& a : o->native) a = A(gen);
    old_program.set_root("root", o);
    const auto bytes = renamed_snapshot(old_program, "boost.AArray.A", "boost.AArray.B");
    Heap new_program;
    try {
      load(new_program, std::span<const std::byte>(bytes));
      FAIL("load did not throw");
    } catch (const SnapshotError& e) {
      CHECK(e.code() == SnapshotErrc::record_mismatch);
    }
    CHECK(new_program.stats().live_objects == 0);
  }
}

// Boost test/test_vector.cpp, test_list.cpp, test_deque.cpp
TEST_CASE("boost test_vector, test_list, test_deque: sequences of A and of int round-trip", "[serialize][port]") {
  std::mt19937_64 gen(12);
  auto as = [&](std::size_t n) {
    std::vector<A> v;
    for (std::size_t k = 0; k < n; ++k) v.emplace_back(gen);
    return v;
  };
  for (int n = 0; n < 10; ++n) {
    const auto v = as(10);
    const auto ints = snapheap_port::pattern<int>(2000, gen());
    check_round_trip<Sequences>({v, ints, std::vector<bool>{true, false, true},
                                 std::list<A>(v.begin(), v.end()), std::list<int>(ints.begin(), ints.begin() + 100),
                                 std::deque<A>(v.begin(), v.end()), std::deque<int>(ints.begin(), ints.end()), {}});
  }
}

// Boost test/test_map.cpp, test_map_hashed.cpp
TEST_CASE("boost test_map, test_map_hashed: maps and multimaps, ordered and hashed, keyed by a class",
          "[serialize][port]") {
  std::mt19937_64 gen(13);
  for (int n = 0; n < 10; ++n) {
    decltype(Maps::values) v;
    for (int k = 0; k < 20; ++k) {
      const RandomKey key{random_bits<int>(gen)};
      std::get<0>(v).insert({key, A(gen)});
      std::get<1>(v).insert({RandomKey{key.m_i % 3}, A(gen)});  // repeated keys
      std::get<4>(v).insert({key, A(gen)});
      std::get<5>(v).insert({RandomKey{key.m_i % 3}, A(gen)});
    }
    std::get<2>(v) = {{0, 0}, {-1, -1}, {1, 1}};  // test_map_2
    std::get<3>(v) = {11, 22};
    check_round_trip<Maps>(v);
  }
}

// Boost test/test_set.cpp, test_set_hashed.cpp
TEST_CASE("boost test_set, test_set_hashed: sets and multisets of A, ordered and hashed", "[serialize][port]") {
  std::mt19937_64 gen(14);
  for (int n = 0; n < 10; ++n) {
    decltype(Sets::values) v;
    for (int k = 0; k < 20; ++k) {
      const A a(gen);
      std::get<0>(v).insert(a);
      std::get<1>(v).insert(a);
      std::get<1>(v).insert(a);
      std::get<2>(v).insert(a);
      std::get<3>(v).insert(a);
      std::get<3>(v).insert(a);
    }
    check_round_trip<Sets>(v);
  }
}

// Boost test/test_optional.cpp (std::optional)
TEST_CASE("boost test_optional: empty and engaged optionals of int and of a class round-trip", "[serialize][port]") {
  check_round_trip<Optionals>({std::nullopt, 123, std::nullopt, OptA(1)});
  // A loaded empty optional replaces an engaged one (aoptional1a(999)).
  Heap restored;
  auto r = saved_and_loaded<Optionals>(restored, [](Optionals&) {});
  CHECK_FALSE(std::get<1>(r->values).has_value());
}

// Boost test/test_variant.cpp (std::variant)
TEST_CASE("boost test_variant: a variant round-trips with each of its alternatives", "[serialize][port]") {
  std::mt19937_64 gen(15);
  check_round_trip<Variants>({AVariant(false)});
  check_round_trip<Variants>({AVariant(true)});
  check_round_trip<Variants>({AVariant(random_bits<int>(gen))});
  check_round_trip<Variants>({AVariant(std::bit_cast<float>(0x7fc00123u))});
  check_round_trip<Variants>({AVariant(-0.0)});
  check_round_trip<Variants>({AVariant(A(gen))});
  check_round_trip<Variants>({AVariant(std::string("a string"))});
  check_round_trip<Variants>({AVariant(snapheap_port::pattern<int>(3000, gen()))});
}

// Boost test/test_complex.cpp
TEST_CASE("boost test_complex: complex float and double round-trip bit for bit", "[serialize][port]") {
  std::mt19937_64 gen(16);
  for (int n = 0; n < 100; ++n)
    check_round_trip<Complexes>({{random_bits<float>(gen), random_bits<float>(gen)},
                                 {random_bits<double>(gen), random_bits<double>(gen)}});
}

// Boost test/test_unique_ptr.cpp
TEST_CASE("boost test_unique_ptr: a unique_ptr to a class round-trips, an empty one stays empty", "[serialize][port]") {
  Heap restored;
  auto r = saved_and_loaded<HoldsUnique>(restored, [](HoldsUnique& o) {
    o.spa = std::make_unique<UniqueA>();
    o.spa->x = 77;
  });
  REQUIRE(r->spa);
  CHECK(r->spa->x == 77);
  CHECK_FALSE(r->empty);
}

// Boost test/test_derived_class_ptr.cpp, test_unique_ptr.cpp: a derived object through a pointer to
// its base. Boost saves its registered most derived type; snapheap cannot, and must refuse.
// Regression: the derived object was once saved as a Base (sliced), without an error.
TEST_CASE("boost test_derived_class_ptr: a unique_ptr<Base> holding a Derived is refused at save, naming both types",
          "[serialize][port]") {
  Heap heap;
  auto o = heap.make<HoldsPolyValue>();
  o->p = std::make_unique<PolyValueDerived>();
  heap.set_root("root", o);
  ByteBuffer bytes;
  try {
    save(heap, bytes);
    FAIL("save did not throw");
  } catch (const SnapshotError& e) {
    CHECK(e.code() == SnapshotErrc::unsupported_value);
    const std::string what = e.what();
    CHECK_THAT(what, Catch::Contains("PolyValueBase"));
    CHECK_THAT(what, Catch::Contains("PolyValueDerived"));
  }
}

// Boost test/test_derived_class_ptr.cpp: the pointer to the base holding exactly a base.
TEST_CASE("boost test_derived_class_ptr: a unique_ptr<Base> holding a Base round-trips as a Base", "[serialize][port]") {
  Heap restored;
  auto r = saved_and_loaded<HoldsPolyValue>(restored, [](HoldsPolyValue& o) {
    o.p = std::make_unique<PolyValueBase>();
    o.p->i = -5;
  });
  REQUIRE(r->p);
  CHECK(typeid(*r->p) == typeid(PolyValueBase));
  CHECK(r->p->i == -5);
}

// Boost test/test_cyclic_ptrs.cpp (test1, test2, test3), test_recursion.cpp
TEST_CASE("boost test_cyclic_ptrs: a J pointing at nothing, at itself, and three Js in a cycle", "[serialize][port]") {
  std::mt19937_64 gen(17);
  SECTION("test1: a J whose pointer is empty") {
    Heap heap;
    auto j = heap.make<J>(gen);
    heap.set_root("j", j);
    Heap restored;
    auto r = round_trip<J>(heap, restored, "j");
    REQUIRE(r);
    CHECK(static_cast<const A&>(*r) == static_cast<const A&>(*j));
    CHECK_FALSE(r->j);
    CHECK(r->loaded_version == 6);
  }
  SECTION("test2, test_recursion: a J pointing at itself") {
    Heap heap;
    auto j = heap.make<J>(gen);
    j->j = j;
    heap.set_root("j", j);
    Heap restored;
    auto r = round_trip<J>(heap, restored, "j");
    REQUIRE(r);
    CHECK(static_cast<const A&>(*r) == static_cast<const A&>(*j));
    CHECK(r->j.get() == r.get());
    CHECK(restored.stats().live_objects == 1);
  }
  SECTION("test3: K's three Js in a cycle, j1 -> j2 -> j3 -> j1") {
    Heap heap;
    auto k = heap.make<K>();
    k->j1 = heap.make<J>(gen);
    k->j2 = heap.make<J>(gen);
    k->j3 = heap.make<J>(gen);
    k->j1->j = k->j2;
    k->j2->j = k->j3;
    k->j3->j = k->j1;
    heap.set_root("k", k);
    Heap restored;
    auto r = round_trip<K>(heap, restored, "k");
    REQUIRE(r);
    REQUIRE(r->j1);
    CHECK(r->j1->j.get() == r->j2.get());
    CHECK(r->j2->j.get() == r->j3.get());
    CHECK(r->j3->j.get() == r->j1.get());
    CHECK(static_cast<const A&>(*r->j1) == static_cast<const A&>(*k->j1));
    CHECK(static_cast<const A&>(*r->j2) == static_cast<const A&>(*k->j2));
    CHECK(static_cast<const A&>(*r->j3) == static_cast<const A&>(*k->j3));
    CHECK(restored.stats().live_objects == 4);
  }
}

// Boost test/test_list_ptrs.cpp, test_null_ptr.cpp, test_shared_ptr.cpp (sharing and weak
// pointers): Members and Weaks.
TEST_CASE("boost test_list_ptrs, test_null_ptr, test_shared_ptr: sharing, empty handles, weak handles to saved, unsaved "
          "and dead targets",
          "[serialize][port]") {
  Heap heap;
  auto p = heap.make<Pointers>();
  auto n1 = heap.make<Node>(1);
  auto n2 = heap.make<Node>(2);
  auto outside = heap.make<Node>(3);  // only reachable from a root that is not saved
  heap.set_root("outside", outside);
  {
    auto doomed = heap.make<Node>(4);
    p->weak_dead = Weak<Node>(doomed);
  }
  heap.collect();
  REQUIRE(p->weak_dead.expired());
  p->list = {n1, n2, n1, nullptr};
  p->vector = {n2, n2};
  p->shared1 = p->shared2 = n1;
  p->weak_saved = Weak<Node>(n2);
  p->weak_unsaved = Weak<Node>(outside);
  p->weak_map = {{1, Weak<Node>(n1)}, {2, Weak<Node>(outside)}, {3, Weak<Node>()}};
  heap.set_root("root", p);
  ByteBuffer bytes;
  const SnapshotStats stats = save(heap, bytes, {.roots = {"root"}});
  CHECK(stats.objects == 3);
  Heap restored;
  load(restored, bytes);
  auto r = restored.root<Pointers>("root");
  REQUIRE(r);
  CHECK_FALSE(restored.has_root("outside"));
  REQUIRE(r->list.size() == 4);
  auto it = r->list.begin();
  Node* r1 = (it++)->get();
  Node* r2 = (it++)->get();
  REQUIRE(r1);
  REQUIRE(r2);
  CHECK(r1->value == 1);
  CHECK(r2->value == 2);
  CHECK((it++)->get() == r1);
  CHECK_FALSE(*it);
  REQUIRE(r->vector.size() == 2);
  CHECK(r->vector[0].get() == r2);
  CHECK(r->vector[1].get() == r2);
  CHECK_FALSE(r->null_member);
  CHECK(r->shared1.get() == r1);
  CHECK(r->shared2.get() == r1);
  CHECK(r->weak_saved.lock().get() == r2);
  CHECK(r->weak_unsaved.expired());
  CHECK_FALSE(r->weak_unsaved.empty());
  CHECK(r->weak_dead.expired());
  CHECK_FALSE(r->weak_dead.empty());
  CHECK(r->weak_empty.empty());
  REQUIRE(r->weak_map.size() == 3);
  CHECK(r->weak_map.at(1).lock().get() == r1);
  CHECK(r->weak_map.at(2).expired());
  CHECK_FALSE(r->weak_map.at(2).empty());
  CHECK(r->weak_map.at(3).empty());
  CHECK(restored.stats().live_objects == 3);
}

// Boost test/test_tracking.cpp, test_class_info_save.cpp: a managed object is tracked (written
// and read once however many handles reach it); a value type is not (written each time).
TEST_CASE("boost test_tracking: a managed object reached twice is saved and loaded once, a value every time",
          "[serialize][port]") {
  Heap heap;
  auto t = heap.make<Tracking>();
  auto counter = heap.make<TrackedCounter>();
  t->first = counter;
  t->second = counter;
  heap.set_root("root", t);
  TrackedCounter::count = 0;
  UntrackedCounter::count = 0;
  ByteBuffer bytes;
  save(heap, bytes);
  CHECK(TrackedCounter::count == 1);
  CHECK(UntrackedCounter::count == 3);
  TrackedCounter::count = 0;
  UntrackedCounter::count = 0;
  Heap restored;
  load(restored, bytes);
  CHECK(TrackedCounter::count == 1);
  CHECK(UntrackedCounter::count == 3);
  auto r = restored.root<Tracking>("root");
  REQUIRE(r);
  CHECK(r->first.get() == r->second.get());
}

// Boost test/test_class_info_save.cpp, test_class_info_load.cpp: B saved at version 2 and loaded
// by a build where B has version 4 receives version 2; A without class information, 0.
TEST_CASE("boost test_class_info: records of class version 2 load into the version-4 class as version 2",
          "[serialize][port]") {
  Heap old_program;
  auto infos = old_program.make<Infos>();
  auto a = old_program.make<InfoA>();
  auto b = old_program.make<InfoB2>();
  b->data = 31;
  b->part.data = 32;
  infos->a1 = a;
  infos->a2 = a;
  infos->b1 = b;
  infos->b2 = b;
  old_program.set_root("root", infos);
  InfoA::count = 0;
  InfoB2::count = 0;
  InfoB2::last_version = 99;
  const auto bytes = renamed_snapshot(old_program, "boost.InfoB.v2", "boost.InfoB.v4");
  CHECK(InfoA::last_version == 0);
  CHECK(InfoA::count == 1);  // tracked: written once
  CHECK(InfoB2::last_version == 2);
  CHECK(InfoB2::count == 1);
  CHECK(b->part.seen == 2);
  InfoA::count = 0;
  InfoA::last_version = 99;
  InfoB4::count = 0;
  Heap new_program;
  load(new_program, std::span<const std::byte>(bytes));
  CHECK(InfoA::last_version == 0);
  CHECK(InfoA::count == 1);
  CHECK(InfoB4::last_version == 2);
  CHECK(InfoB4::count == 1);
  auto r = new_program.root<Infos>("root");
  REQUIRE(r);
  auto* rb = dynamic_cast<InfoB4*>(r->b1.get());
  REQUIRE(rb != nullptr);
  CHECK(rb->data == 31);
  CHECK(rb->added_in_4 == -1);
  CHECK(rb->part.data == 32);
  CHECK(rb->part.seen == 2);  // a value type inside an old record sees the record's version
  CHECK(r->b2.get() == rb);
  CHECK(r->a1.get() == r->a2.get());
}

// Boost test/test_unregistered.cpp: saving an object of a type nobody registered is refused;
// type1 and type2 receive their class versions.
TEST_CASE("boost test_unregistered: an unregistered derived type is refused, registered versions are passed",
          "[serialize][port]") {
  SECTION("unregistered") {
    Heap heap;
    auto h = heap.make<HoldsUnregistered>();
    h->rb1 = heap.make<UnregDerived>();
    heap.set_root("root", h);
    ByteBuffer bytes;
    try {
      save(heap, bytes);
      FAIL("save did not throw");
    } catch (const SnapshotError& e) {
      CHECK(e.code() == SnapshotErrc::unregistered_type);
    }
    h->rb1 = nullptr;  // "lack of registration" was the only problem
    CHECK_NOTHROW(save(heap, bytes));
  }
  SECTION("versions") {
    Heap heap;
    heap.set_root("t1", heap.make<Type1>());
    heap.set_root("t2", heap.make<Type2>());
    Type1::seen = Type2::seen = 99;
    ByteBuffer bytes;
    save(heap, bytes);
    CHECK(Type1::seen == 1);
    CHECK(Type2::seen == 2);
    Type1::seen = Type2::seen = 99;
    Heap restored;
    load(restored, bytes);
    CHECK(Type1::seen == 1);
    CHECK(Type2::seen == 2);
  }
}

// Boost test/test_interrupts.cpp: an exception thrown by a type's save or load passes through,
// and a failed load leaves the heap as it was.
TEST_CASE("boost test_interrupts: exceptions thrown by save and load pass through, the heap is unchanged",
          "[serialize][port]") {
  SECTION("thrown by save") {
    Heap heap;
    heap.set_root("root", heap.make<ThrowsOnSave>());
    ByteBuffer bytes;
    CHECK_THROWS_WITH(save(heap, bytes), "test_dummy_out");
    CHECK(heap.stats().live_objects == 1);
  }
  SECTION("thrown by load") {
    Heap heap;
    auto holder = heap.make<InterruptHolder>();
    holder->before = heap.make<Node>(5);
    holder->thrower = heap.make<ThrowsOnLoad>();
    heap.set_root("root", holder);
    ByteBuffer bytes;
    save(heap, bytes);
    Heap target;
    auto keep = target.make<Node>(9);
    target.set_root("existing", keep);
    const auto before = snapheap_stest::state_of(target);
    CHECK_THROWS_WITH(load(target, bytes), "test_dummy_in");
    target.collect();
    CHECK(snapheap_stest::state_of(target) == before);
    CHECK(target.root<Node>("existing").get() == keep.get());
  }
}

// Boost test/test_private_base.cpp: a private value-type base saved with BASE_OBJECT_NVP.
TEST_CASE("boost test_private_base: a private base class is saved through the access class", "[serialize][port]") {
  check_round_trip<PrivateBaseFields>({PrivateDerived(1)});
  Heap restored;
  auto r = saved_and_loaded<PrivateBaseFields>(restored, [](PrivateBaseFields& o) { o.values = {PrivateDerived(2)}; });
  CHECK(std::get<0>(r->values) == PrivateDerived(2));
  CHECK_FALSE(std::get<0>(r->values) == PrivateDerived(1));
}

// Boost test/test_private_ctor.cpp
TEST_CASE("boost test_private_ctor: a type whose default constructor is private loads", "[serialize][port]") {
  Heap heap;
  heap.set_root("v", heap.make<V>(17));
  Heap restored;
  auto r = round_trip<V>(heap, restored, "v");
  REQUIRE(r);
  CHECK(r->value() == 17);
}

// Boost test/test_mi.cpp with bases that are not polymorphic.
TEST_CASE("boost test_mi: a class saves its two bases with BASE_OBJECT_NVP", "[serialize][port]") {
  Heap restored;
  auto r = saved_and_loaded<HoldsMi>(restored, [](HoldsMi& o) { o.c = MiC(1, 2); });
  CHECK(r->c.get_x() == 1);
  CHECK(r->c.get_y() == 2);
}

// Boost test/test_object.cpp: a class at implementation level object_serializable whose
// serialize writes nothing.
TEST_CASE("boost test_object: a field whose serialize writes nothing reads nothing", "[serialize][port]") {
  Heap restored;
  auto r = saved_and_loaded<HoldsObjectLevel>(restored, [](HoldsObjectLevel& o) { o.after = -77; });
  CHECK(r->after == -77);
}

// Boost test/test_derived.cpp: derived classes that save a MANAGED base with base_object and with
// BOOST_SERIALIZATION_BASE_OBJECT_NVP, held by their own type and through the base.
// Regression: this once did not link (undefined void_cast_register<Derived, Base>).
TEST_CASE("boost test_derived: base_object and BASE_OBJECT_NVP of a managed base round-trip", "[serialize][port]") {
  Heap heap;
  auto h = heap.make<HoldsManagedDerived>();
  auto d1 = heap.make<ManagedDerived1>();
  d1->base_value = 1;
  d1->label = "derived1";
  d1->d = 1.5;
  auto d2 = heap.make<ManagedDerived2>();
  d2->base_value = 2;
  d2->label = "derived2";
  d2->d = -2.5;
  h->d1 = d1;
  h->d2 = d2;
  h->b1 = d1;
  h->b2 = d2;
  heap.set_root("root", h);
  Heap restored;
  auto r = round_trip<HoldsManagedDerived>(heap, restored);
  REQUIRE(r);
  REQUIRE(r->d1);
  REQUIRE(r->d2);
  CHECK(r->d1->base_value == 1);
  CHECK(r->d1->label == "derived1");
  CHECK(r->d1->d == 1.5);
  CHECK(r->d2->base_value == 2);
  CHECK(r->d2->label == "derived2");
  CHECK(r->d2->d == -2.5);
  CHECK(r->b1.get() == r->d1.get());
  CHECK(r->b2.get() == r->d2.get());
}

// Boost test/test_derived.cpp: base_object writes what snapheap::base writes.
// Regression: this once did not link (undefined void_cast_register<Derived, Base>).
TEST_CASE("boost test_derived: base_object of a managed base writes the same bytes as snapheap::base",
          "[serialize][port]") {
  Heap with_base_object, with_snapheap_base;
  auto a = with_base_object.make<ManagedDerived1>();
  auto b = with_snapheap_base.make<ManagedDerivedRef>();
  a->base_value = b->base_value = 42;
  a->label = b->label = "same";
  a->d = b->d = 0.25;
  with_base_object.set_root("root", a);
  with_snapheap_base.set_root("root", b);
  const auto renamed = renamed_snapshot(with_base_object, "boost.Derived.A", "boost.Derived.R");
  ByteBuffer reference;
  save(with_snapheap_base, reference);
  CHECK((renamed == snapheap_stest::to_vector(reference)));
}

// Boost test/test_cyclic_ptrs.cpp's J with a managed base: BASE_OBJECT_NVP, a cycle, version 6.
// Regression: this once did not link (undefined void_cast_register<Derived, Base>).
TEST_CASE("boost test_cyclic_ptrs: a J with a managed base saved by BASE_OBJECT_NVP points at itself after load",
          "[serialize][port]") {
  Heap heap;
  auto j = heap.make<ManagedJ>();
  j->f = -9;
  j->y = "jay";
  j->j = j;
  heap.set_root("j", j);
  Heap restored;
  auto r = round_trip<ManagedJ>(heap, restored, "j");
  REQUIRE(r);
  CHECK(r->f == -9);
  CHECK(r->y == "jay");
  CHECK(r->j.get() == r.get());
  CHECK(r->loaded_version == 6);
}

// Boost test/test_mi.cpp as written: two polymorphic value-type bases saved with
// BOOST_SERIALIZATION_BASE_OBJECT_NVP.
// Regression (found by this port): this once did not link (undefined void_cast_register<PolyMiC, PolyMiA> and
// <PolyMiC, PolyMiB>).
TEST_CASE("boost test_mi: a class saves its two polymorphic bases with BASE_OBJECT_NVP", "[serialize][port]") {
  Heap restored;
  auto r = saved_and_loaded<HoldsPolyMi>(restored, [](HoldsPolyMi& o) { o.c = PolyMiC(1, 2); });
  CHECK(r->c.get_x() == 1);
  CHECK(r->c.get_y() == 2);
}
