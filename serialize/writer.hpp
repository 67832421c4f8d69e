// Saving: trace from the chosen roots (strong edges only, breadth first, an explicit queue),
// number the objects in the order reached, then write the header, the type table, the type
// runs, one record per object through its type's serialize(), the roots and the trailer.
//
// Invariant (numbered as in the README; tests/serialize/roundtrip_test.cpp, seed_test.cpp):
//  I4. A snapshot holds exactly the objects its roots reach through strong edges; each weak
//      handle in it is its target's ID iff the target is in that set, else a tombstone; an empty
//      handle stays empty.
// Saving also keeps invariant 3 (gc/collector.hpp): the queue is explicit, and a million-long
// chain saves on a 256 KiB stack.
#pragma once

#include "serialize/output.hpp"
#include "snapheap/snapshot.hpp"

namespace snapheap::detail {

/// Writes a snapshot of `heap` to `sink`.
SnapshotStats write_snapshot(Heap& heap, Sink& sink, const SaveOptions& options);

}  // namespace snapheap::detail
