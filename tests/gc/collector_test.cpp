// The collector on small hand-built graphs: invariant 1 (alive iff a root reaches it through
// strong edges), invariant 2 (weak handles expire before any destructor of the collection runs),
// destructors, the weak census in stats(), and heap.verify().
#include <catch2/catch.hpp>
#include <snapheap/heap.hpp>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/child_process.hpp"
#include "support/nodes.hpp"

using snapheap::Heap;
using snapheap::HeapOptions;
using snapheap::Member;
using snapheap::Strong;
using snapheap::Weak;
using snapheap_test::DestructionLog;
using snapheap_test::Node;

namespace {

/// Makes nodes 0..n-1 and returns host Strongs to them (the caller drops what should be garbage).
std::vector<Strong<Node>> make_nodes(Heap& heap, int n) {
  std::vector<Strong<Node>> nodes;
  for (int i = 0; i < n; ++i) nodes.push_back(heap.make<Node>(i));
  return nodes;
}

std::vector<Weak<Node>> weak_copies(const std::vector<Strong<Node>>& nodes) {
  return {nodes.begin(), nodes.end()};
}

}  // namespace

// ---- invariant 1 -----------------------------------------------------------------------------------

TEST_CASE("an object survives collect iff a root reaches it through strong edges", "[gc][invariant1][valgrind]") {
  DestructionLog log(8);
  Heap heap;
  auto n = make_nodes(heap, 8);
  const auto w = weak_copies(n);
  // 0 -> 1 -> 2   (0 held by a Strong)
  // 3 -> 4        (3 held by the named root "r")
  // 5 -> 6        (5 is garbage, so 6 is too although it has an incoming edge)
  // 7 -weak-> 0   (7 is garbage; its weak edge to a live object changes nothing)
  // 2 -weak-> 5   (a weak edge from a live object keeps 5 dead)
  n[0]->next = n[1];
  n[1]->next = n[2];
  n[3]->next = n[4];
  n[5]->next = n[6];
  n[7]->peer = n[0];
  n[2]->peer = n[5];
  heap.set_root("r", n[3]);
  Strong<Node> held = n[0];
  n.clear();

  heap.collect();

  const std::vector<bool> alive = {true, true, true, true, true, false, false, false};
  for (std::size_t i = 0; i < alive.size(); ++i) {
    INFO("node " << i);
    CHECK(w[i].expired() == !alive[i]);
    CHECK(log.count(i) == (alive[i] ? 0u : 1u));
    if (alive[i]) CHECK(w[i].lock()->value == static_cast<std::int64_t>(i));
  }
  CHECK(heap.stats().live_objects == 5);
  CHECK(heap.stats().last_freed_objects == 3);
  CHECK(held->next->next->peer.expired());
  REQUIRE(heap.verify().ok);

  // Dropping the Strong kills its component; the named root keeps its own.
  held.reset();
  heap.collect();
  CHECK(w[0].expired());
  CHECK(w[1].expired());
  CHECK(w[2].expired());
  CHECK_FALSE(w[3].expired());
  CHECK_FALSE(w[4].expired());
  CHECK(heap.stats().live_objects == 2);
  REQUIRE(heap.remove_root("r"));
  heap.collect();
  CHECK(heap.stats().live_objects == 0);
  CHECK(log.first_mismatch([](std::size_t) { return 1u; }).empty());
}

TEST_CASE("a strong cycle with no root is collected", "[gc][invariant1][valgrind]") {
  DestructionLog log(6);
  Heap heap;
  auto n = make_nodes(heap, 6);
  const auto w = weak_copies(n);
  n[0]->next = n[1];  // two-cycle
  n[1]->next = n[0];
  n[2]->next = n[3];  // three-cycle
  n[3]->next = n[4];
  n[4]->next = n[2];
  n[5]->next = n[5];  // self-loop
  n.clear();

  heap.collect();

  for (std::size_t i = 0; i < w.size(); ++i) {
    INFO("node " << i);
    CHECK(w[i].expired());
    CHECK(log.count(i) == 1);
  }
  CHECK(heap.stats().live_objects == 0);
  CHECK(heap.stats().last_freed_objects == 6);
  REQUIRE(heap.verify().ok);
}

