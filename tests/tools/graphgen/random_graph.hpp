// Random heap graphs for the inspection tests, the node checks and the benchmarks: N objects of
// one type with an int64 payload of 0..max_values elements, strong references that make every
// object reachable from root "root" plus extra random ones (cycles, sharing, several paths),
// weak handles to random objects and to "outsiders" (objects only a Strong handle holds, which a
// snapshot leaves out: tombstones), and a few more named roots. Deterministic for a seed.
//
// Include from one source file per program: it registers the type.
#pragma once

#include <snapheap/snapheap.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace snapheap_graphgen {

struct GNode final : snapheap::Object {
  snapheap::Vector<std::int64_t> values;
  std::vector<snapheap::Member<GNode>> out;
  std::vector<snapheap::Weak<GNode>> weak;

  void trace(snapheap::Tracer& t) const override {
    t.trace(out);
    t.trace(weak);
  }
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & values & out & weak;
  }
};

struct Options {
  std::uint32_t objects = 1000;
  std::uint64_t seed = 1;
  double extra_edges = 1.0;    ///< random strong references per object beyond the spanning ones
  double weak_edges = 0.5;     ///< weak handles per object
  std::uint32_t extra_roots = 3;
  std::uint32_t outsiders = 0;  ///< objects only Strong handles hold (0: objects / 100 + 1)
  std::uint32_t max_values = 4;
};

/// Builds the graph in `heap` (roots "root", "r1".."rK") and returns the outsiders' handles: keep
/// them while saving, so that weak handles to them are tombstones rather than expired.
inline std::vector<snapheap::Strong<GNode>> build(snapheap::Heap& heap, const Options& o) {
  std::mt19937_64 rng(o.seed);
  const auto below = [&](std::uint64_t n) { return static_cast<std::uint32_t>(rng() % n); };
  const auto chance = [&](double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; };
  std::vector<snapheap::Strong<GNode>> nodes;
  nodes.reserve(o.objects);
  for (std::uint32_t i = 0; i < o.objects; ++i) {
    nodes.push_back(heap.make<GNode>());
    const std::uint32_t n = o.max_values ? below(o.max_values + 1) : 0;
    for (std::uint32_t k = 0; k < n; ++k) nodes.back()->values.push_back(static_cast<std::int64_t>(rng()));
  }
  const std::uint32_t outsider_count = o.outsiders ? o.outsiders : o.objects / 100 + 1;
  std::vector<snapheap::Strong<GNode>> outsiders;
  for (std::uint32_t i = 0; i < outsider_count; ++i) outsiders.push_back(heap.make<GNode>());
  // A spanning tree from object 0 (each object hangs off a random earlier one, mostly a near
  // one, so that paths are long as well as short), then random extra edges.
  for (std::uint32_t i = 1; i < o.objects; ++i) {
    const std::uint32_t parent = chance(0.7) ? i - 1 - below(std::min<std::uint32_t>(i, 8)) : below(i);
    nodes[parent]->out.emplace_back(nodes[i]);
  }
  const auto extra = static_cast<std::uint64_t>(o.extra_edges * o.objects);
  for (std::uint64_t e = 0; e < extra && o.objects > 0; ++e) nodes[below(o.objects)]->out.emplace_back(nodes[below(o.objects)]);
  const auto weak = static_cast<std::uint64_t>(o.weak_edges * o.objects);
  for (std::uint64_t e = 0; e < weak && o.objects > 0; ++e) {
    GNode& holder = *nodes[below(o.objects)];
    if (chance(0.2)) holder.weak.emplace_back(outsiders[below(outsider_count)]);
    else holder.weak.emplace_back(nodes[below(o.objects)]);
  }
  if (o.objects > 0) {
    heap.set_root("root", nodes[0]);
    for (std::uint32_t r = 1; r <= o.extra_roots; ++r) {
      std::string name = std::to_string(r);
      name.insert(name.begin(), 'r');  // (not "r" + ...: g++ 12 warns falsely about that)
      heap.set_root(name, nodes[below(o.objects)]);
    }
  }
  return outsiders;
}

}  // namespace snapheap_graphgen

SNAPHEAP_REGISTER_AS(snapheap_graphgen::GNode, "graphgen.Node");
