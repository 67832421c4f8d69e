// Registering managed types for snapshots: SNAPHEAP_REGISTER(T) or snapheap::register_type<T>().
#pragma once

#include <boost/serialization/access.hpp>
#include <boost/serialization/serialization.hpp>
#include <boost/serialization/version.hpp>
#include <cstdint>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>

#include "snapheap/archive.hpp"
#include "snapheap/detail/type_info.hpp"
#include "snapheap/object.hpp"

namespace snapheap {

class OutputArchive;
class InputArchive;

namespace detail {

/// What the snapshot module needs to write and rebuild objects of one type.
struct SnapshotHooks {
  std::string name;           // stable name written to snapshots
  std::uint32_t version = 0;  // current class version
  /// Default-constructs the type in `memory` (a cell of the right size) and returns its Object.
  Object* (*construct)(void* memory) = nullptr;
  void (*save)(const Object& object, OutputArchive& archive, std::uint32_t version) = nullptr;
  void (*load)(Object& object, InputArchive& archive, std::uint32_t version) = nullptr;
};

/// Attaches snapshot hooks to a type (serialize/registry.cpp). A second, different registration
/// of the same type or name is recorded as a conflict that save and load report (static
/// initialization cannot throw).
void attach_snapshot_hooks(TypeInfo& type, SnapshotHooks hooks);

/// "::ns::Type<int,  int>" -> "ns::Type<int, int>": spaces collapsed, no leading "::".
std::string normalize_type_name(std::string_view name);

template <class T>
Object* construct_for_load(void* memory);
}  // namespace detail

/// Befriend it to let snapshots construct a registered type through a private default
/// constructor: `friend class snapheap::access;` (cereal's cereal::access is the model).
class access {
 public:
  /// Whether T's default constructor is reachable here (public, or private with the friend).
  template <class T>
  static constexpr bool can_construct() noexcept {
    return requires { T(); };
  }

 private:
  template <class T>
  friend Object* detail::construct_for_load(void* memory);
  template <class T>
  static T* construct(void* memory) {
    return ::new (memory) T();
  }
};

namespace detail {
template <class T>
Object* construct_for_load(void* memory) {
  if constexpr (std::is_default_constructible_v<T>) return ::new (memory) T();
  else return access::construct<T>(memory);
}
template <class T>
void save_object(const Object& object, OutputArchive& ar, std::uint32_t version) {
  boost::serialization::serialize_adl(ar, const_cast<T&>(static_cast<const T&>(object)), version);
}
template <class T>
void load_object(Object& object, InputArchive& ar, std::uint32_t version) {
  boost::serialization::serialize_adl(ar, static_cast<T&>(object), version);
}
}  // namespace detail

/// Registers T for snapshots under a stable name, with its class version (BOOST_CLASS_VERSION,
/// 0 by default). The name is what snapshots store: keep it when the C++ name changes.
/// T needs a default constructor (it may be private if T befriends boost::serialization::access).
template <class T>
void register_type(std::string_view name,
                   std::uint32_t version = boost::serialization::version<T>::value) {
  static_assert(std::is_base_of_v<Object, T>, "only managed types (derived from snapheap::Object) are registered");
  static_assert(!std::is_abstract_v<T>, "an abstract class has no objects of its own to register");
  static_assert(std::is_default_constructible_v<T> || access::can_construct<T>(),
                "a type registered for snapshots needs a default constructor, which loading uses "
                "before it reads the fields: add one (it may be private if the class declares "
                "`friend class snapheap::access;`)");
  detail::SnapshotHooks hooks;
  hooks.name = detail::normalize_type_name(name);
  hooks.version = version;
  hooks.construct = &detail::construct_for_load<T>;
  hooks.save = &detail::save_object<T>;
  hooks.load = &detail::load_object<T>;
  detail::attach_snapshot_hooks(detail::type_info_of<T>(), std::move(hooks));
}

namespace detail {
template <class T>
struct Registrar {
  Registrar(std::string_view name) { register_type<T>(name); }
};
}  // namespace detail

}  // namespace snapheap

#define SNAPHEAP_DETAIL_CONCAT2(a, b) a##b
#define SNAPHEAP_DETAIL_CONCAT(a, b) SNAPHEAP_DETAIL_CONCAT2(a, b)

/// Registers a managed type for snapshots under its spelled name: `SNAPHEAP_REGISTER(ns::Type);`
/// at namespace or global scope, once per program (a repeat with the same name is harmless).
#define SNAPHEAP_REGISTER(...)                                                                   \
  namespace {                                                                                    \
  const ::snapheap::detail::Registrar<__VA_ARGS__> SNAPHEAP_DETAIL_CONCAT(snapheap_registrar_,   \
                                                                          __COUNTER__){#__VA_ARGS__}; \
  }                                                                                              \
  static_assert(true, "")

/// Registers a managed type under an explicit stable name: `SNAPHEAP_REGISTER_AS(Layer, "app.Layer");`
#define SNAPHEAP_REGISTER_AS(Type, name)                                                         \
  namespace {                                                                                    \
  const ::snapheap::detail::Registrar<Type> SNAPHEAP_DETAIL_CONCAT(snapheap_registrar_,          \
                                                                   __COUNTER__){name};           \
  }                                                                                              \
  static_assert(true, "")