TEST_CASE("a strong cycle survives while a root reaches it and dies with the root", "[gc][invariant1]") {
  DestructionLog log(3);
  Heap heap;
  auto n = make_nodes(heap, 3);
  const auto w = weak_copies(n);
  n[0]->next = n[1];
  n[1]->next = n[2];
  n[2]->next = n[0];
  Strong<Node> entry = n[2];
  n.clear();
  for (int round = 0; round < 3; ++round) {
    heap.collect();
    CHECK(heap.stats().live_objects == 3);
    CHECK(log.total() == 0);
  }
  entry.reset();
  heap.collect();
  CHECK(heap.stats().live_objects == 0);
  CHECK(log.total() == 3);
  for (const auto& weak : w) CHECK(weak.expired());
}

TEST_CASE("a weak cycle keeps nothing alive", "[gc][invariant1][valgrind]") {
  DestructionLog log(3);
  Heap heap;
  auto n = make_nodes(heap, 3);
  const auto w = weak_copies(n);
  n[0]->peer = n[1];
  n[1]->peer = n[2];
  n[2]->peer = n[0];

  SECTION("with no root, every member of the cycle dies") {
    n.clear();
    heap.collect();
    for (const auto& weak : w) CHECK(weak.expired());
    CHECK(log.total() == 3);
  }
  SECTION("with one member rooted, only that member survives and its weak edge expires") {
    Strong<Node> keep = n[0];
    n.clear();
    heap.collect();
    CHECK_FALSE(w[0].expired());
    CHECK(w[1].expired());
    CHECK(w[2].expired());
    CHECK(keep->peer.expired());
    CHECK_FALSE(keep->peer.empty());
    CHECK(heap.stats().live_objects == 1);
    CHECK(log.count(0) == 0);
  }
  REQUIRE(heap.verify().ok);
}

TEST_CASE("an object reachable only through weak edges dies", "[gc][invariant1]") {
  DestructionLog log(4);
  Heap heap;
  auto n = make_nodes(heap, 4);
  const auto w = weak_copies(n);
  // Rooted 0 reaches 1 strongly; 1 and 0 both point weakly at 2; 2 points strongly at 3.
  n[0]->next = n[1];
  n[0]->peer = n[2];
  n[1]->peer = n[2];
  n[2]->next = n[3];
  Strong<Node> root = n[0];
  n.clear();

  heap.collect();

  CHECK_FALSE(w[0].expired());
  CHECK_FALSE(w[1].expired());
  CHECK(w[2].expired());
  CHECK(w[3].expired());
  CHECK(root->peer.expired());
  CHECK(root->next->peer.expired());
  CHECK(log.count(2) == 1);
  CHECK(log.count(3) == 1);
  CHECK(heap.stats().last_weak_expired == 2);
}

// ---- invariant 2 and Weak ------------------------------------------------------------------------

namespace {

/// What a dying Inspector saw from inside its destructor.
struct Sighting {
  std::int64_t id = -1;
  bool self_expired = false;        // a host-side Weak to the dying object itself
  bool self_lock_empty = false;
  bool other_expired = false;       // a host-side Weak to another object dying in the same sweep
  bool other_lock_empty = false;
  bool partner_expired = false;     // its own Weak field, pointing at the other dying object
  bool partner_empty = false;
  bool survivor_alive = false;      // a Weak to an object that survives the collection
  std::int64_t survivor_value = -1;
  std::int64_t survivor_next_value = -1;  // read through a Member of the survivor
};

struct InspectionSite {
  Weak<snapheap::Object> host_weak[2];
  Weak<Node> survivor;
  std::vector<Sighting> seen;
};

struct Inspector final : snapheap::Object {
  std::int64_t id;
  InspectionSite* site;
  Weak<Inspector> partner;
  Member<Inspector> strong_partner;
  Member<Node> survivor;  // a strong edge to an object that survives

