// Where snapshot bytes go: a Sink (buffer, stream, file), behind SnapshotOutput, which stages
// small writes, hashes everything that passes, and counts bytes for offsets and the trailer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iosfwd>
#include <memory>

#include "serialize/checksum.hpp"
#include "snapheap/archive.hpp"
#include "snapheap/snapshot.hpp"

namespace snapheap::detail {

class Sink {
 public:
  virtual ~Sink() = default;
  /// Delivers bytes; throws SnapshotError(io_error) if they cannot be delivered. `offset` is the
  /// position of the first byte in the snapshot, for the message.
  virtual void write(const unsigned char* data, std::size_t size, std::uint64_t offset) = 0;
};

class BufferSink final : public Sink {
 public:
  explicit BufferSink(ByteBuffer& out) noexcept : out_(out) {}
  void write(const unsigned char* data, std::size_t size, std::uint64_t) override { out_.append(data, size); }

 private:
  ByteBuffer& out_;
};

class StreamSink final : public Sink {
 public:
  explicit StreamSink(std::ostream& out) noexcept : out_(out) {}
  void write(const unsigned char* data, std::size_t size, std::uint64_t offset) override;

 private:
  std::ostream& out_;
};

class SnapshotOutput {
 public:
  /// 64 KiB: small records are batched into few sink writes, and a staged block is still in
  /// L2 cache when it is hashed and copied out.
  static constexpr std::size_t kStaging = 64 * 1024;

  explicit SnapshotOutput(Sink& sink);
  void put(const void* p, std::size_t n) {
    if (n <= kStaging - pos_) {
      // An empty block (a record without references, an empty vector) may come with a null
      // pointer, which memcpy must not be given even for 0 bytes (UBSan: nonnull-attribute).
      if (n != 0) std::memcpy(staging_.get() + pos_, p, n);
      pos_ += n;
    } else {
      put_slow(p, n);
    }
  }
  void put_varint(std::uint64_t v) {
    if (kStaging - pos_ < 10) flush();
    pos_ += wire::encode_varint(staging_.get() + pos_, v);
  }
  void put_u64(std::uint64_t v);
  std::uint64_t position() const noexcept { return flushed_ + pos_; }
  /// Writes the trailer (length, end magic, checksum) and delivers everything.
  void finish();

 private:
  void put_slow(const void* p, std::size_t n);
  void flush();

  Sink& sink_;
  Hasher hasher_;
  std::unique_ptr<unsigned char[]> staging_;
  std::size_t pos_ = 0;
  std::uint64_t flushed_ = 0;
};

}  // namespace snapheap::detail
