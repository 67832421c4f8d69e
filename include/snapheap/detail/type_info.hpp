// The process-wide registry of managed types (core/type_registry.cpp). Every type Heap::make has
// seen gets an entry (size, destructor); the snapshot module attaches what snapshots need (a
// stable name, the class version, save and load: snapheap/registry.hpp, serialize/registry.cpp).
// Not API.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>

#include "snapheap/object.hpp"

namespace snapheap::detail {

/// Defined by the snapshot module (snapheap/registry.hpp); the core registry only holds it.
struct SnapshotHooks;

struct TypeInfo {
  std::uint32_t index = 0;
  const std::type_info* cpp_type = nullptr;
  std::size_t size = 0;
  /// Runs the destructor; null when the type is trivially destructible (sweep skips the call).
  void (*destroy)(Object*) noexcept = nullptr;
  /// Set once by SNAPHEAP_REGISTER / register_type (the snapshot module); read by save and load.
  std::atomic<const SnapshotHooks*> snapshot{nullptr};
  /// The registered stable name, for messages; set with `snapshot`.
  std::atomic<const std::string*> registered_name{nullptr};

  /// A readable name for messages: the registered name, else the demangled C++ name.
  std::string display_name() const;
};

/// The C++ name of a type, demangled ("ns::Type<int>").
std::string demangled_name(const std::type_info& type);

/// Adds a type (once per type, thread-safe) and returns its entry, which lives forever.
TypeInfo& add_type(const std::type_info& cpp_type, std::size_t size, void (*destroy)(Object*) noexcept);
// 65,535 managed types per process: far more than a program defines, and the table is 512 KiB
// of zero-initialized storage whose pages are touched only as types are added.
inline constexpr std::uint32_t kMaxTypes = 1u << 16;
extern std::atomic<TypeInfo*> g_types[kMaxTypes];

/// The entry for a registry index, or nullptr. Lock-free: the sweep calls it per dead object.
inline const TypeInfo* type_at(std::uint32_t index) noexcept {
  return index < kMaxTypes ? g_types[index].load(std::memory_order_acquire) : nullptr;
}
/// Counts destructors that threw (a failing destructor is reported, not fatal; see sweep).
void report_destructor_exception(const TypeInfo& type, std::exception_ptr error) noexcept;

template <class T>
SNAPHEAP_ALWAYS_INLINE TypeInfo& type_info_of();

template <class T>
void destroy_object(Object* o) noexcept {
  T* object = static_cast<T*>(o);
  if constexpr (std::is_nothrow_destructible_v<T>) {
    object->~T();
  } else {
    try {
      object->~T();
    } catch (...) {
      report_destructor_exception(type_info_of<T>(), std::current_exception());
    }
  }
}

template <class T>
SNAPHEAP_ALWAYS_INLINE TypeInfo& type_info_of() {
  static TypeInfo& info = add_type(typeid(T), sizeof(T),
                                   std::is_trivially_destructible_v<T> ? nullptr : &destroy_object<T>);
  return info;
}

/// T's registry index, for hot paths that run after static initialization (a guard-free read).
/// Read during static initialization it may still be 0, which no type has: callers treat a
/// mismatch as "check the slow way", so that is still correct.
template <class T>
struct TypeIndex {
  static inline const std::uint32_t value = type_info_of<T>().index;
};

}  // namespace snapheap::detail
