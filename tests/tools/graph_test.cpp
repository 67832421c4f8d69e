// The inspection library (snapheap/inspect.hpp: SnapshotGraph, dominators, shortest_path,
// export_devtools, Heap::retainer_path) against independent computations, and the graph
// commands of the `snapheap` tool (export, top, why, diff, dot, html) run as a subprocess.
#include <catch2/catch.hpp>

#include <snapheap/inspect.hpp>
#include <snapheap/snapheap.hpp>

#include <algorithm>
#include <deque>
#include <random>
#include <sstream>

#include "seed/seed_model.hpp"
#include "serialize/snapshot_types.hpp"
#include "tool_support.hpp"
#include "tools/graphgen/random_graph.hpp"

using namespace tool_test;
using snapheap::Dominators;
using snapheap::SnapshotGraph;
using snapheap_graphgen::GNode;

namespace {

constexpr std::uint32_t kNone = SnapshotGraph::kNone;

SnapshotGraph graph_of(snapheap::Heap& heap, const snapheap::SaveOptions& options = {}) {
  snapheap::ByteBuffer bytes;
  snapheap::save(heap, bytes, options);
  return SnapshotGraph::read(std::move(bytes));
}

SnapshotGraph random_graph(const snapheap_graphgen::Options& options) {
  snapheap::Heap heap;
  const auto outsiders = snapheap_graphgen::build(heap, options);
  return graph_of(heap);
}

/// Strong successors, straight from for_each_ref (not for_each_strong, which the code under test uses).
std::vector<std::vector<std::uint32_t>> successors(const SnapshotGraph& g) {
  std::vector<std::vector<std::uint32_t>> succ(g.objects());
  for (std::uint32_t v = 0; v < g.objects(); ++v)
    g.for_each_ref(v, [&](const SnapshotGraph::Ref& r) {
      if (r.kind == SnapshotGraph::RefKind::strong) succ[v].push_back(r.target);
    });
  return succ;
}

/// Dominator sets by the textbook fixpoint (Dom(n) = {n} + the intersection of Dom(p) over the
/// predecessors p), O(N^2) per pass: the synthetic root is node N.
struct QuadraticDominators {
  std::vector<std::uint32_t> idom;      // kNone unreachable, Dominators::kRoots for the root
  std::vector<std::uint64_t> retained;
};
QuadraticDominators quadratic_dominators(const SnapshotGraph& g) {
  const std::uint32_t n = g.objects();
  const auto succ = successors(g);
  std::vector<std::vector<std::uint32_t>> pred(n + 1);
  for (std::uint32_t v = 0; v < n; ++v)
    for (std::uint32_t w : succ[v]) pred[w].push_back(v);
  for (const auto& r : g.roots()) pred[r.id].push_back(n);
  // Reachability.
  std::vector<bool> reach(n + 1, false);
  std::deque<std::uint32_t> queue{n};
  reach[n] = true;
  while (!queue.empty()) {
    const std::uint32_t v = queue.front();
    queue.pop_front();
    std::vector<std::uint32_t> next;
    if (v == n) for (const auto& r : g.roots()) next.push_back(r.id);
    else next = succ[v];
    for (std::uint32_t w : next)
      if (!reach[w]) reach[w] = true, queue.push_back(w);
  }
  std::vector<std::vector<bool>> dom(n + 1, std::vector<bool>(n + 1, true));
  dom[n].assign(n + 1, false);
  dom[n][n] = true;
  for (bool changed = true; changed;) {
    changed = false;
    for (std::uint32_t v = 0; v < n; ++v) {
      if (!reach[v]) continue;
      std::vector<bool> next(n + 1, true);
      for (std::uint32_t p : pred[v])
        if (reach[p])
          for (std::uint32_t k = 0; k <= n; ++k) next[k] = next[k] && dom[p][k];
      next[v] = true;
      if (next != dom[v]) dom[v] = next, changed = true;
    }
  }
  QuadraticDominators out{std::vector<std::uint32_t>(n, kNone), std::vector<std::uint64_t>(n, 0)};
  for (std::uint32_t v = 0; v < n; ++v) {
    if (!reach[v]) continue;
    // The immediate dominator: the strict dominator with the most dominators of its own.
    std::size_t best_size = 0;
    std::uint32_t best = n;
    for (std::uint32_t d = 0; d <= n; ++d) {
      if (d == v || !dom[v][d]) continue;
      const auto size = static_cast<std::size_t>(std::count(dom[d].begin(), dom[d].end(), true));
      if (size > best_size) best_size = size, best = d;
    }
    out.idom[v] = best == n ? Dominators::kRoots : best;
    for (std::uint32_t m = 0; m < n; ++m)
      if (reach[m] && dom[m][v]) out.retained[v] += g.self_bytes(m);
  }
  return out;
}

/// Breadth-first distances (in references) from the roots' objects.
std::vector<std::uint32_t> bfs_distances(const SnapshotGraph& g) {
  const auto succ = successors(g);
  std::vector<std::uint32_t> dist(g.objects(), kNone);
  std::deque<std::uint32_t> queue;
  for (const auto& r : g.roots())
    if (dist[r.id] == kNone) dist[r.id] = 0, queue.push_back(r.id);
  while (!queue.empty()) {
    const std::uint32_t v = queue.front();
    queue.pop_front();
    for (std::uint32_t w : succ[v])
      if (dist[w] == kNone) dist[w] = dist[v] + 1, queue.push_back(w);
  }
  return dist;
}

}  // namespace

