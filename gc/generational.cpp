// Generational mode, with sticky mark bits (as in Lua 5.4 and V8's minor GC): an object that
// survived a collection keeps its mark bit and is old; an object made since is unmarked and
// young, and make() logs its slot.
//
// A minor collection marks from the young objects' roots and from the young objects the write
// barrier remembered (every young object stored into a Member since the last collection, the
// only way an old object can come to point to a young one), traces through young objects only
// (an old target is already marked), and frees the young objects it did not reach. Its work is
// the young objects and the remembered ones, not the heap. Survivors stay marked: they are old.
// A young object stored into a Member of an object that died anyway survives one minor
// collection and dies in the next major one.
//
// A major collection clears every mark and collects the whole heap (stop the world), keeping the
// survivors marked. It runs when the old bytes have grown by major_multiplier since the last
// major one, and for Heap::collect().
//
// Three rules for a heap whose new objects do not die young (a heap being filled, a cache), where
// generational collection would otherwise mark every object twice or more, once in the minor
// collection that promotes it and again in the majors of a growing old generation:
//  - Pretenuring (V8's, per heap rather than per allocation site): a minor collection that saw
//    at least kPretenureSample young objects and found at least HeapOptions::pretenure_survival
//    of them alive makes the objects of the next kPretenureIntervals minor intervals old at
//    birth (made marked, not logged): minor collections then have nothing to mark. After them
//    one interval of kSampleBytes is young again, and its minor collection is the next sample
//    (so is the first interval after a major collection). What a
//    pretenured object leaves as garbage waits for a major collection; a major collection that
//    finds much garbage ends pretenuring at once.
//  - A major collection the trigger started that freed less than half of what the old bytes grew
//    by since the last one (Lua 5.4's test for a bad collection) makes the next one wait for
//    kBadMajorScale times the growth (old bytes x (1 + kBadMajorScale x major_multiplier), 4x by
//    default: V8's largest heap growing factor); a major that frees enough restores the normal
//    wait, and so does Heap::collect(), which is not judged (a host that collects after building
//    its data has freed nothing, and that says nothing of whether old objects die). Where old
//    objects do not die, waiting costs no memory; where they start dying, the heap grows at most
//    to that bound once before a major finds the garbage.
//  - No automatic major runs while the counted bytes are within the pages the heap held after the
//    last major collection or collect(): filling pages the heap already has does not grow it,
//    and a heap refilled after its objects died (emptied by collect() and filled again) would
//    otherwise mark its new objects in a major that finds them all alive.
#include <algorithm>
#include <chrono>
#include <iterator>
#include <vector>

#include "core/lifecycle.hpp"
#include "core/thread_stats.hpp"
#include "gc/collector.hpp"

namespace snapheap::detail {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kPretenureSample = 4096;
constexpr std::size_t kSampleBytes = std::size_t{1} << 20;
constexpr std::uint32_t kPretenureIntervals = 3;
constexpr double kBadMajorScale = 3.0;

/// After a minor collection that found `dead` of its `young` logged objects dead (the log may
/// name a slot twice: a sample, not a count).
void judge_survival(HeapImpl& heap, std::size_t young, std::size_t dead) noexcept {
  ObjectTable& table = heap.table;
  heap.sample_next = false;
  if (heap.pretenure_left > 0) {
    if (--heap.pretenure_left == 0) {
      table.set_pretenuring(false);
      heap.sample_next = true;
    }
    return;
  }
  const bool survive = young >= kPretenureSample && young > dead &&
                       static_cast<double>(young - dead) >= heap.options.pretenure_survival * static_cast<double>(young);
  if (!survive) return;
  heap.pretenure_left = kPretenureIntervals;
  table.set_pretenuring(true);
}

// The young log may name a slot twice, or a slot that is free now: a reservation given back (a
// constructor that threw) or a failed load's objects return their slots, which a later make()
// takes and logs again. Marking twice is harmless; young_deaths() takes each dead slot once.
// Rooted young objects are marked and traced in batches (RootBatch, as in mark_roots()): no trip
// through the mark stack for each of them.
void mark_young_roots(ObjectTable& table, Tracer& tracer) noexcept {
  const std::uint32_t* counts = table.root_counts();
  std::uint64_t* bits = table.mark_bits();
  MarkStack& stack = table.mark_stack();
  // The remembered objects first, while a mark still means old.
  std::vector<const Object*> retrace;
  for (const Object* o : table.remembered()) {
    const std::uint32_t s = ObjectAccess::slot(o);
    if (s >= table.slot_limit() || table.object_at(s) != o) continue;
    // A marked (old) object here is a weak map given a young key (detail::note_key_set):
    // traced again, so that the key's death reaches it.
    if (table.is_marked(s)) retrace.push_back(o);
    else table.shade(o);
  }
  // Once each: a map is remembered at every set() that follows another store (a host filling a
  // map from fresh objects), and tracing it each time would make a minor collection quadratic.
  std::sort(retrace.begin(), retrace.end());
  retrace.erase(std::unique(retrace.begin(), retrace.end()), retrace.end());
  for (const Object* o : retrace) stack.push_back(o);
  RootBatch batch(stack, tracer);
  for (const std::uint32_t s : table.young()) {
    if (counts[s] == 0) continue;
    const Object* o = table.object_at(s);
    const std::uint64_t bit = std::uint64_t{1} << (s & 63);
    if (!o || (bits[s >> 6] & bit)) continue;
    bits[s >> 6] |= bit;
    batch.add(o);
  }
}

/// The young objects marking left white, each once: a dead slot's mark bit is set while the log
/// is read (a duplicate then reads marked) and cleared again before anything dies, so that the
/// sweep's checks see it white. Linear in the log.
std::vector<std::uint32_t> young_deaths(ObjectTable& table) noexcept {
  std::vector<std::uint32_t> dead;
  std::uint64_t* bits = table.mark_bits();
  for (const std::uint32_t s : table.young()) {
    if (table.is_marked(s) || !table.object_at(s)) continue;
    bits[s >> 6] |= std::uint64_t{1} << (s & 63);
    dead.push_back(s);
  }
  for (const std::uint32_t s : dead) bits[s >> 6] &= ~(std::uint64_t{1} << (s & 63));
  return dead;
}

/// After a major collection has freed what it found dead, before the next trigger is set. A
/// major the trigger started is judged: a bad one (it freed less than half of what the old bytes
/// grew by) makes the next wait longer; a good one ends pretenuring. Heap::collect() is not
/// judged (as in Lua 5.4, whose full collections leave the bad-collection state alone): a host
/// collects when it chooses (after building its data, say), which says nothing about whether
/// old objects die, so it restores the normal wait.
void rebase_after_major(HeapImpl& heap, bool bad) noexcept {
  heap.major_scale = bad ? kBadMajorScale : 1.0;
  if (!bad) {  // old objects die (or the host collected): sample survival again before pretenuring more
    heap.pretenure_left = 0;
    heap.table.set_pretenuring(false);
  }
  heap.sample_next = heap.pretenure_left == 0;
  heap.old_bytes_at_major = heap.counted_bytes();
  heap.committed_at_major = heap.table.committed_bytes();
  heap.next_is_major = false;
}
void judge_major(HeapImpl& heap, std::size_t before) noexcept {
  const std::size_t grown = before > heap.old_bytes_at_major ? before - heap.old_bytes_at_major : 0;
  const std::size_t after = heap.counted_bytes();
  rebase_after_major(heap, /*bad=*/(before > after ? before - after : 0) < grown / 2);
}
void rebase_after_collect(HeapImpl& heap, std::size_t) noexcept { rebase_after_major(heap, /*bad=*/false); }

}  // namespace

