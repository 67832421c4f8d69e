#include "support/nodes.hpp"

#include <cstdlib>

namespace snapheap_test {

namespace {
DestructionLog* g_log = nullptr;
}

DestructionLog::DestructionLog(std::size_t ids) : counts_(ids, 0) {
  if (g_log) std::abort();  // one log at a time
  g_log = this;
}

DestructionLog::~DestructionLog() { g_log = nullptr; }

void DestructionLog::record(std::int64_t id) noexcept {
  DestructionLog* log = g_log;
  if (!log) return;
  ++log->total_;
  if (id >= 0 && static_cast<std::size_t>(id) < log->counts_.size())
    ++log->counts_[static_cast<std::size_t>(id)];
}

}  // namespace snapheap_test
