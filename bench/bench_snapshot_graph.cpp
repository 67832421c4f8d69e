// save/graph/<system> and load/graph/<system>: the n-node graph (graph_spec(n): node i holds
// the value i, a strong edge to a random earlier node and a weak edge to a random node at or
// before it), to and from memory.
//  - snapheap: a Graph root object holding std::vector<Member<Node>> of every node; save into a
//    reused ByteBuffer, load into a reused heap (the loaded root dropped and collected untimed).
//  - snapheap_fresh_heap (load only): the same load into a new Heap every iteration, made
//    (untimed) right after the previous destination was destroyed: a host loading checkpoints
//    into new heaps. With the process-wide page cache it runs on the destroyed heap's memory.
//  - boost / cereal: the same graph as std::vector<std::shared_ptr<SNode>> with std::weak_ptr
//    peers, through binary archives over memory streambufs; load into a new vector, whose links
//    are cut before it is dropped (untimed).
// Every system runs an untimed round of the operation first (snapheap in its fixture, Boost and
// cereal before their first timed save and load), so that a benchmark that runs one iteration
// (Boost's take seconds) does not time first-touch costs the others do not pay.
// The edges point backwards so that Boost's and cereal's recursion stays shallow (each target is
// written before it is reached). On a long chain they overflow an 8 MiB stack: snapheap_stack_probe
// measures where (here, in this -O3 build: ~11k nodes saving and ~7k loading for Boost, ~30k for
// cereal; other builds differ, e.g. ~65k for cereal at -O2). snapheap does not recurse (save/chain).
#include <cstdint>
#include <memory>
#include <vector>

#include "baselines.hpp"
#include "support.hpp"
#include "types.hpp"

namespace snapbench {
namespace {

constexpr const char* kShallowNote =
    "; edges point backwards so the baselines recurse shallowly (on a long chain Boost overflows "
    "an 8 MiB stack at ~10k nodes and cereal at ~30k, see the stack probe; snapheap never)";

struct SnapheapGraphSnapshot final : Fixture {
  snapheap::Heap heap;
  snapheap::Heap restored;
  snapheap::Strong<Graph> graph;
  snapheap::ByteBuffer buffer;
  std::uint64_t bytes = 0;

