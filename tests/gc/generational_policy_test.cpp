// Generational mode's rules for objects that do not die young (gc/generational.cpp):
// pretenuring after a minor collection that found its young objects alive, the longer wait
// after a major collection that found little garbage, and no major within the pages the heap
// held after the last one. Each test checks what the rule promises
// and what it must not break: what is reachable lives, what a pretenured object leaves behind is
// found by the next major collection, and the heap passes verify() after every collection.
#include <catch2/catch.hpp>
#include <snapheap/snapheap.hpp>

#include <boost/serialization/split_member.hpp>
#include <cstddef>
#include <stdexcept>
#include <vector>

#include "gc/collector.hpp"
#include "serialize/snapshot_types.hpp"
#include "support/nodes.hpp"

using snapheap::GcMode;
using snapheap::Heap;
using snapheap::HeapOptions;
using snapheap::Strong;
using snapheap::Weak;
using snapheap::detail::HeapImpl;
using snapheap::detail::HeapInternals;
using snapheap_test::Node;

namespace {

HeapOptions policy_options() {
  HeapOptions o;
  o.mode = GcMode::generational;
  o.stress = false;                // the tests run the collections themselves
  o.verify_after_collect = true;   // verify() and the tri-color check after every collection
  o.min_trigger_bytes = std::size_t{1} << 40;
  return o;
}

/// Automatic collections only, every 64 KiB of allocation at least.
HeapOptions automatic_options() {
  HeapOptions o = policy_options();
  o.min_trigger_bytes = std::size_t{64} << 10;
  return o;
}

/// `count` nodes made and kept.
void fill(Heap& heap, std::vector<Strong<Node>>& kept, int count) {
  for (int i = 0; i < count; ++i) kept.push_back(heap.make<Node>(i));
}

HeapImpl& impl(Heap& heap) { return HeapInternals::of(heap); }
void minor(Heap& heap) { snapheap::detail::minor_collection(impl(heap)); }
bool born_old(Heap& heap, const snapheap::Object* o) {
  return impl(heap).table.is_marked(snapheap::detail::ObjectAccess::slot(o));
}

/// `count` young nodes kept alive, then a minor collection: a sample that says they survive.
std::vector<Strong<Node>> survive_a_minor(Heap& heap, int count) {
  std::vector<Strong<Node>> kept;
  for (int i = 0; i < count; ++i) kept.push_back(heap.make<Node>(i));
  minor(heap);
  return kept;
}

/// A snapshot's object whose load throws after the objects before it were made.
struct PolicyLoadFails final : snapheap::Object {
  int value = 1;
  void trace(snapheap::Tracer&) const override {}
  template <class Archive>
  void save(Archive& ar, unsigned) const {
    ar & value;
  }
  template <class Archive>
  void load(Archive& ar, unsigned) {
    ar & value;
    throw std::runtime_error("PolicyLoadFails fails on purpose");
  }
  BOOST_SERIALIZATION_SPLIT_MEMBER()
};
struct PolicyHolder final : snapheap::Object {
  snapheap::Member<snapheap_stest::SNode> chain;
  snapheap::Member<PolicyLoadFails> thrower;
  void trace(snapheap::Tracer& t) const override {
    t.trace(chain);
    t.trace(thrower);
  }
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & chain & thrower;
  }
};

}  // namespace

SNAPHEAP_REGISTER(PolicyLoadFails);
SNAPHEAP_REGISTER(PolicyHolder);