void minor_collection(HeapImpl& heap) noexcept {
  check_traces_or_stop(heap);  // a forgotten trace() would free a young object under its holder
  ObjectTable& table = heap.table;
  const auto start = Clock::now();
  const std::uint64_t thrown_before = thread_stats().destructor_exceptions;
  table.set_collection_deferred(false);
  table.set_inline_budget(0);  // make() from a destructor must reach the slow path and its check
  table.set_phase(Phase::kMarking);
  Tracer tracer = TracerAccess::marking(table);
  mark_young_roots(table, tracer);
  drain(table.mark_stack(), tracer);
  const std::size_t expired = finish_marking(heap);
  table.set_phase(Phase::kIdle);
  const auto marked = Clock::now();

  const std::vector<std::uint32_t> dead = young_deaths(table);
  const std::size_t young = table.young().size();
  const std::size_t bytes_before = table.live_bytes();
  table.release_quarantine();
  table.set_phase(Phase::kSweeping);
  end_slots(table, dead);
  table.set_phase(Phase::kIdle);
  table.young().clear();
  table.remembered().clear();

  const auto done = Clock::now();
  HeapStats& s = heap.stats;
  s.last_weak_expired = expired;
  s.total_weak_expired += expired;
  s.last_freed_objects = dead.size();
  s.last_freed_bytes = bytes_before - table.live_bytes();
  s.total_freed_objects += dead.size();
  s.destructor_exceptions += thread_stats().destructor_exceptions - thrown_before;
  ++s.minor_collections;
  s.minor_time += done - start;
  record_pause(s, done - start);
  // Owned memory counts: payloads promoted by a minor collection and dropped since are freed
  // only by a major one.
  // A major once the old bytes have grown by the multiplier, and past the pages the heap held
  // after the last one: a heap refilled after its objects died (collect() emptied it, say) fills
  // the pages it kept before it grows, and a major meanwhile would mark what was just made.
  const double multiplier = heap.options.major_multiplier * heap.major_scale;
  const double counted = static_cast<double>(heap.counted_bytes());
  heap.next_is_major = counted > static_cast<double>(heap.old_bytes_at_major) * (1.0 + multiplier) +
                                     static_cast<double>(heap.options.min_trigger_bytes) &&
                       counted > static_cast<double>(heap.committed_at_major);
  judge_survival(heap, young, dead.size());
  end_collection(heap, marked - start, done - marked);
}

void major_collection(HeapImpl& heap, bool automatic) noexcept {
  const auto start = Clock::now();
  heap.table.clear_marks();
  heap.table.young().clear();
  heap.table.remembered().clear();
  full_collection(heap, /*keep_marks=*/true, automatic ? judge_major : rebase_after_collect);
  ++heap.stats.major_collections;
  heap.stats.major_time += Clock::now() - start;
}

std::size_t minor_trigger(const HeapImpl& heap) noexcept {
  const HeapOptions& o = heap.options;
  const double minor = static_cast<double>(heap.counted_bytes()) * o.minor_multiplier;
  const std::size_t next = std::max(o.min_trigger_bytes, static_cast<std::size_t>(minor));
  return heap.sample_next ? std::min(next, kSampleBytes) : next;
}

}  // namespace snapheap::detail
