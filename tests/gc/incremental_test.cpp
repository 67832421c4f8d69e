// Incremental and generational modes: the write barrier on every way a Member changes, the
// tri-color check that catches a missing one, snapshots saved and loaded in the middle of a
// cycle, heap.step() and collect() across a cycle, and minor collections that keep what old
// objects point to. The cycle is driven a unit of work at a time through the collector's
// internal entry point, so that each test knows which stage it stores in.
#include <catch2/catch.hpp>
#include <snapheap/snapheap.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <list>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "gc/collector.hpp"
#include "support/child_process.hpp"
#include "support/nodes.hpp"
#include "serialize/snapshot_types.hpp"

using snapheap::GcMode;
using snapheap::Heap;
using snapheap::HeapOptions;
using snapheap::Member;
using snapheap::Strong;
using snapheap::Weak;
using snapheap::detail::HeapImpl;
using snapheap::detail::HeapInternals;
using snapheap_test::Node;
using Stage = HeapImpl::Cycle::Stage;

namespace {

/// Holds Members every way a host stores them.
struct Holder final : snapheap::Object {
  Member<Node> field;
  std::vector<Member<Node>> list;
  snapheap::Vector<Member<Node>> owned;
  std::vector<snapheap::Vector<Member<Node>>> rows;

  Holder() = default;
  explicit Holder(const Strong<Node>& at_construction) : field(at_construction) {}
  Holder(std::vector<Member<Node>>&& moved_list, snapheap::Vector<Member<Node>>&& moved_owned)
      : list(std::move(moved_list)), owned(std::move(moved_owned)) {}
  void trace(snapheap::Tracer& t) const override {
    t.trace(field);
    t.trace(list);
    t.trace(owned);
    t.trace(rows);
  }
};

HeapOptions incremental_options() {
  HeapOptions o;
  o.mode = GcMode::incremental;
  o.stress = false;  // the tests drive the cycle themselves
  return o;
}

/// Incremental, with the tri-color check at the end of every marking in any build.
HeapOptions verifying_options() {
  HeapOptions o = incremental_options();
  o.verify_after_collect = true;
  return o;
}

/// Incremental, with no cycle but the ones the test runs itself.
HeapOptions manual_incremental_options() {
  HeapOptions o = incremental_options();
  o.min_trigger_bytes = std::size_t{1} << 40;
  return o;
}

/// A manually driven incremental heap with a weak-key map under the root "map".
struct KeyMapHeap {
  using Map = snapheap::WeakKeyMap<Node, Node>;
  Heap heap{manual_incremental_options()};
  Strong<Map> map = heap.make<Map>();
  KeyMapHeap() { heap.set_root("map", map); }
};

void check_verifies(Heap& heap) {
  const auto v = heap.verify();
  INFO(v.problem);
  CHECK(v.ok);
}

HeapOptions generational_options() {
  HeapOptions o;
  o.mode = GcMode::generational;
  o.stress = false;  // the tests run the minor collections themselves
  return o;
}

HeapImpl& impl(Heap& heap) { return HeapInternals::of(heap); }

bool marked(Heap& heap, const snapheap::Object* o) {
  return impl(heap).table.is_marked(snapheap::detail::ObjectAccess::slot(o));
}

/// One unit of collector work (starting a cycle if none runs); returns the stage reached.
Stage advance(Heap& heap, std::size_t work = 1) {
  snapheap::detail::incremental_advance(impl(heap), std::chrono::hours(1), work);
  return impl(heap).cycle.stage;
}

void finish(Heap& heap) { snapheap::detail::incremental_finish(impl(heap)); }

/// A heap whose first 200 slots hold a rooted chain, so that a cycle's first unit of work scans
/// the first root block only and the targets made next stay white.
struct BarrierScene {
  Heap heap;
  std::vector<Strong<Node>> targets;

  explicit BarrierScene(int count, const HeapOptions& options = incremental_options()) : heap(options) {
    Strong<Node> head = heap.make<Node>(-1);
    Node* tail = head.get();
    for (int i = 0; i < 200; ++i) {
      Strong<Node> n = heap.make<Node>(-2);
      tail->next = n;
      tail = n.get();
    }
    heap.set_root("chain", head);
    for (int i = 0; i < count; ++i) targets.push_back(heap.make<Node>(i));
    REQUIRE(advance(heap) == Stage::marking);
    for (const auto& t : targets) REQUIRE_FALSE(marked(heap, t.get()));
  }

  /// Drops the host's handles, runs the cycle to its end and requires every target alive,
  /// reading its own id.
  void require_targets_survive(const std::vector<Weak<Node>>& watch) {
    targets.clear();
    finish(heap);
    REQUIRE_FALSE(heap.stats().cycle_running);
    for (std::size_t i = 0; i < watch.size(); ++i) {
      INFO("target " << i);
      const Strong<Node> t = watch[i].lock();
      REQUIRE(t);
      CHECK(t->value == static_cast<std::int64_t>(i));
    }
    const auto v = heap.verify();
    INFO(v.problem);
    CHECK(v.ok);
  }

  std::vector<Weak<Node>> watch() const { return {targets.begin(), targets.end()}; }
};

/// Runs units of marking until `o`, which is gray (marked and on the mark stack), has been traced.
void trace_now(Heap& heap, const snapheap::Object* o) {
  const auto& stack = impl(heap).table.mark_stack();
  REQUIRE(marked(heap, o));
  while (std::find(stack.begin(), stack.end(), o) != stack.end()) REQUIRE(advance(heap) == Stage::marking);
}

/// A holder made during the cycle is allocated gray (marked, and traced by a later unit of
/// work); once that unit has run it is black: its trace() will not run again in this cycle, so
/// only the barrier can shade what is stored into it.
Strong<Holder> black_holder(BarrierScene& scene) {
  std::vector<bool> before;
  for (const auto& t : scene.targets) before.push_back(marked(scene.heap, t.get()));
  Strong<Holder> h = scene.heap.make<Holder>();
  scene.heap.set_root("holder", h);
  trace_now(scene.heap, h.get());
  for (std::size_t i = 0; i < before.size(); ++i) REQUIRE(marked(scene.heap, scene.targets[i].get()) == before[i]);
  return h;
}

}  // namespace

TEST_CASE("incremental: every way a Member gets a value shades its target while marking",
          "[gc][incremental][barrier]") {
  BarrierScene scene(8);
  const std::vector<Weak<Node>> watch = scene.watch();
  auto& t = scene.targets;

  // Construction from a Strong, inside make() during the cycle.
  Strong<Holder> made = scene.heap.make<Holder>(t[0]);
  scene.heap.set_root("made", made);
  CHECK(marked(scene.heap, t[0].get()));

  Strong<Holder> h = black_holder(scene);
  h->field = t[1];  // assignment from a Strong
  CHECK(marked(scene.heap, t[1].get()));

  Member<Node> host_side(t[2].get());  // from a raw pointer (a host-side temporary)
  h->list.push_back(host_side);        // copy into a std::vector<Member>
  CHECK(marked(scene.heap, t[2].get()));

  h->list.emplace_back(t[3]);  // built in place inside the vector
  CHECK(marked(scene.heap, t[3].get()));

  h->owned.push_back(Member<Node>(t[4]));  // moved into a snapheap::Vector
  CHECK(marked(scene.heap, t[4].get()));

  h->list.insert(h->list.begin(), Member<Node>(t[5]));  // insertion shifts the others
  CHECK(marked(scene.heap, t[5].get()));

  Member<Node> copy = made->field;  // copied from another object's field...
  made->field = t[6];               // ...whose target changes (t[0] still reachable through copy)
  h->owned.push_back(copy);
  CHECK(marked(scene.heap, t[6].get()));

  t[7]->next = t[6];  // a Member of an unmarked object: the barrier shades as well
  h->field = Member<Node>(t[7]);  // copy assignment of a temporary
  CHECK(marked(scene.heap, t[7].get()));

  scene.require_targets_survive(watch);
  CHECK(watch[0].lock());  // held by h->owned only
}

