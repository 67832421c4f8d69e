// What the tool asks of a graph: dominators and retained bytes (Lengauer-Tarjan), the shortest
// strong path from a root (breadth first), and the weak handles and tombstones pointing at an
// object. Everything is iterative: nothing here is proportional to graph depth on the C++ stack.
#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <limits>
#include <stdexcept>

#include "snapheap/inspect.hpp"

namespace snapheap {

namespace {

constexpr std::uint32_t kNone = SnapshotGraph::kNone;

/// The dominator computation's work arrays: blocks of 16 MiB and more are mapped on their own, on
/// 2 MiB boundaries, and offered to the kernel for transparent huge pages (madvise; a no-op where
/// THP is off). Their accesses are random, so with 4 KiB pages nearly every one is also a TLB
/// miss; with 2 MiB pages, a 10^7-object graph's arrays fit in the TLB's reach. Smaller blocks
/// come from malloc, which reuses memory the earlier arrays freed (fresh pages cost a fault each).
template <class T>
struct WorkAllocator {
  using value_type = T;
  static constexpr std::size_t kHuge = std::size_t{2} << 20;
  static constexpr std::size_t kThreshold = std::size_t{16} << 20;

  WorkAllocator() = default;
  template <class U>
  WorkAllocator(const WorkAllocator<U>&) noexcept {}

  static std::size_t mapped_bytes(std::size_t n) noexcept { return (n * sizeof(T) + kHuge - 1) & ~(kHuge - 1); }

  T* allocate(std::size_t n) {
    if (n > std::numeric_limits<std::size_t>::max() / sizeof(T) / 2) throw std::bad_alloc();
    if (n * sizeof(T) < kThreshold) return std::allocator<T>().allocate(n);
    const std::size_t bytes = mapped_bytes(n), span = bytes + kHuge;
    void* raw = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) throw std::bad_alloc();
    const auto start = reinterpret_cast<std::uintptr_t>(raw);
    const std::uintptr_t aligned = (start + kHuge - 1) & ~(kHuge - 1);
    if (aligned > start) ::munmap(raw, aligned - start);
    if (start + span > aligned + bytes) ::munmap(reinterpret_cast<void*>(aligned + bytes), start + span - aligned - bytes);
    ::madvise(reinterpret_cast<void*>(aligned), bytes, MADV_HUGEPAGE);
    return reinterpret_cast<T*>(aligned);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if (n * sizeof(T) < kThreshold) return std::allocator<T>().deallocate(p, n);
    ::munmap(p, mapped_bytes(n));
  }
  template <class U>
  bool operator==(const WorkAllocator<U>&) const noexcept { return true; }
};

template <class T>
using Work = std::vector<T, WorkAllocator<T>>;

/// Frees a work array's memory now.
template <class T>
void release(Work<T>& array) noexcept {
  Work<T>().swap(array);
}

}  // namespace

