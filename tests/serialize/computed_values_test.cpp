// Snapshots of computed values: whatever a type's serialize() or save() writes is in the snapshot
// exactly, whatever its storage (a field, a local, a temporary, a buffer freed right after the
// call), on every output path; values the format cannot hold exactly are refused, never cut.
#include <catch2/catch.hpp>

#include <bitset>
#include <boost/serialization/base_object.hpp>
#include <boost/serialization/bitset.hpp>
#include <boost/serialization/split_member.hpp>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "serialize/snapshot_types.hpp"
#include "support/temp_dir.hpp"

using namespace snapheap;

namespace computed_test {

__extension__ using int128 = __int128;
__extension__ using uint128 = unsigned __int128;

// The fill of element i, so that a byte read from the wrong place shows.
inline std::uint8_t fill(std::size_t i) { return static_cast<std::uint8_t>(i * 131 + 7); }

/// Saves a recipe: its save() builds every value in a local and lets it go when it returns.
struct Locals final : Object {
  std::size_t bytes = 0;  // saved; the sizes of everything below follow from it
  std::vector<std::uint8_t> raw;
  std::vector<int> ints;
  std::vector<std::int64_t> wide;
  std::string text;
  std::vector<unsigned char> binary;

  void trace(Tracer&) const override {}
  template <class Archive>
  void save(Archive& ar, unsigned) const {
    ar << bytes;
    {
      std::vector<std::uint8_t> v(bytes);
      for (std::size_t i = 0; i < v.size(); ++i) v[i] = fill(i);
      ar << v;
    }
    {
      std::vector<int> v(bytes / sizeof(int), 7);
      ar << v;
    }
    {
      std::vector<std::int64_t> v(bytes / 8);
      for (std::size_t i = 0; i < v.size(); ++i) v[i] = -static_cast<std::int64_t>(i) * 1000003;
      ar << v;
    }
    {
      std::string s(bytes, 'x');
      for (std::size_t i = 0; i < s.size(); i += 97) s[i] = '\0';
      ar << s;
    }
    {
      auto buffer = std::make_unique<unsigned char[]>(bytes);
      for (std::size_t i = 0; i < bytes; ++i) buffer[i] = fill(i + 1);
      ar << boost::serialization::make_binary_object(buffer.get(), bytes);
    }
  }
  template <class Archive>
  void load(Archive& ar, unsigned) {
    ar >> bytes >> raw >> ints >> wide >> text;
    binary.resize(bytes);
    ar >> boost::serialization::make_binary_object(binary.data(), bytes);
  }
  BOOST_SERIALIZATION_SPLIT_MEMBER()

  void check() const {
    std::vector<std::uint8_t> expected_raw(bytes), expected_binary(bytes);
    for (std::size_t i = 0; i < bytes; ++i) expected_raw[i] = fill(i), expected_binary[i] = fill(i + 1);
    std::vector<std::int64_t> expected_wide(bytes / 8);
    for (std::size_t i = 0; i < expected_wide.size(); ++i) expected_wide[i] = -static_cast<std::int64_t>(i) * 1000003;
    std::string expected_text(bytes, 'x');
    for (std::size_t i = 0; i < expected_text.size(); i += 97) expected_text[i] = '\0';
    CHECK(raw == expected_raw);
    CHECK(ints == std::vector<int>(bytes / sizeof(int), 7));
    CHECK(wide == expected_wide);
    CHECK(text == expected_text);
    CHECK(std::vector<std::uint8_t>(binary.begin(), binary.end()) == expected_binary);
  }
};

/// Writes temporaries from a single serialize().
struct Temporaries final : Object {
  std::size_t count = 0;
  std::vector<int> loaded;
  std::string loaded_text;
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & count;
    if constexpr (Archive::is_saving::value) {
      ar & std::vector<int>(count, 7) & std::string(count, 'q');
    } else {
      ar & loaded & loaded_text;
    }
  }
};

/// A serialize() that reallocates its own field after writing it while saving: the bytes it wrote
/// are freed before the writer sends them.
struct Fickle final : Object {
  std::vector<std::int64_t> values;
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & values;
    if constexpr (Archive::is_saving::value) values.assign(values.size() * 2, 0);
  }
};

/// A split save() that reuses one mutable member buffer for two values.
struct Scratchpad final : Object {
  std::size_t count = 0;
  mutable std::vector<int> scratch;
  std::vector<int> first, second;  // as loaded
  void trace(Tracer&) const override {}
  template <class Archive>
  void save(Archive& ar, unsigned) const {
    ar << count;
    scratch.assign(count, 1);
    ar << scratch;
    std::fill(scratch.begin(), scratch.end(), 2);  // same storage, new contents
    ar << scratch;
  }
  template <class Archive>
  void load(Archive& ar, unsigned) {
    ar >> count >> first >> second;
  }
  BOOST_SERIALIZATION_SPLIT_MEMBER()
};

template <std::size_t N>
struct Bits final : Object {
  std::bitset<N> bits;
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & bits;
  }
};

