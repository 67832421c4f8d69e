// snapheap::Heap: the managed heap a host program embeds.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <typeinfo>
#include <vector>

#include "snapheap/detail/heap_core.hpp"
#include "snapheap/detail/type_info.hpp"
#include "snapheap/errors.hpp"
#include "snapheap/handles.hpp"
#include "snapheap/object.hpp"
#include "snapheap/tracer.hpp"

namespace snapheap {

namespace detail {
class HeapImpl;
struct HeapInternals;
}  // namespace detail

/// How a heap's collections run (HeapOptions::mode).
enum class GcMode : std::uint8_t {
  /// Every collection marks and sweeps the whole heap in one pause (the default).
  stop_the_world,
  /// Collections run as cycles of bounded steps, each at most HeapOptions::max_pause: marking
  /// beside the program behind a write barrier, then sweeping a slice at a time. Allocation does
  /// the steps as it goes; Heap::step(budget) does more when the host has time.
  incremental,
  /// Minor collections look only at the objects made since the last collection and at the ones
  /// the write barrier saw stored into a Member; a major (full) collection runs when the old
  /// objects have grown past major_multiplier.
  generational,
};

namespace detail {
/// The mode SNAPHEAP_GC_MODE names (stop_the_world, incremental or generational; unset:
/// stop_the_world). Any other value stops the program with a message naming the choices.
GcMode env_gc_mode() noexcept;
}  // namespace detail

/// How a heap decides when to collect, and how large it may grow.
struct HeapOptions {
  /// Defaults to stop_the_world, or to the mode the environment names in SNAPHEAP_GC_MODE (so a
  /// whole test suite can run in each mode).
  GcMode mode = detail::env_gc_mode();
  /// The longest piece of collector work the heap does on its own in incremental mode (each
  /// allocation-driven step). collect() is a full collection in every mode.
  std::chrono::nanoseconds max_pause = std::chrono::milliseconds(1);
  /// Incremental mode: collector work (bytes of cells marked or swept) per byte allocated during
  /// a cycle (Lua's step multiplier), so that a cycle ends before the heap passes its trigger by
  /// much: a cycle's work is about 2.5-3x the heap's bytes, so at 10 it ends after about a
  /// quarter of the live bytes' worth of allocation.
  double step_multiplier = 10.0;
  /// Generational mode: a minor collection starts once the bytes made since the last one pass
  /// max(min_trigger_bytes, minor_multiplier x the old bytes); a major one once the old bytes have
  /// grown by major_multiplier since the last major (Lua 5.4's genminormul and genmajormul).
  double minor_multiplier = 0.2;
  double major_multiplier = 1.0;
  /// Generational mode: a minor collection that finds at least this fraction of its young
  /// objects alive (over 4,096 of them) has the next three minor intervals' objects made old
  /// (pretenuring), so that objects that do not die young are not marked twice; their garbage is
  /// found by the next major collection. Above 1: never.
  double pretenure_survival = 0.9;
  /// A collection starts on its own when the bytes allocated since the last one (cells and owned
  /// memory) pass max(min_trigger_bytes, (growth_factor - 1) x the live and owned bytes after
  /// the last one): the heap may
  /// grow to about growth_factor times its live size between collections. 2 is Lua's default
  /// pause and keeps collection work proportional to allocation.
  double growth_factor = 2.0;
  /// The smallest allocation volume that starts a collection: small heaps do not collect on
  /// every few objects. 4 MiB is a few hundred microseconds of marking.
  std::size_t min_trigger_bytes = std::size_t{4} << 20;
  /// The most bytes the heap may hold (0: no limit): live cells plus the memory objects own
  /// (external_bytes). Past it, after a collection, make() (or an owned allocation) throws
  /// HeapExhausted.
  std::size_t max_bytes = 0;
  /// Collect at every allocation, so that a missing root fails a test at once instead of
  /// corrupting memory rarely. Defaults to on when the environment sets SNAPHEAP_GC_STRESS=1.
  bool stress = detail::env_flag("SNAPHEAP_GC_STRESS");
  /// Run verify() after every collection and stop with its message if it fails. Defaults to on
  /// when the environment sets SNAPHEAP_GC_VERIFY=1.
  bool verify_after_collect = detail::env_flag("SNAPHEAP_GC_VERIFY");
};

namespace detail {
struct DeathWatchAccess;
}  // namespace detail

/// A death callback's registration (Heap::on_death). Destroying it, or cancel(), unregisters the
/// callback (as a Python weakref's callback goes with the weakref); detach() lets it run without
/// a watch kept. Move-only. It is host state: snapshots do not save it. It may outlive its heap
/// (it then reads not pending).
class DeathWatch {
 public:
  DeathWatch() noexcept = default;
  DeathWatch(DeathWatch&& other) noexcept;
  DeathWatch& operator=(DeathWatch&& other) noexcept;
  DeathWatch(const DeathWatch&) = delete;
  DeathWatch& operator=(const DeathWatch&) = delete;
  ~DeathWatch();
  /// Unregisters the callback; true if it was still pending (it will not run).
  bool cancel() noexcept;
  /// True until the callback has run or been cancelled.
  bool pending() const noexcept;
  /// Keeps the registration without this handle: the callback runs when the object dies.
  void detach() noexcept { tag_ = 0; }

