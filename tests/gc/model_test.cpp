// A model-based randomized test of the collector. Each seed drives a reproducible sequence of
// heap operations (make, link and unlink Members, weak links, host Strongs taken and dropped,
// named roots set and removed, collect) against the real heap and against a model that keeps its
// own adjacency. After every collection, the real or an automatic one, the test computes
// reachability over the model and requires the heap to agree: which objects live (count, and each
// object's host-side Weak), where every surviving edge leads, which weak edges expired,
// stats().last_weak_expired, which destructors ran (each exactly once), and heap.verify().
// Each object also holds an Ephemeron, and the host holds a WeakKeyMap over the objects: the
// model computes the ephemeron fixpoint on its own (a value is reachable through a pair or an
// entry only once its key is reachable otherwise) and checks every pair and entry after each
// collection.
#include <catch2/catch.hpp>
#include <snapheap/heap.hpp>
#include <snapheap/weak_map.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "gc/heap_impl.hpp"

using snapheap::Heap;
using snapheap::HeapOptions;
using snapheap::Member;
using snapheap::Strong;
using snapheap::Weak;

namespace {

constexpr int kStrongSlots = 3;
constexpr int kWeakSlots = 2;
constexpr int kRootNames = 5;
constexpr int kNone = -1;

struct MNode final : snapheap::Object {
  std::int64_t id;
  std::vector<std::uint32_t>* deaths;  // host-side: destructor runs per id
  // A snapheap::Vector, which incremental marking slices: the model's heaps slice it 1, 2 or
  // 3 (whole) edges at a time, so that every object's edges are traced across units of work.
  snapheap::Vector<Member<MNode>> strong;
  // Where op_permute parks the Vector's buffer by a swap of its std::vector base (no barrier):
  // the edges are in one of the two, strong when it is not empty.
  using Edges = std::vector<Member<MNode>, snapheap::Allocator<Member<MNode>>>;
  Edges parked;
  std::array<Weak<MNode>, kWeakSlots> weak;
  snapheap::Ephemeron<MNode, MNode> pair;

  MNode(std::int64_t i, std::vector<std::uint32_t>* d) : id(i), deaths(d), strong(kStrongSlots) {}
  ~MNode() { ++(*deaths)[static_cast<std::size_t>(id)]; }
  Edges& edges() { return strong.empty() ? parked : strong; }
  const Edges& edges() const { return strong.empty() ? parked : strong; }
  void trace(snapheap::Tracer& t) const override {
    t.trace(strong);
    t.trace(parked);
    t.trace(weak);
    t.trace(pair);
  }
};
using MMap = snapheap::WeakKeyMap<MNode, MNode>;

struct ModelObject {
  bool alive = true;  // not yet found dead by a collection (it may be unreachable already)
  std::array<int, kStrongSlots> strong{kNone, kNone, kNone};
  std::array<int, kWeakSlots> weak{kNone, kNone};
  int pair_key = kNone;  // the Ephemeron (a value only with a key)
  int pair_value = kNone;
  Weak<MNode> handle;  // host-side weak handle, never traced
};

struct Failure {
  std::size_t op;
  std::string message;
};

class ModelRun {
 public:
  ModelRun(std::uint64_t seed, const HeapOptions& options, std::size_t ops)
      : rng_(seed), options_(options), ops_(ops), slice_(1 + seed % kStrongSlots) {}

  /// Runs the whole sequence; returns the first disagreement between heap and model.
  std::optional<Failure> run() {
    {
      Heap heap(options_);
      snapheap::detail::HeapInternals::of(heap).sliced.set_slice(slice_);
      heap_ = &heap;
      map_ = heap.make<MMap>();
      for (op_ = 0; op_ < ops_ && !failure_; ++op_) step();
      if (!failure_) op_collect();
      strongs_.clear();
      map_.reset();
      heap_ = nullptr;
    }  // ~Heap: every object still alive dies now
    if (!failure_) {
      for (std::size_t i = 0; i < objects_.size() && !failure_; ++i)
        if (deaths_[i] != 1) fail("after heap destruction, object " + std::to_string(i) + "'s destructor ran " +
                                  std::to_string(deaths_[i]) + " times");
    }
    return failure_;
  }

  std::size_t collections_checked() const { return collections_checked_; }
  std::size_t objects_made() const { return objects_.size(); }

 private:
  // ---- operations ----------------------------------------------------------------------------------

