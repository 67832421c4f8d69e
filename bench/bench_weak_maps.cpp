// Weak maps and death callbacks, each against what a C++ programmer would write without them, in
// the same run. n = 10^6 (--smoke: 10^3); every index order below is one fixed shuffle of 0..n-1
// (the same for every system), so that lookups do not walk the tables in insertion order.
//
// weak_map/<workload>/<system>: snapheap::WeakKeyMap<SmallObject, SmallObject> over n live keys
// rooted by a holder object (a std::vector<Member<SmallObject>>), n values likewise held.
//  - set: clear() untimed, then set(key, value) for every key. Warm: the map is reused (its bucket
//    array stays; its nodes come from the heap's Allocator, so the automatic collections that
//    owned memory starts are in the figure: collections_per_iteration). Baseline unordered_map:
//    std::unordered_map<const void*, PlainSmall*> over n make_shared keys and values, clear()ed
//    and refilled the same way.
//  - get: get(key) (a Strong, dereferenced) for every key; unordered_map: find()->second.
//  - collect_half: each iteration builds (untimed) n keys in a holder, each with a fresh value
//    held only by the map's entry (an ephemeron: the value lives while its key does). Timed: the
//    host releases the odd half of the keys from the holder, heap.collect() (which finds the half
//    dead and, through the ephemerons, their values too) and the map's next operation (size(),
//    which drops the 500k dead entries; also timed alone: drop_ns_per_dead_entry).
//    snapheap_no_map: the same objects with each value in its key's `left` field instead of in a
//    map, the same release and collection: the map's own cost is the difference.
//
// weak_value_map/<workload>/<system>: snapheap::WeakValueMap<int64_t, SmallObject> as a cache of
// n entries (i -> object i), the objects held by a holder.
//  - get: get(i) for every key; weak_ptr_map: std::unordered_map<int64_t, std::weak_ptr<PlainSmall>>,
//    find()->second.lock().
//  - expire_half: timed, the host releases the odd half of the objects, heap.collect() and size()
//    (which drops the dead entries). snapheap_no_map: the same release and collection without the
//    map. weak_ptr_map: shared_ptr::reset of the odd half (the objects die there) and a pass of
//    std::erase_if over the map erasing the expired entries.
//
// death/<workload>/<system>: Heap::on_death over n objects held by Strong handles; the callback
// increments a counter (a pointer capture: no allocation in std::function).
//  - register: n on_death() calls; snapheap: each DeathWatch detached, snapheap_kept: each moved
//    into a reserved std::vector<DeathWatch>. ns_per_registration.
//  - half_fire: n callbacks registered untimed; timed: the release of the odd half and the
//    collect() that finds them dead and runs their n/2 callbacks. snapheap_no_callbacks: the same
//    release and collection without registrations. snapheap's ns_per_callback counter pairs the
//    two inside each iteration ((with - without) / callbacks run, by the thread's CPU clock).
//
// Warm: one Heap per benchmark is reused (kept between repetitions, see fixture()); inputs are
// built and torn down outside the timed region.
#include <time.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "support.hpp"
#include "types.hpp"

namespace snapbench {
namespace {

using KeyMap = snapheap::WeakKeyMap<SmallObject, SmallObject>;
using ValueMap = snapheap::WeakValueMap<std::int64_t, SmallObject>;

/// Roots n managed objects for the maps' benchmarks.
struct Holder final : snapheap::Object {
  std::vector<snapheap::Member<SmallObject>> items;
  void trace(snapheap::Tracer& t) const override { t.trace(items); }
};

std::int64_t expected_alive(std::int64_t n) { return (n + 1) / 2; }

/// The thread's CPU time in nanoseconds (what Google Benchmark's cpu_time counts).
std::int64_t thread_cpu_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

/// The thread's CPU time over the timed parts it is started and stopped around, for the
/// per-operation counters (ns_per_op): the same clock as Google Benchmark's cpu_time.
class OpClock {
 public:
  void start() noexcept { start_ = thread_cpu_ns(); }
  void stop() noexcept { total_ += thread_cpu_ns() - start_; }
  /// `name` = nanoseconds per operation, `ops` operations an iteration.
  void report(benchmark::State& state, const char* name, std::int64_t ops) const {
    if (state.iterations() > 0 && ops > 0)
      set_counter(state, name,
                  static_cast<double>(total_) / (static_cast<double>(ops) * static_cast<double>(state.iterations())));
  }

