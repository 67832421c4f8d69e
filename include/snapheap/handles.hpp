// Handles to managed objects: Strong (a root held by host code), Member (a strong edge inside a
// managed object) and Weak (a weak edge, inside objects or in host code).
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <type_traits>
#include <utility>

#include "snapheap/detail/heap_core.hpp"
#include "snapheap/object.hpp"

namespace snapheap {

template <class T>
class Strong;
template <class T>
class Member;
template <class T>
class Weak;
template <class K, class V>
class Ephemeron;
class Tracer;

namespace detail {
struct AdoptRoot {};
inline constexpr AdoptRoot adopt_root{};
class HandleAccess;

inline const Object* as_object(const Object* o) noexcept { return o; }

/// Roots `o` for a new Strong made from a pointer (not a copy): the object must be published.
inline void add_root_checked(const Object* o) noexcept {
  const std::uint32_t slot = ObjectAccess::slot(o);
  SNAPHEAP_CHECK(slot != kNoSlot,
                 "a Strong handle was made to an object that is still under construction or was "
                 "not allocated by Heap::make");
  HeapCore::of(o).add_root(slot);
}
inline void add_root(const Object* o) noexcept {
  HeapCore::of(o).add_root(ObjectAccess::slot(o));
}
inline void remove_root(const Object* o) noexcept {
  HeapCore::of(o).remove_root(ObjectAccess::slot(o));
}
void check_member_deref(const Object* o) noexcept;  // defined in every build (core/checks.cpp)

/// The object a weak handle's {tag, slot, generation} names, or null if it has died, the handle
/// is empty, or its heap is gone.
inline const Object* live_target(HeapTag tag, std::uint32_t slot, std::uint32_t generation) noexcept {
  if (tag == 0) return nullptr;
  // The anchor outlives the heap: a handle whose heap is gone reads empty, never freed memory.
  const HeapAnchor* anchor = anchor_of(tag);
  if (anchor->tag != tag) [[unlikely]]
    return nullptr;
  anchor->heap->dcheck_thread();
  if (anchor->generations[slot] != generation) return nullptr;
  // A finished marking left the target white but its word is not swept yet: it is dead.
  if (anchor->sweep_pending && !((anchor->mark_bits[slot >> 6] >> (slot & 63)) & 1u)) [[unlikely]]
    return nullptr;
  return anchor->objects[slot];
}

template <class From, class To>
concept HandleConvertible = std::is_convertible_v<From*, To*>;
}  // namespace detail

/// A root held by host code: the object stays alive while any Strong to it exists.
///
/// Copying increments the object's root count and destroying decrements it; moving costs a
/// pointer copy. A Strong is for host code only: inside a managed object use Member (a Strong
/// field would be a root that keeps its own cycle alive forever). Every Strong must be destroyed
/// before its Heap; a Heap destroyed while Strongs to it remain stops the program with a message.
///
///     snapheap::Strong<Payload> data = heap.make<Payload>();
///     snapheap::Strong<snapheap::Object> any = data;   // derived to base
template <class T>
class Strong {
 public:
  using element_type = T;

  constexpr Strong() noexcept = default;
  constexpr Strong(std::nullptr_t) noexcept {}
  /// Roots an object that Heap::make created and that is still alive.
  explicit Strong(T* object) noexcept : ptr_(object) {
    if (ptr_) detail::add_root_checked(ptr_);
  }
  Strong(detail::AdoptRoot, T* object) noexcept : ptr_(object) {}
  Strong(const Strong& other) noexcept : ptr_(other.ptr_) { add_root(); }
  Strong(Strong&& other) noexcept : ptr_(std::exchange(other.ptr_, nullptr)) {}
  template <class U>
    requires detail::HandleConvertible<U, T>
  Strong(const Strong<U>& other) noexcept : ptr_(other.get()) {
    add_root();
  }
  template <class U>
    requires detail::HandleConvertible<U, T>
  Strong(Strong<U>&& other) noexcept : ptr_(std::exchange(other.ptr_, nullptr)) {}
  template <class U>
    requires detail::HandleConvertible<U, T>
  Strong(const Member<U>& member) noexcept : ptr_(member.get()) {
    if (ptr_) detail::add_root_checked(ptr_);
  }
  ~Strong() { drop_root(); }

