// Class versions: a class that bumps its version still loads snapshots written with the old one,
// and a snapshot from a newer version of a class is refused.
#include <catch2/catch.hpp>

#include "serialize/snapshot_types.hpp"

using namespace snapheap;

namespace version_test {

/// Version 1 of a class, as an older program had it.
struct ThingV1 final : Object {
  int count = 0;
  std::string name;
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & count & name;
  }
};

/// Version 2: a field added. Reads version-1 records without it.
struct ThingV2 final : Object {
  int count = 0;
  std::string name;
  double weight = 9.5;  // default for records written before version 2
  unsigned loaded_version = 99;
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned version) {
    ar & count & name;
    if (version >= 2) ar & weight;
    if (Archive::is_loading::value) loaded_version = version;
  }
};

}  // namespace version_test

BOOST_CLASS_VERSION(version_test::ThingV2, 2)

// The two versions stand in for one class in two builds of a program: registered under two names
// of the same length, so that a test can rename the type in a snapshot of the old one.
SNAPHEAP_REGISTER_AS(version_test::ThingV1, "version.ThingA");
SNAPHEAP_REGISTER_AS(version_test::ThingV2, "version.ThingB");

using namespace version_test;

TEST_CASE("a class that bumps its version loads snapshots of the old version", "[serialize][version]") {
  Heap old_program;
  auto t = old_program.make<ThingV1>();
  t->count = 3;
  t->name = "three";
  old_program.set_root("thing", t);
  ByteBuffer bytes;
  save(old_program, bytes);
  auto renamed = snapheap_stest::to_vector(bytes);
  // Written by version 1 of "version.ThingB": same name length, version 0 (the default).
  snapheap_stest::replace_bytes(renamed, "version.ThingA", "version.ThingB");
  renamed = snapheap_stest::reseal(std::move(renamed));

  Heap new_program;
  load(new_program, std::span<const std::byte>(renamed));
  auto loaded = new_program.root<ThingV2>("thing");
  REQUIRE(loaded);
  CHECK(loaded->count == 3);
  CHECK(loaded->name == "three");
  CHECK(loaded->weight == 9.5);
  CHECK(loaded->loaded_version == 0);

  SECTION("and writes its own version from then on") {
    loaded->weight = 1.25;
    ByteBuffer again;
    save(new_program, again);
    Heap third;
    load(third, again);
    CHECK(third.root<ThingV2>("thing")->weight == 1.25);
    CHECK(third.root<ThingV2>("thing")->loaded_version == 2);
  }
}

TEST_CASE("a snapshot written by a newer class version is refused", "[serialize][version]") {
  Heap heap;
  heap.set_root("thing", heap.make<ThingV2>());
  ByteBuffer bytes;
  save(heap, bytes);
  auto newer = snapheap_stest::to_vector(bytes);
  // The version follows the name in the type table: 2 -> 3.
  snapheap_stest::replace_bytes(newer, std::string("version.ThingB\x02", 15), std::string("version.ThingB\x03", 15));
  newer = snapheap_stest::reseal(std::move(newer));
  Heap target;
  try {
    load(target, std::span<const std::byte>(newer));
    FAIL("load did not throw");
  } catch (const SnapshotError& e) {
    CHECK(e.code() == SnapshotErrc::newer_class_version);
    CHECK(std::string(e.what()).find("'version.ThingB' was saved with class version 3") != std::string::npos);
  }
  CHECK(target.stats().live_objects == 0);
}
