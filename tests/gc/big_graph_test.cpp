// Invariant 1 at scale: a million-object chain and a million-object random graph of strong and
// weak edges, collected with exactly the survivors an independent reachability computation over
// the test's own adjacency arrays predicts (counts and identities). Tagged [big]: the stress run
// skips them.
#include <catch2/catch.hpp>
#include <snapheap/heap.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "support/nodes.hpp"

using snapheap::Heap;
using snapheap::Strong;
using snapheap::Weak;
using snapheap_test::DestructionLog;
using snapheap_test::GraphNode;
using snapheap_test::Node;

namespace {

constexpr std::int32_t kMillion = 1'000'000;
constexpr std::int32_t kNone = -1;

/// The test's own picture of the graph: edges by index.
struct Adjacency {
  std::vector<std::int32_t> left, right, weak;
  explicit Adjacency(std::size_t n) : left(n, kNone), right(n, kNone), weak(n, kNone) {}
};

/// Breadth-first search over the strong edges from `roots`, independent of the collector.
std::vector<bool> reachable(const Adjacency& g, const std::vector<std::int32_t>& roots) {
  std::vector<bool> seen(g.left.size(), false);
  std::vector<std::int32_t> queue;
  for (std::int32_t r : roots) {
    if (!seen[static_cast<std::size_t>(r)]) {
      seen[static_cast<std::size_t>(r)] = true;
      queue.push_back(r);
    }
  }
  for (std::size_t head = 0; head < queue.size(); ++head) {
    const auto i = static_cast<std::size_t>(queue[head]);
    for (std::int32_t next : {g.left[i], g.right[i]}) {
      if (next != kNone && !seen[static_cast<std::size_t>(next)]) {
        seen[static_cast<std::size_t>(next)] = true;
        queue.push_back(next);
      }
    }
  }
  return seen;
}

}  // namespace

TEST_CASE("a million-long chain survives whole, and dies from a cut on", "[gc][invariant1][big]") {
  DestructionLog log(kMillion);
  Heap heap;
  std::vector<Weak<Node>> weak(kMillion);
  {
    auto head = heap.make<Node>(0);
    heap.set_root("chain", head);
    weak[0] = head;
    Node* tail = head.get();  // reachable from the root, so automatic collections keep it
    for (std::int32_t i = 1; i < kMillion; ++i) {
      auto node = heap.make<Node>(i);
      weak[static_cast<std::size_t>(i)] = node;
      tail->next = node;
      tail = node.get();
    }
  }
  heap.collect();
  CHECK(heap.stats().live_objects == kMillion);
  CHECK(log.total() == 0);
  std::size_t wrong = 0;
  for (std::int32_t i = 0; i < kMillion; ++i) {
    const Strong<Node> n = weak[static_cast<std::size_t>(i)].lock();
    wrong += !n || n->value != i;
  }
  CHECK(wrong == 0);

  constexpr std::int32_t kCut = 600'000;
  weak[kCut].lock()->next = nullptr;
  heap.collect();
  CHECK(heap.stats().live_objects == kCut + 1);
  CHECK(heap.stats().last_freed_objects == kMillion - kCut - 1);
  wrong = 0;
  for (std::int32_t i = 0; i < kMillion; ++i) wrong += weak[static_cast<std::size_t>(i)].expired() != (i > kCut);
  CHECK(wrong == 0);
  CHECK(log.first_mismatch([](std::size_t id) { return id > kCut ? 1u : 0u; }) == "");
  CHECK(heap.verify().ok);

  heap.remove_root("chain");
  heap.collect();
  CHECK(heap.stats().live_objects == 0);
  CHECK(log.first_mismatch([](std::size_t) { return 1u; }) == "");
}

