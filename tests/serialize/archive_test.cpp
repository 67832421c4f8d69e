// The archives: every kind of field a managed type's serialize() may write comes back equal, the
// Boost.Serialization idioms (split members, nvp, private serialize, free serialize, base
// classes, make_array, make_binary_object) work, and what cannot be saved is refused.
#include <catch2/catch.hpp>

#include <array>
#include <boost/serialization/split_member.hpp>
#include <cmath>
#include <complex>
#include <deque>
#include <limits>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

#include "serialize/snapshot_types.hpp"

using namespace snapheap;

namespace archive_test {

enum class Color : std::uint8_t { red = 1, green = 200 };

/// A value type with a free serialize() found by argument-dependent lookup.
struct Point {
  double x = 0, y = 0;
  bool operator==(const Point&) const = default;
};
template <class Archive>
void serialize(Archive& ar, Point& p, unsigned) {
  ar & p.x & p.y;
}

/// A value type whose serialize() is private, reached through boost::serialization::access.
class Secret {
 public:
  Secret() = default;
  explicit Secret(int v) : v_(v) {}
  bool operator==(const Secret&) const = default;

 private:
  friend class boost::serialization::access;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & v_;
  }
  int v_ = 0;
};

/// A trivially copyable struct marked bitwise-serializable: its arrays are written as one block.
struct Pixel {
  std::uint8_t r, g, b, a;
  bool operator==(const Pixel&) const = default;
};

struct Everything final : Object {
  bool flag = false;
  char c = 0;
  std::int8_t i8 = 0;
  std::uint16_t u16 = 0;
  std::int32_t i32 = 0;
  std::int64_t i64 = 0;
  std::uint64_t u64 = 0;
  float f = 0;
  double d = 0;
  Color color = Color::red;
  std::string text;
  std::u16string wide;
  std::vector<std::int64_t> big;
  std::vector<double> doubles;
  std::vector<bool> bits;
  std::vector<std::string> words;
  std::vector<Pixel> pixels;
  std::array<int, 3> triple{};
  std::array<std::string, 2> pair_of_words;
  int c_array[4] = {};
  std::pair<int, std::string> pair;
  std::tuple<int, double, std::string> tuple;
  std::optional<int> maybe;
  std::optional<std::string> maybe_not;
  std::map<std::string, int> map;
  std::multimap<int, int> multimap;
  std::set<int> set;
  std::unordered_map<int, std::string> hash_map;
  std::unordered_set<std::string> hash_set;
  std::deque<int> deque;
  std::list<std::string> list;
  std::unique_ptr<Point> owned;
  std::unique_ptr<Point> not_owned;
  std::variant<int, std::string, Point> variant;
  std::complex<double> complex;
  Point point;
  Secret secret;
  double raw[2] = {};
  unsigned char blob[5] = {};
  Member<Everything> self;
  std::vector<Member<Everything>> selves;
  std::map<int, Weak<Everything>> weak_map;

  void trace(Tracer& t) const override {
    t.trace(self);
    t.trace(selves);
    for (const auto& [k, w] : weak_map) t.trace(w);
  }
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & flag & c & i8 & u16 & i32 & i64 & u64 & f & d & color;
    ar & BOOST_SERIALIZATION_NVP(text) & wide & big & doubles & bits & words & pixels;
    ar & triple & pair_of_words & c_array & pair & tuple & maybe & maybe_not;
    ar & map & multimap & set & hash_map & hash_set & deque & list & owned & not_owned;
    ar & variant & complex & point & secret;
    ar & boost::serialization::make_array(raw, 2);
    ar & boost::serialization::make_binary_object(blob, sizeof blob);
    ar & self & selves & weak_map;
  }
};

/// A managed base and a derived class that serializes its base part.
struct Animal : Object {
  std::string name;
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & name;
  }
};
struct Dog final : Animal {
  int tricks = 0;
  Member<Animal> friend_;
  void trace(Tracer& t) const override {
    Animal::trace(t);
    t.trace(friend_);
  }
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & snapheap::base<Animal>(*this) & tricks & friend_;
  }
};
struct Cat final : Animal {
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & snapheap::base<Animal>(*this);
  }
};

