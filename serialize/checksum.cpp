#include "serialize/checksum.hpp"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace snapheap::detail {

struct Hasher::State {
  XXH3_state_t xxh;
};

std::uint64_t checksum(const void* data, std::size_t size) noexcept { return XXH3_64bits(data, size); }

Hasher::Hasher() : state_(std::make_unique<State>()) { XXH3_64bits_reset(&state_->xxh); }
Hasher::~Hasher() = default;

void Hasher::update(const void* data, std::size_t size) noexcept { XXH3_64bits_update(&state_->xxh, data, size); }

std::uint64_t Hasher::digest() const noexcept { return XXH3_64bits_digest(&state_->xxh); }

}  // namespace snapheap::detail