 private:
  std::int64_t start_ = 0;
  std::int64_t total_ = 0;
};

/// 0..n-1 in one fixed shuffled order (Fisher-Yates from kSeed).
std::vector<std::uint32_t> shuffled(std::int64_t n) {
  std::vector<std::uint32_t> order(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::uint32_t>(i);
  Rng rng(kSeed ^ 0x3a9ULL ^ static_cast<std::uint64_t>(n));
  for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  return order;
}

snapheap::Strong<Holder> make_holder(snapheap::Heap& heap, std::int64_t n, std::int64_t first_value = 0) {
  auto holder = heap.make<Holder>();
  holder->items.reserve(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) holder->items.emplace_back(heap.make<SmallObject>(first_value + i));
  return holder;
}

void release_odd(Holder& holder) noexcept {
  for (std::size_t i = 1; i < holder.items.size(); i += 2) holder.items[i].reset();
}

// ---- weak_map/set and weak_map/get ---------------------------------------------------------------

struct KeyMapInputs final : Fixture {
  snapheap::Heap heap;
  snapheap::Strong<Holder> keys;
  snapheap::Strong<Holder> values;
  snapheap::Strong<KeyMap> map;
  std::vector<std::uint32_t> order;

  explicit KeyMapInputs(std::int64_t n)
      : keys(make_holder(heap, n)), values(make_holder(heap, n, n)), map(heap.make<KeyMap>()), order(shuffled(n)) {
    fill();  // the untimed round: the map's bucket array is at its full size from here on
  }
  void fill() {
    for (const std::uint32_t i : order) map->set(keys->items[i].get(), values->items[i].get());
  }
};

void key_set_snapheap(benchmark::State& state, std::int64_t n) {
  auto& f = fixture<KeyMapInputs>(key("weak_map/inputs/snapheap", n), n);
  std::uint64_t collections = 0;
  OpClock op_clock;
  TimedFaults faults;
  for (auto _ : state) {
    {
      Untimed untimed(state);
      f.map->clear();
    }
    op_clock.start();
    const std::uint64_t before = f.heap.stats().collections;
    f.fill();
    collections += f.heap.stats().collections - before;
    op_clock.stop();
    Untimed untimed(state);
    if (f.map->size() != static_cast<std::size_t>(n)) state.SkipWithError("wrong map size after set");
  }
  set_rates(state, n);
  op_clock.report(state, "ns_per_op", n);
  set_counter(state, "collections_per_iteration",
              static_cast<double>(collections) / static_cast<double>(state.iterations()));
  state.SetLabel("warm; WeakKeyMap::set of n entries (cleared untimed), shuffled order");
}

/// The lookup benchmarks' loop: lookup(i) for every index of the fixture's shuffled order, the
/// values summed (and checked against `expected`), each pass timed by the operation clock.
template <class Inputs, class Lookup>
void time_lookups(benchmark::State& state, const Inputs& f, std::int64_t n, std::int64_t expected, const char* label,
                  Lookup lookup) {
  std::int64_t sum = 0;
  OpClock op_clock;
  TimedFaults faults;
  for (auto _ : state) {
    op_clock.start();
    sum = 0;
    for (const std::uint32_t i : f.order) sum += lookup(i);
    benchmark::DoNotOptimize(sum);
    op_clock.stop();
  }
  if (sum != expected) state.SkipWithError("wrong sum of the values");
  set_rates(state, n);
  op_clock.report(state, "ns_per_op", n);
  state.SetLabel(label);
}

void key_get_snapheap(benchmark::State& state, std::int64_t n) {
  auto& f = fixture<KeyMapInputs>(key("weak_map/inputs/snapheap", n), n);
  // Values are n..2n-1.
  time_lookups(state, f, n, n * n + n * (n - 1) / 2, "WeakKeyMap::get of every key (a Strong each), shuffled order",
               [&](std::uint32_t i) { return f.map->get(f.keys->items[i].get())->value; });
}

struct PlainKeyInputs final : Fixture {
  std::vector<std::shared_ptr<PlainSmall>> keys;
  std::vector<std::shared_ptr<PlainSmall>> values;
  std::unordered_map<const void*, PlainSmall*> map;
  std::vector<std::uint32_t> order;

  explicit PlainKeyInputs(std::int64_t n) : order(shuffled(n)) {
    keys.reserve(static_cast<std::size_t>(n));
    values.reserve(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) keys.push_back(std::make_shared<PlainSmall>(PlainSmall{i, nullptr, nullptr}));
    for (std::int64_t i = 0; i < n; ++i)
      values.push_back(std::make_shared<PlainSmall>(PlainSmall{n + i, nullptr, nullptr}));
    fill();
  }
  void fill() {
    for (const std::uint32_t i : order) map[keys[i].get()] = values[i].get();
  }
};

void key_set_unordered_map(benchmark::State& state, std::int64_t n) {
  auto& f = fixture<PlainKeyInputs>(key("weak_map/inputs/unordered_map", n), n);
  OpClock op_clock;
  TimedFaults faults;
  for (auto _ : state) {
    {
      Untimed untimed(state);
      f.map.clear();
    }
    op_clock.start();
    f.fill();
    op_clock.stop();
    Untimed untimed(state);
    if (f.map.size() != static_cast<std::size_t>(n)) state.SkipWithError("wrong map size after set");
  }
  set_rates(state, n);
  op_clock.report(state, "ns_per_op", n);
  state.SetLabel("warm; std::unordered_map<const void*, PlainSmall*> insert of n entries (cleared untimed)");
}

void key_get_unordered_map(benchmark::State& state, std::int64_t n) {
  auto& f = fixture<PlainKeyInputs>(key("weak_map/inputs/unordered_map", n), n);
  time_lookups(state, f, n, n * n + n * (n - 1) / 2, "std::unordered_map::find of every key, shuffled order",
               [&](std::uint32_t i) { return f.map.find(f.keys[i].get())->second->value; });
}

// ---- weak_map/collect_half -----------------------------------------------------------------------

struct KeyMapHeap final : Fixture {
  snapheap::Heap heap;
  snapheap::Strong<KeyMap> map;
  KeyMapHeap() : map(heap.make<KeyMap>()) {}
};

void collect_half(benchmark::State& state, std::int64_t n, bool with_map) {
  auto& f = fixture<KeyMapHeap>(key(with_map ? "weak_map/collect_half/snapheap" : "weak_map/collect_half/snapheap_no_map", n));
  const std::vector<std::uint32_t> order = shuffled(n);
  std::int64_t drop_ns = 0;
  TimedFaults faults;
  for (auto _ : state) {
    snapheap::Strong<Holder> keys;
    {
      Untimed untimed(state);
      keys = make_holder(f.heap, n);
      for (const std::uint32_t i : order) {
        SmallObject* key = keys->items[i].get();
        snapheap::Strong<SmallObject> value = f.heap.make<SmallObject>(n + static_cast<std::int64_t>(i));
        if (with_map)
          f.map->set(key, value.get());
        else
          key->left = value;
      }
    }
    release_odd(*keys);
    f.heap.collect();
    std::size_t size = 0;
    if (with_map) {
      const std::int64_t t0 = thread_cpu_ns();
      size = f.map->size();
      drop_ns += thread_cpu_ns() - t0;
    }
    Untimed untimed(state);
    const std::size_t live = f.heap.stats().live_objects;
    // The keys that live and their values, the holder and the map (empty in snapheap_no_map).
    if (live != static_cast<std::size_t>(2 * expected_alive(n) + 2))
      state.SkipWithError("wrong number of live objects after the collection");
    if (with_map && size != static_cast<std::size_t>(expected_alive(n)))
      state.SkipWithError("wrong map size after the collection");
    f.map->clear();
    keys.reset();
    f.heap.collect();
  }
  set_rates(state, n);
  if (with_map) {
    const double dead = static_cast<double>(n - expected_alive(n)) * static_cast<double>(state.iterations());
    set_counter(state, "drop_ns_per_dead_entry", static_cast<double>(drop_ns) / dead);
  }
  state.SetLabel(with_map ? "warm; release of the odd half of the keys + collect() + WeakKeyMap::size()"
                          : "warm; release of the odd half of the keys (values in their fields) + collect()");
}

void collect_half_snapheap(benchmark::State& state, std::int64_t n) { collect_half(state, n, true); }
void collect_half_no_map(benchmark::State& state, std::int64_t n) { collect_half(state, n, false); }

// ---- weak_value_map/get --------------------------------------------------------------------------

struct ValueMapInputs final : Fixture {
  snapheap::Heap heap;
  snapheap::Strong<Holder> values;
  snapheap::Strong<ValueMap> map;
  std::vector<std::uint32_t> order;

  explicit ValueMapInputs(std::int64_t n) : values(make_holder(heap, n)), map(heap.make<ValueMap>()), order(shuffled(n)) {
    for (const std::uint32_t i : order) map->set(static_cast<std::int64_t>(i), values->items[i].get());
  }
};

void value_get_snapheap(benchmark::State& state, std::int64_t n) {
  auto& f = fixture<ValueMapInputs>(key("weak_value_map/get/snapheap", n), n);
  time_lookups(state, f, n, n * (n - 1) / 2,
               "WeakValueMap<int64_t, SmallObject>::get of every key (a Strong each), shuffled order",
               [&](std::uint32_t i) { return f.map->get(static_cast<std::int64_t>(i))->value; });
}

struct PlainValueInputs final : Fixture {
  std::vector<std::shared_ptr<PlainSmall>> values;
  std::unordered_map<std::int64_t, std::weak_ptr<PlainSmall>> map;
  std::vector<std::uint32_t> order;

  explicit PlainValueInputs(std::int64_t n) : order(shuffled(n)) {
    values.reserve(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) values.push_back(std::make_shared<PlainSmall>(PlainSmall{i, nullptr, nullptr}));
    for (const std::uint32_t i : order) map.emplace(static_cast<std::int64_t>(i), values[i]);
  }
};

void value_get_weak_ptr(benchmark::State& state, std::int64_t n) {
  auto& f = fixture<PlainValueInputs>(key("weak_value_map/get/weak_ptr_map", n), n);
  time_lookups(state, f, n, n * (n - 1) / 2,
               "std::unordered_map<int64_t, std::weak_ptr<PlainSmall>>::find + lock() of every key, shuffled order",
               [&](std::uint32_t i) { return f.map.find(static_cast<std::int64_t>(i))->second.lock()->value; });
}

// ---- weak_value_map/expire_half ------------------------------------------------------------------

struct ValueMapHeap final : Fixture {
  snapheap::Heap heap;
  snapheap::Strong<ValueMap> map;
  ValueMapHeap() : map(heap.make<ValueMap>()) {}
};

void expire_half(benchmark::State& state, std::int64_t n, bool with_map) {
  auto& f = fixture<ValueMapHeap>(key(with_map ? "weak_value_map/expire_half/snapheap" : "weak_value_map/expire_half/snapheap_no_map", n));
  const std::vector<std::uint32_t> order = shuffled(n);
  std::int64_t drop_ns = 0;
  TimedFaults faults;
  for (auto _ : state) {
    snapheap::Strong<Holder> values;
    {
      Untimed untimed(state);
      values = make_holder(f.heap, n);
      if (with_map)
        for (const std::uint32_t i : order) f.map->set(static_cast<std::int64_t>(i), values->items[i].get());
    }
    release_odd(*values);
    f.heap.collect();
    std::size_t size = 0;
    if (with_map) {
      const std::int64_t t0 = thread_cpu_ns();
      size = f.map->size();
      drop_ns += thread_cpu_ns() - t0;
    }
    Untimed untimed(state);
    if (f.heap.stats().live_objects != static_cast<std::size_t>(expected_alive(n) + 2))
      state.SkipWithError("wrong number of live objects after the collection");
    if (with_map && size != static_cast<std::size_t>(expected_alive(n)))
      state.SkipWithError("wrong map size after the collection");
    f.map->clear();
    values.reset();
    f.heap.collect();
  }
  set_rates(state, n);
  if (with_map) {
    const double dead = static_cast<double>(n - expected_alive(n)) * static_cast<double>(state.iterations());
    set_counter(state, "drop_ns_per_dead_entry", static_cast<double>(drop_ns) / dead);
  }
  state.SetLabel(with_map ? "warm; release of the odd half + collect() + WeakValueMap::size()"
                          : "warm; release of the odd half + collect() (no map)");
}

void expire_half_snapheap(benchmark::State& state, std::int64_t n) { expire_half(state, n, true); }
void expire_half_no_map(benchmark::State& state, std::int64_t n) { expire_half(state, n, false); }

void expire_half_weak_ptr(benchmark::State& state, std::int64_t n) {
  drop_fixture();
  const auto count = static_cast<std::size_t>(n);
  const std::vector<std::uint32_t> order = shuffled(n);
  std::vector<std::shared_ptr<PlainSmall>> values;
  std::unordered_map<std::int64_t, std::weak_ptr<PlainSmall>> map;
  values.reserve(count);
  TimedFaults faults;
  for (auto _ : state) {
    {
      Untimed untimed(state);
      for (std::int64_t i = 0; i < n; ++i) values.push_back(std::make_shared<PlainSmall>(PlainSmall{i, nullptr, nullptr}));
      for (const std::uint32_t i : order) map.emplace(static_cast<std::int64_t>(i), values[i]);
    }
    for (std::size_t i = 1; i < count; i += 2) values[i].reset();
    std::erase_if(map, [](const auto& entry) { return entry.second.expired(); });
    const std::size_t size = map.size();
    Untimed untimed(state);
    if (size != static_cast<std::size_t>(expected_alive(n))) state.SkipWithError("wrong map size after the pass");
    map.clear();
    values.clear();
  }
  set_rates(state, n);
  state.SetLabel("warm; shared_ptr::reset of the odd half + std::erase_if(expired) over the map");
}

// ---- death/register ------------------------------------------------------------------------------

struct DeathHeap final : Fixture {
  snapheap::Heap heap;
  std::int64_t ran = 0;  // callbacks run
};

/// n objects into `objects` (empty, reserved once: its buffer is never freed in a timed part).
void make_objects(snapheap::Heap& heap, std::int64_t n, std::vector<snapheap::Strong<SmallObject>>& objects) {
  for (std::int64_t i = 0; i < n; ++i) objects.push_back(heap.make<SmallObject>(i));
}

void register_deaths(benchmark::State& state, std::int64_t n, bool kept) {
  auto& f = fixture<DeathHeap>(key(kept ? "death/register/snapheap_kept" : "death/register/snapheap", n));
  std::int64_t* const ran = &f.ran;
  std::vector<snapheap::DeathWatch> watches;
  watches.reserve(static_cast<std::size_t>(n));
  OpClock op_clock;
  TimedFaults faults;
  std::vector<snapheap::Strong<SmallObject>> objects;
  objects.reserve(static_cast<std::size_t>(n));
  for (auto _ : state) {
    {
      Untimed untimed(state);
      make_objects(f.heap, n, objects);
    }
    op_clock.start();
    if (kept) {
      for (const auto& o : objects) watches.push_back(f.heap.on_death(o, [ran] { ++*ran; }));
    } else {
      for (const auto& o : objects) f.heap.on_death(o, [ran] { ++*ran; }).detach();
    }
    op_clock.stop();
    Untimed untimed(state);
    watches.clear();  // cancels the kept ones; the detached ones run in the collection below
    f.ran = 0;
    objects.clear();
    f.heap.collect();
    if (f.ran != (kept ? 0 : n)) state.SkipWithError("wrong number of callbacks run");
  }
  set_rates(state, n);
  op_clock.report(state, "ns_per_registration", n);
  state.SetLabel(kept ? "warm; n on_death() kept in a std::vector<DeathWatch>" : "warm; n on_death().detach()");
}

void register_detached(benchmark::State& state, std::int64_t n) { register_deaths(state, n, false); }
void register_kept(benchmark::State& state, std::int64_t n) { register_deaths(state, n, true); }

// ---- death/half_fire -----------------------------------------------------------------------------

void half_fire(benchmark::State& state, std::int64_t n, bool with_callbacks) {
  auto& f = fixture<DeathHeap>(key(with_callbacks ? "death/half_fire/snapheap" : "death/half_fire/snapheap_no_callbacks", n));
  std::int64_t* const ran = &f.ran;
  const std::size_t count = static_cast<std::size_t>(n);
  std::int64_t with_ns = 0, without_ns = 0, callbacks = 0;
  TimedFaults faults;
  std::vector<snapheap::Strong<SmallObject>> objects;
  objects.reserve(count);
  for (auto _ : state) {
    {
      Untimed untimed(state);
      if (with_callbacks) {
        // The pair: the same release and collection without registrations, timed by hand.
        make_objects(f.heap, n, objects);
        const std::int64_t t0 = thread_cpu_ns();
        for (std::size_t i = 1; i < count; i += 2) objects[i].reset();
        f.heap.collect();
        without_ns += thread_cpu_ns() - t0;
        objects.clear();
        f.heap.collect();
      }
      make_objects(f.heap, n, objects);
      if (with_callbacks)
        for (const auto& o : objects) f.heap.on_death(o, [ran] { ++*ran; }).detach();
      f.ran = 0;
    }
    const std::int64_t t0 = thread_cpu_ns();
    for (std::size_t i = 1; i < count; i += 2) objects[i].reset();
    f.heap.collect();
    with_ns += thread_cpu_ns() - t0;
    Untimed untimed(state);
    const std::int64_t dead = n - expected_alive(n);
    if (f.ran != (with_callbacks ? dead : 0)) state.SkipWithError("wrong number of callbacks run");
    callbacks += f.ran;
    objects.clear();
    f.heap.collect();
  }
  set_rates(state, n);
  if (with_callbacks && callbacks > 0) {
    set_counter(state, "callbacks_per_iteration", static_cast<double>(callbacks) / static_cast<double>(state.iterations()));
    set_counter(state, "ns_per_callback", static_cast<double>(with_ns - without_ns) / static_cast<double>(callbacks));
  }
  state.SetLabel(with_callbacks ? "warm; release of the odd half + collect(), which runs their n/2 callbacks"
                                : "warm; release of the odd half + collect() (no registrations)");
}

void half_fire_snapheap(benchmark::State& state, std::int64_t n) { half_fire(state, n, true); }
void half_fire_no_callbacks(benchmark::State& state, std::int64_t n) { half_fire(state, n, false); }

}  // namespace

void register_weak_map_benchmarks() {
  const std::vector<std::int64_t> sizes = {kMillion};
  // Each iteration rebuilds 10^6 objects (and the map or the registrations) untimed, which takes
  // longer than the timed part: a fixed 3 iterations keeps a benchmark to a few seconds.
  const AddOptions rebuilt{.iterations = 3};
  add("weak_map/set/snapheap", key_set_snapheap, sizes);
  add("weak_map/set/unordered_map", key_set_unordered_map, sizes);
  add("weak_map/get/snapheap", key_get_snapheap, sizes);
  add("weak_map/get/unordered_map", key_get_unordered_map, sizes);
  add("weak_map/collect_half/snapheap", collect_half_snapheap, sizes, rebuilt);
  add("weak_map/collect_half/snapheap_no_map", collect_half_no_map, sizes, rebuilt);
  add("weak_value_map/get/snapheap", value_get_snapheap, sizes);
  add("weak_value_map/get/weak_ptr_map", value_get_weak_ptr, sizes);
  add("weak_value_map/expire_half/snapheap", expire_half_snapheap, sizes, rebuilt);
  add("weak_value_map/expire_half/snapheap_no_map", expire_half_no_map, sizes, rebuilt);
  add("weak_value_map/expire_half/weak_ptr_map", expire_half_weak_ptr, sizes, rebuilt);
  add("death/register/snapheap", register_detached, sizes, rebuilt);
  add("death/register/snapheap_kept", register_kept, sizes, rebuilt);
  add("death/half_fire/snapheap", half_fire_snapheap, sizes, rebuilt);
  add("death/half_fire/snapheap_no_callbacks", half_fire_no_callbacks, sizes, rebuilt);
}

}  // namespace snapbench