 private:
  friend struct detail::DeathWatchAccess;
  detail::HeapTag tag_ = 0;
  std::uint32_t index_ = 0;
  std::uint64_t serial_ = 0;
};

namespace detail {
struct DeathWatchAccess {
  static DeathWatch make(HeapTag tag, std::uint32_t index, std::uint64_t serial) noexcept {
    DeathWatch w;
    w.tag_ = tag;
    w.index_ = index;
    w.serial_ = serial;
    return w;
  }
};
}  // namespace detail

/// What the heap holds and what its collections did.
struct HeapStats {
  std::size_t live_objects = 0;        ///< objects allocated and not yet freed
  std::size_t live_bytes = 0;          ///< bytes of their cells
  /// Bytes the objects own outside their cells, as snapheap::Allocator and
  /// Heap::adjust_external_memory count them. The trigger and max_bytes see live + external.
  std::size_t external_bytes = 0;
  std::size_t committed_bytes = 0;     ///< bytes of pages the heap holds (live, free and cached)
  std::size_t table_bytes = 0;         ///< bytes of the object table's per-slot arrays in use
  std::uint64_t collections = 0;       ///< collections run so far
  std::size_t last_freed_objects = 0;  ///< objects the last collection freed
  std::size_t last_freed_bytes = 0;    ///< bytes the last collection freed
  std::chrono::nanoseconds last_mark_time{0};   ///< marking time of the last collection
  std::chrono::nanoseconds last_sweep_time{0};  ///< sweeping time of the last collection
  /// Weak handles held by surviving objects whose targets the last collection found dead.
  /// (Weak handles held by host code are not traced, so they are not counted.)
  std::size_t last_weak_expired = 0;
  std::uint64_t total_weak_expired = 0;       ///< the same, over all collections
  std::uint64_t total_freed_objects = 0;      ///< objects freed by all collections
  std::size_t next_collection_bytes = 0;      ///< allocation volume that starts the next one
  std::size_t allocated_since_collection = 0; ///< bytes allocated since the last collection
  std::uint64_t destructor_exceptions = 0;    ///< destructors that threw (reported, not fatal)

