// The buffers saves and loads reuse, kept in the heap as a HeapExtension so that a host that
// checkpoints often does not touch fresh memory each time. Freed by a collection if no save or
// load used them since the previous one, and by Heap::release_memory().
#pragma once

#include <boost/container/vector.hpp>
#include <cstdint>

#include "gc/heap_impl.hpp"
#include "snapheap/archive.hpp"

namespace snapheap::detail {

template <class T>
using Buffer = boost::container::vector<T>;

struct SnapshotScratch final : HeapExtension {
  bool used = false;
  // Saving: the writer's own visited set and queue (never the collector's mark bits or stack).
  Buffer<std::uint64_t> visited;              // by slot: a bit per object numbered
  Buffer<std::uint32_t> ids;                  // by slot: snapshot ID of a visited object
  Buffer<const Object*> queue;                // breadth-first queue, with repeats
  Buffer<const Object*> order;                // by ID: the object
  Buffer<std::uint32_t> queue_ids;            // by queue position: the object's ID
  Buffer<std::uint32_t> types;                // by ID: registry type index
  Buffer<StrongEdge> strong_edges;
  Buffer<WeakEdge> weak_edges;
  Buffer<std::uint32_t> strong_start;         // by ID: first edge of the object
  Buffer<std::uint32_t> weak_start;
  // Loading.
  Buffer<Object*> objects;                    // by ID
  Buffer<std::uint64_t> handles;              // by ID: slot | generation << 32

  void after_collection() noexcept override {
    if (!used) release_memory();
    used = false;
  }
  void release_memory() noexcept override {
    visited = {}, ids = {}, queue = {}, order = {}, queue_ids = {}, types = {};
    strong_edges = {}, weak_edges = {}, strong_start = {}, weak_start = {};
    objects = {}, handles = {};
  }
};

/// The heap's scratch, created on first use, marked used.
inline SnapshotScratch& scratch_of(Heap& heap) {
  SnapshotScratch& scratch = HeapInternals::of(heap).extension<SnapshotScratch>();
  scratch.used = true;
  return scratch;
}

/// `v` grown to at least n elements, left uninitialized; its data.
template <class T>
T* sized(Buffer<T>& v, std::size_t n) {
  if (v.size() < n) v.resize(n, boost::container::default_init);
  return v.data();
}

}  // namespace snapheap::detail
