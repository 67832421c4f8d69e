// The collector: a full stop-the-world mark and sweep. Collector::collect reads as its phases:
//
//     mark_roots(heap);          every object a Strong handle or a named root holds is marked
//                                and traced, and what it reaches (an explicit mark stack)
//     finish_marking(heap);      ephemerons settled, weak deaths noted, and the weak edges of
//                                live objects whose targets stayed white counted
//     sweep(heap);               white objects: expire weak handles, run destructors, free
//
// with timing, the phase flags, statistics, the next trigger and the end-of-collection hooks in
// a CollectionScope around them.
//
// Invariants (numbered as in the README; tests/gc/collector_test.cpp and the model test check
// each):
//  I1. After collect(), an object is alive iff a root (a Strong handle or a named root) reaches it
//      through strong edges. Weak edges never keep anything alive.
//  I3. Nothing is proportional to graph depth on the C++ stack: marking drains an explicit stack,
//      sweeping and teardown walk the table (saving and loading keep it too: serialize/writer.hpp,
//      serialize/reader.hpp). Tested on a million-long chain with a 256 KiB stack.
// (I2, the order in which objects die, is kept by core/lifecycle.hpp; I7, when a collection may
// start, by snapheap/detail/heap_core.hpp.)
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "gc/heap_impl.hpp"

namespace snapheap::detail {

struct SweepResult {
  std::size_t freed_objects = 0;
  std::size_t freed_bytes = 0;
};

class Collector {
 public:
  /// A full collection, in every mode (Heap::collect; the caller checked can_collect()): in
  /// incremental mode the cycle in progress is finished first, in generational mode it is a
  /// major collection.
  static void collect(HeapImpl& heap) noexcept;
  /// The collection that came due by allocation, as the mode does it: a whole one, a step of the
  /// incremental cycle, or a minor (or major) generational one.
  static void collect_due(HeapImpl& heap) noexcept;
  /// Heap::step: collector work for up to `budget`; whether an incremental cycle still runs.
  static bool step(HeapImpl& heap, std::chrono::nanoseconds budget) noexcept;
  /// The checks and collections make() runs off its inline path.
  static void prepare_make(HeapImpl& heap, std::size_t bytes);
  /// Before `bytes` more are counted (a cell, or owned memory): a collection if one is due, and
  /// the limit (HeapExhausted past max_bytes after a collection).
  static void make_room(HeapImpl& heap, std::size_t bytes);
  /// Where the next collection (or incremental step) starts; see HeapOptions.
  static void set_next_trigger(HeapImpl& heap) noexcept;
  /// make()'s inline path for the next allocations: up to the next trigger or incremental step,
  /// none while death callbacks wait to run (make()'s slow path runs them) or in stress mode or
  /// with a limit.
  static void refresh_inline_budget(HeapImpl& heap) noexcept;
  /// Destroys every object (for ~Heap): expire all, run all destructors, check that no Strong
  /// handle outlives the heap, free.
  static void tear_down(HeapImpl& heap) noexcept;
  /// Options changed (the mode too): finish what the old mode left running, set the new one up.
  static void apply_options(HeapImpl& heap, const HeapOptions& options) noexcept;
};

/// What the mode decides from a collection's outcome before the next trigger is set (a
/// generational major's judgement), given the counted bytes at the collection's start.
using Judge = void (*)(HeapImpl& heap, std::size_t bytes_before) noexcept;

/// A stop-the-world mark and sweep of the whole heap. `keep_marks`: the survivors stay marked
/// (generational mode's old objects). `judge`, if any, runs once everything dead is freed.
void full_collection(HeapImpl& heap, bool keep_marks, Judge judge = nullptr) noexcept;

// Incremental mode (gc/incremental.cpp).
/// Starts a cycle if none runs; runs steps until the budget or the cycle ends.
/// Returns whether the cycle still runs.
bool incremental_advance(HeapImpl& heap, std::chrono::nanoseconds time_budget, std::size_t work_budget) noexcept;
/// Runs the cycle in progress (if any) to its end.
void incremental_finish(HeapImpl& heap) noexcept;
bool incremental_running(const HeapImpl& heap) noexcept;

// Generational mode (gc/generational.cpp).
void minor_collection(HeapImpl& heap) noexcept;
/// `automatic`: the trigger started it (judged: a bad one makes the next wait 4x), rather than
/// Heap::collect() (not judged).
void major_collection(HeapImpl& heap, bool automatic) noexcept;
/// The allocation volume until the next minor collection.
std::size_t minor_trigger(const HeapImpl& heap) noexcept;

/// The end of every collection or cycle: statistics, the judgement (if any), the next trigger,
/// the extensions' hooks, page trimming, verification.
void end_collection(HeapImpl& heap, std::chrono::nanoseconds mark_time, std::chrono::nanoseconds sweep_time,
                    Judge judge = nullptr, std::size_t bytes_before = 0) noexcept;
/// Adds a pause to the statistics.
void record_pause(HeapStats& stats, std::chrono::nanoseconds pause) noexcept;
/// Before anything is marked or freed: the forgotten-trace check in its mode, stopping the
/// program with its finding.
void check_traces_or_stop(HeapImpl& heap) noexcept;

// The phases (gc/mark.cpp, gc/sweep.cpp).
/// Traces the gray objects on `stack` (and what they make gray) until it is empty, calling
/// `traced(object)` after each trace (the ephemeron fixpoint looks the object up as a key).
template <class Traced>
void drain(MarkStack& stack, Tracer& tracer, Traced&& traced) noexcept {
  while (!stack.empty()) {
    const Object* o = stack.back();
    stack.pop_back();
    o->trace(tracer);
    traced(o);
  }
}
inline void drain(MarkStack& stack, Tracer& tracer) noexcept {
  drain(stack, tracer, [](const Object*) {});
}
/// Rooted objects already marked, traced in batches of 64 with their headers prefetched (their
/// cache misses overlap), what they reach drained after each batch (mark_roots, a minor
/// collection's young roots).
class RootBatch {
 public:
  RootBatch(MarkStack& stack, Tracer& tracer) noexcept : stack_(stack), tracer_(tracer) {}
  ~RootBatch() { flush(); }
  RootBatch(const RootBatch&) = delete;
  RootBatch& operator=(const RootBatch&) = delete;
  void add(const Object* o) noexcept {
    __builtin_prefetch(o);
    batch_[n_++] = o;
    if (n_ == kSize) flush();
  }
  /// Traces the batch and drains the mark stack.
  void flush() noexcept;

