// HeapOptions::max_bytes: past the limit, after a collection, make() throws HeapExhausted; the
// heap stays consistent and usable, and garbage never makes it throw.
#include <catch2/catch.hpp>
#include <snapheap/heap.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "support/blob.hpp"
#include "support/nodes.hpp"

using snapheap::Heap;
using snapheap::HeapExhausted;
using snapheap::HeapOptions;
using snapheap::Member;
using snapheap::Strong;
using snapheap_test::Blob;
using snapheap_test::Node;

namespace {

constexpr std::size_t kLimit = std::size_t{1} << 20;

/// Makes T until make() throws HeapExhausted (or `max_objects` were made); returns the error.
template <class T>
std::optional<HeapExhausted> fill(Heap& heap, std::vector<Strong<T>>& kept, std::size_t max_objects = 100000) {
  for (std::size_t i = 0; i < max_objects; ++i) {
    try {
      kept.push_back(heap.make<T>());
    } catch (const HeapExhausted& e) {
      return e;
    }
  }
  return std::nullopt;
}

}  // namespace

TEST_CASE("past max_bytes, make throws HeapExhausted after a collection", "[gc][limit][valgrind]") {
  Heap heap(HeapOptions{.max_bytes = kLimit});
  std::vector<Strong<Blob<1000>>> kept;
  const auto first = fill(heap, kept);
  REQUIRE(first);
  CHECK(first->limit() == kLimit);
  CHECK(first->live_bytes() == heap.stats().live_bytes);
  CHECK(first->requested() >= sizeof(Blob<1000>));
  CHECK(first->live_bytes() + first->requested() > first->limit());
  CHECK_THAT(first->what(), Catch::Matchers::Contains("limit"));
  CHECK(kept.size() > 500);  // the limit, not something else, stopped it
  CHECK(heap.stats().live_bytes <= kLimit);

  // The collection runs before the exception: count it on a second attempt.
  const auto collections = heap.stats().collections;
  CHECK_THROWS_AS(heap.make<Blob<1000>>(), HeapExhausted);
  CHECK(heap.stats().collections > collections);
  // It is a std::runtime_error (a handler for that catches it), and its message gives the limit,
  // the live bytes and the request.
  static_assert(std::is_base_of_v<std::runtime_error, HeapExhausted>);
  CHECK_THROWS_AS(heap.make<Blob<1000>>(), std::runtime_error);
  CHECK_THAT(first->what(), Catch::Matchers::Contains(std::to_string(kLimit) + " bytes") &&
                                Catch::Matchers::Contains(std::to_string(first->live_bytes())) &&
                                Catch::Matchers::Contains(std::to_string(first->requested())));

  // Consistent, and usable again once roots are dropped.
  REQUIRE(heap.verify().ok);
  CHECK(heap.stats().live_objects == kept.size());
  kept.resize(kept.size() / 2);
  auto again = heap.make<Blob<1000>>(static_cast<unsigned char>(9));
  CHECK(again->holds(9));
  CHECK(heap.stats().live_objects == kept.size() + 1);
  std::vector<Strong<Blob<1000>>> more;
  REQUIRE(fill(heap, more));
  CHECK(heap.stats().live_bytes <= kLimit);
  CHECK(heap.verify().ok);
}

TEST_CASE("live bytes never pass max_bytes, whatever the object sizes", "[gc][limit]") {
  // Limits that are not multiples of any cell size, objects small and large.
  const std::size_t limit = GENERATE(std::size_t{97304}, std::size_t{300001}, kLimit - 8);
  INFO("limit " << limit);
  Heap heap(HeapOptions{.max_bytes = limit});
  std::vector<Strong<snapheap::Object>> kept;
  std::size_t made = 0;
  auto try_make = [&](auto make) {
    try {
      kept.push_back(make());
      ++made;
      return true;
    } catch (const HeapExhausted& e) {
      CHECK(e.live_bytes() + e.requested() > limit);
      return false;
    }
  };
  bool room = true;
  for (int i = 0; room && i < 10000; ++i) {
    switch (i % 4) {
      case 0: room = try_make([&] { return heap.make<Blob<9000>>(); }); break;  // large object
      case 1: room = try_make([&] { return heap.make<Blob<24>>(); }); break;
      case 2: room = try_make([&] { return heap.make<Blob<1000>>(); }); break;
      default: room = try_make([&] { return heap.make<Blob<5000>>(); }); break;
    }
    INFO("after " << made << " objects");
    REQUIRE(heap.stats().live_bytes <= limit);
  }
  CHECK_FALSE(room);
  CHECK(heap.verify().ok);
}