  Inspector(std::int64_t i, InspectionSite* s) : id(i), site(s) {}
  ~Inspector() {
    Sighting s;
    s.id = id;
    const Weak<snapheap::Object>& self = site->host_weak[id];
    const Weak<snapheap::Object>& other = site->host_weak[1 - id];
    s.self_expired = self.expired();
    s.self_lock_empty = !self.lock();
    s.other_expired = other.expired();
    s.other_lock_empty = !other.lock();
    s.partner_expired = partner.expired();
    s.partner_empty = partner.empty();
    if (Strong<Node> alive = site->survivor.lock()) {
      s.survivor_alive = true;
      s.survivor_value = alive->value;
    }
    // A Member to an object that survives may be dereferenced (its target is not being swept).
    if (survivor && survivor->next) s.survivor_next_value = survivor->next->value;
    site->seen.push_back(s);
  }
  void trace(snapheap::Tracer& t) const override {
    t.trace(partner);
    t.trace(strong_partner);
    t.trace(survivor);
  }
};

}  // namespace

TEST_CASE("a weak handle expires before its target's destructor runs", "[gc][invariant2][weak][valgrind]") {
  Heap heap;
  InspectionSite site;
  Strong<Node> survivor = heap.make<Node>(42);
  survivor->next = heap.make<Node>(43);
  site.survivor = survivor;
  {
    auto a = heap.make<Inspector>(0, &site);
    auto b = heap.make<Inspector>(1, &site);
    a->partner = b;
    b->partner = a;
    a->strong_partner = b;  // a strong edge between the dying pair changes nothing
    a->survivor = survivor;
    b->survivor = survivor;
    site.host_weak[0] = a;
    site.host_weak[1] = b;
  }
  heap.collect();

  REQUIRE(site.seen.size() == 2);
  for (const Sighting& s : site.seen) {
    INFO("destructor of inspector " << s.id);
    CHECK(s.self_expired);
    CHECK(s.self_lock_empty);
    CHECK(s.other_expired);
    CHECK(s.other_lock_empty);
    CHECK(s.partner_expired);
    CHECK_FALSE(s.partner_empty);
    CHECK(s.survivor_alive);
    CHECK(s.survivor_value == 42);
    CHECK(s.survivor_next_value == 43);
  }
  CHECK(site.seen[0].id != site.seen[1].id);
  CHECK(site.host_weak[0].expired());
  CHECK(site.host_weak[1].expired());
  CHECK(heap.stats().live_objects == 2);
  REQUIRE(heap.verify().ok);
}

TEST_CASE("weak handles expire before destructors run at heap destruction too", "[gc][invariant2][weak][valgrind]") {
  InspectionSite site;
  {
    Heap heap;
    auto a = heap.make<Inspector>(0, &site);
    auto b = heap.make<Inspector>(1, &site);
    a->partner = b;
    b->partner = a;
    site.host_weak[0] = a;
    site.host_weak[1] = b;
    heap.set_root("a", a);
    heap.set_root("b", b);
  }
  REQUIRE(site.seen.size() == 2);
  for (const Sighting& s : site.seen) {
    INFO("destructor of inspector " << s.id);
    CHECK(s.self_expired);
    CHECK(s.self_lock_empty);
    CHECK(s.other_expired);
    CHECK(s.other_lock_empty);
    CHECK(s.partner_expired);
  }
}

