// Invariant 7: no collection runs while a managed object is being constructed, so a constructor
// may allocate; a collect() asked for during construction runs once make() has published the
// object; and a constructor that throws leaves the heap as it was.
#include <catch2/catch.hpp>
#include <snapheap/heap.hpp>

#include <stdexcept>
#include <vector>

#include "support/nodes.hpp"

using snapheap::Heap;
using snapheap::HeapOptions;
using snapheap::Member;
using snapheap::Strong;
using snapheap::Weak;
using snapheap_test::DestructionLog;
using snapheap_test::Node;

namespace {

/// Allocates `count` children in its constructor and keeps them only through Members: a
/// collection during construction would find them unrooted (the parent is not published yet).
struct Parent final : snapheap::Object {
  std::vector<Member<Node>> children;
  std::uint64_t collections_at_start = 0;
  std::uint64_t collections_at_end = 0;
  std::uint64_t destroyed_during_construction = 0;

  Parent(Heap& heap, int count) {
    collections_at_start = heap.stats().collections;
    children.reserve(static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) {
      children.push_back(heap.make<Node>(i));  // the Strong dies at the end of the statement
      // Every 1000 children, give a collection every chance to run.
      if (i % 1000 == 999) heap.collect();
    }
    collections_at_end = heap.stats().collections;
  }
  void trace(snapheap::Tracer& t) const override { t.trace(children); }
};

/// Asks for a collection in its constructor and records what it saw.
struct AsksForCollection final : snapheap::Object {
  std::uint64_t before = 0;
  std::uint64_t after = 0;
  explicit AsksForCollection(Heap& heap) {
    before = heap.stats().collections;
    heap.collect();
    after = heap.stats().collections;
  }
  void trace(snapheap::Tracer&) const override {}
};

/// Allocates children into Members, then throws.
struct Failing final : snapheap::Object {
  std::vector<Member<Node>> children;
  std::vector<int> host_memory;  // a fully built member: destroyed when the constructor throws
  Failing(Heap& heap, int count, int first_id) : host_memory(1000, 7) {
    for (int i = 0; i < count; ++i) children.push_back(heap.make<Node>(first_id + i));
    throw std::runtime_error("constructor failed on purpose");
  }
  void trace(snapheap::Tracer& t) const override { t.trace(children); }
};

/// Too large for a small-object page: exercises the large-object path of a failed construction.
struct FailingLarge final : snapheap::Object {
  char payload[20000];
  explicit FailingLarge(Heap& heap) : payload{} {
    auto child = heap.make<Node>(0);
    (void)child;
    throw std::runtime_error("large constructor failed on purpose");
  }
  void trace(snapheap::Tracer&) const override {}
};

/// Makes an object that itself allocates in its constructor (nested construction).
struct GrandParent final : snapheap::Object {
  Member<Parent> parent;
  GrandParent(Heap& heap, int count) : parent(heap.make<Parent>(heap, count)) {}
  void trace(snapheap::Tracer& t) const override { t.trace(parent); }
};

}  // namespace

TEST_CASE("a constructor may allocate past the collection trigger: nothing it allocated is collected",
          "[gc][invariant7]") {
  constexpr int kChildren = 20000;  // about 960 KB of Nodes, 15 times the trigger below
  const bool stress = GENERATE(false, true);
  INFO("stress " << stress);
  DestructionLog log(kChildren);
  Heap heap(HeapOptions{.min_trigger_bytes = 64 * 1024, .stress = stress});
  Weak<Parent> weak_parent;
  {
    auto parent = heap.make<Parent>(heap, kChildren);
    weak_parent = parent;
    CHECK(parent->collections_at_end == parent->collections_at_start);
    CHECK(log.total() == 0);
    REQUIRE(parent->children.size() == kChildren);
    heap.collect();
    CHECK(log.total() == 0);
    CHECK(heap.stats().live_objects == kChildren + 1);
    std::size_t wrong = 0;
    for (int i = 0; i < kChildren; ++i)
      wrong += parent->children[static_cast<std::size_t>(i)]->value != i;
    CHECK(wrong == 0);
    REQUIRE(heap.verify().ok);
  }
  heap.collect();
  CHECK(weak_parent.expired());
  CHECK(heap.stats().live_objects == 0);
  CHECK(log.first_mismatch([](std::size_t) { return 1u; }) == "");
}

