// containers/<workload>/<container>: the Boost.Container choices inside snapheap, each measured
// against the standard container it replaced, on the operation snapheap performs with it.
//
//  - mark_stack: the collector's work list (Tracer's WorkList) and the snapshot writer's queue,
//    kept across collections: push n object pointers, then pop them all. boost::container::vector
//    vs std::vector, both with the capacity already reserved (warm).
//  - scratch_ids: a snapshot's per-object scratch arrays (IDs by slot, types by ID, edge starts),
//    sized for n objects and then written once per object. boost::container::vector resized with
//    default_init (no zero-filling) vs std::vector::resize (value-initializes: writes every
//    element twice). A fresh vector per iteration; glibc keeps freed memory (bench/main.cpp), so
//    both are warm.
//  - root_lookup: Heap's root registry (set_root, root<T>(name)): n names, each looked up once in
//    a shuffled order. boost::container::flat_map (sorted vector) vs std::map vs std::unordered_map,
//    all with heterogeneous lookup by std::string_view where the container allows it.
//  - root_insert: n set_root calls with new names, in shuffled order, into an empty registry.
//  - root_snapshot_order: what save() needs from the registry, every root in name order (the
//    snapshot's object IDs follow it, so the same heap gives the same bytes). flat_map and std::map
//    iterate in order; std::unordered_map must gather and sort.
#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/container/flat_map.hpp>
#include <boost/container/vector.hpp>

#include "support.hpp"

