// Ephemeron marking, death watches and weak maps' dead entries (gc/weak.hpp).
#include "gc/weak.hpp"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>

#include "gc/collector.hpp"
#include "snapheap/weak_map.hpp"

namespace snapheap::detail {

namespace {

std::uint64_t identity_of(const ObjectTable& table, const Object* o) noexcept {
  const std::uint32_t slot = ObjectAccess::slot(o);
  return std::uint64_t{slot} | (std::uint64_t{table.generation(slot)} << 32);
}

// ---- ephemerons ------------------------------------------------------------------------------------

/// Rounds over the list before the index is built: a round is a pass over the pending entries,
/// cheap while few rounds resolve everything (the common case: keys marked later in the same
/// marking, or dead).
constexpr int kPlainRounds = 2;

/// Where a slice of at most `max` items that starts at `from` ends in a list of `size`: `size` at
/// most, and without overflow for the unbounded max (~0) or a start past the end.
std::size_t slice_end(std::size_t from, std::size_t max, std::size_t size) noexcept {
  return size - std::min(from, size) > max ? from + max : size;
}

}  // namespace

bool EphemeronRound::scan(ObjectTable& table, std::size_t max) noexcept {
  EphemeronList& pending = table.ephemerons();
  for (std::size_t n = 0; read_ < pending.size() && n < max; ++n) {
    const PendingEphemeron e = pending[read_++];
    if (table.generation(e.key_slot) != e.key_generation) {
      if (e.owner) pending[write_++] = e;  // dead already: kept to tell its map
      continue;
    }
    if (table.is_marked(e.key_slot)) {
      if (e.value && !table.is_marked(ObjectAccess::slot(e.value))) {
        table.shade(e.value);
        shaded_ = true;
      }
      continue;
    }
    pending[write_++] = e;
  }
  if (read_ < pending.size()) return false;
  pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(write_), pending.end());
  open_ = false;
  return true;
}

bool EphemeronIndex::catch_up(ObjectTable& table, std::size_t max) {
  EphemeronList& pending = table.ephemerons();
  const std::size_t end = slice_end(indexed_, max, pending.size());
  for (; indexed_ < end; ++indexed_) {
    const PendingEphemeron& e = pending[indexed_];
    resolved_.push_back(false);
    if (table.generation(e.key_slot) != e.key_generation) continue;  // dead already
    if (table.is_marked(e.key_slot)) {
      if (e.value) table.shade(e.value);
      resolved_[indexed_] = true;
    } else {
      by_key_.emplace(e.key_slot, indexed_);
    }
  }
  return indexed_ == pending.size();
}

void EphemeronIndex::popped(ObjectTable& table, const Object* o) {
  catch_up(table);
  if (by_key_.empty()) return;
  const EphemeronList& pending = table.ephemerons();
  const auto [from, to] = by_key_.equal_range(ObjectAccess::slot(o));
  for (auto it = from; it != to; ++it) {
    const PendingEphemeron& e = pending[it->second];
    if (e.value) table.shade(e.value);
    resolved_[it->second] = true;
  }
  by_key_.erase(from, to);
}

void EphemeronIndex::finish(ObjectTable& table) {
  EphemeronList& pending = table.ephemerons();
  std::size_t kept = 0;
  for (std::size_t i = 0; i < pending.size(); ++i)
    if (i >= resolved_.size() || !resolved_[i]) pending[kept++] = pending[i];
  pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(kept), pending.end());
  *this = EphemeronIndex{};
}

void settle_ephemerons(HeapImpl& heap) noexcept {
  ObjectTable& table = heap.table;
  if (table.ephemerons().empty()) return;
  Tracer tracer = TracerAccess::marking(table);
  for (int i = 0; i < kPlainRounds; ++i) {
    EphemeronRound round;
    round.begin();
    round.scan(table);
    if (!round.shaded()) return;
    drain(table.mark_stack(), tracer);
    if (table.ephemerons().empty()) return;
  }
  EphemeronIndex index;
  index.catch_up(table);
  drain(table.mark_stack(), tracer, [&](const Object* o) { index.popped(table, o); });
  index.finish(table);
}

bool ephemeron_round(HeapImpl& heap) noexcept {
  ObjectTable& table = heap.table;
  HeapImpl::Cycle& c = heap.cycle;
  EphemeronIndex& index = c.ephemeron_index;
  constexpr std::size_t kSlice = 1024;  // entries scanned or indexed per unit
  if (!index.active()) {
    EphemeronRound& round = c.ephemeron_round;
    if (!round.open()) {
      if (table.ephemerons().empty()) return false;
      if (c.ephemeron_rounds >= kPlainRounds) {
        index.start();  // marking goes on through the index
        return true;
      }
      round.begin(c.traced);
    }
    if (!round.scan(table, kSlice)) return true;  // the rest of the round in the next units
    ++c.ephemeron_rounds;
    // Progress: a value shaded, or anything traced meanwhile (the program may have shaded a key
    // the round had already passed); else nothing more can resolve.
    return round.shaded() || c.traced != round.traced_at_begin();
  }
  if (!index.catch_up(table, kSlice) || !table.mark_stack().empty()) return true;
  index.finish(table);
  return false;
}

