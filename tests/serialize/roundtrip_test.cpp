// Saving and loading: identity, sharing, cycles, weak handles as targets or tombstones
// (invariant 4), large graphs compared object by object, chains without recursion (invariant 3).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <random>
#include <sstream>
#include <unordered_map>

#include "serialize/snapshot_types.hpp"
#include "support/small_stack.hpp"
#include "support/temp_dir.hpp"

using namespace snapheap;
using snapheap_stest::SGraph;
using snapheap_stest::SNode;

namespace {

/// A snapshot-ID-free description of a graph reachable from a root: for each node in BFS order,
/// its value, the BFS index of its strong target (-1 if none) and of its weak target (-1 empty,
/// -2 expired). Two graphs are equal iff these agree: identity and sharing included.
struct Shape {
  std::vector<std::int64_t> values;
  std::vector<std::int64_t> next;
  std::vector<std::int64_t> peer;
  bool operator==(const Shape&) const = default;
};

Shape shape_of(const Strong<SNode>& root) {
  Shape s;
  std::unordered_map<const SNode*, std::int64_t> index;
  std::vector<const SNode*> order;
  auto visit = [&](const SNode* n) -> std::int64_t {
    if (!n) return -1;
    auto [it, fresh] = index.emplace(n, static_cast<std::int64_t>(order.size()));
    if (fresh) order.push_back(n);
    return it->second;
  };
  visit(root.get());
  for (std::size_t i = 0; i < order.size(); ++i) {
    const SNode* n = order[i];
    s.values.push_back(n->value);
    s.next.push_back(visit(n->next.get()));
    if (n->peer.empty()) {
      s.peer.push_back(-1);
    } else if (auto p = n->peer.lock()) {
      // A weak target is recorded by identity if it is in the strong closure, else by value.
      auto found = index.find(p.get());
      s.peer.push_back(found != index.end() ? found->second : 1000000000 + p->value);
    } else {
      s.peer.push_back(-2);
    }
  }
  return s;
}

Strong<SNode> round_trip(Heap& from, Heap& to, const SaveOptions& options = {}) {
  ByteBuffer bytes;
  save(from, bytes, options);
  load(to, bytes);
  return to.root<SNode>("root");
}

}  // namespace

TEST_CASE("a round trip keeps identity, sharing and cycles", "[serialize][valgrind]") {
  Heap heap;
  auto a = heap.make<SNode>(1);
  auto b = heap.make<SNode>(2);
  auto c = heap.make<SNode>(3);
  a->next = b;
  b->next = c;
  c->next = a;  // a strong cycle
  a->peer = c;  // weak edges inside the snapshot
  b->peer = b;  // a weak self-edge
  heap.set_root("root", a);
  heap.set_root("alias", b);  // two roots, shared object

  Heap restored;
  const Strong<SNode> ra = round_trip(heap, restored);
  REQUIRE(ra);
  CHECK(shape_of(ra) == shape_of(a));
  CHECK(ra->next->next->next.get() == ra.get());
  CHECK(ra->peer.lock().get() == ra->next->next.get());
  CHECK(restored.root<SNode>("alias").get() == ra->next.get());
  CHECK(ra->next->peer.lock().get() == ra->next.get());
  CHECK(restored.stats().live_objects == 3);
  CHECK(restored.verify().ok);
}