TEST_CASE("generational: a failed load while pretenuring leaves no mark for the slots' next objects",
          "[gc][generational][pretenure][serialize]") {
  snapheap::ByteBuffer bytes;
  {
    Heap source(HeapOptions{.mode = GcMode::stop_the_world, .stress = false});
    auto holder = source.make<PolicyHolder>();
    for (int i = 0; i < 500; ++i) {
      auto n = source.make<snapheap_stest::SNode>(i);
      n->next = holder->chain;
      holder->chain = n;
    }
    holder->thrower = source.make<PolicyLoadFails>();
    source.set_root("holder", holder);
    snapheap::save(source, bytes);
  }
  Heap heap(policy_options());
  const auto kept = survive_a_minor(heap, 5000);
  REQUIRE(impl(heap).table.pretenuring());
  const auto live = heap.stats().live_objects;
  CHECK_THROWS_WITH(snapheap::load(heap, bytes), Catch::Contains("fails on purpose"));
  CHECK(heap.stats().live_objects == live);
  for (int i = 0; i < 3; ++i) minor(heap);  // pretenuring ends
  REQUIRE_FALSE(impl(heap).table.pretenuring());
  // Young garbage in the slots the load gave back: a minor collection frees all of it.
  std::vector<Weak<Node>> garbage;
  for (int i = 0; i < 2000; ++i) garbage.emplace_back(heap.make<Node>(i));
  minor(heap);
  std::size_t survived = 0;
  for (const auto& w : garbage) survived += w.expired() ? 0 : 1;
  CHECK(survived == 0);
  CHECK(heap.verify().ok);
}

TEST_CASE("generational: after a minor collection that finds its young objects alive, new objects are born old",
          "[gc][generational][pretenure]") {
  Heap heap(policy_options());
  const auto kept = survive_a_minor(heap, 5000);
  REQUIRE(impl(heap).table.pretenuring());

  // Born old: marked at birth, not logged, and a minor collection does not free it.
  Weak<Node> garbage = heap.make<Node>(-1);
  CHECK(born_old(heap, garbage.lock().get()));
  CHECK(impl(heap).table.young().empty());
  const auto freed_before = heap.stats().total_freed_objects;
  minor(heap);
  CHECK_FALSE(garbage.expired());
  CHECK(heap.stats().total_freed_objects == freed_before);

  // A pretenured holder given a young object once pretenuring has ended keeps it through the
  // barrier, like any old object.
  Strong<Node> holder = heap.make<Node>(-2);
  minor(heap);
  minor(heap);  // the third pretenured interval ends: objects are young again
  CHECK_FALSE(impl(heap).table.pretenuring());
  CHECK(heap.stats().next_collection_bytes <= std::size_t{1} << 20);  // a short survival sample
  Weak<Node> young_garbage = heap.make<Node>(-3);
  CHECK_FALSE(born_old(heap, young_garbage.lock().get()));
  holder->next = heap.make<Node>(-4);
  const Weak<Node> held(holder->next);
  minor(heap);
  CHECK(young_garbage.expired());  // the sample interval is young: its garbage dies in a minor
  CHECK_FALSE(held.expired());
  CHECK(holder->next->value == -4);
  CHECK_FALSE(impl(heap).table.pretenuring());  // 3 young objects are no sample

  // What the pretenured object left behind is found by the next major collection.
  CHECK_FALSE(garbage.expired());
  heap.collect();
  CHECK(garbage.expired());
  CHECK_FALSE(held.expired());
  CHECK(heap.verify().ok);
}

TEST_CASE("generational: a minor collection that finds most young objects dead does not pretenure",
          "[gc][generational][pretenure]") {
  Heap heap(policy_options());
  std::vector<Strong<Node>> kept;
  for (int i = 0; i < 10000; ++i) {
    Strong<Node> n = heap.make<Node>(i);
    if (i % 2 == 0) kept.push_back(n);  // half survive: under 0.9
  }
  minor(heap);
  CHECK_FALSE(impl(heap).table.pretenuring());
  Weak<Node> garbage = heap.make<Node>(-1);
  minor(heap);
  CHECK(garbage.expired());
}