TEST_CASE("a million-object random graph keeps exactly what its roots reach through strong edges",
          "[gc][invariant1][invariant2][big]") {
  constexpr std::uint64_t kSeed = 0x5eed'1234'abcdULL;
  INFO("seed " << kSeed);
  std::mt19937_64 rng(kSeed);
  auto below = [&](std::uint64_t n) { return static_cast<std::int32_t>(rng() % n); };
  auto chance = [&](int percent) { return static_cast<int>(rng() % 100) < percent; };

  // Edges: a strong left edge with probability 80%, a strong right edge 70% (about 1.5 strong
  // edges per node: a giant component, and plenty outside it), a weak edge 60%.
  Adjacency g(kMillion);
  for (std::size_t i = 0; i < static_cast<std::size_t>(kMillion); ++i) {
    if (chance(80)) g.left[i] = below(kMillion);
    if (chance(70)) g.right[i] = below(kMillion);
    if (chance(60)) g.weak[i] = below(kMillion);
  }
  std::vector<std::int32_t> named_roots, held_roots;
  for (int r = 0; r < 5; ++r) named_roots.push_back(below(kMillion));
  for (int r = 0; r < 5; ++r) held_roots.push_back(below(kMillion));
  std::vector<std::int32_t> all_roots = named_roots;
  all_roots.insert(all_roots.end(), held_roots.begin(), held_roots.end());
  const std::vector<bool> alive = reachable(g, all_roots);
  std::size_t expected_live = 0;
  std::size_t expected_weak_expired = 0;
  for (std::size_t i = 0; i < alive.size(); ++i) {
    if (!alive[i]) continue;
    ++expected_live;
    if (g.weak[i] != kNone && !alive[static_cast<std::size_t>(g.weak[i])]) ++expected_weak_expired;
  }
  INFO("expected survivors " << expected_live);
  REQUIRE(expected_live > kMillion / 4);  // the graph is what the comment says
  REQUIRE(expected_live < kMillion * 3 / 4);

  DestructionLog log(kMillion);
  Heap heap;
  std::vector<Weak<GraphNode>> weak(kMillion);
  std::vector<Strong<GraphNode>> held;
  {
    std::vector<Strong<GraphNode>> all;  // every node rooted while the edges are laid
    all.reserve(kMillion);
    for (std::int32_t i = 0; i < kMillion; ++i) all.push_back(heap.make<GraphNode>(i));
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (g.left[i] != kNone) all[i]->left = all[static_cast<std::size_t>(g.left[i])];
      if (g.right[i] != kNone) all[i]->right = all[static_cast<std::size_t>(g.right[i])];
      if (g.weak[i] != kNone) all[i]->weak = all[static_cast<std::size_t>(g.weak[i])];
      weak[i] = all[i];
    }
    for (std::size_t r = 0; r < named_roots.size(); ++r)
      heap.set_root("root" + std::to_string(r), all[static_cast<std::size_t>(named_roots[r])]);
    for (std::int32_t r : held_roots) held.push_back(all[static_cast<std::size_t>(r)]);
    // Everything is rooted here: this finds nothing dead, and ends any incremental cycle the
    // build started, so that the collect() below is one whole collection in every mode.
    heap.collect();
  }
  CHECK(log.total() == 0);  // automatic collections during the build found nothing dead

  heap.collect();

  const auto stats = heap.stats();
  CHECK(stats.live_objects == expected_live);
  CHECK(stats.last_freed_objects == kMillion - expected_live);
  CHECK(stats.last_weak_expired == expected_weak_expired);
  // Identities: exactly the unreachable ones expired, each survivor is the node it was, its
  // strong edges lead where they did, and its weak edge expired iff its target is dead.
  std::size_t wrong_expiry = 0, wrong_identity = 0, wrong_edges = 0, wrong_weak = 0;
  for (std::size_t i = 0; i < alive.size(); ++i) {
    const Strong<GraphNode> n = weak[i].lock();
    wrong_expiry += static_cast<bool>(n) != alive[i];
    if (!n) continue;
    wrong_identity += n->value != static_cast<std::int64_t>(i);
    wrong_edges += (n->left ? n->left->value : kNone) != g.left[i];
    wrong_edges += (n->right ? n->right->value : kNone) != g.right[i];
    if (g.weak[i] != kNone) {
      const Strong<GraphNode> target = n->weak.lock();
      const bool target_alive = alive[static_cast<std::size_t>(g.weak[i])];
      wrong_weak += static_cast<bool>(target) != target_alive;
      if (target) wrong_weak += target->value != g.weak[i];
    } else {
      wrong_weak += !n->weak.empty();
    }
  }
  CHECK(wrong_expiry == 0);
  CHECK(wrong_identity == 0);
  CHECK(wrong_edges == 0);
  CHECK(wrong_weak == 0);
  CHECK(log.first_mismatch([&](std::size_t id) { return alive[id] ? 0u : 1u; }) == "");
  CHECK(heap.verify().ok);

  // Drop every root: everything dies, each destructor having run exactly once in all.
  for (std::size_t r = 0; r < named_roots.size(); ++r) heap.remove_root("root" + std::to_string(r));
  held.clear();
  heap.collect();
  CHECK(heap.stats().live_objects == 0);
  CHECK(heap.stats().last_freed_objects == expected_live);
  CHECK(log.first_mismatch([](std::size_t) { return 1u; }) == "");
  std::size_t not_expired = 0;
  for (const auto& w : weak) not_expired += !w.expired();
  CHECK(not_expired == 0);
}