namespace {
void free_record(WeakState& w, std::uint32_t r) noexcept {
  w.watches[r] = WeakState::Watch{};
  w.watches[r].next = w.free_watch;
  w.free_watch = r;
  --w.active_watches;
}
}  // namespace

// ---- the end of marking ----------------------------------------------------------------------------

std::vector<std::uint64_t> maps_with_logs(const HeapImpl& heap) {
  std::vector<std::uint64_t> owners;
  for (const auto& [owner, log] : heap.weak.dead_entries) owners.push_back(owner);
  std::sort(owners.begin(), owners.end());
  return owners;
}

std::size_t note_ephemeron_deaths(HeapImpl& heap, std::size_t from, std::size_t max,
                                  const std::vector<std::uint64_t>& had_log) noexcept {
  ObjectTable& table = heap.table;
  WeakState& w = heap.weak;
  // Ephemerons still pending have white keys: they die now. Entries of weak maps are logged;
  // an entry whose key had died before is logged only for a map with no log waiting when
  // marking ended (else it is in that log already, or joins it once the map has taken it).
  EphemeronList& pending = table.ephemerons();
  const std::size_t end = slice_end(from, max, pending.size());
  bool logged = false;
  for (std::size_t i = from; i < end; ++i) {
    const PendingEphemeron& e = pending[i];
    if (!e.owner) continue;
    const std::uint64_t owner = identity_of(table, e.owner);
    if (table.generation(e.key_slot) != e.key_generation && std::binary_search(had_log.begin(), had_log.end(), owner))
      continue;
    w.dead_entries[owner].push_back(std::uint64_t{e.key_slot} | (std::uint64_t{e.key_generation} << 32));
    logged = true;
  }
  if (logged) table.set_dead_entries_pending(true);  // a map may take its log before the pass ends
  if (end < pending.size()) return end;
  pending.clear();
  return kPassDone;
}

std::size_t note_watched_deaths(HeapImpl& heap, std::size_t from, std::size_t max_words, std::size_t max_dying) noexcept {
  ObjectTable& table = heap.table;
  WeakState& w = heap.weak;
  // Watched objects that die now: their records join this collection's batch (a map's watch
  // logs a dead entry instead, at once: the map is told at its next operation).
  if (w.active_watches == 0) return kPassDone;
  const std::size_t words = std::min(w.watched_bits.size(), table.bit_words());
  const std::size_t end = slice_end(from, max_words, words);
  std::size_t noted = 0;
  // Most dying values of a collection belong to few maps: the last map's log is kept at hand.
  std::uint64_t last_owner = 0;
  std::vector<std::uint64_t>* last_log = nullptr;
  const std::uint64_t* live = table.live_bits();
  const std::uint64_t* marks = table.mark_bits();
  std::size_t word = from;
  for (; word < end && noted < max_dying; ++word) {
    std::uint64_t dying = w.watched_bits[word] & live[word] & ~marks[word];
    if (dying == 0) continue;
    w.watched_bits[word] &= ~dying;
    noted += static_cast<std::size_t>(std::popcount(dying));
    for (; dying; dying &= dying - 1) {
      const auto slot = static_cast<std::uint32_t>(word * 64 + static_cast<unsigned>(std::countr_zero(dying)));
      const auto found = w.by_slot.find(slot);
      if (found == w.by_slot.end()) continue;
      const std::uint32_t generation = table.generation(slot);
      for (std::uint32_t r = found->second; r != WeakState::kNone;) {
        WeakState::Watch& watch = w.watches[r];
        const std::uint32_t next = watch.next;
        watch.next = WeakState::kNone;
        if (watch.serial != 0 && watch.generation != generation) {
          free_record(w, r);  // its object died outside a collection (a failed load's)
        } else if (watch.serial != 0) {
          if (watch.owner != 0) {
            if (watch.owner != last_owner || !last_log) {
              last_owner = watch.owner;
              last_log = &w.dead_entries[watch.owner];
            }
            last_log->push_back(std::uint64_t{slot} | (std::uint64_t{generation} << 32));
            free_record(w, r);
          } else {
            w.dying.emplace_back(r, watch.serial);
          }
        }
        r = next;
      }
      w.by_slot.erase(found);
    }
  }
  // A map may take its log before an incremental pass ends (the program runs between its
  // slices): it then finds the entries logged so far, and the rest at a later operation.
  if (last_log) table.set_dead_entries_pending(true);
  return word < words ? word : kPassDone;
}

