// Stable type names for snapshots: which registered type a snapshot's type table entry means.
#pragma once

#include <string_view>

#include "snapheap/registry.hpp"

namespace snapheap::detail {

/// The entry registered for snapshots under `name`, or nullptr.
const TypeInfo* type_by_name(std::string_view name) noexcept;
/// Throws std::logic_error if registrations conflicted (called by save and load).
void check_registry_conflicts();

}  // namespace snapheap::detail
