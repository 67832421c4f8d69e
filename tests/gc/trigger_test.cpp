// When collections start on their own (min_trigger_bytes, growth_factor, stress mode), and what
// stats() reports about them.
#include <catch2/catch.hpp>
#include <snapheap/heap.hpp>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <vector>

#include "support/blob.hpp"
#include "support/nodes.hpp"

using snapheap::Heap;
using snapheap::HeapOptions;
using snapheap::HeapStats;
using snapheap::Member;
using snapheap::Strong;
using snapheap::Weak;
using snapheap_test::Blob;
using snapheap_test::Node;

namespace {

// The trigger policy below is stop-the-world mode's (the other modes' pacing is tested in
// incremental_test.cpp): these heaps name their mode, whatever SNAPHEAP_GC_MODE says.
constexpr snapheap::GcMode kStw = snapheap::GcMode::stop_the_world;

/// The documented trigger: max(min_trigger_bytes, (growth_factor - 1) x live bytes).
/// The trigger after a full collection (collect(), or a major one in generational mode, whose
/// next minor interval is a survival sample of at most 1 MiB: gc/generational.cpp).
std::size_t expected_trigger(const HeapOptions& o, std::size_t live_bytes) {
  if (o.mode == snapheap::GcMode::generational)
    return std::min(std::size_t{1} << 20,
                    std::max(o.min_trigger_bytes,
                             static_cast<std::size_t>(static_cast<double>(live_bytes) * o.minor_multiplier)));
  return std::max(o.min_trigger_bytes,
                  static_cast<std::size_t>(static_cast<double>(live_bytes) * (o.growth_factor - 1.0)));
}

}  // namespace

TEST_CASE("a collection starts on its own exactly when allocation passes the trigger", "[gc][trigger]") {
  const double growth = GENERATE(2.0, 1.5, 3.0);
  INFO("growth_factor " << growth);
  const HeapOptions options{.mode = kStw, .growth_factor = growth, .min_trigger_bytes = 64 * 1024, .stress = false};
  Heap heap(options);
  CHECK(heap.stats().collections == 0);
  CHECK(heap.stats().next_collection_bytes == options.min_trigger_bytes);
  CHECK(heap.stats().allocated_since_collection == 0);

  std::vector<Strong<Node>> live;
  int collections_seen = 0;
  bool trigger_grew = false;
  for (int i = 0; i < 40000; ++i) {
    const HeapStats before = heap.stats();
    // Every fourth object stays alive, so the live size (and with it the trigger) grows.
    auto node = heap.make<Node>(i);
    if (i % 4 == 0) live.push_back(node);
    const HeapStats after = heap.stats();
    const bool collected = after.collections != before.collections;
    // The bytes the new object took: what live_bytes gained, plus what the collection freed.
    const std::size_t cell = after.live_bytes + (collected ? after.last_freed_bytes : 0) - before.live_bytes;
    INFO("allocation " << i << ": " << before.allocated_since_collection << " bytes allocated of "
                       << before.next_collection_bytes);
    if (collected) {
      ++collections_seen;
      REQUIRE(after.collections == before.collections + 1);
      REQUIRE(before.allocated_since_collection >= before.next_collection_bytes);
      // The collection ran before the new object was allocated: the trigger follows from what
      // survived without it, and the count restarts with it.
      const std::size_t survived = after.live_bytes - cell;
      REQUIRE(after.next_collection_bytes == expected_trigger(options, survived));
      REQUIRE(after.allocated_since_collection == cell);
      REQUIRE(after.last_freed_objects > 0);
      if (after.next_collection_bytes > options.min_trigger_bytes) trigger_grew = true;
    } else {
      REQUIRE(before.allocated_since_collection < before.next_collection_bytes);
      REQUIRE(after.allocated_since_collection == before.allocated_since_collection + cell);
      REQUIRE(after.next_collection_bytes == before.next_collection_bytes);
    }
  }
  CHECK(collections_seen >= 5);
  CHECK(trigger_grew);  // the live size passed min_trigger_bytes / (growth - 1) at some point
  CHECK(heap.verify().ok);
}

TEST_CASE("an explicit collect() sets the next trigger from the live size", "[gc][trigger]") {
  const HeapOptions options{.mode = kStw, .growth_factor = 3.0, .min_trigger_bytes = 64 * 1024, .stress = false};
  Heap heap(options);
  std::vector<Strong<Blob<1000>>> live;
  for (int i = 0; i < 300; ++i) live.push_back(heap.make<Blob<1000>>());
  heap.collect();
  auto s = heap.stats();
  CHECK(s.live_bytes >= 300 * sizeof(Blob<1000>));
  CHECK(s.next_collection_bytes == 2 * s.live_bytes);  // (3 - 1) x live, above the minimum
  CHECK(s.allocated_since_collection == 0);
  live.clear();
  heap.collect();
  s = heap.stats();
  CHECK(s.live_bytes == 0);
  CHECK(s.next_collection_bytes == options.min_trigger_bytes);
}

