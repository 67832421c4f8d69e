// Fatal errors, the debug checks the inline handle code calls, and small process-wide helpers.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "core/thread_stats.hpp"
#include "snapheap/detail/object_table.hpp"
#include "snapheap/handles.hpp"
#include "snapheap/heap.hpp"
#include "snapheap/object.hpp"

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

ThreadStats& thread_stats() noexcept {
  thread_local ThreadStats stats;
  return stats;
}

bool env_flag(const char* name) noexcept {
  const char* value = std::getenv(name);
  return value && *value && std::strcmp(value, "0") != 0;
}

#if SNAPHEAP_DCHECK_IS_ON
void check_member_deref(const Object* o) noexcept {
  const ObjectTable& table = ObjectTable::of(o);
  const TableState state = table.state();
  if (state == TableState::kIdle || state == TableState::kMarking) return;
  const std::uint32_t slot = ObjectAccess::slot(o);
  if (state == TableState::kSweeping && slot != kNoSlot && table.is_marked(slot)) return;
  fatal(__FILE__, __LINE__,
        "a destructor dereferenced a Member whose target is dead too (it may already be "
        "destroyed); destructors may only use their own plain fields and Weak::lock()");
}

void check_owner_thread(const ObjectTable& table) noexcept {
  if (table.owner() != std::this_thread::get_id())
    fatal(__FILE__, __LINE__,
          "a heap was used from a thread other than its own; call "
          "Heap::attach_to_current_thread() to hand it over");
}
#endif

}  // namespace detail
}  // namespace snapheap
