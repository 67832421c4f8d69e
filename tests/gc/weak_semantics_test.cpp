// Death callbacks, ephemerons and weak maps in every collector mode: what runs when, what lives
// and what dies, and the mistakes the heap catches.
#include <catch2/catch.hpp>
#include <snapheap/heap.hpp>
#include <snapheap/weak_map.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include "support/nodes.hpp"
#include "support/small_stack.hpp"

using snapheap::DeathWatch;
using snapheap::Ephemeron;
using snapheap::GcMode;
using snapheap::Heap;
using snapheap::HeapOptions;
using snapheap::Member;
using snapheap::Strong;
using snapheap::Weak;
using snapheap::WeakKeyMap;
using snapheap::WeakValueMap;
using snapheap_test::Node;

namespace {

HeapOptions with_mode(GcMode mode) {
  HeapOptions o;
  o.mode = mode;
  return o;
}

GcMode any_mode() { return GENERATE(GcMode::stop_the_world, GcMode::incremental, GcMode::generational); }

/// A holder of ephemerons: the pairs of a weak-keyed table.
struct Pairs final : snapheap::Object {
  std::vector<Ephemeron<Node, Node>> pairs;
  void trace(snapheap::Tracer& t) const override { t.trace(pairs); }
};

/// An object whose destructor notes the state of weak handles at that moment.
struct Probe final : snapheap::Object {
  std::vector<std::string>* log = nullptr;
  std::string name;
  Probe(std::vector<std::string>* l, std::string n) : log(l), name(std::move(n)) {}
  ~Probe() { log->push_back("destroyed " + name); }
  void trace(snapheap::Tracer&) const override {}
};

using NodeKeyMap = WeakKeyMap<Node, Node>;
using Cache = WeakValueMap<std::string, Node>;

}  // namespace

// ---- death callbacks ------------------------------------------------------------------------------

TEST_CASE("on_death: a callback runs once, after the collection that finds its object dead", "[weak]") {
  Heap heap(with_mode(any_mode()));
  int runs = 0;
  Strong<Node> node = heap.make<Node>(1);
  Weak<Node> weak = node;
  bool expired_in_callback = false;
  DeathWatch watch = heap.on_death(node, [&] {
    ++runs;
    expired_in_callback = weak.expired();
  });
  CHECK(watch.pending());
  heap.collect();
  CHECK(runs == 0);  // still rooted
  node.reset();
  heap.collect();
  CHECK(runs == 1);
  CHECK(expired_in_callback);
  CHECK_FALSE(watch.pending());
  heap.collect();
  CHECK(runs == 1);
  CHECK(heap.stats().callbacks_run == 1);
}

TEST_CASE("on_death: the destructor has run before the callback", "[weak]") {
  Heap heap(with_mode(any_mode()));
  std::vector<std::string> log;
  Strong<Probe> probe = heap.make<Probe>(&log, "p");
  DeathWatch watch = heap.on_death(probe, [&] { log.push_back("callback"); });
  probe.reset();
  heap.collect();
  REQUIRE(log.size() == 2);
  CHECK(log[0] == "destroyed p");
  CHECK(log[1] == "callback");
}

TEST_CASE("on_death: a batch runs newest registration first and sees the whole batch dead", "[weak]") {
  Heap heap(with_mode(any_mode()));
  std::vector<int> order;
  std::vector<Weak<Node>> weaks;
  std::vector<DeathWatch> watches;
  bool all_dead = true;
  {
    std::vector<Strong<Node>> nodes;
    for (int i = 0; i < 5; ++i) {
      nodes.push_back(heap.make<Node>(i));
      weaks.emplace_back(nodes.back());
    }
    for (int i = 0; i < 5; ++i)
      watches.push_back(heap.on_death(nodes[static_cast<std::size_t>(i)], [&, i] {
        order.push_back(i);
        for (const Weak<Node>& w : weaks) all_dead = all_dead && w.expired();
      }));
  }
  heap.collect();
  CHECK(order == std::vector<int>{4, 3, 2, 1, 0});
  CHECK(all_dead);
}

TEST_CASE("on_death: cancelled and dropped watches do not run; detached ones do", "[weak]") {
  Heap heap(with_mode(any_mode()));
  int cancelled = 0, dropped = 0, detached = 0;
  Strong<Node> a = heap.make<Node>(1), b = heap.make<Node>(2), c = heap.make<Node>(3);
  DeathWatch wa = heap.on_death(a, [&] { ++cancelled; });
  CHECK(wa.cancel());
  CHECK_FALSE(wa.cancel());
  CHECK_FALSE(wa.pending());
  { DeathWatch wb = heap.on_death(b, [&] { ++dropped; }); }
  heap.on_death(c, [&] { ++detached; }).detach();
  a.reset();
  b.reset();
  c.reset();
  heap.collect();
  CHECK(cancelled == 0);
  CHECK(dropped == 0);
  CHECK(detached == 1);
}

