// Snapshots through std::istream and std::ostream (serialize/file_io.cpp, serialize/output.cpp):
// streams that can seek and streams that cannot, cut short, lying about their size, failing.
// The load from a stream reads it whole and then loads those bytes, so every error it gives is
// the one the same bytes give from memory (invariant 5), plus "the input stream failed".
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <ios>
#include <istream>
#include <limits>
#include <optional>
#include <ostream>
#include <span>
#include <sstream>
#include <stdexcept>
#include <streambuf>
#include <string>
#include <vector>

#include "seed/seed_model.hpp"
#include "serialize/snapshot_types.hpp"

using namespace snapheap;
using namespace snapheap_stest;

namespace stream_test {

/// Bytes in memory behind a streambuf that hands them out `piece` bytes at a time (underflow)
/// and cannot seek (seekoff and seekpos are the default: -1), as a pipe's stream. With `claimed`
/// set it can seek instead, and says it ends `claimed` bytes past its start however many bytes
/// it holds (a broken or hostile streambuf). It records the largest read asked of it.
class PieceBuf final : public std::streambuf {
 public:
  PieceBuf(std::string data, std::size_t piece, std::optional<std::uint64_t> claimed = std::nullopt)
      : data_(std::move(data)), piece_(piece), claimed_(claimed) {}
  std::size_t largest_read() const noexcept { return largest_read_; }

 protected:
  int_type underflow() override {
    if (gptr() != nullptr && gptr() < egptr()) return traits_type::to_int_type(*gptr());
    if (next_ == data_.size()) return traits_type::eof();
    const std::size_t n = std::min(piece_, data_.size() - next_);
    char* begin = data_.data() + next_;
    setg(begin, begin, begin + n);
    next_ += n;
    return traits_type::to_int_type(*gptr());
  }
  std::streamsize xsgetn(char* s, std::streamsize n) override {
    largest_read_ = std::max(largest_read_, static_cast<std::size_t>(n));
    return std::streambuf::xsgetn(s, n);
  }
  pos_type seekoff(off_type off, std::ios_base::seekdir dir, std::ios_base::openmode which) override {
    if (!claimed_ || !(which & std::ios_base::in)) return pos_type(off_type(-1));
    const off_type here = static_cast<off_type>(next_) - (egptr() - gptr());
    if (dir == std::ios_base::cur && off == 0) return pos_type(here);
    if (dir == std::ios_base::end && off == 0) return pos_type(static_cast<off_type>(*claimed_));
    if (dir == std::ios_base::beg) return seekpos(pos_type(off), which);
    return pos_type(off_type(-1));
  }
  pos_type seekpos(pos_type pos, std::ios_base::openmode which) override {
    if (!claimed_ || !(which & std::ios_base::in)) return pos_type(off_type(-1));
    const off_type at = off_type(pos);
    if (at < 0 || static_cast<std::uint64_t>(at) > data_.size()) return pos_type(off_type(-1));
    next_ = static_cast<std::size_t>(at);
    setg(nullptr, nullptr, nullptr);
    return pos;
  }

 private:
  std::string data_;
  std::size_t piece_;
  std::optional<std::uint64_t> claimed_;
  std::size_t next_ = 0;
  std::size_t largest_read_ = 0;
};

/// A streambuf that gives `good` bytes of `data` and then throws from its next read.
class ThrowingInBuf final : public std::streambuf {
 public:
  ThrowingInBuf(std::string data, std::size_t good) : data_(std::move(data)), good_(good) {}

 protected:
  int_type underflow() override {
    if (gptr() != nullptr && gptr() < egptr()) return traits_type::to_int_type(*gptr());
    if (served_) throw std::runtime_error("the device is gone");
    served_ = true;
    char* begin = data_.data();
    setg(begin, begin, begin + std::min(good_, data_.size()));
    if (good_ == 0) throw std::runtime_error("the device is gone");
    return traits_type::to_int_type(*gptr());
  }

 private:
  std::string data_;
  std::size_t good_;
  bool served_ = false;
};

/// An output streambuf appending to a string (no seeking), that takes at most `limit` bytes and
/// then refuses (or, with `throws`, throws).
class SinkBuf final : public std::streambuf {
 public:
  explicit SinkBuf(std::size_t limit = std::numeric_limits<std::size_t>::max(), bool throws = false)
      : limit_(limit), throws_(throws) {}
  const std::string& data() const noexcept { return data_; }

 protected:
  int_type overflow(int_type ch) override {
    if (traits_type::eq_int_type(ch, traits_type::eof())) return traits_type::not_eof(ch);
    // One byte, as xsputn would take it (not through xsputn(&c, 1): GCC 12 at -O2 with the
    // sanitizers reads the one-byte append as out of the bounds of `c`).
    if (data_.size() >= limit_) {
      if (throws_) throw std::runtime_error("the disk is full");
      return traits_type::eof();
    }
    data_.push_back(traits_type::to_char_type(ch));
    return ch;
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    const std::size_t k = std::min(static_cast<std::size_t>(n), limit_ - data_.size());
    data_.append(s, k);
    if (k < static_cast<std::size_t>(n) && throws_) throw std::runtime_error("the disk is full");
    return static_cast<std::streamsize>(k);
  }

