// Stable names: SNAPHEAP_REGISTER attaches a type's snapshot hooks here, and the loader finds
// types by the names in a snapshot's type table. Registrations run during static
// initialization, so conflicts are recorded and reported by the next save or load.
#include "serialize/registry.hpp"

#include <cctype>
#include <deque>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>

namespace snapheap::detail {

namespace {

struct NameIndex {
  std::mutex mutex;
  std::map<std::string, TypeInfo*, std::less<>> by_name;
  std::deque<SnapshotHooks> hooks;  // never moved: TypeInfo::snapshot points into it
  std::string conflicts;
};

// Leaked on purpose, like the core registry: registrations run during static initialization
// and lookups may run during static destruction.
NameIndex& index() {
  static NameIndex* i = new NameIndex;
  return *i;
}

}  // namespace

const TypeInfo* type_by_name(std::string_view name) noexcept {
  NameIndex& r = index();
  std::lock_guard lock(r.mutex);
  auto found = r.by_name.find(name);
  return found == r.by_name.end() ? nullptr : found->second;
}

void attach_snapshot_hooks(TypeInfo& type, SnapshotHooks hooks) {
  NameIndex& r = index();
  std::lock_guard lock(r.mutex);
  if (const SnapshotHooks* old = type.snapshot.load(std::memory_order_acquire)) {
    if (old->name == hooks.name && old->version == hooks.version) return;  // same macro twice
    r.conflicts += "type " + demangled_name(*type.cpp_type) + " is registered as both '" + old->name + "' and '" +
                   hooks.name + "'; ";
    return;
  }
  auto taken = r.by_name.find(hooks.name);
  if (taken != r.by_name.end() && taken->second != &type) {
    r.conflicts += "the name '" + hooks.name + "' is registered for both " +
                   demangled_name(*taken->second->cpp_type) + " and " + demangled_name(*type.cpp_type) + "; ";
    return;
  }
  const SnapshotHooks& stored = r.hooks.emplace_back(std::move(hooks));
  r.by_name.emplace(stored.name, &type);
  type.registered_name.store(&stored.name, std::memory_order_release);
  type.snapshot.store(&stored, std::memory_order_release);
}

void check_registry_conflicts() {
  NameIndex& r = index();
  std::lock_guard lock(r.mutex);
  if (!r.conflicts.empty())
    throw std::logic_error("snapheap: conflicting type registrations: " + r.conflicts.substr(0, r.conflicts.size() - 2));
}

std::string normalize_type_name(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  bool space = false;
  for (char c : name) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = !out.empty();
      continue;
    }
    // Keep one space only between two identifier characters ("unsigned int"); drop it elsewhere
    // except after a comma, where the C++ spelling keeps it ("Pair<int, int>").
    const bool word = std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    const char last = out.empty() ? '\0' : out.back();
    const bool last_word = std::isalnum(static_cast<unsigned char>(last)) || last == '_';
    if (space && ((word && last_word) || last == ',')) out += ' ';
    if (!space && last == ',' ) out += ' ';
    space = false;
    out += c;
  }
  if (out.rfind("::", 0) == 0) out.erase(0, 2);
  return out;
}

}  // namespace snapheap::detail
