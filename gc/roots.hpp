// The named roots of a heap: a name -> Strong<Object> registry, walked in name order.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "snapheap/handles.hpp"

namespace snapheap::detail {

class RootRegistry {
 public:
  // A node-based ordered map: set() is O(log n) at any root count (a flat_map's insertion is
  // O(n): 65,536 roots took 2.6 s to insert, bench/bench_containers.cpp), a save walks the roots
  // in name order for free, and a load builds its root nodes before it commits and splices them
  // in without allocating afterwards.
  using Map = std::map<std::string, Strong<Object>, std::less<>>;

  /// Replaces any root of that name; the handle must not be empty.
  void set(std::string_view name, Strong<Object> handle);
  bool remove(std::string_view name);
  Object* find(std::string_view name) const;
  bool contains(std::string_view name) const { return map_.find(name) != map_.end(); }
  std::vector<std::string> names() const;
  std::size_t size() const noexcept { return map_.size(); }
  const Map& map() const noexcept { return map_; }
  void clear() noexcept { map_.clear(); }
  /// Moves every root of `from` in (replacing a root of the same name) without allocating: the
  /// nodes move, so this cannot fail once `from` is built.
  void splice(Map& from) noexcept;

 private:
  Map map_;
};

}  // namespace snapheap::detail
