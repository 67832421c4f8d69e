// Heap anchors: the records weak handles and allocators name a heap by (detail/heap_core.hpp).
// They are allocated in blocks, never freed, and reused newest-first; each reuse bumps the
// anchor's 16-bit use count, which is part of the tag, so a handle to an earlier heap never
// matches a later one. An anchor whose count would wrap is retired for good: one 64-byte record
// per 65,535 heaps.
#include <mutex>
#include <new>
#include <vector>

#include "snapheap/detail/heap_core.hpp"

namespace snapheap::detail {

__thread ThreadState g_thread;

namespace {

struct AnchorPool {
  std::mutex mutex;
  std::vector<HeapAnchor*> free;
  HeapAnchor* block = nullptr;  // the block new anchors are carved from
  std::size_t used = 0;
  std::size_t total = 0;        // anchors made so far: the free list has room for all
};
constexpr std::size_t kAnchorsPerBlock = 64;

// Leaked on purpose: weak handles may be read during static destruction.
AnchorPool& pool() {
  static AnchorPool* p = new AnchorPool;
  return *p;
}

HeapAnchor* take_anchor() {
  AnchorPool& p = pool();
  std::lock_guard lock(p.mutex);
  if (!p.free.empty()) {
    HeapAnchor* a = p.free.back();
    p.free.pop_back();
    return a;
  }
  if (p.block == nullptr || p.used == kAnchorsPerBlock) {
    p.block = new HeapAnchor[kAnchorsPerBlock];
    p.used = 0;
  }
  p.free.reserve(++p.total);  // give_back() must not allocate
  return &p.block[p.used++];
}

void give_back(HeapAnchor* a) noexcept {
  AnchorPool& p = pool();
  std::lock_guard lock(p.mutex);
  if (a->uses != 0xFFFF) p.free.push_back(a);  // room reserved in take_anchor
}

}  // namespace

HeapCore::HeapCore() {
  HeapAnchor* a = take_anchor();
  ++a->uses;
  const auto address = reinterpret_cast<std::uintptr_t>(a);
  SNAPHEAP_CHECK(address >> kTagEpochShift == 0, "a heap anchor lies above 2^48: tags cannot hold it");
  a->tag = address | (std::uintptr_t{a->uses} << kTagEpochShift);
  a->heap = this;
  tag_ = a->tag;
  slots_.anchor = a;
}

HeapCore::~HeapCore() {
  HeapAnchor* a = slots_.anchor;
  a->tag = 0;
  a->heap = nullptr;
  a->generations = nullptr;
  a->objects = nullptr;
  give_back(a);
}

}  // namespace snapheap::detail
