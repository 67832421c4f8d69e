// save/seed_weak/<system> and load/seed_weak/<system>: the seed document's example 1. A model
// with one layer holding a weak reference to an n-element payload, which the host keeps alive;
// only the model is saved.
//  - snapheap: seed::build(heap, Scenario::weak_ref, n) and save(heap, buffer, {.roots={"model"}}):
//    the payload is not reachable from "model" through strong edges, so the weak handle is written
//    as a tombstone and the payload is not written.
//  - boost / cereal: SModel -> std::shared_ptr<SWeakRefLayer> -> std::weak_ptr<SPayload>. Both
//    save a weak_ptr by locking it, so the whole payload is written; on load it is resurrected
//    and dies as soon as the archive lets go of it, leaving the weak_ptr expired.
// (pickle refuses the model outright: see pickle_bench.py.)
#include <cstdint>
#include <memory>
#include <vector>

#include <seed/seed_model.hpp>

#include "baselines.hpp"
#include "support.hpp"
#include "types.hpp"

namespace snapbench {
namespace {

/// A seed scenario with only "model" saved (if kExternal, with "large_data" external). For the
/// strong scenario the heap loaded into holds its own payload as "large_data", as the host would.
template <seed::Scenario kScenario, bool kExternal = false>
struct SnapheapSeed final : Fixture {
  snapheap::Heap heap;
  snapheap::Heap restored;
  snapheap::ByteBuffer buffer;
  snapheap::SaveOptions options;
  std::uint64_t bytes = 0;

  explicit SnapheapSeed(std::int64_t n) {
    seed::build(heap, kScenario, n);
    options.roots = {"model"};
    if (kExternal) options.external = {"large_data"};
    bytes = snapheap::save(heap, buffer, options).bytes;
    if (kScenario == seed::Scenario::strong_ref) restored.set_root("large_data", restored.make<seed::Payload>(n));
    snapheap::load(restored, buffer);
    drop_restored();
  }
  void drop_restored() {
    restored.remove_root("model");
    restored.collect();
  }
};
using SnapheapSeedWeak = SnapheapSeed<seed::Scenario::weak_ref>;

void counters(benchmark::State& state, std::int64_t n, std::uint64_t bytes) {
  set_rates(state, n, static_cast<std::int64_t>(bytes));
  set_counter(state, "snapshot_bytes", static_cast<double>(bytes));
}

void save_snapheap(benchmark::State& state, std::int64_t n) {
  auto& f = fixture<SnapheapSeedWeak>(key("seed/snapheap", n), n);
  std::uint64_t bytes = 0;
  TimedFaults faults;
  for (auto _ : state) {
    const snapheap::SnapshotStats stats = snapheap::save(f.heap, f.buffer, f.options);
    bytes = stats.bytes;
    if (stats.weak_tombstones != 1) state.SkipWithError("the weak handle was not a tombstone");
  }
  counters(state, n, bytes);
  state.SetLabel("roots={model}: the weak handle becomes a tombstone, the payload stays out");
}

void load_snapheap(benchmark::State& state, std::int64_t n) {
  auto& f = fixture<SnapheapSeedWeak>(key("seed/snapheap", n), n);
  TimedFaults faults;
  for (auto _ : state) {
    snapheap::load(f.restored, f.buffer);
    Untimed untimed(state);
    auto model = f.restored.root<seed::Model>("model");
    auto* layer = model ? dynamic_cast<seed::WeakRefLayer*>(model->layers.at(0).get()) : nullptr;
    if (!layer || !layer->large_data.expired()) state.SkipWithError("the restored layer differs");
    model.reset();
    f.drop_restored();
  }
  counters(state, n, f.bytes);
  state.SetLabel("the restored weak handle is expired (a tombstone)");
}

template <bool kBoost>
struct SerializerSeed final : Fixture {
  std::shared_ptr<SPayload> large_data;  // the host keeps the payload, as the seed's global does
  SModel model;
  std::vector<char> storage;
  std::size_t bytes = 0;

