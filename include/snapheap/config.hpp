// snapheap: build configuration and the check macros every other header uses.
#pragma once

#define SNAPHEAP_VERSION_MAJOR 0
#define SNAPHEAP_VERSION_MINOR 1
#define SNAPHEAP_VERSION_PATCH 0

// Debug checks (thread ownership, dereferencing a Member from a destructor, handles to objects
// under construction, ...) are on in builds without NDEBUG. A build can force them either way
// with -DSNAPHEAP_DCHECK_IS_ON=0/1; the CMake option SNAPHEAP_DCHECKS does that.
#if !defined(SNAPHEAP_DCHECK_IS_ON)
#if defined(NDEBUG)
#define SNAPHEAP_DCHECK_IS_ON 0
#else
#define SNAPHEAP_DCHECK_IS_ON 1
#endif
#endif

namespace snapheap::detail {

/// Prints "snapheap: fatal: <message> (<file>:<line>)" to stderr and aborts. Used for misuse that
/// would otherwise corrupt memory; never for bad input, which always gets an exception.
[[noreturn]] void fatal(const char* file, int line, const char* message) noexcept;

}  // namespace snapheap::detail

/// An always-on check: a mistake here would corrupt memory, so it is caught in every build.
#define SNAPHEAP_CHECK(condition, message)                          \
  do {                                                              \
    if (!(condition)) [[unlikely]]                                  \
      ::snapheap::detail::fatal(__FILE__, __LINE__, (message));     \
  } while (false)

/// A debug-build check: misuse that is cheap to make and costly to test for on a hot path.
#if SNAPHEAP_DCHECK_IS_ON
#define SNAPHEAP_DCHECK(condition, message) SNAPHEAP_CHECK(condition, message)
#else
#define SNAPHEAP_DCHECK(condition, message) \
  do {                                      \
  } while (false)
#endif