TEST_CASE("on_death: a callback cancelled by an earlier callback of the same batch does not run", "[weak]") {
  Heap heap(with_mode(any_mode()));
  int second = 0;
  Strong<Node> a = heap.make<Node>(1), b = heap.make<Node>(2);
  DeathWatch first_watch = heap.on_death(a, [&] { ++second; });
  DeathWatch canceller = heap.on_death(b, [&] { first_watch.cancel(); });  // newer: runs first
  a.reset();
  b.reset();
  heap.collect();
  CHECK(second == 0);
}

TEST_CASE("on_death: a throwing callback is counted and the others still run", "[weak]") {
  Heap heap(with_mode(any_mode()));
  int ran = 0;
  Strong<Node> a = heap.make<Node>(1), b = heap.make<Node>(2);
  heap.on_death(a, [&] { ++ran; }).detach();
  heap.on_death(b, [] { throw std::runtime_error("boom"); }).detach();
  a.reset();
  b.reset();
  heap.collect();
  CHECK(ran == 1);
  CHECK(heap.stats().callback_exceptions == 1);
  CHECK(heap.stats().callbacks_run == 2);
}

TEST_CASE("on_death: callbacks may allocate, set roots and collect; a nested batch runs after the current one",
          "[weak]") {
  Heap heap(with_mode(any_mode()));
  std::vector<std::string> order;
  Strong<Node> a = heap.make<Node>(1), b = heap.make<Node>(2);
  Strong<Node> later = heap.make<Node>(3);
  Node* later_raw = later.get();
  DeathWatch wl = heap.on_death(later, [&] { order.push_back("later"); });
  DeathWatch wa = heap.on_death(a, [&] { order.push_back("a"); });
  DeathWatch wb = heap.on_death(b, [&, later_raw] {
    order.push_back("b");
    Strong<Node> made = heap.make<Node>(10);
    heap.set_root("made", made);
    heap.remove_root("keep");
    heap.collect();  // finds `later` dead: its callback waits for this batch to finish
    (void)later_raw;
  });
  heap.set_root("keep", later);
  later.reset();
  a.reset();
  b.reset();
  heap.collect();
  CHECK(order == std::vector<std::string>{"b", "a", "later"});
  CHECK(heap.root<Node>("made"));
}

TEST_CASE("on_death: runs after collections that allocation starts", "[weak]") {
  HeapOptions o = with_mode(any_mode());
  o.min_trigger_bytes = 64 * 1024;
  Heap heap(o);
  int runs = 0;
  heap.on_death(heap.make<Node>(1), [&] { ++runs; }).detach();
  for (int i = 0; i < 100000 && runs == 0; ++i) heap.make<Node>(i);
  CHECK(runs == 1);
}

TEST_CASE("on_death: pending callbacks are dropped at teardown, their captures released", "[weak]") {
  int runs = 0;
  {
    Heap heap(with_mode(any_mode()));
    Strong<Node> other = heap.make<Node>(2);
    Strong<Node> target = heap.make<Node>(1);
    heap.set_root("t", target);
    // The callback holds a Strong to another object of the heap: teardown must release it before
    // checking that no Strong outlives the heap.
    heap.on_death(target, [&runs, other] { ++runs; }).detach();
    other.reset();
  }
  CHECK(runs == 0);
}

TEST_CASE("on_death: a watch that outlives its heap reads not pending", "[weak]") {
  DeathWatch watch;
  {
    Heap heap;
    Strong<Node> n = heap.make<Node>(1);
    heap.set_root("n", n);
    watch = heap.on_death(n, [] {});
    CHECK(watch.pending());
  }
  CHECK_FALSE(watch.pending());
  CHECK_FALSE(watch.cancel());
}

TEST_CASE("on_death: empty or dead handles are refused; a Strong to its own target is caught", "[weak]") {
  HeapOptions o;
  o.verify_after_collect = true;  // the capture check runs in debug builds and in verify mode
  Heap heap(o);
  CHECK_THROWS_AS(heap.on_death(Strong<Node>(), [] {}), std::invalid_argument);
  Weak<Node> dead;
  {
    Strong<Node> n = heap.make<Node>(1);
    dead = n;
  }
  heap.collect();
  CHECK_THROWS_AS(heap.on_death(dead, [] {}), std::invalid_argument);
  Strong<Node> target = heap.make<Node>(2);
  CHECK_THROWS_WITH(heap.on_death(target, [target] { (void)target; }),
                    Catch::Contains("keeps that object alive forever"));
  Weak<Node> weak = target;
  DeathWatch fine = heap.on_death(target, [weak] { (void)weak; });
  CHECK(fine.pending());
}

// ---- ephemerons ---------------------------------------------------------------------------------------