// ---- the library ----------------------------------------------------------------------------------

TEST_CASE("SnapshotGraph reads every reference of a file as inspect() counts them", "[inspect][graph]") {
  for (const std::uint64_t seed : {1u, 2u, 3u}) {
    snapheap::Heap heap;
    const auto outsiders = snapheap_graphgen::build(heap, {.objects = 500, .seed = seed});
    snapheap::ByteBuffer bytes;
    snapheap::save(heap, bytes);
    const snapheap::SnapshotInfo info = snapheap::inspect(bytes.view());
    const SnapshotGraph g = SnapshotGraph::read(std::move(bytes));
    REQUIRE(g.objects() == info.objects);
    CHECK(g.counts().strong_refs == info.strong_refs);
    CHECK(g.counts().weak_targets == info.weak_targets);
    CHECK(g.counts().weak_tombstones == info.weak_tombstones);
    CHECK(info.weak_tombstones > 0);  // the outsiders were left out
    CHECK(g.counts().weak_empty == info.weak_empty);
    std::uint64_t self = 0;
    std::vector<std::size_t> per_type(g.types().size(), 0);
    for (std::uint32_t id = 0; id < g.objects(); ++id) self += g.self_bytes(id), ++per_type[g.type_of(id)];
    CHECK(self == info.record_bytes);
    for (std::size_t t = 0; t < per_type.size(); ++t) CHECK(per_type[t] == info.types[t].objects);
    REQUIRE(g.roots().size() == info.roots.size());
    for (std::size_t r = 0; r < g.roots().size(); ++r) {
      CHECK(g.roots()[r].name == info.roots[r].name);
      CHECK(g.roots()[r].id == info.roots[r].id);
    }
  }
}

TEST_CASE("dominators agree with a quadratic fixpoint computation on random graphs", "[inspect][graph]") {
  std::mt19937_64 rng(77);
  for (int round = 0; round < 40; ++round) {
    const auto objects = static_cast<std::uint32_t>(2 + rng() % 120);
    const SnapshotGraph g = random_graph({.objects = objects, .seed = rng(), .extra_edges = (rng() % 4) * 0.5,
                                          .weak_edges = 0.5, .extra_roots = static_cast<std::uint32_t>(rng() % 4)});
    const Dominators fast = snapheap::dominators(g);
    const QuadraticDominators slow = quadratic_dominators(g);
    INFO("round " << round << ", " << objects << " objects");
    CHECK(fast.idom == slow.idom);
    CHECK(fast.retained == slow.retained);
    CHECK(fast.reachable == g.objects());  // a snapshot holds exactly what its roots reach
  }
}