TEST_CASE("incremental: a std::vector<Member> reallocating during marking keeps every target",
          "[gc][incremental][barrier]") {
  BarrierScene scene(300);
  const std::vector<Weak<Node>> watch = scene.watch();
  Strong<Holder> h = black_holder(scene);
  h->list.reserve(1);
  std::size_t reallocations = 0;
  for (std::size_t i = 0; i < scene.targets.size(); ++i) {
    const auto* before = h->list.data();
    h->list.push_back(scene.targets[i]);
    if (h->list.data() != before) ++reallocations;
    if (i % 16 == 0) advance(scene.heap, 64);  // the collector runs between the stores
  }
  CHECK(reallocations >= 8);
  h->owned.assign(h->list.begin(), h->list.end());  // and a whole-range copy
  h->list.clear();
  h->list.shrink_to_fit();
  scene.require_targets_survive(watch);
}

/// A holder filled before a cycle starts (its stores ran no barrier), left unmarked by the
/// cycle's first unit of work: what is handed over from its containers is unshaded.
struct HandOverScene {
  BarrierScene scene;
  Strong<Holder> white;

  explicit HandOverScene(const HeapOptions& options = incremental_options()) : scene(0, options) {
    finish(scene.heap);  // the scene's own cycle ends; the holder is made outside any cycle
    white = scene.heap.make<Holder>();
    for (int i = 0; i < 4; ++i) {
      white->list.push_back(scene.heap.make<Node>(i));
      white->owned.push_back(scene.heap.make<Node>(i));
    }
    REQUIRE(advance(scene.heap) == Stage::marking);
    REQUIRE_FALSE(marked(scene.heap, white.get()));
    for (const auto& m : white->list) REQUIRE_FALSE(marked(scene.heap, m.get()));
  }
  /// Drops the unmarked holder, finishes the cycle and requires every watched target alive.
  void require_survive(const std::vector<Weak<Node>>& watch) {
    white = {};
    finish(scene.heap);
    for (std::size_t i = 0; i < watch.size(); ++i) {
      INFO("target " << i);
      const Strong<Node> t = watch[i].lock();
      REQUIRE(t);
      CHECK(t->value == static_cast<std::int64_t>(i));
    }
    check_verifies(scene.heap);
  }
};

template <class Range>
std::vector<Weak<Node>> watch_of(const Range& range) {
  std::vector<Weak<Node>> watch;
  for (const auto& m : range) watch.emplace_back(m.get());
  return watch;
}

TEST_CASE("incremental: a container handed over whole between objects keeps every target after write_barrier",
          "[gc][incremental][barrier]") {
  // Moving or swapping a std::vector hands over its buffer: no Member is constructed or
  // assigned, so the per-Member barrier does not run; snapheap::write_barrier() on what the
  // marked holder received does its work.
  enum class Way { move_assign, member_swap, std_swap, whole_object };
  for (const Way way : {Way::move_assign, Way::member_swap, Way::std_swap, Way::whole_object}) {
    INFO("way " << static_cast<int>(way));
    HandOverScene s;
    const std::vector<Weak<Node>> watch = watch_of(s.white->list);
    Strong<Holder> h = black_holder(s.scene);
    switch (way) {
      case Way::move_assign: h->list = std::move(s.white->list); break;
      case Way::member_swap: h->list.swap(s.white->list); break;
      case Way::std_swap: std::swap(h->list, s.white->list); break;
      case Way::whole_object: h->list = std::move(s.white->list); break;
    }
    if (way == Way::whole_object) snapheap::write_barrier(*h);  // the whole receiving object
    else snapheap::write_barrier(h->list);
    s.white->list.clear();
    s.require_survive(watch);
  }
}

TEST_CASE("incremental: a snapheap::Vector handed over whole keeps every target with no call",
          "[gc][incremental][barrier]") {
  // snapheap::Vector runs the barrier on what it receives when it is moved (constructed or
  // assigned) or swapped, however that is spelled.
  enum class Way {
    move_assign, member_swap, std_swap, adl_swap, from_std_vector, into_element, with_allocator,
    base_with_allocator, std_swap_rows
  };
  for (const Way way : {Way::move_assign, Way::member_swap, Way::std_swap, Way::adl_swap, Way::from_std_vector,
                        Way::into_element, Way::with_allocator, Way::base_with_allocator, Way::std_swap_rows}) {
    INFO("way " << static_cast<int>(way));
    HandOverScene s(verifying_options());
    const std::vector<Weak<Node>> watch = watch_of(s.white->owned);
    if (way == Way::std_swap_rows) {  // a vector of Vectors handed over whole: its rows move
      s.white->rows.push_back(std::move(s.white->owned));
      s.white->owned.clear();
    }
    Strong<Holder> h = black_holder(s.scene);
    std::vector<Member<Node>, snapheap::Allocator<Member<Node>>>& as_std = s.white->owned;
    switch (way) {
      case Way::move_assign: h->owned = std::move(s.white->owned); break;
      case Way::member_swap: h->owned.swap(s.white->owned); break;
      case Way::std_swap: std::swap(h->owned, s.white->owned); break;
      case Way::adl_swap: {
        using std::swap;
        swap(h->owned, s.white->owned);
        break;
      }
      case Way::from_std_vector: h->owned = std::move(as_std); break;
      case Way::into_element: h->rows.push_back(std::move(s.white->owned)); break;
      case Way::with_allocator:  // the allocator-extended move constructor, through emplace_back
        h->rows.emplace_back(std::move(s.white->owned), h->owned.get_allocator());
        break;
      case Way::base_with_allocator:
        h->rows.emplace_back(std::move(as_std), h->owned.get_allocator());
        break;
      case Way::std_swap_rows: {
        // The std::vector of rows needs the call; the rows it holds move as Vectors.
        h->rows = std::move(s.white->rows);
        snapheap::write_barrier(h->rows);
        break;
      }
    }
    s.white->owned.clear();
    s.white->rows.clear();
    s.require_survive(watch);
    const std::size_t received = h->owned.size() + (h->rows.empty() ? 0 : h->rows.front().size());
    CHECK(received == watch.size());
  }
}

TEST_CASE("incremental: an object made during marking from containers handed over whole keeps every target",
          "[gc][incremental][barrier]") {
  // A constructor that moves a std::vector in runs no Member barrier, and no write_barrier call
  // is needed: an object made while marking runs is gray, and a later unit of work traces it.
  HandOverScene s(verifying_options());
  std::vector<Weak<Node>> watch = watch_of(s.white->list);
  for (const auto& m : s.white->owned) watch.emplace_back(m.get());
  Strong<Holder> made = s.scene.heap.make<Holder>(std::move(s.white->list), std::move(s.white->owned));
  s.scene.heap.set_root("made", made);
  REQUIRE(made->list.size() + made->owned.size() == watch.size());
  CHECK(marked(s.scene.heap, made.get()));
  // The std::vector's targets are still white (read through the Members: a lock() would shade
  // them); the snapheap::Vector's were shaded by its move. Numbered in watch's order (the values
  // are 0-3 twice over) so that require_survive reads each one's own.
  std::int64_t id = 0;
  for (const auto& m : made->list) {
    REQUIRE_FALSE(marked(s.scene.heap, m.get()));
    m->value = id++;
  }
  for (const auto& m : made->owned) {
    CHECK(marked(s.scene.heap, m.get()));
    m->value = id++;
  }
  s.require_survive(watch);
  CHECK(made->list.size() == 4);
  CHECK(made->owned.size() == 4);
}

/// Holds long snapheap::Vectors of Members: directly, in an optional, and in a std::vector.
struct LongHolder final : snapheap::Object {
  snapheap::Vector<Member<Node>> owned;
  snapheap::Vector<Member<Node>> second;
  std::optional<snapheap::Vector<Member<Node>>> maybe;
  std::vector<snapheap::Vector<Member<Node>>> rows;
  std::vector<Member<Node>> plain;
  std::vector<Member<Node>> plain2;
  std::map<int, std::vector<Member<Node>>> keyed;
  /// What a snapheap::Vector's std::vector base can be moved or swapped into.
  using Base = std::vector<Member<Node>, snapheap::Allocator<Member<Node>>>;
  Base based;
  std::vector<Base> based_rows;
  void trace(snapheap::Tracer& t) const override {
    t.trace(owned);
    t.trace(second);
    t.trace(maybe);
    t.trace(rows);
    t.trace(plain);
    t.trace(plain2);
    t.trace(keyed);
    t.trace(based);
    t.trace(based_rows);
  }
};

