// The buffers saves and loads reuse (kept in the heap: see HeapScratch).
#pragma once

#include <boost/container/vector.hpp>
#include <cstdint>

#include "snapheap/heap.hpp"
#include "snapheap/tracer.hpp"

namespace snapheap::detail {

struct SnapshotScratch final : HeapScratch {
  // Saving.
  boost::container::vector<std::uint32_t> ids;  // by slot: snapshot ID of a visited object
  WorkList queue;                                // breadth-first queue, with repeats
  boost::container::vector<std::uint32_t> queue_ids;  // by queue position: the object's ID
  boost::container::vector<std::uint32_t> types;  // by ID: registry type index
  StrongEdgeLog strong_edges;
  WeakEdgeLog weak_edges;
  boost::container::vector<std::uint32_t> strong_start;  // by ID: first edge of the object
  boost::container::vector<std::uint32_t> weak_start;
  // Loading.
  boost::container::vector<Object*> objects;         // by ID
  boost::container::vector<std::uint64_t> handles;   // by ID: slot | generation << 32
};

/// The heap's scratch, created on first use, marked used.
inline SnapshotScratch& scratch_of(Heap& heap) {
  std::unique_ptr<HeapScratch>& slot = HeapAccess::scratch(heap);
  if (!slot) slot = std::make_unique<SnapshotScratch>();
  slot->used = true;
  return static_cast<SnapshotScratch&>(*slot);
}

template <class T>
T* sized(boost::container::vector<T>& v, std::size_t n) {
  if (v.size() < n) v.resize(n, boost::container::default_init);
  return v.data();
}

}  // namespace snapheap::detail