  Strong& operator=(const Strong& other) noexcept {
    Strong(other).swap(*this);
    return *this;
  }
  Strong& operator=(Strong&& other) noexcept {
    Strong(std::move(other)).swap(*this);
    return *this;
  }
  Strong& operator=(std::nullptr_t) noexcept {
    reset();
    return *this;
  }

  T* get() const noexcept { return ptr_; }
  T* operator->() const noexcept { return ptr_; }
  T& operator*() const noexcept { return *ptr_; }
  explicit operator bool() const noexcept { return ptr_ != nullptr; }

  void reset() noexcept {
    drop_root();
    ptr_ = nullptr;
  }
  void swap(Strong& other) noexcept { std::swap(ptr_, other.ptr_); }


 private:
  template <class>
  friend class Strong;  // a converting move takes over the other's root

  void add_root() const noexcept {
    if (ptr_) detail::add_root(ptr_);
  }
  void drop_root() const noexcept {
    if (ptr_) detail::remove_root(ptr_);
  }
  T* ptr_ = nullptr;
};

/// A strong edge stored inside a managed object: keeps its target alive while the holder is
/// reachable. It is a pointer (8 bytes); the holder's trace() must visit it, and a Member must
/// point into the same heap as the object holding it. Every value it takes passes the write
/// barrier (construction, copy, move, assignment, in containers too): while no heap of the
/// process marks incrementally or runs in generational mode, that is one load and a branch.
template <class T>
class Member {
 public:
  using element_type = T;

  constexpr Member() noexcept = default;
  constexpr Member(std::nullptr_t) noexcept {}
  Member(T* object) noexcept : ptr_(object) { detail::write_barrier(ptr_); }
  template <class U>
    requires detail::HandleConvertible<U, T>
  Member(const Strong<U>& strong) noexcept : ptr_(strong.get()) {
    detail::write_barrier(ptr_);
  }
  Member(const Member& other) noexcept : ptr_(other.ptr_) { detail::write_barrier(ptr_); }
  template <class U>
    requires detail::HandleConvertible<U, T>
  Member(const Member<U>& other) noexcept : ptr_(other.get()) {
    detail::write_barrier(ptr_);
  }
  Member& operator=(const Member& other) noexcept {
    ptr_ = other.ptr_;
    detail::write_barrier(ptr_);
    return *this;
  }
  ~Member() = default;

  T* get() const noexcept { return ptr_; }
  T* operator->() const noexcept {
    check();
    return ptr_;
  }
  T& operator*() const noexcept {
    check();
    return *ptr_;
  }
  explicit operator bool() const noexcept { return ptr_ != nullptr; }
  void reset() noexcept { ptr_ = nullptr; }

 private:
  void check() const noexcept {
#if SNAPHEAP_DCHECK_IS_ON
    if (ptr_) detail::check_member_deref(ptr_);
#endif
  }
  T* ptr_ = nullptr;
};

/// A weak handle: does not keep its target alive, and never dangles. It reads as expired from
/// the moment the collector finds its target dead, before the target's destructor runs.
///
/// It is {heap tag, slot, generation} (16 bytes, trivially copyable): expiry is one comparison of
/// generations, so no list of weak handles is kept. Usable inside managed objects (trace it) and
/// in host code. It may outlive its Heap: it then reads empty (expired), in every build.
///
///     snapheap::Weak<Payload> weak = data;
///     if (snapheap::Strong<Payload> p = weak.lock()) use(*p);
template <class T>
class Weak {
 public:
  using element_type = T;

  constexpr Weak() noexcept = default;
  constexpr Weak(std::nullptr_t) noexcept {}
  template <class U>
    requires detail::HandleConvertible<U, T>
  Weak(const Strong<U>& strong) noexcept {
    point_at(strong.get());
  }
  template <class U>
    requires detail::HandleConvertible<U, T>
  Weak(const Member<U>& member) noexcept {
    point_at(member.get());
  }
  template <class U>
    requires detail::HandleConvertible<U, T>
  Weak(const Weak<U>& other) noexcept
      : tag_(other.tag_), slot_(other.slot_), generation_(other.generation_) {}
  /// Points at an object that Heap::make created (nullptr makes an empty handle).
  explicit Weak(T* object) noexcept { point_at(object); }