constexpr std::size_t kSlice = snapheap::detail::VectorSlices::kSlice;

/// A rooted holder (and a second, empty one) made before a cycle, the first holder's `owned`
/// given `count` new targets: white when the cycle starts.
struct LongScene {
  Heap heap{verifying_options()};
  Strong<LongHolder> h = heap.make<LongHolder>();
  Strong<LongHolder> other = heap.make<LongHolder>();

  explicit LongScene(std::size_t count) {
    heap.set_root("h", h);
    heap.set_root("other", other);
    for (std::size_t i = 0; i < count; ++i) h->owned.push_back(heap.make<Node>(static_cast<std::int64_t>(i)));
  }
  HeapImpl& impl_() { return impl(heap); }
  /// Whether marking waits on a long Vector's next slice only (every edge so far shaded).
  bool at_slice_boundary() {
    HeapImpl& i = impl_();
    return !i.sliced.empty() && i.deferred_edges.empty() && i.table.mark_stack().empty();
  }
  /// Units of marking until `slices` slices of `v` are traced and shaded, and marking waits on
  /// a next slice.
  template <class V>
  void run_slices(const V& v, std::size_t slices) {
    while (!(at_slice_boundary() && marked_of(v) == slices * kSlice)) REQUIRE(advance(heap) == Stage::marking);
    REQUIRE(marked(heap, h.get()));
    REQUIRE(marked(heap, other.get()));
  }
  template <class V>
  std::size_t marked_of(const V& v) {
    std::size_t n = 0;
    for (const auto& m : v) n += marked(heap, m.get()) ? 1 : 0;
    return n;
  }
  /// Runs the cycle to its end after the program's change: every Node still held must be alive,
  /// the heap verify, and the `dropped` ones die in the next collection. Returns how many times
  /// an owner was traced again because a waiting buffer had left its vectors.
  std::size_t finish_keeping(const std::vector<Weak<Node>>& dropped) {
    const std::size_t retraced = impl_().sliced.retraced();
    const std::vector<Weak<Node>> watch = held();
    finish(heap);
    CHECK(impl_().sliced.empty());
    for (std::size_t i = 0; i < watch.size(); ++i) {
      INFO("held " << i << " of " << watch.size());
      REQUIRE(watch[i].lock());
    }
    check_verifies(heap);
    const std::size_t again = impl_().sliced.retraced() - retraced;
    heap.collect();
    std::size_t gone = 0;
    for (const auto& w : dropped) gone += w.expired() ? 1 : 0;
    CHECK(gone == dropped.size());
    return again;
  }
  /// Every Node the holders still hold, whichever container it ended in.
  std::vector<Weak<Node>> held() const {
    std::vector<Weak<Node>> all;
    for (const LongHolder* x : {h.get(), other.get()}) {
      for (const auto& m : x->owned) all.emplace_back(m.get());
      for (const auto& m : x->second) all.emplace_back(m.get());
      if (x->maybe)
        for (const auto& m : *x->maybe) all.emplace_back(m.get());
      for (const auto& row : x->rows)
        for (const auto& m : row) all.emplace_back(m.get());
      for (const auto* v : {&x->plain, &x->plain2})
        for (const auto& m : *v) all.emplace_back(m.get());
      for (const auto& [key, row] : x->keyed)
        for (const auto& m : row) all.emplace_back(m.get());
      for (const auto& m : x->based) all.emplace_back(m.get());
      for (const auto& row : x->based_rows)
        for (const auto& m : row) all.emplace_back(m.get());
    }
    return all;
  }
};

TEST_CASE("incremental: a long snapheap::Vector of Members is traced a slice per unit of work",
          "[gc][incremental][slices]") {
  const std::size_t n = 5 * kSlice + 7;
  LongScene s(n);
  const std::vector<Weak<Node>> watch = s.held();
  REQUIRE(advance(s.heap) == Stage::marking);
  // At every point where marking waits on the next slice only, a whole number of slices is
  // marked and the rest of the Vector is white.
  std::size_t boundaries = 0, last = 0;
  while (advance(s.heap) == Stage::marking) {
    if (!s.at_slice_boundary()) continue;
    const std::size_t m = s.marked_of(s.h->owned);
    if (m == last) continue;
    ++boundaries;
    INFO("boundary " << boundaries << ": " << m << " marked");
    CHECK(m % kSlice == 0);
    CHECK(m == boundaries * kSlice);
    last = m;
  }
  CHECK(boundaries == n / kSlice);
  finish(s.heap);
  for (const auto& w : watch) REQUIRE(w.lock());
  check_verifies(s.heap);
}

TEST_CASE("incremental: a vector traced directly is sliced, a std::vector or a Vector; one in a container is whole",
          "[gc][incremental][slices]") {
  enum class Where { direct, optional, second_too, row, plain, keyed };
  for (const Where where :
       {Where::direct, Where::optional, Where::second_too, Where::row, Where::plain, Where::keyed}) {
    INFO("where " << static_cast<int>(where));
    LongScene s(0);
    std::vector<Strong<Node>> made;
    for (std::size_t i = 0; i < 2 * kSlice + 1; ++i) made.push_back(s.heap.make<Node>(static_cast<std::int64_t>(i)));
    switch (where) {
      case Where::direct: s.h->owned.assign(made.begin(), made.end()); break;
      case Where::optional: s.h->maybe.emplace(made.begin(), made.end()); break;
      case Where::second_too:
        s.h->owned.assign(made.begin(), made.end());
        s.h->second.assign(made.rbegin(), made.rend());
        break;
      case Where::row: s.h->rows.emplace_back(made.begin(), made.end()); break;
      case Where::plain: s.h->plain.assign(made.begin(), made.end()); break;
      case Where::keyed: s.h->keyed[7].assign(made.begin(), made.end()); break;
    }
    const std::vector<Weak<Node>> watch = s.held();
    made.clear();
    REQUIRE(advance(s.heap) == Stage::marking);
    HeapImpl& i = s.impl_();
    while (marked(s.heap, s.h.get()) == false || std::find(i.table.mark_stack().begin(), i.table.mark_stack().end(),
                                                           s.h.get()) != i.table.mark_stack().end())
      REQUIRE(advance(s.heap) == Stage::marking);
    // The holder is traced: a sliced Vector waits for its next slices.
    const bool sliced =
        where == Where::direct || where == Where::optional || where == Where::second_too || where == Where::plain;
    CHECK(i.sliced.empty() == !sliced);
    finish(s.heap);
    CHECK(i.sliced.empty());
    for (const auto& w : watch) REQUIRE(w.lock());
    check_verifies(s.heap);
  }
}