/// Saves a different value than it holds: a split save/load.
struct Counter final : Object {
  int count = 0;
  int loads = 0;  // not saved: counts how often load() ran
  void trace(Tracer&) const override {}
  template <class Archive>
  void save(Archive& ar, unsigned) const {
    const int doubled = count * 2;
    ar & doubled;
  }
  template <class Archive>
  void load(Archive& ar, unsigned) {
    int doubled = 0;
    ar & doubled;
    count = doubled / 2;
    ++loads;
  }
  BOOST_SERIALIZATION_SPLIT_MEMBER()
};

struct Empty {
  template <class Archive>
  void serialize(Archive&, unsigned) {}
};
struct HoldsEmpties final : Object {
  std::vector<Empty> empties;
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & empties;
  }
};

}  // namespace archive_test

template <>
struct boost::serialization::is_bitwise_serializable<archive_test::Pixel> : std::true_type {};

SNAPHEAP_REGISTER(archive_test::Everything);
SNAPHEAP_REGISTER(archive_test::Dog);
SNAPHEAP_REGISTER(archive_test::Cat);
SNAPHEAP_REGISTER(archive_test::Counter);
SNAPHEAP_REGISTER(archive_test::HoldsEmpties);

using namespace archive_test;

TEST_CASE("every supported field type comes back equal", "[serialize][archive][valgrind]") {
  Heap heap;
  auto e = heap.make<Everything>();
  e->flag = true;
  e->c = 'x';
  e->i8 = -128;
  e->u16 = 65535;
  e->i32 = std::numeric_limits<std::int32_t>::min();
  e->i64 = std::numeric_limits<std::int64_t>::min();
  e->u64 = std::numeric_limits<std::uint64_t>::max();
  e->f = 1.5f;
  e->d = -std::numeric_limits<double>::infinity();
  e->color = Color::green;
  e->text = std::string("with \0 nul", 10);
  e->wide = u"wide";
  for (int i = 0; i < 3000; ++i) e->big.push_back(std::int64_t{i} * 1000003 - 7);  // a bulk block
  e->doubles = {0.5, std::nan(""), -0.0};
  e->bits = {true, false, true, true};
  e->words = {"", "a", std::string(300, 'z')};
  e->pixels = {{1, 2, 3, 4}, {5, 6, 7, 8}};
  e->triple = {1, -2, 3};
  e->pair_of_words = {"left", "right"};
  e->c_array[3] = 9;
  e->pair = {4, "four"};
  e->tuple = {1, 2.5, "t"};
  e->maybe = 17;
  e->map = {{"a", 1}, {"b", 2}};
  e->multimap = {{1, 1}, {1, 2}};
  e->set = {3, 1, 2};
  e->hash_map = {{1, "one"}, {2, "two"}};
  e->hash_set = {"x", "y"};
  e->deque = {7, 8};
  e->list = {"l1", "l2"};
  e->owned = std::make_unique<Point>(Point{1, 2});
  e->variant = Point{3, 4};
  e->complex = {1, -1};
  e->point = {5, 6};
  e->secret = Secret(42);
  e->raw[0] = 1.25;
  e->raw[1] = 2.5;
  for (int i = 0; i < 5; ++i) e->blob[i] = static_cast<unsigned char>(i * 50);
  e->self = e;
  auto other = heap.make<Everything>();
  other->i32 = 77;
  e->selves = {other, e, other, nullptr};
  e->weak_map = {{1, Weak<Everything>(other)}, {2, Weak<Everything>()}};
  heap.set_root("root", e);

  ByteBuffer bytes;
  save(heap, bytes);
  Heap restored;
  load(restored, bytes);
  auto r = restored.root<Everything>("root");
  REQUIRE(r);
  CHECK(r->flag);
  CHECK(r->c == 'x');
  CHECK(r->i8 == -128);
  CHECK(r->u16 == 65535);
  CHECK(r->i32 == e->i32);
  CHECK(r->i64 == e->i64);
  CHECK(r->u64 == e->u64);
  CHECK(r->f == 1.5f);
  CHECK(std::isinf(r->d));
  CHECK(r->color == Color::green);
  CHECK(r->text == e->text);
  CHECK(r->wide == e->wide);
  CHECK(r->big == e->big);
  CHECK(r->doubles.size() == 3);
  CHECK(std::isnan(r->doubles[1]));
  CHECK(std::signbit(r->doubles[2]));
  CHECK(r->bits == e->bits);
  CHECK(r->words == e->words);
  CHECK(r->pixels == e->pixels);
  CHECK(r->triple == e->triple);
  CHECK(r->pair_of_words == e->pair_of_words);
  CHECK(r->c_array[3] == 9);
  CHECK(r->pair == e->pair);
  CHECK(r->tuple == e->tuple);
  CHECK(r->maybe == 17);
  CHECK_FALSE(r->maybe_not);
  CHECK(r->map == e->map);
  CHECK(r->multimap == e->multimap);
  CHECK(r->set == e->set);
  CHECK(r->hash_map == e->hash_map);
  CHECK(r->hash_set == e->hash_set);
  CHECK(r->deque == e->deque);
  CHECK(r->list == e->list);
  REQUIRE(r->owned);
  CHECK(*r->owned == Point{1, 2});
  CHECK_FALSE(r->not_owned);
  CHECK(std::get<Point>(r->variant) == Point{3, 4});
  CHECK(r->complex == std::complex<double>(1, -1));
  CHECK(r->point == Point{5, 6});
  CHECK(r->secret == Secret(42));
  CHECK(r->raw[1] == 2.5);
  CHECK(r->blob[4] == 200);
  CHECK(r->self.get() == r.get());
  REQUIRE(r->selves.size() == 4);
  CHECK(r->selves[0].get() == r->selves[2].get());
  CHECK(r->selves[1].get() == r.get());
  CHECK(r->selves[0]->i32 == 77);
  CHECK_FALSE(r->selves[3]);
  CHECK(r->weak_map.at(1).lock().get() == r->selves[0].get());
  CHECK(r->weak_map.at(2).empty());
}