TEST_CASE("Weak::empty() tells a handle that never pointed anywhere from an expired one", "[weak]") {
  Heap heap;
  Weak<Node> never;
  CHECK(never.empty());
  CHECK(never.expired());
  CHECK_FALSE(never.lock());

  auto node = heap.make<Node>(1);
  Weak<Node> weak = node;
  CHECK_FALSE(weak.empty());
  CHECK_FALSE(weak.expired());
  CHECK(weak.lock() == node);

  node.reset();
  heap.collect();
  CHECK_FALSE(weak.empty());
  CHECK(weak.expired());
  CHECK_FALSE(weak.lock());

  weak.reset();
  CHECK(weak.empty());
  CHECK(weak.expired());
  Weak<Node> from_null(nullptr);
  CHECK(from_null.empty());
  Weak<Node> from_empty_strong = Strong<Node>();
  CHECK(from_empty_strong.empty());
}

TEST_CASE("a weak handle does not read expired while its target is unreachable but not yet collected",
          "[weak]") {
  Heap heap(HeapOptions{.stress = false});
  Weak<Node> weak;
  { weak = heap.make<Node>(5); }
  // Garbage, but no collection has found it dead yet: it is still the same object.
  CHECK_FALSE(weak.expired());
  REQUIRE(weak.lock()->value == 5);
  heap.collect();
  CHECK(weak.expired());
}

TEST_CASE("last_weak_expired counts weak handles in surviving objects whose targets died",
          "[gc][weak][stats]") {
  Heap heap;
  auto holders = make_nodes(heap, 3);  // survive
  auto keep = heap.make<Node>(10);     // survives
  Weak<Node> host_weak;
  {
    auto x = heap.make<Node>(11);  // dies
    auto z = heap.make<Node>(12);  // dies
    holders[0]->peer = x;          // counted
    holders[1]->peer = x;          // counted: handles are counted, not targets
    holders[2]->peer = keep;       // target survives: not counted
    z->peer = x;                   // holder dies: not counted
    host_weak = x;                 // host handles are not traced: not counted
  }
  heap.collect();
  auto s = heap.stats();
  CHECK(s.last_weak_expired == 2);
  CHECK(s.total_weak_expired == 2);
  CHECK(s.last_freed_objects == 2);
  CHECK(host_weak.expired());

  // Handles that expired in an earlier collection are not counted again.
  heap.collect();
  s = heap.stats();
  CHECK(s.last_weak_expired == 0);
  CHECK(s.total_weak_expired == 2);

  {
    auto y = heap.make<Node>(13);
    holders[2]->peer = y;
  }
  heap.collect();
  CHECK(heap.stats().last_weak_expired == 1);
  CHECK(heap.stats().total_weak_expired == 3);
}

namespace {
/// Stores, from its destructor, a Weak to itself in host memory.
struct SelfReporter final : snapheap::Object {
  Weak<SelfReporter>* out;
  explicit SelfReporter(Weak<SelfReporter>* o) : out(o) {}
  ~SelfReporter() { *out = Weak<SelfReporter>(this); }
  void trace(snapheap::Tracer&) const override {}
};
}  // namespace

TEST_CASE("a weak handle made in a destructor to the dying object reads expired, even after its slot is reused",
          "[gc][invariant2][weak]") {
  // Declared before the heap: the newcomers' destructors write `sink` during teardown.
  Weak<SelfReporter> made_in_destructor;
  Weak<SelfReporter> before;
  Weak<SelfReporter> sink;
  Heap heap(HeapOptions{.stress = false});
  {
    auto victim = heap.make<SelfReporter>(&made_in_destructor);
    before = victim;
  }
  heap.collect();
  REQUIRE_FALSE(made_in_destructor.empty());
  CHECK(made_in_destructor.expired());
  CHECK(before.expired());

  // Allocate until the freed slot is reused: neither handle may see the newcomer.
  std::vector<Strong<SelfReporter>> newcomers;
  const auto slot = snapheap::detail::HandleAccess::slot(before);
  bool reused = false;
  for (int i = 0; i < 64 && !reused; ++i) {
    newcomers.push_back(heap.make<SelfReporter>(&sink));
    reused = snapheap::detail::HandleAccess::slot(Weak<SelfReporter>(newcomers.back())) == slot;
  }
  REQUIRE(reused);
  CHECK(before.expired());
  CHECK(made_in_destructor.expired());
  CHECK_FALSE(made_in_destructor.lock());
  newcomers.clear();
}