void drop_dead_map_logs(HeapImpl& heap) noexcept {
  ObjectTable& table = heap.table;
  WeakState& w = heap.weak;
  // Logs of maps that die now (or died before their next operation) go with them.
  for (auto it = w.dead_entries.begin(); it != w.dead_entries.end();) {
    const auto slot = static_cast<std::uint32_t>(it->first);
    const auto generation = static_cast<std::uint32_t>(it->first >> 32);
    const bool lives = slot < table.slot_limit() && table.generation(slot) == generation && table.object_at(slot) &&
                       table.is_marked(slot);
    it = lives ? std::next(it) : w.dead_entries.erase(it);
  }
  table.set_dead_entries_pending(!w.dead_entries.empty());
}

void note_weak_deaths(HeapImpl& heap) noexcept {
  if (!heap.table.ephemerons().empty()) note_ephemeron_deaths(heap, 0, kPassDone, maps_with_logs(heap));
  note_watched_deaths(heap, 0, kPassDone, kPassDone);
  drop_dead_map_logs(heap);
}

void queue_death_batch(HeapImpl& heap) noexcept {
  WeakState& w = heap.weak;
  if (w.dying.empty()) return;
  w.ready.push_back(std::move(w.dying));
  w.dying.clear();
}

// ---- running callbacks -----------------------------------------------------------------------------

namespace {

void report_callback_exception(std::exception_ptr error) noexcept {
  std::string what = "unknown exception";
  try {
    std::rethrow_exception(std::move(error));
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
  }
  std::fprintf(stderr, "snapheap: warning: a death callback threw: %s\n", what.c_str());
}

}  // namespace