TEST_CASE("nested constructions that allocate are safe too", "[gc][invariant7]") {
  const bool stress = GENERATE(false, true);
  INFO("stress " << stress);
  Heap heap(HeapOptions{.min_trigger_bytes = 16 * 1024, .stress = stress});
  auto top = heap.make<GrandParent>(heap, 3000);
  heap.collect();
  REQUIRE(top->parent);
  CHECK(top->parent->collections_at_end == top->parent->collections_at_start);
  CHECK(top->parent->children.size() == 3000);
  CHECK(heap.stats().live_objects == 3002);
  CHECK(heap.verify().ok);
}

TEST_CASE("collect() called inside a constructor runs after make() publishes the object",
          "[gc][invariant7]") {
  Heap heap(HeapOptions{.stress = false});
  Weak<Node> garbage;
  { garbage = heap.make<Node>(1); }
  const auto before = heap.stats().collections;

  auto object = heap.make<AsksForCollection>(heap);

  CHECK(object->before == before);
  CHECK(object->after == before);                     // not during construction
  CHECK(heap.stats().collections == before + 1);      // but by the time make() returned
  CHECK(garbage.expired());                           // and it was a real collection
  CHECK(heap.stats().live_objects == 1);              // that kept the new object
  // Nothing is left pending: the next make does not collect again.
  auto other = heap.make<Node>(2);
  CHECK(heap.stats().collections == before + 1);
  CHECK(heap.verify().ok);
}

TEST_CASE("a constructor that throws leaves the heap consistent and leaks nothing", "[gc][invariant7][valgrind]") {
  DestructionLog log(200);
  Heap heap;
  auto keep = heap.make<Node>(199);
  heap.collect();
  const auto live_before = heap.stats().live_objects;
  const auto bytes_before = heap.stats().live_bytes;

  CHECK_THROWS_WITH(heap.make<Failing>(heap, 100, 0), "constructor failed on purpose");
  CHECK(heap.verify().ok);
  heap.collect();
  CHECK(heap.stats().live_objects == live_before);
  CHECK(heap.stats().live_bytes == bytes_before);
  // The children the failed constructor made were garbage and were destroyed once each.
  CHECK(log.first_mismatch([](std::size_t id) { return id < 100 ? 1u : 0u; }) == "");
  CHECK(heap.verify().ok);

  // The same for an object too large for a small-object page.
  CHECK_THROWS_AS(heap.make<FailingLarge>(heap), std::runtime_error);
  CHECK(heap.verify().ok);
  heap.collect();
  CHECK(heap.stats().live_objects == live_before);
  CHECK(heap.stats().live_bytes == bytes_before);
  CHECK(log.count(0) == 2);  // the FailingLarge child has id 0 too
  CHECK(log.total() == 101);
  CHECK(heap.verify().ok);

  // The heap goes on as usual, and the freed cells and slots are reused.
  for (int round = 0; round < 3; ++round) {
    CHECK_THROWS(heap.make<Failing>(heap, 10, 100));
    heap.collect();
    CHECK(heap.stats().live_objects == live_before);
  }
  auto after = heap.make<Node>(150);
  CHECK(after->value == 150);
  CHECK(keep->value == 199);
  CHECK(heap.verify().ok);
}

TEST_CASE("an object made inside a constructor that then throws stays usable if it was rooted",
          "[gc][invariant7]") {
  Heap heap;
  Strong<Node> escaped;
  struct Leaky final : snapheap::Object {
    Leaky(Heap& h, Strong<Node>& out) {
      out = h.make<Node>(5);
      throw std::logic_error("no");
    }
    void trace(snapheap::Tracer&) const override {}
  };
  CHECK_THROWS_AS(heap.make<Leaky>(heap, escaped), std::logic_error);
  heap.collect();
  REQUIRE(escaped);
  CHECK(escaped->value == 5);
  CHECK(heap.stats().live_objects == 1);
  CHECK(heap.verify().ok);
}