  void step() {
    const int dice = static_cast<int>(rng_() % 100);
    if (options_.mode == snapheap::GcMode::incremental && dice < 6) return op_step();
    if (dice < 25 || alive_.empty()) return op_make();
    if (dice < 45) return op_link();
    if (dice < 52) return op_unlink();
    if (dice < 62) return op_weak_link();
    if (dice < 72) return op_drop_strong();
    if (dice < 77) return op_take_strong();
    if (dice < 84) return op_set_root();
    if (dice < 87) return op_remove_root();
    if (dice < 89) return op_read();
    if (dice < 92) return op_permute();
    if (dice < 94) return op_pair();
    if (dice < 97) return op_map_set();
    return op_collect();
  }

  void op_make() {
    const auto id = static_cast<int>(objects_.size());
    note("make " + std::to_string(id));
    deaths_.push_back(0);
    const std::uint64_t before = heap_->stats().collections;
    const bool running_before = heap_->stats().cycle_running;
    Strong<MNode> made = heap_->make<MNode>(id, &deaths_);
    const std::uint64_t ran = heap_->stats().collections - before;
    // A cycle that make() started began before this object existed: snapshot the model before
    // the object joins it.
    if (!running_before && heap_->stats().cycle_running && ran == 0) begin_cycle();
    // The new object exists in the model only from here on; any collection make() ran happened
    // before it was allocated. It is held by `made` while the model catches up.
    objects_.emplace_back();
    objects_.back().handle = made;
    alive_.push_back(id);
    hold(std::move(made), id);
    if (ran) on_automatic_collections(ran, static_cast<std::size_t>(id));
    if (failure_) return;
    // Then it stays held by the host (50%), is linked from another object (30%), or is dropped.
    const int fate = static_cast<int>(rng_() % 10);
    if (fate >= 5) {
      Strong<MNode> s = std::move(strongs_.back());
      strongs_.pop_back();
      held_ids_.pop_back();
      if (fate < 8) link(pick_alive(), static_cast<int>(rng_() % kStrongSlots), id, std::move(s));
    }
  }

  void op_link() {
    const int target = rng_() % 10 == 0 ? kNone : pick_alive();
    const int source = pick_alive();
    const int slot = static_cast<int>(rng_() % kStrongSlots);
    link(source, slot, target, target == kNone ? Strong<MNode>() : lock(target));
  }

  void op_unlink() { link(pick_alive(), static_cast<int>(rng_() % kStrongSlots), kNone, Strong<MNode>()); }

  void op_weak_link() {
    // Targets may be dead already: copying an expired Weak gives an expired weak edge.
    const int source = pick_alive();
    const int slot = static_cast<int>(rng_() % kWeakSlots);
    const int target = rng_() % 8 == 0 ? kNone : static_cast<int>(rng_() % objects_.size());
    note("weak-link " + std::to_string(source) + "." + std::to_string(slot) + " -> " + std::to_string(target));
    Strong<MNode> s = lock(source);
    if (!s) return;
    s->weak[static_cast<std::size_t>(slot)] =
        target == kNone ? Weak<MNode>() : objects_[static_cast<std::size_t>(target)].handle;
    objects_[static_cast<std::size_t>(source)].weak[static_cast<std::size_t>(slot)] = target;
  }

  void op_permute() {
    // The edges move inside the object's Vector (Member stores), or the whole buffer moves
    // between the Vector and a std::vector field (a swap of the Vector's base), between the
    // slices of a trace.
    const int source = pick_alive();
    const unsigned how = rng_() % 3;
    note(std::string(how == 0 ? "reverse " : how == 1 ? "rotate " : "park ") + std::to_string(source));
    Strong<MNode> s = lock(source);
    if (!s) return;
    std::array<int, kStrongSlots>& m = objects_[static_cast<std::size_t>(source)].strong;
    MNode::Edges& edges = s->edges();
    if (how == 0) {
      std::reverse(edges.begin(), edges.end());
      std::reverse(m.begin(), m.end());
    } else if (how == 1) {
      std::rotate(edges.begin(), edges.begin() + 1, edges.end());
      std::rotate(m.begin(), m.begin() + 1, m.end());
    } else {
      std::swap(static_cast<MNode::Edges&>(s->strong), s->parked);
    }
  }