TEST_CASE("dominators: a diamond, a chain and shared payloads", "[inspect][graph]") {
  // root -> a -> {b, c} -> d: d's dominator is a, and a retains everything.
  snapheap::Heap heap;
  auto a = heap.make<GNode>(), b = heap.make<GNode>(), c = heap.make<GNode>(), d = heap.make<GNode>();
  a->out = {snapheap::Member<GNode>(b), snapheap::Member<GNode>(c)};
  b->out = {snapheap::Member<GNode>(d)};
  c->out = {snapheap::Member<GNode>(d)};
  d->values.assign(1000, 7);
  heap.set_root("root", a);
  SnapshotGraph g = graph_of(heap);
  Dominators dom = snapheap::dominators(g);
  // IDs: breadth first a=0, b=1, c=2, d=3.
  CHECK(dom.idom == std::vector<std::uint32_t>{Dominators::kRoots, 0, 0, 0});
  CHECK(dom.retained[0] == g.self_bytes(0) + g.self_bytes(1) + g.self_bytes(2) + g.self_bytes(3));
  CHECK(dom.retained[1] == g.self_bytes(1));
  // A second root holding d: d is dominated by the roots only. (The IDs change: the save's walk
  // starts from both roots, so a=0, d=1, b=2, c=3.)
  heap.set_root("second", d);
  g = graph_of(heap);
  dom = snapheap::dominators(g);
  REQUIRE(g.roots()[1].name == "second");
  const std::uint32_t id_d = g.roots()[1].id, id_a = g.roots()[0].id;
  CHECK(dom.idom[id_d] == Dominators::kRoots);
  std::uint64_t all = 0;
  for (std::uint32_t id = 0; id < g.objects(); ++id) all += g.self_bytes(id);
  CHECK(dom.retained[id_a] == all - g.self_bytes(id_d));
  CHECK(dom.retained[id_d] == g.self_bytes(id_d));
}

TEST_CASE("dominators and shortest paths work on a million-long chain without recursion", "[inspect][graph][big]") {
  snapheap::Heap heap;
  std::vector<snapheap::Strong<GNode>> nodes;
  constexpr std::uint32_t kLength = 1'000'000;
  nodes.push_back(heap.make<GNode>());
  for (std::uint32_t i = 1; i < kLength; ++i) {
    nodes.push_back(heap.make<GNode>());
    nodes[i - 1]->out.emplace_back(nodes[i]);
  }
  heap.set_root("head", nodes[0]);
  const SnapshotGraph g = graph_of(heap);
  const Dominators dom = snapheap::dominators(g);
  CHECK(dom.idom[kLength - 1] == kLength - 2);
  CHECK(dom.retained[0] == [&] {
    std::uint64_t total = 0;
    for (std::uint32_t i = 0; i < kLength; ++i) total += g.self_bytes(i);
    return total;
  }());
  CHECK(snapheap::shortest_path(g, kLength - 1).steps.size() == kLength);
}

TEST_CASE("shortest_path is a shortest strong path (breadth first) on random graphs", "[inspect][graph]") {
  std::mt19937_64 rng(5);
  for (int round = 0; round < 10; ++round) {
    const SnapshotGraph g = random_graph({.objects = 2000, .seed = rng(), .extra_edges = 0.7});
    const auto dist = bfs_distances(g);
    for (int probe = 0; probe < 100; ++probe) {
      const auto target = static_cast<std::uint32_t>(rng() % g.objects());
      const snapheap::RetainerPath path = snapheap::shortest_path(g, target);
      REQUIRE(dist[target] != kNone);
      REQUIRE(path.steps.size() == dist[target] + 1);
      CHECK(path.steps.back().id == target);
      // It starts at a root's object, under that root's name, and each step is a strong reference at its position.
      const auto root = std::find_if(g.roots().begin(), g.roots().end(),
                                     [&](const auto& r) { return r.name == path.root; });
      REQUIRE(root != g.roots().end());
      CHECK(root->id == path.steps.front().id);
      CHECK(path.steps.front().position == kNone);
      for (std::size_t i = 1; i < path.steps.size(); ++i) {
        bool found = false;
        g.for_each_ref(path.steps[i - 1].id, [&](const SnapshotGraph::Ref& r) {
          found = found || (r.position == path.steps[i].position && r.kind == SnapshotGraph::RefKind::strong &&
                            r.target == path.steps[i].id);
        });
        CHECK(found);
      }
    }
    CHECK(snapheap::shortest_path(g, g.objects()).steps.empty());  // not an object
  }
}

