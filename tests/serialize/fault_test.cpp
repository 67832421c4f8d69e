// Invariant 6 under faults: a save that fails part way (a stream or a file write that stops
// after N bytes, a full file system, a failing fsync, link or rename) throws SnapshotError naming
// the path and the system's error, leaves the previous snapshot at that path as it was, and
// leaves no temporary file behind. A save killed at a random point (SIGKILL) leaves the old or
// the complete new snapshot, and at most the one fixed temporary name. The file system calls are
// swapped through detail::FileOps (serialize/file_io.hpp) for the scope of a test.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <ostream>
#include <random>
#include <streambuf>
#include <string>
#include <thread>
#include <vector>

#include "fuzz/fuzz_types.hpp"
#include "seed/seed_model.hpp"
#include "serialize/file_io.hpp"
#include "serialize/snapshot_types.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

using namespace snapheap;
namespace fs = std::filesystem;

namespace fault_test {

// ---- fault injection -----------------------------------------------------------------------------

/// What the injected file operations do; reset by each FaultScope.
struct Faults {
  long long write_budget = -1;       // bytes the writes may still deliver; -1: no limit
  int write_errno = ENOSPC;          // the error of a write past the budget (0: the write returns 0)
  bool tmpfile_unsupported = false;  // openat(O_TMPFILE) fails with EOPNOTSUPP
  int fail_fsync_call = 0;           // the n-th fsync fails (1-based; 0: none)
  int fsync_calls = 0;
  int fsync_errno = EIO;
  int link_errno = 0;                // linkat fails with this error (0: it works)
  int rename_errno = 0;              // renameat fails with this error (0: it works)
  int temp_open_errno = 0;           // opening the fixed temporary name fails with this error
  int write_calls = 0;               // writes asked for
  const unsigned char* watch_begin = nullptr;  // writes from inside [watch_begin, watch_end)
  const unsigned char* watch_end = nullptr;    // are counted in watched_writes
  int watched_writes = 0;
  std::size_t read_chunk = 0;        // a read delivers at most this many bytes (0: no limit)
  int read_eintr_every = 0;          // every n-th read fails with EINTR first (0: never)
  long long read_budget = -1;        // bytes the reads may deliver before failing with EIO; -1: no limit
  std::string grow_path;             // the first read appends grow_bytes to this file (it grows after open)
  std::size_t grow_bytes = 0;
  int read_calls = 0;
};
Faults g_faults;

const detail::FileOps& sys() { return detail::system_file_ops(); }

ssize_t faulty_write(int fd, const void* data, std::size_t size) {
  ++g_faults.write_calls;
  const auto* p = static_cast<const unsigned char*>(data);
  if (g_faults.watch_begin && std::less_equal<>()(g_faults.watch_begin, p) && std::less<>()(p, g_faults.watch_end))
    ++g_faults.watched_writes;
  if (g_faults.write_budget >= 0) {
    if (g_faults.write_budget == 0) {
      if (g_faults.write_errno == 0) return 0;
      errno = g_faults.write_errno;
      return -1;
    }
    size = std::min<std::size_t>(size, static_cast<std::size_t>(g_faults.write_budget));
    const ssize_t n = sys().write(fd, data, size);
    if (n > 0) g_faults.write_budget -= n;
    return n;
  }
  return sys().write(fd, data, size);
}
ssize_t faulty_read(int fd, void* data, std::size_t size) {
  if (++g_faults.read_calls == 1 && !g_faults.grow_path.empty()) {
    std::ofstream more(g_faults.grow_path, std::ios::binary | std::ios::app);
    more << std::string(g_faults.grow_bytes, 'x');
  }
  if (g_faults.read_eintr_every > 0 && g_faults.read_calls % g_faults.read_eintr_every == 0) {
    errno = EINTR;
    return -1;
  }
  if (g_faults.read_chunk > 0) size = std::min(size, g_faults.read_chunk);
  if (g_faults.read_budget >= 0) {
    if (g_faults.read_budget == 0) {
      errno = EIO;
      return -1;
    }
    size = std::min<std::size_t>(size, static_cast<std::size_t>(g_faults.read_budget));
  }
  const ssize_t n = sys().read(fd, data, size);
  if (n > 0 && g_faults.read_budget > 0) g_faults.read_budget -= n;
  return n;
}
int faulty_openat(int dirfd, const char* path, int flags, unsigned mode) {
  if (g_faults.tmpfile_unsupported && (flags & O_TMPFILE) == O_TMPFILE) {
    errno = EOPNOTSUPP;
    return -1;
  }
  if (g_faults.temp_open_errno != 0 && (flags & O_CREAT)) {
    errno = g_faults.temp_open_errno;
    return -1;
  }
  return sys().openat(dirfd, path, flags, mode);
}
int faulty_fsync(int fd) {
  if (++g_faults.fsync_calls == g_faults.fail_fsync_call) {
    errno = g_faults.fsync_errno;
    return -1;
  }
  return sys().fsync(fd);
}
int faulty_linkat(int olddirfd, const char* oldpath, int newdirfd, const char* newpath, int flags) {
  if (g_faults.link_errno != 0) {
    errno = g_faults.link_errno;
    return -1;
  }
  return sys().linkat(olddirfd, oldpath, newdirfd, newpath, flags);
}
int faulty_renameat(int olddirfd, const char* oldpath, int newdirfd, const char* newpath) {
  if (g_faults.rename_errno != 0) {
    errno = g_faults.rename_errno;
    return -1;
  }
  return sys().renameat(olddirfd, oldpath, newdirfd, newpath);
}

/// Installs the faulty operations (which behave like the system's until told otherwise) for its
/// lifetime, and puts the previous ones back.
class FaultScope {
 public:
  FaultScope() : saved_(detail::file_ops()) {
    g_faults = Faults();
    detail::FileOps& ops = detail::file_ops();
    ops.write = &faulty_write;
    ops.read = &faulty_read;
    ops.openat = &faulty_openat;
    ops.fsync = &faulty_fsync;
    ops.linkat = &faulty_linkat;
    ops.renameat = &faulty_renameat;
  }
  ~FaultScope() {
    detail::file_ops() = saved_;
    g_faults = Faults();
  }
  FaultScope(const FaultScope&) = delete;
  FaultScope& operator=(const FaultScope&) = delete;

