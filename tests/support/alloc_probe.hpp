// Counts the heap allocations made while an AllocProbe lives, for tests that claim a piece of
// code allocates little ("refused before anything large is allocated"). Under AddressSanitizer it
// listens through the sanitizer's malloc hook; otherwise the test binary replaces the global
// operator new (alloc_probe.cpp), which every allocation of the library and the standard
// containers goes through. The managed heap's own pages are mmap'ed and not seen here: compare
// Heap::stats().committed_bytes for those.
#pragma once

#include <cstddef>

namespace snapheap_test {

struct AllocCounts {
  std::size_t count = 0;    ///< allocations made
  std::size_t bytes = 0;    ///< bytes they asked for, in all
  std::size_t largest = 0;  ///< the largest single request
};

/// Counts the allocations of every thread from construction to destruction (not nestable).
class AllocProbe {
 public:
  AllocProbe();
  ~AllocProbe();
  AllocProbe(const AllocProbe&) = delete;
  AllocProbe& operator=(const AllocProbe&) = delete;

  /// What was allocated so far.
  AllocCounts counts() const;
};

}  // namespace snapheap_test
