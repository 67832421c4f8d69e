#include <catch2/catch.hpp>
#include <snapheap/heap.hpp>

namespace {
struct Node final : snapheap::Object {
  std::int64_t value = 0;
  snapheap::Member<Node> next;
  snapheap::Weak<Node> peer;
  explicit Node(std::int64_t v = 0) : value(v) {}
  void trace(snapheap::Tracer& t) const override { t.trace(next); t.trace(peer); }
};
}

TEST_CASE("smoke: chain survives, garbage dies, weak expires") {
  snapheap::Heap heap;
  auto head = heap.make<Node>(1);
  snapheap::Member<Node> cur = head;
  for (int i = 0; i < 1000; ++i) { auto n = heap.make<Node>(i); cur->next = n; cur = n; }
  snapheap::Weak<Node> w;
  { auto tmp = heap.make<Node>(99); w = tmp; head->peer = tmp; }
  heap.collect();
  REQUIRE(heap.stats().live_objects == 1001);
  REQUIRE(w.expired());
  REQUIRE(heap.stats().last_weak_expired == 1);
  REQUIRE(heap.verify().ok);
}