// Lengauer and Tarjan's algorithm ("A fast algorithm for finding dominators in a flowgraph",
// 1979) with simple path compression (O(E log N)), over DFS numbers: 1 is the synthetic root
// (its successors are the roots' objects, in name order), 2..n the objects it reaches through
// strong references, 0 "none". The arrays are 32-bit and freed as soon as they are done with;
// the file's records are decoded once, in file order, into arrays of targets.
Dominators dominators(const SnapshotGraph& graph) {
  const std::uint32_t objects = graph.objects();
  Dominators result;
  if (objects == 0 || graph.roots().empty()) {
    result.idom.assign(objects, kNone);
    result.retained.assign(objects, 0);
    result.retained_objects.assign(objects, 0);
    return result;
  }

  // The predecessor lists below are indexed by 32 bits.
  if (graph.counts().strong_refs + graph.roots().size() > std::numeric_limits<std::uint32_t>::max())
    throw std::length_error("dominators: more than 4,294,967,295 strong references in one graph");

  // ---- the strong references, decoded once in file order: succ[first[id] .. first[id + 1]) ----
  Work<std::uint32_t> first(std::size_t{objects} + 1), succ;
  succ.reserve(graph.counts().strong_refs);
  for (std::uint32_t id = 0; id < objects; ++id) {
    first[id] = static_cast<std::uint32_t>(succ.size());
    graph.for_each_strong(id, [&](std::uint32_t target, std::uint32_t) { succ.push_back(target); });
  }
  first[objects] = static_cast<std::uint32_t>(succ.size());

  // ---- the depth-first search: dfnum (by ID), vertex and parent (by DFS number) ----
  Work<std::uint32_t> dfnum(objects, 0);
  Work<std::uint64_t> tree_edge((succ.size() + 63) / 64, 0);  // the references the DFS went down
  Work<std::uint32_t> vertex{0, kNone};  // vertex[1]: the synthetic root
  Work<std::uint32_t> parent{0, 0};
  vertex.reserve(std::size_t{objects} + 2);
  parent.reserve(std::size_t{objects} + 2);
  {
    struct Frame {
      std::uint32_t v, next;  // DFS number; the next of its references in succ
    };
    Work<Frame> frames;
    const auto discover = [&](std::uint32_t id, std::uint32_t from) {
      const auto v = static_cast<std::uint32_t>(vertex.size());
      dfnum[id] = v;
      vertex.push_back(id);
      parent.push_back(from);
      frames.push_back({v, first[id]});
      // The targets' DFS numbers and reference ranges are read next: start those misses together.
      for (std::uint32_t e = first[id]; e < first[id + 1]; ++e) {
        __builtin_prefetch(&dfnum[succ[e]]);
        __builtin_prefetch(&first[succ[e]]);
      }
    };
    for (const auto& root : graph.roots()) {
      if (dfnum[root.id] != 0) continue;
      discover(root.id, 1);
      while (!frames.empty()) {
        Frame& top = frames.back();
        if (top.next == first[vertex[top.v] + 1]) {
          frames.pop_back();
          continue;
        }
        const std::uint32_t e = top.next++;
        if (const std::uint32_t w = succ[e]; dfnum[w] == 0) {
          tree_edge[e >> 6] |= std::uint64_t{1} << (e & 63);
          discover(w, top.v);
        }
      }
    }
  }
  const auto n = static_cast<std::uint32_t>(vertex.size() - 1);  // DFS numbers 1..n
  result.reachable = n - 1;

  // ---- predecessors by DFS number (every edge between reached nodes, and root -> root object) ----
  // But the DFS tree's own edges (marked as the DFS went down them): a vertex's parent is its
  // first semidominator candidate anyway (the loop below starts from it), so it is not stored:
  // 4 bytes fewer per reached object.
  // pred_first[w] is w's first predecessor; filling advances it to the next one's, so that w's
  // predecessors end up at [pred_first[w - 1], pred_first[w]).
  Work<std::uint32_t> pred_first(std::size_t{n} + 1, 0);
  const auto in_tree = [&](std::uint32_t e) { return (tree_edge[e >> 6] >> (e & 63)) & 1u; };
  for (const auto& root : graph.roots())
    if (parent[dfnum[root.id]] != 1) ++pred_first[dfnum[root.id]];
  for (std::uint32_t id = 0; id < objects; ++id)
    if (dfnum[id] != 0)
      for (std::uint32_t e = first[id]; e < first[id + 1]; ++e)
        if (!in_tree(e)) ++pred_first[dfnum[succ[e]]];
  std::size_t edges = 0;
  for (std::uint32_t w = 0; w <= n; ++w) {
    const std::uint32_t count = pred_first[w];
    pred_first[w] = static_cast<std::uint32_t>(edges);
    edges += count;
  }
  Work<std::uint32_t> preds(edges);
  for (const auto& root : graph.roots())
    if (parent[dfnum[root.id]] != 1) preds[pred_first[dfnum[root.id]]++] = 1;
  for (std::uint32_t id = 0; id < objects; ++id)
    if (const std::uint32_t v = dfnum[id]; v != 0)
      for (std::uint32_t e = first[id]; e < first[id + 1]; ++e)
        if (!in_tree(e)) preds[pred_first[dfnum[succ[e]]]++] = v;
  for (auto* v : {&dfnum, &first, &succ}) release(*v);
  release(tree_edge);

  // ---- semidominators, then immediate dominators ----
  // The forest of linked vertices lives in `link`: a vertex is linked once its semidominator is
  // known, which happens in decreasing DFS order, so "linked" is "above the vertex at hand" and
  // a vertex's ancestor starts as its DFS parent (no separate parent array). Ancestor and label
  // share a cache line.
  struct Link {
    std::uint32_t ancestor, label;
  };
  Work<Link> link(std::size_t{n} + 1);
  for (std::uint32_t v = 1; v <= n; ++v) link[v] = {parent[v], v};
  release(parent);
  Work<std::uint32_t> semi(std::size_t{n} + 1);
  for (std::uint32_t v = 1; v <= n; ++v) semi[v] = v;
  // dom[v] doubles as v's link in its bucket until v leaves the bucket (once) and gets its dominator.
  Work<std::uint32_t> dom(std::size_t{n} + 1, 0), bucket(std::size_t{n} + 1, 0);
  std::vector<std::uint32_t> chain;
  // The vertex of least semidominator on v's path to the root of its tree in the forest (v
  // itself when v is a root); vertices above `linked_above` are linked.
  const auto eval = [&](std::uint32_t v, std::uint32_t linked_above) {
    if (v <= linked_above) return v;
    // Compress the path v -> ... below the forest root, iteratively.
    std::uint32_t x = v;
    while (link[x].ancestor > linked_above) {
      chain.push_back(x);
      x = link[x].ancestor;
    }
    while (!chain.empty()) {
      const std::uint32_t y = chain.back();
      chain.pop_back();
      const Link above = link[link[y].ancestor];
      if (semi[above.label] < semi[link[y].label]) link[y].label = above.label;
      link[y].ancestor = above.ancestor;
    }
    return link[v].label;
  };
  constexpr std::uint32_t kAhead = 8;  // vertices ahead whose predecessors' links are prefetched
  for (std::uint32_t w = n; w >= 2; --w) {
    if (w > kAhead + 1)
      for (std::uint32_t e = pred_first[w - kAhead - 1]; e < pred_first[w - kAhead]; ++e) {
        __builtin_prefetch(&link[preds[e]]);
        __builtin_prefetch(&semi[preds[e]]);
      }
    semi[w] = link[w].ancestor;  // the parent: unlinked, its own semidominator candidate
    for (std::uint32_t e = pred_first[w - 1]; e < pred_first[w]; ++e) {
      const std::uint32_t u = eval(preds[e], w);
      if (semi[u] < semi[w]) semi[w] = semi[u];
    }
    dom[w] = bucket[semi[w]];
    bucket[semi[w]] = w;
    // w is linked to its parent now.
    const std::uint32_t p = link[w].ancestor;
    for (std::uint32_t v = bucket[p]; v != 0;) {
      const std::uint32_t next = dom[v];
      const std::uint32_t u = eval(v, w - 1);
      dom[v] = semi[u] < semi[v] ? u : p;
      v = next;
    }
    bucket[p] = 0;
  }
  for (std::uint32_t w = 2; w <= n; ++w)
    if (dom[w] != semi[w]) dom[w] = dom[dom[w]];
  for (auto* v : {&preds, &pred_first, &semi, &bucket}) release(*v);
  release(link);

  // ---- retained bytes and objects: a dominator has a smaller DFS number than what it dominates ----
  // The results by ID, allocated only now and summed in place: peak memory is the work arrays'
  // or these, not both.
  result.idom.assign(objects, kNone);
  result.retained.assign(objects, 0);
  result.retained_objects.assign(objects, 0);
  for (std::uint32_t w = n; w >= 2; --w) {
    const std::uint32_t id = vertex[w];
    result.retained[id] += graph.self_bytes(id);
    result.retained_objects[id] += 1;
    if (dom[w] == 1) {
      result.idom[id] = Dominators::kRoots;
      continue;
    }
    const std::uint32_t owner = vertex[dom[w]];
    result.idom[id] = owner;
    result.retained[owner] += result.retained[id];
    result.retained_objects[owner] += result.retained_objects[id];
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
