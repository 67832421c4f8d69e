// Loading: check the header, the trailer and the checksum; resolve the type table against the
// registry; create every object (default-constructed, unrooted, with collections held off);
// read each record through its type's serialize(), resolving references by ID; read the roots;
// then commit by binding the roots. Until the commit nothing is visible to the host, and any
// failure ends what was created (core/lifecycle.hpp).
//
// Invariant (numbered as in the README; tests/serialize/errors_test.cpp, corruption_test.cpp,
// the fuzzers):
//  I5. A load is all or nothing: bad input throws SnapshotError with what and where, allocates no
//      more than the input can justify, and leaves the destination heap as it was.
// Loading also keeps invariant 3 (gc/collector.hpp): records are read in ID order, never by
// following references.
#pragma once

#include <span>

#include "snapheap/snapshot.hpp"

namespace snapheap::detail {

SnapshotStats read_snapshot(Heap& heap, std::span<const unsigned char> bytes, const LoadOptions& options);

}  // namespace snapheap::detail
