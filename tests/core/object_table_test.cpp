// The object table and its allocator, as seen from outside: slots and generations (weak handles
// expire by generation and are never revived by slot reuse), the tombstone slot, cells of every
// size class and large objects, alignment, and memory reuse across collections.
#include <catch2/catch.hpp>
#include <snapheap/heap.hpp>

#include <algorithm>
#include <cstdint>
#include <new>
#include <utility>
#include <vector>

#include "gc/heap_impl.hpp"
#include "support/blob.hpp"
#include "support/nodes.hpp"

using snapheap::Heap;
using snapheap::HeapOptions;
using snapheap::Object;
using snapheap::Strong;
using snapheap::Weak;
using snapheap::detail::HandleAccess;
using snapheap::detail::HeapInternals;
using snapheap_test::Blob;
using snapheap_test::Node;

namespace {

template <class T>
std::uint32_t slot_of(const Strong<T>& s) {
  return HandleAccess::slot(Weak<T>(s));
}

/// Options for tests that count memory: collections only when the test asks.
HeapOptions manual_collections() {
  return HeapOptions{.min_trigger_bytes = std::size_t{1} << 40, .stress = false};
}

}  // namespace

TEST_CASE("a slot's generation changes when its object is found dead, and only then", "[core][table]") {
  Heap heap;
  const auto& table = HeapInternals::of(heap).table;
  Strong<Node> node = heap.make<Node>(1);
  const Weak<Node> weak = node;
  const std::uint32_t slot = HandleAccess::slot(weak);
  const std::uint32_t generation = HandleAccess::generation(weak);
  CHECK(table.generation(slot) == generation);
  CHECK(table.object_at(slot) == node.get());

  heap.collect();  // alive: the generation stays
  heap.collect();
  CHECK(table.generation(slot) == generation);
  CHECK_FALSE(weak.expired());

  node.reset();
  CHECK(table.generation(slot) == generation);  // unreachable but not yet found dead
  heap.collect();
  CHECK(table.generation(slot) != generation);
  CHECK(table.object_at(slot) == nullptr);
  CHECK(weak.expired());
}

TEST_CASE("slot reuse does not revive old weak handles", "[core][table][weak][valgrind]") {
  Heap heap(manual_collections());
  std::vector<Weak<Node>> old_handles;
  Strong<Node> current = heap.make<Node>(0);
  const std::uint32_t slot = slot_of(current);
  for (int round = 1; round <= 200; ++round) {
    old_handles.push_back(current);
    current.reset();
    heap.collect();
    // Allocate until the freed slot is handed out again (the free list may take a few).
    std::vector<Strong<Node>> others;
    Strong<Node> next = heap.make<Node>(round);
    while (slot_of(next) != slot) {
      others.push_back(std::move(next));
      REQUIRE(others.size() < 100);
      next = heap.make<Node>(round);
    }
    current = std::move(next);
    others.clear();
    const Weak<Node> fresh = current;
    INFO("round " << round);
    REQUIRE(HandleAccess::slot(fresh) == slot);
    for (const Weak<Node>& old : old_handles) {
      REQUIRE(HandleAccess::slot(old) == slot);
      REQUIRE(old.expired());
      REQUIRE_FALSE(old.lock());
      REQUIRE(old != fresh);
    }
    REQUIRE(fresh.lock()->value == round);
  }
  CHECK(heap.verify().ok);
}

TEST_CASE("slot 0 is the tombstone: never handed out, and a handle to it is expired", "[core][table][weak]") {
  Heap heap;
  std::vector<Strong<Node>> nodes;
  for (int i = 0; i < 1000; ++i) {
    nodes.push_back(heap.make<Node>(i));
    REQUIRE(slot_of(nodes.back()) != snapheap::detail::kTombstoneSlot);
  }
  auto& table = HeapInternals::of(heap).table;
  const Weak<Node> tombstone = HandleAccess::make_weak<Node>(table.tag(), snapheap::detail::kTombstoneSlot, 0);
  CHECK(tombstone.expired());
  CHECK_FALSE(tombstone.empty());
  CHECK_FALSE(tombstone.lock());
  nodes.front()->peer = tombstone;
  heap.collect();
  CHECK(heap.verify().ok);
  CHECK(heap.stats().last_weak_expired == 0);  // it was never alive
}