  void op_pair() {
    const int source = pick_alive();
    const int key = rng_() % 6 == 0 ? kNone : pick_alive();
    const int value = rng_() % 6 == 0 ? kNone : pick_alive();
    note("pair " + std::to_string(source) + ": " + std::to_string(key) + " -> " + std::to_string(value));
    Strong<MNode> s = lock(source);
    if (!s) return;
    Strong<MNode> k = key == kNone ? Strong<MNode>() : lock(key);
    Strong<MNode> v = value == kNone ? Strong<MNode>() : lock(value);
    ModelObject& m = objects_[static_cast<std::size_t>(source)];
    if (!k) {
      s->pair.reset();
      m.pair_key = m.pair_value = kNone;
      return;
    }
    s->pair.set(k.get(), v.get());
    m.pair_key = key;
    m.pair_value = v ? value : kNone;
  }

  void op_map_set() {
    const int key = pick_alive();
    const int value = rng_() % 5 == 0 ? kNone : pick_alive();
    note("map " + std::to_string(key) + " -> " + std::to_string(value));
    Strong<MNode> k = lock(key);
    if (!k) return;
    Strong<MNode> v = value == kNone ? Strong<MNode>() : lock(value);
    // The map's storage counts as owned memory: growing it may run a collection, with both
    // handles held by the host meanwhile.
    hold(k, key);
    if (v) hold(v, value);
    const std::uint64_t before = heap_->stats().collections;
    const bool running_before = heap_->stats().cycle_running;
    map_->set(k.get(), v.get());
    if (v) map_entries_[key] = value;
    else map_entries_.erase(key);
    const std::uint64_t ran = heap_->stats().collections - before;
    if (!running_before && heap_->stats().cycle_running && ran == 0) begin_cycle();
    if (ran) on_automatic_collections(ran);
  }

  void op_drop_strong() {
    if (strongs_.empty()) return;
    const std::size_t i = rng_() % strongs_.size();
    note("drop strong to " + std::to_string(held_ids_[i]));
    std::swap(strongs_[i], strongs_.back());
    std::swap(held_ids_[i], held_ids_.back());
    strongs_.pop_back();
    held_ids_.pop_back();
  }

  void op_take_strong() {
    const int id = pick_alive();
    note("take strong to " + std::to_string(id));
    if (Strong<MNode> s = lock(id)) hold(std::move(s), id);
  }

  void op_set_root() {
    const std::string name = "root" + std::to_string(rng_() % kRootNames);
    const int target = rng_() % 4 == 0 ? kNone : pick_alive();
    note("set_root " + name + " = " + std::to_string(target));
    if (target == kNone) {
      heap_->set_root(name, Strong<MNode>());  // an empty handle removes the root
      roots_.erase(name);
    } else if (Strong<MNode> s = lock(target)) {
      heap_->set_root(name, s);
      roots_[name] = target;
    }
  }

  void op_remove_root() {
    const std::string name = "root" + std::to_string(rng_() % kRootNames);
    note("remove_root " + name);
    const bool had = roots_.erase(name) != 0;
    if (heap_->remove_root(name) != had) fail("remove_root(" + name + ") disagrees with the model");
  }

  void op_read() {
    // Between collections too, every object the model calls alive is reachable by its handle,
    // and its edges are as laid. Also: named roots read back as the model says.
    const int id = pick_alive();
    note("read " + std::to_string(id));
    check_object(static_cast<std::size_t>(id));
    const std::string name = "root" + std::to_string(rng_() % kRootNames);
    const Strong<MNode> root = heap_->root<MNode>(name);
    const auto found = roots_.find(name);
    const int want = found == roots_.end() ? kNone : found->second;
    if ((root ? static_cast<int>(root->id) : kNone) != want)
      fail("root " + name + " holds " + (root ? std::to_string(root->id) : "nothing") + ", model says " +
           std::to_string(want));
  }

  void op_collect() {
    note("collect");
    const std::uint64_t before = heap_->stats().collections;
    heap_->collect();
    const std::uint64_t ran = heap_->stats().collections - before;
    // Incremental mode: the cycle in progress (if any) ends, then a whole collection runs.
    const std::uint64_t expected_max = options_.mode == snapheap::GcMode::incremental ? 2 : 1;
    if (ran < 1 || ran > expected_max) return fail("collect() ran " + std::to_string(ran) + " collections");
    if (heap_->stats().cycle_running) return fail("a cycle still runs after collect()");
    cycle_start_.reset();
    // Exact: collect() finds dead whatever was unreachable at the call. (When it first finished
    // a cycle, that cycle's weak expiries are not in last_weak_expired: skip that figure.)
    check_weak_stat_ = ran == 1;
    on_collections(1);
    check_weak_stat_ = true;
  }

