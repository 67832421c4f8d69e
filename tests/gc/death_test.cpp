// Misuse that would corrupt memory stops the program with a message (always-on checks), and the
// cheaper-to-make mistakes are caught in debug builds (SNAPHEAP_DCHECK_IS_ON). Each case runs in a
// forked child; the test requires SIGABRT and the message on the child's stderr.
#include <catch2/catch.hpp>
#include <snapheap/heap.hpp>

#include <thread>

#include "support/blob.hpp"
#include "support/child_process.hpp"
#include "support/nodes.hpp"

using snapheap::Heap;
using snapheap::HeapOptions;
using snapheap::Member;
using snapheap::Strong;
using snapheap::Weak;
using snapheap_test::Blob;
using snapheap_test::Node;

namespace {

/// Allocates from its destructor (forbidden: the collector is running).
struct AllocatesInDestructor final : snapheap::Object {
  Heap* heap;
  explicit AllocatesInDestructor(Heap* h) : heap(h) {}
  ~AllocatesInDestructor() { heap->make<Node>(1); }
  void trace(snapheap::Tracer&) const override {}
};

/// Roots itself from its destructor (resurrection).
struct Resurrects final : snapheap::Object {
  Strong<Resurrects>* out;
  explicit Resurrects(Strong<Resurrects>* o) : out(o) {}
  ~Resurrects() { *out = Strong<Resurrects>(this); }
  void trace(snapheap::Tracer&) const override {}
};

/// Roots, from its destructor, the target of its Member, which dies in the same collection.
struct RootsItsMember final : snapheap::Object {
  Member<Node> other;
  Strong<Node>* out;
  explicit RootsItsMember(Strong<Node>* o) : out(o) {}
  ~RootsItsMember() { *out = Strong<Node>(other); }
  void trace(snapheap::Tracer& t) const override { t.trace(other); }
};

/// Allocates from trace().
struct AllocatesInTrace final : snapheap::Object {
  Heap* heap;
  explicit AllocatesInTrace(Heap* h) : heap(h) {}
  void trace(snapheap::Tracer&) const override { heap->make<Node>(1); }
};

/// Makes a Strong to itself while under construction.
struct RootsItselfInConstructor final : snapheap::Object {
  RootsItselfInConstructor() { Strong<RootsItselfInConstructor> self(this); }
  void trace(snapheap::Tracer&) const override {}
};

/// Makes a Weak to itself while under construction.
struct WeakToItselfInConstructor final : snapheap::Object {
  WeakToItselfInConstructor() { Weak<WeakToItselfInConstructor> self(this); }
  void trace(snapheap::Tracer&) const override {}
};

/// Dereferences a Member from its destructor.
template <class Target>
struct ReadsMemberInDestructor final : snapheap::Object {
  Member<Target> target;
  ~ReadsMemberInDestructor() {
    volatile unsigned char sink = target->payload[0];
    (void)sink;
  }
  void trace(snapheap::Tracer& t) const override { t.trace(target); }
};

}  // namespace

// ---- always-on checks ------------------------------------------------------------------------------

TEST_CASE("destroying a Heap while a Strong handle to it is alive stops the program", "[death]") {
  SNAPHEAP_REQUIRE_ABORTS_WITH(
      {
        Strong<Node> outlives;
        {
          Heap heap;
          outlives = heap.make<Node>(1);
        }
      },
      "a Heap was destroyed while 1 of its objects were still held by Strong handles");
}

TEST_CASE("make() called from a destructor stops the program", "[death]") {
  SNAPHEAP_REQUIRE_ABORTS_WITH(
      {
        Heap heap;
        { heap.make<AllocatesInDestructor>(&heap); }
        heap.collect();
      },
      "Heap::make was called from a destructor");
  SNAPHEAP_REQUIRE_ABORTS_WITH(
      {
        Heap heap;
        heap.set_root("r", heap.make<AllocatesInDestructor>(&heap));
      },  // in the destructor run by ~Heap
      "Heap::make was called from a destructor");
}

TEST_CASE("make() called from trace() stops the program", "[death]") {
  SNAPHEAP_REQUIRE_ABORTS_WITH(
      {
        Heap heap;
        auto object = heap.make<AllocatesInTrace>(&heap);
        heap.collect();
      },
      "Heap::make was called from a destructor or a trace()");
}

TEST_CASE("a destructor that makes a Strong to its dying object stops the program", "[death]") {
  SNAPHEAP_REQUIRE_ABORTS_WITH(
      {
        Strong<Resurrects> escaped;
        Heap heap;
        { heap.make<Resurrects>(&escaped); }
        heap.collect();
      },
      "tried to resurrect a dead object");
  SNAPHEAP_REQUIRE_ABORTS_WITH(
      {
        Strong<Node> escaped;
        Heap heap;
        {
          auto holder = heap.make<RootsItsMember>(&escaped);
          holder->other = heap.make<Node>(2);
        }
        heap.collect();
      },
      "tried to resurrect a dead object");
}

