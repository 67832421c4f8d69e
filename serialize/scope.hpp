// What every save and load holds while it runs: the heap's own thread (checked in debug builds),
// no collector running (a save or load called from a destructor or trace() stops the program),
// and collections held off (invariant 7), with a collection that came due run at the end.
#pragma once

#include "gc/heap_impl.hpp"

namespace snapheap::detail {

class SnapshotScope {
 public:
  /// `misuse` is the message that stops the program when the collector is running.
  SnapshotScope(Heap& heap, const char* misuse) : heap_(heap), table_(HeapInternals::of(heap).table) {
    table_.check_thread();
    SNAPHEAP_CHECK(table_.phase() == Phase::kIdle, misuse);
    table_.enter_no_collect();
  }
  ~SnapshotScope() {
    table_.exit_no_collect();
    HeapInternals::run_deferred_collection(heap_);
  }
  SnapshotScope(const SnapshotScope&) = delete;
  SnapshotScope& operator=(const SnapshotScope&) = delete;

  ObjectTable& table() const noexcept { return table_; }

 private:
  Heap& heap_;
  ObjectTable& table_;
};

}  // namespace snapheap::detail