  /// Every piece of collector work that stopped the program: a whole collection in
  /// stop-the-world mode, each step in incremental mode, each minor or major collection in
  /// generational mode. A histogram of 32 buckets by powers of two of nanoseconds.
  struct Pauses {
    std::uint64_t count = 0;
    std::chrono::nanoseconds total{0};
    std::chrono::nanoseconds max{0};
    std::array<std::uint64_t, 32> histogram{};  ///< [i]: pauses of [2^i, 2^(i+1)) ns
    /// An upper bound for the given quantile (0.99: 99% of the pauses were at most this long).
    std::chrono::nanoseconds quantile(double q) const noexcept;
  };
  Pauses pauses{};
  std::uint64_t cycles = 0;                   ///< incremental cycles completed
  bool cycle_running = false;                 ///< an incremental cycle is marking or sweeping
  std::uint64_t minor_collections = 0;        ///< generational mode
  std::uint64_t major_collections = 0;        ///< generational mode (collect() is one)
  std::chrono::nanoseconds minor_time{0};     ///< in all minor collections
  std::chrono::nanoseconds major_time{0};     ///< in all major collections
  std::uint64_t callbacks_run = 0;            ///< death callbacks run (Heap::on_death)
  std::uint64_t callback_exceptions = 0;      ///< of them, those that threw (reported, not fatal)
};

/// The result of Heap::verify(): ok, or the first broken invariant.
struct VerifyResult {
  bool ok = true;
  std::string problem{};
  explicit operator bool() const noexcept { return ok; }
};

// ---- the process-wide page cache --------------------------------------------------------------
// A destroyed heap's memory (its 4 MiB chunks of pages and its slot table's arrays) goes to a
// cache shared by every heap of the process instead of back to the system, so that the next
// heap starts on warm memory instead of paying first-touch page faults (as malloc reuses freed
// memory). The cache holds at most its limit: by default the footprint of the largest heap
// destroyed so far, capped at 1 GiB; memory idle in it for 10 s is given back at the next cache
// operation or collection. SNAPHEAP_PAGE_CACHE=0 in the environment turns it off. Thread-safe.

/// set_page_cache_limit(kDefaultPageCacheLimit) restores the default (dynamic) limit.
inline constexpr std::size_t kDefaultPageCacheLimit = ~std::size_t{0};
/// The most bytes the cache may hold from now on; 0 turns it off (and empties it). Cached memory
/// above the new limit is given back at once.
void set_page_cache_limit(std::size_t bytes) noexcept;
/// The limit in force (the dynamic default's current value unless one was set).
std::size_t page_cache_limit() noexcept;
/// The bytes the cache holds now (mapped, not necessarily resident).
std::size_t page_cache_bytes() noexcept;
/// Gives back to the system everything the cache holds.
void trim_page_cache() noexcept;

/// A managed heap with precise mark-and-sweep collection.
///
/// A Heap belongs to the thread that made it (like a V8 isolate); using it from another thread
/// is caught in debug builds (attach_to_current_thread() hands it over). It is neither copyable
/// nor movable: handles find it by address.
///
///     snapheap::Heap heap;
///     snapheap::Strong<Payload> data = heap.make<Payload>();   // rooted while `data` lives
///     auto layer = heap.make<WeakRefLayer>();
///     layer->large_data = data;                                  // a weak edge
///     heap.set_root("model", layer);                             // a named root
///     heap.collect();                                            // full mark and sweep
class Heap {
 public:
  explicit Heap(HeapOptions options = HeapOptions());
  /// Destroys every object (weak handles expire first, then destructors run) and frees the
  /// memory. Every Strong handle to this heap must be gone by then: a Strong that outlives its
  /// heap would write to freed memory, so the program stops with a message instead.
  ~Heap();
  Heap(const Heap&) = delete;
  Heap& operator=(const Heap&) = delete;

  /// Allocates and constructs a T (a class derived from Object) and returns it rooted.
  /// Allocation inside T's constructor is safe: no collection runs while an object is being
  /// constructed. If the constructor throws, the memory is reclaimed and the exception passes on.
  /// Throws HeapExhausted past the heap's limit, std::bad_alloc if the system has no memory.
  template <class T, class... Args>
  SNAPHEAP_ALWAYS_INLINE Strong<T> make(Args&&... args);

  /// A full collection, in every mode. When it returns, every object not reachable from a root
  /// (a Strong handle or a named root) through strong edges at the call has been found dead,
  /// every weak handle to it has expired, its destructor has run and its memory is reusable (an
  /// incremental cycle in progress is finished first, and a fresh one is run whole). Called while
  /// an object is being constructed or a snapshot is being loaded, it runs when that ends.
  /// Called from a destructor, it does nothing. It never throws.
  void collect() noexcept;

