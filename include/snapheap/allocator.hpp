// Memory a managed object owns, counted by its heap: snapheap::Allocator<T> for standard
// containers, snapheap::Vector<T> for the common case, and Heap::adjust_external_memory for
// memory the host manages itself.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/serialization/serialization.hpp>

#include "snapheap/config.hpp"
#include "snapheap/detail/thread_state.hpp"
#include "snapheap/tracer.hpp"

namespace snapheap {

class Heap;

namespace detail {
/// Counts `bytes` more owned by objects of the heap `heap` names (nothing if the heap is gone or
/// `heap` is 0). Like an allocation, it may start a collection, and past HeapOptions::max_bytes
/// (after a collection) it throws HeapExhausted and counts nothing.
void charge_external(HeapTag heap, std::size_t bytes);
/// Counts `bytes` fewer (never below zero); never collects or throws.
void refund_external(HeapTag heap, std::size_t bytes) noexcept;
HeapTag tag_of(Heap& heap) noexcept;
}  // namespace detail

/// An allocator whose memory counts toward the heap of the managed object holding it: what
/// automatic collections are triggered by, what HeapOptions::max_bytes limits, and what
/// HeapStats::external_bytes reports.
///
///     struct Payload final : snapheap::Object {
///       snapheap::Vector<std::int64_t> values;   // 8 MB here count toward the heap
///       ...
///     };
///
/// A default-constructed Allocator binds to the heap that is constructing an object on this
/// thread (inside Heap::make or a snapshot load), so a field of a managed object binds to the
/// object's heap; anywhere else it binds to none and counts nothing, and `Allocator<T>(heap)`
/// binds one explicitly. A container keeps its allocator: copy-assigning or move-assigning into
/// a field keeps the field's heap (moving from a container of another heap, or of none, copies
/// the elements so that the count stays right; build into the field, or bind the source to the
/// same heap, to move without a copy), a copy of a field made outside the heap counts nothing,
/// and swap exchanges allocators with the buffers. Memory freed after its heap is gone is simply
/// freed. Snapshots treat snapheap::Vector<T> exactly like std::vector<T>.
template <class T>
class Allocator {
 public:
  using value_type = T;
  using propagate_on_container_copy_assignment = std::false_type;
  using propagate_on_container_move_assignment = std::false_type;
  using propagate_on_container_swap = std::true_type;
  using is_always_equal = std::false_type;

  Allocator() noexcept : heap_(stored(detail::g_thread.constructing)) {}
  explicit Allocator(Heap& heap) noexcept : heap_(stored(detail::tag_of(heap))) {}
  Allocator(const Allocator& other) noexcept : heap_(adopted(other.heap())) {}
  template <class U>
  Allocator(const Allocator<U>& other) noexcept : heap_(adopted(other.heap())) {}
  Allocator& operator=(const Allocator&) noexcept = default;

  /// A copy of a container belongs to the heap constructing now (or none), not to the original's.
  Allocator select_on_container_copy_construction() const noexcept { return Allocator(); }

  T* allocate(std::size_t n) {
    if (n > std::size_t(-1) / sizeof(T)) throw std::bad_array_new_length();
    const std::size_t bytes = n * sizeof(T);
    detail::charge_external(heap(), bytes);
    try {
      return static_cast<T*>(::operator new(bytes, std::align_val_t{alignof(T)}));
    } catch (...) {
      detail::refund_external(heap(), bytes);
      throw;
    }
  }
  void deallocate(T* p, std::size_t n) noexcept {
    detail::refund_external(heap(), n * sizeof(T));
    ::operator delete(p, std::align_val_t{alignof(T)});
  }

  /// The heap this allocator counts toward (0: none).
  detail::HeapTag heap() const noexcept { return heap_ & ~detail::HeapTag{1}; }

 private:
  // Stored with its low bit set (tags are 64-byte aligned): a word holding a heap's tag exactly
  // is a Weak to that heap as far as the forgotten-trace check is concerned, and this is none.
  static detail::HeapTag stored(detail::HeapTag tag) noexcept { return tag ? tag | 1 : 0; }
  // A container moved into an object while it is being constructed takes the source's
  // allocator: if that one counts toward no heap, the object's memory would go uncounted.
  static detail::HeapTag adopted(detail::HeapTag tag) noexcept {
    SNAPHEAP_DCHECK(tag != 0 || detail::g_thread.constructing == 0,
                    "a container made outside the heap was moved into a managed object being "
                    "constructed, so its memory is not counted: build it in place, copy it, or "
                    "make it with snapheap::Allocator<T>(heap)");
    return stored(tag);
  }
  detail::HeapTag heap_;
};

template <class T, class U>
bool operator==(const Allocator<T>& a, const Allocator<U>& b) noexcept {
  return a.heap() == b.heap();
}

/// A std::vector whose memory counts toward the heap of the object holding it (a
/// std::vector<T, Allocator<T>>, which it derives from and converts to), and which hands its
/// elements over safely while an incremental cycle marks: moving it (construction or
/// assignment) or swapping it runs the write barrier on the elements received, as storing each
/// would have (snapheap::write_barrier; a std::vector needs that call after such a handover).
/// While no heap marks incrementally that costs one load and a branch; for elements that hold no
/// handles, nothing.
template <class T>
class Vector : public std::vector<T, Allocator<T>> {
  using Base = std::vector<T, Allocator<T>>;

 public:
  using Base::Base;
  Vector() = default;
  Vector(const Vector&) = default;
  Vector(Vector&& other) noexcept : Vector(static_cast<Base&&>(other)) {}
  Vector(const Base& other) : Base(other) {}
  Vector(Base&& other) noexcept : Base(std::move(other)) { barrier(); }
  // The allocator-extended move (a Vector or its base; it hides the inherited one).
  Vector(Base&& other, const Allocator<T>& allocator) : Base(std::move(other), allocator) { barrier(); }
  Vector& operator=(const Vector&) = default;
  Vector& operator=(Vector&& other) noexcept(std::is_nothrow_move_assignable_v<Base>) {
    return *this = static_cast<Base&&>(other);
  }
  Vector& operator=(const Base& other) {
    Base::operator=(other);
    return *this;
  }
  Vector& operator=(Base&& other) noexcept(std::is_nothrow_move_assignable_v<Base>) {
    Base::operator=(std::move(other));
    barrier();
    return *this;
  }
  Vector& operator=(std::initializer_list<T> list) {
    Base::operator=(list);
    return *this;
  }

  void swap(Vector& other) noexcept {
    Base::swap(other);
    barrier();
    other.barrier();
  }
  friend void swap(Vector& a, Vector& b) noexcept { a.swap(b); }

 private:
  void barrier() const noexcept {
    if constexpr (detail::may_hold_handles_v<T>) write_barrier(static_cast<const Base&>(*this));
  }
};

}  // namespace snapheap

namespace boost::serialization {
/// Boost's own archives write a snapheap::Vector as the std::vector it derives from (the same
/// bytes; include <boost/serialization/vector.hpp>, as for any std::vector). Snapshots need no
/// such help: they treat it as a std::vector themselves.
template <class Archive, class T>
void serialize(Archive& ar, snapheap::Vector<T>& value, const unsigned int version) {
  serialize_adl(ar, static_cast<std::vector<T, snapheap::Allocator<T>>&>(value), version);
}
}  // namespace boost::serialization