TEST_CASE("Ephemeron: the value lives while the key does, and no longer", "[weak]") {
  Heap heap(with_mode(any_mode()));
  Strong<Pairs> table = heap.make<Pairs>();
  Strong<Node> key = heap.make<Node>(1);
  Weak<Node> value_weak;
  {
    Strong<Node> value = heap.make<Node>(2);
    value_weak = value;
    table->pairs.emplace_back(key, value);
  }
  heap.collect();
  REQUIRE_FALSE(value_weak.expired());
  CHECK(table->pairs[0].value().get() == value_weak.lock().get());
  CHECK(table->pairs[0].key() == key);
  key.reset();
  heap.collect();
  CHECK(value_weak.expired());
  CHECK(table->pairs[0].expired());
  CHECK_FALSE(table->pairs[0].value());
  CHECK_FALSE(table->pairs[0].key());
}

TEST_CASE("Ephemeron: a value that refers to its own key keeps neither alive", "[weak]") {
  Heap heap(with_mode(any_mode()));
  Strong<Pairs> table = heap.make<Pairs>();
  Weak<Node> key_weak, value_weak;
  {
    Strong<Node> key = heap.make<Node>(1);
    Strong<Node> value = heap.make<Node>(2);
    value->next = key;
    key_weak = key;
    value_weak = value;
    table->pairs.emplace_back(key, value);
  }
  heap.collect();
  CHECK(key_weak.expired());
  CHECK(value_weak.expired());
}

TEST_CASE("Ephemeron: a key reachable only through another pair's value (the fixpoint)", "[weak]") {
  Heap heap(with_mode(any_mode()));
  Strong<Pairs> table = heap.make<Pairs>();
  // Pairs in reverse order of resolution: k0 -> k1 -> k2 -> k3, only k0 rooted.
  std::vector<Weak<Node>> keys;
  Strong<Node> k0 = heap.make<Node>(0);
  {
    std::vector<Strong<Node>> k{k0};
    for (int i = 1; i < 4; ++i) k.push_back(heap.make<Node>(i));
    for (const auto& n : k) keys.emplace_back(n);
    for (int i = 2; i >= 0; --i)
      table->pairs.emplace_back(k[static_cast<std::size_t>(i)], k[static_cast<std::size_t>(i) + 1]);
  }
  heap.collect();
  for (const auto& w : keys) CHECK_FALSE(w.expired());
  k0.reset();
  heap.collect();
  for (const auto& w : keys) CHECK(w.expired());
}

// [big]: stress mode (a collection per allocation) would make the chain's construction quadratic.
TEST_CASE("Ephemeron: a 100,000-long chain is kept when rooted and collected when not, on a small stack",
          "[weak][big]") {
  const GcMode mode = any_mode();
  snapheap_test::run_with_stack(snapheap_test::kSmallStackBytes, [mode] {
    Heap heap(with_mode(mode));
    constexpr int kLength = 100000;
    Strong<Pairs> table = heap.make<Pairs>();
    Weak<Node> last;
    Strong<Node> first = heap.make<Node>(0);
    {
      // Stored last key first, so that each marking round resolves one link unless the
      // fixpoint is linear.
      std::vector<Strong<Node>> k{first};
      for (int i = 1; i <= kLength; ++i) k.push_back(heap.make<Node>(i));
      last = k.back();
      table->pairs.reserve(kLength);
      for (int i = kLength - 1; i >= 0; --i)
        table->pairs.emplace_back(k[static_cast<std::size_t>(i)], k[static_cast<std::size_t>(i) + 1]);
    }
    heap.collect();
    CHECK_FALSE(last.expired());
    CHECK(heap.stats().live_objects == kLength + 2);
    first.reset();
    heap.collect();
    CHECK(last.expired());
    CHECK(heap.stats().live_objects == 1);
  });
}

// ---- WeakKeyMap -----------------------------------------------------------------------------------------

TEST_CASE("WeakKeyMap: set, get, contains, erase, size and iteration", "[weak]") {
  Heap heap(with_mode(any_mode()));
  Strong<NodeKeyMap> map = heap.make<NodeKeyMap>();
  Strong<Node> k1 = heap.make<Node>(1), k2 = heap.make<Node>(2), other = heap.make<Node>(3);
  map->set(k1, heap.make<Node>(10));
  map->set(k2, heap.make<Node>(20));
  CHECK(map->size() == 2);
  CHECK(map->get(k1)->value == 10);
  CHECK_FALSE(map->get(other));
  CHECK(map->contains(k2));
  map->set(k1, heap.make<Node>(11));  // replaces
  CHECK(map->size() == 2);
  CHECK(map->get(k1)->value == 11);
  heap.collect();
  CHECK(map->get(k1)->value == 11);
  std::int64_t sum = 0;
  map->for_each([&](const Strong<Node>& k, const Strong<Node>& v) { sum += k->value * 100 + v->value; });
  CHECK(sum == 100 + 11 + 200 + 20);
  CHECK(map->erase(k2));
  CHECK_FALSE(map->erase(k2));
  CHECK(map->size() == 1);
  CHECK(map->entries().size() == 1);
}

