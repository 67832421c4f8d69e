// Invariant 3: nothing the collector does is proportional to graph depth on the C++ stack. The
// whole life of a million-long chain (build, mark, sweep, and heap destruction with the chain
// alive) runs on a thread with a 256 KiB stack, where a recursive walk would overflow after a few
// thousand links. Tagged [big]: the stress run skips it.
#include <catch2/catch.hpp>
#include <snapheap/heap.hpp>

#include <cstdint>

#include "support/nodes.hpp"
#include "support/small_stack.hpp"

using snapheap::Heap;
using snapheap::Strong;
using snapheap::Weak;
using snapheap_test::DestructionLog;
using snapheap_test::Node;

namespace {

constexpr std::int64_t kLength = 1'000'000;

/// Builds a chain of kLength nodes with ids first..first+kLength-1 under the named root `name`.
/// `forward`: the head is made first and each new node is appended; otherwise each new node
/// becomes the head (the order of slots and addresses is reversed relative to the links).
void build_chain(Heap& heap, const char* name, std::int64_t first, bool forward) {
  if (forward) {
    auto head = heap.make<Node>(first);
    heap.set_root(name, head);
    Node* tail = head.get();
    for (std::int64_t i = 1; i < kLength; ++i) {
      auto node = heap.make<Node>(first + i);
      tail->next = node;
      tail = node.get();
    }
  } else {
    Strong<Node> head = heap.make<Node>(first + kLength - 1);
    for (std::int64_t i = kLength - 2; i >= 0; --i) {
      auto node = heap.make<Node>(first + i);
      node->next = head;
      head = node;
    }
    heap.set_root(name, head);
  }
}

struct Outcome {
  std::size_t stack_bytes = 0;
  std::size_t live_after_mark = 0;
  std::uint64_t destroyed_while_alive = 0;
  std::int64_t length_walked = 0;
  bool verify_ok = false;
  std::size_t live_after_drop = 0;
  std::size_t freed = 0;
  std::uint64_t destroyed_after_drop = 0;
  std::uint64_t destroyed_after_teardown = 0;
};

}  // namespace

TEST_CASE("marking, sweeping and tearing down a million-long chain run on a 256 KiB stack",
          "[gc][invariant3][big]") {
  const bool forward = GENERATE(true, false);
  INFO((forward ? "chain built head first" : "chain built tail first"));
  DestructionLog log(2 * kLength);
  Outcome out;
  snapheap_test::run_with_stack(snapheap_test::kSmallStackBytes, [&] {
    out.stack_bytes = snapheap_test::current_thread_stack_bytes();
    {
      Heap heap;
      build_chain(heap, "chain", 0, forward);
      heap.collect();  // marks a million links
      out.live_after_mark = heap.stats().live_objects;
      out.destroyed_while_alive = log.total();
      for (Node* n = heap.root<Node>("chain").get(); n; n = n->next.get()) ++out.length_walked;
      out.verify_ok = heap.verify().ok;

      heap.remove_root("chain");
      heap.collect();  // sweeps a million dead links
      out.live_after_drop = heap.stats().live_objects;
      out.freed = heap.stats().last_freed_objects;
      out.destroyed_after_drop = log.total();

      build_chain(heap, "again", kLength, forward);
    }  // ~Heap tears down a live million-long chain
    out.destroyed_after_teardown = log.total();
  });
  CHECK(out.stack_bytes <= 2 * snapheap_test::kSmallStackBytes);
  CHECK(out.live_after_mark == kLength);
  CHECK(out.destroyed_while_alive == 0);
  CHECK(out.length_walked == kLength);
  CHECK(out.verify_ok);
  CHECK(out.live_after_drop == 0);
  CHECK(out.freed == kLength);
  CHECK(out.destroyed_after_drop == kLength);
  CHECK(out.destroyed_after_teardown == 2 * kLength);
  CHECK(log.first_mismatch([](std::size_t) { return 1u; }) == "");
}