 private:
  std::size_t limit_;
  bool throws_;
  std::string data_;
};

/// A heap whose snapshot is a few MB: more than the first read (1 MiB) of a stream that cannot
/// say its size, so that its buffer grows.
void build(Heap& heap, std::int64_t values = 400'000) {
  auto payload = heap.make<seed::Payload>(values);
  auto a = heap.make<SNode>(5);
  a->next = heap.make<SNode>(6);
  a->peer = a->next;
  heap.set_root("payload", payload);
  heap.set_root("node", a);
}

std::string saved(Heap& heap) {
  SinkBuf sink;
  std::ostream out(&sink);
  save(heap, out);
  return sink.data();
}

void check_loaded(Heap& heap, std::int64_t values = 400'000) {
  auto payload = heap.root<seed::Payload>("payload");
  REQUIRE(payload);
  REQUIRE(static_cast<std::int64_t>(payload->values.size()) == values);
  CHECK(payload->values.front() == 0);
  CHECK(payload->values.back() == values - 1);
  auto node = heap.root<SNode>("node");
  REQUIRE(node);
  CHECK(node->next->value == 6);
  CHECK(node->peer.lock() == node->next);
}

std::span<const std::byte> as_bytes(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

/// The error the bytes give from memory (they must not load).
SnapshotError error_from_memory(const std::string& bytes) {
  Heap heap;
  try {
    load(heap, as_bytes(bytes));
  } catch (const SnapshotError& e) {
    return e;
  }
  FAIL("the bytes loaded from memory");
  throw std::logic_error("unreachable");
}

}  // namespace stream_test

using namespace stream_test;

TEST_CASE("a snapshot round-trips through streams that cannot seek, in pieces", "[serialize][stream]") {
  Heap heap;
  build(heap);
  ByteBuffer buffer;
  save(heap, buffer);
  const std::string bytes = saved(heap);
  REQUIRE(bytes.size() > (std::size_t{1} << 20));  // past the first read of an unsized stream
  CHECK(as_bytes(bytes).size() == buffer.size());
  CHECK(std::memcmp(bytes.data(), buffer.data(), buffer.size()) == 0);  // the stream got the same bytes

  const std::size_t piece = GENERATE(std::size_t{1} << 12, std::size_t{1} << 16, std::size_t{3} << 20);
  INFO("the stream hands out " << piece << " bytes at a time");
  SECTION("load") {
    PieceBuf pipe(bytes, piece);
    std::istream in(&pipe);
    Heap restored;
    const SnapshotStats stats = load(restored, in);
    CHECK(stats.bytes == bytes.size());
    CHECK(in.eof());
    check_loaded(restored);
    CHECK(restored.verify().ok);
  }
  SECTION("load_roots") {
    PieceBuf pipe(bytes, piece);
    std::istream in(&pipe);
    Heap restored;
    const LoadedRoots loaded = load_roots(restored, in);
    CHECK(loaded.roots.size() == 2);
    CHECK(loaded.root<SNode>("node")->next->value == 6);
    CHECK(restored.root_names().empty());
  }
}

TEST_CASE("a seekable stream is read from its position to its end", "[serialize][stream]") {
  Heap heap;
  build(heap);
  const std::string bytes = saved(heap);
  // istringstream here is a reader of a string it was given, not a growing stringstream.
  std::istringstream in("some header of the host's own" + bytes);
  in.seekg(29);
  Heap restored;
  CHECK(load(restored, in).bytes == bytes.size());
  check_loaded(restored);

  SECTION("a stream at its end gives no bytes: truncated, as from memory") {
    Heap other;
    const SnapshotError expected = error_from_memory("");
    CHECK_THROWS_MATCHES(load(other, in), SnapshotError, HasCode(expected.code(), expected.what()));
  }
}

TEST_CASE("a stream cut short is a SnapshotError at every cut, the same as from memory",
          "[serialize][stream][errors]") {
  Heap heap;
  build(heap, 20'000);
  const std::string bytes = saved(heap);
  const std::size_t n = bytes.size();
  for (const std::size_t cut : {std::size_t{0}, std::size_t{1}, std::size_t{8}, std::size_t{15}, std::size_t{16},
                                std::size_t{17}, std::size_t{100}, n / 2, n - 25, n - 24, n - 9, n - 8, n - 1}) {
    const std::string head = bytes.substr(0, cut);
    const SnapshotError expected = error_from_memory(head);
    INFO("cut at " << cut << " of " << n << " bytes: " << expected.what());
    for (const bool seekable : {false, true}) {
      INFO((seekable ? "seekable" : "not seekable"));
      PieceBuf buf(head, 4096, seekable ? std::optional<std::uint64_t>(head.size()) : std::nullopt);
      std::istream in(&buf);
      Heap target;
      target.set_root("kept", target.make<SNode>(1));
      try {
        load(target, in);
        FAIL_CHECK("the cut stream loaded");
      } catch (const SnapshotError& e) {
        CHECK(e.code() == expected.code());
        CHECK(std::string(e.what()) == expected.what());
        CHECK(e.offset() == expected.offset());
      }
      CHECK(target.root_names() == std::vector<std::string>{"kept"});
    }
  }
}

TEST_CASE("a stream that claims a huge size but is short is refused without a huge allocation",
          "[serialize][stream][errors]") {
  Heap heap;
  build(heap, 20'000);
  const std::string bytes = saved(heap);
  // What a seekable stream's claimed size may reserve before its bytes arrive (file_io.cpp).
  constexpr std::size_t kTrusted = (std::size_t{64} << 20) + 1;

  SECTION("the streambuf says it ends far past its bytes") {
    const std::uint64_t claimed = GENERATE(std::uint64_t{1} << 34, std::uint64_t{1} << 40, std::uint64_t{1} << 62);
    INFO("it claims " << claimed << " bytes");
    const std::string head = bytes.substr(0, bytes.size() / 2);
    PieceBuf buf(head, 1 << 16, claimed);
    std::istream in(&buf);
    Heap target;
    const SnapshotError expected = error_from_memory(head);
    CHECK_THROWS_MATCHES(load(target, in), SnapshotError, HasCode(expected.code(), expected.what()));
    // The buffer the load read into: its free space is what it asked the streambuf for.
    CHECK(buf.largest_read() <= kTrusted);
    CHECK(buf.largest_read() > 0);

    SECTION("and holds the whole snapshot: it loads, read in bounded pieces") {
      PieceBuf whole(bytes, 1 << 16, claimed);
      std::istream again(&whole);
      Heap restored;
      CHECK(load(restored, again).bytes == bytes.size());
      check_loaded(restored, 20'000);
      CHECK(whole.largest_read() <= kTrusted);
    }
  }
  SECTION("the snapshot's trailer says it is longer than the stream") {
    std::string lying = bytes;
    const std::uint64_t huge = std::uint64_t{1} << 60;
    for (int i = 0; i < 8; ++i)
      lying[lying.size() - 24 + static_cast<std::size_t>(i)] = static_cast<char>((huge >> (8 * i)) & 0xff);
    for (const bool seekable : {false, true}) {
      PieceBuf buf(lying, 4096, seekable ? std::optional<std::uint64_t>(lying.size()) : std::nullopt);
      std::istream in(&buf);
      Heap target;
      CHECK_THROWS_MATCHES(load(target, in), SnapshotError, HasCode(SnapshotErrc::truncated, "says it is"));
      CHECK(buf.largest_read() <= std::max(kTrusted, lying.size() + 1));
    }
  }
}

TEST_CASE("a failing input stream is a SnapshotError, and the heap is as it was", "[serialize][stream][errors]") {
  Heap heap;
  build(heap, 20'000);
  const std::string bytes = saved(heap);
  SECTION("a streambuf that throws") {
    for (const std::size_t good : {std::size_t{0}, std::size_t{100}, bytes.size() / 2}) {
      ThrowingInBuf buf(bytes, good);
      std::istream in(&buf);
      Heap target;
      target.set_root("kept", target.make<SNode>(1));
      CHECK_THROWS_MATCHES(load(target, in), SnapshotError,
                           HasCode(SnapshotErrc::io_error, "the input stream failed"));
      CHECK(in.bad());
      CHECK(target.root_names() == std::vector<std::string>{"kept"});
    }
  }
  SECTION("a stream that has already failed") {
    std::istringstream in(bytes);
    in.setstate(std::ios_base::badbit);
    Heap target;
    CHECK_THROWS_MATCHES(load(target, in), SnapshotError, HasCode(SnapshotErrc::io_error, "the input stream failed"));
    CHECK_THROWS_MATCHES(load_roots(target, in), SnapshotError,
                         HasCode(SnapshotErrc::io_error, "the input stream failed"));
  }
}

TEST_CASE("a failing output stream is a SnapshotError", "[serialize][stream][errors]") {
  Heap heap;
  build(heap);
  const std::string full = saved(heap);
  // Cuts in the staged beginning, in the payload (written straight from the object's memory),
  // and in the trailer.
  for (const std::size_t limit : {std::size_t{0}, std::size_t{10}, std::size_t{70'000}, full.size() / 2,
                                  full.size() - 8, full.size() - 1}) {
    for (const bool throws : {false, true}) {
      INFO("the stream takes " << limit << " of " << full.size() << " bytes, then " << (throws ? "throws" : "refuses"));
      SinkBuf sink(limit, throws);
      std::ostream out(&sink);
      CHECK_THROWS_MATCHES(save(heap, out), SnapshotError, HasCode(SnapshotErrc::io_error, "the output stream failed"));
      CHECK(sink.data() == full.substr(0, sink.data().size()));
    }
  }
  SinkBuf exact(full.size());
  std::ostream out(&exact);
  CHECK(save(heap, out).bytes == full.size());
  CHECK(exact.data() == full);
  CHECK(heap.verify().ok);
}
