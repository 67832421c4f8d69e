// V8's C++ garbage collector (cppgc, from Debian's libnode108: Node 18's V8 10.2) as a benchmark
// baseline. libnode is built without RTTI, so cppgc lives in a translation unit of its own
// (cppgc_baseline.cpp, compiled with -fno-rtti) behind these plain functions; the benchmark files
// call them and keep the clock (Untimed, TimedFaults) on their side. Built only where
// bench/CMakeLists.txt found the unpacked packages (SNAPHEAP_BENCH_CPPGC is then 1).
//
// The shapes are the suite's: Small has an int64 and two Member edges (24 bytes of fields, behind
// cppgc's 8-byte object header); Node an int64, a Member and a WeakMember; the graph's root is a
// garbage-collected object holding a std::vector<Member<Node>>, rooted by a cppgc::Persistent;
// handles the host keeps are cppgc::Persistent (snapheap's Strong) and cppgc::WeakPersistent or
// WeakMember (snapheap's Weak). Full collections are ForceGarbageCollectionSlow with the stack
// state kNoHeapPointers (no conservative stack scan: every root is a Persistent).
#pragma once

#include <cstddef>
#include <cstdint>

namespace cppgc_baseline {

/// V8's platform, cppgc's process state and the heap the suite reuses, once per process (every
/// other function calls it).
void init();

// ---- the reused heap ---------------------------------------------------------------------------

/// A full, atomic collection of the reused heap (marking and sweeping finished on return).
void collect();
/// cppgc's process-wide counters: bytes of live objects (headers included) as of the last
/// collection plus what was allocated since, and bytes of pages the heaps hold. Both keep what
/// heaps already destroyed had: compare differences, not values.
std::size_t object_bytes();
std::size_t space_bytes();

// alloc/small/cppgc: n Small objects, a Persistent handle kept to each.
void alloc_reserve(std::size_t n);
void alloc_fill(std::size_t n);
/// Drops the handles and collects (the untimed reset between iterations).
void alloc_drain();
/// Frees the handle vector.
void alloc_release();

// collect/*/cppgc: the suite's chain (node i's next is node i-1) and random graph (the edges of
// graph_spec(n), passed as arrays of indices; kNoEdge = 0xFFFFFFFF), rooted by one Persistent.
void build_chain(std::int64_t n);
void build_graph(std::int64_t n, const std::uint32_t* strong, const std::uint32_t* weak, bool weak_edges);
/// Clears the root (the shape becomes garbage; nothing is destroyed until a collection).
void drop_root();

// weak/half_dead/cppgc: n Small objects, a Persistent and a weak handle to each (WeakMember in a
// garbage-collected holder, or WeakPersistent off the heap).
enum class WeakKind { member, persistent };
void weak_build(std::int64_t n, WeakKind kind);
void weak_release_odd();
/// The weak handles whose target is still alive.
std::int64_t weak_count_alive();
/// Drops every handle (untimed); the next collect() frees what is left.
void weak_clear();

// memory/small/cppgc: a fresh heap of its own.
struct MemoryProbe {
  double space_bytes;   ///< page growth (ProcessHeapStatistics::TotalAllocatedSpace)
  double object_bytes;  ///< object bytes growth, headers included
};
/// Creates a fresh heap and reserves the handle vector (before the caller's probe).
void memory_begin(std::int64_t n);
/// n Small objects with a Persistent each; then a full collection (everything is live).
MemoryProbe memory_fill(std::int64_t n);
/// Drops the handles and the heap.
void memory_end();

// pauses/frame_loop/cppgc_incremental (bench/bench_pauses.cpp): a heap of its own with incremental
// marking and incremental sweeping, the frame loop's live set (leaves of an int64 and a Member to
// another leaf, in chunks held by one rooted table).
struct FrameStats {
  double step_ms = 0;       ///< time inside frame_step (the idle-time work cppgc's tasks did)
  double cycles = 0;        ///< collection cycles whose marking finished during the frames
  double peak_space = 0;    ///< peak page bytes of the frame loop's heap during the frames
  double live_bytes = 0;    ///< its object bytes after the set-up's full collection
};
/// Records one timed call's duration (nanoseconds) into the caller's histogram.
using Recorder = void (*)(void* context, std::uint64_t ns);
void frames_begin(std::int64_t live, std::size_t chunk, std::uint64_t seed);
/// One frame: `replaced` leaves replaced by new ones (every allocation timed and recorded), then
/// up to `idle_ms` of cppgc's pending foreground and idle tasks run (timed and recorded as one call).
void frames_frame(std::int64_t replaced, double idle_ms, Recorder record, void* context);
FrameStats frames_stats();
void frames_end();

}  // namespace cppgc_baseline
