// Snapshot files. Saving is atomic (invariant 6): the snapshot is written to an unnamed file
// (O_TMPFILE) in the target's directory, synced, linked under one fixed temporary name and
// renamed over the target, and the directory is synced. A crash before the rename leaves the old
// file untouched; the unnamed file vanishes with the process, and the fixed name is reused by the
// next save, so temporary files cannot pile up. Where O_TMPFILE is unsupported the fixed name is
// written directly.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <ios>
#include <istream>
#include <limits>
#include <new>
#include <span>
#include <streambuf>
#include <string>

#include "serialize/file_io.hpp"
#include "serialize/reader.hpp"
#include "serialize/writer.hpp"
#include "snapheap/snapshot.hpp"

namespace snapheap {

namespace detail {

namespace {

int sys_open(const char* path, int flags, unsigned mode) { return ::open(path, flags, mode); }
int sys_openat(int dirfd, const char* path, int flags, unsigned mode) { return ::openat(dirfd, path, flags, mode); }

const FileOps kSystemOps = {&sys_open, &sys_openat, &::write,    &::read, &::fsync,
                            &::linkat, &::renameat, &::unlinkat, &::close};
FileOps g_ops = kSystemOps;

[[noreturn]] void io_error(const std::string& what, const std::filesystem::path& path, int error,
                           std::uint64_t offset = SnapshotError::kNoOffset) {
  throw SnapshotError(SnapshotErrc::io_error, what + " " + path.string() + ": " + std::strerror(error), offset);
}

class FdSink final : public Sink {
 public:
  FdSink(int fd, const std::filesystem::path& path) : fd_(fd), path_(path) {}
  void write(const unsigned char* data, std::size_t size, std::uint64_t offset) override {
    while (size > 0) {
      const ssize_t n = file_ops().write(fd_, data, size);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) io_error("cannot write", path_, n < 0 ? errno : ENOSPC, offset);
      data += n;
      size -= static_cast<std::size_t>(n);
      offset += static_cast<std::uint64_t>(n);
    }
  }

 private:
  int fd_;
  const std::filesystem::path& path_;
};

class Fd {
 public:
  explicit Fd(int fd = -1) noexcept : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const noexcept { return fd_; }
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) file_ops().close(fd_);
    fd_ = fd;
  }
  int release() noexcept {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

/// The fixed temporary name in the target's directory: ".<name>.snapheap-tmp".
std::string temporary_name(const std::filesystem::path& path) {
  // Appended piece by piece: GCC 12 warns falsely (-Wrestrict) on "." + name + ... at -O3.
  std::string name = path.filename().string();
  std::string temp;
  temp.reserve(name.size() + 14);
  temp.append(".").append(name).append(".snapheap-tmp");
  return temp;
}

}  // namespace

FileOps& file_ops() noexcept { return g_ops; }
const FileOps& system_file_ops() noexcept { return kSystemOps; }

namespace {

SnapshotStats save_file(Heap& heap, const std::filesystem::path& path, const SaveOptions& options) {
  if (path.filename().empty()) io_error("cannot save to", path, EISDIR);
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  const std::string name = path.filename().string();
  const std::string temp = temporary_name(path);
  const FileOps& ops = file_ops();

  Fd dirfd(ops.open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0));
  if (dirfd.get() < 0) io_error("cannot open the directory of", path, errno);
  // Keep the permissions of the file being replaced; new files get 0644 less the umask.
  unsigned mode = 0644;
  struct stat old {};
  if (::fstatat(dirfd.get(), name.c_str(), &old, 0) == 0) mode = old.st_mode & 07777;