namespace snapbench {
namespace {

// ---- mark_stack -----------------------------------------------------------------------------------

template <class Vector>
void mark_stack(benchmark::State& state, std::int64_t n) {
  drop_fixture();
  const auto count = static_cast<std::size_t>(n);
  std::vector<std::uintptr_t> objects(count);
  for (std::size_t i = 0; i < count; ++i) objects[i] = 0x1000 + 16 * i;
  Vector stack;
  stack.reserve(count);
  std::uintptr_t sum = 0;
  TimedFaults faults;
  for (auto _ : state) {
    for (std::uintptr_t o : objects) stack.push_back(reinterpret_cast<const void*>(o));
    while (!stack.empty()) {
      sum += reinterpret_cast<std::uintptr_t>(stack.back());
      stack.pop_back();
    }
    benchmark::DoNotOptimize(sum);
  }
  set_rates(state, n);
  state.SetLabel("warm; capacity reserved");
}

// ---- scratch_ids ----------------------------------------------------------------------------------

void fill_ids(std::uint32_t* ids, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) ids[i] = static_cast<std::uint32_t>(i * 7);
}

void scratch_boost_default_init(benchmark::State& state, std::int64_t n) {
  drop_fixture();
  const auto count = static_cast<std::size_t>(n);
  { boost::container::vector<std::uint32_t> warm(count, boost::container::default_init); }
  TimedFaults faults;
  for (auto _ : state) {
    boost::container::vector<std::uint32_t> ids;
    ids.resize(count, boost::container::default_init);
    fill_ids(ids.data(), count);
    benchmark::DoNotOptimize(ids.data());
  }
  set_rates(state, n, n * static_cast<std::int64_t>(sizeof(std::uint32_t)));
  state.SetLabel("warm; resize(n, default_init), then one write per element");
}

void scratch_std_value_init(benchmark::State& state, std::int64_t n) {
  drop_fixture();
  const auto count = static_cast<std::size_t>(n);
  { std::vector<std::uint32_t> warm(count); }
  TimedFaults faults;
  for (auto _ : state) {
    std::vector<std::uint32_t> ids;
    ids.resize(count);
    fill_ids(ids.data(), count);
    benchmark::DoNotOptimize(ids.data());
  }
  set_rates(state, n, n * static_cast<std::int64_t>(sizeof(std::uint32_t)));
  state.SetLabel("warm; resize(n) zero-fills, then one write per element");
}

// ---- the root registry ------------------------------------------------------------------------------

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

using FlatRoots = boost::container::flat_map<std::string, const void*, std::less<>>;
using MapRoots = std::map<std::string, const void*, std::less<>>;
using HashRoots = std::unordered_map<std::string, const void*, StringHash, std::equal_to<>>;

/// Root names as a host would give them ("layer/17/weights"), and a shuffled lookup order.
struct RootNames {
  std::vector<std::string> names;
  std::vector<std::string_view> order;
  explicit RootNames(std::size_t count) {
    names.reserve(count);
    for (std::size_t i = 0; i < count; ++i) names.push_back("layer/" + std::to_string(i) + "/weights");
    order.assign(names.begin(), names.end());
    Rng rng(kSeed);
    for (std::size_t i = count; i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  }
};

template <class Map>
Map make_roots(const RootNames& r) {
  Map roots;
  if constexpr (requires { roots.reserve(std::size_t{}); }) roots.reserve(r.names.size());
  for (std::size_t i = 0; i < r.names.size(); ++i) roots.emplace(r.names[i], reinterpret_cast<const void*>(i + 1));
  return roots;
}

template <class Map>
void root_lookup(benchmark::State& state, std::int64_t n) {
  drop_fixture();
  const RootNames names(static_cast<std::size_t>(n));
  const Map roots = make_roots<Map>(names);
  std::uintptr_t sum = 0;
  TimedFaults faults;
  for (auto _ : state) {
    for (std::string_view name : names.order) {
      auto found = roots.find(name);
      sum += reinterpret_cast<std::uintptr_t>(found->second);
    }
    benchmark::DoNotOptimize(sum);
  }
  set_rates(state, n);
  state.SetLabel("warm; one find(string_view) per name, shuffled order");
}

template <class Map>
void root_insert(benchmark::State& state, std::int64_t n) {
  drop_fixture();
  const RootNames names(static_cast<std::size_t>(n));
  std::uintptr_t sum = 0;
  TimedFaults faults;
  for (auto _ : state) {
    Map roots;
    for (std::string_view name : names.order) roots.emplace(std::string(name), name.data());
    sum += roots.size();
    benchmark::DoNotOptimize(sum);
    Untimed untimed(state);
    roots = Map();
  }
  set_rates(state, n);
  state.SetLabel("warm; set_root of n new names in shuffled order, from empty");
}

template <class Map>
void root_snapshot_order(benchmark::State& state, std::int64_t n) {
  drop_fixture();
  const RootNames names(static_cast<std::size_t>(n));
  const Map roots = make_roots<Map>(names);
  std::vector<std::pair<std::string_view, const void*>> ordered;
  ordered.reserve(roots.size());
  std::uintptr_t sum = 0;
  TimedFaults faults;
  for (auto _ : state) {
    ordered.clear();
    for (const auto& [name, object] : roots) ordered.emplace_back(name, object);
    if constexpr (std::is_same_v<Map, HashRoots>)
      std::sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    sum += reinterpret_cast<std::uintptr_t>(ordered.front().second);
    benchmark::DoNotOptimize(sum);
  }
  set_rates(state, n);
  state.SetLabel("warm; every root in name order, as save() needs them");
}

const std::vector<std::int64_t> kRootCounts = {16, 1024, 16384};

}  // namespace

void register_container_benchmarks() {
  add("containers/mark_stack/boost_vector", mark_stack<boost::container::vector<const void*>>);
  add("containers/mark_stack/std_vector", mark_stack<std::vector<const void*>>);
  add("containers/scratch_ids/boost_vector_default_init", scratch_boost_default_init);
  add("containers/scratch_ids/std_vector", scratch_std_value_init);
  add("containers/root_lookup/boost_flat_map", root_lookup<FlatRoots>, kRootCounts);
  add("containers/root_lookup/std_map", root_lookup<MapRoots>, kRootCounts);
  add("containers/root_lookup/std_unordered_map", root_lookup<HashRoots>, kRootCounts);
  add("containers/root_insert/boost_flat_map", root_insert<FlatRoots>, kRootCounts);
  add("containers/root_insert/std_map", root_insert<MapRoots>, kRootCounts);
  add("containers/root_insert/std_unordered_map", root_insert<HashRoots>, kRootCounts);
  add("containers/root_snapshot_order/boost_flat_map", root_snapshot_order<FlatRoots>, kRootCounts);
  add("containers/root_snapshot_order/std_map", root_snapshot_order<MapRoots>, kRootCounts);
  add("containers/root_snapshot_order/std_unordered_map", root_snapshot_order<HashRoots>, kRootCounts);
}

}  // namespace snapbench