  /// Incremental mode: does up to `budget` of collector work (starting a cycle if one is due)
  /// and returns whether a cycle is still running. In the other modes, runs a collection if one
  /// is due and returns false. For hosts with idle time, such as between frames.
  bool step(std::chrono::nanoseconds budget) noexcept;

  /// Names a root: replaces any root of that name (of any type). An empty handle removes it.
  /// Snapshots save and restore roots by these names. Names must not be empty.
  void set_root(std::string_view name, Strong<Object> handle);
  /// Removes a root; returns whether there was one.
  bool remove_root(std::string_view name);
  /// The root of that name as a T: empty if there is none; std::invalid_argument if it holds an
  /// object that is not a T.
  template <class T = Object>
  Strong<T> root(std::string_view name) const;
  bool has_root(std::string_view name) const;
  /// Root names in sorted order.
  std::vector<std::string> root_names() const;
  std::size_t root_count() const noexcept;

  HeapStats stats() const noexcept;
  const HeapOptions& options() const noexcept;
  void set_options(const HeapOptions& options);

  /// Checks the object table, every handle inside live objects, the root registry and the
  /// page bookkeeping; reports the first broken invariant. Costs a full pass over the heap.
  VerifyResult verify() const;

  /// Makes the calling thread the heap's owner (for handing a heap to another thread). The heap's
  /// entry points (make, collect, set_root, remove_root, save, load) check the thread in every
  /// build and stop the program with a message when it is not the owner.
  void attach_to_current_thread() noexcept;

  /// Tells the heap that its objects own `delta` more (or, negative, fewer) bytes it cannot see,
  /// such as memory the host allocates itself for them (V8's AdjustAmountOfExternalAllocatedMemory).
  /// They count like snapheap::Allocator's: toward the next collection and toward max_bytes (an
  /// increase may collect, and past the limit throws HeapExhausted and counts nothing). Returns
  /// the new total of external bytes.
  std::size_t adjust_external_memory(std::ptrdiff_t delta);

  /// Gives back to the operating system every empty page the heap keeps warm, and the buffers
  /// kept for snapshots. (Collections do this by themselves for pages idle for two seconds.)
  void release_memory() noexcept;

  /// Why `target` is alive: the chain of objects from a root to it, [the object a root holds,
  /// ..., target], the shortest over strong edges (breadth first from the named roots in name
  /// order, then from the objects Strong handles hold, not counting the handle passed here).
  /// Empty if nothing else keeps it alive (or the handle is empty). Walks the heap: O(objects +
  /// edges). Defined by the snapshot module (serialize/graph.cpp); snapheap::SnapshotGraph and
  /// shortest_path() (snapheap/inspect.hpp) give the same for a snapshot file.
  /// Registers `callback` (a callable taking no arguments) to run once after the collection that
  /// finds the object dead: after every weak handle to it has expired and its destructor has run,
  /// outside the collector, at the end of the collect(), step() or make() that ran that
  /// collection (a collection started by owned memory growing runs its callbacks at the next of
  /// these). A callback may allocate, set roots and call collect() (whose callbacks then run after
  /// the rest of the current batch). The callbacks of one collection run newest registration
  /// first; one that throws is reported on stderr and counted (HeapStats::callback_exceptions),
  /// and the others still run. A callback that holds a Strong to its own object keeps it alive
  /// forever: debug builds, stress and verify modes throw std::invalid_argument for a callback
  /// whose copy adds a root to the object (capture a Weak, or nothing). Pending callbacks are
  /// dropped, not run, when the heap is destroyed. std::invalid_argument for an empty handle or
  /// one whose object has died.
  template <class T, class F>
  [[nodiscard]] DeathWatch on_death(const Strong<T>& target, F&& callback);
  template <class T, class F>
  [[nodiscard]] DeathWatch on_death(const Weak<T>& target, F&& callback) {
    return on_death(target.lock(), std::forward<F>(callback));
  }

