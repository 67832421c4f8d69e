// The process-wide type registry: one entry per managed type, found by index (object headers) and
// by C++ type (Heap::make). Stable names belong to the snapshot module (serialize/registry.cpp).
//
// Entries are never removed or moved, so a TypeInfo& and an index stay valid for the life of the
// process. Lookups by index take no lock (an atomic pointer per index); additions take a mutex
// and happen once per type.
#include <cxxabi.h>

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <typeindex>
#include <unordered_map>
#include <utility>

#include "core/thread_stats.hpp"
#include "snapheap/detail/type_info.hpp"

namespace snapheap::detail {

std::atomic<TypeInfo*> g_types[kMaxTypes];

namespace {


struct Registry {
  std::mutex mutex;
  std::uint32_t next_index = 1;  // 0 is never a valid type: a zeroed header is caught by verify()
  std::unordered_map<std::type_index, TypeInfo*> by_cpp_type;
  std::deque<TypeInfo> infos;
};

// Leaked on purpose: registrations run during static initialization and lookups may run during
// static destruction, so the registry must outlive both.
Registry& registry() {
  static Registry* r = new Registry;
  return *r;
}

std::string demangle(const char* name) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> out(abi::__cxa_demangle(name, nullptr, nullptr, &status),
                                             std::free);
  return status == 0 && out ? std::string(out.get()) : std::string(name);
}

}  // namespace

std::string demangled_name(const std::type_info& type) { return demangle(type.name()); }

std::string TypeInfo::display_name() const {
  if (const std::string* name = registered_name.load(std::memory_order_acquire)) return *name;
  return cpp_type ? demangle(cpp_type->name()) : std::string("?");
}

TypeInfo& add_type(const std::type_info& cpp_type, std::size_t size,
                   void (*destroy)(Object*) noexcept) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  auto found = r.by_cpp_type.find(std::type_index(cpp_type));
  if (found != r.by_cpp_type.end()) return *found->second;
  if (r.next_index >= kMaxTypes)
    fatal(__FILE__, __LINE__, "more than 65535 managed types in one process");
  TypeInfo& info = r.infos.emplace_back();
  info.index = r.next_index++;
  info.cpp_type = &cpp_type;
  info.size = size;
  info.destroy = destroy;
  r.by_cpp_type.emplace(std::type_index(cpp_type), &info);
  g_types[info.index].store(&info, std::memory_order_release);
  return info;
}


void report_destructor_exception(const TypeInfo& type, std::exception_ptr error) noexcept {
  ++thread_stats().destructor_exceptions;
  std::string what = "unknown exception";
  try {
    std::rethrow_exception(std::move(error));
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
  }
  std::fprintf(stderr, "snapheap: warning: the destructor of a %s threw during sweep: %s\n",
               type.display_name().c_str(), what.c_str());
}

}  // namespace snapheap::detail
