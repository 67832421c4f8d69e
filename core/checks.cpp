// Fatal errors, the debug checks the inline handle code calls, and small process-wide helpers.
// The checks are defined in every build: whether inline code calls the debug ones is the
// library's configured check mode (snapheap/build_config.hpp).
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "snapheap/detail/heap_core.hpp"
#include "snapheap/object.hpp"
#include "core/messages.hpp"
#include "core/thread_stats.hpp"

namespace snapheap {

void Object::operator delete(void*) noexcept {
  detail::fatal(__FILE__, __LINE__, "delete on a managed object: the collector frees it");
}
void Object::operator delete[](void*) noexcept {
  detail::fatal(__FILE__, __LINE__, "delete[] on managed objects: the collector frees them");
}

namespace detail {

void fatal(const char* file, int line, const char* message) noexcept {
  std::fprintf(stderr, "snapheap: fatal: %s (%s:%d)\n", message, file, line);
  std::fflush(stderr);
  std::abort();
}

std::string format_message(const char* format, ...) {
  char buffer[512];
  va_list args;
  va_start(args, format);
  const int n = std::vsnprintf(buffer, sizeof buffer, format, args);
  va_end(args);
  return std::string(buffer, n < 0 ? 0 : static_cast<std::size_t>(n) < sizeof buffer ? static_cast<std::size_t>(n) : sizeof buffer - 1);
}

ThreadStats& thread_stats() noexcept {
  thread_local ThreadStats stats;
  return stats;
}

bool env_flag(const char* name) noexcept {
  const char* value = std::getenv(name);
  return value && *value && std::strcmp(value, "0") != 0;
}

void check_member_deref(const Object* o) noexcept {
  const HeapCore& heap = HeapCore::of(o);
  const Phase phase = heap.phase();
  if (phase == Phase::kIdle || phase == Phase::kMarking) return;
  const std::uint32_t slot = ObjectAccess::slot(o);
  if (phase == Phase::kSweeping && slot != kNoSlot && heap.is_marked(slot)) return;
  fatal(__FILE__, __LINE__,
        "a destructor dereferenced a Member whose target is dead too (it may already be "
        "destroyed); destructors may only use their own plain fields and Weak::lock()");
}

void wrong_thread() noexcept {
  fatal(__FILE__, __LINE__,
        "a heap was used from a thread other than its own; call "
        "Heap::attach_to_current_thread() to hand it over");
}

}  // namespace detail
}  // namespace snapheap