  template <class T>
  std::vector<Strong<Object>> retainer_path(const Strong<T>& target) const {
    return retainer_path_of(target.get(), target ? 1u : 0u);
  }
  template <class T>
  std::vector<Strong<Object>> retainer_path(const Weak<T>& target) const {
    const Strong<T> held = target.lock();
    return retainer_path_of(held.get(), held ? 1u : 0u);
  }
  /// The target of a Member (what a host holds inside an object): the path that keeps it alive,
  /// the Member's own holder included when it is on that path.
  template <class T>
  std::vector<Strong<Object>> retainer_path(const Member<T>& target) const {
    return retainer_path_of(target.get(), 0u);
  }

 private:
  std::vector<Strong<Object>> retainer_path_of(const Object* target, std::uint32_t own_handles) const;
  DeathWatch on_death_of(const Object* target, std::function<void()> callback);
  /// Whether on_death checks a callback's captures (debug builds, stress and verify modes).
  bool checks_captures() const noexcept;

  friend struct detail::HeapInternals;

  /// What make() must do first when its inline path is off: a collection due, stress mode, a
  /// heap limit, or a call from a destructor (caught here).
  void prepare_make(std::size_t bytes);
  void run_deferred_collection() noexcept;
  Object* root_object(std::string_view name) const;
  [[noreturn]] static void throw_root_type(std::string_view name, const Object* object,
                                           const std::type_info& wanted);

  std::unique_ptr<detail::HeapImpl> impl_;  // the table, the collector's state, the roots
  detail::HeapCore* core_;                  // impl_'s table, for make()'s inline path
};

// ---- templates -----------------------------------------------------------------------------------

template <class T, class... Args>
SNAPHEAP_ALWAYS_INLINE Strong<T> Heap::make(Args&&... args) {
  static_assert(std::is_base_of_v<Object, T>,
                "Heap::make allocates managed objects only: derive the class from snapheap::Object");
  static_assert(!std::is_abstract_v<T>, "Heap::make cannot allocate an abstract class");
  static_assert(alignof(T) <= 16, "managed objects may be aligned to at most 16 bytes");
  static_assert(std::is_constructible_v<T, Args...>,
                "the managed class has no constructor taking these arguments");
  const detail::TypeInfo& type = detail::type_info_of<T>();
  detail::HeapCore& core = *core_;
  if (!core.within_inline_budget()) [[unlikely]]
    prepare_make(sizeof(T));
  core.check_thread();
  T* const object = detail::construct_object(
      core, sizeof(T), type.index, type.destroy != nullptr, /*roots=*/1, detail::Origin::program,
      [&](void* memory) { return ::new (memory) T(std::forward<Args>(args)...); });
  if (core.collection_deferred()) [[unlikely]]
    run_deferred_collection();
  return Strong<T>(detail::adopt_root, object);
}

template <class T, class F>
DeathWatch Heap::on_death(const Strong<T>& target, F&& callback) {
  using Callable = std::decay_t<F>;
  static_assert(std::is_invocable_v<Callable&>, "Heap::on_death takes a callable with no arguments");
  if (!target) throw std::invalid_argument("snapheap: on_death: the handle is empty (or its object has died)");
  if constexpr (std::is_copy_constructible_v<Callable>) {
    if (checks_captures()) {
      // A copy of the callable that adds a root to the target holds a Strong to it.
      const std::uint32_t slot = detail::ObjectAccess::slot(target.get());
      const std::uint32_t before = core_->root_count(slot);
      bool holds;
      {
        [[maybe_unused]] const Callable copy(callback);
        holds = core_->root_count(slot) > before;
      }
      if (holds)
        throw std::invalid_argument(
            "snapheap: on_death: the callback holds a Strong handle to the object it watches, which keeps "
            "that object alive forever (capture a Weak, or nothing)");
    }
  }
  return on_death_of(target.get(), std::function<void()>(std::forward<F>(callback)));
}

template <class T>
Strong<T> Heap::root(std::string_view name) const {
  Object* object = root_object(name);
  if (!object) return Strong<T>();
  if constexpr (std::is_same_v<T, Object>) {
    return Strong<T>(object);
  } else {
    T* typed = dynamic_cast<T*>(object);
    if (!typed) throw_root_type(name, object, typeid(T));
    return Strong<T>(typed);
  }
}

}  // namespace snapheap
