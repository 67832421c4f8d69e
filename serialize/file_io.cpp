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
#include <cstring>
#include <filesystem>
#include <istream>
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
void read_stream(std::istream& in, ByteBuffer& bytes) {
  char chunk[65536];
  while (in) {
    in.read(chunk, sizeof chunk);
    bytes.append(chunk, static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) throw SnapshotError(SnapshotErrc::io_error, "the input stream failed", bytes.size());
}
}  // namespace

SnapshotStats load(Heap& heap, std::istream& in, const LoadOptions& options) {
  ByteBuffer bytes;
  read_stream(in, bytes);
  return load(heap, bytes.view(), options);
}

LoadedRoots load_roots(Heap& heap, const std::filesystem::path& path, const LoadOptions& options) {
  ByteBuffer bytes;
  read_snapshot_file(path, bytes);
  return load_roots(heap, bytes.view(), options);
}

LoadedRoots load_roots(Heap& heap, std::istream& in, const LoadOptions& options) {
  ByteBuffer bytes;
  read_stream(in, bytes);
  return load_roots(heap, bytes.view(), options);
}

}  // namespace snapheap