  /// The target as a Strong, or an empty Strong if it has died (or the handle is empty).
  Strong<T> lock() const noexcept {
    if (const Object* o = live_target()) return Strong<T>(static_cast<T*>(const_cast<Object*>(o)));
    return Strong<T>();
  }
  /// True if the handle is empty or its target has died.
  bool expired() const noexcept { return live_target() == nullptr; }
  /// True if the handle never pointed anywhere (or was reset). A handle whose target died, or that
  /// was restored from a snapshot tombstone, is expired but not empty.
  bool empty() const noexcept { return tag_ == 0; }
  void reset() noexcept { *this = Weak(); }

  friend bool operator==(const Weak& a, const Weak& b) noexcept {
    return a.tag_ == b.tag_ && a.slot_ == b.slot_ && a.generation_ == b.generation_;
  }

 private:
  template <class>
  friend class Weak;
  friend class detail::HandleAccess;

  void point_at(const Object* o) noexcept {
    if (!o) return;
    const std::uint32_t slot = detail::ObjectAccess::slot(o);
    SNAPHEAP_CHECK(slot != detail::kNoSlot,
                   "a Weak handle was made to an object that is still under construction or was "
                   "not allocated by Heap::make");
    const detail::HeapCore* heap = &detail::HeapCore::of(o);
    tag_ = heap->tag();
    slot_ = slot;
    generation_ = heap->generation(slot);
    // Made by a destructor to an object that this sweep or teardown found dead: the slot has
    // already moved on to the generation its next object will have. Take the one the object
    // died with, so that the handle reads expired now and stays expired when the slot is reused.
    if (heap->phase() != detail::Phase::kIdle) [[unlikely]] {
      if (heap->phase() == detail::Phase::kTearingDown ||
          (heap->phase() == detail::Phase::kSweeping && !heap->is_marked(slot)))
        --generation_;
    }
  }
  const Object* live_target() const noexcept { return detail::live_target(tag_, slot_, generation_); }

  detail::HeapTag tag_ = 0;
  std::uint32_t slot_ = 0;
  std::uint32_t generation_ = 0;
};

/// A field of a managed object that holds a key weakly and a value strongly only while the key is
/// alive through other paths (an ephemeron: cppgc's EphemeronPair, a JavaScript WeakMap entry, a
/// Lua weak-keyed table's entry). A value that refers back to its own key does not keep the key
/// alive. Trace it like a handle (`tracer.trace(pair)`); marking reaches the fixpoint without
/// recursion. Snapshots save it only when its key is in the snapshot.
///
/// It is a Weak<K> and a Member<V> (24 bytes). After the collection that finds the key dead it
/// reads empty: key() and value() return empty handles, and the value is no longer held.
template <class K, class V>
class Ephemeron {
 public:
  constexpr Ephemeron() noexcept = default;
  Ephemeron(K* key, V* value) noexcept { set(key, value); }
  template <class A, class B>
    requires detail::HandleConvertible<A, K> && detail::HandleConvertible<B, V>
  Ephemeron(const Strong<A>& key, const Strong<B>& value) noexcept {
    set(key.get(), value.get());
  }

  /// Sets both parts (a null key makes the pair empty and holds no value).
  void set(K* key, V* value) noexcept {
    key_ = Weak<K>(key);
    value_ = key ? value : nullptr;
  }
  template <class A, class B>
    requires detail::HandleConvertible<A, K> && detail::HandleConvertible<B, V>
  void set(const Strong<A>& key, const Strong<B>& value) noexcept {
    set(key.get(), value.get());
  }
  void reset() noexcept {
    key_.reset();
    value_.reset();
  }
  /// The key, or empty if it has died (or was never set).
  Strong<K> key() const noexcept { return key_.lock(); }
  /// The value while the key lives, else empty.
  Strong<V> value() const noexcept {
    if (key_.expired() || !value_) return Strong<V>();
    return Strong<V>(value_.get());
  }
  /// True if the key has died or was never set.
  bool expired() const noexcept { return key_.expired(); }
  /// The key as a weak handle (what snapshots and comparisons use).
  const Weak<K>& weak_key() const noexcept { return key_; }