  bool named = false;  // the temporary has a name in the directory that must go on failure
  Fd fd(ops.openat(dirfd.get(), ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, mode));
  if (fd.get() < 0) {
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL && errno != ENOENT)
      io_error("cannot create a temporary file for", path, errno);
    ops.unlinkat(dirfd.get(), temp.c_str(), 0);
    fd.reset(ops.openat(dirfd.get(), temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
    if (fd.get() < 0) io_error("cannot create a temporary file for", path, errno);
    named = true;
    if (mode != 0644) ::fchmod(fd.get(), mode);
  }
  try {
    FdSink sink(fd.get(), path);
    SnapshotStats stats = write_snapshot(heap, sink, options);
    if (options.sync && ops.fsync(fd.get()) != 0) io_error("cannot sync", path, errno);
    if (!named) {
      // Link the finished unnamed file in under the temporary name (replacing one a crash may
      // have left between link and rename), then rename it over the target.
      ops.unlinkat(dirfd.get(), temp.c_str(), 0);
      const std::string self = "/proc/self/fd/" + std::to_string(fd.get());
      if (ops.linkat(AT_FDCWD, self.c_str(), dirfd.get(), temp.c_str(), AT_SYMLINK_FOLLOW) != 0)
        io_error("cannot link the new snapshot of", path, errno);
      named = true;
    }
    if (ops.renameat(dirfd.get(), temp.c_str(), dirfd.get(), name.c_str()) != 0)
      io_error("cannot rename the new snapshot over", path, errno);
    named = false;
    const int closed = ops.close(fd.release());
    if (closed != 0) io_error("cannot close", path, errno);
    if (options.sync && ops.fsync(dirfd.get()) != 0) io_error("cannot sync the directory of", path, errno);
    return stats;
  } catch (...) {
    fd.reset();
    if (named) ops.unlinkat(dirfd.get(), temp.c_str(), 0);
    throw;
  }
}

void read_all(int fd, const std::filesystem::path& path, ByteBuffer& out, std::size_t hint) {
  // Reads into the buffer, sized to the file's size at open; once it is full, probes with a
  // small read before growing, so that a file read to its end is held once, not in a buffer of
  // twice its size.
  out.reserve(hint);
  for (;;) {
    const std::size_t old = out.size();
    ssize_t n = 0;
    if (out.capacity() == old) {
      char probe[65536];
      n = file_ops().read(fd, probe, sizeof probe);
      if (n > 0) {
        out.reserve(old * 2 + sizeof probe);
        out.append(probe, static_cast<std::size_t>(n));
      }
    } else {
      out.resize(out.capacity());
      n = file_ops().read(fd, out.data() + old, out.size() - old);
      out.resize(old + static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) io_error("cannot read", path, errno);
    if (n == 0) return;
  }
}

}  // namespace

}  // namespace detail

SnapshotStats save(Heap& heap, const std::filesystem::path& path, const SaveOptions& options) {
  return detail::save_file(heap, path, options);
}

SnapshotStats load(Heap& heap, const std::filesystem::path& path, const LoadOptions& options) {
  ByteBuffer bytes;
  read_snapshot_file(path, bytes);
  return load(heap, bytes.view(), options);
}

void read_snapshot_file(const std::filesystem::path& path, ByteBuffer& out) {
  detail::Fd fd(detail::file_ops().open(path.c_str(), O_RDONLY | O_CLOEXEC, 0));
  if (fd.get() < 0) detail::io_error("cannot open", path, errno);
  struct stat info {};
  const std::size_t hint = ::fstat(fd.get(), &info) == 0 && S_ISREG(info.st_mode)
                               ? static_cast<std::size_t>(info.st_size)
                               : 0;
  out.clear();
  detail::read_all(fd.get(), path, out, hint);
}

namespace {

/// A first read from a stream that cannot say its size.
constexpr std::size_t kFirstRead = std::size_t{1} << 20;
/// What a seekable stream's claimed size may reserve before its bytes arrive: a stream that
/// claims more than it holds (a hostile or broken streambuf) costs at most this, and the buffer
/// grows past it only as bytes are read (doubling, so at most twice what was read).
constexpr std::size_t kMaxTrustedSize = std::size_t{64} << 20;

[[noreturn]] void stream_failed(std::uint64_t offset) {
  throw SnapshotError(SnapshotErrc::io_error, "the input stream failed", offset);
}

/// Records a state on the stream unless its exception mask would make that throw
/// std::ios_base::failure in place of the load's own outcome.
void note_state(std::istream& in, std::ios_base::iostate state) noexcept {
  if ((in.exceptions() & state) == 0) in.setstate(state);
}

/// The streambuf's own call `f()`; a streambuf that throws has failed (std::istream::read would
/// record badbit), which the load reports as a SnapshotError.
template <class F>
auto guarded(std::istream& in, std::uint64_t offset, F&& f) {
  try {
    return f();
  } catch (...) {
    note_state(in, std::ios_base::badbit);
    stream_failed(offset);
  }
}

/// The bytes from the stream's position to its end, if it can seek (0 if it cannot say). The
/// position is put back; a stream that seeks to its end but not back has failed.
std::size_t remaining_size(std::istream& in, std::streambuf& buf) {
  using pos = std::streambuf::pos_type;
  const pos failed = pos(std::streambuf::off_type(-1));
  const pos here = guarded(in, 0, [&] { return buf.pubseekoff(0, std::ios_base::cur, std::ios_base::in); });
  if (here == failed) return 0;
  const pos end = guarded(in, 0, [&] { return buf.pubseekoff(0, std::ios_base::end, std::ios_base::in); });
  if (end == failed) return 0;
  if (guarded(in, 0, [&] { return buf.pubseekpos(here, std::ios_base::in); }) != here) {
    note_state(in, std::ios_base::badbit);
    stream_failed(0);
  }
  const std::streamoff left = std::streamoff(end) - std::streamoff(here);
  return left > 0 ? static_cast<std::size_t>(left) : 0;
}

/// The bytes of a stream being read: malloc'ed and grown by realloc, which extends a block in
/// place where it can (or, for a block malloc mapped, moves its pages with mremap), so a stream
/// that cannot say its size is mostly not copied as its buffer doubles. No zero-filling.
class StreamBytes {
 public:
  StreamBytes() = default;
  StreamBytes(const StreamBytes&) = delete;
  StreamBytes& operator=(const StreamBytes&) = delete;
  ~StreamBytes() { std::free(data_); }