/// A polymorphic value type and a type derived from it.
struct Shape {
  virtual ~Shape() = default;
  int sides = 0;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & sides;
  }
};
struct Circle : Shape {
  double radius = 0;
};
struct Drawing final : Object {
  std::unique_ptr<Shape> shape;
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & shape;
  }
};

struct Wide final : Object {
  int128 s = 0;
  uint128 u = 0;
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & s & u;
  }
};
/// Same record layout as Wide, with 64-bit fields: registered under a name of the same length.
struct Narrow final : Object {
  std::int64_t s = 0;
  std::uint64_t u = 0;
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & s & u;
  }
};

/// A managed base serialized through boost::serialization::base_object.
struct Vehicle : Object {
  int wheels = 0;
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & wheels;
  }
};
struct Car final : Vehicle {
  std::string make;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & boost::serialization::base_object<Vehicle>(*this) & make;
  }
};
struct Truck final : Vehicle {
  double load = 0;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & BOOST_SERIALIZATION_BASE_OBJECT_NVP(Vehicle) & BOOST_SERIALIZATION_NVP(load);
  }
};

enum class Path { buffer, stream, file };

/// Saves `heap` by `path` and loads it into a fresh heap.
void round_trip(Heap& from, Heap& to, Path path) {
  switch (path) {
    case Path::buffer: {
      ByteBuffer bytes;
      save(from, bytes);
      load(to, bytes);
      break;
    }
    case Path::stream: {
      std::stringstream stream;
      save(from, stream);
      load(to, stream);
      break;
    }
    case Path::file: {
      snapheap_test::TempDir dir;
      const std::filesystem::path file = dir.path() / "computed.snap";
      save(from, file, {.sync = false});
      load(to, file);
      break;
    }
  }
}

}  // namespace computed_test

SNAPHEAP_REGISTER(computed_test::Locals);
SNAPHEAP_REGISTER(computed_test::Temporaries);
SNAPHEAP_REGISTER(computed_test::Fickle);
SNAPHEAP_REGISTER(computed_test::Scratchpad);
SNAPHEAP_REGISTER(computed_test::Bits<4096>);
SNAPHEAP_REGISTER(computed_test::Bits<200000>);
SNAPHEAP_REGISTER(computed_test::Drawing);
SNAPHEAP_REGISTER_AS(computed_test::Wide, "cv.W128");
SNAPHEAP_REGISTER_AS(computed_test::Narrow, "cv.W064");
SNAPHEAP_REGISTER(computed_test::Car);
SNAPHEAP_REGISTER(computed_test::Truck);

using namespace computed_test;

TEST_CASE("values a split save() builds in locals are saved exactly, at every size around the bulk threshold",
          "[serialize][computed]") {
  const auto path = GENERATE(Path::buffer, Path::stream, Path::file);
  const std::size_t bytes = GENERATE(std::size_t{0}, 4095, 4096, 4097, 8192, 800000);
  INFO("path " << static_cast<int>(path) << ", " << bytes << " bytes");
  Heap heap;
  auto l = heap.make<Locals>();
  l->bytes = bytes;
  heap.set_root("l", l);
  Heap restored;
  round_trip(heap, restored, path);
  restored.root<Locals>("l")->check();
}

TEST_CASE("temporaries written from serialize() are saved exactly", "[serialize][computed]") {
  const std::size_t count = GENERATE(std::size_t{1023}, 1024, 2048, 5000, 200000);
  Heap heap;
  auto t = heap.make<Temporaries>();
  t->count = count;
  heap.set_root("t", t);
  Heap restored;
  round_trip(heap, restored, Path::buffer);
  auto r = restored.root<Temporaries>("t");
  CHECK(r->loaded == std::vector<int>(count, 7));
  CHECK(r->loaded_text == std::string(count, 'q'));
}

TEST_CASE("a fresh and a reused heap save the same bytes for computed values", "[serialize][computed]") {
  Heap heap;
  auto l = heap.make<Locals>();
  l->bytes = 8192;
  heap.set_root("l", l);
  ByteBuffer first, second;
  save(heap, first);
  save(heap, second);  // the heap's snapshot buffers are reused now
  CHECK(snapheap_stest::to_vector(first) == snapheap_stest::to_vector(second));
  Heap restored;
  load(restored, second);
  restored.root<Locals>("l")->check();
}

TEST_CASE("a serialize() that reallocates a field after writing it is refused, not written from freed memory",
          "[serialize][computed]") {
  Heap heap;
  auto f = heap.make<Fickle>();
  f->values.assign(1000, 5);  // 8,000 bytes: above the threshold, sent from the field
  heap.set_root("f", f);
  ByteBuffer bytes;
  try {
    save(heap, bytes);
    FAIL("save did not throw");
  } catch (const SnapshotError& e) {
    CHECK(e.code() == SnapshotErrc::unsupported_value);
    CHECK_THAT(e.what(), Catch::Contains("computed_test::Fickle") && Catch::Contains("after writing it"));
  }
  CHECK(bytes.empty());
}