TEST_CASE("weak_holders and tombstones list every weak handle by holder and position", "[inspect][graph]") {
  snapheap::Heap heap;
  seed::build(heap, seed::Scenario::weak_ref, 100);
  SnapshotGraph all = graph_of(heap);
  const auto payload = all.roots()[0].id;  // "large_data"
  REQUIRE(all.type_name(payload) == "seed::Payload");
  const auto holders = snapheap::weak_holders(all, payload);
  REQUIRE(holders.size() == 1);
  CHECK(all.type_name(holders[0].holder) == "seed::WeakRefLayer");
  CHECK(holders[0].position == 0);
  CHECK(snapheap::tombstones(all).empty());
  const SnapshotGraph model = graph_of(heap, {.roots = {"model"}});
  const auto cut = snapheap::tombstones(model);
  REQUIRE(cut.size() == 1);
  CHECK(model.type_name(cut[0].holder) == "seed::WeakRefLayer");
}

namespace {

/// The numbers of one top-level array of an export ("nodes", "edges"), by literal search as
/// memlab does.
std::vector<std::uint64_t> json_numbers(const std::string& text, const std::string& field) {
  const std::size_t at = text.find("\"" + field + "\":[");
  REQUIRE(at != std::string::npos);
  std::vector<std::uint64_t> out;
  std::uint64_t v = 0;
  bool in_number = false;
  for (std::size_t i = at + field.size() + 4; i < text.size() && text[i] != ']'; ++i) {
    if (text[i] >= '0' && text[i] <= '9') v = v * 10 + static_cast<std::uint64_t>(text[i] - '0'), in_number = true;
    else if (text[i] == ',' || text[i] == '\n') {
      if (in_number) out.push_back(v);
      v = 0;
      in_number = false;
    } else FAIL("unexpected character in " << field << ": " << text[i]);
  }
  if (in_number) out.push_back(v);
  return out;
}

}  // namespace

TEST_CASE("the DevTools export has V8's layout and the graph's nodes and edges", "[inspect][devtools]") {
  snapheap::Heap heap;
  const auto outsiders = snapheap_graphgen::build(heap, {.objects = 300, .seed = 9});
  const SnapshotGraph g = graph_of(heap);
  std::ostringstream out;
  snapheap::export_devtools(g, out);
  const std::string text = out.str();
  CHECK(JsonChecker(text).valid());
  CHECK_THAT(text, Catch::Matchers::StartsWith(
                       R"({"snapshot":{"meta":{"node_fields":["type","name","id","self_size","edge_count","trace_node_id","detachedness"],)"));
  // The sections in V8's order, each array opening right after its key, strings last.
  std::size_t last = 0;
  for (const char* key : {"\"snapshot\":", "\n\"nodes\":[", "\n\"edges\":[", "\n\"trace_function_infos\":[",
                          "\n\"trace_tree\":[", "\n\"samples\":[", "\n\"locations\":[", "\n\"strings\":["}) {
    const std::size_t at = text.find(key);
    INFO(key);
    REQUIRE(at != std::string::npos);
    CHECK(at >= last);
    last = at;
  }
  CHECK_THAT(text, Catch::Matchers::EndsWith("]}"));
  const std::uint64_t nodes = g.objects() + 3;
  const std::uint64_t edges =
      2 + g.roots().size() + g.counts().strong_refs + g.counts().weak_targets + g.counts().weak_tombstones;
  CHECK_THAT(text, Catch::Matchers::Contains("\"node_count\":" + std::to_string(nodes) + ",\"edge_count\":" +
                                             std::to_string(edges) + ",\"trace_function_count\":0}"));
  const auto node_values = json_numbers(text, "nodes");
  const auto edge_values = json_numbers(text, "edges");
  REQUIRE(node_values.size() == 7 * nodes);
  REQUIRE(edge_values.size() == 3 * edges);
  // Edge counts add up, every to_node is a node's offset, and weak edges are the weak handles.
  std::uint64_t edge_total = 0, weak = 0;
  for (std::size_t n = 0; n < nodes; ++n) edge_total += node_values[7 * n + 4];
  CHECK(edge_total == edges);
  for (std::size_t e = 0; e < edges; ++e) {
    CHECK(edge_values[3 * e + 2] % 7 == 0);
    CHECK(edge_values[3 * e + 2] / 7 < nodes);
    weak += edge_values[3 * e] == 6;
  }
  CHECK(weak == g.counts().weak_targets + g.counts().weak_tombstones);
  // Object nodes: type "object" (3), id 7 + 2 x ID, self size = record bytes.
  for (std::uint32_t id = 0; id < g.objects(); ++id) {
    CHECK(node_values[7 * (3 + id)] == 3);
    CHECK(node_values[7 * (3 + id) + 2] == 7 + 2 * std::uint64_t{id});
    CHECK(node_values[7 * (3 + id) + 3] == g.self_bytes(id));
  }
}