namespace {
/// Sets the limit so that one more T fits by sizeof(T) but not by the cell it really takes.
/// `cell` is worked out here from the allocator's documented rules (README, "How it works";
/// include/snapheap/detail/size_classes.hpp), not read back from the heap: 8-byte size classes
/// to 128 bytes, then eight per doubling (128 + k * 16, 256 + k * 32, ..., 4096 + k * 512) to
/// 8 KiB; a larger object gets a block of its own, a 64-byte header and the object rounded up
/// to whole 4 KiB pages.
template <class T>
void check_limit_counts_cells(std::size_t cell) {
  INFO("sizeof " << sizeof(T) << ", expected cell " << cell);
  REQUIRE(cell > sizeof(T));  // the case only means something if the sizes differ
  {
    // The heap counts that cell in live_bytes (the figure max_bytes limits).
    Heap probe;
    auto one = probe.make<T>();
    CHECK(probe.stats().live_bytes == cell);
  }
  const std::size_t limit = 5 * cell + sizeof(T);
  Heap heap(HeapOptions{.max_bytes = limit});
  std::vector<Strong<T>> kept;
  const auto error = fill(heap, kept);
  REQUIRE(error);
  CHECK(kept.size() == 5);  // a sixth fits by sizeof, not by its cell
  CHECK(heap.stats().live_bytes == 5 * cell);
  CHECK(error->live_bytes() == 5 * cell);
  CHECK(error->live_bytes() + error->requested() > limit);
}
}  // namespace

TEST_CASE("max_bytes limits the bytes objects really take, not just their sizeof", "[gc][limit]") {
  // sizeof(Blob<N>) is N + 16 (the object header), rounded up to 8.
  SECTION("a small object in a rounded-up size class") {
    STATIC_REQUIRE(sizeof(Blob<130>) == 152);
    check_limit_counts_cells<Blob<130>>(160);  // 128 + 2 * 16
  }
  SECTION("a 5000-byte object") {
    STATIC_REQUIRE(sizeof(Blob<5000>) == 5016);
    check_limit_counts_cells<Blob<5000>>(5120);  // 4096 + 2 * 512
  }
  SECTION("a large object rounded up to pages") {
    STATIC_REQUIRE(sizeof(Blob<9000>) == 9016);
    check_limit_counts_cells<Blob<9000>>(12288);  // 64 + 9016 rounded up to 3 pages
  }
}

TEST_CASE("a heap full of garbage collects instead of throwing HeapExhausted", "[gc][limit]") {
  // The trigger is far away: only the limit starts collections here.
  Heap heap(HeapOptions{.min_trigger_bytes = std::size_t{1} << 30, .max_bytes = kLimit});
  auto live = heap.make<Blob<1000>>(static_cast<unsigned char>(3));
  for (int i = 0; i < 20000; ++i) heap.make<Blob<1000>>();  // 20 MB, 20 times the limit
  CHECK(heap.stats().collections >= 19);
  CHECK(heap.stats().live_bytes <= kLimit);
  CHECK(live->holds(3));
  CHECK(heap.verify().ok);
}

TEST_CASE("an object larger than max_bytes throws HeapExhausted even in an empty heap", "[gc][limit]") {
  Heap heap(HeapOptions{.max_bytes = kLimit});
  try {
    heap.make<Blob<2 * kLimit>>();
    FAIL("make did not throw");
  } catch (const HeapExhausted& e) {
    CHECK(e.limit() == kLimit);
    CHECK(e.live_bytes() == 0);
    CHECK(e.requested() > kLimit);
  }
  CHECK(heap.stats().live_objects == 0);
  CHECK(heap.verify().ok);
  CHECK(heap.make<Node>(1)->value == 1);
}

namespace {
struct Hoarder final : snapheap::Object {
  std::vector<Member<Blob<1000>>> blobs;
  explicit Hoarder(Heap& heap) {
    for (;;) blobs.push_back(heap.make<Blob<1000>>());  // until HeapExhausted
  }
  void trace(snapheap::Tracer& t) const override { t.trace(blobs); }
};
}  // namespace

TEST_CASE("HeapExhausted from inside a constructor propagates and leaves the heap usable", "[gc][limit][invariant7]") {
  Heap heap(HeapOptions{.max_bytes = kLimit});
  auto keep = heap.make<Node>(1);
  CHECK_THROWS_AS(heap.make<Hoarder>(heap), HeapExhausted);
  CHECK(heap.verify().ok);
  heap.collect();
  CHECK(heap.stats().live_objects == 1);
  CHECK(heap.verify().ok);
  std::vector<Strong<Blob<1000>>> kept;
  REQUIRE(fill(heap, kept));
  CHECK(kept.size() > 500);
}

TEST_CASE("a limit can be set and lifted with set_options", "[gc][limit]") {
  Heap heap;
  std::vector<Strong<Blob<1000>>> kept;
  for (int i = 0; i < 2000; ++i) kept.push_back(heap.make<Blob<1000>>());
  HeapOptions o = heap.options();
  o.max_bytes = kLimit;
  heap.set_options(o);
  CHECK_THROWS_AS(heap.make<Node>(1), HeapExhausted);
  o.max_bytes = 0;  // no limit
  heap.set_options(o);
  CHECK(heap.make<Node>(2)->value == 2);
}
