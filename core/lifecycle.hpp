// How objects leave a heap.
//
// Invariant (numbered as in the README; tests/gc/collector_test.cpp, death_test.cpp):
//  I2. A weak handle never dangles: it reads as empty from the moment its target is found dead,
//      before that target's destructor runs.
//
// Every way out (the sweep, heap teardown, a failed load's staged objects) goes through these, in
// the order I2 needs:
//
//   1. expire: every dying object's generation is bumped, so each of its weak handles reads
//      expired before any destructor of the batch runs;
//   2. destroy: every destructor runs before any cell is freed (a debug check that catches a
//      destructor dereferencing a Member to another dying object reads that object's header,
//      which must still be there);
//   3. release: cells and slots are freed.
//
// Objects come in through one funnel too: detail::construct_object (detail/heap_core.hpp), which
// make() and the snapshot loader both use.
#pragma once

#include <cstdint>
#include <vector>

#include "core/object_table.hpp"

namespace snapheap::detail {

/// Runs an object's destructor (a type without one is skipped); a destructor that throws is
/// reported and counted (detail::report_destructor_exception), never propagated.
void run_destructor(Object* o) noexcept;

/// Step 1 for every live object whose bit in `marks` is clear.
void expire_unmarked(ObjectTable& table, const std::uint64_t* marks) noexcept;
/// Step 2 for the same objects.
void destroy_unmarked(ObjectTable& table, const std::uint64_t* marks) noexcept;
/// All three steps for every live object whose bit in `marks` is clear (the sweep). A heap that
/// never held a type with a destructor expires and frees in one pass: nothing can observe a weak
/// handle between the steps.
void end_unmarked(ObjectTable& table, const std::uint64_t* marks) noexcept;
/// All three steps for the first `max_objects` live objects of word `word` of the live bitmap
/// whose bits in `marks` are clear (an incremental sweep's unit: a word of objects whose
/// destructors free much is ended a few objects per unit); returns the bytes freed. The word is
/// done when no such object is left: ended objects leave the live bitmap, and what the program
/// makes between units is allocated marked.
std::size_t end_unmarked_word(ObjectTable& table, const std::uint64_t* marks, std::size_t word,
                              unsigned max_objects) noexcept;
/// All three steps for the given slots (a failed load's objects; destructors newest first).
void end_slots(ObjectTable& table, const std::vector<std::uint32_t>& slots) noexcept;

}  // namespace snapheap::detail
