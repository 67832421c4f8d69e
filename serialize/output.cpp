#include "serialize/output.hpp"

#include <ostream>

#include "snapheap/detail/wire.hpp"

namespace snapheap::detail {

void StreamSink::write(const unsigned char* data, std::size_t size, std::uint64_t offset) {
  out_.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out_) throw SnapshotError(SnapshotErrc::io_error, "the output stream failed", offset);
}

SnapshotOutput::SnapshotOutput(Sink& sink) : sink_(sink), staging_(new unsigned char[kStaging]) {}

void SnapshotOutput::flush() {
  if (pos_ == 0) return;
  hasher_.update(staging_.get(), pos_);
  sink_.write(staging_.get(), pos_, flushed_);
  flushed_ += pos_;
  pos_ = 0;
}

void SnapshotOutput::put_slow(const void* p, std::size_t n) {
  const auto* bytes = static_cast<const unsigned char*>(p);
  if (n < kStaging / 2) {
    flush();
    put(bytes, n);
    return;
  }
  // A large block goes straight from its owner's memory to the sink, hashed block by block
  // while each block is still in cache: one pass over the data instead of three.
  flush();
  while (n > 0) {
    const std::size_t chunk = n < kStaging ? n : kStaging;
    hasher_.update(bytes, chunk);
    sink_.write(bytes, chunk, flushed_);
    flushed_ += chunk;
    bytes += chunk;
    n -= chunk;
  }
}

void SnapshotOutput::put_u64(std::uint64_t v) {
  unsigned char bytes[8];
  wire::store_le(bytes, v, 8);
  put(bytes, 8);
}

void SnapshotOutput::finish() {
  put_u64(position() + wire::kTrailerSize);
  put(wire::kEndMagic, sizeof wire::kEndMagic);
  flush();
  unsigned char sum[8];
  wire::store_le(sum, hasher_.digest(), 8);
  sink_.write(sum, sizeof sum, flushed_);
  flushed_ += sizeof sum;
}

}  // namespace snapheap::detail
