// XXH3-64 (from libxxhash-dev, inlined): about 20 GB/s, so checking a snapshot costs a small
// fraction of copying it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace snapheap::detail {

std::uint64_t checksum(const void* data, std::size_t size) noexcept;

/// Streaming XXH3-64 over the bytes of a snapshot as they are written.
class Hasher {
 public:
  Hasher();
  ~Hasher();
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;
  void update(const void* data, std::size_t size) noexcept;
  std::uint64_t digest() const noexcept;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace snapheap::detail