  explicit SerializerSeed(std::int64_t n) : large_data(std::make_shared<SPayload>()) {
    large_data->values = std_range(n);
    auto layer = std::make_shared<SWeakRefLayer>();
    layer->large_data = large_data;
    model.layers.push_back(layer);
    save();
  }
  void save() { bytes = kBoost ? boost_save(model, storage) : cereal_save(model, storage); }
  void load(SModel& out) const {
    if constexpr (kBoost) boost_load(storage, bytes, out);
    else cereal_load(storage, bytes, out);
  }
};

template <bool kBoost>
void save_serializer(benchmark::State& state, std::int64_t n) {
  auto& f = fixture<SerializerSeed<kBoost>>(key(kBoost ? "seed/boost" : "seed/cereal", n), n);
  TimedFaults faults;
  for (auto _ : state) {
    f.save();
  }
  counters(state, n, f.bytes);
  state.SetLabel("weak_ptr saved by locking it: the whole payload is written");
}

template <bool kBoost>
void load_serializer(benchmark::State& state, std::int64_t n) {
  auto& f = fixture<SerializerSeed<kBoost>>(key(kBoost ? "seed/boost" : "seed/cereal", n), n);
  {
    SModel warm;  // an untimed round first, as every system gets
    f.load(warm);
  }
  TimedFaults faults;
  for (auto _ : state) {
    SModel out;
    f.load(out);
    Untimed untimed(state);
    if (out.layers.size() != 1 || !out.layers[0]->large_data.expired())
      state.SkipWithError("expected the resurrected payload to have died");
    out = SModel();  // freed while the clock is stopped
  }
  counters(state, n, f.bytes);
  state.SetLabel("the payload is read back, resurrected, and freed at once (expired weak_ptr)");
}

// save/seed_external/<system> and load/seed_external/<system>: the seed's example 2 (a layer
// holding a Member to the n-element payload), only the model saved.
//  - snapheap: {.roots={"model"}, .external={"large_data"}}: the Member is written as a reference
//    to the root's name; loaded into a heap that has its own "large_data" (the load binds it).
//  - snapheap_with_payload: {.roots={"model"}}: the payload travels with the model (8 MB at 10^6)
//    and is loaded as a copy.
// (pickle with a persistent_id for the payload, and without: pickle_bench.py's seed_strong_*.)
template <bool kExternal>
using SnapheapSeedStrong = SnapheapSeed<seed::Scenario::strong_ref, kExternal>;

const char* seed_strong_key(bool external) { return external ? "seed_external/snapheap" : "seed_external/with_payload"; }

template <bool kExternal>
void save_seed_strong(benchmark::State& state, std::int64_t n) {
  auto& f = fixture<SnapheapSeedStrong<kExternal>>(key(seed_strong_key(kExternal), n), n);
  std::uint64_t bytes = 0;
  TimedFaults faults;
  for (auto _ : state) {
    const snapheap::SnapshotStats stats = snapheap::save(f.heap, f.buffer, f.options);
    bytes = stats.bytes;
    if (stats.strong_external != (kExternal ? 1u : 0u)) state.SkipWithError("the Member was not written as expected");
  }
  counters(state, n, bytes);
  state.SetLabel(kExternal ? "external={large_data}: the Member is written as the root's name"
                           : "roots={model}: the payload is written with the model");
}

template <bool kExternal>
void load_seed_strong(benchmark::State& state, std::int64_t n) {
  auto& f = fixture<SnapheapSeedStrong<kExternal>>(key(seed_strong_key(kExternal), n), n);
  const snapheap::Object* existing = f.restored.template root<seed::Payload>("large_data").get();
  TimedFaults faults;
  for (auto _ : state) {
    snapheap::load(f.restored, f.buffer);
    Untimed untimed(state);
    auto model = f.restored.template root<seed::Model>("model");
    auto* layer = model ? dynamic_cast<seed::StrongRefLayer*>(model->layers.at(0).get()) : nullptr;
    if (!layer || (layer->large_data.get() == existing) != kExternal ||
        layer->large_data->values.size() != static_cast<std::size_t>(n))
      state.SkipWithError("the restored layer differs");
    model.reset();
    f.drop_restored();
  }
  counters(state, n, f.bytes);
  state.SetLabel(kExternal ? "beside the heap's own payload: the Member is bound to it"
                           : "the payload is read back as a copy beside the heap's own");
}

}  // namespace

void register_seed_benchmarks() {
  add_pair("save/seed_external/snapheap", save_seed_strong<true>, "load/seed_external/snapheap",
           load_seed_strong<true>, {kMillion});
  add_pair("save/seed_external/snapheap_with_payload", save_seed_strong<false>,
           "load/seed_external/snapheap_with_payload", load_seed_strong<false>, {kMillion});
  add_pair("save/seed_weak/snapheap", save_snapheap, "load/seed_weak/snapheap", load_snapheap, {kMillion});
  add_pair("save/seed_weak/boost", save_serializer<true>, "load/seed_weak/boost", load_serializer<true>, {kMillion});
  add_pair("save/seed_weak/cereal", save_serializer<false>, "load/seed_weak/cereal", load_serializer<false>, {kMillion});
}

}  // namespace snapbench
