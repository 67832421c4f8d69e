// What the tool asks of a graph: dominators and retained bytes (Lengauer-Tarjan), the shortest
// strong path from a root (breadth first), and the weak handles and tombstones pointing at an
// object. Everything is iterative: nothing here is proportional to graph depth on the C++ stack.
#include <algorithm>
#include <limits>

#include "snapheap/inspect.hpp"

namespace snapheap {

namespace {

constexpr std::uint32_t kNone = SnapshotGraph::kNone;

}  // namespace

// Lengauer and Tarjan's algorithm ("A fast algorithm for finding dominators in a flowgraph",
// 1979) with simple path compression (O(E log N)), over DFS numbers: 1 is the synthetic root
// (its successors are the roots' objects, in name order), 2..n the objects it reaches through
// strong references, 0 "none". The arrays are 32-bit and freed as soon as they are done with.
Dominators dominators(const SnapshotGraph& graph) {
  const std::uint32_t objects = graph.objects();
  Dominators result;
  if (objects == 0 || graph.roots().empty()) {
    result.idom.assign(objects, kNone);
    result.retained.assign(objects, 0);
    result.retained_objects.assign(objects, 0);
    return result;
  }

  // ---- the depth-first search: dfnum (by ID), vertex and parent (by DFS number) ----
  std::vector<std::uint32_t> dfnum(objects, 0);
  std::vector<std::uint32_t> vertex{0, kNone};  // vertex[1]: the synthetic root
  std::vector<std::uint32_t> parent{0, 0};
  vertex.reserve(std::size_t{objects} + 2);
  parent.reserve(std::size_t{objects} + 2);
  {
    // Collects an object's strong targets in record order, into a per-frame slice of `pending`.
    std::vector<std::uint32_t> pending;  // the targets still to try, of every open frame
    std::vector<std::pair<std::uint32_t, std::size_t>> frames;  // (DFS number, pending size at entry)
    const auto discover = [&](std::uint32_t id, std::uint32_t from) {
      const auto n = static_cast<std::uint32_t>(vertex.size());
      dfnum[id] = n;
      vertex.push_back(id);
      parent.push_back(from);
      frames.emplace_back(n, pending.size());
      // Pushed in reverse so that they are tried in record order.
      const std::size_t mark = pending.size();
      graph.for_each_strong(id, [&](std::uint32_t target, std::uint32_t) { pending.push_back(target); });
      std::reverse(pending.begin() + static_cast<std::ptrdiff_t>(mark), pending.end());
    };
    for (const auto& root : graph.roots()) {
      if (dfnum[root.id] != 0) continue;
      discover(root.id, 1);
      while (!frames.empty()) {
        auto& [v, base] = frames.back();
        if (pending.size() == base) {
          frames.pop_back();
          continue;
        }
        const std::uint32_t w = pending.back();
        pending.pop_back();
        if (dfnum[w] == 0) discover(w, v);
      }
    }
  }
  const auto n = static_cast<std::uint32_t>(vertex.size() - 1);  // DFS numbers 1..n
  result.reachable = n - 1;

  // ---- predecessors by DFS number (every edge between reached nodes, and root -> root object) ----
  std::vector<std::uint32_t> pred_first(std::size_t{n} + 2, 0);
  for (const auto& root : graph.roots()) ++pred_first[dfnum[root.id] + 1];
  for (std::uint32_t v = 2; v <= n; ++v)
    graph.for_each_strong(vertex[v], [&](std::uint32_t target, std::uint32_t) { ++pred_first[dfnum[target] + 1]; });
  for (std::size_t i = 1; i < pred_first.size(); ++i) pred_first[i] += pred_first[i - 1];
  std::vector<std::uint32_t> preds(pred_first[n + 1]);
  {
    std::vector<std::uint32_t> fill(pred_first.begin(), pred_first.end() - 1);
    for (const auto& root : graph.roots()) preds[fill[dfnum[root.id]]++] = 1;
    for (std::uint32_t v = 2; v <= n; ++v)
      graph.for_each_strong(vertex[v], [&](std::uint32_t target, std::uint32_t) { preds[fill[dfnum[target]]++] = v; });
  }
  std::vector<std::uint32_t>().swap(dfnum);

  // ---- semidominators, then immediate dominators ----
  std::vector<std::uint32_t> semi(std::size_t{n} + 1), label(std::size_t{n} + 1), ancestor(std::size_t{n} + 1, 0);
  // dom[v] doubles as v's link in its bucket until v leaves the bucket (once) and gets its dominator.
  std::vector<std::uint32_t> dom(std::size_t{n} + 1, 0), bucket(std::size_t{n} + 1, 0);
  for (std::uint32_t v = 1; v <= n; ++v) semi[v] = label[v] = v;
  std::vector<std::uint32_t> chain;
  const auto eval = [&](std::uint32_t v) {
    if (ancestor[v] == 0) return v;
    // Compress the path v -> ... below the forest root, iteratively.
    std::uint32_t x = v;
    while (ancestor[ancestor[x]] != 0) {
      chain.push_back(x);
      x = ancestor[x];
    }
    while (!chain.empty()) {
      const std::uint32_t y = chain.back();
      chain.pop_back();
      if (semi[label[ancestor[y]]] < semi[label[y]]) label[y] = label[ancestor[y]];
      ancestor[y] = ancestor[ancestor[y]];
    }
    return label[v];
  };
  for (std::uint32_t w = n; w >= 2; --w) {
    for (std::uint32_t e = pred_first[w]; e < pred_first[w + 1]; ++e) {
      const std::uint32_t u = eval(preds[e]);
      if (semi[u] < semi[w]) semi[w] = semi[u];
    }
    dom[w] = bucket[semi[w]];
    bucket[semi[w]] = w;
    const std::uint32_t p = parent[w];
    ancestor[w] = p;
    for (std::uint32_t v = bucket[p]; v != 0;) {
      const std::uint32_t next = dom[v];
      const std::uint32_t u = eval(v);
      dom[v] = semi[u] < semi[v] ? u : p;
      v = next;
    }
    bucket[p] = 0;
  }
  for (std::uint32_t w = 2; w <= n; ++w)
    if (dom[w] != semi[w]) dom[w] = dom[dom[w]];
  for (auto* v : {&preds, &pred_first, &semi, &label, &ancestor, &bucket, &parent}) std::vector<std::uint32_t>().swap(*v);

  // ---- retained bytes: a dominator has a smaller DFS number than what it dominates ----
  // The results by ID, allocated only now: peak memory is the work arrays' or these, not both.
  result.idom.assign(objects, kNone);
  result.retained.assign(objects, 0);
  result.retained_objects.assign(objects, 0);
  {
    std::vector<std::uint64_t> retained(std::size_t{n} + 1, 0);
    for (std::uint32_t w = n; w >= 2; --w) {
      retained[w] += graph.self_bytes(vertex[w]);
      retained[dom[w]] += retained[w];
    }
    for (std::uint32_t w = 2; w <= n; ++w) result.retained[vertex[w]] = retained[w];
  }
  // Object counts likewise.
  std::vector<std::uint32_t> count(std::size_t{n} + 1, 0);
  for (std::uint32_t w = n; w >= 2; --w) {
    count[w] += 1;
    count[dom[w]] += count[w];
  }
  for (std::uint32_t w = 2; w <= n; ++w) {
    result.idom[vertex[w]] = dom[w] == 1 ? Dominators::kRoots : vertex[dom[w]];
    result.retained_objects[vertex[w]] = count[w];
  }
  return result;
}

RetainerPath shortest_path(const SnapshotGraph& graph, std::uint32_t target) {
  RetainerPath path;
  const std::uint32_t objects = graph.objects();
  if (target >= objects) return path;
  // parent[id]: the object whose reference reached it first (kNone for a root's object), at
  // position via[id]; reached[] separately, since a root's object has no parent.
  std::vector<std::uint32_t> parent(objects, kNone), via(objects, kNone);
  std::vector<bool> reached(objects, false);
  std::vector<std::uint32_t> queue;
  for (const auto& root : graph.roots())
    if (!reached[root.id]) reached[root.id] = true, queue.push_back(root.id);
  for (std::size_t q = 0; q < queue.size() && !reached[target]; ++q) {
    const std::uint32_t v = queue[q];
    graph.for_each_strong(v, [&](std::uint32_t w, std::uint32_t position) {
      if (reached[w]) return;
      reached[w] = true;
      parent[w] = v;
      via[w] = position;
      queue.push_back(w);
    });
  }
  if (!reached[target]) return path;
  for (std::uint32_t v = target; v != kNone; v = parent[v]) path.steps.push_back({v, via[v]});
  std::reverse(path.steps.begin(), path.steps.end());
  for (const auto& root : graph.roots())
    if (root.id == path.steps.front().id) {
      path.root = root.name;
      break;
    }
  return path;
}

std::vector<WeakHolder> weak_holders(const SnapshotGraph& graph, std::uint32_t target) {
  std::vector<WeakHolder> holders;
  for (std::uint32_t id = 0; id < graph.objects(); ++id)
    graph.for_each_ref(id, [&](const SnapshotGraph::Ref& ref) {
      if (ref.kind == SnapshotGraph::RefKind::weak && ref.target == target) holders.push_back({id, ref.position});
    });
  return holders;
}

std::vector<WeakHolder> tombstones(const SnapshotGraph& graph) {
  std::vector<WeakHolder> holders;
  for (std::uint32_t id = 0; id < graph.objects(); ++id)
    graph.for_each_ref(id, [&](const SnapshotGraph::Ref& ref) {
      if (ref.kind == SnapshotGraph::RefKind::tombstone) holders.push_back({id, ref.position});
    });
  return holders;
}

}  // namespace snapheap
