// snapheap::Object: the base of every managed class.
#pragma once

#include <cstddef>
#include <cstdint>

#include "snapheap/config.hpp"
#include "snapheap/detail/thread_state.hpp"

namespace snapheap {

class Tracer;

namespace detail {
class ObjectAccess;
inline constexpr std::uint32_t kNoSlot = 0xFFFFFFFFu;
template <class>
inline constexpr bool kAlwaysFalse = false;
}  // namespace detail

/// The base class of every managed object.
///
/// A managed class derives from Object, lists its strong and weak edges in trace(), and is
/// allocated only by Heap::make, which returns a rooted Strong handle:
///
///     struct Node final : snapheap::Object {
///       std::int64_t value = 0;
///       snapheap::Member<Node> next;        // strong edge
///       snapheap::Weak<Node> peer;          // weak edge
///       void trace(snapheap::Tracer& t) const override { t.trace(next); t.trace(peer); }
///     };
///     auto node = heap.make<Node>();
///
/// `new Node` does not compile and `delete` on a managed object is an access error: the collector
/// owns the memory. The header is 16 bytes (vtable pointer, slot, type) and is not copied when a
/// managed object is copy-constructed.
///
/// What a destructor may do: it runs during sweep, after every weak handle to the dying object
/// has expired. It may read its own plain fields and free resources it owns. It may not
/// dereference a Member (the target may already be destroyed: caught in debug builds), allocate
/// (always caught), or create a Strong to a dying object (always caught). Weak::lock() is safe and
/// returns an empty handle for every object that dies in the same collection.
class Object {
 public:
  /// Visits every Member and Weak this object holds: `tracer.trace(field)` for each.
  virtual void trace(Tracer& tracer) const = 0;

  // The header is the object's identity in its heap (slot, type): a copy gets its own from
  // make(), and assignment copies the fields of the derived class, never the header.
  Object(const Object&) noexcept : Object() {}
  // cppcheck-suppress operatorEqVarError
  Object& operator=(const Object&) noexcept { return *this; }

  static void* operator new(std::size_t) = delete;
  static void* operator new[](std::size_t) = delete;

 protected:
  Object() noexcept {
    SNAPHEAP_DCHECK(detail::g_thread.constructing != 0,
                    "a managed object (derived from snapheap::Object) was constructed outside "
                    "Heap::make; allocate it with heap.make<T>(...)");
  }
  ~Object() = default;

  // Protected so that `delete p` on a managed object does not compile outside the class, while a
  // user-declared virtual destructor (which needs an accessible operator delete) still does.
  static void operator delete(void*) noexcept;
  static void operator delete[](void*) noexcept;

 private:
  friend class detail::ObjectAccess;
  std::uint32_t slot_ = detail::kNoSlot;  // index in the heap's object table
  std::uint32_t type_ = 0;                // index in the process-wide type registry
};

}  // namespace snapheap
