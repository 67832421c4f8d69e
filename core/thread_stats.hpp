// Per-thread counters the collector reads around a sweep (a heap runs on one thread).
#pragma once

#include <cstdint>

namespace snapheap::detail {

struct ThreadStats {
  std::uint64_t destructor_exceptions = 0;
};

ThreadStats& thread_stats() noexcept;

}  // namespace snapheap::detail
