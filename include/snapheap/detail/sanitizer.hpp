// Tells AddressSanitizer which heap cells are free, so that a use of a dead managed object is
// reported where it happens. Compiles to nothing without ASan.
#pragma once

#include <cstddef>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SNAPHEAP_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define SNAPHEAP_ASAN 1
#endif

#if defined(SNAPHEAP_ASAN)
#include <sanitizer/asan_interface.h>
#define SNAPHEAP_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define SNAPHEAP_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#define SNAPHEAP_IS_POISONED(p, n) (__asan_region_is_poisoned(const_cast<void*>(p), (n)) != nullptr)
#else
#define SNAPHEAP_POISON(p, n) ((void)(p), (void)(n))
#define SNAPHEAP_UNPOISON(p, n) ((void)(p), (void)(n))
#define SNAPHEAP_IS_POISONED(p, n) ((void)(p), (void)(n), false)
#endif
