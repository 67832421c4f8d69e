// The process-wide page cache (core/memory_cache.hpp): a destroyed heap's chunks and slot-table
// arrays are reused by the next heap, within the limit, trimmed on demand; heaps built on reused
// memory are correct (verify(), a snapshot round trip), the zero-on-free mode still sees zero
// cells, and heaps made and destroyed in two threads at once share the cache safely.
#include <catch2/catch.hpp>
#include <snapheap/heap.hpp>
#include <snapheap/snapshot.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "serialize/snapshot_types.hpp"
#include "support/nodes.hpp"

using snapheap::Heap;
using snapheap::HeapOptions;
using snapheap::Strong;
using snapheap_test::Node;

namespace {

constexpr std::size_t kMiB = std::size_t{1} << 20;

/// Sets a limit for the test and restores the default, empty, afterwards (the environment may
/// have turned the cache off: these tests set their own limit).
struct CacheLimit {
  explicit CacheLimit(std::size_t bytes) {
    snapheap::trim_page_cache();
    snapheap::set_page_cache_limit(bytes);
  }
  ~CacheLimit() {
    snapheap::set_page_cache_limit(snapheap::kDefaultPageCacheLimit);
    snapheap::trim_page_cache();
  }
};

/// Automatic collections, but not at every allocation even under SNAPHEAP_GC_STRESS: these tests
/// need heaps of several 4 MiB chunks.
HeapOptions no_stress() {
  HeapOptions options;
  options.stress = false;
  return options;
}

HeapOptions manual_collections() {
  return HeapOptions{.min_trigger_bytes = std::size_t{1} << 40, .stress = false};
}

/// A chain of `n` nodes (values 0 .. n-1) rooted as "chain".
void fill_chain(Heap& heap, std::int64_t n) {
  Strong<Node> head = heap.make<Node>(0);
  Strong<Node> tail = head;
  for (std::int64_t i = 1; i < n; ++i) {
    Strong<Node> next = heap.make<Node>(i);
    tail->next = next;
    tail->peer = head;
    tail = next;
  }
  heap.set_root("chain", head);
}

std::int64_t chain_sum(Heap& heap, std::int64_t& count) {
  std::int64_t sum = 0;
  count = 0;
  for (Node* n = heap.root<Node>("chain").get(); n; n = n->next.get()) {
    sum += n->value;
    ++count;
  }
  return sum;
}

/// An object whose bytes its constructor leaves as the cell held them.
struct Uninitialized final : snapheap::Object {
  unsigned char bytes[48];
  Uninitialized() {}  // NOLINT: the point is not to initialize `bytes`
  void trace(snapheap::Tracer&) const override {}
};

/// Filler whose cells hold a nonzero pattern (as Uninitialized's size class).
struct Pattern final : snapheap::Object {
  unsigned char bytes[48];
  Pattern() { std::memset(bytes, 0xA5, sizeof bytes); }
  void trace(snapheap::Tracer&) const override {}
};

}  // namespace

