// MappedArray<T>: a zero-filled array in memory of its own mapping, for the slot table's
// per-slot arrays. Growing never copies: the mapping is extended in place or moved by the
// kernel (mremap), and new pages are zero and touched only when first used. So a heap that
// grows to 10^7 slots pays no pause proportional to its size when its table grows (a
// vector's reallocation copied every array and touched the new copy at once: about 70 ms at
// 10^6 slots, half a second at 10^7, on these machines).
//
// A mapping made with a role (the slot table gives each of its arrays one) is not unmapped when
// its owner is destroyed: it goes to the process-wide cache (core/memory_cache.hpp), and the next
// mapping of the same role starts on it, warm. Its bytes are then stale, not zero: grow_to()
// zeroes the elements it adds where they may hold the previous owner's data, so the zero-filled
// contract holds and the cost is a memset of warm memory the array was about to use anyway.
//
// For trivially copyable T whose all-zero bytes are a valid value; elements are never destroyed.
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>

namespace snapheap::detail {

/// The untyped part: a mapping that grows in place or moves, never copied by hand.
class Mapping {
 public:
  /// `role` (1 to kMappingRoles - 1) lets a destroyed mapping be reused for the same role; 0:
  /// never cached.
  explicit Mapping(unsigned role = 0) noexcept : role_(role) {}
  ~Mapping();
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;

  /// Makes room for at least `bytes` (zero-filled past what was used); throws std::bad_alloc and
  /// leaves the mapping as it was if the system refuses. May move the memory.
  void reserve(std::size_t bytes);
  void* data() const noexcept { return data_; }
  std::size_t capacity() const noexcept { return bytes_; }
  /// Zeroes the bytes [from, to) of the mapping where they may still hold a previous owner's data
  /// (a reused mapping); free when the mapping was new.
  void clear_stale(std::size_t from, std::size_t to) noexcept {
    if (from < stale_bytes_) clear_stale_slow(from, to);
  }

 private:
  void clear_stale_slow(std::size_t from, std::size_t to) noexcept;
  void* data_ = nullptr;
  std::size_t bytes_ = 0;
  std::size_t stale_bytes_ = 0;  // bytes past this are zero (or never touched)
  unsigned role_ = 0;
};

template <class T>
class MappedArray {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);

 public:
  /// `role`: see Mapping.
  explicit MappedArray(unsigned role = 0) noexcept : mapping_(role) {}
  T* data() noexcept { return static_cast<T*>(mapping_.data()); }
  const T* data() const noexcept { return static_cast<const T*>(mapping_.data()); }
  std::size_t size() const noexcept { return size_; }
  T& operator[](std::size_t i) noexcept { return data()[i]; }
  const T& operator[](std::size_t i) const noexcept { return data()[i]; }

  /// Room for `n` elements; may move the data (as a vector's reserve does) and throws
  /// std::bad_alloc, the array unchanged, if there is no memory.
  void reserve(std::size_t n) {
    if (n > capacity()) mapping_.reserve(n * sizeof(T));
  }
  /// Grows to `n` elements within the reserved room (reserve(n) first): the new ones are zero.
  void grow_to(std::size_t n) noexcept {
    mapping_.clear_stale(size_ * sizeof(T), n * sizeof(T));
    size_ = n;
  }
  /// The bytes mapped (reserved), used or not.
  std::size_t mapped_bytes() const noexcept { return mapping_.capacity(); }
  void push_back(const T& value) {
    reserve(size_ + 1);
    data()[size_++] = value;
  }

 private:
  std::size_t capacity() const noexcept { return mapping_.capacity() / sizeof(T); }
  Mapping mapping_;
  std::size_t size_ = 0;
};

}  // namespace snapheap::detail