TEST_CASE("a derived class saves its base part, and base-class fields hold derived objects", "[serialize][archive]") {
  Heap heap;
  auto dog = heap.make<Dog>();
  dog->name = "Rex";
  dog->tricks = 3;
  auto cat = heap.make<Cat>();
  cat->name = "Tom";
  dog->friend_ = cat;
  heap.set_root("dog", dog);
  ByteBuffer bytes;
  save(heap, bytes);
  Heap restored;
  load(restored, bytes);
  auto r = restored.root<Dog>("dog");
  CHECK(r->name == "Rex");
  CHECK(r->tricks == 3);
  REQUIRE(r->friend_);
  CHECK(r->friend_->name == "Tom");
  CHECK(dynamic_cast<Cat*>(r->friend_.get()) != nullptr);
  CHECK(restored.root<Animal>("dog").get() == r.get());
}

TEST_CASE("a split save/load stores something else than the object holds", "[serialize][archive]") {
  Heap heap;
  auto c = heap.make<Counter>();
  c->count = 21;
  heap.set_root("c", c);
  ByteBuffer bytes;
  save(heap, bytes);
  Heap restored;
  load(restored, bytes);
  auto r = restored.root<Counter>("c");
  CHECK(r->count == 21);
  CHECK(r->loads == 1);
}

TEST_CASE("a container whose elements write nothing is refused at save", "[serialize][archive]") {
  Heap heap;
  auto h = heap.make<HoldsEmpties>();
  h->empties.resize(3);
  heap.set_root("h", h);
  ByteBuffer bytes;
  try {
    save(heap, bytes);
    FAIL("save did not throw");
  } catch (const SnapshotError& e) {
    CHECK(e.code() == SnapshotErrc::unsupported_value);
  }
  CHECK(bytes.empty());
  h->empties.clear();  // an empty one is fine
  CHECK_NOTHROW(save(heap, bytes));
}

TEST_CASE("large arrays are written as one block", "[serialize][archive]") {
  Heap heap;
  auto e = heap.make<Everything>();
  heap.set_root("root", e);
  ByteBuffer small_bytes;
  save(heap, small_bytes);
  e->big.assign(100000, 0x0102030405060708);
  ByteBuffer big_bytes;
  save(heap, big_bytes);
  // The block costs 8 bytes an element plus a few bytes of count and element size.
  const std::size_t growth = big_bytes.size() - small_bytes.size();
  CHECK(growth >= 800000);
  CHECK(growth <= 800000 + 16);
  Heap restored;
  load(restored, big_bytes);
  CHECK(restored.root<Everything>("root")->big == e->big);
}
