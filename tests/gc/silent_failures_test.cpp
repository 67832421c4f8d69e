// What used to fail silently: memory objects own that the heap could not see, a Member that a
// trace() forgets, a Strong stored inside an object, handles that outlive their heap, a heap
// used from another thread. Each is now counted, reported with a sentence, or made harmless.
#include <catch2/catch.hpp>

#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <boost/serialization/vector.hpp>
#include <cstdio>
#include <snapheap/snapheap.hpp>

#include <sys/resource.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <variant>
#include <set>
#include <vector>

#include "gc/collector.hpp"
#include "support/child_process.hpp"
#include "support/nodes.hpp"

using namespace snapheap;
using snapheap_test::Node;

namespace silent_test {

/// The seed's payload, its values counted toward the heap.
struct Payload final : Object {
  Vector<std::int64_t> values;
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & values;
  }
};

/// A holder whose trace() forgets its Member (the commonest mistake).
struct ForgetsMember final : Object {
  std::int64_t before = 7;
  Member<Node> image;
  void trace(Tracer&) const override {}
};
/// ... and one that forgets a Weak.
struct ForgetsWeak final : Object {
  Weak<Node> peer;
  void trace(Tracer&) const override {}
};
/// A Strong stored as a field: a root that keeps its own cycle alive.
struct HoldsStrong final : Object {
  Strong<Node> pinned;
  void trace(Tracer&) const override {}
};
/// Handles in every kind of container trace() accepts, all of them traced.
struct Containers final : Object {
  std::unordered_map<std::string, Member<Node>> by_name;
  std::map<int, std::pair<Member<Node>, std::string>> nested;
  std::optional<Member<Node>> maybe;
  std::tuple<int, Member<Node>, Weak<Node>> triple;
  std::variant<int, Member<Node>> either;
  std::vector<std::optional<Weak<Node>>> watchers;
  void trace(Tracer& t) const override {
    t.trace(by_name);
    t.trace(nested);
    t.trace(maybe);
    t.trace(triple);
    t.trace(either);
    t.trace(watchers);
  }
};

/// A layer whose items a host takes out into a local and puts back (the mistake below).
struct Layer final : Object {
  std::vector<Member<Node>> items;
  Vector<Member<Node>> barriered;
  void trace(Tracer& t) const override {
    t.trace(items);
    t.trace(barriered);
  }
};

HeapOptions manual() {
  HeapOptions o;
  o.min_trigger_bytes = std::size_t{1} << 40;
  o.stress = false;
  o.verify_after_collect = false;
  return o;
}

}  // namespace silent_test

SNAPHEAP_REGISTER(silent_test::Payload);

using namespace silent_test;

// ---- owned memory ------------------------------------------------------------------------------------

TEST_CASE("memory an object owns through snapheap::Vector counts toward its heap", "[gc][owned]") {
  Heap heap(manual());
  auto p = heap.make<Payload>();
  p->values.resize(1000);
  CHECK(heap.stats().external_bytes == 1000 * sizeof(std::int64_t));
  p->values.reserve(5000);
  CHECK(heap.stats().external_bytes == 5000 * sizeof(std::int64_t));
  CHECK(heap.stats().allocated_since_collection >= 6000 * sizeof(std::int64_t));
  p.reset();
  heap.collect();  // the payload dies: its destructor frees the vector
  CHECK(heap.stats().external_bytes == 0);
}

