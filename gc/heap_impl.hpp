// What a Heap holds behind its public face: the object table, the options and statistics, the
// named roots, and the state other modules keep in it (HeapExtension).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "core/object_table.hpp"
#include "gc/roots.hpp"
#include "gc/weak.hpp"
#include "snapheap/heap.hpp"

namespace snapheap::detail {

/// State another module keeps in a heap (the snapshot module's reusable buffers). The heap tells
/// it about collections and memory release; it never calls the module by name.
class HeapExtension {
 public:
  virtual ~HeapExtension() = default;
  /// After every collection.
  virtual void after_collection() noexcept {}
  /// From Heap::release_memory(): give back what can be given back.
  virtual void release_memory() noexcept {}
};

/// Incremental marking's long vectors of Members (gc/incremental.cpp says why this is
/// safe): one longer than a slice is traced a slice per unit of work, its owner traced again to
/// find its buffer for each slice after the first.
class VectorSlices final : public VectorSlicer {
 public:
  /// Elements per slice: the longest vector traced in one piece.
  static constexpr std::size_t kSlice = 4096;
  /// Another slice length (tests: the model test slices every object's edges).
  void set_slice(std::size_t elements) noexcept { slice_ = elements > 0 ? elements : 1; }
  /// `owner` is about to be traced for the first time, its edges pushed onto `out`.
  void tracing(const Object* owner, MarkStack& out) noexcept {
    owner_ = owner;
    out_ = &out;
  }
  bool empty() const noexcept { return pending_.empty(); }
  /// The next slice of the newest pending buffer, onto `out`; or, if its owner's vectors no
  /// longer hold that buffer, the owner's other edges.
  void resume_one(MarkStack& out) noexcept;
  /// Owners traced again because a pending buffer had left their vectors (tests).
  std::size_t retraced() const noexcept { return retraced_; }
  void clear() noexcept {
    pending_.clear();
    retraced_ = 0;
  }
  void vector(const void* data, std::size_t size, PushMembers push) noexcept override;

 private:
  enum class Mode : std::uint8_t { first, resuming, retracing };
  struct Pending {
    const Object* owner;
    const void* data;  // the buffer
    std::size_t next;  // its first element not traced yet
  };
  std::vector<Pending> pending_;
  std::size_t slice_ = kSlice;
  MarkStack* out_ = nullptr;
  const Object* owner_ = nullptr;
  Mode mode_ = Mode::first;
  Pending resumed_{};
  bool found_ = false;
  bool more_ = false;
  std::size_t retraced_ = 0;
};

class HeapImpl {
 public:
  explicit HeapImpl(const HeapOptions& o) : options(o) { table.set_owner_context(this); }
  static HeapImpl& of(ObjectTable& table) noexcept { return *static_cast<HeapImpl*>(table.owner_context()); }
  /// Bytes the limit and the trigger see: cells and owned memory.
  std::size_t counted_bytes() const noexcept { return table.live_bytes() + table.external_bytes(); }

  ObjectTable table;
  HeapOptions options;
  HeapStats stats;  // the counters; live figures are read from the table
  RootRegistry roots;
  WeakState weak;  // death watches, weak maps' dead entries (gc/weak.hpp)

  /// An incremental cycle's progress between steps (gc/incremental.cpp).
  struct Cycle {
    enum class Stage : std::uint8_t { none, marking, watches, census, sweeping, clearing };
    Stage stage = Stage::none;
    std::uint32_t root_block = 0;   // the next block of 64 slots whose roots are marked
    std::vector<std::uint64_t> had_log;  // maps with a log waiting when marking ended
    std::size_t ephemeron_next = 0; // the next pending ephemeron whose map entry is noted dead
    std::size_t watch_word = 0;     // the next word of the watched-object bitmap to scan
    std::size_t census_next = 0;    // the next weak census entry to count
    std::size_t sweep_word = 0;     // the next word of the live and mark bitmaps to sweep
    std::size_t clear_word = 0;     // the next word of the mark bitmap to clear
    int ephemeron_rounds = 0;       // rounds over the pending ephemerons at the end of marking
    EphemeronRound ephemeron_round; // the round in progress (a round runs in slices)
    EphemeronIndex ephemeron_index; // after those rounds: the fixpoint, across steps
    std::uint64_t traced = 0;       // objects marking traced in this cycle
    std::size_t weak_expired = 0;
    std::size_t freed_objects = 0;
    std::size_t freed_bytes = 0;
    std::size_t step_at = 0;        // allocation volume at which allocation does the next step
    std::size_t stepped_at = 0;     // allocation volume at the end of the last step
    std::size_t work_debt = 0;      // paced work the time budget cut short, owed by the next steps
    std::uint64_t thrown_before = 0;
    std::chrono::nanoseconds mark_time{0}, sweep_time{0};
  } cycle;
  /// Incremental marking: targets of traced edges not shaded yet (gray-to-be; empty between
  /// cycles). Kept outside Cycle so that its capacity survives from one cycle to the next.
  MarkStack deferred_edges;
  /// Incremental marking: the long vectors traced in slices, their next slices pending.
  VectorSlices sliced;
  /// Generational mode: the old bytes after the last major collection.
  std::size_t old_bytes_at_major = 0;
  /// Generational mode: the page bytes the heap held after the last major collection (or
  /// collect()). No automatic major runs before the counted bytes pass them: filling pages the
  /// heap already holds does not grow it.
  std::size_t committed_at_major = 0;
  bool next_is_major = false;
  /// Generational mode: how many times major_multiplier the old bytes must grow before the next
  /// major collection (1, or kBadMajorScale after a major that found little garbage).
  double major_scale = 1.0;
  /// Generational mode: minor collections left before objects are made young again, while a
  /// survival sample says they live (pretenuring; gc/generational.cpp).
  std::uint32_t pretenure_left = 0;
  /// Generational mode: the next minor interval is a short survival sample.
  bool sample_next = false;

  /// The extension of type E, made on first use.
  template <class E>
  E& extension();
  void after_collection() noexcept {
    for (auto& e : extensions_) e.second->after_collection();
  }
  void release_extensions() noexcept {
    for (auto& e : extensions_) e.second->release_memory();
  }

 private:
  template <class E>
  static const void* key() noexcept {
    static const char k = 0;
    return &k;
  }
  std::vector<std::pair<const void*, std::unique_ptr<HeapExtension>>> extensions_;
};

template <class E>
E& HeapImpl::extension() {
  for (auto& e : extensions_)
    if (e.first == key<E>()) return static_cast<E&>(*e.second);
  extensions_.emplace_back(key<E>(), std::make_unique<E>());
  return static_cast<E&>(*extensions_.back().second);
}

/// The other modules' way in (Heap befriends it).
struct HeapInternals {
  static HeapImpl& of(Heap& heap) noexcept { return *heap.impl_; }
  static const HeapImpl& of(const Heap& heap) noexcept { return *heap.impl_; }
  static void run_deferred_collection(Heap& heap) noexcept { heap.run_deferred_collection(); }
};

}  // namespace snapheap::detail