TEST_CASE("a snapshot holds exactly what its roots reach through strong edges", "[serialize][valgrind]") {
  Heap heap;
  auto kept = heap.make<SNode>(1);
  auto outside = heap.make<SNode>(2);  // reachable only weakly from `kept`
  auto other_root = heap.make<SNode>(3);
  kept->peer = outside;
  other_root->next = outside;
  heap.set_root("root", kept);
  heap.set_root("other", other_root);

  ByteBuffer bytes;
  SECTION("saving one root leaves weakly reached objects out, as tombstones") {
    const SnapshotStats s = save(heap, bytes, {.roots = {"root"}});
    CHECK(s.objects == 1);
    CHECK(s.weak_tombstones == 1);
    CHECK(s.weak_targets == 0);
    Heap restored;
    const SnapshotStats l = load(restored, bytes);
    CHECK(l.weak_tombstones == 1);
    auto r = restored.root<SNode>("root");
    CHECK(r->peer.expired());
    CHECK_FALSE(r->peer.empty());
    CHECK_FALSE(restored.has_root("other"));
    CHECK(restored.stats().live_objects == 1);
  }
  SECTION("saving both roots brings the weak target in, and the weak handle points at it") {
    const SnapshotStats s = save(heap, bytes);
    CHECK(s.objects == 3);
    CHECK(s.weak_targets == 1);
    CHECK(s.weak_tombstones == 0);
    Heap restored;
    load(restored, bytes);
    auto r = restored.root<SNode>("root");
    CHECK(r->peer.lock().get() == restored.root<SNode>("other")->next.get());
  }
  SECTION("an empty weak handle stays empty and a dead one becomes a tombstone") {
    auto dead = heap.make<SNode>(9);
    other_root->peer = dead;
    dead.reset();
    heap.collect();
    REQUIRE(other_root->peer.expired());
    const SnapshotStats s = save(heap, bytes);
    CHECK(s.weak_empty == 1);       // outside->peer
    CHECK(s.weak_targets == 1);     // kept->peer
    CHECK(s.weak_tombstones == 1);  // other->peer
    Heap restored;
    load(restored, bytes);
    auto o = restored.root<SNode>("other");
    CHECK(o->peer.expired());
    CHECK_FALSE(o->peer.empty());
    CHECK(o->next->peer.empty());
  }
}

TEST_CASE("a million-node chain is saved and loaded without recursion", "[serialize][big]") {
  constexpr std::int64_t kLength = 1000000;
  bool ok = false;
  std::string problem;
  snapheap_test::run_with_stack(snapheap_test::kSmallStackBytes, [&] {
    Heap heap;
    auto head = heap.make<SNode>(0);
    heap.set_root("root", head);
    Member<SNode> tail = head;
    for (std::int64_t i = 1; i < kLength; ++i) {
      auto n = heap.make<SNode>(i);
      n->peer = tail;  // weak edge back
      tail->next = n;
      tail = n;
    }
    ByteBuffer bytes;
    const SnapshotStats s = save(heap, bytes);
    if (s.objects != static_cast<std::size_t>(kLength)) problem = "saved " + std::to_string(s.objects);
    Heap restored;
    load(restored, bytes);
    std::int64_t i = 0;
    Member<SNode> prev;
    for (Member<SNode> n = restored.root<SNode>("root"); n; n = n->next, ++i) {
      if (n->value != i || (prev && n->peer.lock().get() != prev.get())) {
        problem = "node " + std::to_string(i) + " differs";
        break;
      }
      prev = n;
    }
    if (problem.empty() && i != kLength) problem = "chain has " + std::to_string(i) + " nodes";
    ok = problem.empty();
  });
  INFO(problem);
  CHECK(ok);
}

TEST_CASE("a million-object random graph round-trips object by object", "[serialize][big]") {
  constexpr std::size_t kNodes = 1000000;
  Heap heap;
  auto graph = heap.make<SGraph>();
  heap.set_root("graph", graph);
  std::mt19937_64 rng(42);
  graph->nodes.reserve(kNodes);
  for (std::size_t i = 0; i < kNodes; ++i) graph->nodes.emplace_back(heap.make<SNode>(static_cast<std::int64_t>(i)));
  for (std::size_t i = 0; i < kNodes; ++i) {
    graph->nodes[i]->next = graph->nodes[rng() % kNodes];
    if (rng() % 4 != 0) graph->nodes[i]->peer = graph->nodes[rng() % kNodes];
  }
  ByteBuffer bytes;
  const SnapshotStats saved = save(heap, bytes);
  CHECK(saved.objects == kNodes + 1);
  CHECK(static_cast<double>(bytes.size()) / kNodes < 16.0);

  Heap restored;
  load(restored, bytes);
  auto copy = restored.root<SGraph>("graph");
  REQUIRE(copy->nodes.size() == kNodes);
  std::unordered_map<const SNode*, std::size_t> index;  // restored node -> position
  index.reserve(kNodes);
  for (std::size_t i = 0; i < kNodes; ++i) index.emplace(copy->nodes[i].get(), i);
  std::unordered_map<const SNode*, std::size_t> original;
  original.reserve(kNodes);
  for (std::size_t i = 0; i < kNodes; ++i) original.emplace(graph->nodes[i].get(), i);
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < kNodes; ++i) {
    const SNode& a = *graph->nodes[i];
    const SNode& b = *copy->nodes[i];
    const bool same_next = index.at(b.next.get()) == original.at(a.next.get());
    const bool same_peer = a.peer.empty() ? b.peer.empty()
                                          : index.at(b.peer.lock().get()) == original.at(a.peer.lock().get());
    if (a.value != b.value || !same_next || !same_peer) ++mismatches;
  }
  CHECK(mismatches == 0);
  CHECK(restored.stats().live_objects == kNodes + 1);
}