  void op_step() {
    const auto budget = std::chrono::microseconds(rng_() % 4 == 0 ? 1000 : rng_() % 50);
    note("step " + std::to_string(budget.count()) + " us");
    const bool running_before = heap_->stats().cycle_running;
    const std::uint64_t before = heap_->stats().collections;
    const bool running = heap_->step(budget);
    if (running != heap_->stats().cycle_running) return fail("step() says a cycle runs, stats disagree");
    if (!running_before && (running || heap_->stats().collections != before)) begin_cycle();
    const std::uint64_t ran = heap_->stats().collections - before;
    if (ran) on_automatic_collections(ran);
  }

  // ---- helpers -------------------------------------------------------------------------------------

  void link(int source, int slot, int target, Strong<MNode> target_handle) {
    if (!target_handle) target = kNone;  // the target was swept meanwhile: the Member is empty
    note("link " + std::to_string(source) + "." + std::to_string(slot) + " -> " + std::to_string(target));
    Strong<MNode> s = lock(source);
    if (!s) return;
    s->edges()[static_cast<std::size_t>(slot)] = target_handle;
    objects_[static_cast<std::size_t>(source)].strong[static_cast<std::size_t>(slot)] = target;
  }

  void hold(Strong<MNode> s, int id) {
    strongs_.push_back(std::move(s));
    held_ids_.push_back(id);
  }

  int pick_alive() { return alive_[rng_() % alive_.size()]; }

  /// A Strong to an object the model calls alive; a failure if the heap disagrees.
  Strong<MNode> lock(int id) {
    if (static_cast<std::size_t>(id) < touched_.size()) touched_[static_cast<std::size_t>(id)] = 1;
    Strong<MNode> s = objects_[static_cast<std::size_t>(id)].handle.lock();
    // alive_ is brought up to date at collections: an object swept since (and recorded dead by
    // swept_meanwhile) may still be picked from it.
    if (!s && (!objects_[static_cast<std::size_t>(id)].alive || swept_meanwhile(static_cast<std::size_t>(id))))
      return s;
    if (!s) fail("object " + std::to_string(id) + " is alive in the model but its weak handle expired");
    else if (s->id != id) fail("object " + std::to_string(id) + "'s weak handle leads to object " + std::to_string(s->id));
    return s;
  }

  // ---- the model's collection and the comparison -----------------------------------------------

  /// The model's state when an incremental cycle began: which objects were reachable, and the
  /// objects the program has touched (locked) since.
  struct CycleStart {
    std::vector<char> reached;
    std::vector<std::array<int, kStrongSlots>> edges;
    std::vector<std::pair<int, int>> pairs;  // each object's Ephemeron: key, value
    std::map<int, int> map_entries;
    std::size_t op = 0;  // the operation during which it began
  };

  /// The model's edges, pairs and map entries as they are now.
  CycleStart model_now() const {
    CycleStart c;
    for (const auto& o : objects_) {
      c.edges.push_back(o.strong);
      c.pairs.emplace_back(o.pair_key, o.pair_value);
    }
    c.map_entries = map_entries_;
    return c;
  }

  /// What the model knows of an object, for a failure's message: what points to it (now and when
  /// the cycle began), the pairs and map entries it is in, the weak edges to it.
  std::string describe(std::size_t id) const {
    const int who = static_cast<int>(id);
    std::string out;
    const auto in = [&](const CycleStart& c, const char* when) {
      for (std::size_t from = 0; from < c.edges.size(); ++from) {
        for (int to : c.edges[from])
          if (to == who) out += std::string("\n  ") + when + ": object " + std::to_string(from) + " points to it";
        const auto [key, value] = c.pairs[from];
        if (key == who || value == who)
          out += std::string("\n  ") + when + ": object " + std::to_string(from) + "'s pair " + std::to_string(key) +
                 " -> " + std::to_string(value);
      }
      for (const auto& [key, value] : c.map_entries)
        if (key == who || value == who)
          out += std::string("\n  ") + when + ": map entry " + std::to_string(key) + " -> " + std::to_string(value);
    };
    in(model_now(), "now");
    if (cycle_start_) in(*cycle_start_, "at the cycle's start");
    for (std::size_t from = 0; from < objects_.size(); ++from)
      for (int w : objects_[from].weak)
        if (w == who) out += "\n  now: object " + std::to_string(from) + " has a weak edge to it";
    return out;
  }

