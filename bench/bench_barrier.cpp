// barrier/<store>/<system>: the cost of the write barrier on a Member store, against a plain
// pointer store, 10^6 stores per iteration into 1,024 slots of one object from 4,096 targets
// (so the stores stay in cache and only the store path is measured).
//
//   member_idle          Member assignment in a stop-the-world heap: the barrier is one load of
//                        the barrier-heaps counter and a branch not taken
//   member_generational  the same store while a generational heap exists: the barrier's slow
//                        path runs, finds the target young and remembers it (once per target)
//   plain                a raw pointer store into a std::vector<SmallObject*>, the floor
//
// barrier/handover/<container>: a container of 16 Members moved to another and back (two move
// assignments, the buffer changing hands), 10^6 round trips per iteration, no cycle marking:
//
//   snapheap_vector      snapheap::Vector, whose moves run the barrier on what they receive:
//                        one load of the marking-heaps counter and a branch not taken
//   std_vector           std::vector with the same allocator, which runs none, the floor
//
// Both containers live in memory and every move is finished before the next starts (a memory
// clobber after each): with a clobber only after the round trip, the compiler fused the two
// std::vector moves into almost nothing, a floor no program moving containers between objects
// has (any code between the two moves, even a branch on a global, makes it do both moves through
// memory, about 2x the time), so that the ratio measured that fusion and not the barrier.
//
// Warm: the heap, the holder and the targets are built once per benchmark run.
#include <cstdint>
#include <vector>

#include "support.hpp"
#include "types.hpp"

namespace snapbench {
namespace {

constexpr std::size_t kSlots = 1024;
constexpr std::size_t kTargets = 4096;

struct Holder final : snapheap::Object {
  snapheap::Vector<snapheap::Member<SmallObject>> slots;
  void trace(snapheap::Tracer& t) const override { t.trace(slots); }
};

void member_store(benchmark::State& state, std::int64_t n, snapheap::GcMode mode) {
  snapheap::HeapOptions o;
  o.mode = mode;
  o.stress = false;
  o.verify_after_collect = false;
  snapheap::Heap heap(o);
  snapheap::Strong<Holder> holder = heap.make<Holder>();
  holder->slots.resize(kSlots);
  std::vector<snapheap::Strong<SmallObject>> targets;
  for (std::size_t i = 0; i < kTargets; ++i) targets.push_back(heap.make<SmallObject>(static_cast<std::int64_t>(i)));
  if (mode == snapheap::GcMode::generational) heap.collect();  // holder and targets are old now
  std::vector<snapheap::Member<SmallObject>> sources(targets.begin(), targets.end());
  auto& slots = holder->slots;
  TimedFaults faults;
  for (auto _ : state) {
    for (std::int64_t i = 0; i < n; ++i) {
      const auto k = static_cast<std::size_t>(i);
      slots[k & (kSlots - 1)] = sources[(k * 7) & (kTargets - 1)];
      benchmark::ClobberMemory();  // one store per element, as the plain loop does
    }
  }
  set_rates(state, n);
}

void member_idle(benchmark::State& state, std::int64_t n) {
  member_store(state, n, snapheap::GcMode::stop_the_world);
}
void member_generational(benchmark::State& state, std::int64_t n) {
  member_store(state, n, snapheap::GcMode::generational);
}

void plain_store(benchmark::State& state, std::int64_t n) {
  std::vector<PlainSmall> objects(kTargets);
  std::vector<PlainSmall*> sources;
  for (auto& p : objects) sources.push_back(&p);
  std::vector<PlainSmall*> slots(kSlots);
  benchmark::DoNotOptimize(slots.data());
  TimedFaults faults;
  for (auto _ : state) {
    for (std::int64_t i = 0; i < n; ++i) {
      const auto k = static_cast<std::size_t>(i);
      slots[k & (kSlots - 1)] = sources[(k * 7) & (kTargets - 1)];
      benchmark::ClobberMemory();  // one store per element, as the Member loop does
    }
  }
  set_rates(state, n);
}

template <class Container>
void handover(benchmark::State& state, std::int64_t n) {
  snapheap::Heap heap;  // stop-the-world: no cycle ever marks
  std::vector<snapheap::Strong<SmallObject>> targets;
  for (std::int64_t i = 0; i < 16; ++i) targets.push_back(heap.make<SmallObject>(i));
  Container a(targets.begin(), targets.end()), b;
  benchmark::DoNotOptimize(&a);  // both live in memory, as containers inside objects do
  benchmark::DoNotOptimize(&b);
  TimedFaults faults;
  for (auto _ : state) {
    for (std::int64_t i = 0; i < n; ++i) {
      b = std::move(a);
      benchmark::ClobberMemory();  // each move is done, not fused with the next (see above)
      a = std::move(b);
      benchmark::ClobberMemory();
    }
  }
  if (a.size() != targets.size()) state.SkipWithError("the container lost its elements");
  set_rates(state, n);
}

void handover_snapheap_vector(benchmark::State& state, std::int64_t n) {
  handover<snapheap::Vector<snapheap::Member<SmallObject>>>(state, n);
}
void handover_std_vector(benchmark::State& state, std::int64_t n) {
  using M = snapheap::Member<SmallObject>;
  handover<std::vector<M, snapheap::Allocator<M>>>(state, n);
}

}  // namespace

void register_barrier_benchmarks() {
  add("barrier/store/member_idle", member_idle);
  add("barrier/store/member_generational", member_generational);
  add("barrier/store/plain", plain_store);
  add("barrier/handover/snapheap_vector", handover_snapheap_vector);
  add("barrier/handover/std_vector", handover_std_vector);
}

}  // namespace snapbench
