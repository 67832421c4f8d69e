#include "core/slot_table.hpp"

#include "core/messages.hpp"

#include <algorithm>
#include <cstring>
#include <new>

namespace snapheap::detail {

SlotTable::SlotTable(SlotArrays& view) : view_(view) {
  // Slot 0 is the tombstone slot: never published, generation 1.
  objects_.push_back(nullptr);
  generations_.push_back(1);
  root_counts_.push_back(0);
  live_bits_.push_back(0);
  mark_bits_.push_back(0);
  free_.push_back(0);  // storage for the stack; it starts empty
  view_.free_count = 0;
  publish();
}

void SlotTable::publish() noexcept {
  view_.objects = objects_.data();
  view_.generations = generations_.data();
  view_.root_counts = root_counts_.data();
  view_.live_bits = live_bits_.data();
  view_.mark_bits = mark_bits_.data();
  view_.free = free_.data();
  view_.limit = static_cast<std::uint32_t>(objects_.size());
  if (view_.anchor) {
    view_.anchor->generations = generations_.data();
    view_.anchor->objects = objects_.data();
    view_.anchor->mark_bits = mark_bits_.data();
  }
}

// Slots are added in batches of 4,096, lowest on top of the free stack, so that make()'s inline
// path nearly always finds one and a growth costs the same at any table size (the arrays' own
// mappings grow by doubling, without copying).
void SlotTable::grow() {
  constexpr std::size_t kBatch = 4096;
  const std::size_t old = objects_.size();
  const std::size_t grown = std::min<std::size_t>(old + kBatch, kNoSlot);
  if (grown == old) throw std::bad_alloc();
  const std::size_t words = (grown + 63) / 64;
  // Reserve everything first: a failure leaves the table as it was. The new elements are zero.
  objects_.reserve(grown);
  generations_.reserve(grown);
  root_counts_.reserve(grown);
  live_bits_.reserve(words);
  mark_bits_.reserve(words);
  free_.reserve(grown);
  objects_.grow_to(grown);
  generations_.grow_to(grown);
  root_counts_.grow_to(grown);
  live_bits_.grow_to(words);
  mark_bits_.grow_to(words);
  free_.grow_to(grown);
  // The arrays the collector writes first (a dead slot's generation bump, the free stack's
  // deeper entries as a sweep frees slots) are touched here, with the batch, so that their pages'
  // first-touch faults fall in the make() that grows the table rather than in a collector step
  // (where a slow fault would push an incremental step past its budget).
  std::memset(static_cast<void*>(generations_.data() + old), 0, (grown - old) * sizeof(generations_[0]));
  std::memset(static_cast<void*>(free_.data() + old), 0, (grown - old) * sizeof(free_[0]));
  publish();
  for (std::size_t s = grown; s > old; --s) give_back(static_cast<std::uint32_t>(s - 1));
}

std::uint32_t SlotTable::take() {
  if (view_.free_count == 0) grow();
  return view_.free[--view_.free_count];
}

void SlotTable::clear_marks() noexcept {
  std::memset(mark_bits_.data(), 0, mark_bits_.size() * sizeof(std::uint64_t));
}

std::string SlotTable::check() const {
  if (generations_[kTombstoneSlot] != 1 || objects_[kTombstoneSlot] != nullptr)
    return "the tombstone slot 0 was published or its generation changed";
  for (std::uint32_t i = 0; i < view_.free_count; ++i) {
    const std::uint32_t s = view_.free[i];
    if (s == kTombstoneSlot || s >= objects_.size() || objects_[s] != nullptr)
      return format_message("free slot list holds slot %u, which is in use", s);
  }
  return {};
}

}  // namespace snapheap::detail