TEST_CASE("a snapheap::Vector is the std::vector it derives from: conversions, the count, Boost's archives",
          "[gc][owned]") {
  using Std = std::vector<std::int64_t, snapheap::Allocator<std::int64_t>>;
  Heap heap(manual());
  auto p = heap.make<Payload>();
  Std plain(std::size_t{300}, std::int64_t{7}, snapheap::Allocator<std::int64_t>(heap));
  p->values = plain;  // copy from the base: the field keeps its heap
  CHECK(p->values.size() == 300);
  CHECK(heap.stats().external_bytes == 600 * sizeof(std::int64_t));
  p->values = std::move(plain);  // move from the base, same heap: the buffer changes hands
  CHECK(heap.stats().external_bytes == 300 * sizeof(std::int64_t));
  Std& as_std = p->values;  // binds as its base
  CHECK(as_std.size() == 300);
  Vector<std::int64_t> copy = as_std;  // and converts back
  CHECK(copy == p->values);
  copy.push_back(8);
  CHECK(copy != p->values);
  // Boost's own archives write it as that std::vector: the same bytes, and it loads back.
  const auto bytes_of = [](const auto& v) {
    std::ostringstream os;
    {
      boost::archive::binary_oarchive ar(os, boost::archive::no_header);
      ar << v;
    }
    return os.str();
  };
  const Std same(copy.begin(), copy.end());
  CHECK(bytes_of(copy) == bytes_of(same));
  Vector<std::int64_t> back;
  {
    std::istringstream is(bytes_of(copy));
    boost::archive::binary_iarchive ar(is, boost::archive::no_header);
    ar >> back;
  }
  CHECK(back == copy);
}

TEST_CASE("a Vector made outside a heap counts nothing; one bound explicitly counts", "[gc][owned]") {
  Heap heap(manual());
  Vector<int> loose(100);
  CHECK(loose.get_allocator().heap() == 0);
  CHECK(heap.stats().external_bytes == 0);
  Vector<int> bound{Allocator<int>(heap)};
  bound.resize(100);
  CHECK(heap.stats().external_bytes == 100 * sizeof(int));
  auto p = heap.make<Payload>();
  auto copy = p->values;  // a copy made outside make() belongs to no heap
  copy.resize(10);
  CHECK(heap.stats().external_bytes == 100 * sizeof(int));
  bound = {};
  bound.shrink_to_fit();
  CHECK(heap.stats().external_bytes == 0);
}

TEST_CASE("a payload made and dropped thousands of times stays under three times the live bytes",
          "[gc][owned]") {
  // In a child with an address-space ceiling: a heap that does not see the 8 MB it owns never
  // collects, and the child runs out of memory instead of taking the machine.
  const auto result = snapheap_test::run_in_child([] {
#if !defined(SNAPHEAP_ASAN)
    const rlimit ceiling{std::size_t{1} << 30, std::size_t{1} << 30};  // 1 GiB for 24 GB of payloads
    setrlimit(RLIMIT_AS, &ceiling);
#endif
    Heap heap;  // default options
    std::size_t most = 0;
    for (int i = 0; i < 3000; ++i) {
      auto p = heap.make<Payload>();
      p->values.reserve(1'000'000);  // 8 MB, untouched: address space, not page faults
      most = std::max(most, heap.stats().live_bytes + heap.stats().external_bytes);
    }
    const std::size_t payload = 8'000'000;
    const auto s = heap.stats();
    std::fprintf(stderr, "most live + owned bytes %zu, collections %llu (minor %llu, major %llu)\n", most,
                 static_cast<unsigned long long>(s.collections), static_cast<unsigned long long>(s.minor_collections),
                 static_cast<unsigned long long>(s.major_collections));
    if (most > 3 * payload + (std::size_t{4} << 20)) std::_Exit(2);
    if (s.collections < 1000) std::_Exit(3);
  });
  INFO(result.describe());
  CHECK(result.exited);
  CHECK(result.exit_code == 0);
}

TEST_CASE("owned memory past max_bytes throws HeapExhausted and counts nothing", "[gc][owned]") {
  HeapOptions options = manual();
  options.max_bytes = std::size_t{10} << 20;
  Heap heap(options);
  std::vector<Strong<Payload>> kept;
  bool exhausted = false;
  for (int i = 0; i < 200 && !exhausted; ++i) {
    auto p = heap.make<Payload>();
    try {
      p->values.reserve(1 << 17);  // 1 MiB
      kept.push_back(p);
    } catch (const HeapExhausted& e) {
      exhausted = true;
      CHECK(e.limit() == options.max_bytes);
      CHECK(e.requested() == std::size_t{1} << 20);
      CHECK(p->values.capacity() == 0);  // the vector is as it was
    }
  }
  CHECK(exhausted);
  CHECK(kept.size() >= 8);
  CHECK(kept.size() <= 10);
  CHECK(heap.stats().live_bytes + heap.stats().external_bytes <= options.max_bytes);
  kept.clear();
  heap.collect();
  CHECK(heap.stats().external_bytes == 0);
}

