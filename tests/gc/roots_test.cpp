// Named roots: set_root / root / has_root / remove_root / root_names, and what they keep alive.
#include <catch2/catch.hpp>
#include <snapheap/heap.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include "support/nodes.hpp"

using snapheap::Heap;
using snapheap::Strong;
using snapheap::Weak;
using snapheap_test::Bird;
using snapheap_test::Dog;
using snapheap_test::Animal;
using snapheap_test::Node;

TEST_CASE("a named root keeps its object alive after every Strong is gone", "[roots][invariant1][valgrind]") {
  Heap heap;
  Weak<Node> weak;
  {
    auto node = heap.make<Node>(7);
    node->next = heap.make<Node>(8);
    weak = node;
    heap.set_root("model", node);
  }
  heap.collect();
  REQUIRE_FALSE(weak.expired());
  CHECK(heap.stats().live_objects == 2);
  CHECK(heap.has_root("model"));
  CHECK(heap.root_count() == 1);
  auto back = heap.root<Node>("model");
  REQUIRE(back);
  CHECK(back->value == 7);
  CHECK(back->next->value == 8);
  CHECK(back == weak.lock());
  back.reset();

  CHECK(heap.remove_root("model"));
  CHECK_FALSE(heap.has_root("model"));
  CHECK_FALSE(heap.remove_root("model"));  // nothing left to remove
  heap.collect();
  CHECK(weak.expired());
  CHECK(heap.stats().live_objects == 0);
  CHECK(heap.verify().ok);
}

TEST_CASE("root() of a missing name gives an empty handle", "[roots]") {
  Heap heap;
  CHECK_FALSE(heap.root<Node>("nothing"));
  CHECK_FALSE(heap.root("nothing"));
  CHECK_FALSE(heap.has_root("nothing"));
  heap.set_root("something", heap.make<Node>(1));
  CHECK_FALSE(heap.root<Node>("somethin"));
  CHECK_FALSE(heap.root<Node>("something else"));
}

TEST_CASE("root<T>() of an object that is not a T throws std::invalid_argument", "[roots]") {
  Heap heap;
  heap.set_root("pet", heap.make<Dog>());
  CHECK_THROWS_AS(heap.root<Node>("pet"), std::invalid_argument);
  CHECK_THROWS_AS(heap.root<Bird>("pet"), std::invalid_argument);
  CHECK_THROWS_WITH(heap.root<Bird>("pet"), Catch::Matchers::Contains("pet"));
  // Base classes and the exact class work.
  CHECK(heap.root<Dog>("pet")->legs == 4);
  CHECK(heap.root<Animal>("pet")->legs == 4);
  CHECK(heap.root<snapheap::Object>("pet"));
  CHECK(heap.root("pet") == heap.root<Dog>("pet"));
  CHECK(heap.verify().ok);
}

TEST_CASE("set_root replaces a root of the same name, whatever its type", "[roots]") {
  Heap heap;
  Weak<Node> first;
  Weak<Dog> second;
  {
    auto node = heap.make<Node>(1);
    first = node;
    heap.set_root("slot", node);
    auto dog = heap.make<Dog>();
    second = dog;
    heap.set_root("slot", dog);
  }
  CHECK(heap.root_count() == 1);
  CHECK(heap.root<Dog>("slot") == second.lock());
  CHECK_THROWS_AS(heap.root<Node>("slot"), std::invalid_argument);
  heap.collect();
  CHECK(first.expired());  // the replaced root no longer holds it
  CHECK_FALSE(second.expired());
}

TEST_CASE("set_root with an empty handle removes the root", "[roots]") {
  Heap heap;
  Weak<Node> weak;
  {
    auto node = heap.make<Node>(1);
    weak = node;
    heap.set_root("r", node);
  }
  heap.set_root("r", Strong<Node>());
  CHECK_FALSE(heap.has_root("r"));
  CHECK(heap.root_count() == 0);
  heap.set_root("never-set", nullptr);  // removing what is not there is fine
  CHECK(heap.root_count() == 0);
  heap.collect();
  CHECK(weak.expired());
}

TEST_CASE("an empty root name is rejected with std::invalid_argument", "[roots]") {
  Heap heap;
  auto node = heap.make<Node>(1);
  CHECK_THROWS_AS(heap.set_root("", node), std::invalid_argument);
  CHECK_THROWS_AS(heap.set_root("", nullptr), std::invalid_argument);
  CHECK(heap.root_count() == 0);
  CHECK(heap.verify().ok);
}

TEST_CASE("set_root with an object of another heap throws std::invalid_argument", "[roots]") {
  Heap heap;
  Heap other;
  auto stranger = other.make<Node>(1);
  CHECK_THROWS_AS(heap.set_root("x", stranger), std::invalid_argument);
  CHECK(heap.root_count() == 0);
}

TEST_CASE("root_names() lists every root in sorted order", "[roots]") {
  Heap heap;
  CHECK(heap.root_names().empty());
  for (const char* name : {"zeta", "alpha", "mid", "beta", "Alpha"}) heap.set_root(name, heap.make<Node>(0));
  heap.set_root("mid", heap.make<Node>(1));  // a replacement does not add a name
  CHECK(heap.root_names() == std::vector<std::string>{"Alpha", "alpha", "beta", "mid", "zeta"});
  CHECK(heap.root_count() == 5);
  heap.remove_root("beta");
  CHECK(heap.root_names() == std::vector<std::string>{"Alpha", "alpha", "mid", "zeta"});
  heap.collect();
  CHECK(heap.stats().live_objects == 4);
}

TEST_CASE("several roots may hold one object; it dies when the last lets go", "[roots][invariant1]") {
  Heap heap;
  Weak<Node> weak;
  {
    auto node = heap.make<Node>(1);
    weak = node;
    heap.set_root("a", node);
    heap.set_root("b", node);
  }
  heap.remove_root("a");
  heap.collect();
  CHECK_FALSE(weak.expired());
  heap.set_root("b", heap.make<Node>(2));  // replaced
  heap.collect();
  CHECK(weak.expired());
  CHECK(heap.stats().live_objects == 1);
}
