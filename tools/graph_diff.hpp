// `snapheap diff`'s comparison of two snapshot graphs, apart from its printing (the inspect
// fuzzer runs it on hostile files too). Object IDs differ between files, so objects are matched
// by root path: the path along which a breadth-first walk from all the roots at once (roots in
// name order, references in record order: the walk a save numbers objects by) first reaches
// them, as the root's name and the positions of the references followed, hashed to 64 bits.
#pragma once

#include <cstdint>
#include <map>
#include <snapheap/inspect.hpp>
#include <string>
#include <utility>
#include <vector>

namespace snapheap_tool {

struct TypeDiff {
  std::uint64_t objects_a = 0, objects_b = 0, bytes_a = 0, bytes_b = 0;
  std::uint64_t added = 0, removed = 0, changed = 0, bytes_added = 0, bytes_removed = 0;
};

struct GraphDiff {
  struct RootChange {
    std::string name;
    std::uint32_t id_a = 0, id_b = 0;
  };
  std::map<std::string, TypeDiff> types;  ///< every type of either file, by name
  std::uint64_t added = 0, removed = 0, changed = 0;  ///< objects, over all types
  std::vector<std::string> roots_added, roots_removed;  ///< in name order
  /// Roots of both whose object's type or content, or the number of objects it retains, differ.
  std::vector<RootChange> roots_changed;
  std::vector<std::pair<std::int64_t, std::string>> growth;  ///< types whose bytes grew, most first
  snapheap::Dominators dom_a, dom_b;

  bool same() const noexcept {
    return added == 0 && removed == 0 && changed == 0 && roots_added.empty() && roots_removed.empty() &&
           roots_changed.empty();
  }
};

/// What differs from A to B. An object no root reaches has no root path: it is removed (in A)
/// or added (in B), as is a matched object of another type; a matched object of the same type
/// whose data or references (kinds, and targets by root path) differ is changed.
GraphDiff compare(const snapheap::SnapshotGraph& a, const snapheap::SnapshotGraph& b);

}  // namespace snapheap_tool