 private:
  detail::FileOps saved_;
};

// ---- snapshots and files -------------------------------------------------------------------------

using snapheap_test::TempDir;

std::vector<unsigned char> bytes_of(const ByteBuffer& buffer) {
  const auto* p = reinterpret_cast<const unsigned char*>(buffer.data());
  return {p, p + buffer.size()};
}

std::vector<unsigned char> read_file(const fs::path& path) {
  ByteBuffer buffer;
  read_snapshot_file(path, buffer);
  return bytes_of(buffer);
}

/// Whether the file at `path` holds exactly `expected`: plain POSIX reads into a reused buffer
/// (read_file's ByteBuffer is slow to size under ASan, and the every-N test calls this 130,000
/// times).
bool file_holds(const fs::path& path, const std::vector<unsigned char>& expected) {
  static std::vector<unsigned char> buffer;
  buffer.resize(expected.size() + 1);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  std::size_t got = 0;
  for (;;) {
    const ssize_t n = ::read(fd, buffer.data() + got, buffer.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
    if (got == buffer.size()) break;  // longer than expected
  }
  ::close(fd);
  return got == expected.size() && std::memcmp(buffer.data(), expected.data(), got) == 0;
}

/// A heap whose snapshot is recognisable by `mark`: a payload of `elements` values mark + i
/// (written as one block), under a Record with strings and a map.
void build(Heap& heap, std::int64_t elements, std::int64_t mark) {
  snapheap::Vector<std::int64_t> values(static_cast<std::size_t>(elements));
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = mark + static_cast<std::int64_t>(i);
  auto payload = heap.make<seed::Payload>(std::move(values));
  auto record = heap.make<snapheap_fuzz::Record>();
  record->name = "mark " + std::to_string(mark);
  record->table = {{"mark", mark}, {"elements", elements}};
  record->any = payload;
  record->data = payload;
  heap.set_root("record", record);
  heap.set_root("payload", payload);
}

/// The mark of the snapshot at `path` (loads it: throws if it does not load).
std::int64_t mark_of(const fs::path& path) {
  Heap heap;
  load(heap, path);
  auto payload = heap.root<seed::Payload>("payload");
  REQUIRE(payload);
  REQUIRE(!payload->values.empty());
  const std::int64_t mark = payload->values.front();
  bool consecutive = true;
  for (std::size_t i = 0; i < payload->values.size(); ++i)
    consecutive &= payload->values[i] == mark + static_cast<std::int64_t>(i);
  REQUIRE(consecutive);
  REQUIRE(heap.root<snapheap_fuzz::Record>("record")->table.at("mark") == mark);
  REQUIRE(heap.verify().ok);
  return mark;
}

SaveOptions synced(bool sync) {
  SaveOptions options;
  options.sync = sync;
  return options;
}

/// The fixed temporary name of a save to `name`.
std::string temp_name(const std::string& name) { return "." + name + ".snapheap-tmp"; }

/// Two heaps and an old snapshot of the first at dir/model.snap; saves of the second fail.
struct Setup {
  static constexpr std::int64_t kOldMark = 1000;
  static constexpr std::int64_t kNewMark = 5000000;
  TempDir dir;
  fs::path path = dir.path() / "model.snap";
  Heap old_heap;
  Heap new_heap;
  std::vector<unsigned char> old_bytes;
  std::vector<unsigned char> new_bytes;

  explicit Setup(std::int64_t elements) {
    build(old_heap, elements, kOldMark);
    build(new_heap, elements, kNewMark);
    ByteBuffer buffer;
    save(new_heap, buffer);
    new_bytes = bytes_of(buffer);
    save(old_heap, path);
    old_bytes = read_file(path);
  }

  /// After a failed save: the error names the path and the system's message, the old snapshot
  /// is intact, and nothing else is in the directory.
  void check_failed_save(const SnapshotError& e, int error) const {
    INFO(e.what());
    CHECK(e.code() == SnapshotErrc::io_error);
    CHECK_THAT(e.what(), Catch::Matchers::Contains(path.string()));
    CHECK_THAT(e.what(), Catch::Matchers::Contains(std::strerror(error)));
    check_old_intact();
  }
  void check_old_intact() const {
    CHECK(dir.names() == std::vector<std::string>{"model.snap"});
    CHECK(read_file(path) == old_bytes);
    CHECK(mark_of(path) == kOldMark);
  }
};

/// Runs save(new_heap, path) expecting it to fail with `error`, then checks Setup's guarantees.
void expect_failed_save(Setup& s, int error) {
  try {
    save(s.new_heap, s.path);
    FAIL_CHECK("the save did not fail");
  } catch (const SnapshotError& e) {
    s.check_failed_save(e, error);
  }
  CHECK(s.new_heap.verify().ok);
}

/// A stream buffer that takes `limit` bytes and refuses the rest.
class LimitedBuf final : public std::streambuf {
 public:
  explicit LimitedBuf(std::size_t limit) : limit_(limit) {}
  const std::string& data() const noexcept { return data_; }

 protected:
  int_type overflow(int_type ch) override {
    if (traits_type::eq_int_type(ch, traits_type::eof())) return traits_type::not_eof(ch);
    if (data_.size() >= limit_) return traits_type::eof();
    data_.push_back(traits_type::to_char_type(ch));
    return ch;
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    const auto k = std::min<std::size_t>(static_cast<std::size_t>(n), limit_ - data_.size());
    data_.append(s, k);
    return static_cast<std::streamsize>(k);
  }

 private:
  std::size_t limit_;
  std::string data_;
};

}  // namespace fault_test

using namespace fault_test;

TEST_CASE("a stream that fails after N bytes, for every N", "[serialize][hardening]") {
  Heap heap;
  build(heap, 600, 7);  // 4800 bytes of payload: the block goes from the object's memory
  ByteBuffer buffer;
  save(heap, buffer);
  const std::vector<unsigned char> full = bytes_of(buffer);
  REQUIRE(full.size() > 4800);
  std::size_t failures = 0;
  for (std::size_t limit = 0; limit <= full.size(); ++limit) {
    LimitedBuf sink(limit);
    std::ostream out(&sink);
    try {
      save(heap, out);
      if (limit < full.size()) FAIL_CHECK("a save into a stream that takes " << limit << " bytes succeeded");
    } catch (const SnapshotError& e) {
      ++failures;
      if (limit >= full.size() || e.code() != SnapshotErrc::io_error)
        FAIL_CHECK("limit " << limit << ": " << e.what());
    }
    // What the stream took is the snapshot's beginning, and does not load.
    const std::string& got = sink.data();
    if (got.size() > full.size() || std::memcmp(got.data(), full.data(), got.size()) != 0)
      FAIL_CHECK("limit " << limit << ": the stream got other bytes than the snapshot's beginning");
    if (limit < full.size()) {
      Heap target;
      try {
        load(target, std::span<const std::byte>(reinterpret_cast<const std::byte*>(got.data()), got.size()));
        FAIL_CHECK("limit " << limit << ": the partial snapshot loaded");
      } catch (const SnapshotError&) {
      }
    }
  }
  CHECK(failures == full.size());
  CHECK(heap.verify().ok);
  ByteBuffer again;
  save(heap, again);
  CHECK(bytes_of(again) == full);
}

TEST_CASE("a file write that fails after N bytes, for every N, leaves the old snapshot", "[serialize][hardening]") {
  // 8200 values: 65,600 bytes of payload, more than the 64 KiB staging block holds, so the writes
  // are the staged beginning, the payload straight from the object's memory (a 64 KiB block and
  // the rest), the staged end and the checksum: every N cuts one of them short (or fails the
  // next one outright).
  constexpr std::int64_t kElements = 8200;
  Setup s(kElements);
  REQUIRE(s.new_bytes.size() > kElements * 8);
  const bool fallback = GENERATE(false, true);
  INFO((fallback ? "the fixed temporary name (no O_TMPFILE)" : "an unnamed temporary file (O_TMPFILE)"));
  FaultScope faults;
  const std::vector<std::string> only_old{"model.snap"};
  std::size_t failed = 0;
  for (std::size_t n = 0; n < s.new_bytes.size(); ++n) {
    g_faults = Faults();
    g_faults.tmpfile_unsupported = fallback;
    g_faults.write_budget = static_cast<long long>(n);
    g_faults.write_errno = ENOSPC;
    // Checked without Catch's per-assertion cost, which would dominate 2 x 66,000 saves; the
    // old file is compared byte for byte (it was loaded and checked once, by Setup and below).
    try {
      save(s.new_heap, s.path);
      FAIL_CHECK("the writes fail after " << n << " bytes, and the save succeeded");
    } catch (const SnapshotError& e) {
      const std::string what = e.what();
      if (e.code() != SnapshotErrc::io_error || what.find(s.path.string()) == std::string::npos ||
          what.find(std::strerror(ENOSPC)) == std::string::npos)
        FAIL_CHECK("the writes fail after " << n << " bytes: " << what);
      else
        ++failed;
    }
    if (s.dir.names() != only_old) FAIL_CHECK("the writes fail after " << n << " bytes: the directory holds "
                                              << Catch::Detail::stringify(s.dir.names()));
    if (!file_holds(s.path, s.old_bytes)) FAIL_CHECK("the writes fail after " << n << " bytes: the old file changed");
  }
  CHECK(failed == s.new_bytes.size());
  s.check_old_intact();  // and it still loads as the old snapshot
  CHECK(s.new_heap.verify().ok);
  {
    INFO("a write that returns 0 is reported as a full disk");
    g_faults = Faults();
    g_faults.tmpfile_unsupported = fallback;
    g_faults.write_budget = 100;
    g_faults.write_errno = 0;
    expect_failed_save(s, ENOSPC);
  }
  {
    INFO("a write that fails with EIO");
    g_faults = Faults();
    g_faults.tmpfile_unsupported = fallback;
    g_faults.write_budget = static_cast<long long>(s.new_bytes.size() / 2);
    g_faults.write_errno = EIO;
    expect_failed_save(s, EIO);
  }
  // With room for exactly all of it, the same save replaces the old snapshot.
  g_faults = Faults();
  g_faults.tmpfile_unsupported = fallback;
  g_faults.write_budget = static_cast<long long>(s.new_bytes.size());
  const auto& values = s.new_heap.root<seed::Payload>("payload")->values;
  g_faults.watch_begin = reinterpret_cast<const unsigned char*>(values.data());
  g_faults.watch_end = g_faults.watch_begin + values.size() * sizeof values[0];
  save(s.new_heap, s.path);
  CHECK(g_faults.write_calls >= 5);
  CHECK(g_faults.watched_writes == 2);  // the payload's 64 KiB block and its rest, from its memory
  CHECK(s.dir.names() == only_old);
  CHECK(read_file(s.path) == s.new_bytes);
  CHECK(mark_of(s.path) == Setup::kNewMark);
}

TEST_CASE("a full file system (RLIMIT_FSIZE) leaves the old snapshot", "[serialize][hardening]") {
  Setup s(8000);
  const bool fallback = GENERATE(false, true);
  INFO((fallback ? "the fixed temporary name (no O_TMPFILE)" : "an unnamed temporary file (O_TMPFILE)"));
  const rlim_t limit = s.new_bytes.size() / 2;
  // In a child: the limit and the ignored SIGXFSZ must not reach the rest of the tests.
  const auto result = snapheap_test::run_in_child([&] {
    ::signal(SIGXFSZ, SIG_IGN);  // writes past the limit fail with EFBIG instead of killing
    const rlimit r{limit, limit};
    if (::setrlimit(RLIMIT_FSIZE, &r) != 0) {
      std::fprintf(stderr, "setrlimit: %s\n", std::strerror(errno));
      std::_Exit(10);
    }
    FaultScope faults;
    g_faults.tmpfile_unsupported = fallback;
    try {
      save(s.new_heap, s.path);
      std::fprintf(stderr, "the save succeeded past RLIMIT_FSIZE\n");
      std::_Exit(11);
    } catch (const SnapshotError& e) {
      std::fprintf(stderr, "%s\n", e.what());
      const std::string what = e.what();
      if (e.code() != SnapshotErrc::io_error || what.find(s.path.string()) == std::string::npos ||
          what.find(std::strerror(EFBIG)) == std::string::npos)
        std::_Exit(12);
    }
    std::_Exit(0);
  });
  INFO("child " << result.describe());
  CHECK(result.exited);
  CHECK(result.exit_code == 0);
  s.check_old_intact();
}

TEST_CASE("a failing fsync", "[serialize][hardening]") {
  Setup s(2000);
  const bool fallback = GENERATE(false, true);
  INFO((fallback ? "the fixed temporary name (no O_TMPFILE)" : "an unnamed temporary file (O_TMPFILE)"));
  FaultScope faults;
  g_faults.tmpfile_unsupported = fallback;
  SECTION("of the new file's data: the old snapshot stays") {
    g_faults.fail_fsync_call = 1;
    expect_failed_save(s, EIO);
    CHECK(g_faults.fsync_calls == 1);
  }
  SECTION("of the directory, after the rename: the new snapshot is complete, the error reported") {
    g_faults.fail_fsync_call = 2;
    try {
      save(s.new_heap, s.path);
      FAIL_CHECK("the save did not fail");
    } catch (const SnapshotError& e) {
      INFO(e.what());
      CHECK(e.code() == SnapshotErrc::io_error);
      CHECK_THAT(e.what(), Catch::Matchers::Contains("directory"));
      CHECK_THAT(e.what(), Catch::Matchers::Contains(s.path.string()));
      CHECK_THAT(e.what(), Catch::Matchers::Contains(std::strerror(EIO)));
    }
    CHECK(s.dir.names() == std::vector<std::string>{"model.snap"});
    CHECK(read_file(s.path) == s.new_bytes);
    CHECK(mark_of(s.path) == Setup::kNewMark);
  }
  SECTION("with sync off there is no fsync to fail") {
    g_faults.fail_fsync_call = 1;
    save(s.new_heap, s.path, synced(false));
    CHECK(g_faults.fsync_calls == 0);
    CHECK(read_file(s.path) == s.new_bytes);
  }
}

TEST_CASE("a failing rename or link leaves the old snapshot", "[serialize][hardening]") {
  Setup s(2000);
  FaultScope faults;
  SECTION("rename (EXDEV)") {
    g_faults.rename_errno = EXDEV;
    expect_failed_save(s, EXDEV);
  }
  SECTION("rename (EIO), with the fixed temporary name") {
    g_faults.tmpfile_unsupported = true;
    g_faults.rename_errno = EIO;
    expect_failed_save(s, EIO);
  }
  SECTION("linking the unnamed file in (EMLINK)") {
    g_faults.link_errno = EMLINK;
    expect_failed_save(s, EMLINK);
  }
  SECTION("linking the unnamed file in (ENOSPC)") {
    g_faults.link_errno = ENOSPC;
    expect_failed_save(s, ENOSPC);
  }
  SECTION("creating the fixed temporary name (EACCES)") {
    g_faults.tmpfile_unsupported = true;
    g_faults.temp_open_errno = EACCES;
    expect_failed_save(s, EACCES);
  }
}

TEST_CASE("reading a snapshot file: short reads, EINTR, a file that grows after opening, a failing read",
          "[serialize][hardening]") {
  TempDir dir;
  const fs::path path = dir.path() / "read.snap";
  {
    Heap heap;
    build(heap, 20000, 11);
    save(heap, path);
  }
  const std::vector<unsigned char> expected = read_file(path);
  REQUIRE(expected.size() > 160000);
  FaultScope faults;
  SECTION("short reads and interrupted ones deliver every byte") {
    g_faults.read_chunk = GENERATE(std::size_t{1000}, std::size_t{65536}, std::size_t{70001});
    g_faults.read_eintr_every = 3;
    CHECK(read_file(path) == expected);
    CHECK(mark_of(path) == 11);
    CHECK(g_faults.read_calls > 3);
  }
  SECTION("a file that grew after its size was taken is read to its end, and then fails to load") {
    g_faults.grow_path = path.string();
    g_faults.grow_bytes = GENERATE(std::size_t{1}, std::size_t{65536}, std::size_t{300000});
    std::vector<unsigned char> grown = expected;
    grown.insert(grown.end(), g_faults.grow_bytes, 'x');
    ByteBuffer buffer;
    read_snapshot_file(path, buffer);
    CHECK(bytes_of(buffer) == grown);
    Heap heap;
    CHECK_THROWS_AS(load(heap, path), SnapshotError);
    CHECK(heap.stats().live_objects == 0);
  }
  SECTION("a file read to its end is held in a buffer of its size, not of twice its size") {
    ByteBuffer buffer;
    read_snapshot_file(path, buffer);
    CHECK(buffer.size() == expected.size());
    CHECK(buffer.capacity() < expected.size() + 65536);
  }
  SECTION("a read that fails says what and where") {
    g_faults.read_budget = GENERATE(0LL, 1000LL, 100000LL);
    CHECK_THROWS_MATCHES(read_file(path), SnapshotError,
                         snapheap_stest::HasCode(SnapshotErrc::io_error, std::strerror(EIO)));
    g_faults.read_calls = 0;
    try {
      read_file(path);
      FAIL("the read did not fail");
    } catch (const SnapshotError& e) {
      CHECK_THAT(e.what(), Catch::Contains("cannot read") && Catch::Contains(path.filename().string()));
    }
  }
}

TEST_CASE("a failed first save leaves no file at all", "[serialize][hardening]") {
  TempDir dir;
  const fs::path path = dir.path() / "first.snap";
  Heap heap;
  build(heap, 1000, 3);
  FaultScope faults;
  g_faults.tmpfile_unsupported = GENERATE(false, true);
  g_faults.write_budget = 1000;
  CHECK_THROWS_MATCHES(save(heap, path), SnapshotError,
                       snapheap_stest::HasCode(SnapshotErrc::io_error, std::strerror(ENOSPC)));
  CHECK(dir.names().empty());
  g_faults.write_budget = -1;
  g_faults.rename_errno = EIO;
  CHECK_THROWS_MATCHES(save(heap, path), SnapshotError,
                       snapheap_stest::HasCode(SnapshotErrc::io_error, std::strerror(EIO)));
  CHECK(dir.names().empty());
}

TEST_CASE("the fixed temporary name: a save without O_TMPFILE replaces a stale one", "[serialize][hardening]") {
  Setup s(100);
  {
    std::ofstream stale(s.dir.path() / temp_name("model.snap"), std::ios::binary);
    stale << "left by a crash";
  }
  FaultScope faults;
  g_faults.tmpfile_unsupported = GENERATE(false, true);
  save(s.new_heap, s.path);
  CHECK(s.dir.names() == std::vector<std::string>{"model.snap"});
  CHECK(read_file(s.path) == s.new_bytes);
}

namespace fault_test {

/// Forks a child that saves `heap` over `path` (without O_TMPFILE if `fallback`) and kills it
/// with SIGKILL after `delay`, counted from just before the save starts. Returns whether the
/// child was killed (rather than finishing first).
bool kill_during_save(Heap& heap, const fs::path& path, bool sync, bool fallback, std::chrono::microseconds delay) {
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(ready[0]);
    if (fallback) detail::file_ops().openat = &faulty_openat;  // g_faults says: no O_TMPFILE
    const char go = 1;
    if (::write(ready[1], &go, 1) != 1) ::_exit(2);
    try {
      save(heap, path, synced(sync));
    } catch (...) {
      ::_exit(3);
    }
    ::_exit(0);
  }
  ::close(ready[1]);
  char go = 0;
  const ssize_t got = ::read(ready[0], &go, 1);
  ::close(ready[0]);
  std::this_thread::sleep_for(delay);
  ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  REQUIRE(got == 1);
  if (WIFEXITED(status)) REQUIRE(WEXITSTATUS(status) == 0);
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

/// Kills saves of a large heap over an old snapshot at points spread over the save; after each
/// kill the file is the old or the complete new snapshot, the directory holds nothing but it and
/// the fixed temporary name, and the next successful save leaves no temporary file. The rounds
/// must cover both outcomes: some kills land before the rename (the old file stays) and some
/// saves get past it (the new file is in place); without O_TMPFILE, some kills must also land
/// while the fixed temporary name exists, so that the clean-up after it is exercised.
///
/// `rounds` kills are spread evenly over [0, 2 x the time a save takes here]; if an outcome is
/// still missing after them (the child may run slower or faster than the timing save), up to
/// 3 x `rounds` more are aimed where it happens (early for the old file, late for the new one).
void kill_rounds(int rounds, bool fallback) {
  Setup s(1 << 20);  // 8 MiB of payload
  const std::string temp = temp_name("model.snap");
  const std::vector<std::string> only_target{"model.snap"};
  const std::vector<std::string> with_temp{temp, "model.snap"};
  g_faults = Faults();
  g_faults.tmpfile_unsupported = fallback;
  // How long a save takes, with and without sync, to spread the kills over it.
  auto timed_save = [&](bool sync) {
    const auto start = std::chrono::steady_clock::now();
    save(s.new_heap, s.dir.path() / "timing.snap", synced(sync));
    const auto took = std::chrono::steady_clock::now() - start;
    fs::remove(s.dir.path() / "timing.snap");
    return std::chrono::duration_cast<std::chrono::microseconds>(took).count() + 1;
  };
  const long long with_sync = timed_save(true), without_sync = timed_save(false);
  std::mt19937 rng(fallback ? 11u : 7u);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  int killed = 0, old_seen = 0, new_seen = 0, temp_seen = 0, killed_new = 0, round = 0;
  auto missing = [&] { return old_seen == 0 || new_seen == 0 || (fallback && temp_seen == 0); };
  for (; round < rounds || (missing() && round < 4 * rounds); ++round) {
    save(s.old_heap, s.path, synced(false));  // the old snapshot again: a successful save
    {
      INFO("round " << round << ": after the save that put the old snapshot back");
      REQUIRE(s.dir.names() == only_target);  // it removed any temporary the last kill left
      REQUIRE(file_holds(s.path, s.old_bytes));
    }
    const bool sync = round % 2 == 0;
    const long long took = sync ? with_sync : without_sync;
    double at;  // the kill's point, as a fraction of `took`
    if (round < rounds) at = 2.0 * (round + unit(rng)) / rounds;  // evenly spread
    else if (old_seen == 0) at = 0.5 * unit(rng);                 // early: before the rename
    else if (fallback && temp_seen == 0) at = 0.1 + 0.6 * unit(rng);  // while writing
    else at = 1.0 + 2.0 * unit(rng);                               // late: after the rename
    const std::chrono::microseconds delay(static_cast<long long>(at * static_cast<double>(took)));
    INFO("round " << round << ": killed " << delay.count() << " us into a save taking about " << took << " us"
                  << (sync ? " (synced)" : ""));
    const bool was_killed = kill_during_save(s.new_heap, s.path, sync, fallback, delay);
    killed += was_killed;
    const bool is_old = file_holds(s.path, s.old_bytes), is_new = file_holds(s.path, s.new_bytes);
    REQUIRE((is_old || is_new));
    old_seen += is_old;
    new_seen += is_new;
    killed_new += is_new && was_killed;
    if (is_old) CHECK(was_killed);  // a save that finished replaced the file
    CHECK(mark_of(s.path) == (is_old ? Setup::kOldMark : Setup::kNewMark));
    const std::vector<std::string> names = s.dir.names();
    INFO("directory: " << Catch::Detail::stringify(names));
    REQUIRE((names == only_target || names == with_temp));
    temp_seen += names == with_temp;
  }
  INFO("with O_TMPFILE " << (fallback ? "failing" : "working") << ": " << round << " rounds (" << rounds
                         << " spread evenly); " << killed << " saves killed; the old snapshot left " << old_seen
                         << " times, the new one " << new_seen << " (" << killed_new
                         << " of them by a killed save), the fixed temporary name " << temp_seen);
  CHECK(killed > 0);
  CHECK(old_seen > 0);  // some kills landed before the rename
  CHECK(new_seen > 0);  // and some saves got past it
  if (fallback) CHECK(temp_seen > 0);  // a kill during the write leaves the fixed name...
  // ...which with O_TMPFILE exists only between link and rename, a window few kills hit.
  else CHECK(temp_seen * 4 <= round);
  // A save that completes after the last kill removes any temporary it left.
  g_faults = Faults();
  save(s.new_heap, s.path);
  CHECK(s.dir.names() == only_target);
  CHECK(file_holds(s.path, s.new_bytes));
}

}  // namespace fault_test

TEST_CASE("a save killed at a random point leaves the old or the complete new snapshot", "[serialize][hardening]") {
  SECTION("with O_TMPFILE") { kill_rounds(20, false); }
  SECTION("with O_TMPFILE failing: the fixed temporary name") { kill_rounds(8, true); }
}
