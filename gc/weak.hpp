// What a heap keeps for the weak semantics beyond a plain Weak: death watches (Heap::on_death and
// the watches WeakValueMap puts on its values) and the dead entries of weak maps, waiting for
// their maps to drop them.
//
// Death watches: a record per registration and a bit per watched slot. When marking ends, the
// watched slots that are live and unmarked are the dying ones: their records move to the batch
// of that collection (one pass over the bitmap of watched slots, so a heap that watches nothing
// pays nothing, and one that watches many pays a bit per slot). When the collection ends the
// batch is ready; the heap's entry points (collect, step, make, the end of a load or a save) run
// ready batches outside the collector, newest registration first, each batch whole before the
// next (a collect() from a callback adds its batch after the current one).
//
// Dead entries: when marking ends, an ephemeron left with a white key whose owner is a weak map
// names a dead entry of that map (key identity), and a watch of a weak map's value that fires
// names one too (value identity). They are logged by the map's own identity; the map drops them
// at its next operation, so nothing but the map changes the map, and a map that lost nothing
// costs nothing.
#pragma once

#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "snapheap/heap.hpp"

namespace snapheap::detail {

class HeapImpl;
class ObjectTable;

/// A plain round over the pending ephemerons (the ephemerons marking met with a white key):
/// those whose key is marked now shade their value and leave the list, as do those whose key
/// died before this marking (unless a weak map must hear of them). An incremental cycle runs a
/// round in slices, marking going on between them; entries added meanwhile are scanned too.
class EphemeronRound {
 public:
  bool open() const noexcept { return open_; }
  /// Starts a round; `traced` is the marking's count of traced objects (incremental marking
  /// compares it at the end: anything traced during the round is progress too).
  void begin(std::uint64_t traced = 0) noexcept { *this = {}, open_ = true, traced_ = traced; }
  /// Scans at most `max` entries; true once the round has reached the list's end (the list is
  /// then compacted and the round closed).
  bool scan(ObjectTable& table, std::size_t max = ~std::size_t{0}) noexcept;
  bool shaded() const noexcept { return shaded_; }
  std::uint64_t traced_at_begin() const noexcept { return traced_; }

 private:
  bool open_ = false;
  bool shaded_ = false;
  std::size_t read_ = 0;
  std::size_t write_ = 0;
  std::uint64_t traced_ = 0;
};

/// Marking's ephemeron fixpoint once plain rounds keep making progress: an index from key slot
/// to the pending entries (the ephemerons marking met with a white key). Each object taken off
/// the mark stack is looked up, so each entry resolves once, however the entries chain (linear
/// in the ephemerons). Used whole by a stop-the-world marking (settle_ephemerons) and across an
/// incremental cycle's steps (ephemeron_round), which then call popped() for every object they
/// trace. Entries that marking or WeakKeyMap::set() add meanwhile join the index.
class EphemeronIndex {
 public:
  bool active() const noexcept { return active_; }
  void start() noexcept { active_ = true; }
  /// Indexes at most `max` of the pending entries not indexed yet; those whose key is marked
  /// resolve (their values are shaded). Returns whether every entry is indexed.
  bool catch_up(ObjectTable& table, std::size_t max = ~std::size_t{0});
  /// `o` was taken off the mark stack and traced: the entries keyed by it resolve.
  void popped(ObjectTable& table, const Object* o);
  /// Once the mark stack is empty and every entry is indexed: the resolved entries leave the
  /// pending list (what is left has white keys), and the index is reset.
  void finish(ObjectTable& table);

 private:
  bool active_ = false;
  std::unordered_multimap<std::uint32_t, std::size_t> by_key_;
  std::vector<bool> resolved_;
  std::size_t indexed_ = 0;
};

struct WeakState {
  struct Watch {
    std::uint32_t slot = 0;
    std::uint32_t generation = 0;
    std::uint64_t serial = 0;    // 0 while the record is free
    std::uint32_t next = kNone;  // the next record watching the same slot (or the next free one)
    std::uint64_t owner = 0;     // a weak map's identity (slot | generation << 32), or 0: a callback
    std::function<void()> callback;
  };
  static constexpr std::uint32_t kNone = 0xFFFFFFFFu;