  unsigned char* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return capacity_; }
  void set_size(std::size_t n) noexcept { size_ = n; }
  void reserve(std::size_t n) {
    if (n <= capacity_) return;
    void* grown = std::realloc(data_, n);
    if (grown == nullptr) throw std::bad_alloc();
    data_ = static_cast<unsigned char*>(grown);
    capacity_ = n;
  }
  std::span<const std::byte> view() const noexcept { return {reinterpret_cast<const std::byte*>(data_), size_}; }

 private:
  unsigned char* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

/// Reads the stream to its end into `bytes`, straight from its streambuf in large reads (no
/// staging copy, no zero-filling). A seekable stream is read in one piece into a buffer of its
/// size; one that cannot seek into a buffer that doubles as it fills.
void read_stream(std::istream& in, StreamBytes& bytes) {
  std::streambuf* buf = in.rdbuf();
  if (in.bad() || buf == nullptr) stream_failed(0);
  if (!in.good()) {  // at its end already, or failed before: nothing to read (as std::istream::read)
    note_state(in, std::ios_base::failbit);
    return;
  }
  const std::size_t claimed = remaining_size(in, *buf);
  // One byte past the claimed size, so that the read that finds the end needs no growth.
  bytes.reserve(claimed ? std::min(claimed, kMaxTrustedSize) + 1 : kFirstRead);
  constexpr auto kMaxRead = static_cast<std::size_t>(std::numeric_limits<std::streamsize>::max());
  for (;;) {
    if (bytes.size() == bytes.capacity()) {
      std::size_t next = bytes.capacity() * 2;
      if (claimed > bytes.size() && claimed < next) next = claimed + 1;
      bytes.reserve(next);
    }
    const std::size_t old = bytes.size();
    const std::size_t want = std::min(bytes.capacity() - old, kMaxRead);
    char* into = reinterpret_cast<char*>(bytes.data() + old);
    const std::streamsize got =
        guarded(in, old, [&] { return buf->sgetn(into, static_cast<std::streamsize>(want)); });
    if (got < 0 || static_cast<std::size_t>(got) > want) {
      note_state(in, std::ios_base::badbit);
      stream_failed(old);
    }
    bytes.set_size(old + static_cast<std::size_t>(got));
    if (static_cast<std::size_t>(got) < want) break;  // the end: sgetn reads all it can
  }
  note_state(in, std::ios_base::eofbit | std::ios_base::failbit);  // as a read past the end leaves it
}

}  // namespace

SnapshotStats load(Heap& heap, std::istream& in, const LoadOptions& options) {
  StreamBytes bytes;
  read_stream(in, bytes);
  return load(heap, bytes.view(), options);
}

LoadedRoots load_roots(Heap& heap, const std::filesystem::path& path, const LoadOptions& options) {
  ByteBuffer bytes;
  read_snapshot_file(path, bytes);
  return load_roots(heap, bytes.view(), options);
}

LoadedRoots load_roots(Heap& heap, std::istream& in, const LoadOptions& options) {
  StreamBytes bytes;
  read_stream(in, bytes);
  return load_roots(heap, bytes.view(), options);
}

}  // namespace snapheap