TEST_CASE("every live object's slot maps back to it", "[core][table]") {
  Heap heap;
  std::vector<Strong<Node>> nodes;
  for (int i = 0; i < 5000; ++i) nodes.push_back(heap.make<Node>(i));
  for (std::size_t i = 0; i < nodes.size(); i += 2) nodes[i].reset();
  heap.collect();
  for (int i = 0; i < 2000; ++i) nodes.push_back(heap.make<Node>(10000 + i));
  const auto& table = HeapInternals::of(heap).table;
  std::size_t wrong = 0;
  std::vector<std::uint32_t> slots;
  for (const auto& n : nodes) {
    if (!n) continue;
    const std::uint32_t slot = slot_of(n);
    wrong += table.object_at(slot) != n.get();
    slots.push_back(slot);
  }
  CHECK(wrong == 0);
  std::sort(slots.begin(), slots.end());
  CHECK(std::adjacent_find(slots.begin(), slots.end()) == slots.end());  // no slot shared
  CHECK(table.live_objects() == slots.size());
  CHECK(heap.verify().ok);
}

// ---- allocation ----------------------------------------------------------------------------------------

namespace {

struct Span {
  std::uintptr_t begin;  // the object
  std::size_t size;
  const unsigned char* payload;
  std::size_t payload_size;
  unsigned char fill;
};

/// Makes a Blob<N, Align> filled with `fill`, records where it lives.
template <std::size_t N, std::size_t Align = 8>
void make_blob(Heap& heap, std::vector<Strong<Object>>& kept, std::vector<Span>& spans, unsigned char fill) {
  auto blob = heap.make<Blob<N, Align>>(fill);
  const auto address = reinterpret_cast<std::uintptr_t>(blob.get());
  REQUIRE(address % alignof(Blob<N, Align>) == 0);
  spans.push_back({address, sizeof(Blob<N, Align>), blob->payload, N, fill});
  kept.push_back(std::move(blob));
}

bool contents_intact(const Span& span) {
  for (std::size_t i = 0; i < span.payload_size; ++i)
    if (span.payload[i] != span.fill) return false;
  return true;
}

}  // namespace

