// Death tests: run a piece of misuse in a forked child and report how the child ended and what
// it wrote to stderr. Works under AddressSanitizer (the child inherits the instrumented process).
#pragma once

#include <functional>
#include <string>

namespace snapheap_test {

struct ChildResult {
  bool exited = false;    ///< the child returned from the function (or called exit)
  int exit_code = 0;      ///< its exit status when `exited`
  bool signaled = false;  ///< the child was killed by a signal
  int signal = 0;         ///< the signal when `signaled`
  std::string stderr_text;

  /// "exited with status 0" / "killed by signal 6 (Aborted)", then the child's stderr.
  std::string describe() const;
  bool aborted() const;  ///< killed by SIGABRT
};

/// Forks; the child restores default signal handling (Catch2 installs its own), sends stdout to
/// /dev/null and stderr into a pipe, runs `fn` and calls _exit(0) if it returns (_exit(3) if it
/// throws). The parent collects stderr and the child's status. A child that runs longer than
/// `timeout_seconds` is killed by SIGALRM.
ChildResult run_in_child(const std::function<void()>& fn, unsigned timeout_seconds = 60);

}  // namespace snapheap_test

/// Runs `statement` in a child process and requires that it stops with SIGABRT and that its stderr
/// contains `message`.
#define SNAPHEAP_REQUIRE_ABORTS_WITH(statement, message)                              \
  do {                                                                              \
    const ::snapheap_test::ChildResult snapheap_child_ =                            \
        ::snapheap_test::run_in_child([&] { statement; });                          \
    INFO("child " << snapheap_child_.describe());                                   \
    REQUIRE(snapheap_child_.aborted());                                             \
    REQUIRE_THAT(snapheap_child_.stderr_text, Catch::Matchers::Contains(message));  \
  } while (false)
