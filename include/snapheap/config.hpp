// snapheap: build configuration and the check macros every other header uses.
#pragma once

// The version and the check mode of the library build this header belongs to, written by CMake
// when snapheap was configured (cmake/build_config.hpp.in), so that every host program that
// includes these headers agrees with the compiled library whatever its own build type.
#include "snapheap/build_config.hpp"

// Debug checks (thread ownership, dereferencing a Member from a destructor, handles to objects
// under construction, ...) follow the library's configured mode: SNAPHEAP_DCHECKS=ON, OFF, or
// AUTO (on for a Debug build of the library), whatever the host's own build type or NDEBUG. Heap
// code instantiated in the host and code compiled into the library must agree on it (a loader in
// the library constructs host types), so a host cannot pick another: reconfigure the library.
#if defined(SNAPHEAP_DCHECK_IS_ON) && SNAPHEAP_DCHECK_IS_ON != SNAPHEAP_CONFIGURED_DCHECK_IS_ON
#error "SNAPHEAP_DCHECK_IS_ON differs from the mode this snapheap was configured with (SNAPHEAP_DCHECKS): build snapheap with the mode you want instead"
#endif
#if !defined(SNAPHEAP_DCHECK_IS_ON)
#define SNAPHEAP_DCHECK_IS_ON SNAPHEAP_CONFIGURED_DCHECK_IS_ON
#endif

namespace snapheap::detail {

/// Prints "snapheap: fatal: <message> (<file>:<line>)" to stderr and aborts. Used for misuse that
/// would otherwise corrupt memory; never for bad input, which always gets an exception.
[[noreturn]] void fatal(const char* file, int line, const char* message) noexcept;

/// True when the environment variable is set to something other than "" or "0".
bool env_flag(const char* name) noexcept;

}  // namespace snapheap::detail

/// Inlined at every call, whatever the compiler's size heuristics say: Heap::make's fast path
/// is a few dozen instructions, and as a call of its own (which GCC makes of it wherever a
/// function makes more than one type) it costs half as much again, in saved registers and a
/// Strong returned through memory.
#if defined(__GNUC__) || defined(__clang__)
#define SNAPHEAP_ALWAYS_INLINE [[gnu::always_inline]] inline
#else
#define SNAPHEAP_ALWAYS_INLINE inline
#endif

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