  /// Snapshots the model as a cycle begins; objects from `made_from` on were made during it.
  void begin_cycle(std::size_t made_from = ~std::size_t{0}) {
    CycleStart c = model_now();
    c.reached = reachable();
    if (made_from < c.reached.size()) c.reached.resize(made_from);
    c.op = op_;
    cycle_start_ = std::move(c);
    touched_.assign(objects_.size(), 0);
  }

  /// Collections the heap ran on its own. In stop-the-world mode each is exact. In incremental
  /// mode a cycle's end is checked against what it promises: everything reachable now lives, and
  /// everything unreachable when it began, that the program did not reach again through a
  /// Weak::lock (marked_closure), is dead; the rest is as the heap found it. In generational
  /// mode a minor collection promises that everything reachable lives; the rest is as the heap
  /// found it.
  void on_automatic_collections(std::uint64_t count, std::size_t made_from = ~std::size_t{0}) {
    if (options_.mode == snapheap::GcMode::stop_the_world) return on_collections(count);
    const std::vector<char> now = reachable();
    std::vector<char> must_die(objects_.size(), 0);
    if (options_.mode == snapheap::GcMode::incremental && cycle_start_) {
      const std::vector<char> saved = marked_closure(now);
      for (std::size_t id = 0; id < cycle_start_->reached.size(); ++id) must_die[id] = !saved[id];
    }
    alive_.clear();
    for (std::size_t id = 0; id < objects_.size() && !failure_; ++id) {
      ModelObject& m = objects_[id];
      if (!m.alive) continue;
      const bool heap_alive = !m.handle.expired();
      if (now[id] && !heap_alive) return fail("object " + std::to_string(id) + " is reachable but the heap freed it");
      if (must_die[id] && heap_alive)
        return fail("object " + std::to_string(id) + " was unreachable when the cycle began (operation " +
                    std::to_string(cycle_start_->op) + ") and survived it" + describe(id));
      m.alive = heap_alive;
      if (m.alive) alive_.push_back(static_cast<int>(id));
    }
    cycle_start_.reset();
    forget_dead_entries();
    if (heap_->stats().cycle_running) begin_cycle(made_from);  // the next began in the same step
    ++collections_checked_;
    for (std::size_t id = 0; id < objects_.size() && !failure_; ++id) check_object(id);
    if (!failure_) check_map();
    if (failure_) return;
    if (const auto v = heap_->verify(); !v.ok) fail("verify: " + v.problem);
    (void)count;
  }

  /// An incremental cycle sweeps between operations: an object unreachable now may be gone
  /// before the cycle's end is seen. Records it as dead and says so.
  bool swept_meanwhile(std::size_t id) {
    if (!heap_->stats().cycle_running || !objects_[id].alive || !objects_[id].handle.expired()) return false;
    if (reachable()[id]) return false;
    objects_[id].alive = false;
    return true;
  }

  /// What the cycle may have marked: the objects reachable when it began, those reachable `now`
  /// and those the program touched (a lock while marking shades its target), and what they reach
  /// over the edges of the cycle's start and of now (a traced object may keep what it pointed to
  /// then). An object outside it that was unreachable at the start must be dead at the end. The
  /// reachable objects seed it as well as the touched ones because of the ephemerons: a touched
  /// object holding a pair whose key was reachable all along keeps the pair's value.
  std::vector<char> marked_closure(const std::vector<char>& now) const {
    std::vector<char> seen(objects_.size(), 0);
    std::vector<int> queue;
    auto reach = [&](int id) {
      if (id != kNone && !seen[static_cast<std::size_t>(id)]) {
        seen[static_cast<std::size_t>(id)] = 1;
        queue.push_back(id);
      }
    };
    for (std::size_t id = 0; id < objects_.size(); ++id) {
      const bool at_start = id < cycle_start_->reached.size() && cycle_start_->reached[id];
      if (at_start || now[id] || (id < touched_.size() && touched_[id])) reach(static_cast<int>(id));
    }
    // Conservatively, a pair or map entry (now or at the cycle's start) whose key is in the
    // closure keeps its value, whoever holds it.
    for (bool grew = true; grew;) {
      for (std::size_t head = 0; head < queue.size(); ++head) {
        const auto id = static_cast<std::size_t>(queue[head]);
        for (int next : objects_[id].strong) reach(next);
        if (id < cycle_start_->edges.size())
          for (int next : cycle_start_->edges[id]) reach(next);
      }
      const std::size_t before = queue.size();
      const auto keyed = [&](int key, int value) {
        if (key != kNone && seen[static_cast<std::size_t>(key)]) reach(value);
      };
      for (const auto& o : objects_) keyed(o.pair_key, o.pair_value);
      for (const auto& [key, value] : cycle_start_->pairs) keyed(key, value);
      for (const auto& [key, value] : map_entries_) keyed(key, value);
      for (const auto& [key, value] : cycle_start_->map_entries) keyed(key, value);
      grew = queue.size() != before;
    }
    return seen;
  }