TEST_CASE("adjust_external_memory counts host-managed memory toward collections and the limit",
          "[gc][owned]") {
  HeapOptions options;
  options.min_trigger_bytes = std::size_t{1} << 20;
  options.stress = false;
  options.verify_after_collect = false;
  Heap heap(options);
  CHECK(heap.adjust_external_memory(4096) == 4096);
  CHECK(heap.adjust_external_memory(-1096) == 3000);
  const auto before = heap.stats().collections;
  for (int i = 0; i < 4; ++i) heap.adjust_external_memory(std::size_t{1} << 20);
  CHECK(heap.stats().collections > before);  // allocation pressure from outside the cells
  CHECK(heap.adjust_external_memory(-(std::ptrdiff_t{1} << 40)) == 0);  // never below zero

  options.max_bytes = std::size_t{1} << 20;
  heap.set_options(options);
  CHECK_THROWS_AS(heap.adjust_external_memory(std::size_t{2} << 20), HeapExhausted);
  CHECK(heap.stats().external_bytes == 0);
}

TEST_CASE("a loaded Vector counts toward the heap it was loaded into", "[gc][owned][serialize]") {
  Heap heap(manual());
  auto p = heap.make<Payload>();
  p->values.assign(1000, 3);
  heap.set_root("p", p);
  ByteBuffer bytes;
  save(heap, bytes);
  Heap restored(manual());
  load(restored, bytes);
  CHECK(restored.root<Payload>("p")->values == p->values);
  CHECK(restored.stats().external_bytes == 1000 * sizeof(std::int64_t));
}

TEST_CASE("a Vector bound to a heap may outlive it: its memory is simply freed", "[gc][owned][valgrind]") {
  std::unique_ptr<Vector<int>> survivor;
  {
    Heap heap(manual());
    survivor = std::make_unique<Vector<int>>(Allocator<int>(heap));
    survivor->resize(1000);
  }
  CHECK(detail::heap_of(survivor->get_allocator().heap()) == nullptr);  // the heap reads as gone
  survivor->resize(2000);  // allocates and frees after the heap is gone: counts nowhere
  CHECK(survivor->size() == 2000);
  survivor.reset();  // ASan and valgrind check that nothing of the destroyed heap is touched
}

// ---- forgotten traces --------------------------------------------------------------------------------

TEST_CASE("a Member that trace() forgets is reported by name and offset before anything is freed",
          "[gc][trace_check]") {
  HeapOptions options = manual();
  options.verify_after_collect = true;  // turns the check on in every build
  SNAPHEAP_REQUIRE_ABORTS_WITH(
      {
        Heap heap(options);
        auto holder = heap.make<ForgetsMember>();
        holder->image = heap.make<Node>(1);
        heap.collect();
      },
      "ForgetsMember) holds at offset 24 a pointer to a live object that its trace() does not visit");
}

TEST_CASE("verify() reports a forgotten Member, a forgotten Weak and a Strong field", "[gc][trace_check]") {
  HeapOptions options = manual();
  options.verify_after_collect = true;
  Heap heap(options);
  auto node = heap.make<Node>(1);
  SECTION("a forgotten Member") {
    auto holder = heap.make<ForgetsMember>();
    holder->image = node;
    const VerifyResult r = heap.verify();
    CHECK_FALSE(r.ok);
    CHECK_THAT(r.problem, Catch::Contains("ForgetsMember") && Catch::Contains("offset 24") &&
                              Catch::Contains("a Member that trace() forgets"));
    holder->image = nullptr;
    CHECK(heap.verify().ok);
  }
  SECTION("a forgotten Weak") {
    auto holder = heap.make<ForgetsWeak>();
    holder->peer = node;
    const VerifyResult r = heap.verify();
    CHECK_FALSE(r.ok);
    CHECK_THAT(r.problem, Catch::Contains("ForgetsWeak") && Catch::Contains("offset 16") && Catch::Contains("a Weak"));
    holder->peer.reset();
    CHECK(heap.verify().ok);
  }
  SECTION("a Strong stored in a managed object") {
    auto holder = heap.make<HoldsStrong>();
    holder->pinned = node;
    const VerifyResult r = heap.verify();
    CHECK_FALSE(r.ok);
    CHECK_THAT(r.problem, Catch::Contains("HoldsStrong") && Catch::Contains("a Strong"));
    holder->pinned.reset();
    CHECK(heap.verify().ok);
  }
}