  explicit SnapheapGraphSnapshot(std::int64_t n) : graph(build_graph(heap, n)) {
    heap.set_root("graph", graph);
    bytes = snapheap::save(heap, buffer).bytes;
    snapheap::load(restored, buffer);  // warm the destination heap
    drop_restored();
  }
  ~SnapheapGraphSnapshot() override { graph.reset(); }
  void drop_restored() {
    restored.remove_root("graph");
    restored.collect();
  }
};

void save_snapheap(benchmark::State& state, std::int64_t n) {
  auto& f = fixture<SnapheapGraphSnapshot>(key("graph/snapheap", n), n);
  std::uint64_t bytes = 0;
  TimedFaults faults;
  for (auto _ : state) {
    bytes = snapheap::save(f.heap, f.buffer).bytes;
  }
  set_snapshot_counters(state, n, bytes);
  state.SetLabel(std::string("warm; reused ByteBuffer") + kShallowNote);
}

void load_snapheap(benchmark::State& state, std::int64_t n) {
  auto& f = fixture<SnapheapGraphSnapshot>(key("graph/snapheap", n), n);
  TimedFaults faults;
  for (auto _ : state) {
    const snapheap::SnapshotStats stats = snapheap::load(f.restored, f.buffer);
    Untimed untimed(state);
    if (stats.objects != static_cast<std::size_t>(n) + 1 ||
        stats.weak_targets != static_cast<std::size_t>(n))
      state.SkipWithError("the loaded graph differs");
    f.drop_restored();
  }
  set_snapshot_counters(state, n, f.bytes);
  state.SetLabel(std::string("warm; reused heap; checksum verified") + kShallowNote);
}

void load_snapheap_fresh(benchmark::State& state, std::int64_t n) {
  auto& f = fixture<SnapheapGraphSnapshot>(key("graph/snapheap", n), n);
  // The fixture's destination heap was loaded once and is replaced now: the first timed load
  // already follows a destroyed heap of the graph's size.
  auto restored = std::make_unique<snapheap::Heap>();
  snapheap::load(*restored, f.buffer);
  restored.reset();
  restored = std::make_unique<snapheap::Heap>();
  TimedFaults faults;
  for (auto _ : state) {
    const snapheap::SnapshotStats stats = snapheap::load(*restored, f.buffer);
    Untimed untimed(state);
    if (stats.objects != static_cast<std::size_t>(n) + 1 ||
        stats.weak_targets != static_cast<std::size_t>(n))
      state.SkipWithError("the loaded graph differs");
    restored.reset();
    restored = std::make_unique<snapheap::Heap>();
  }
  set_snapshot_counters(state, n, f.bytes);
  state.SetLabel(std::string("fresh heap after destroyed heaps; checksum verified") + kShallowNote);
}

using SharedGraph = std::vector<std::shared_ptr<SNode>>;

bool same_graph(const SharedGraph& loaded, std::int64_t n) {
  const GraphSpec& spec = graph_spec(n);
  if (loaded.size() != static_cast<std::size_t>(n)) return false;
  for (std::size_t i = 0; i < loaded.size(); i += 997) {
    const SNode& node = *loaded[i];
    if (node.value != static_cast<std::int64_t>(i)) return false;
    if (spec.strong[i] != kNoEdge && node.next != loaded[spec.strong[i]]) return false;
    if (node.peer.lock() != loaded[spec.weak[i]]) return false;
  }
  return true;
}

template <bool kBoost>
struct SerializerGraph final : Fixture {
  SharedGraph nodes;
  std::vector<char> storage;
  std::size_t bytes = 0;
  bool loaded_once = false;
  // Not saved in the constructor: the save benchmark, which runs first (add_pair), saves once
  // untimed before its loop (its warm-up round) and leaves its bytes for the load benchmark; a
  // load run alone saves first. The buffer is sized (and so touched) here.
  explicit SerializerGraph(std::int64_t n) : nodes(build_shared_graph(n)) {
    storage.resize(static_cast<std::size_t>(n) * 32 + 4096);
  }
  ~SerializerGraph() override { cut_links(nodes); }
  void save() { bytes = kBoost ? boost_save(nodes, storage) : cereal_save(nodes, storage); }
  void ensure_saved() {
    if (bytes == 0) save();
  }
  void load(SharedGraph& out) const {
    if constexpr (kBoost) boost_load(storage, bytes, out);
    else cereal_load(storage, bytes, out);
  }
};

template <bool kBoost>
void save_serializer(benchmark::State& state, std::int64_t n) {
  auto& f = fixture<SerializerGraph<kBoost>>(key(kBoost ? "graph/boost" : "graph/cereal", n), n);
  f.ensure_saved();  // the untimed warm-up round (once per fixture)
  TimedFaults faults;
  for (auto _ : state) {
    f.save();
  }
  set_snapshot_counters(state, n, f.bytes);
  state.SetLabel(std::string("warm; memory streambuf over a reused vector") + kShallowNote);
}

template <bool kBoost>
void load_serializer(benchmark::State& state, std::int64_t n) {
  auto& f = fixture<SerializerGraph<kBoost>>(key(kBoost ? "graph/boost" : "graph/cereal", n), n);
  f.ensure_saved();
  if (!f.loaded_once) {  // the untimed warm-up round: the nodes' memory is malloc's to reuse after it
    SharedGraph out;
    f.load(out);
    cut_links(out);
    f.loaded_once = true;
  }
  TimedFaults faults;
  for (auto _ : state) {
    SharedGraph out;
    f.load(out);
    Untimed untimed(state);
    if (!same_graph(out, n)) state.SkipWithError("the loaded graph differs");
    cut_links(out);
    SharedGraph().swap(out);  // freed while the clock is stopped
  }
  set_snapshot_counters(state, n, f.bytes);
  state.SetLabel(std::string("warm; into a new vector; links cut untimed before teardown") + kShallowNote);
}

}  // namespace

void register_graph_benchmarks() {
  // Boost and cereal stop at 10^6: at 10^7 one save or load takes tens of seconds.
  add_pair("save/graph/snapheap", save_snapheap, "load/graph/snapheap", load_snapheap, sweep());
  add("load/graph/snapheap_fresh_heap", load_snapheap_fresh, {kMillion});
  add_pair("save/graph/boost", save_serializer<true>, "load/graph/boost", load_serializer<true>,
           sweep(kMillion), {.heavy = true});
  add_pair("save/graph/cereal", save_serializer<false>, "load/graph/cereal", load_serializer<false>,
           sweep(kMillion), {.heavy = true});
}

}  // namespace snapbench