  std::vector<char> reachable() const {
    std::vector<char> reached(objects_.size(), 0);
    std::vector<int> queue;
    auto reach = [&](int id) {
      if (id != kNone && !reached[static_cast<std::size_t>(id)]) {
        reached[static_cast<std::size_t>(id)] = 1;
        queue.push_back(id);
      }
    };
    for (int id : held_ids_) reach(id);
    for (const auto& [name, id] : roots_) reach(id);
    // The ephemeron fixpoint: strong edges, then the pairs of reached objects and the map's
    // entries (the map is rooted) whose keys are reached, until nothing changes.
    std::size_t head = 0;
    for (bool grew = true; grew;) {
      for (; head < queue.size(); ++head)
        for (int next : objects_[static_cast<std::size_t>(queue[head])].strong) reach(next);
      const std::size_t before = queue.size();
      for (std::size_t id = 0; id < objects_.size(); ++id) {
        const ModelObject& o = objects_[id];
        if (reached[id] && o.pair_key != kNone && reached[static_cast<std::size_t>(o.pair_key)]) reach(o.pair_value);
      }
      for (const auto& [key, value] : map_entries_)
        if (reached[static_cast<std::size_t>(key)]) reach(value);
      grew = queue.size() != before;
    }
    return reached;
  }

  void on_collections(std::uint64_t count) {
    std::size_t weak_expired = 0;
    for (std::uint64_t i = 0; i < count; ++i) weak_expired = model_collect();
    ++collections_checked_;
    check_after_collection(weak_expired);
  }

  /// Marks unreachable objects dead; returns how many weak edges held by survivors expired.
  std::size_t model_collect() {
    const std::vector<char> reached = reachable();
    std::size_t weak_expired = 0;
    const auto expires = [&](int target) {
      return target != kNone && objects_[static_cast<std::size_t>(target)].alive && !reached[static_cast<std::size_t>(target)];
    };
    for (std::size_t id = 0; id < objects_.size(); ++id) {
      if (!reached[id]) continue;
      for (int target : objects_[id].weak) weak_expired += expires(target);
      weak_expired += expires(objects_[id].pair_key);  // an Ephemeron's key is a weak handle
    }
    for (const auto& [key, value] : map_entries_) weak_expired += expires(key);
    alive_.clear();
    for (std::size_t id = 0; id < objects_.size(); ++id) {
      if (objects_[id].alive && !reached[id]) objects_[id].alive = false;
      if (objects_[id].alive) alive_.push_back(static_cast<int>(id));
    }
    forget_dead_entries();
    return weak_expired;
  }

  /// Map entries whose key died are gone (the map drops them at its next operation).
  void forget_dead_entries() {
    for (auto it = map_entries_.begin(); it != map_entries_.end();)
      it = objects_[static_cast<std::size_t>(it->first)].alive ? std::next(it) : map_entries_.erase(it);
  }

  void check_after_collection(std::size_t weak_expired) {
    const auto stats = heap_->stats();
    if (stats.live_objects != alive_.size() + 1)  // and the map
      return fail("heap holds " + std::to_string(stats.live_objects) + " objects, model " +
                  std::to_string(alive_.size()));
    if (check_weak_stat_ && stats.last_weak_expired != weak_expired)
      return fail("last_weak_expired is " + std::to_string(stats.last_weak_expired) + ", model " +
                  std::to_string(weak_expired));
    for (std::size_t id = 0; id < objects_.size() && !failure_; ++id) check_object(id);
    if (failure_) return;
    check_map();
    if (failure_) return;
    if (const auto v = heap_->verify(); !v.ok) fail("verify: " + v.problem);
  }