TEST_CASE("a split save() that reuses a member buffer saves each value it wrote", "[serialize][computed]") {
  const std::size_t count = GENERATE(std::size_t{1023}, 1024, 100000);
  Heap heap;
  auto p = heap.make<Scratchpad>();
  p->count = count;
  heap.set_root("p", p);
  Heap restored;
  round_trip(heap, restored, Path::buffer);
  auto r = restored.root<Scratchpad>("p");
  CHECK(r->first == std::vector<int>(count, 1));
  CHECK(r->second == std::vector<int>(count, 2));
}

TEST_CASE("Boost's bitset serialization, which saves through a local string, round-trips", "[serialize][computed]") {
  Heap heap;
  auto small = heap.make<Bits<4096>>();
  auto large = heap.make<Bits<200000>>();
  for (std::size_t i = 0; i < 4096; i += 3) small->bits.set(i);
  for (std::size_t i = 0; i < 200000; i += 7) large->bits.set(i);
  heap.set_root("small", small);
  heap.set_root("large", large);
  Heap restored;
  round_trip(heap, restored, Path::buffer);
  CHECK(restored.root<Bits<4096>>("small")->bits == small->bits);
  CHECK(restored.root<Bits<200000>>("large")->bits == large->bits);
}

TEST_CASE("a unique_ptr to a polymorphic value type holding a derived object is refused at save",
          "[serialize][computed]") {
  Heap heap;
  auto d = heap.make<Drawing>();
  heap.set_root("d", d);
  auto circle = std::make_unique<Circle>();
  circle->sides = 1;
  d->shape = std::move(circle);
  ByteBuffer bytes;
  try {
    save(heap, bytes);
    FAIL("save did not throw");
  } catch (const SnapshotError& e) {
    CHECK(e.code() == SnapshotErrc::unsupported_value);
    CHECK_THAT(e.what(), Catch::Contains("computed_test::Shape") && Catch::Contains("computed_test::Circle"));
  }
  d->shape = std::make_unique<Shape>();
  d->shape->sides = 4;
  save(heap, bytes);
  Heap restored;
  load(restored, bytes);
  auto r = restored.root<Drawing>("d");
  REQUIRE(r->shape);
  CHECK(r->shape->sides == 4);
  CHECK(typeid(*r->shape) == typeid(Shape));
}

TEST_CASE("128-bit integers round-trip in full", "[serialize][computed]") {
  const uint128 big = (uint128{1} << 100) + 5;
  const int128 max = static_cast<int128>(~uint128{0} >> 1);
  const std::vector<std::pair<int128, uint128>> cases = {{0, 0},
                                                          {-1, 1},
                                                          {static_cast<int128>(big), big},
                                                          {-static_cast<int128>(big), big - 1},
                                                          {max, ~uint128{0}},
                                                          {-max - 1, uint128{1} << 64}};
  const auto index = GENERATE(range(0, 6));
  const auto [s, u] = cases[static_cast<std::size_t>(index)];
  Heap heap;
  auto w = heap.make<Wide>();
  w->s = s;
  w->u = u;
  heap.set_root("w", w);
  Heap restored;
  round_trip(heap, restored, Path::buffer);
  auto r = restored.root<Wide>("w");
  CHECK((r->s == s));
  CHECK((r->u == u));
}

TEST_CASE("a 128-bit value read into a 64-bit field is refused; one that fits is read", "[serialize][computed]") {
  Heap heap;
  auto w = heap.make<Wide>();
  heap.set_root("w", w);
  auto narrowed = [&] {
    ByteBuffer bytes;
    save(heap, bytes);
    auto v = snapheap_stest::to_vector(bytes);
    snapheap_stest::replace_bytes(v, "cv.W128", "cv.W064");
    return snapheap_stest::reseal(std::move(v));
  };
  w->s = -12345;
  w->u = std::numeric_limits<std::uint64_t>::max();
  {
    Heap restored;
    load(restored, narrowed());
    auto r = restored.root<Narrow>("w");
    CHECK(r->s == -12345);
    CHECK(r->u == std::numeric_limits<std::uint64_t>::max());
  }
  w->u = uint128{1} << 64;
  Heap restored;
  try {
    load(restored, narrowed());
    FAIL("load did not throw");
  } catch (const SnapshotError& e) {
    CHECK(e.code() == SnapshotErrc::record_mismatch);
    CHECK_THAT(e.what(), Catch::Contains("wider than 64 bits"));
  }
  CHECK(restored.stats().live_objects == 0);
}

TEST_CASE("boost::serialization::base_object on a managed base saves the base part", "[serialize][computed]") {
  Heap heap;
  auto car = heap.make<Car>();
  car->wheels = 4;
  car->make = "Volvo";
  auto truck = heap.make<Truck>();
  truck->wheels = 18;
  truck->load = 12.5;
  heap.set_root("car", car);
  heap.set_root("truck", truck);
  Heap restored;
  round_trip(heap, restored, Path::buffer);
  auto c = restored.root<Car>("car");
  auto t = restored.root<Truck>("truck");
  CHECK(c->wheels == 4);
  CHECK(c->make == "Volvo");
  CHECK(t->wheels == 18);
  CHECK(t->load == 12.5);
}