TEST_CASE("incremental: a long Vector changed between its slices keeps every target",
          "[gc][incremental][slices][barrier]") {
  // Two slices of the holder's Vector are traced, the rest of it is white; then the program
  // changes it every way a host would, the cycle runs to its end, and every Node still held
  // must be alive (the end-of-marking check runs too: verifying_options).
  // The last four hand the buffer over by its std::vector base, with no barrier, inside the
  // holder: into a std::vector field, to the other Vector, out and back, and out of an optional
  // that is then reset into a row of a vector of vectors (where only a retrace finds it).
  enum class Way {
    grow, erase_front, insert_front, reverse, rotate, move_out, swap_with, into_row, optional_reset,
    resize_down_up, assign_from_other, base_into_field, base_swap, base_round_trip, base_out_of_optional
  };
  for (const Way way : {Way::grow, Way::erase_front, Way::insert_front, Way::reverse, Way::rotate, Way::move_out,
                        Way::swap_with, Way::into_row, Way::optional_reset, Way::resize_down_up,
                        Way::assign_from_other, Way::base_into_field, Way::base_swap, Way::base_round_trip,
                        Way::base_out_of_optional}) {
    INFO("way " << static_cast<int>(way));
    using Base = LongHolder::Base;
    LongScene s(4 * kSlice + 3);
    const bool in_optional = way == Way::optional_reset || way == Way::base_out_of_optional;
    if (in_optional) s.h->maybe.emplace(std::move(s.h->owned));
    if (way == Way::swap_with || way == Way::assign_from_other)
      for (std::size_t i = 0; i < 2 * kSlice; ++i) s.other->second.push_back(s.heap.make<Node>(-1));
    s.h->owned.shrink_to_fit();  // so that one more element reallocates
    REQUIRE(advance(s.heap) == Stage::marking);
    s.run_slices(in_optional ? *s.h->maybe : s.h->owned, 2);  // the rest is still white
    std::vector<Weak<Node>> dropped;
    switch (way) {
      case Way::grow: s.h->owned.push_back(s.heap.make<Node>(-2)); break;
      case Way::erase_front:  // the white tail moves below the next slice's start
        for (std::size_t i = 0; i < 3 * kSlice; ++i) dropped.emplace_back(s.h->owned[i].get());
        s.h->owned.erase(s.h->owned.begin(), s.h->owned.begin() + static_cast<std::ptrdiff_t>(3 * kSlice));
        break;
      case Way::insert_front: {
        std::vector<Member<Node>> front;
        for (std::size_t i = 0; i < kSlice; ++i) front.emplace_back(s.heap.make<Node>(-3));
        s.h->owned.insert(s.h->owned.begin(), front.begin(), front.end());
        break;
      }
      case Way::reverse: std::reverse(s.h->owned.begin(), s.h->owned.end()); break;
      case Way::rotate:
        std::rotate(s.h->owned.begin(), s.h->owned.begin() + static_cast<std::ptrdiff_t>(3 * kSlice),
                    s.h->owned.end());
        break;
      case Way::move_out: s.other->owned = std::move(s.h->owned); break;
      case Way::swap_with: s.h->owned.swap(s.other->second); break;
      case Way::into_row: s.h->rows.push_back(std::move(s.h->owned)); break;
      case Way::optional_reset: {
        snapheap::Vector<Member<Node>> saved = std::move(*s.h->maybe);
        s.h->maybe.reset();
        s.h->maybe.emplace(std::move(saved));
        break;
      }
      case Way::resize_down_up: {
        std::vector<Member<Node>> tail(s.h->owned.begin() + static_cast<std::ptrdiff_t>(3 * kSlice), s.h->owned.end());
        s.h->owned.resize(kSlice);
        s.h->owned.insert(s.h->owned.end(), tail.begin(), tail.end());
        break;
      }
      case Way::assign_from_other: s.h->owned = s.other->second; break;
      case Way::base_into_field: s.h->based = std::move(static_cast<Base&>(s.h->owned)); break;
      case Way::base_swap: std::swap(static_cast<Base&>(s.h->owned), static_cast<Base&>(s.h->second)); break;
      case Way::base_round_trip: {
        Base out = std::move(static_cast<Base&>(s.h->owned));
        static_cast<Base&>(s.h->owned) = std::move(out);
        break;
      }
      case Way::base_out_of_optional:
        s.h->based_rows.push_back(std::move(static_cast<Base&>(*s.h->maybe)));
        s.h->maybe.reset();
        break;
    }
    // A buffer that left the holder's vectors has the holder traced again, once; one that went
    // to another vector of the holder is found there.
    const bool left = way == Way::base_out_of_optional;
    const std::size_t again = s.finish_keeping(dropped);
    if (left) CHECK(again == 1);
    if (way == Way::base_into_field || way == Way::base_swap || way == Way::base_round_trip || way == Way::reverse)
      CHECK(again == 0);
  }
}

TEST_CASE("incremental: a long std::vector of Members changed between its slices keeps every target",
          "[gc][incremental][slices][barrier]") {
  // As above, for a std::vector field, whose moves and swaps run no barrier: its buffer is
  // found again in the other std::vector field, or (moved into a map's value) by tracing the
  // holder again.
  enum class Way { grow, erase_front, reverse, swap_fields, move_to_field, into_map, copy_over, clear_refill };
  for (const Way way : {Way::grow, Way::erase_front, Way::reverse, Way::swap_fields, Way::move_to_field, Way::into_map,
                        Way::copy_over, Way::clear_refill}) {
    INFO("way " << static_cast<int>(way));
    LongScene s(4 * kSlice + 3);
    s.h->plain.assign(s.h->owned.begin(), s.h->owned.end());
    s.h->owned.clear();
    s.h->owned.shrink_to_fit();
    s.h->plain.shrink_to_fit();
    if (way == Way::swap_fields)
      for (std::size_t i = 0; i < kSlice / 2; ++i) s.h->plain2.emplace_back(s.heap.make<Node>(-1));
    REQUIRE(advance(s.heap) == Stage::marking);
    s.run_slices(s.h->plain, 2);
    std::vector<Weak<Node>> dropped;
    switch (way) {
      case Way::grow: s.h->plain.push_back(s.heap.make<Node>(-2)); break;
      case Way::erase_front:
        for (std::size_t i = 0; i < 3 * kSlice; ++i) dropped.emplace_back(s.h->plain[i].get());
        s.h->plain.erase(s.h->plain.begin(), s.h->plain.begin() + static_cast<std::ptrdiff_t>(3 * kSlice));
        break;
      case Way::reverse: std::reverse(s.h->plain.begin(), s.h->plain.end()); break;
      case Way::swap_fields: s.h->plain.swap(s.h->plain2); break;
      case Way::move_to_field: s.h->plain2 = std::move(s.h->plain); break;
      case Way::into_map: s.h->keyed[3] = std::move(s.h->plain); break;
      case Way::copy_over: s.h->plain2 = s.h->plain; break;
      case Way::clear_refill:
        for (const auto& m : s.h->plain) dropped.emplace_back(m.get());
        s.h->plain.clear();
        for (std::size_t i = 0; i < 3 * kSlice; ++i) s.h->plain.emplace_back(s.heap.make<Node>(-3));
        break;
    }
    const std::size_t again = s.finish_keeping(dropped);
    if (way == Way::into_map) CHECK(again == 1);
    if (way == Way::swap_fields || way == Way::move_to_field || way == Way::reverse) CHECK(again == 0);
  }
}

/// Holds long arrays of Members: a std::array, a built-in array, one in an optional and one as
/// an element of a std::vector.
struct ArrayHolder final : snapheap::Object {
  static constexpr std::size_t kFixed = 3 * kSlice + 5;
  static constexpr std::size_t kFields = 2 * kSlice + 1;
  std::array<Member<Node>, kFixed> fixed;
  Member<Node> fields[kFields];
  std::optional<std::array<Member<Node>, kFields>> maybe;
  std::vector<std::array<Member<Node>, kFields>> rows;
  void trace(snapheap::Tracer& t) const override {
    t.trace(fixed);
    t.trace(fields);
    t.trace(maybe);
    t.trace(rows);
  }
};