TEST_CASE("the DevTools export escapes names as V8 does", "[inspect][devtools]") {
  snapheap_stest::RawSnapshot raw;
  raw.types = {{"a\"b\\c\x01\xc3\xa9\xf0\x9f\x98\x80\xff", 0}};
  raw.objects = 1;
  raw.runs = {{0, 1}};
  raw.records = {snapheap_stest::RawRecord{}};
  raw.roots = {{"r\n", 0}};
  const auto bytes = snapheap_stest::build(raw);
  snapheap::ByteBuffer buffer;
  buffer.append(bytes.data(), bytes.size());
  std::ostringstream out;
  snapheap::export_devtools(SnapshotGraph::read(std::move(buffer)), out);
  CHECK_THAT(out.str(), Catch::Matchers::Contains(R"("a\"b\\c\u0001\u00E9\uD83D\uDE00?")"));
  CHECK_THAT(out.str(), Catch::Matchers::Contains(R"("r\n")"));
  CHECK(JsonChecker(out.str()).valid());
}

namespace {

struct Pair final : snapheap::Object {
  snapheap::Member<snapheap::Object> next;
  snapheap::Weak<snapheap::Object> peer;
  void trace(snapheap::Tracer& t) const override {
    t.trace(next);
    t.trace(peer);
  }
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & next & peer;
  }
};

}  // namespace

SNAPHEAP_REGISTER_AS(Pair, "graph_test.Pair");

TEST_CASE("a live heap's graph: named roots, Strong handles, the collector's reachability", "[inspect][live]") {
  snapheap::Heap heap;
  auto named = heap.make<Pair>();
  auto held = heap.make<Pair>();     // only a Strong handle holds it
  auto garbage = heap.make<Pair>();  // nothing will
  auto child = heap.make<Pair>();
  named->next = child;
  named->peer = garbage;   // to garbage: a tombstone
  child->peer = held;      // to a Strong-held object: a weak edge
  heap.set_root("named", named);
  named = {};  // only the named root holds it now
  child = {};
  garbage = {};
  const SnapshotGraph g = SnapshotGraph::of_heap(heap);
  CHECK(g.live());
  REQUIRE(g.objects() == 3);  // named, held, child; not the garbage
  REQUIRE(g.roots().size() == 2);
  CHECK(g.roots()[0].name == "named");
  CHECK(g.roots()[1].name == "(strong handle)");
  CHECK(g.counts().strong_refs == 1);
  CHECK(g.counts().weak_targets == 1);
  CHECK(g.counts().weak_tombstones == 1);
  CHECK(g.type_name(0) == "graph_test.Pair");
  CHECK(g.self_bytes(0) >= sizeof(Pair));
  const Dominators dom = snapheap::dominators(g);
  CHECK(dom.reachable == 3);
  std::ostringstream from_heap, from_graph;
  snapheap::export_devtools(heap, from_heap);
  snapheap::export_devtools(g, from_graph);
  CHECK(from_heap.str() == from_graph.str());
  CHECK_THAT(from_heap.str(), Catch::Matchers::Contains("\"node_count\":6,\"edge_count\":7,"));
}

