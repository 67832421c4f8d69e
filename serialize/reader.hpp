// Loading: check the header, the trailer and the checksum; resolve the type table against the
// registry; create every object (default-constructed, unrooted, with collections held off);
// bind the external-root table to the destination's roots of those names; read each record
// through its type's serialize(), resolving references by ID or external name; read the roots;
// then commit by binding the roots (renamed as LoadOptions say), or handing them to load_roots(). Until the commit nothing is visible to the host, and any
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

#include "gc/roots.hpp"
#include "snapheap/snapshot.hpp"

namespace snapheap::detail {

/// Loads; the roots go into the heap's registry, or into `detached` (load_roots) if it is given.
SnapshotStats read_snapshot(Heap& heap, std::span<const unsigned char> bytes, const LoadOptions& options,
                            RootRegistry::Map* detached);
/// What a left-out tombstone's handle names: no heap (it reads expired; a save writes it as left out).
HeapTag left_out_tag() noexcept;

}  // namespace snapheap::detail