TEST_CASE("generational: pretenure_survival above 1 never pretenures, and a bad value is refused",
          "[gc][generational][pretenure]") {
  HeapOptions o = policy_options();
  o.pretenure_survival = 1.5;
  Heap heap(o);
  const auto kept = survive_a_minor(heap, 5000);
  CHECK_FALSE(impl(heap).table.pretenuring());
  Weak<Node> garbage = heap.make<Node>(-1);
  minor(heap);
  CHECK(garbage.expired());

  o.pretenure_survival = -0.5;
  CHECK_THROWS_WITH(Heap(o), Catch::Contains("pretenure_survival"));
  o.pretenure_survival = 0.9;
  o.mode = GcMode::stop_the_world;
  CHECK_NOTHROW(Heap(o));
}

TEST_CASE("generational: a major collection that finds much garbage ends pretenuring at once",
          "[gc][generational][pretenure]") {
  Heap heap(policy_options());
  auto kept = survive_a_minor(heap, 5000);
  REQUIRE(impl(heap).table.pretenuring());
  std::vector<Weak<Node>> dropped;
  for (int i = 0; i < 20000; ++i) dropped.emplace_back(heap.make<Node>(i));  // pretenured garbage
  for (const auto& w : dropped) REQUIRE_FALSE(w.expired());
  heap.collect();
  for (const auto& w : dropped) CHECK(w.expired());
  CHECK_FALSE(impl(heap).table.pretenuring());
  CHECK(impl(heap).major_scale == 1.0);
  Weak<Node> garbage = heap.make<Node>(-1);
  CHECK_FALSE(born_old(heap, garbage.lock().get()));
  minor(heap);
  CHECK(garbage.expired());
  for (const auto& n : kept) CHECK(n->value >= 0);
}

TEST_CASE("generational: switching modes ends pretenuring, and the heap stays whole",
          "[gc][generational][pretenure]") {
  Heap heap(policy_options());
  const auto kept = survive_a_minor(heap, 5000);
  REQUIRE(impl(heap).table.pretenuring());
  Weak<Node> garbage = heap.make<Node>(-1);
  HeapOptions o = heap.options();
  o.mode = GcMode::stop_the_world;
  heap.set_options(o);
  CHECK_FALSE(impl(heap).table.pretenuring());
  Weak<Node> fresh = heap.make<Node>(-2);
  CHECK_FALSE(born_old(heap, fresh.lock().get()));  // stop-the-world objects are born unmarked
  heap.collect();
  CHECK(garbage.expired());
  CHECK(fresh.expired());
  o.mode = GcMode::generational;
  heap.set_options(o);
  CHECK_FALSE(impl(heap).table.pretenuring());
  CHECK(impl(heap).major_scale == 1.0);
  CHECK(heap.verify().ok);
}

TEST_CASE("generational: after a major collection that finds little garbage, the next one waits for 4x the growth",
          "[gc][generational][major]") {
  // Automatic collections only, on a heap that grows and (in the second part) churns.
  Heap heap(automatic_options());
  std::vector<Strong<Node>> kept;
  std::vector<std::size_t> live_at_major;  // counted bytes just after each major collection
  auto make_one = [&](std::int64_t value, bool keep) {
    const auto majors = heap.stats().major_collections;
    Strong<Node> n = heap.make<Node>(value);
    if (keep) kept.push_back(n);
    if (heap.stats().major_collections != majors) live_at_major.push_back(heap.stats().live_bytes);
  };
  for (int i = 0; i < 200000; ++i) make_one(i, true);
  INFO("majors: " << live_at_major.size());
  REQUIRE(live_at_major.size() >= 2);
  for (std::size_t k = 1; k < live_at_major.size(); ++k) {
    INFO("major " << k << " at " << live_at_major[k] << " bytes after one at " << live_at_major[k - 1]);
    // Nothing died: every major was bad, so each waited for old x (1 + 3 x major_multiplier).
    CHECK(live_at_major[k] > 4 * live_at_major[k - 1]);
  }
  CHECK(impl(heap).major_scale == 3.0);

  // Now old objects die: every node made replaces a kept one. The first major finds the garbage
  // and restores the normal wait.
  const auto majors = heap.stats().major_collections;
  for (int i = 0; i < 4000000 && heap.stats().major_collections < majors + 2; ++i)
    kept[static_cast<std::size_t>(i) % kept.size()] = heap.make<Node>(i);
  REQUIRE(heap.stats().major_collections >= majors + 2);
  CHECK(impl(heap).major_scale == 1.0);
  heap.collect();
  CHECK(heap.stats().live_objects == kept.size());
}