// ---- destructors ---------------------------------------------------------------------------------

TEST_CASE("destructors of dead objects run during sweep, exactly once", "[gc][destructor][valgrind]") {
  DestructionLog log(100);
  Heap heap;
  auto n = make_nodes(heap, 100);
  std::vector<Strong<Node>> kept;
  for (int i = 0; i < 100; i += 3) kept.push_back(n[static_cast<std::size_t>(i)]);
  n.clear();
  CHECK(log.total() == 0);  // nothing dies before a collection finds it dead
  heap.collect();
  CHECK(log.first_mismatch([](std::size_t id) { return id % 3 == 0 ? 0u : 1u; }) == "");
  heap.collect();
  heap.collect();
  CHECK(log.first_mismatch([](std::size_t id) { return id % 3 == 0 ? 0u : 1u; }) == "");
  kept.clear();
  heap.collect();
  CHECK(log.first_mismatch([](std::size_t) { return 1u; }) == "");
  CHECK(log.total() == 100);
}

TEST_CASE("destructors run at heap destruction for every remaining object", "[gc][destructor][valgrind]") {
  DestructionLog log(50);
  {
    Heap heap;
    auto n = make_nodes(heap, 50);
    for (int i = 0; i + 1 < 10; ++i) n[static_cast<std::size_t>(i)]->next = n[static_cast<std::size_t>(i) + 1];
    heap.set_root("chain", n[0]);      // 0..9 reachable from a named root
    heap.set_root("single", n[20]);
    n[30]->next = n[31];               // 30, 31 and the rest: garbage nobody collected
    n[31]->next = n[30];
    n.clear();
    CHECK(log.total() == 0);
  }
  CHECK(log.first_mismatch([](std::size_t) { return 1u; }) == "");
  CHECK(log.total() == 50);
}

namespace {
struct Thrower final : snapheap::Object {
  std::int64_t id;
  explicit Thrower(std::int64_t i) : id(i) {}
  ~Thrower() noexcept(false) {
    DestructionLog::record(id);
    throw std::runtime_error("Thrower's destructor fails on purpose (this warning is expected)");
  }
  void trace(snapheap::Tracer&) const override {}
};
}  // namespace

TEST_CASE("a destructor that throws is reported in stats and the sweep goes on", "[gc][destructor][valgrind]") {
  DestructionLog log(10);
  Heap heap;
  auto survivor = heap.make<Thrower>(4);
  {
    auto a = heap.make<Thrower>(0);
    auto b = heap.make<Node>(1);
    auto c = heap.make<Thrower>(2);
    auto d = heap.make<Node>(3);
  }
  heap.collect();
  const auto s = heap.stats();
  CHECK(s.destructor_exceptions == 2);
  CHECK(s.last_freed_objects == 4);
  CHECK(s.live_objects == 1);
  CHECK(log.first_mismatch([](std::size_t id) { return id < 4 ? 1u : 0u; }) == "");
  REQUIRE(heap.verify().ok);
  // The heap goes on working; the counter accumulates.
  survivor.reset();
  heap.collect();
  CHECK(heap.stats().destructor_exceptions == 3);
  auto after = heap.make<Node>(5);
  CHECK(after->value == 5);
}

