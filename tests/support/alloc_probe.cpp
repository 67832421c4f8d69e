#include "support/alloc_probe.hpp"

#include <atomic>
#include <cstdlib>
#include <new>

namespace snapheap_test {
namespace {

std::atomic<bool> g_armed{false};
std::atomic<std::size_t> g_count{0}, g_bytes{0}, g_largest{0};

void record(std::size_t size) noexcept {
  if (!g_armed.load(std::memory_order_relaxed)) return;
  g_count.fetch_add(1, std::memory_order_relaxed);
  g_bytes.fetch_add(size, std::memory_order_relaxed);
  std::size_t seen = g_largest.load(std::memory_order_relaxed);
  while (size > seen && !g_largest.compare_exchange_weak(seen, size, std::memory_order_relaxed)) {
  }
}

}  // namespace
}  // namespace snapheap_test

#if defined(__SANITIZE_ADDRESS__)

// The sanitizer runtime calls these on every malloc (operator new included) and free. GCC 12
// does not ship sanitizer/allocator_interface.h; the function is in libasan.
extern "C" int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void*, std::size_t),
                                                         void (*free_hook)(const volatile void*));

namespace snapheap_test {
namespace {
void on_malloc(const volatile void*, std::size_t size) { record(size); }
void on_free(const volatile void*) {}
void install() {
  static const bool installed = __sanitizer_install_malloc_and_free_hooks(&on_malloc, &on_free) != 0;
  if (!installed) std::abort();
}
}  // namespace
}  // namespace snapheap_test

#else

// The replaceable global allocation functions. libstdc++'s nothrow and array forms call these;
// the aligned forms are replaced too, so that every operator new is counted.
namespace {
void* allocate(std::size_t size) {
  snapheap_test::record(size);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* allocate_aligned(std::size_t size, std::align_val_t align) {
  snapheap_test::record(size);
  const auto a = static_cast<std::size_t>(align);
  const std::size_t rounded = (size + a - 1) / a * a;  // aligned_alloc wants a multiple
  if (void* p = std::aligned_alloc(a, rounded == 0 ? a : rounded)) return p;
  throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t size) { return allocate(size); }
void* operator new[](std::size_t size) { return allocate(size); }
void* operator new(std::size_t size, std::align_val_t align) { return allocate_aligned(size, align); }
void* operator new[](std::size_t size, std::align_val_t align) { return allocate_aligned(size, align); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace snapheap_test {
namespace {
void install() {}
}  // namespace
}  // namespace snapheap_test

#endif

namespace snapheap_test {

AllocProbe::AllocProbe() {
  install();
  g_count = 0;
  g_bytes = 0;
  g_largest = 0;
  if (g_armed.exchange(true)) std::abort();  // probes do not nest
}

AllocProbe::~AllocProbe() { g_armed = false; }

AllocCounts AllocProbe::counts() const { return {g_count.load(), g_bytes.load(), g_largest.load()}; }

}  // namespace snapheap_test