TEST_CASE("Heap::retainer_path gives the chain from a root, not counting the handle asked about", "[inspect][live]") {
  snapheap::Heap heap;
  auto a = heap.make<Pair>(), b = heap.make<Pair>(), c = heap.make<Pair>();
  a->next = b;
  b->next = c;
  heap.set_root("a", a);
  const snapheap::Strong<Pair> target = c;
  a = {};
  b = {};
  c = {};
  std::vector<snapheap::Strong<snapheap::Object>> path = heap.retainer_path(target);
  REQUIRE(path.size() == 3);
  CHECK(path[0] == heap.root("a"));
  CHECK(path[2] == target);
  // Through a weak handle: `target` (a Strong handle) is a root, so it holds its object itself.
  const snapheap::Weak<Pair> weak = target;
  CHECK(heap.retainer_path(weak).size() == 1);
  // b, reachable only from root "a": [a, b], whatever the weak handle's own lock holds. (The
  // handles a retainer path returns are Strong handles, roots themselves: drop them first.)
  const snapheap::Weak<snapheap::Object> to_b = static_cast<Pair*>(path[0].get())->next;
  Pair* const b_object = static_cast<Pair*>(path[1].get());
  path.clear();
  const auto to_b_path = heap.retainer_path(to_b);
  REQUIRE(to_b_path.size() == 2);
  CHECK(to_b_path[1].get() == b_object);
  b_object->next = nullptr;
  CHECK(heap.retainer_path(target).empty());  // only `target` itself holds it now
  const snapheap::Strong<Pair> another = target;  // a second handle is a root
  path = heap.retainer_path(target);
  REQUIRE(path.size() == 1);
  CHECK(path[0] == target);
  CHECK(heap.retainer_path(snapheap::Strong<Pair>()).empty());
}

TEST_CASE("Heap::retainer_path takes the Member a host holds inside an object", "[inspect][live]") {
  snapheap::Heap heap;
  snapheap::Strong<Pair> x = heap.make<Pair>();
  x->next = heap.make<Pair>();
  Pair* const y = static_cast<Pair*>(x->next.get());
  y->next = heap.make<Pair>();
  heap.set_root("x", x);
  x = {};
  const auto path = heap.retainer_path(y->next);  // no host handle to the target: [x, y, z]
  REQUIRE(path.size() == 3);
  CHECK(path[0] == heap.root("x"));
  CHECK(path[1].get() == y);
  CHECK(path[2].get() == y->next.get());
  CHECK(heap.retainer_path(snapheap::Member<Pair>()).empty());
}

TEST_CASE("hostile bytes: the graph refuses them with SnapshotError or describes them consistently", "[inspect][graph]") {
  snapheap::Heap heap;
  const auto outsiders = snapheap_graphgen::build(heap, {.objects = 40, .seed = 3});
  snapheap::ByteBuffer saved;
  snapheap::save(heap, saved);
  const auto original = snapheap_stest::to_vector(saved);
  const auto exercise = [](const std::vector<std::byte>& bytes) {
    snapheap::ByteBuffer buffer;
    buffer.append(bytes.data(), bytes.size());
    try {
      const SnapshotGraph g = SnapshotGraph::read(std::move(buffer));
      const Dominators dom = snapheap::dominators(g);
      CHECK(dom.reachable <= g.objects());
      for (std::uint32_t id = 0; id < g.objects(); ++id) snapheap::shortest_path(g, id);
      std::ostringstream out;
      snapheap::export_devtools(g, out);
      CHECK(JsonChecker(out.str()).valid());
    } catch (const snapheap::SnapshotError&) {
    }
  };
  for (std::size_t cut = 0; cut < original.size(); ++cut) {
    snapheap::ByteBuffer buffer;
    buffer.append(original.data(), cut);
    CHECK_THROWS_AS(SnapshotGraph::read(std::move(buffer)), snapheap::SnapshotError);
  }
  for (std::size_t at = 0; at + 24 < original.size(); ++at)
    for (const unsigned mask : {0x01u, 0x80u, 0xffu}) {
      auto flipped = original;
      flipped[at] ^= static_cast<std::byte>(mask);
      exercise(snapheap_stest::reseal(std::move(flipped)));
    }
}