TEST_CASE("incremental: a long array of Members is traced in slices and keeps every target changed between them",
          "[gc][incremental][slices][barrier]") {
  // The arrays are traced a slice per unit; between the slices the program moves targets from
  // the untraced part into the traced one, reverses an array, overwrites and drops entries. An
  // array in an optional is sliced too, as a vector there is; one that is an element of a
  // container is traced whole.
  enum class Way { none, move_into_traced, reverse, overwrite, drop_rest };
  for (const Way way : {Way::none, Way::move_into_traced, Way::reverse, Way::overwrite, Way::drop_rest}) {
    INFO("way " << static_cast<int>(way));
    Heap heap(verifying_options());
    Strong<ArrayHolder> h = heap.make<ArrayHolder>();
    heap.set_root("h", h);
    for (auto& m : h->fixed) m = heap.make<Node>(1);
    for (auto& m : h->fields) m = heap.make<Node>(2);
    h->maybe.emplace();
    for (auto& m : *h->maybe) m = heap.make<Node>(3);
    h->rows.emplace_back();
    for (auto& m : h->rows[0]) m = heap.make<Node>(4);
    HeapImpl& i = impl(heap);
    const auto marked_of = [&](const auto& members) {
      std::size_t n = 0;
      for (const auto& m : members) n += marked(heap, m.get()) ? 1 : 0;
      return n;
    };
    REQUIRE(advance(heap) == Stage::marking);
    // Until the holder is traced and the first slice of `fixed` shaded, with marking waiting on
    // the arrays' next slices.
    while (!(marked_of(h->fixed) > 0 && !i.sliced.empty() && i.deferred_edges.empty() &&
             i.table.mark_stack().empty()))
      REQUIRE(advance(heap) == Stage::marking);
    CHECK(marked_of(h->fixed) == kSlice);
    CHECK(marked_of(h->fields) <= kSlice);
    CHECK(marked_of(*h->maybe) <= kSlice);
    CHECK(marked_of(h->fields) + marked_of(*h->maybe) < 2 * ArrayHolder::kFields);  // sliced
    CHECK(marked_of(h->rows[0]) == ArrayHolder::kFields);                          // whole
    std::vector<Weak<Node>> dropped;
    switch (way) {
      case Way::none: break;
      case Way::move_into_traced:  // untraced targets copied into traced entries, then cleared
        for (std::size_t k = 0; k < kSlice; ++k) {
          dropped.emplace_back(h->fixed[k].get());
          h->fixed[k] = h->fixed[ArrayHolder::kFixed - 1 - k];
          h->fixed[ArrayHolder::kFixed - 1 - k] = nullptr;
          h->fields[k] = h->fields[ArrayHolder::kFields - 1 - k];
          h->fields[ArrayHolder::kFields - 1 - k] = nullptr;
        }
        break;
      case Way::reverse:
        std::reverse(h->fixed.begin(), h->fixed.end());
        std::reverse(std::begin(h->fields), std::end(h->fields));
        break;
      case Way::overwrite:
        for (std::size_t k = kSlice; k < ArrayHolder::kFixed; k += 2) {
          dropped.emplace_back(h->fixed[k].get());
          h->fixed[k] = heap.make<Node>(-1);
        }
        break;
      case Way::drop_rest:
        for (std::size_t k = kSlice; k < ArrayHolder::kFixed; ++k) {
          dropped.emplace_back(h->fixed[k].get());
          h->fixed[k] = nullptr;
        }
        break;
    }
    std::vector<Weak<Node>> watch;  // every target still held
    const auto watch_all = [&](const auto& members) {
      for (const auto& m : members)
        if (m) watch.emplace_back(m.get());
    };
    watch_all(h->fixed);
    watch_all(h->fields);
    watch_all(*h->maybe);
    watch_all(h->rows[0]);
    REQUIRE(watch.size() >= ArrayHolder::kFixed / 2);
    finish(heap);
    CHECK(i.sliced.empty());
    for (std::size_t k = 0; k < watch.size(); ++k) {
      INFO("held " << k << " of " << watch.size());
      REQUIRE(watch[k].lock());
    }
    check_verifies(heap);
    heap.collect();
    std::size_t gone = 0;
    for (const auto& w : dropped) gone += w.expired() ? 1 : 0;
    CHECK(gone == dropped.size());
  }
}

/// Holds the node-based containers a host hands over by splice, swap and node extraction.
struct NodeHolder final : snapheap::Object {
  std::list<Member<Node>> nodes;
  std::map<int, Member<Node>> by_id;
  void trace(snapheap::Tracer& t) const override {
    t.trace(nodes);
    t.trace(by_id);
  }
};

TEST_CASE("incremental: lists spliced and maps swapped or given extracted nodes keep every target after write_barrier",
          "[gc][incremental][barrier]") {
  BarrierScene scene(0);
  finish(scene.heap);
  Strong<NodeHolder> white = scene.heap.make<NodeHolder>();
  for (int i = 0; i < 6; ++i) {
    white->nodes.push_back(scene.heap.make<Node>(i));
    white->by_id.emplace(i, scene.heap.make<Node>(10 + i));
  }
  REQUIRE(advance(scene.heap) == Stage::marking);
  REQUIRE_FALSE(marked(scene.heap, white.get()));
  std::vector<Weak<Node>> watch = watch_of(white->nodes);
  for (const auto& [id, m] : white->by_id) watch.emplace_back(m.get());
  Strong<NodeHolder> black = scene.heap.make<NodeHolder>();
  scene.heap.set_root("black", black);
  REQUIRE(marked(scene.heap, black.get()));
  black->nodes.splice(black->nodes.end(), white->nodes);  // the list's nodes change hands
  auto node = white->by_id.extract(0);                      // one map node, by extraction...
  black->by_id.insert(std::move(node));
  std::map<int, Member<Node>> rest;  // ...and the rest by swap, through a host-side map
  rest.swap(white->by_id);
  black->by_id.merge(rest);
  snapheap::write_barrier(black->nodes);
  snapheap::write_barrier(black->by_id);
  white = {};
  finish(scene.heap);
  for (std::size_t i = 0; i < watch.size(); ++i) {
    INFO("target " << i);
    CHECK(watch[i].lock());
  }
  check_verifies(scene.heap);
}

TEST_CASE("incremental: a container handed over without write_barrier is caught at the end of marking",
          "[gc][incremental][barrier][death]") {
  SNAPHEAP_REQUIRE_ABORTS_WITH(
      {
        HandOverScene s(verifying_options());
        Strong<Holder> h = black_holder(s.scene);
        h->list = std::move(s.white->list);  // no write_barrier
        s.white = {};
        finish(s.scene.heap);
      },
      "the tri-color invariant is broken at the end of marking: a marked");
}

TEST_CASE("incremental: Strong handles and named roots made during marking shade their objects",
          "[gc][incremental][barrier]") {
  BarrierScene scene(3);
  const std::vector<Weak<Node>> watch = scene.watch();
  const Strong<Node> copied = scene.targets[0];  // a new root made during marking
  CHECK(marked(scene.heap, scene.targets[0].get()));
  scene.heap.set_root("named", scene.targets[1]);
  CHECK(marked(scene.heap, scene.targets[1].get()));
  const Strong<Node> locked = watch[2].lock();  // Weak::lock roots its target
  CHECK(marked(scene.heap, scene.targets[2].get()));
  scene.require_targets_survive(watch);
}

TEST_CASE("incremental: a Member written without the barrier is caught at the end of marking",
          "[gc][incremental][barrier][death]") {
  // The check runs in debug builds and in verify mode: a raw store into a Member's storage is
  // what a missing barrier looks like to the collector.
  SNAPHEAP_REQUIRE_ABORTS_WITH(
      {
        Heap heap(verifying_options());
        Strong<Node> chain = heap.make<Node>(0);
        Node* tail = chain.get();
        for (int i = 0; i < 200; ++i) {
          Strong<Node> n = heap.make<Node>(0);
          tail->next = n;
          tail = n.get();
        }
        heap.set_root("chain", chain);
        Strong<Node> target = heap.make<Node>(1);
        advance(heap);
        Strong<Holder> h = heap.make<Holder>();
        heap.set_root("holder", h);
        trace_now(heap, h.get());  // black
        *reinterpret_cast<Node**>(&h->field) = target.get();  // no barrier
        target = {};
        finish(heap);
      },
      "the tri-color invariant is broken at the end of marking: a marked");
}

TEST_CASE("incremental: a weak handle reads expired from the end of marking, before its object is swept",
          "[gc][incremental][weak]") {
  Heap heap(incremental_options());
  std::vector<Strong<Node>> keep;
  std::vector<Weak<Node>> dead;
  for (int i = 0; i < 5000; ++i) {
    Strong<Node> n = heap.make<Node>(i);
    if (i % 2) keep.push_back(n);
    else dead.emplace_back(n);
  }
  Stage stage = advance(heap);
  while (stage == Stage::marking) stage = advance(heap, 1);
  REQUIRE(stage != Stage::none);
  // The step that ended marking may have swept a first word with what was left of its budget;
  // most of the garbage is still in its cells.
  REQUIRE(heap.stats().live_objects > keep.size() + dead.size() / 2);
  for (const auto& w : dead) {
    CHECK(w.expired());
    CHECK_FALSE(w.lock());
  }
  for (const auto& k : keep) CHECK(Weak<Node>(k).lock());
  finish(heap);
  CHECK(heap.stats().live_objects == keep.size());
}