TEST_CASE("the stress mode stops at the first collection after a trace() forgets", "[gc][trace_check]") {
  HeapOptions options = manual();
  options.stress = true;
  SNAPHEAP_REQUIRE_ABORTS_WITH(
      {
        Heap heap(options);
        auto holder = heap.make<ForgetsMember>();
        holder->image = heap.make<Node>(1);
        // Stress: a collection (generational: a minor one) at every allocation; incremental
        // mode checks as each cycle starts, and a cycle on this small heap lasts a few steps.
        for (int i = 0; i < 64; ++i) heap.make<Node>(2);
      },
      "a managed object's trace() misses a handle");
}

TEST_CASE("handles in maps, pairs, tuples, optionals and variants are traced, and the check agrees",
          "[gc][trace_check]") {
  HeapOptions options = manual();
  options.verify_after_collect = true;
  Heap heap(options);
  auto c = heap.make<Containers>();
  c->by_name["a"] = heap.make<Node>(1);
  c->nested[1] = {heap.make<Node>(2), "two"};
  c->maybe = heap.make<Node>(3);
  auto four = heap.make<Node>(4);
  c->triple = {9, four, Weak<Node>(four)};
  c->either = heap.make<Node>(5);
  c->watchers = {Weak<Node>(four), std::nullopt};
  four.reset();
  heap.collect();  // every target is reached only through the containers
  CHECK(heap.stats().live_objects == 6);
  CHECK(c->by_name.at("a")->value == 1);
  CHECK(c->nested.at(1).first->value == 2);
  CHECK((*c->maybe)->value == 3);
  CHECK(std::get<1>(c->triple)->value == 4);
  CHECK(std::get<Member<Node>>(c->either)->value == 5);
  CHECK_FALSE((*c->watchers[0]).expired());
  CHECK(heap.verify().ok);
  c->by_name.clear();
  c->maybe.reset();
  heap.collect();
  CHECK(heap.stats().live_objects == 4);
}

// ---- handles and their heap's lifetime ---------------------------------------------------------------

TEST_CASE("a Weak that outlives its heap reads expired in every build", "[gc][weak][valgrind]") {
  Weak<Node> survivor;
  Weak<Node> empty;
  {
    Heap heap;
    auto node = heap.make<Node>(1);
    survivor = node;
    CHECK_FALSE(survivor.expired());
  }
  CHECK(survivor.expired());
  CHECK_FALSE(survivor.lock());
  CHECK_FALSE(survivor.empty());  // it pointed somewhere once
  CHECK(empty.expired());
  // Later heaps (which may reuse the first one's memory and its identity record) do not revive it.
  for (int i = 0; i < 100; ++i) {
    Heap later;
    std::vector<Strong<Node>> nodes;
    for (int k = 0; k < 10; ++k) nodes.push_back(later.make<Node>(k));
    CHECK(survivor.expired());
  }
}

// ---- a Member kept in host code ---------------------------------------------------------------------
// A Member outside a managed object is no root: a std::vector<Member> moved out of an object into
// a local loses its targets at the next collection. The checked mode (debug builds, stress,
// verify) checks every target before the collector or the barrier reads through it.