  std::vector<Watch> watches;
  std::uint32_t free_watch = kNone;
  std::size_t active_watches = 0;
  std::uint64_t next_serial = 1;
  std::unordered_map<std::uint32_t, std::uint32_t> by_slot;  // slot -> first record
  std::vector<std::uint64_t> watched_bits;                    // a bit per slot with records
  /// Records of this collection, and batches whose callbacks may run: {record, serial}. A record
  /// cancelled meanwhile (a destructor of the same sweep may drop a DeathWatch) no longer has
  /// that serial and is skipped.
  using Batch = std::vector<std::pair<std::uint32_t, std::uint64_t>>;
  Batch dying;
  std::deque<Batch> ready;
  bool draining = false;

  /// Dead entries by weak map identity.
  std::unordered_map<std::uint64_t, std::vector<std::uint64_t>> dead_entries;
};

/// The end of marking in every mode (marks are final): ephemerons with dead keys and watched
/// objects that die are noted, logs of maps that die are dropped. The three parts below, in
/// this order; an incremental cycle runs the watched-object pass in slices between steps.
void note_weak_deaths(HeapImpl& heap) noexcept;
/// What the passes below return once done.
inline constexpr std::size_t kPassDone = ~std::size_t{0};
/// The maps with a log waiting (sorted identities), taken when marking ends.
std::vector<std::uint64_t> maps_with_logs(const HeapImpl& heap);
/// Weak-map entries of the ephemerons still pending (their keys are white), `max` of them from
/// entry `from`, join their maps' logs; `had_log` is maps_with_logs() at the end of marking.
/// Returns the next entry, or kPassDone once the list is done (and cleared).
std::size_t note_ephemeron_deaths(HeapImpl& heap, std::size_t from, std::size_t max,
                                  const std::vector<std::uint64_t>& had_log) noexcept;
/// The watched-object bitmap from word `from`: watched objects left white join this
/// collection's death batch or their map's log. Stops after `max_words` words, or after the word
/// that brings the dying objects noted to `max_dying`; returns the next word to scan, or
/// kPassDone once the bitmap is done (at once while nothing is watched).
std::size_t note_watched_deaths(HeapImpl& heap, std::size_t from, std::size_t max_words,
                                std::size_t max_dying) noexcept;
/// Logs of maps that die in this collection go with them.
void drop_dead_map_logs(HeapImpl& heap) noexcept;
/// The end of a collection: this collection's dying watches become a ready batch.
void queue_death_batch(HeapImpl& heap) noexcept;
/// Runs the ready batches, if the heap may run host code now.
void run_death_callbacks(HeapImpl& heap) noexcept;
/// Heap teardown: every watch is dropped (its callable destroyed, not called).
void drop_watches(HeapImpl& heap) noexcept;

/// Heap::on_death's registration.
DeathWatch register_death(HeapImpl& heap, const Object* target, std::function<void()> callback);
bool watch_pending(HeapTag tag, std::uint32_t index, std::uint64_t serial) noexcept;
bool cancel_watch(HeapTag tag, std::uint32_t index, std::uint64_t serial) noexcept;

/// Marking's ephemeron fixpoint, once the mark stack is empty: values of ephemerons whose keys
/// are marked now are shaded and traced, until nothing changes. Never recursive; linear in the
/// ephemerons (a chain of a million keys resolves through a key -> values index).
void settle_ephemerons(HeapImpl& heap) noexcept;
/// Incremental marking's version, called when nothing is gray: one round over the pending
/// ephemerons; true if it shaded anything (marking then goes on). After a few rounds that each
/// shaded something, the fixpoint goes on through the cycle's EphemeronIndex, a slice of entries
/// indexed per call and every traced object looked up, marking going on between steps; false
/// once nothing is gray and nothing more resolves.
bool ephemeron_round(HeapImpl& heap) noexcept;

}  // namespace snapheap::detail