TEST_CASE("a Strong or Weak made to an object under construction stops the program", "[death]") {
  SNAPHEAP_REQUIRE_ABORTS_WITH(
      {
        Heap heap;
        heap.make<RootsItselfInConstructor>();
      },
      "a Strong handle was made to an object that is still under construction");
  SNAPHEAP_REQUIRE_ABORTS_WITH(
      {
        Heap heap;
        heap.make<WeakToItselfInConstructor>();
      },
      "a Weak handle was made to an object that is still under construction");
}

TEST_CASE("a child that does not misbehave is not reported as aborted", "[death]") {
  // The harness itself: a clean child exits 0 and is not mistaken for a death.
  const auto result = snapheap_test::run_in_child([] {
    Heap heap;
    auto node = heap.make<Node>(1);
    heap.collect();
  });
  INFO(result.describe());
  CHECK(result.exited);
  CHECK(result.exit_code == 0);
  CHECK_FALSE(result.aborted());
}

TEST_CASE("attach_to_current_thread hands a heap to another thread", "[threads]") {
  // The hand-over makes legal what the debug death tests below forbid.
  Heap heap;
  auto node = heap.make<Node>(1);
  std::int64_t seen = 0;
  std::thread([&] {
    heap.attach_to_current_thread();
    auto other = heap.make<Node>(2);
    heap.collect();
    seen = other->value + node->value;
    other.reset();
    heap.collect();
  }).join();
  heap.attach_to_current_thread();
  CHECK(seen == 3);
  heap.collect();
  CHECK(heap.stats().live_objects == 1);
}

// ---- debug-build checks ----------------------------------------------------------------------------

#if SNAPHEAP_DCHECK_IS_ON

TEST_CASE("dereferencing a Member to a dead object from a destructor stops the program (debug)",
          "[death][debug]") {
  // The target is made first, so it has the lower slot and is swept (and freed) first: the check
  // must not depend on the target's memory still being there.
  SNAPHEAP_REQUIRE_ABORTS_WITH(
      {
        Heap heap;
        {
          auto target = heap.make<Blob<32>>();
          auto reader = heap.make<ReadsMemberInDestructor<Blob<32>>>();
          reader->target = target;
        }
        heap.collect();
      },
      "a destructor dereferenced a Member whose target is dead too");
  SNAPHEAP_REQUIRE_ABORTS_WITH(
      {
        Heap heap;
        {
          auto target = heap.make<Blob<100000>>();  // a large object: its own mapping
          auto reader = heap.make<ReadsMemberInDestructor<Blob<100000>>>();
          reader->target = target;
        }
        heap.collect();
      },
      "a destructor dereferenced a Member whose target is dead too");
  // The other order: the reader is swept first, its target is still intact.
  SNAPHEAP_REQUIRE_ABORTS_WITH(
      {
        Heap heap;
        {
          auto reader = heap.make<ReadsMemberInDestructor<Blob<32>>>();
          reader->target = heap.make<Blob<32>>();
        }
        heap.collect();
      },
      "a destructor dereferenced a Member whose target is dead too");
  // At heap destruction every object is dying.
  SNAPHEAP_REQUIRE_ABORTS_WITH(
      {
        Heap heap;
        auto reader = heap.make<ReadsMemberInDestructor<Blob<32>>>();
        reader->target = heap.make<Blob<32>>();
        heap.set_root("r", reader);
        reader.reset();
      },
      "a destructor dereferenced a Member whose target is dead too");
}

TEST_CASE("using a heap from another thread stops the program (debug)", "[death][debug]") {
  SNAPHEAP_REQUIRE_ABORTS_WITH(
      {
        Heap heap;
        std::thread([&] { heap.make<Node>(1); }).join();
      },
      "a heap was used from a thread other than its own");
  SNAPHEAP_REQUIRE_ABORTS_WITH(
      {
        Heap heap;
        std::thread([&] { heap.collect(); }).join();
      },
      "a heap was used from a thread other than its own");
  SNAPHEAP_REQUIRE_ABORTS_WITH(
      {
        Heap heap;
        auto node = heap.make<Node>(1);
        const Weak<Node> weak = node;
        std::thread([&] { (void)weak.lock(); }).join();
      },
      "a heap was used from a thread other than its own");
}

TEST_CASE("constructing a managed object outside Heap::make stops the program (debug)", "[death][debug]") {
  SNAPHEAP_REQUIRE_ABORTS_WITH(
      {
        Node on_the_stack(1);
        (void)on_the_stack;
      },
      "was constructed outside Heap::make");
}

#endif  // SNAPHEAP_DCHECK_IS_ON