 private:
  static constexpr std::size_t kSize = 64;
  MarkStack& stack_;
  Tracer& tracer_;
  const Object* batch_[kSize];
  std::size_t n_ = 0;
};
void mark_roots(HeapImpl& heap) noexcept;
/// The end of a stop-the-world marking (a full or a minor collection), once the mark stack is
/// empty: the ephemeron fixpoint (settle_ephemerons), then with the marks final the weak deaths
/// (note_weak_deaths) and the weak census; returns how many weak edges expire. (An incremental
/// cycle does the same in steps: ephemeron_round, note_weak_deaths, then its census in slices.)
std::size_t finish_marking(HeapImpl& heap) noexcept;
SweepResult sweep(HeapImpl& heap, bool keep_marks = false) noexcept;
/// heap.verify(): the object table, every edge, the roots (gc/verify.cpp), and in debug builds
/// and stress or verify mode the forgotten-trace check.
VerifyResult verify(const HeapImpl& heap);
/// Whether the forgotten-trace check runs (debug builds, stress or verify mode).
bool checks_traces(const HeapOptions& options) noexcept;
/// The forgotten-trace check (gc/trace_check.cpp) over the live objects: the first
/// Member, Weak, Strong or raw pointer inside a managed object that its trace() does not visit.
std::string check_traces(const ObjectTable& table);
/// The live objects, sorted: what every pointer is looked up in before it is read through.
std::vector<const Object*> live_objects(const ObjectTable& table);

}  // namespace snapheap::detail