TEST_CASE("destructors that throw while a heap is destroyed are reported and the teardown goes on",
          "[gc][destructor]") {
  // In a child process, so that a teardown that stopped at the first exception (std::terminate)
  // fails this test instead of the whole run. Every destructor must run once, each throw must be
  // reported on stderr, and the child must get past the heap's destruction.
  const auto result = snapheap_test::run_in_child([] {
    DestructionLog log(10);
    {
      Heap heap;
      heap.set_root("first", heap.make<Thrower>(6));
      heap.set_root("node", heap.make<Node>(7));
      heap.set_root("second", heap.make<Thrower>(8));
      heap.make<Thrower>(9);  // garbage, never collected before the teardown
    }
    const std::string mismatch = log.first_mismatch([](std::size_t id) { return id >= 6 ? 1u : 0u; });
    if (!mismatch.empty()) {
      std::fprintf(stderr, "%s\n", mismatch.c_str());
      std::_Exit(1);
    }
    std::_Exit(0);
  });
  INFO("child " << result.describe());
  CHECK(result.exited);
  CHECK(result.exit_code == 0);
  std::size_t reports = 0;
  for (std::size_t at = result.stderr_text.find("threw during sweep"); at != std::string::npos;
       at = result.stderr_text.find("threw during sweep", at + 1))
    ++reports;
  CHECK(reports == 3);
}

namespace {
struct CollectsInDestructor final : snapheap::Object {
  Heap* heap;
  std::uint64_t* seen_collections;
  CollectsInDestructor(Heap* h, std::uint64_t* seen) : heap(h), seen_collections(seen) {}
  ~CollectsInDestructor() {
    heap->collect();  // documented to do nothing
    *seen_collections = heap->stats().collections;
  }
  void trace(snapheap::Tracer&) const override {}
};
}  // namespace

TEST_CASE("collect() called from a destructor does nothing", "[gc][destructor]") {
  Heap heap(HeapOptions{.stress = false});
  std::uint64_t seen = 99;
  { heap.make<CollectsInDestructor>(&heap, &seen); }
  const auto before = heap.stats().collections;
  heap.collect();
  CHECK(seen == before);  // the collection in progress had not been counted, and none nested
  CHECK(heap.stats().collections == before + 1);
  REQUIRE(heap.verify().ok);
}

// ---- verify --------------------------------------------------------------------------------------

TEST_CASE("heap.verify() is ok on healthy heaps in every state", "[gc][verify]") {
  Heap heap;
  CHECK(heap.verify().ok);
  CHECK(heap.verify().problem.empty());
  auto n = make_nodes(heap, 200);
  for (std::size_t i = 0; i + 1 < n.size(); ++i) {
    n[i]->next = n[i + 1];
    n[i]->peer = n[(i * 7) % n.size()];
  }
  CHECK(heap.verify().ok);
  heap.set_root("head", n[0]);
  n[100]->next = nullptr;
  n.resize(1);
  heap.collect();
  CHECK(heap.verify().ok);  // survivors hold expired weak handles now
  CHECK(heap.stats().live_objects == 101);
  heap.remove_root("head");
  n.clear();
  heap.collect();
  const auto result = heap.verify();
  CHECK(result.ok);
  CHECK(static_cast<bool>(result));
}

TEST_CASE("heap.verify() reports a Member that points into another heap", "[gc][verify]") {
  Heap home;
  Heap other;
  auto holder = home.make<Node>(1);
  auto stranger = other.make<Node>(2);
  holder->next = stranger.get();
  const auto result = home.verify();
  CHECK_FALSE(result.ok);
  CHECK_FALSE(static_cast<bool>(result));
  CHECK_THAT(result.problem, Catch::Matchers::Contains("not a live object of this heap"));
  holder->next = nullptr;  // before anything collects `home`
  CHECK(home.verify().ok);
}

TEST_CASE("heap.verify() reports a weak handle the heap never issued", "[gc][verify]") {
  Heap heap;
  auto holder = heap.make<Node>(1);
  const Weak<Node> real = holder;
  const auto slot = snapheap::detail::HandleAccess::slot(real);
  const auto gen = snapheap::detail::HandleAccess::generation(real);
  holder->peer = snapheap::detail::HandleAccess::make_weak<Node>(
      snapheap::detail::HandleAccess::tag(real), slot, gen + 5);
  const auto result = heap.verify();
  CHECK_FALSE(result.ok);
  CHECK_THAT(result.problem, Catch::Matchers::Contains("never issued"));
  holder->peer.reset();
  CHECK(heap.verify().ok);
}