TEST_CASE("incremental: a sweep unit ends a few objects with destructors, and objects made between units survive",
          "[gc][incremental]") {
  // A word of 64 dead objects whose destructors each free a large buffer would be one long
  // unit: a unit ends at most 8 of them, and the word is resumed by the next unit. What the
  // program makes between units may take the slots already freed in a half-swept word: it is
  // allocated marked and must survive.
  snapheap_test::DestructionLog log(4096);
  Heap heap(incremental_options());
  std::vector<Strong<Node>> keep;
  std::vector<Weak<Node>> dead;
  for (int i = 0; i < 2048; ++i) {
    Strong<Node> n = heap.make<Node>(i);
    if (i % 8 == 0) keep.push_back(n);
    else dead.emplace_back(n);
  }
  Stage stage = advance(heap);
  while (stage == Stage::marking || stage == Stage::watches || stage == Stage::census) stage = advance(heap, 1);
  REQUIRE(stage == Stage::sweeping);
  std::vector<Strong<Node>> made;
  std::uint64_t units = 0;
  while (stage == Stage::sweeping) {
    const std::uint64_t before = log.total();
    stage = advance(heap, 1);
    ++units;
    CHECK(log.total() - before <= 8);
    if (units % 3 == 0) made.push_back(heap.make<Node>(3000 + static_cast<std::int64_t>(units % 1000)));
  }
  finish(heap);
  // 1,792 dead objects, at most 8 per unit: a unit per word would have taken 32.
  CHECK(units >= dead.size() / 8);
  CHECK(log.total() == dead.size());
  for (std::size_t i = 0; i < 2048; ++i) CHECK(log.count(i) == (i % 8 == 0 ? 0u : 1u));
  for (const auto& w : dead) CHECK(w.expired());
  for (const auto& m : made) CHECK(m->value >= 3000);
  CHECK(heap.stats().live_objects == keep.size() + made.size());
  check_verifies(heap);
}

TEST_CASE("incremental: watched objects are noted in slices, with the program acting between them",
          "[gc][incremental][weak]") {
  // The pass over the watched-object bitmap at the end of marking is O(heap / 64) words: it
  // runs in slices between steps. Between slices the program reads a weak-value map, cancels
  // dying objects' callbacks, watches a live object and saves a snapshot; what the callbacks,
  // the map and the snapshot see is what one pass at the end of marking gives.
  using snapheap_stest::SNode;
  using Cache = snapheap::WeakValueMap<std::string, SNode>;
  Heap heap(manual_incremental_options());
  Strong<Cache> cache = heap.make<Cache>();
  heap.set_root("cache", cache);
  Strong<snapheap_stest::SGraph> saved = heap.make<snapheap_stest::SGraph>();  // what a snapshot keeps
  heap.set_root("kept", saved);
  constexpr int kObjects = 200000;  // over 3,000 bitmap words: several slices
  const auto dies = [](int i) { return (i / 64) % 2 == 1; };
  std::vector<Strong<SNode>> keep;
  std::vector<snapheap::DeathWatch> watches;  // watches[k] watches object 64 k
  std::vector<int> fired;
  for (int i = 0; i < kObjects; ++i) {
    Strong<SNode> n = heap.make<SNode>(i);
    if (i % 64 == 0) watches.push_back(heap.on_death(n, [&fired, i] { fired.push_back(i); }));
    if (i % 64 == 32) cache->set(std::to_string(i), n);
    if (dies(i)) continue;
    saved->nodes.emplace_back(n);
    keep.push_back(std::move(n));
  }
  REQUIRE(heap.stats().collections == 0);
  Stage stage = advance(heap);
  while (stage == Stage::marking) stage = advance(heap, 1);
  REQUIRE(stage == Stage::watches);
  REQUIRE(impl(heap).cycle.watch_word < 1024);  // at most the first slice has run

  const int last_dying = (kObjects / 64 - 1) % 2 == 1 ? (kObjects / 64 - 1) * 64 : (kObjects / 64 - 2) * 64;
  REQUIRE(dies(last_dying));
  CHECK(watches[static_cast<std::size_t>(last_dying / 64)].cancel());  // its slice has not run
  int late_fired = 0;
  snapheap::DeathWatch late = heap.on_death(keep.front(), [&late_fired] { ++late_fired; });
  snapheap::ByteBuffer mid;
  snapheap::save(heap, mid);
  std::size_t units = 0;
  while (stage == Stage::watches) {
    CHECK_FALSE(cache->get("96"));  // a dying value reads absent however far the pass is
    CHECK(cache->get("32"));
    if (units == 2) CHECK(watches[1].cancel());  // object 64's: noted already, still pending
    stage = advance(heap, 1);
    ++units;
  }
  CHECK(units >= 6);  // 512 words per slice
  finish(heap);
  heap.collect();  // runs the callbacks (nothing else dies)
  std::sort(fired.begin(), fired.end());
  std::vector<int> expected;
  for (int i = 0; i < kObjects; i += 64)
    if (dies(i) && i != 64 && i != last_dying) expected.push_back(i);
  CHECK(fired == expected);
  CHECK(late_fired == 0);
  CHECK(late.pending());
  std::vector<std::string> alive_keys;
  for (int i = 32; i < kObjects; i += 64) {
    INFO("cache key " << i);
    CHECK(static_cast<bool>(cache->get(std::to_string(i))) == !dies(i));
    if (!dies(i)) alive_keys.push_back(std::to_string(i));
  }
  CHECK(cache->size() == alive_keys.size());
  // The snapshot saved in the middle of the pass holds exactly the live entries.
  Heap loaded;
  snapheap::load(loaded, mid);
  const Strong<Cache> copy = loaded.root<Cache>("cache");
  REQUIRE(copy);
  std::vector<std::string> copied;
  copy->for_each([&](const std::string& key, const Strong<SNode>& value) {
    CHECK(value->value == std::stoi(key));
    copied.push_back(key);
  });
  CHECK(copied == alive_keys);
  CHECK(loaded.stats().live_objects == keep.size() + 2);
  check_verifies(heap);
}

TEST_CASE("incremental: an entry added to a weak-key map that marking has traced goes when its key dies",
          "[gc][incremental][weak]") {
  // The map is traced early in the cycle; then it gets an entry whose key is held only by a
  // Strong that is dropped before the key's root block is scanned. The key dies in this cycle,
  // and so must the entry: marking never met it, so set() makes it pending as a trace would.
  KeyMapHeap scene;
  Heap& heap = scene.heap;
  Strong<KeyMapHeap::Map>& map = scene.map;
  for (int i = 0; i < 300; ++i) heap.make<Node>(i);  // garbage between the map and the key
  Strong<Node> key = heap.make<Node>(1000);
  Strong<Node> value = heap.make<Node>(1001);
  const std::uint32_t key_slot = snapheap::detail::ObjectAccess::slot(key.get());
  REQUIRE(key_slot >= 256);
  advance(heap);
  HeapImpl& h = impl(heap);
  while (!(marked(heap, map.get()) && h.table.mark_stack().empty() && h.deferred_edges.empty()))
    REQUIRE(advance(heap, 1) == Stage::marking);
  REQUIRE(h.cycle.root_block < key_slot);  // the key's roots are not scanned yet
  map->set(key, value);
  const Weak<Node> key_seen = key;
  const Weak<Node> value_seen = value;
  key = {};
  value = {};
  finish(heap);
  CHECK(key_seen.expired());
  CHECK(map->size() == 0);
  heap.collect();
  CHECK(value_seen.expired());
  CHECK(map->size() == 0);
}