void run_death_callbacks(HeapImpl& heap) noexcept {
  WeakState& w = heap.weak;
  if (w.ready.empty() || w.draining || !heap.table.can_collect()) return;
  w.draining = true;
  while (!w.ready.empty()) {
    WeakState::Batch batch = std::move(w.ready.front());
    w.ready.pop_front();
    // Newest registration first, as CPython runs a dying object's weakref callbacks.
    std::sort(batch.begin(), batch.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    // Each record is checked as its turn comes: a destructor or an earlier callback may have
    // cancelled it (and a new registration may have reused it).
    for (const auto& [r, serial] : batch) {
      if (r >= w.watches.size() || w.watches[r].serial != serial) continue;
      std::function<void()> callback = std::move(w.watches[r].callback);
      free_record(w, r);
      try {
        callback();
      } catch (...) {
        ++heap.stats.callback_exceptions;
        report_callback_exception(std::current_exception());
      }
      ++heap.stats.callbacks_run;
    }
  }
  w.draining = false;
}

void drop_watches(HeapImpl& heap) noexcept {
  WeakState& w = heap.weak;
  // The callables are destroyed here, before the heap checks that no Strong outlives it: a
  // callback holding a Strong to some object of this heap releases it now.
  std::vector<WeakState::Watch> watches = std::move(w.watches);
  w = WeakState{};
  watches.clear();
  heap.table.set_dead_entries_pending(false);
}

// ---- registering and cancelling ------------------------------------------------------------------

namespace {

std::uint32_t add_watch(HeapImpl& heap, const Object* target, std::uint64_t owner, std::function<void()> callback) {
  WeakState& w = heap.weak;
  ObjectTable& table = heap.table;
  const std::uint32_t slot = ObjectAccess::slot(target);
  std::uint32_t r = w.free_watch;
  if (r == WeakState::kNone) {
    r = static_cast<std::uint32_t>(w.watches.size());
    w.watches.emplace_back();
  } else {
    w.free_watch = w.watches[r].next;
  }
  WeakState::Watch& watch = w.watches[r];
  watch.slot = slot;
  watch.generation = table.generation(slot);
  watch.serial = w.next_serial++;
  watch.owner = owner;
  watch.callback = std::move(callback);
  const auto [it, inserted] = w.by_slot.try_emplace(slot, r);
  watch.next = inserted ? WeakState::kNone : it->second;
  it->second = r;
  if (w.watched_bits.size() <= slot / 64) w.watched_bits.resize(slot / 64 + 1, 0);
  w.watched_bits[slot / 64] |= std::uint64_t{1} << (slot & 63);
  ++w.active_watches;
  return r;
}

/// Takes record r out of its slot's chain and frees it.
void remove_watch(HeapImpl& heap, std::uint32_t r) noexcept {
  WeakState& w = heap.weak;
  const std::uint32_t slot = w.watches[r].slot;
  if (const auto found = w.by_slot.find(slot); found != w.by_slot.end()) {
    if (found->second == r) {
      if (w.watches[r].next == WeakState::kNone) {
        w.by_slot.erase(found);
        if (slot / 64 < w.watched_bits.size()) w.watched_bits[slot / 64] &= ~(std::uint64_t{1} << (slot & 63));
      } else {
        found->second = w.watches[r].next;
      }
    } else {
      for (std::uint32_t p = found->second; p != WeakState::kNone; p = w.watches[p].next) {
        if (w.watches[p].next == r) {
          w.watches[p].next = w.watches[r].next;
          break;
        }
      }
    }
  }
  // A record already in a batch (dying or ready) is skipped there: its serial is cleared.
  std::function<void()> callback = std::move(w.watches[r].callback);
  free_record(w, r);
}

HeapImpl* live_heap(HeapTag tag) noexcept {
  HeapCore* core = heap_of(tag);
  return core ? &HeapImpl::of(ObjectTable::of(*core)) : nullptr;
}

}  // namespace

DeathWatch register_death(HeapImpl& heap, const Object* target, std::function<void()> callback) {
  heap.table.check_thread();
  if (!callback) throw std::invalid_argument("snapheap: on_death: the callback is empty");
  const std::uint32_t r = add_watch(heap, target, 0, std::move(callback));
  return DeathWatchAccess::make(heap.table.tag(), r, heap.weak.watches[r].serial);
}

bool watch_pending(HeapTag tag, std::uint32_t index, std::uint64_t serial) noexcept {
  const HeapImpl* heap = live_heap(tag);
  return heap && index < heap->weak.watches.size() && heap->weak.watches[index].serial == serial;
}

bool cancel_watch(HeapTag tag, std::uint32_t index, std::uint64_t serial) noexcept {
  HeapImpl* heap = live_heap(tag);
  if (!heap || index >= heap->weak.watches.size() || heap->weak.watches[index].serial != serial) return false;
  remove_watch(*heap, index);
  return true;
}

WatchId watch_map_value(const Object* owner, const Object* value) {
  ObjectTable& table = ObjectTable::of(owner);
  HeapImpl& heap = HeapImpl::of(table);
  SNAPHEAP_CHECK(&HeapCore::of(value) == &table, "a WeakValueMap's value is in another heap than the map");
  const std::uint32_t r = add_watch(heap, value, identity_of(table, owner), {});
  return {r, heap.weak.watches[r].serial};
}

void cancel_map_watch(const Object* owner, WatchId id) noexcept {
  ObjectTable& table = ObjectTable::of(owner);
  cancel_watch(table.tag(), id.index, id.serial);
}

void note_key_set(const Object* owner, const Object* key, const Object* value, bool added) noexcept {
  HeapCore& core = HeapCore::of(owner);
  const std::uint32_t key_slot = ObjectAccess::slot(key);
  // Either way only a marked map needs it: an unmarked one is traced later in this marking (or
  // by the minor collection, if it survives).
  if (!core.is_marked(ObjectAccess::slot(owner)) || core.is_marked(key_slot)) return;
  if (core.marking()) {
    if (added) core.ephemerons().push_back({key_slot, core.generation(key_slot), value, owner});
    return;
  }
  if (!core.generational()) return;
  MarkStack& remembered = core.remembered();
  if (remembered.empty() || remembered.back() != owner) remembered.push_back(owner);
}

bool take_dead_entries(const Object* owner, std::vector<std::uint64_t>& out) {
  ObjectTable& table = ObjectTable::of(owner);
  if (!table.dead_entries_pending()) return false;
  HeapImpl& heap = HeapImpl::of(table);
  const auto found = heap.weak.dead_entries.find(identity_of(table, owner));
  if (found == heap.weak.dead_entries.end()) return false;
  out = std::move(found->second);
  heap.weak.dead_entries.erase(found);
  table.set_dead_entries_pending(!heap.weak.dead_entries.empty());
  return true;
}

}  // namespace snapheap::detail

namespace snapheap {

DeathWatch::DeathWatch(DeathWatch&& other) noexcept
    : tag_(std::exchange(other.tag_, 0)), index_(other.index_), serial_(other.serial_) {}

DeathWatch& DeathWatch::operator=(DeathWatch&& other) noexcept {
  if (this != &other) {
    cancel();
    tag_ = std::exchange(other.tag_, 0);
    index_ = other.index_;
    serial_ = other.serial_;
  }
  return *this;
}

DeathWatch::~DeathWatch() { cancel(); }

bool DeathWatch::cancel() noexcept {
  const bool cancelled = tag_ != 0 && detail::cancel_watch(tag_, index_, serial_);
  tag_ = 0;
  return cancelled;
}

bool DeathWatch::pending() const noexcept { return tag_ != 0 && detail::watch_pending(tag_, index_, serial_); }

DeathWatch Heap::on_death_of(const Object* target, std::function<void()> callback) {
  return detail::register_death(*impl_, target, std::move(callback));
}

}  // namespace snapheap