TEST_CASE("objects of every size class, large objects and 16-byte-aligned types get their own memory",
          "[core][alloc][valgrind]") {
  Heap heap;
  std::vector<Strong<Object>> kept;
  std::vector<Span> spans;
  for (int round = 0; round < 8; ++round) {
    const auto fill = static_cast<unsigned char>(round * 29 + 1);
    make_blob<1>(heap, kept, spans, fill);
    make_blob<8>(heap, kept, spans, fill);
    make_blob<24>(heap, kept, spans, fill);
    make_blob<40>(heap, kept, spans, fill);
    make_blob<100>(heap, kept, spans, fill);
    make_blob<112>(heap, kept, spans, fill);   // exactly 128 bytes
    make_blob<113>(heap, kept, spans, fill);   // just past the 8-byte steps
    make_blob<300>(heap, kept, spans, fill);
    make_blob<1000>(heap, kept, spans, fill);
    make_blob<3000>(heap, kept, spans, fill);
    make_blob<8176>(heap, kept, spans, fill);  // exactly 8 KiB: the largest small object
    make_blob<8177>(heap, kept, spans, fill);  // the smallest large object
    make_blob<100000>(heap, kept, spans, fill);
    make_blob<1 << 20>(heap, kept, spans, fill);
    make_blob<16, 16>(heap, kept, spans, fill);
    make_blob<32, 16>(heap, kept, spans, fill);
    make_blob<48, 16>(heap, kept, spans, fill);
    make_blob<100, 16>(heap, kept, spans, fill);
    make_blob<200, 16>(heap, kept, spans, fill);
    make_blob<1000, 16>(heap, kept, spans, fill);
    make_blob<5000, 16>(heap, kept, spans, fill);
    make_blob<20000, 16>(heap, kept, spans, fill);
  }
  auto check_all = [&] {
    std::vector<Span> sorted;
    for (std::size_t i = 0; i < spans.size(); ++i)
      if (kept[i]) sorted.push_back(spans[i]);
    std::sort(sorted.begin(), sorted.end(), [](const Span& a, const Span& b) { return a.begin < b.begin; });
    for (std::size_t i = 0; i + 1 < sorted.size(); ++i) {
      INFO("object at " << sorted[i].begin << " of " << sorted[i].size << " bytes");
      REQUIRE(sorted[i].begin + sorted[i].size <= sorted[i + 1].begin);  // no overlap
    }
    std::size_t damaged = 0;
    for (const Span& s : sorted) damaged += !contents_intact(s);
    REQUIRE(damaged == 0);
    REQUIRE(heap.verify().ok);
  };
  check_all();
  // Free every other object, allocate a second generation into the holes, check again.
  for (std::size_t i = 0; i < kept.size(); i += 2) kept[i].reset();
  heap.collect();
  check_all();
  for (int round = 0; round < 4; ++round) {
    const auto fill = static_cast<unsigned char>(200 + round);
    make_blob<24>(heap, kept, spans, fill);
    make_blob<1000>(heap, kept, spans, fill);
    make_blob<8177>(heap, kept, spans, fill);
    make_blob<48, 16>(heap, kept, spans, fill);
    make_blob<20000, 16>(heap, kept, spans, fill);
  }
  check_all();
  CHECK(heap.stats().live_bytes >= 8 * (std::size_t{1} << 20));
}

TEST_CASE("16-byte-aligned objects are aligned in every size class", "[core][alloc]") {
  Heap heap;
  std::vector<Strong<Object>> kept;
  std::vector<Span> spans;
  // Many of each, so that cells deep into a page are checked, not just the first.
  for (int i = 0; i < 300; ++i) {
    make_blob<16, 16>(heap, kept, spans, 1);
    make_blob<64, 16>(heap, kept, spans, 1);
    make_blob<80, 16>(heap, kept, spans, 1);
    make_blob<112, 16>(heap, kept, spans, 1);
    make_blob<144, 16>(heap, kept, spans, 1);
    make_blob<464, 16>(heap, kept, spans, 1);
    make_blob<2032, 16>(heap, kept, spans, 1);
  }
  std::size_t misaligned = 0;
  for (const Span& s : spans) misaligned += s.begin % 16 != 0;
  CHECK(misaligned == 0);
}

TEST_CASE("memory is reused after collection: committed bytes stop growing over fill/collect cycles",
          "[core][alloc][valgrind]") {
  Heap heap(manual_collections());
  std::vector<Strong<Object>> live;
  std::vector<std::size_t> committed;
  for (int cycle = 0; cycle < 12; ++cycle) {
    // About 12 MiB of garbage per cycle in small cells of several classes and in large blocks,
    // with a few long-lived objects sprinkled in.
    for (int i = 0; i < 4000; ++i) {
      heap.make<Blob<1000>>();
      heap.make<Node>(i);
      heap.make<Blob<200>>();
      if (i % 100 == 0) heap.make<Blob<50000>>();
      if (i % 500 == 0) live.push_back(heap.make<Blob<300>>());
    }
    heap.collect();
    committed.push_back(heap.stats().committed_bytes);
  }
  INFO("committed bytes after each cycle: " << Catch::Detail::stringify(committed));
  // The first cycles settle the page pool; after that the footprint does not grow.
  const std::size_t settled = *std::max_element(committed.begin(), committed.begin() + 3);
  CHECK(committed.back() <= settled);
  CHECK(*std::max_element(committed.begin() + 3, committed.end()) <= settled);
  CHECK(heap.stats().live_objects == live.size());
  CHECK(heap.verify().ok);
}