namespace {

/// Takes the layer's items out, lets a collection free them, and puts them back (a std::vector's
/// move: no barrier runs).
void lose_items(Heap& heap, Strong<Layer>& layer) {
  std::vector<Member<Node>> local = std::move(layer->items);
  heap.collect();  // the items were held only by the local: freed
  layer->items = std::move(local);
}

/// A manually collected heap in `mode`, in the checked mode.
HeapOptions checked(GcMode mode) {
  HeapOptions o = manual();
  o.mode = mode;
  o.verify_after_collect = true;
  return o;
}

Strong<Layer> layer_with_items(Heap& heap, int n) {
  Strong<Layer> layer = heap.make<Layer>();
  for (int i = 0; i < n; ++i) layer->items.push_back(heap.make<Node>(i));
  return layer;
}

}  // namespace

TEST_CASE("a Member kept in host code across a collection stops the next marking, naming its holder",
          "[gc][death][dangling]") {
  // With 200 new Nodes made before the next collection too: without the checked mode's
  // quarantine they take the freed cells (a page's free list is last in, first out), the stale
  // Members point at live Nodes again, and nothing is caught.
  for (const GcMode mode : {GcMode::stop_the_world, GcMode::incremental, GcMode::generational})
    for (const int refills : {0, 200}) {
      INFO("mode " << static_cast<int>(mode) << ", " << refills << " new objects");
      SNAPHEAP_REQUIRE_ABORTS_WITH(
          {
            Heap heap(checked(mode));
            Strong<Layer> layer = layer_with_items(heap, 100);
            lose_items(heap, layer);
            std::vector<Strong<Node>> refill;
            for (int i = 0; i < refills; ++i) refill.push_back(heap.make<Node>(i));
            heap.collect();
          },
          "which is not a live object of this heap (the collector reached it; held by the object in "
          "slot 1, a silent_test::Layer)");
    }
}

TEST_CASE("storing a Member to a freed object stops at the write barrier", "[gc][death][dangling]") {
  for (const GcMode mode : {GcMode::incremental, GcMode::generational}) {
    INFO("mode " << static_cast<int>(mode));
    SNAPHEAP_REQUIRE_ABORTS_WITH(
        {
          Heap heap(checked(mode));
          Strong<Layer> layer = layer_with_items(heap, 100);
          lose_items(heap, layer);
          if (mode == GcMode::incremental)  // a cycle marks: the barrier runs
            detail::incremental_advance(detail::HeapInternals::of(heap), std::chrono::hours(1), 1);
          layer->barriered.push_back(layer->items.front());  // a Member store
        },
        "(a Member was given it; ");
  }
}

TEST_CASE("verify() reports a Member kept in host code once it is back in an object", "[gc][dangling]") {
  Heap heap(manual());
  Strong<Layer> layer = layer_with_items(heap, 100);
  lose_items(heap, layer);
  const VerifyResult result = heap.verify();
  REQUIRE_FALSE(result.ok);
  CHECK_THAT(result.problem, Catch::Matchers::Contains("object in slot 1 (a silent_test::Layer) has a Member pointing at"));
  layer->items.clear();  // the dangling Members go before the next collection reads them
  heap.collect();
  CHECK(heap.verify().ok);
}

TEST_CASE("a constructor may store a Member to its own object in the checked mode", "[gc][dangling]") {
  struct SelfLoop final : Object {
    Member<SelfLoop> self;
    SelfLoop() : self(this) {}
    void trace(Tracer& t) const override { t.trace(self); }
  };
  for (const GcMode mode : {GcMode::stop_the_world, GcMode::incremental, GcMode::generational}) {
    Heap heap(checked(mode));
    Strong<Layer> layer = layer_with_items(heap, 3);
    if (mode == GcMode::incremental) heap.step(std::chrono::nanoseconds(1));
    Strong<SelfLoop> loop = heap.make<SelfLoop>();
    heap.collect();
    CHECK(loop->self.get() == loop.get());
    CHECK(heap.stats().live_objects == 5);
  }
}