  /// The map holds exactly the model's entries whose keys live, each with its value.
  void check_map() {
    if (map_->size() != map_entries_.size())
      return fail("the map holds " + std::to_string(map_->size()) + " entries, model " +
                  std::to_string(map_entries_.size()));
    for (const auto& [key, value] : map_entries_) {
      const Strong<MNode> k = objects_[static_cast<std::size_t>(key)].handle.lock();
      if (!k) return fail("map key " + std::to_string(key) + " is alive in the model but expired");
      const Strong<MNode> v = map_->get(k.get());
      if (!v || v->id != value)
        return fail("map entry " + std::to_string(key) + " leads to " + (v ? std::to_string(v->id) : "nothing") +
                    ", model " + std::to_string(value));
    }
  }

  void check_object(std::size_t id) {
    swept_meanwhile(id);
    const ModelObject& m = objects_[id];
    const std::string who = "object " + std::to_string(id);
    const std::uint32_t want_deaths = m.alive ? 0 : 1;
    // Incremental mode: a handle expires when marking ends; the destructor runs when its word is
    // swept, later in the cycle.
    const bool sweep_may_be_pending = !m.alive && deaths_[id] == 0 && heap_->stats().cycle_running;
    if (deaths_[id] != want_deaths && !sweep_may_be_pending)
      return fail(who + "'s destructor ran " + std::to_string(deaths_[id]) + " times, model says " +
                  std::to_string(want_deaths));
    if (id < touched_.size()) touched_[id] = 1;  // a lock while marking keeps its target
    const Strong<MNode> s = m.handle.lock();
    if (!m.alive) {
      if (s) fail(who + " is dead in the model but its weak handle still locks");
      return;
    }
    if (!s) return fail(who + " is alive in the model but its weak handle expired");
    if (s->id != static_cast<std::int64_t>(id)) return fail(who + "'s handle leads to " + std::to_string(s->id));
    for (std::size_t k = 0; k < kStrongSlots; ++k) {
      const int got = s->edges()[k] ? static_cast<int>(s->edges()[k]->id) : kNone;
      if (got != m.strong[k])
        return fail(who + " strong slot " + std::to_string(k) + " leads to " + std::to_string(got) +
                    ", model " + std::to_string(m.strong[k]));
    }
    for (std::size_t k = 0; k < kWeakSlots; ++k) {
      const Weak<MNode>& w = s->weak[k];
      const int target = m.weak[k];
      if (target == kNone) {
        if (!w.empty()) fail(who + " weak slot " + std::to_string(k) + " should be empty");
        continue;
      }
      swept_meanwhile(static_cast<std::size_t>(target));
      const bool target_alive = objects_[static_cast<std::size_t>(target)].alive;
      if (static_cast<std::size_t>(target) < touched_.size()) touched_[static_cast<std::size_t>(target)] = 1;
      const Strong<MNode> t = w.lock();
      if (w.expired() == target_alive || static_cast<bool>(t) != target_alive)
        return fail(who + " weak slot " + std::to_string(k) + " to " + std::to_string(target) + " reads " +
                    (w.expired() ? "expired" : "alive") + ", model says " + (target_alive ? "alive" : "dead"));
      if (t && t->id != target)
        return fail(who + " weak slot " + std::to_string(k) + " leads to " + std::to_string(t->id) +
                    ", model " + std::to_string(target));
    }
    // The Ephemeron: its key and value while the key lives, empty once it has died.
    if (m.pair_key == kNone) {
      if (!s->pair.expired()) fail(who + "'s pair should be empty");
      return;
    }
    swept_meanwhile(static_cast<std::size_t>(m.pair_key));
    const bool key_alive = objects_[static_cast<std::size_t>(m.pair_key)].alive;
    if (static_cast<std::size_t>(m.pair_key) < touched_.size()) touched_[static_cast<std::size_t>(m.pair_key)] = 1;
    const Strong<MNode> pk = s->pair.key();
    const Strong<MNode> pv = s->pair.value();
    if (static_cast<bool>(pk) != key_alive)
      return fail(who + "'s pair key " + std::to_string(m.pair_key) + " reads " + (pk ? "alive" : "expired") +
                  ", model says " + (key_alive ? "alive" : "dead"));
    if (!key_alive) {
      if (pv) fail(who + "'s pair has a value though its key died");
      return;
    }
    if (pk->id != m.pair_key) return fail(who + "'s pair key leads to " + std::to_string(pk->id));
    const int got = pv ? static_cast<int>(pv->id) : kNone;
    if (got != m.pair_value)
      return fail(who + "'s pair value is " + std::to_string(got) + ", model " + std::to_string(m.pair_value));
  }

