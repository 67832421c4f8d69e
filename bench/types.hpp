// The data the benchmarks move, once per system: snapheap's managed types and the plain C++
// (shared_ptr / weak_ptr) types Boost.Serialization, cereal and the teardown baselines use.
#pragma once

#include <snapheap/snapheap.hpp>

#include <cstdint>
#include <memory>
#include <vector>

namespace snapbench {

// ---- snapheap --------------------------------------------------------------------------------------

/// The allocation workload: 24 bytes of fields (an int64 and two edges) behind the 16-byte header.
struct SmallObject final : snapheap::Object {
  std::int64_t value = 0;
  snapheap::Member<SmallObject> left;
  snapheap::Member<SmallObject> right;

  SmallObject() = default;
  explicit SmallObject(std::int64_t v) noexcept : value(v) {}
  void trace(snapheap::Tracer& t) const override {
    t.trace(left);
    t.trace(right);
  }
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & value & left & right;
  }
};

/// The two shapes of the benchmark graph (graph_spec in support.hpp says what they are).
enum class GraphShape { random, chain };

/// A graph and chain node: its index, a strong edge and a weak edge.
struct Node final : snapheap::Object {
  std::int64_t value = 0;
  snapheap::Member<Node> next;
  snapheap::Weak<Node> peer;

  Node() = default;
  explicit Node(std::int64_t v) noexcept : value(v) {}
  void trace(snapheap::Tracer& t) const override {
    t.trace(next);
    t.trace(peer);
  }
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & value & next & peer;
  }
};

/// The graph's root: every node, in index order.
struct Graph final : snapheap::Object {
  std::vector<snapheap::Member<Node>> nodes;

  void trace(snapheap::Tracer& t) const override { t.trace(nodes); }
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & nodes;
  }
};

/// Builds the benchmark graph (graph_spec(n)) in `heap`; returns its root object. Without
/// `weak_edges` the nodes' weak handles stay empty (the strong edges alone).
snapheap::Strong<Graph> build_graph(snapheap::Heap& heap, std::int64_t n, bool weak_edges = true,
                                    GraphShape shape = GraphShape::random);
/// Builds a chain: node i's next is node i-1 (allocated just before it); returns the head (n-1).
snapheap::Strong<Node> build_chain(snapheap::Heap& heap, std::int64_t n);

// ---- plain C++ -------------------------------------------------------------------------------------

/// The allocation workload for make_shared and malloc: the same 24 bytes of fields.
struct PlainSmall {
  std::int64_t value = 0;
  PlainSmall* left = nullptr;
  PlainSmall* right = nullptr;
};
static_assert(sizeof(PlainSmall) == 24);

/// The graph node as a C++ programmer writes it without a managed heap. serialize() is written
/// once with `ar &`, which Boost.Serialization and cereal both understand.
struct SNode {
  std::int64_t value = 0;
  std::shared_ptr<SNode> next;
  std::weak_ptr<SNode> peer;

  template <class Archive>
  void serialize(Archive& ar, const unsigned int /*version*/) {
    ar & value & next & peer;
  }
};

/// The graph as std::vector<std::shared_ptr<SNode>> (make_shared nodes, same edges as snapheap's).
std::vector<std::shared_ptr<SNode>> build_shared_graph(std::int64_t n, GraphShape shape = GraphShape::random);
/// The chain as shared_ptr: returns the head.
std::shared_ptr<SNode> build_shared_chain(std::int64_t n);
/// Cuts every strong link, so that dropping the nodes never recurses (a shared_ptr chain longer
/// than ~260k nodes overflows an 8 MiB stack when its head is dropped).
void cut_links(std::vector<std::shared_ptr<SNode>>& nodes) noexcept;
/// Drops a chain node by node (iteratively), as a careful C++ programmer must.
void drop_chain(std::shared_ptr<SNode>& head) noexcept;

/// The seed's model as plain C++: the layer holds a std::weak_ptr to the payload.
struct SPayload {
  std::vector<std::int64_t> values;
  template <class Archive>
  void serialize(Archive& ar, const unsigned int) {
    ar & values;
  }
};
struct SWeakRefLayer {
  std::weak_ptr<SPayload> large_data;
  template <class Archive>
  void serialize(Archive& ar, const unsigned int) {
    ar & large_data;
  }
};
struct SModel {
  std::vector<std::shared_ptr<SWeakRefLayer>> layers;
  template <class Archive>
  void serialize(Archive& ar, const unsigned int) {
    ar & layers;
  }
};

}  // namespace snapbench
