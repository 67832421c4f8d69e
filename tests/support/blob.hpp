// A managed object of a chosen size (and alignment), for allocator and heap-limit tests.
#pragma once

#include <snapheap/heap.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace snapheap_test {

/// sizeof(Blob<N>) is N plus the 16-byte Object header (rounded up to the alignment). The
/// payload is left uninitialized unless a fill byte is given, so that large blobs cost nothing to
/// make.
template <std::size_t N, std::size_t Align = 8>
struct alignas(Align) Blob final : snapheap::Object {
  unsigned char payload[N];

  Blob() {}  // NOLINT: uninitialized on purpose
  explicit Blob(unsigned char fill) { std::memset(payload, fill, N); }
  void trace(snapheap::Tracer&) const override {}

  /// True if every payload byte is `fill`.
  bool holds(unsigned char fill) const {
    for (std::size_t i = 0; i < N; ++i)
      if (payload[i] != fill) return false;
    return true;
  }
};

}  // namespace snapheap_test