TEST_CASE("the checked mode reuses no freed cell before the next sweep, and every cell after it", "[gc][dangling]") {
  for (const GcMode mode : {GcMode::stop_the_world, GcMode::incremental, GcMode::generational}) {
    INFO("mode " << static_cast<int>(mode));
    Heap heap(checked(mode));
    std::set<const void*> freed;
    {
      std::vector<Strong<Node>> garbage;
      for (int i = 0; i < 1000; ++i) garbage.push_back(heap.make<Node>(i));
      for (const auto& g : garbage) freed.insert(g.get());
    }
    heap.collect();
    REQUIRE(heap.stats().live_objects == 0);
    CHECK(detail::HeapInternals::of(heap).table.quarantined_cells() == 1000);
    std::vector<Strong<Node>> made;
    for (int i = 0; i < 1000; ++i) made.push_back(heap.make<Node>(i));
    std::size_t reused = 0;
    for (const auto& m : made) reused += freed.count(m.get());
    CHECK(reused == 0);
    // The next sweep releases them: a heap that refills every cycle stops growing.
    std::vector<std::size_t> committed;
    for (int cycle = 0; cycle < 6; ++cycle) {
      made.clear();
      heap.collect();
      for (int i = 0; i < 1000; ++i) made.push_back(heap.make<Node>(i));
      committed.push_back(heap.stats().committed_bytes);
    }
    INFO("committed bytes per cycle: " << Catch::Detail::stringify(committed));
    CHECK(committed.back() <= committed[1]);
    heap.release_memory();
    CHECK(detail::HeapInternals::of(heap).table.quarantined_cells() == 0);
    CHECK(heap.verify().ok);
  }
}

TEST_CASE("storing a Member to a freed large object stops with a message, not a crash", "[gc][death][dangling]") {
  struct Big final : Object {
    std::array<std::int64_t, 4096> values{};  // 32 KiB: a block of its own
    void trace(Tracer&) const override {}
  };
  struct Holder final : Object {
    Vector<Member<Big>> bigs;
    void trace(Tracer& t) const override { t.trace(bigs); }
  };
  SNAPHEAP_REQUIRE_ABORTS_WITH(
      {
        Heap heap(checked(GcMode::generational));  // the barrier runs on every store
        Strong<Holder> holder = heap.make<Holder>();
        Member<Big> stale = heap.make<Big>();
        heap.collect();  // held only by the host's Member: freed
        holder->bigs.push_back(stale);
      },
      "which is not a live object of this heap (a Member was given it; ");
}

#if SNAPHEAP_DCHECK_IS_ON
TEST_CASE("in debug builds, dereferencing a Member to a freed object stops the program", "[gc][death][dangling]") {
  SNAPHEAP_REQUIRE_ABORTS_WITH(
      {
        Heap heap(manual());
        Strong<Layer> layer = layer_with_items(heap, 100);
        std::vector<Member<Node>> local = std::move(layer->items);
        heap.collect();
        volatile std::int64_t sink = local.back()->value;
        (void)sink;
      },
      "(a Member to it was dereferenced; no live object holds it: the Member is in host code)");
}
#endif

TEST_CASE("a Strong that outlives its heap stops the program naming what it holds", "[gc][death]") {
  SNAPHEAP_REQUIRE_ABORTS_WITH(
      {
        auto heap = std::make_unique<Heap>();
        static Strong<Node> leaked;
        leaked = heap->make<Node>(1);
        heap.reset();
      },
      "still held by Strong handles (snapheap_test::Node)");
}

TEST_CASE("a heap used from another thread stops the program in every build", "[gc][death]") {
  SNAPHEAP_REQUIRE_ABORTS_WITH(
      {
        Heap heap;
        std::thread other([&] { heap.make<Node>(1); });
        other.join();
      },
      "a heap was used from a thread other than its own");
  SNAPHEAP_REQUIRE_ABORTS_WITH(
      {
        Heap heap;
        std::thread other([&] { heap.collect(); });
        other.join();
      },
      "a heap was used from a thread other than its own");
}

TEST_CASE("attach_to_current_thread hands a heap over", "[gc]") {
  Heap heap;
  auto kept = heap.make<Node>(1);
  Weak<Node> weak = kept;
  kept.reset();
  std::thread other([&] {
    heap.attach_to_current_thread();
    auto n = heap.make<Node>(2);
    heap.collect();
    n.reset();
    heap.attach_to_current_thread();  // not back yet: the main thread takes it below
  });
  other.join();
  heap.attach_to_current_thread();
  heap.collect();
  CHECK(weak.expired());
}
