// Per-thread state that inline code reads. Not API.
#pragma once

#include <cstdint>

namespace snapheap::detail {

/// A heap as weak handles and allocators name it (detail/heap_core.hpp's HeapAnchor): 0 is none.
using HeapTag = std::uintptr_t;

/// Which heap is constructing an object on this thread (for Object()'s debug check and
/// snapheap::Allocator), and, by the variable's address, the thread's identity. `__thread`: no
/// dynamic initialization, so an access is one instruction.
struct ThreadState {
  HeapTag constructing = 0;
};
extern __thread ThreadState g_thread;
inline const void* this_thread_marker() noexcept { return &g_thread; }

}  // namespace snapheap::detail
