#include "gc/roots.hpp"

#include <utility>

namespace snapheap::detail {

void RootRegistry::set(std::string_view name, Strong<Object> handle) {
  auto found = map_.find(name);
  if (found != map_.end()) found->second = std::move(handle);
  else map_.emplace(std::string(name), std::move(handle));
}

bool RootRegistry::remove(std::string_view name) {
  auto found = map_.find(name);
  if (found == map_.end()) return false;
  map_.erase(found);
  return true;
}

Object* RootRegistry::find(std::string_view name) const {
  auto found = map_.find(name);
  return found == map_.end() ? nullptr : found->second.get();
}

std::vector<std::string> RootRegistry::names() const {
  std::vector<std::string> names;
  names.reserve(map_.size());
  for (const auto& [name, handle] : map_) names.push_back(name);
  return names;
}

void RootRegistry::splice(Map& from) noexcept {
  while (!from.empty()) {
    auto node = from.extract(from.begin());
    auto found = map_.find(node.key());
    if (found != map_.end()) found->second = std::move(node.mapped());
    else map_.insert(std::move(node));
  }
}

}  // namespace snapheap::detail