TEST_CASE("generational: Heap::collect() is not judged: after one that frees nothing, the next major comes at the normal wait",
          "[gc][generational][major]") {
  // A host builds its data with automatic collections (each major bad: nothing died), then
  // collects once; from then on old objects die (each node made replaces a kept one).
  Heap heap(automatic_options());
  std::vector<Strong<Node>> kept;
  fill(heap, kept, 100000);
  REQUIRE(impl(heap).major_scale == 3.0);
  heap.collect();
  CHECK(heap.stats().last_freed_objects == 0);
  CHECK(impl(heap).major_scale == 1.0);  // a judged major that freed nothing would give 3
  CHECK_FALSE(impl(heap).table.pretenuring());
  const std::size_t old_bytes = heap.stats().live_bytes;
  const auto majors = heap.stats().major_collections;
  std::size_t before_major = 0;  // the heap's bytes just before the first automatic major
  for (int i = 0; i < 2000000 && heap.stats().major_collections == majors; ++i) {
    before_major = heap.stats().live_bytes;
    kept[static_cast<std::size_t>(i) % kept.size()] = heap.make<Node>(i);
  }
  REQUIRE(heap.stats().major_collections == majors + 1);
  INFO("first major at " << before_major << " bytes, old bytes " << old_bytes);
  // The normal wait: old x (1 + major_multiplier) + min_trigger_bytes, reached at the minor
  // collection that passes it; the 4x wait would have let the heap pass 4 x old.
  CHECK(before_major < 3 * old_bytes);
  CHECK(before_major > 2 * old_bytes);
  CHECK(impl(heap).major_scale == 1.0);  // that major found the garbage
  heap.collect();
  CHECK(heap.stats().live_objects == kept.size());
}

TEST_CASE("generational: a heap refilled after collect() emptied it runs no major within the pages it kept",
          "[gc][generational][major]") {
  // A host builds its data, drops it and collects (the heap is empty, its pages kept), then
  // builds it again: the old generation grows from nothing, but into pages the heap already
  // held. A major there would mark the new objects and find them all alive. Past those pages,
  // majors come as before.
  Heap heap(automatic_options());
  std::vector<Strong<Node>> kept;
  fill(heap, kept, 100000);
  kept.clear();
  heap.collect();
  REQUIRE(heap.stats().live_objects == 0);
  const std::size_t held = impl(heap).committed_at_major;
  INFO("pages held after collect(): " << held << " bytes");
  REQUIRE(held >= 100000 * sizeof(Node));
  for (int round = 0; round < 2; ++round) {
    INFO("round " << round);
    const auto minors = heap.stats().minor_collections;
    const auto majors = heap.stats().major_collections;
    fill(heap, kept, 100000);
    CHECK(heap.stats().minor_collections > minors);
    CHECK(heap.stats().major_collections == majors);
    kept.clear();
    heap.collect();  // a major (not automatic): empty again, the next round refills the same pages
    CHECK(heap.stats().live_objects == 0);
  }
  // Growing past the pages held: a major comes (every one finds nothing dead here), the first
  // one only once the counted bytes have passed them.
  const auto before = heap.stats().major_collections;
  const std::size_t held_now = impl(heap).committed_at_major;
  std::size_t counted_at_major = 0;
  for (int i = 0; i < 1000000 && heap.stats().major_collections == before; ++i) {
    counted_at_major = impl(heap).counted_bytes();
    kept.push_back(heap.make<Node>(i));
  }
  REQUIRE(heap.stats().major_collections == before + 1);
  CHECK(counted_at_major > held_now);
  heap.collect();
  CHECK(heap.stats().live_objects == kept.size());
}