TEST_CASE("incremental: a long ephemeron chain settles across steps, the program acting between them",
          "[gc][incremental][weak]") {
  // A weak-key map chain k0 -> k1 -> ... -> kn with only k0 rooted, its entries in reverse order,
  // so that a plain round over the pending entries resolves one link: after two rounds the
  // fixpoint goes on through the index, a few objects traced per unit (it was one unit, as long
  // as the chain). Between units the program locks a node of the chain, allocates, and adds
  // entries. A second chain, not rooted, dies whole.
  KeyMapHeap scene;
  Heap& heap = scene.heap;
  Strong<KeyMapHeap::Map>& map = scene.map;
  constexpr int kLinks = 3000;
  std::vector<Strong<Node>> chain, dead_chain;
  for (int i = 0; i <= kLinks; ++i) chain.push_back(heap.make<Node>(i));
  for (int i = 0; i <= 500; ++i) dead_chain.push_back(heap.make<Node>(10000 + i));
  for (int i = kLinks - 1; i >= 0; --i) map->set(chain[i], chain[i + 1]);
  for (int i = 499; i >= 0; --i) map->set(dead_chain[i], dead_chain[i + 1]);
  const std::vector<Weak<Node>> alive(chain.begin(), chain.end());
  const std::vector<Weak<Node>> dead(dead_chain.begin(), dead_chain.end());
  const Strong<Node> head = chain.front();
  chain.clear();
  dead_chain.clear();

  Stage stage = advance(heap);
  std::size_t units = 0;
  std::vector<Strong<Node>> made;
  while (stage == Stage::marking) {
    stage = advance(heap, 1);
    ++units;
    if (units == 500) CHECK(alive[2000].lock());  // shades it: the rest of the chain resolves from it
    if (units % 300 == 0) {
      made.push_back(heap.make<Node>(20000 + static_cast<std::int64_t>(units)));
      map->set(made.back(), head);
    }
  }
  CHECK(units > kLinks / 16);  // the fixpoint took many units of a few traces each
  finish(heap);
  for (std::size_t i = 0; i < alive.size(); ++i) {
    INFO("chain node " << i);
    const Strong<Node> n = alive[i].lock();
    REQUIRE(n);
    if (i + 1 < alive.size()) CHECK(map->get(n).get() == alive[i + 1].lock().get());
  }
  for (const auto& w : dead) CHECK(w.expired());
  CHECK(map->size() == static_cast<std::size_t>(kLinks) + made.size());
  check_verifies(heap);
}

TEST_CASE("incremental: a key the program reaches while a round over the ephemerons runs keeps its entry",
          "[gc][incremental][weak]") {
  // A round over the pending ephemerons runs in slices. The program locks a key the round has
  // already passed as white; the round itself shades nothing (no key of this chain is rooted),
  // yet the locked key's entry must not be taken for dead: what the lock marked is progress.
  KeyMapHeap scene;
  Heap& heap = scene.heap;
  Strong<KeyMapHeap::Map>& map = scene.map;
  constexpr int kLinks = 3000;
  std::vector<Strong<Node>> chain;
  for (int i = 0; i <= kLinks; ++i) chain.push_back(heap.make<Node>(i));
  for (int i = kLinks - 1; i >= 0; --i) map->set(chain[i], chain[i + 1]);
  const std::vector<Weak<Node>> nodes(chain.begin(), chain.end());
  chain.clear();
  constexpr int kLocked = 2500;  // its entry is among the first 1,024 a round scans

  HeapImpl& h = impl(heap);
  Stage stage = advance(heap);
  Strong<Node> held;
  while (stage == Stage::marking) {
    stage = advance(heap, 1);
    if (!held && h.cycle.ephemeron_round.open()) held = nodes[kLocked].lock();
  }
  REQUIRE(held);
  finish(heap);
  for (int i = 0; i <= kLinks; ++i) {
    INFO("node " << i);
    CHECK(nodes[static_cast<std::size_t>(i)].expired() == (i < kLocked));
  }
  for (int i = kLocked; i < kLinks; ++i) {
    INFO("entry " << i);
    const Strong<Node> key = nodes[static_cast<std::size_t>(i)].lock();
    REQUIRE(key);
    CHECK(map->get(key).get() == nodes[static_cast<std::size_t>(i) + 1].lock().get());
  }
  CHECK(map->size() == static_cast<std::size_t>(kLinks - kLocked));
  check_verifies(heap);
}

TEST_CASE("incremental: a weak-key map's dying entries are noted in slices, the map read between them",
          "[gc][incremental][weak]") {
  // 4,000 keys die at once: their entries are logged 256 per unit after marking, and the map,
  // read between units, drops what has been logged so far. At the end it holds the live keys'
  // entries only.
  KeyMapHeap scene;
  Heap& heap = scene.heap;
  Strong<KeyMapHeap::Map>& map = scene.map;
  std::vector<Strong<Node>> live;
  std::vector<Weak<Node>> dying_values;
  for (int i = 0; i < 4100; ++i) {
    Strong<Node> key = heap.make<Node>(i);
    Strong<Node> value = heap.make<Node>(100000 + i);
    map->set(key, value);
    if (i % 41 == 0) live.push_back(key);
    else dying_values.emplace_back(value);
  }
  Stage stage = advance(heap);
  while (stage == Stage::marking) stage = advance(heap, 1);
  REQUIRE(stage == Stage::watches);
  std::size_t units = 0;
  std::size_t last_size = ~std::size_t{0};
  while (stage == Stage::watches) {
    stage = advance(heap, 1);
    ++units;
    const std::size_t size = map->size();
    CHECK(size <= last_size);
    last_size = size;
  }
  CHECK(units >= 4000 / 256);
  finish(heap);
  CHECK(map->size() == live.size());
  for (const auto& k : live) CHECK(map->get(k));
  heap.collect();
  for (const auto& v : dying_values) CHECK(v.expired());
  CHECK(map->size() == live.size());
}

TEST_CASE("incremental: collect() finishes the cycle in progress and then collects what died at the call",
          "[gc][incremental]") {
  Heap heap(incremental_options());
  Strong<Node> root = heap.make<Node>(0);
  advance(heap);  // a cycle in marking: root is shaded
  REQUIRE(heap.stats().cycle_running);
  Weak<Node> w = root;
  root = {};  // unreachable after the cycle began: that cycle may keep it, collect() may not
  const auto before = heap.stats().collections;
  heap.collect();
  CHECK(heap.stats().collections - before == 2);
  CHECK_FALSE(heap.stats().cycle_running);
  CHECK(w.expired());
  CHECK(heap.stats().live_objects == 0);
}

TEST_CASE("incremental: heap.step() runs a cycle in bounded steps and says whether it still runs",
          "[gc][incremental]") {
  HeapOptions o = incremental_options();
  o.min_trigger_bytes = 1 << 20;
  Heap heap(o);
  std::vector<Strong<Node>> keep;
  int made = 0;
  while (made < 200000 || !heap.stats().cycle_running) {
    REQUIRE(made < 2000000);
    Strong<Node> n = heap.make<Node>(made++);
    if (made % 4 == 0) keep.push_back(std::move(n));
  }
  const auto cycles_before = heap.stats().cycles;
  const auto pauses_before = heap.stats().pauses.count;
  std::size_t steps = 0;
  bool running = true;
  while (running && steps < 1000000) {
    running = heap.step(std::chrono::microseconds(100));
    ++steps;
  }
  CHECK_FALSE(running);
  CHECK_FALSE(heap.stats().cycle_running);
  CHECK(heap.stats().cycles == cycles_before + 1);
  CHECK(heap.stats().pauses.count - pauses_before == steps);
  CHECK(heap.step(std::chrono::microseconds(100)) == false);  // nothing due: no cycle starts
  heap.collect();
  CHECK(heap.stats().live_objects == keep.size());
}

namespace {

/// A graph with garbage that saved objects point to weakly. Returns weak handles to the garbage.
std::vector<Weak<snapheap_stest::SNode>> build_graph_with_garbage(Heap& heap) {
  using snapheap_stest::SGraph;
  using snapheap_stest::SNode;
  Strong<SGraph> g = heap.make<SGraph>();
  heap.set_root("graph", g);
  std::vector<Strong<SNode>> garbage;
  for (int i = 0; i < 2000; ++i) {
    Strong<SNode> n = heap.make<SNode>(i);
    if (i % 3 == 0) {
      garbage.push_back(n);  // dropped below: weak handles to it expire in the next cycle
    } else {
      if (!g->nodes.empty()) n->next = g->nodes.back();
      g->nodes.emplace_back(n);
    }
    g->watch.emplace_back(n);
    if (!garbage.empty()) n->peer = garbage.back();
  }
  return {garbage.begin(), garbage.end()};
}

}  // namespace