TEST_CASE("a heap where half of the weak targets are dead saves them as tombstones", "[serialize]") {
  constexpr std::size_t kNodes = 20000;
  Heap heap;
  auto graph = heap.make<SGraph>();
  heap.set_root("graph", graph);
  std::vector<Strong<SNode>> targets;
  for (std::size_t i = 0; i < kNodes; ++i) {
    targets.push_back(heap.make<SNode>(static_cast<std::int64_t>(i)));
    graph->watch.emplace_back(targets.back());
  }
  // Keep the even targets alive through the graph; drop the odd ones.
  for (std::size_t i = 0; i < kNodes; i += 2) graph->nodes.emplace_back(targets[i]);
  targets.clear();
  heap.collect();
  CHECK(heap.stats().last_weak_expired == kNodes / 2);

  ByteBuffer bytes;
  const SnapshotStats s = save(heap, bytes);
  CHECK(s.weak_targets == kNodes / 2);
  CHECK(s.weak_tombstones == kNodes / 2);
  Heap restored;
  load(restored, bytes);
  auto copy = restored.root<SGraph>("graph");
  REQUIRE(copy->watch.size() == kNodes);
  std::size_t alive = 0;
  for (std::size_t i = 0; i < kNodes; ++i) {
    auto target = copy->watch[i].lock();
    if (i % 2 == 0) {
      REQUIRE(target);
      CHECK(target->value == static_cast<std::int64_t>(i));
      CHECK(target.get() == copy->nodes[i / 2].get());
      ++alive;
    } else {
      CHECK_FALSE(target);
      CHECK_FALSE(copy->watch[i].empty());
    }
  }
  CHECK(alive == kNodes / 2);
}

TEST_CASE("a snapshot loads beside the objects a heap already holds", "[serialize]") {
  Heap heap;
  auto a = heap.make<SNode>(7);
  heap.set_root("root", a);
  ByteBuffer bytes;
  save(heap, bytes);

  Heap target;
  auto mine = target.make<SNode>(100);
  target.set_root("mine", mine);
  load(target, bytes);
  CHECK(target.root<SNode>("mine")->value == 100);
  CHECK(target.root<SNode>("root")->value == 7);
  CHECK(target.stats().live_objects == 2);

  SECTION("a root name already in use is an error by default, and nothing changes") {
    const auto before = snapheap_stest::state_of(target);
    try {
      load(target, bytes);
      FAIL("load did not throw");
    } catch (const SnapshotError& e) {
      CHECK(e.code() == SnapshotErrc::root_conflict);
      CHECK(std::string(e.what()).find("'root'") != std::string::npos);
    }
    CHECK(snapheap_stest::state_of(target) == before);
  }
  SECTION("RootConflict::replace rebinds the name to the loaded object") {
    auto old_root = target.root<SNode>("root");
    load(target, bytes, {.on_root_conflict = RootConflict::replace});
    CHECK(target.root<SNode>("root").get() != old_root.get());
    old_root.reset();
    target.collect();
    CHECK(target.stats().live_objects == 2);
  }
}

