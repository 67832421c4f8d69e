// save/chain/snapheap and load/chain/snapheap: an n-node linked chain (node i's next is node
// i-1), rooted at its head. snapheap traces, writes and reads with explicit queues, so the depth
// of the chain costs no stack.
// Boost.Serialization and cereal are not run here: both recurse once per link and overflow an
// 8 MiB stack after some ten thousand nodes (snapheap_stack_probe measures it: ~10k for Boost,
// ~30k for cereal in this build); pickle hits RecursionError (see pickle_bench.py).
#include <cstdint>

#include "support.hpp"
#include "types.hpp"

namespace snapbench {
namespace {

struct SnapheapChainSnapshot final : Fixture {
  snapheap::Heap heap;
  snapheap::Heap restored;
  snapheap::Strong<Node> head;
  snapheap::ByteBuffer buffer;
  std::uint64_t bytes = 0;

  explicit SnapheapChainSnapshot(std::int64_t n) : head(build_chain(heap, n)) {
    heap.set_root("chain", head);
    bytes = snapheap::save(heap, buffer).bytes;
    snapheap::load(restored, buffer);  // warm the destination heap
    drop_restored();
  }
  void drop_restored() {
    restored.remove_root("chain");
    restored.collect();
  }
};

constexpr const char* kBaselines =
    "; Boost and cereal overflow an 8 MiB stack on this chain (~10k / ~30k nodes): not run";

void save_snapheap(benchmark::State& state, std::int64_t n) {
  auto& f = fixture<SnapheapChainSnapshot>(key("chain/snapheap", n), n);
  std::uint64_t bytes = 0;
  TimedFaults faults;
  for (auto _ : state) {
    bytes = snapheap::save(f.heap, f.buffer).bytes;
  }
  set_snapshot_counters(state, n, bytes);
  state.SetLabel(std::string("warm; reused ByteBuffer") + kBaselines);
}

void load_snapheap(benchmark::State& state, std::int64_t n) {
  auto& f = fixture<SnapheapChainSnapshot>(key("chain/snapheap", n), n);
  TimedFaults faults;
  for (auto _ : state) {
    const snapheap::SnapshotStats stats = snapheap::load(f.restored, f.buffer);
    Untimed untimed(state);
    if (stats.objects != static_cast<std::size_t>(n)) state.SkipWithError("the loaded chain differs");
    f.drop_restored();
  }
  set_snapshot_counters(state, n, f.bytes);
  state.SetLabel(std::string("warm; reused heap; checksum verified") + kBaselines);
}

}  // namespace

void register_chain_benchmarks() {
  add_pair("save/chain/snapheap", save_snapheap, "load/chain/snapheap", load_snapheap, sweep());
}

}  // namespace snapbench
