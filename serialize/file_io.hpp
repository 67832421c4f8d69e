// Invariant (numbered as in the README; tests/serialize/fault_test.cpp):
//  I6. A snapshot file on disk is either the old one or the complete new one, never a torn mix:
//      serialize/file_io.cpp writes a temporary file in the same directory, syncs it and renames
//      it over the target.
//
// File system calls behind snapshot files, behind a table of function pointers so that tests
// can inject faults (a write that fails after N bytes, a failing fsync or rename, a full disk).
#pragma once

#include <sys/types.h>

#include <cstddef>

namespace snapheap::detail {

struct FileOps {
  int (*open)(const char* path, int flags, unsigned mode);
  int (*openat)(int dirfd, const char* path, int flags, unsigned mode);
  ssize_t (*write)(int fd, const void* data, std::size_t size);
  ssize_t (*read)(int fd, void* data, std::size_t size);
  int (*fsync)(int fd);
  int (*linkat)(int olddirfd, const char* oldpath, int newdirfd, const char* newpath, int flags);
  int (*renameat)(int olddirfd, const char* oldpath, int newdirfd, const char* newpath);
  int (*unlinkat)(int dirfd, const char* path, int flags);
  int (*close)(int fd);
};

/// The operations in use (the system's by default).
FileOps& file_ops() noexcept;
/// The system's operations, for a test to wrap and restore.
const FileOps& system_file_ops() noexcept;

}  // namespace snapheap::detail
