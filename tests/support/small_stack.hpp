// Runs a function on a thread with a small stack: the proof that something does not recurse in
// proportion to the data (invariant 3). A recursive marker or teardown of a million-long chain
// needs tens of MiB of stack; these threads get a few hundred KiB.
#pragma once

#include <cstddef>
#include <functional>

namespace snapheap_test {

/// 256 KiB: ample for the library's bounded call depth, and about two thousand frames short of
/// what walking a million-long chain recursively would need.
inline constexpr std::size_t kSmallStackBytes = std::size_t{256} * 1024;

/// Runs `fn` on a new pthread whose stack is `stack_bytes` (pthread_attr_setstacksize), waits for
/// it and rethrows on the calling thread whatever `fn` threw. Catch2 assertions are not
/// thread-safe: `fn` should record results for the caller to check.
void run_with_stack(std::size_t stack_bytes, const std::function<void()>& fn);

/// The stack size of the calling thread as the system reports it (pthread_getattr_np).
std::size_t current_thread_stack_bytes();

}  // namespace snapheap_test