TEST_CASE("a destroyed heap's memory goes to the cache and the next heap takes it", "[core][alloc][page_cache]") {
  CacheLimit limit(256 * kMiB);
  REQUIRE(snapheap::page_cache_bytes() == 0);
  {
    Heap heap(manual_collections());
    fill_chain(heap, 200'000);
  }
  const std::size_t cached = snapheap::page_cache_bytes();
  CHECK(cached >= 8 * kMiB);  // 200k 40-byte cells: two chunks or more, and the table's arrays
  CHECK(cached <= snapheap::page_cache_limit());

  Heap heap(manual_collections());
  const std::size_t after_table = snapheap::page_cache_bytes();
  CHECK(after_table < cached);  // the slot table's arrays were taken at construction
  heap.make<Node>(1);
  CHECK(snapheap::page_cache_bytes() < after_table);  // and a chunk at the first allocation
  fill_chain(heap, 200'000);
  CHECK(snapheap::page_cache_bytes() == 0);  // the same heap again: everything reused
  heap.collect();
  CHECK(heap.verify().ok);
  std::int64_t count = 0;
  const std::int64_t sum = chain_sum(heap, count);
  CHECK(count == 200'000);
  CHECK(sum == std::int64_t{200'000} * 199'999 / 2);
}

TEST_CASE("the page cache stays within its limit; limit 0 caches nothing; trim empties it", "[core][alloc][page_cache]") {
  SECTION("a limit below the heap's footprint") {
    CacheLimit limit(8 * kMiB);
    {
      Heap heap(manual_collections());
      fill_chain(heap, 500'000);  // about 20 MiB of cells
    }
    CHECK(snapheap::page_cache_bytes() > 0);
    CHECK(snapheap::page_cache_bytes() <= 8 * kMiB);
    CHECK(snapheap::page_cache_limit() == 8 * kMiB);
    snapheap::set_page_cache_limit(4 * kMiB);  // lowering the limit gives the excess back
    CHECK(snapheap::page_cache_bytes() <= 4 * kMiB);
  }
  SECTION("limit 0") {
    CacheLimit limit(0);
    {
      Heap heap(manual_collections());
      fill_chain(heap, 100'000);
    }
    CHECK(snapheap::page_cache_bytes() == 0);
    CHECK(snapheap::page_cache_limit() == 0);
  }
  SECTION("trim") {
    CacheLimit limit(256 * kMiB);
    {
      Heap heap(manual_collections());
      fill_chain(heap, 100'000);
    }
    REQUIRE(snapheap::page_cache_bytes() > 0);
    snapheap::trim_page_cache();
    CHECK(snapheap::page_cache_bytes() == 0);
    Heap heap;  // maps afresh
    fill_chain(heap, 1000);
    CHECK(heap.verify().ok);
  }
  SECTION("the default limit follows the largest heap destroyed") {
    CacheLimit limit(snapheap::kDefaultPageCacheLimit);
    {
      Heap heap(manual_collections());
      fill_chain(heap, 300'000);
    }
    const std::size_t cached = snapheap::page_cache_bytes();
    CHECK(cached >= 12 * kMiB);
    CHECK(cached <= snapheap::page_cache_limit());
    CHECK(snapheap::page_cache_limit() <= std::size_t{1} << 30);
  }
}

TEST_CASE("a heap on reused memory collects, verifies and round-trips a snapshot", "[core][alloc][page_cache][serialize]") {
  using snapheap_stest::SGraph;
  using snapheap_stest::SNode;
  CacheLimit limit(256 * kMiB);
  constexpr int kNodes = 100'000;
  auto build = [&](Heap& heap) {
    Strong<SGraph> graph = heap.make<SGraph>();
    for (int i = 0; i < kNodes; ++i) {
      Strong<SNode> node = heap.make<SNode>(i);
      if (i > 0) {
        node->next = graph->nodes[static_cast<std::size_t>(i) / 2];
        node->peer = graph->nodes[static_cast<std::size_t>(i) - 1];
      }
      graph->nodes.emplace_back(node);
      if (i % 3 == 0) heap.make<SNode>(-1);  // garbage, so that collections free cells
    }
    heap.set_root("graph", graph);
  };
  {
    Heap warm(manual_collections());
    build(warm);
  }
  REQUIRE(snapheap::page_cache_bytes() > 0);
  snapheap::ByteBuffer buffer;
  {
    Heap source(no_stress());  // on the destroyed heap's memory, with automatic collections
    build(source);
    source.collect();
    REQUIRE(source.verify().ok);
    snapheap::save(source, buffer);
  }
  REQUIRE(snapheap::page_cache_bytes() > 0);
  Heap restored(no_stress());
  const snapheap::SnapshotStats stats = snapheap::load(restored, buffer);
  CHECK(stats.objects == kNodes + 1);
  restored.collect();
  REQUIRE(restored.verify().ok);
  Strong<SGraph> graph = restored.root<SGraph>("graph");
  REQUIRE(graph);
  REQUIRE(graph->nodes.size() == static_cast<std::size_t>(kNodes));
  bool same = true;
  for (int i = 0; i < kNodes; ++i) {
    const SNode& n = *graph->nodes[static_cast<std::size_t>(i)];
    same = same && n.value == i;
    if (i > 0) {
      same = same && n.next.get() == graph->nodes[static_cast<std::size_t>(i) / 2].get();
      same = same && n.peer.lock().get() == graph->nodes[static_cast<std::size_t>(i) - 1].get();
    }
  }
  CHECK(same);
}

TEST_CASE("the zero-on-free mode sees zero cells in a reused chunk", "[core][alloc][page_cache]") {
  CacheLimit limit(256 * kMiB);
  {
    Heap dirty(manual_collections());
    std::vector<Strong<Pattern>> keep;
    for (int i = 0; i < 100'000; ++i) keep.push_back(dirty.make<Pattern>());
  }
  REQUIRE(snapheap::page_cache_bytes() > 0);
  HeapOptions zeroing = manual_collections();
  zeroing.verify_after_collect = true;  // turns the zero-on-free mode (and the trace check) on
  Heap heap(zeroing);
  std::vector<Strong<Uninitialized>> cells;
  std::size_t nonzero = 0;
  for (int i = 0; i < 100'000; ++i) {
    cells.push_back(heap.make<Uninitialized>());
    unsigned char copy[sizeof cells.back()->bytes];
    std::memcpy(copy, cells.back()->bytes, sizeof copy);
    for (unsigned char b : copy) nonzero += b != 0;
  }
  CHECK(nonzero == 0);
  heap.collect();  // the trace check reads every cell's bytes: stale handles would stop it
  CHECK(heap.verify().ok);
}

TEST_CASE("heaps made and destroyed in two threads share the cache safely", "[core][alloc][page_cache][threads]") {
  CacheLimit limit(64 * kMiB);
  std::atomic<int> failures{0};
  std::atomic<bool> over_limit{false};
  auto work = [&](int seed) {
    for (int round = 0; round < 12; ++round) {
      Heap heap(no_stress());
      const std::int64_t n = 20'000 + 10'000 * ((round + seed) % 4);
      fill_chain(heap, n);
      heap.collect();
      std::int64_t count = 0;
      const std::int64_t sum = chain_sum(heap, count);
      if (count != n || sum != n * (n - 1) / 2 || !heap.verify().ok) ++failures;
      if (snapheap::page_cache_bytes() > 64 * kMiB) over_limit = true;
    }
  };
  std::thread a(work, 0);
  std::thread b(work, 1);
  a.join();
  b.join();
  CHECK(failures == 0);
  CHECK_FALSE(over_limit);
  CHECK(snapheap::page_cache_bytes() <= 64 * kMiB);
}
