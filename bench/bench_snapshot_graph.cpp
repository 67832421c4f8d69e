// save/graph/<system> and load/graph/<system>: the n-node graph (graph_spec(n): node i holds
// the value i, a strong edge to a random earlier node and a weak edge to a random node at or
// before it), to and from memory; save/graph_chain/<system> and load/graph_chain/<system>: the
// second shape (a strong chain, node i to node i - 1, and the same random weak edges).
//  - floor: what a save must do at least, by hand: walk the same snapheap nodes in order, read
//    each edge's target (its index, through the pointer: the ID lookup), write the value and the
//    two edges as varints (deltas, as the snapshot does), pad to the snapshot's size and hash
//    it all with XXH3-64 (the snapshot's checksum). No serializer in between.
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
#define XXH_INLINE_ALL  // the library's own XXH3 (serialize/checksum.cpp), inlined the same way
#include <xxhash.h>

#include <cstdint>
#include <cstring>
#include <istream>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "baselines.hpp"
#include "support.hpp"
#include "types.hpp"

namespace snapbench {
namespace {

constexpr const char* kShallowNote =
    "; edges point backwards so the baselines recurse shallowly (on a long chain Boost overflows "
    "an 8 MiB stack at ~10k nodes and cereal at ~30k, see the stack probe; snapheap never)";

template <GraphShape kShape>
struct SnapheapGraphSnapshot final : Fixture {
  snapheap::Heap heap;
  snapheap::Heap restored;
  snapheap::Strong<Graph> graph;
  snapheap::ByteBuffer buffer;
  std::uint64_t bytes = 0;
  std::vector<const Node*> peers;        // the floor's (save_floor)
  std::vector<unsigned char> floor_out;
  // The 10^8 run loads into `heap` itself, once its graph is collected (release_source): two heaps
  // of 10^8 nodes and the snapshot do not fit in 24 GiB beside each other. It does so at 10^6 too,
  // so that its two sizes are measured the same way.
  const bool in_place = huge_only();