TEST_CASE("release_memory() gives every empty page back to the system", "[core][alloc]") {
  Heap heap(manual_collections());
  for (int i = 0; i < 64 * 1024; ++i) heap.make<Blob<1000>>();  // 64 MiB of garbage
  CHECK(heap.stats().committed_bytes >= std::size_t{64} << 20);
  heap.collect();  // everything is free now; the pages may stay warm for a while
  CHECK(heap.stats().live_bytes == 0);
  heap.release_memory();
  // What is left is at most the page each size class allocates from.
  CHECK(heap.stats().committed_bytes <= std::size_t{1} << 20);
  // And the heap still allocates normally from the pages it gave back.
  std::vector<Strong<Blob<1000>>> refill;
  for (int i = 0; i < 16 * 1024; ++i) refill.push_back(heap.make<Blob<1000>>(static_cast<unsigned char>(i)));
  std::size_t damaged = 0;
  for (int i = 0; i < 16 * 1024; ++i) damaged += !refill[static_cast<std::size_t>(i)]->holds(static_cast<unsigned char>(i));
  CHECK(damaged == 0);
  CHECK(heap.stats().committed_bytes >= std::size_t{16} << 20);
  heap.release_memory();  // nothing is empty: nothing changes
  CHECK(heap.stats().committed_bytes >= std::size_t{16} << 20);
  CHECK(heap.verify().ok);
}

TEST_CASE("an object larger than 4 GiB is counted in full", "[core][alloc][big]") {
  using Huge = Blob<(std::size_t{1} << 32) + 64>;  // never touched beyond its header
  Heap heap(manual_collections());
  // The test needs 4 GiB of address space (the mapping is never touched past its header, so
  // no memory): a machine that cannot map it fails the test rather than passing it unrun.
  Strong<Huge> huge;
  try {
    huge = heap.make<Huge>();
  } catch (const std::bad_alloc&) {
    FAIL("could not map 4 GiB of address space: this [big] test needs it (vm.overcommit_memory, ulimit -v)");
  }
  REQUIRE(huge);
  CHECK(heap.stats().live_bytes >= sizeof(Huge));
  CHECK(heap.stats().committed_bytes >= sizeof(Huge));
  CHECK(heap.verify().ok);
  huge.reset();
  heap.collect();
  CHECK(heap.stats().live_bytes == 0);
  CHECK(heap.stats().last_freed_bytes >= sizeof(Huge));
  CHECK(heap.verify().ok);
}

TEST_CASE("a destroyed heap leaves its address range clean for later mappings", "[core][alloc]") {
  // Under AddressSanitizer the allocator poisons free cells; the poison must not outlive the
  // heap, or the next mapping at the same addresses (a new heap's large object, say) would be
  // reported as a use of freed memory. Without ASan this checks plain reuse.
  for (int round = 0; round < 4; ++round) {
    {
      Heap old(manual_collections());
      for (int i = 0; i < 4000; ++i) old.make<Blob<1000>>();  // a chunk of freed, poisoned cells
      old.collect();
    }
    Heap next(manual_collections());
    std::vector<Strong<Blob<100000>>> large;
    for (int i = 0; i < 60; ++i) large.push_back(next.make<Blob<100000>>(static_cast<unsigned char>(i)));
    std::size_t damaged = 0;
    for (int i = 0; i < 60; ++i) damaged += !large[static_cast<std::size_t>(i)]->holds(static_cast<unsigned char>(i));
    CHECK(damaged == 0);
  }
}