  void note(std::string what) {
    recent_.push_back(std::to_string(op_) + ": " + std::move(what));
    if (recent_.size() > 24) recent_.pop_front();
  }

  void fail(const std::string& message) {
    if (failure_) return;
    std::ostringstream out;
    out << message << "\nlast operations:";
    for (const auto& r : recent_) out << "\n  " << r;
    failure_ = Failure{op_, out.str()};
  }

  std::mt19937_64 rng_;
  HeapOptions options_;
  std::size_t ops_;
  std::size_t slice_;  // edges per slice of an object's strong Vector in incremental marking
  std::size_t op_ = 0;
  Heap* heap_ = nullptr;
  std::vector<std::uint32_t> deaths_;  // declared before anything that holds heap objects
  std::vector<ModelObject> objects_;
  std::vector<int> alive_;
  std::vector<Strong<MNode>> strongs_;
  std::vector<int> held_ids_;
  Strong<MMap> map_;
  std::map<int, int> map_entries_;  // key id -> value id
  std::map<std::string, int> roots_;
  std::deque<std::string> recent_;
  std::optional<Failure> failure_;
  std::size_t collections_checked_ = 0;
  std::optional<CycleStart> cycle_start_;
  bool check_weak_stat_ = true;
  std::vector<char> touched_;
};

/// Seeds cycle through three heap configurations: explicit collections only (the default 4 MiB
/// trigger is never reached), frequent automatic collections, and stress mode. Under
/// SNAPHEAP_GC_STRESS=1 every configuration collects at every allocation, so fewer seeds run.
HeapOptions options_for(std::uint64_t seed, snapheap::GcMode mode) {
  HeapOptions o;  // takes SNAPHEAP_GC_STRESS / SNAPHEAP_GC_VERIFY from the environment
  o.mode = mode;
  switch (seed % 4) {
    case 1: o.min_trigger_bytes = 2048; break;
    case 2: if (mode != snapheap::GcMode::stop_the_world) o.min_trigger_bytes = 512; break;
    case 3: o.stress = true; break;
    default: break;
  }
  // Tiny steps, so that cycles span many operations.
  if (mode == snapheap::GcMode::incremental) o.step_multiplier = 0.05;
  return o;
}

void run_model(snapheap::GcMode mode, const char* name) {
  const bool env_stress = HeapOptions().stress;
  const std::uint64_t seeds = env_stress ? 20 : 200;
  const std::size_t ops = 3000;
  std::size_t collections = 0;
  std::size_t objects = 0;
  for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
    const HeapOptions options = options_for(seed, mode);
    ModelRun run(seed, options, ops);
    const std::optional<Failure> failure = run.run();
    if (failure) {
      INFO(name << " seed " << seed << " (stress " << options.stress << ", min_trigger_bytes "
                << options.min_trigger_bytes << ") failed at operation " << failure->op << ":\n"
                << failure->message);
      CAPTURE(seed, failure->op);
      FAIL("the heap disagrees with the model");
    }
    collections += run.collections_checked();
    objects += run.objects_made();
  }
  INFO(collections << " collections checked over " << objects << " objects");
  CHECK(collections > seeds * 10);
}

}  // namespace

TEST_CASE("model test: the heap agrees with an independent reachability model after every collection",
          "[gc][model][invariant1][invariant2]") {
  run_model(snapheap::GcMode::stop_the_world, "stop-the-world");
}

TEST_CASE("model test in incremental mode: every cycle keeps what is reachable and frees what was not",
          "[gc][model][incremental]") {
  run_model(snapheap::GcMode::incremental, "incremental");
}

TEST_CASE("model test in generational mode: minor collections keep what is reachable, major ones are exact",
          "[gc][model][generational]") {
  run_model(snapheap::GcMode::generational, "generational");
}
