// Snapshots of weak structures: an Ephemeron or a WeakKeyMap entry is saved iff its key is in the
// snapshot (the same fixpoint as marking), a WeakValueMap entry iff its value is; what is left
// out is not written and is counted (SnapshotStats, inspect()); a snapshot without weak
// structures stays in format 2.
#include <catch2/catch.hpp>

#include <snapheap/snapheap.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "serialize/snapshot_types.hpp"

using namespace snapheap;
using snapheap_stest::SNode;

namespace snapheap_wtest {

/// Ephemeron fields: a table of pairs.
struct EPairs final : Object {
  std::vector<Ephemeron<SNode, SNode>> pairs;
  void trace(Tracer& t) const override { t.trace(pairs); }
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & pairs;
  }
};

/// A root object holding nodes strongly and the maps.
struct Holder final : Object {
  std::vector<Member<SNode>> nodes;
  Member<WeakKeyMap<SNode, SNode>> by_key;
  Member<WeakValueMap<std::string, SNode>> by_name;
  void trace(Tracer& t) const override {
    t.trace(nodes);
    t.trace(by_key);
    t.trace(by_name);
  }
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & nodes & by_key & by_name;
  }
};

}  // namespace snapheap_wtest

using snapheap_wtest::EPairs;
using snapheap_wtest::Holder;
using KeyMap = WeakKeyMap<SNode, SNode>;
using NameMap = WeakValueMap<std::string, SNode>;

SNAPHEAP_REGISTER(snapheap_wtest::EPairs);
SNAPHEAP_REGISTER(snapheap_wtest::Holder);
SNAPHEAP_REGISTER(snapheap::WeakKeyMap<snapheap_stest::SNode, snapheap_stest::SNode>);
SNAPHEAP_REGISTER(snapheap::WeakValueMap<std::string, snapheap_stest::SNode>);

namespace {

std::uint16_t version_of(const ByteBuffer& bytes) {
  return static_cast<std::uint16_t>(std::to_integer<unsigned>(bytes.data()[8]) |
                                    (std::to_integer<unsigned>(bytes.data()[9]) << 8));
}

}  // namespace

TEST_CASE("weak structures: an ephemeron is saved iff its key is, through the fixpoint", "[serialize][weak]") {
  Heap heap;
  Strong<EPairs> pairs = heap.make<EPairs>();
  // saved: k0 is saved (rooted through "k0"); k0 -> v0 = k1 -> v1 (a chain through values).
  Strong<SNode> k0 = heap.make<SNode>(0);
  Strong<SNode> k1 = heap.make<SNode>(1);
  Strong<SNode> v1 = heap.make<SNode>(2);
  // dropped: the key is alive (a host Strong) but not saved.
  Strong<SNode> unsaved = heap.make<SNode>(3);
  Strong<SNode> unsaved_value = heap.make<SNode>(4);
  pairs->pairs.emplace_back(k1, v1);  // resolved only once k1 is
  pairs->pairs.emplace_back(k0, k1);
  pairs->pairs.emplace_back(unsaved, unsaved_value);
  pairs->pairs.emplace_back();  // empty
  heap.set_root("pairs", pairs);
  heap.set_root("k0", k0);

  ByteBuffer bytes;
  const SnapshotStats saved = save(heap, bytes);
  CHECK(version_of(bytes) == 3);
  CHECK(saved.ephemerons_saved == 2);
  CHECK(saved.ephemerons_dropped == 1);
  CHECK(saved.objects == 4);  // pairs, k0, k1, v1: not the unsaved key or its value

  const SnapshotInfo info = inspect(std::span<const std::byte>(bytes.data(), bytes.size()));
  CHECK(info.format_version == 3);
  CHECK(info.ephemerons_saved == 2);
  CHECK(info.ephemerons_dropped == 1);

  Heap other;
  const SnapshotStats loaded = load(other, bytes);
  CHECK(loaded.ephemerons_saved == 2);
  CHECK(loaded.ephemerons_dropped == 1);
  Strong<EPairs> back = other.root<EPairs>("pairs");
  Strong<SNode> k0b = other.root<SNode>("k0");
  REQUIRE(back->pairs.size() == 4);
  CHECK(back->pairs[1].key() == k0b);
  Strong<SNode> k1b = back->pairs[1].value();
  REQUIRE(k1b);
  CHECK(k1b->value == 1);
  CHECK(back->pairs[0].key() == k1b);
  CHECK(back->pairs[0].value()->value == 2);
  CHECK(back->pairs[2].expired());  // dropped: loads empty
  CHECK(back->pairs[3].expired());
  // The loaded pairs keep ephemeron semantics: without k0 everything but the table goes.
  k0b.reset();
  k1b.reset();
  other.remove_root("k0");
  other.collect();
  CHECK(back->pairs[0].expired());
  CHECK(back->pairs[1].expired());
  CHECK(other.stats().live_objects == 1);
}

