// Fatal errors, the debug checks the inline handle code calls, and small process-wide helpers.
// The checks are defined in every build: whether inline code calls the debug ones is the
// library's configured check mode (snapheap/build_config.hpp).
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "snapheap/detail/heap_core.hpp"
#include "snapheap/detail/type_info.hpp"
#include "snapheap/object.hpp"
#include "snapheap/tracer.hpp"
#include "core/messages.hpp"
#include "core/object_table.hpp"
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

namespace {

/// Finds the first live object with a Member to `target`, for the message.
class HolderSearch final : public EdgeVisitor {
 public:
  explicit HolderSearch(const Object* target) noexcept : target_(target) {}
  void visit_strong(const Object* target, const void*) override { found_ = found_ || target == target_; }
  void visit_weak(HeapTag, std::uint32_t, std::uint32_t, const void*) override {}
  bool found() const noexcept { return found_; }

 private:
  const Object* target_;
  bool found_ = false;
};

std::string holder_of(const ObjectTable& table, const Object* target) {
  HolderSearch search(target);
  Tracer tracer = TracerAccess::visiting(search);
  for (std::uint32_t s = 1; s < table.slot_limit(); ++s) {
    const Object* o = table.object_at(s);
    if (!o) continue;
    o->trace(tracer);
    if (search.found()) {
      const TypeInfo* type = type_at(ObjectAccess::type_at(o));
      return format_message("held by the object in slot %u, a %s", s,
                            type ? type->display_name().c_str() : "type not registered");
    }
  }
  return "no live object holds it: the Member is in host code";
}

}  // namespace

// Reads nothing through `target` before is_live_object() has found it in the heap's own pages,
// unpoisoned: a freed cell, a page given back, or a stale address stop here with the message.
void check_edge_target(const HeapCore* heap, const Object* target, EdgeCheck where) noexcept {
  const auto* table = static_cast<const ObjectTable*>(heap);
  const auto address = reinterpret_cast<std::uintptr_t>(target);
  if (table && (table->is_live_object(address) || table->is_unpublished_object(address))) return;
  static constexpr const char* kWhere[] = {"the collector reached it", "a Member was given it",
                                           "a Member to it was dereferenced"};
  const std::string holder = table ? holder_of(*table, target) : std::string("its page was given back");
  const std::string message = format_message(
      "a Member points at %p, which is not a live object of this heap (%s; %s): its target was "
      "freed while no traced edge held it. A Member kept in host code (a std::vector<Member> "
      "moved out of an object into a local, say) is no root: leave edges in their object, or "
      "hold Strong handles in host code",
      static_cast<const void*>(target), kWhere[static_cast<unsigned>(where)], holder.c_str());
  fatal(__FILE__, __LINE__, message.c_str());
}

void check_member_deref(const Object* o) noexcept {
  // A freed object's page may have been emptied and given back (its header reads zero).
  const HeapCore* owner = page_of(o)->heap;
  if (!owner) check_edge_target(nullptr, o, EdgeCheck::deref);
  const HeapCore& heap = *owner;
  const Phase phase = heap.phase();
  if (phase == Phase::kIdle || phase == Phase::kMarking) {
    check_edge_target(&heap, o, EdgeCheck::deref);
    return;
  }
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