 private:
  friend class Tracer;
  friend class detail::HandleAccess;
  Weak<K> key_;
  Member<V> value_;  // may dangle once the key has died: read only after the key is checked
};

// ---- comparisons: by target identity, across related types and with nullptr --------------------

template <class T, class U>
bool operator==(const Strong<T>& a, const Strong<U>& b) noexcept {
  return a.get() == b.get();
}
template <class T, class U>
bool operator==(const Member<T>& a, const Member<U>& b) noexcept {
  return a.get() == b.get();
}
template <class T, class U>
bool operator==(const Strong<T>& a, const Member<U>& b) noexcept {
  return a.get() == b.get();
}
template <class T>
bool operator==(const Strong<T>& a, std::nullptr_t) noexcept {
  return a.get() == nullptr;
}
template <class T>
bool operator==(const Member<T>& a, std::nullptr_t) noexcept {
  return a.get() == nullptr;
}
template <class T, class U>
std::strong_ordering operator<=>(const Strong<T>& a, const Strong<U>& b) noexcept {
  return std::compare_three_way{}(static_cast<const void*>(a.get()),
                                  static_cast<const void*>(b.get()));
}
template <class T, class U>
std::strong_ordering operator<=>(const Member<T>& a, const Member<U>& b) noexcept {
  return std::compare_three_way{}(static_cast<const void*>(a.get()),
                                  static_cast<const void*>(b.get()));
}

// ---- casts ---------------------------------------------------------------------------------------

/// static_cast between Strong handles (the caller knows the dynamic type).
template <class To, class From>
Strong<To> static_handle_cast(const Strong<From>& from) noexcept {
  return from ? Strong<To>(static_cast<To*>(from.get())) : Strong<To>();
}
/// dynamic_cast between Strong handles: empty if the object is not a To.
template <class To, class From>
Strong<To> dynamic_handle_cast(const Strong<From>& from) noexcept {
  if (To* p = dynamic_cast<To*>(from.get())) return Strong<To>(p);
  return Strong<To>();
}

namespace detail {
/// What the tracer, the snapshot archives and the tests need to read and build weak handles.
class HandleAccess {
 public:
  template <class T>
  static Weak<T> make_weak(HeapTag heap, std::uint32_t slot, std::uint32_t gen) noexcept {
    Weak<T> w;
    w.tag_ = heap;
    w.slot_ = slot;
    w.generation_ = gen;
    return w;
  }
  template <class T>
  static HeapTag tag(const Weak<T>& w) noexcept {
    return w.tag_;
  }
  template <class T>
  static std::uint32_t slot(const Weak<T>& w) noexcept {
    return w.slot_;
  }
  template <class T>
  static std::uint32_t generation(const Weak<T>& w) noexcept {
    return w.generation_;
  }
  /// An ephemeron's parts, for the archives (the value may dangle if the key has died).
  template <class K, class V>
  static Weak<K>& key(Ephemeron<K, V>& e) noexcept {
    return e.key_;
  }
  template <class K, class V>
  static Member<V>& value(Ephemeron<K, V>& e) noexcept {
    return e.value_;
  }
  template <class K, class V>
  static const Weak<K>& key(const Ephemeron<K, V>& e) noexcept {
    return e.key_;
  }
  template <class K, class V>
  static const Member<V>& value(const Ephemeron<K, V>& e) noexcept {
    return e.value_;
  }
  /// A weak handle's identity: slot | generation << 32 (unique over the heap's life).
  template <class T>
  static std::uint64_t identity(const Weak<T>& w) noexcept {
    return std::uint64_t{w.slot_} | (std::uint64_t{w.generation_} << 32);
  }
};
}  // namespace detail

}  // namespace snapheap

template <class T>
struct std::hash<snapheap::Strong<T>> {
  std::size_t operator()(const snapheap::Strong<T>& s) const noexcept {
    return std::hash<const void*>{}(s.get());
  }
};
template <class T>
struct std::hash<snapheap::Member<T>> {
  std::size_t operator()(const snapheap::Member<T>& m) const noexcept {
    return std::hash<const void*>{}(m.get());
  }
};
template <class T>
struct std::hash<snapheap::Weak<T>> {
  std::size_t operator()(const snapheap::Weak<T>& w) const noexcept {
    const auto slot = snapheap::detail::HandleAccess::slot(w);
    const auto gen = snapheap::detail::HandleAccess::generation(w);
    return std::hash<std::uintptr_t>{}(snapheap::detail::HandleAccess::tag(w)) ^
           std::hash<std::uint64_t>{}((std::uint64_t{gen} << 32) | slot);
  }
};