TEST_CASE("weak structures: maps keep the entries whose keys or values are saved", "[serialize][weak]") {
  const GcMode mode = GENERATE(GcMode::stop_the_world, GcMode::incremental, GcMode::generational);
  HeapOptions options;
  options.mode = mode;
  Heap heap(options);
  Strong<Holder> holder = heap.make<Holder>();
  holder->by_key = heap.make<KeyMap>().get();
  holder->by_name = heap.make<NameMap>().get();
  std::vector<Strong<SNode>> outside;  // alive but not saved
  for (int i = 0; i < 100; ++i) {
    Strong<SNode> key = heap.make<SNode>(i);
    Strong<SNode> value = heap.make<SNode>(1000 + i);
    value->next = key;  // a value pointing back at its key
    holder->by_key->set(key, value);
    holder->by_name->set("n" + std::to_string(i), key);
    if (i % 4 == 0) holder->nodes.push_back(key.get());
    else outside.push_back(key);
  }
  heap.set_root("holder", holder);
  heap.collect();

  std::stringstream stream;
  const SnapshotStats saved = save(heap, stream);
  CHECK(saved.ephemerons_saved == 25);
  CHECK(saved.ephemerons_dropped == 75);
  CHECK(saved.weak_values_saved == 25);
  CHECK(saved.weak_values_dropped == 75);
  CHECK(saved.objects == 1 + 2 + 25 + 25);  // holder, the maps, saved keys, their values

  Heap other(options);
  load(other, stream);
  Strong<Holder> back = other.root<Holder>("holder");
  CHECK(back->by_key->size() == 25);
  CHECK(back->by_name->size() == 25);
  for (const Member<SNode>& key : back->nodes) {
    Strong<SNode> value = back->by_key->get(key.get());
    REQUIRE(value);
    CHECK(value->value == 1000 + key->value);
    CHECK(value->next.get() == key.get());
    // (Built by append: GCC 12's -Wstringop-overflow misreads `"n" + std::to_string(...)` here
    // as an overflowing copy, depending on what it inlines around it.)
    const std::string name = std::string("n").append(std::to_string(key->value));
    CHECK(back->by_name->get(name).get() == key.get());
  }
  // Loaded maps drop entries as their keys and values die.
  back->nodes.resize(10);
  other.collect();
  CHECK(back->by_key->size() == 10);
  CHECK(back->by_name->size() == 10);
}

TEST_CASE("weak structures: a snapshot without them stays in format 2", "[serialize][weak]") {
  Heap heap;
  Strong<SNode> n = heap.make<SNode>(1);
  heap.set_root("n", n);
  ByteBuffer bytes;
  save(heap, bytes);
  CHECK(version_of(bytes) == 2);
  const SnapshotInfo info = inspect(std::span<const std::byte>(bytes.data(), bytes.size()));
  CHECK(info.summary_bytes == 0);
}

TEST_CASE("weak structures: a corrupt summary is refused with its offset", "[serialize][weak]") {
  Heap heap;
  Strong<EPairs> pairs = heap.make<EPairs>();
  Strong<SNode> k = heap.make<SNode>(1);
  pairs->pairs.emplace_back(k, k);
  heap.set_root("pairs", pairs);
  heap.set_root("k", k);
  ByteBuffer bytes;
  save(heap, bytes);
  std::vector<std::byte> raw = snapheap_stest::to_vector(bytes);
  // The summary is the last thing before the 24-byte trailer: 4, then four one-byte counts.
  const std::size_t at = raw.size() - 24 - 5;
  REQUIRE(std::to_integer<int>(raw[at]) == 4);
  raw[at] = std::byte{2};  // fewer than four fields
  raw = snapheap_stest::reseal(std::move(raw));
  Heap other;
  try {
    load(other, std::span<const std::byte>(raw.data(), raw.size()));
    FAIL("the load was not refused");
  } catch (const SnapshotError& e) {
    CHECK(e.code() == SnapshotErrc::malformed);
    CHECK_THAT(e.what(), Catch::Contains("summary"));
  }
  CHECK(other.root_count() == 0);
}
