// The collector's phases. Heap::collect() calls them in order:
//
//     mark_roots(heap);         every object with a Strong handle or a named root is marked and
//                               traced, and what it reaches (explicit work list, no recursion)
//     trace_references(heap);   the work list is empty when this returns
//     count_expired_weak(heap); weak edges of live objects whose targets stayed white
//     sweep(heap);              white objects: expire weak handles, run destructors, free
//     set_next_trigger(heap);   the next collection starts after growth_factor x live bytes
//
// Invariants (tests/gc/collector_test.cpp and the model test check each):
//  1. After collect(), an object is alive iff a root reaches it through strong edges.
//  2. Every weak handle to a dead object reads as expired before any destructor of the
//     collection runs (sweep expires all generations first, then destroys).
//  3. No phase recurses: marking uses a work list, sweeping and teardown walk the table.
//  7. collect() does nothing while an object is under construction or a snapshot is loading
//     (the table's no-collect depth); it runs when that ends.
#pragma once

#include <cstddef>

#include "snapheap/heap.hpp"

namespace snapheap::detail {

struct SweepResult {
  std::size_t freed_objects = 0;
  std::size_t freed_bytes = 0;
};

class Collector {
 public:
  static void collect(Heap& heap) noexcept;
  static void mark_roots(Heap& heap) noexcept;
  static void trace_references(Heap& heap) noexcept;
  static std::size_t count_expired_weak(Heap& heap) noexcept;
  static SweepResult sweep(Heap& heap) noexcept;
  static void set_next_trigger(Heap& heap) noexcept;
  /// Destroys every object (for ~Heap): expire all, run all destructors, then check that no
  /// Strong handle outlives the heap.
  static void tear_down(Heap& heap) noexcept;

 private:
  static void run_destructor(ObjectTable& table, std::uint32_t slot) noexcept;
};

}  // namespace snapheap::detail