TEST_CASE("incremental: a snapshot saved at any point of a cycle equals one saved without a cycle",
          "[gc][incremental][snapshot]") {
  // Before the end of marking the garbage still reads alive, as it does before a stop-the-world
  // collection; from the end of marking on it reads dead, as after collect(). A save in the
  // middle of a cycle writes what a save of the same state writes with no cycle running.
  Heap heap(incremental_options());
  const auto garbage = build_graph_with_garbage(heap);
  snapheap::ByteBuffer before_collect;
  snapheap::save(heap, before_collect);
  snapheap::ByteBuffer after_collect;
  {
    Heap same;  // stop-the-world, the same graph, collected
    build_graph_with_garbage(same);
    same.collect();
    snapheap::save(same, after_collect);
  }
  std::size_t saves = 0;
  std::vector<Stage> seen;
  for (Stage stage = advance(heap); stage != Stage::none; stage = advance(heap, 512)) {
    if (seen.empty() || seen.back() != stage) seen.push_back(stage);
    const bool found_dead = garbage.front().expired();
    for (const auto& w : garbage) REQUIRE(w.expired() == found_dead);
    snapheap::ByteBuffer mid;
    snapheap::save(heap, mid);
    ++saves;
    INFO("stage " << static_cast<int>(stage) << ", garbage found dead: " << found_dead);
    REQUIRE(snapheap_stest::to_vector(mid) ==
            snapheap_stest::to_vector(found_dead ? after_collect : before_collect));
  }
  CHECK(saves > 4);
  CHECK(seen.size() >= 3);  // marking, census or sweeping, clearing
  heap.collect();
  snapheap::ByteBuffer after;
  snapheap::save(heap, after);
  CHECK(snapheap_stest::to_vector(after) == snapheap_stest::to_vector(after_collect));
}

TEST_CASE("incremental: loads in the middle of a cycle leave a heap that verify() accepts",
          "[gc][incremental][snapshot]") {
  using snapheap_stest::SGraph;
  using snapheap_stest::SNode;
  snapheap::ByteBuffer bytes;
  {
    Heap source;
    Strong<SGraph> g = source.make<SGraph>();
    source.set_root("loaded", g);
    for (int i = 0; i < 500; ++i) {
      Strong<SNode> n = source.make<SNode>(i);
      if (!g->nodes.empty()) n->next = g->nodes.back();
      g->nodes.emplace_back(n);
      g->watch.emplace_back(n);
    }
    snapheap::save(source, bytes);
  }
  Heap heap(incremental_options());
  std::vector<Strong<SNode>> ballast;
  for (int i = 0; i < 3000; ++i) ballast.push_back(heap.make<SNode>(i));
  for (std::size_t i = 0; i < ballast.size(); i += 2) ballast[i] = {};
  int loads = 0;
  for (Stage stage = advance(heap); stage != Stage::none; stage = advance(heap, 1024)) {
    snapheap::LoadOptions lo;
    lo.on_root_conflict = snapheap::RootConflict::replace;
    snapheap::load(heap, bytes, lo);
    ++loads;
    const auto v = heap.verify();
    INFO("stage " << static_cast<int>(stage) << ": " << v.problem);
    REQUIRE(v.ok);
  }
  CHECK(loads > 2);
  heap.collect();
  const Strong<SGraph> g = heap.root<SGraph>("loaded");
  REQUIRE(g);
  REQUIRE(g->nodes.size() == 500);
  for (std::size_t i = 0; i < g->nodes.size(); ++i) {
    CHECK(g->nodes[i]->value == static_cast<std::int64_t>(i));
    CHECK(g->watch[i].lock().get() == g->nodes[i].get());
  }
  CHECK(heap.stats().live_objects == 1 + 500 + ballast.size() / 2);
}

TEST_CASE("generational: a minor collection keeps young objects that only old ones point to",
          "[gc][generational][barrier]") {
  Heap heap(generational_options());
  Strong<Holder> old = heap.make<Holder>();
  heap.set_root("old", old);
  heap.collect();  // old is old now
  std::vector<Weak<Node>> young;
  for (int i = 0; i < 1000; ++i) {
    Strong<Node> n = heap.make<Node>(i);
    young.emplace_back(n);
    if (i % 2 == 0) old->list.push_back(n);  // an old-to-young edge, recorded by the barrier
  }
  std::vector<Weak<Node>> dropped;
  for (int i = 0; i < 1000; ++i) dropped.emplace_back(heap.make<Node>(i));
  const auto minors = heap.stats().minor_collections;
  snapheap::detail::minor_collection(impl(heap));
  CHECK(heap.stats().minor_collections == minors + 1);
  for (int i = 0; i < 1000; ++i) {
    INFO("young " << i);
    CHECK(young[static_cast<std::size_t>(i)].expired() == (i % 2 != 0));
  }
  for (const auto& w : dropped) CHECK(w.expired());
  // A young object stored into an old one after a minor collection that promoted the old one.
  Strong<Node> late = heap.make<Node>(7);
  const Weak<Node> late_weak = late;
  old->field = late;
  late = {};
  snapheap::detail::minor_collection(impl(heap));
  REQUIRE(late_weak.lock());
  CHECK(late_weak.lock()->value == 7);
  const auto v = heap.verify();
  INFO(v.problem);
  CHECK(v.ok);
  CHECK(heap.stats().live_objects == 1 + 500 + 1);
}

namespace {
struct ThrowsOnConstruction final : snapheap::Object {
  explicit ThrowsOnConstruction(int) { throw std::runtime_error("constructor fails"); }
  void trace(snapheap::Tracer&) const override {}
};
}  // namespace

TEST_CASE("generational: a slot given back by a throwing constructor and taken again dies once",
          "[gc][generational]") {
  snapheap_test::DestructionLog log(4);
  Heap heap(generational_options());
  heap.collect();
  CHECK_THROWS_AS(heap.make<ThrowsOnConstruction>(0), std::runtime_error);
  const Weak<Node> dropped = heap.make<Node>(1);  // takes the slot given back: logged again
  const Strong<Node> kept = heap.make<Node>(2);
  const auto& young = impl(heap).table.young();
  REQUIRE(young.size() == 3);
  CHECK(young[0] == young[1]);
  snapheap::detail::minor_collection(impl(heap));
  CHECK(dropped.expired());
  CHECK(log.count(1) == 1);
  CHECK(log.count(2) == 0);
  CHECK(heap.stats().last_freed_objects == 1);
  CHECK(heap.stats().live_objects == 1);
  const auto v = heap.verify();
  INFO(v.problem);
  CHECK(v.ok);
}

TEST_CASE("generational: a weak map given many young keys is traced once by a minor collection",
          "[gc][generational][weak]") {
  // A host filling an old WeakKeyMap from fresh objects: each set() remembers the map again after
  // the value's own barrier. The minor collection traces it once, not once per set() (which made
  // a minor collection with 20,000 sets take seconds). An old object that counts its traces
  // stands in for the map, remembered the way WeakKeyMap::set remembers it.
  struct Counted final : snapheap::Object {
    mutable int traces = 0;  // by marking (not the checks of debug builds and verify mode)
    void trace(snapheap::Tracer& t) const override { traces += t.marking() ? 1 : 0; }
  };
  Heap heap(generational_options());
  Strong<Counted> map = heap.make<Counted>();
  heap.set_root("map", map);
  Strong<Holder> holder = heap.make<Holder>();
  heap.set_root("holder", holder);
  heap.collect();  // both are old now
  std::vector<Strong<Node>> young;
  for (int i = 0; i < 500; ++i) {
    young.push_back(heap.make<Node>(i));
    const Strong<Node> value = heap.make<Node>(-i);
    holder->field = value;  // a barrier between the map's entries, as a value's is in set()
    snapheap::detail::note_key_set(map.get(), young.back().get(), value.get(), true);
  }
  const int before = map->traces;
  snapheap::detail::minor_collection(impl(heap));
  CHECK(map->traces - before == 1);
}

TEST_CASE("generational: a young object both rooted and remembered is traced once by a minor collection",
          "[gc][generational][weak]") {
  Heap heap(generational_options());
  Strong<Holder> old = heap.make<Holder>();
  heap.set_root("old", old);
  heap.collect();  // old is old now
  const Strong<Node> young = heap.make<Node>(1);
  young->peer = heap.make<Node>(2);  // dies in the minor collection: one weak edge expires
  old->field = young;                // remembered, and rooted by `young`
  snapheap::detail::minor_collection(impl(heap));
  CHECK(young->peer.expired());
  CHECK(heap.stats().last_weak_expired == 1);
  CHECK(heap.stats().last_freed_objects == 1);
}