  static std::string name(std::int64_t n) { return key(graph_workload(kShape), n) + "/snapheap"; }
  static SnapheapGraphSnapshot& of(std::int64_t n) { return fixture<SnapheapGraphSnapshot>(name(n), n); }
  explicit SnapheapGraphSnapshot(std::int64_t n) : graph(build_graph(heap, n, true, kShape)) {
    heap.set_root("graph", graph);
    if (in_place) {
      // What the 10^8 run peaks at: no spec beside the heap, no doubling of the buffer.
      forget_graph_spec(n, kShape);
      buffer.reserve(static_cast<std::size_t>(n) * 16 + 4096);
    }
    bytes = snapheap::save(heap, buffer).bytes;
    if (in_place) return;
    snapheap::load(restored, buffer);  // warm the destination heap
    drop_restored();
  }
  ~SnapheapGraphSnapshot() override { graph.reset(); }
  snapheap::Heap& destination() noexcept { return in_place ? heap : restored; }
  void drop_restored() {
    destination().remove_root("graph");
    destination().collect();
  }
  void release_floor() {
    std::vector<const Node*>().swap(peers);
    std::vector<unsigned char>().swap(floor_out);
  }
  // In place: the graph collected (its pages, warm, are what the load fills), then one untimed
  // load and its collection, so that the timed loads find the load's buffers warm too.
  void release_source() {
    graph.reset();
    release_floor();
    drop_restored();
    snapheap::load(heap, buffer);
    drop_restored();
  }
};

template <GraphShape kShape>
void save_snapheap(benchmark::State& state, std::int64_t n) {
  auto& f = SnapheapGraphSnapshot<kShape>::of(n);
  if (!f.graph) return state.SkipWithError("the fixture's graph was loaded in place and collected");
  std::uint64_t bytes = 0;
  TimedFaults faults;
  for (auto _ : state) {
    bytes = snapheap::save(f.heap, f.buffer).bytes;
  }
  set_snapshot_counters(state, n, bytes);
  state.SetLabel(std::string("warm; reused ByteBuffer") + kShallowNote);
}

template <GraphShape kShape>
void load_snapheap(benchmark::State& state, std::int64_t n) {
  auto& f = SnapheapGraphSnapshot<kShape>::of(n);
  if (f.in_place) f.release_source();
  TimedFaults faults;
  for (auto _ : state) {
    const snapheap::SnapshotStats stats = snapheap::load(f.destination(), f.buffer);
    Untimed untimed(state);
    if (stats.objects != static_cast<std::size_t>(n) + 1 ||
        stats.weak_targets != static_cast<std::size_t>(n))
      state.SkipWithError("the loaded graph differs");
    f.drop_restored();
  }
  set_snapshot_counters(state, n, f.bytes);
  state.SetLabel(std::string(f.in_place ? "warm; the saved heap itself, its graph collected first (the 10^8 run's way)"
                                        : "warm; reused heap") +
                 "; checksum verified" + kShallowNote);
}

// The stream paths, against the ByteBuffer rows above (as in bench_snapshot_payload.cpp):
// snapheap_stream saves to a std::ostream over a memory streambuf into a reused vector and loads
// from a std::istream that can seek; snapheap_pipe loads from one that cannot.
void save_stream(benchmark::State& state, std::int64_t n) {
  auto& f = SnapheapGraphSnapshot<GraphShape::random>::of(n);
  time_stream_save(state, f.heap,
                   [](benchmark::State& s, std::uint64_t bytes) { set_snapshot_counters(s, s.range(0), bytes); });
  state.SetLabel("warm; std::ostream over a memory streambuf into a reused vector");
}

template <bool kSeekable>
void load_stream(benchmark::State& state, std::int64_t n) {
  auto& f = SnapheapGraphSnapshot<GraphShape::random>::of(n);
  load_from_stream(f.restored, f.buffer, kSeekable);  // the untimed round every system gets
  f.drop_restored();
  TimedFaults faults;
  for (auto _ : state) {
    const snapheap::SnapshotStats stats = load_from_stream(f.restored, f.buffer, kSeekable);
    Untimed untimed(state);
    if (stats.objects != static_cast<std::size_t>(n) + 1 ||
        stats.weak_targets != static_cast<std::size_t>(n))
      state.SkipWithError("the loaded graph differs");
    f.drop_restored();
  }
  set_snapshot_counters(state, n, f.bytes);
  state.SetLabel(kSeekable ? "warm; reused heap; std::istream over memory that can seek; checksum verified"
                           : "warm; reused heap; std::istream that cannot seek; checksum verified");
}

using SharedGraph = std::vector<std::shared_ptr<SNode>>;

bool same_graph(const SharedGraph& loaded, std::int64_t n, GraphShape shape) {
  const GraphSpec& spec = graph_spec(n, shape);
  if (loaded.size() != static_cast<std::size_t>(n)) return false;
  for (std::size_t i = 0; i < loaded.size(); i += 997) {
    const SNode& node = *loaded[i];
    if (node.value != static_cast<std::int64_t>(i)) return false;
    if (spec.strong[i] != kNoEdge && node.next != loaded[spec.strong[i]]) return false;
    if (node.peer.lock() != loaded[spec.weak[i]]) return false;
  }
  return true;
}

void load_snapheap_fresh(benchmark::State& state, std::int64_t n) {
  auto& f = SnapheapGraphSnapshot<GraphShape::random>::of(n);
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

template <bool kBoost, GraphShape kShape>
struct SerializerGraph final : Fixture {
  SharedGraph nodes;
  std::vector<char> storage;
  std::size_t bytes = 0;
  bool loaded_once = false;
  // Not saved in the constructor: the save benchmark, which runs first (add_pair), saves once
  // untimed before its loop (its warm-up round) and leaves its bytes for the load benchmark; a
  // load run alone saves first. The buffer is sized (and so touched) here.
  static SerializerGraph& of(std::int64_t n) {
    return fixture<SerializerGraph>(key(graph_workload(kShape), n) + (kBoost ? "/boost" : "/cereal"), n);
  }
  explicit SerializerGraph(std::int64_t n) : nodes(build_shared_graph(n, kShape)) {
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

template <bool kBoost, GraphShape kShape>
void save_serializer(benchmark::State& state, std::int64_t n) {
  auto& f = SerializerGraph<kBoost, kShape>::of(n);
  f.ensure_saved();  // the untimed warm-up round (once per fixture)
  TimedFaults faults;
  for (auto _ : state) {
    f.save();
  }
  set_snapshot_counters(state, n, f.bytes);
  state.SetLabel(std::string("warm; memory streambuf over a reused vector") + kShallowNote);
}

template <bool kBoost, GraphShape kShape>
void load_serializer(benchmark::State& state, std::int64_t n) {
  auto& f = SerializerGraph<kBoost, kShape>::of(n);
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
    if (!same_graph(out, n, kShape)) state.SkipWithError("the loaded graph differs");
    cut_links(out);
    SharedGraph().swap(out);  // freed while the clock is stopped
  }
  set_snapshot_counters(state, n, f.bytes);
  state.SetLabel(std::string("warm; into a new vector; links cut untimed before teardown") + kShallowNote);
}

unsigned char* put_varint(unsigned char* p, std::uint64_t v) noexcept {
  while (v >= 0x80) {
    *p++ = static_cast<unsigned char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<unsigned char>(v);
  return p;
}
std::uint64_t zigzag(std::int64_t v) noexcept {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}

template <GraphShape kShape>
void save_floor(benchmark::State& state, std::int64_t n) {
  // The same snapheap nodes (the fixture the save benchmark used), with each weak edge's target
  // as a plain pointer (a Weak is read through lock(), which a save does not pay), and an output
  // buffer of the snapshot's size.
  auto& f = SnapheapGraphSnapshot<kShape>::of(n);
  if (!f.graph) return state.SkipWithError("the fixture's graph was loaded in place and collected");
  const auto& nodes = f.graph->nodes;
  if (f.floor_out.size() != f.bytes) {
    // The writer's buffers (about 95 bytes per object) go first: at 10^8 they and the floor's
    // do not fit in memory beside each other.
    if (f.in_place) f.heap.release_memory();
    f.peers.clear();
    for (const auto& node : nodes) f.peers.push_back(node->peer.lock().get());
    f.floor_out.assign(f.bytes, 0);
  }
  TimedFaults faults;
  for (auto _ : state) {
    unsigned char* p = f.floor_out.data();
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      const Node& node = *nodes[i];
      p = put_varint(p, zigzag(node.value));
      p = put_varint(p, node.next ? zigzag(node.value - node.next->value) : 0);
      p = put_varint(p, zigzag(node.value - f.peers[i]->value));
    }
    // The snapshot's other bytes (header, type table, the root object's record, roots, trailer).
    const auto written = static_cast<std::size_t>(p - f.floor_out.data());
    if (written < f.floor_out.size()) std::memset(p, 0, f.floor_out.size() - written);
    std::uint64_t hash = XXH3_64bits(f.floor_out.data(), f.floor_out.size());
    benchmark::DoNotOptimize(hash);
  }
  set_snapshot_counters(state, n, f.floor_out.size());
  state.SetLabel("warm; a hand-written loop over the same nodes: varints of the value and both edges, "
                 "padded to the snapshot's size, then XXH3-64 of it all (no serializer)");
}

// The rows compared with snapheap's ByteBuffer rows run right after them, on the same fixture
// (`same_fixture`: the stream rows), before the baselines' fixtures replace it.
template <GraphShape kShape>
void register_shape(const std::vector<std::int64_t>& snapheap_sizes, const std::vector<std::int64_t>& baseline_sizes,
                    void (*same_fixture)() = nullptr) {
  const std::vector<std::int64_t> floor_sizes = and_huge({kMillion});
  const std::string w = graph_workload(kShape);
  // The floor between the save and the load: it reads the nodes the save wrote (at 10^8 the load
  // replaces them, see load_snapheap).
  add_by_size({{"save/" + w + "/snapheap", save_snapheap<kShape>, snapheap_sizes},
               {"save/" + w + "/floor", save_floor<kShape>, floor_sizes},
               {"load/" + w + "/snapheap", load_snapheap<kShape>, snapheap_sizes}});
  if (same_fixture) same_fixture();
  add_pair("save/" + w + "/boost", save_serializer<true, kShape>, "load/" + w + "/boost", load_serializer<true, kShape>,
           baseline_sizes, {.heavy = true});
  add_pair("save/" + w + "/cereal", save_serializer<false, kShape>, "load/" + w + "/cereal",
           load_serializer<false, kShape>, baseline_sizes, {.heavy = true});
}

}  // namespace

void register_graph_benchmarks() {
  // Boost and cereal stop at 10^6: at 10^7 one save or load takes tens of seconds.
  register_shape<GraphShape::random>(and_huge(sweep()), sweep(kMillion), [] {
    add_pair("save/graph/snapheap_stream", save_stream, "load/graph/snapheap_stream", load_stream<true>, {kMillion});
    add("load/graph/snapheap_pipe", load_stream<false>, {kMillion});
  });
  add("load/graph/snapheap_fresh_heap", load_snapheap_fresh, {kMillion});
  register_shape<GraphShape::chain>(and_huge({kMillion}), {kMillion});
}

}  // namespace snapbench