TEST_CASE("WeakKeyMap: entries die with their keys, values that point back at their keys included", "[weak]") {
  Heap heap(with_mode(any_mode()));
  Strong<NodeKeyMap> map = heap.make<NodeKeyMap>();
  std::vector<Strong<Node>> kept;
  std::vector<Weak<Node>> dropped_values;
  for (int i = 0; i < 1000; ++i) {
    Strong<Node> key = heap.make<Node>(i);
    Strong<Node> value = heap.make<Node>(1000 + i);
    value->next = key;  // the value refers back to its key: must not keep the entry
    map->set(key, value);
    if (i % 2 == 0) kept.push_back(key);
    else dropped_values.emplace_back(value);
  }
  heap.collect();
  CHECK(map->size() == 500);
  for (const auto& w : dropped_values) CHECK(w.expired());
  for (const auto& k : kept) CHECK(map->get(k)->next.get() == k.get());
  kept.clear();
  heap.collect();
  CHECK(map->size() == 0);
  CHECK(heap.stats().live_objects == 1);
}

TEST_CASE("WeakKeyMap: a map that is itself garbage goes, with what only it held", "[weak]") {
  Heap heap(with_mode(any_mode()));
  Strong<Node> key = heap.make<Node>(1);
  Weak<Node> value_weak;
  {
    Strong<NodeKeyMap> map = heap.make<NodeKeyMap>();
    Strong<Node> value = heap.make<Node>(2);
    value_weak = value;
    map->set(key, value);
  }
  heap.collect();
  CHECK(value_weak.expired());
  CHECK(heap.stats().live_objects == 1);
}

TEST_CASE("WeakKeyMap: keys dying over many collections in an old map (generational)", "[weak]") {
  Heap heap(with_mode(any_mode()));
  Strong<NodeKeyMap> map = heap.make<NodeKeyMap>();
  heap.collect();  // the map is old in generational mode
  std::vector<Strong<Node>> keys;
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 200; ++i) {
      keys.push_back(heap.make<Node>(i));
      map->set(keys.back(), heap.make<Node>(i));
    }
    keys.erase(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(keys.size() / 2));
    heap.collect();
    CHECK(map->size() == keys.size());
    for (const auto& k : keys) CHECK(map->contains(k));
  }
}

// ---- WeakValueMap -------------------------------------------------------------------------------------

TEST_CASE("WeakValueMap: a cache whose entries go with their values", "[weak]") {
  Heap heap(with_mode(any_mode()));
  Strong<Cache> cache = heap.make<Cache>();
  Strong<Node> grass = heap.make<Node>(1);
  {
    Strong<Node> sand = heap.make<Node>(2);
    cache->set("grass", grass);
    cache->set("sand", sand);
    cache->set("also grass", grass);
    CHECK(cache->size() == 3);
    CHECK(cache->get("sand")->value == 2);
  }
  heap.collect();
  CHECK(cache->size() == 2);
  CHECK_FALSE(cache->contains("sand"));
  CHECK(cache->get("grass") == grass);
  CHECK(cache->get("also grass") == grass);
  CHECK(cache->erase("grass"));
  grass.reset();
  heap.collect();
  CHECK(cache->size() == 0);
}

TEST_CASE("WeakValueMap: an old value's death does not remove a new value under the same key", "[weak]") {
  Heap heap(with_mode(any_mode()));
  Strong<Cache> cache = heap.make<Cache>();
  Strong<Node> second = heap.make<Node>(2);
  {
    Strong<Node> first = heap.make<Node>(1);
    cache->set("k", first);
    cache->set("k", second);  // replaced while the first is alive
  }
  heap.collect();  // the first dies
  REQUIRE(cache->get("k"));
  CHECK(cache->get("k")->value == 2);
  CHECK(cache->size() == 1);
}

TEST_CASE("WeakValueMap: integer keys, many entries, half dying", "[weak]") {
  Heap heap(with_mode(any_mode()));
  Strong<WeakValueMap<std::int64_t, Node>> cache = heap.make<WeakValueMap<std::int64_t, Node>>();
  std::vector<Strong<Node>> kept;
  for (std::int64_t i = 0; i < 2000; ++i) {
    Strong<Node> v = heap.make<Node>(i);
    cache->set(i, v);
    if (i % 2) kept.push_back(v);
  }
  heap.collect();
  CHECK(cache->size() == 1000);
  for (std::int64_t i = 0; i < 2000; ++i) CHECK(cache->contains(i) == (i % 2 == 1));
}