TEST_CASE("stress mode collects at every allocation", "[gc][trigger][stress]") {
  Heap heap(HeapOptions{.mode = kStw, .stress = true});
  Weak<Node> previous;
  std::uint64_t collections = heap.stats().collections;
  for (int i = 0; i < 200; ++i) {
    auto node = heap.make<Node>(i);
    REQUIRE(heap.stats().collections == collections + 1);
    collections = heap.stats().collections;
    // The garbage made by the previous iteration was collected by this allocation.
    REQUIRE(previous.expired());
    REQUIRE(heap.stats().live_objects == 1);
    previous = node;
  }
}

TEST_CASE("set_options switches stress mode and the trigger at once", "[gc][trigger]") {
  Heap heap(HeapOptions{.mode = kStw, .min_trigger_bytes = std::size_t{1} << 30, .stress = false});
  for (int i = 0; i < 100; ++i) heap.make<Node>(i);
  CHECK(heap.stats().collections == 0);
  HeapOptions o = heap.options();
  o.stress = true;
  heap.set_options(o);
  CHECK(heap.options().stress);
  heap.make<Node>(0);
  CHECK(heap.stats().collections == 1);
  o.stress = false;
  o.min_trigger_bytes = 1024;
  heap.set_options(o);
  CHECK(heap.stats().next_collection_bytes == 1024);
  for (int i = 0; i < 100; ++i) heap.make<Node>(i);
  CHECK(heap.stats().collections > 1);
}

TEST_CASE("a growth_factor below 1 is rejected", "[gc][trigger]") {
  CHECK_THROWS_AS(Heap(HeapOptions{.growth_factor = 0.5}), std::invalid_argument);
  Heap heap;
  HeapOptions o;
  o.growth_factor = 0.99;
  CHECK_THROWS_AS(heap.set_options(o), std::invalid_argument);
  CHECK(heap.options().growth_factor == 2.0);  // unchanged
  o.growth_factor = 1.0;                        // collect after every min_trigger_bytes
  CHECK_NOTHROW(heap.set_options(o));
}

TEST_CASE("stats() describes the heap and the last collection", "[gc][stats]") {
  Heap heap(HeapOptions{.stress = false});
  HeapStats s = heap.stats();
  CHECK(s.live_objects == 0);
  CHECK(s.live_bytes == 0);
  CHECK(s.collections == 0);
  CHECK(s.total_freed_objects == 0);
  CHECK(s.destructor_exceptions == 0);

  std::vector<Strong<Node>> kept;
  for (int i = 0; i < 30000; ++i) {
    auto node = heap.make<Node>(i);
    if (i % 3 == 0) kept.push_back(node);
  }
  heap.collect();  // frees the 20,000 unkept nodes (the trigger was never reached)
  heap.collect();  // frees nothing: a clean baseline
  s = heap.stats();
  CHECK(s.live_objects == 10000);
  CHECK(s.live_bytes >= 10000 * sizeof(Node));
  CHECK(s.live_bytes <= 10000 * 2 * sizeof(Node));
  CHECK(s.committed_bytes >= s.live_bytes);
  CHECK(s.last_freed_objects == 0);
  CHECK(s.last_freed_bytes == 0);
  CHECK(s.total_freed_objects == 20000);
  const std::uint64_t collections = s.collections;

  for (int i = 0; i < 5000; ++i) heap.make<Node>(i);  // garbage, below the trigger
  const HeapStats full = heap.stats();
  CHECK(full.collections == collections);
  CHECK(full.live_objects == 15000);
  CHECK(full.allocated_since_collection == full.live_bytes - s.live_bytes);
  heap.collect();
  s = heap.stats();
  CHECK(s.collections == collections + 1);
  CHECK(s.live_objects == 10000);
  CHECK(s.last_freed_objects == 5000);
  CHECK(s.last_freed_bytes == full.live_bytes - s.live_bytes);
  CHECK(s.total_freed_objects == 25000);
  CHECK(s.last_mark_time > std::chrono::nanoseconds(0));   // 10,000 objects were traced
  CHECK(s.last_sweep_time > std::chrono::nanoseconds(0));  // 5,000 were destroyed
  CHECK(s.last_mark_time < std::chrono::seconds(10));
  CHECK(s.next_collection_bytes == expected_trigger(heap.options(), s.live_bytes));
  CHECK(s.allocated_since_collection == 0);
  CHECK(s.last_weak_expired == 0);
}
