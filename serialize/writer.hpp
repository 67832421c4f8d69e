// Saving: trace from the chosen roots (strong edges only, breadth first, an explicit queue),
// never entering the objects of the external roots (SaveOptions::external), number the objects
// in the order reached, then write the header, the type table, the type runs, the external-root
// table, one record per object through its type's serialize(), the roots and the trailer.
//
// Invariant (numbered as in the README; tests/serialize/roundtrip_test.cpp, seed_test.cpp,
// external_test.cpp):
//  I4. A snapshot holds exactly the objects its roots reach through strong edges without passing
//      through an external root's object; a reference (strong or weak) to an external root's
//      object is that root's name; each other weak handle in it is its target's ID iff the target
//      is in that set, else a tombstone (expired if its target had died, left out otherwise); an
//      empty handle stays empty.
// Saving also keeps invariant 3 (gc/collector.hpp): the queue is explicit, and a million-long
// chain saves on a 256 KiB stack.
#pragma once

#include "serialize/output.hpp"
#include "snapheap/snapshot.hpp"

namespace snapheap::detail {

/// Writes a snapshot of `heap` to `sink`.
SnapshotStats write_snapshot(Heap& heap, Sink& sink, const SaveOptions& options);

}  // namespace snapheap::detail
