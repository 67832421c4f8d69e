// Reading snapshots: the entry point the file, stream and buffer overloads share.
#pragma once

#include <span>

#include "snapheap/snapshot.hpp"

namespace snapheap::detail {

SnapshotStats read_snapshot(Heap& heap, std::span<const unsigned char> bytes, const LoadOptions& options);

}  // namespace snapheap::detail