TEST_CASE("loaded roots merge into the heap's registry in name order", "[serialize]") {
  const auto name = [](int i) {
    char text[16];
    std::snprintf(text, sizeof text, "s%d", i);
    return std::string(text);
  };
  Heap heap;
  for (int i = 0; i < 300; ++i) heap.set_root(name(1000 + 2 * i), heap.make<SNode>(i));
  ByteBuffer bytes;
  save(heap, bytes);

  Heap target;
  // Interleaved with the snapshot's names (odd numbers), and one shared name.
  for (int i = 0; i < 300; ++i) target.set_root(name(1001 + 2 * i), target.make<SNode>(-i));
  target.set_root(name(1010), target.make<SNode>(-1));
  load(target, bytes, {.on_root_conflict = RootConflict::replace});

  const std::vector<std::string> names = target.root_names();
  CHECK(names.size() == 600);
  CHECK(std::is_sorted(names.begin(), names.end()));
  for (int i = 0; i < 300; ++i) {
    CHECK(target.root<SNode>(name(1000 + 2 * i))->value == i);
    CHECK(target.root<SNode>(name(1001 + 2 * i))->value == -i);
  }
  target.collect();
  CHECK(target.stats().live_objects == 600);  // the replaced s1010 died
}

TEST_CASE("snapshots go through streams that cannot seek", "[serialize]") {
  // A streambuf with no seek support, on both sides.
  struct Pipe : std::streambuf {
    std::string data;
    std::size_t read = 0;
    int overflow(int c) override {
      if (c != EOF) data.push_back(static_cast<char>(c));
      return c;
    }
    std::streamsize xsputn(const char* s, std::streamsize n) override {
      data.append(s, static_cast<std::size_t>(n));
      return n;
    }
    int underflow() override {
      if (read == data.size()) return EOF;
      setg(data.data() + read, data.data() + read, data.data() + data.size());
      read = data.size();
      return static_cast<unsigned char>(*gptr());
    }
  } pipe;
  Heap heap;
  auto a = heap.make<SNode>(5);
  a->next = heap.make<SNode>(6);
  heap.set_root("root", a);
  std::ostream out(&pipe);
  save(heap, out);
  std::istream in(&pipe);
  Heap restored;
  load(restored, in);
  CHECK(restored.root<SNode>("root")->next->value == 6);

  SECTION("a failing output stream is a SnapshotError") {
    std::ostringstream broken;
    broken.setstate(std::ios::badbit);
    CHECK_THROWS_MATCHES(save(heap, broken), SnapshotError, snapheap_stest::HasCode(SnapshotErrc::io_error));
  }
}

TEST_CASE("a file is replaced atomically and no temporary file is left", "[serialize][valgrind]") {
  const snapheap_test::TempDir temp;
  const std::filesystem::path& dir = temp.path();
  const auto path = dir / "model.snap";
  Heap heap;
  auto a = heap.make<SNode>(1);
  heap.set_root("root", a);
  save(heap, path);
  a->value = 2;
  save(heap, path);  // over the old one
  Heap restored;
  load(restored, path);
  CHECK(restored.root<SNode>("root")->value == 2);
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    ++files;
    CHECK(entry.path().filename() == "model.snap");
  }
  CHECK(files == 1);
  CHECK_THROWS_MATCHES(load(restored, dir / "missing.snap"), SnapshotError,
                       snapheap_stest::HasCode(SnapshotErrc::io_error, "missing.snap"));
  CHECK_THROWS_MATCHES(save(heap, dir / "no-such-dir" / "x.snap"), SnapshotError,
                       snapheap_stest::HasCode(SnapshotErrc::io_error, "no-such-dir"));
}

TEST_CASE("saving does not change the heap and can run again", "[serialize]") {
  Heap heap;
  auto a = heap.make<SNode>(1);
  a->next = heap.make<SNode>(2);
  heap.set_root("root", a);
  ByteBuffer first, second;
  save(heap, first);
  save(heap, second);
  CHECK(snapheap_stest::to_vector(first) == snapheap_stest::to_vector(second));
  CHECK(heap.verify().ok);
  heap.collect();
  CHECK(heap.stats().live_objects == 2);
}
