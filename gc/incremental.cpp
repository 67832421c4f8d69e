// Incremental mode: a collection runs as a cycle of bounded steps, with the program running
// between them.
//
//   marking   the root blocks are scanned and the mark stack drained a budget at a time (traced
//             with a deferring tracer, the targets then shaded in prefetched batches). Member
//             stores shade their targets (Dijkstra's insertion barrier, detail::write_barrier),
//             new Strong handles and named roots shade their objects, and objects made during
//             the cycle are allocated marked (gray: pushed, and traced by a later unit, since a
//             constructor may be handed a container whose edges passed no barrier; a load's
//             objects are black), so a marked object never points to an unmarked one
//             and nothing the program can still reach is left white. The root blocks are scanned
//             once: a root made after its block was scanned is shaded when it is made.
//             A vector of Members longer than VectorSlices::kSlice is traced a slice per unit
//             (below, "Long vectors").
//   watches   the weak-key maps' entries whose keys died (the ephemerons still pending) and the
//             watched objects marking left white (death callbacks, weak-value maps' entries) are
//             noted in slices, then the logs of dying maps go.
//   census    the weak edges marking met to white targets are counted (statistics only).
//   sweeping  the live and mark bitmaps are swept a word at a time: each dead object's generation
//             is bumped, its destructor runs and its cell is freed. Weak handles read expired from
//             the end of marking already (HeapAnchor::sweep_pending: a handle to an unmarked
//             object reads empty before its word is swept), so invariant 2 holds though the
//             expiry is logical; the final pause walks nothing.
//   clearing  the mark bitmap is cleared a slice at a time, then the cycle ends.
//
// Every step is bounded by a time budget (HeapOptions::max_pause for the steps allocation does),
// which it aims to finish within (Budget keeps a margin), and a work budget (bytes of cells traced
// or swept), paced by allocation: a step runs each time the program has allocated kStepBytes
// more, doing step_multiplier times that much work. Work a step's time cut short is owed by the
// next steps, which then also come sooner, so a cycle keeps pace with allocation on a heap whose
// work is slow (cache misses at 10^7 objects) without any step growing.
//
// Invariant (tests/gc/model_test.cpp runs the model in this mode): at the end of every cycle,
// every object unreachable when the cycle began is dead, unless a Weak::lock() reached it during
// marking (a lock roots its target, which shades it).
#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>

#include "core/lifecycle.hpp"
#include "core/thread_stats.hpp"
#include "gc/collector.hpp"

namespace snapheap::detail {

std::string format_tri_color(const ObjectTable& table, std::uint32_t slot);

namespace {

using Clock = std::chrono::steady_clock;
using Stage = HeapImpl::Cycle::Stage;

/// Allocation volume between the steps allocation does: small enough that a step's work stays
/// small, large enough that the clock is not read for every object.
constexpr std::size_t kStepBytes = 64 * 1024;
/// The shortest interval, for steps that their time budget cuts short (incremental_advance).
constexpr std::size_t kMinStepBytes = 4 * 1024;

/// A step's allowance: a deadline and a work count (bytes). The deadline is the time budget less
/// a margin (a tenth of it, at most 200 µs) for the last unit of work, the step's bookkeeping and
/// the hiccups of a shared machine, so that a step given 1 ms returns within it: with 50 µs, 1-2%
/// of the steps of a quiet 10^7-object heap ended 40-90 µs late (1.00-1.04 ms), the process
/// interrupted inside them, while the rest ended 5-10 µs after the deadline. The clock is read at every check (a few tens of
/// nanoseconds): the stages check between units of work of at most a few microseconds (a batch
/// of traces or of shades, a block of root counts, a slice of the watched-object bitmap, a batch
/// of the weak census, a bitmap word swept or 8 of its dead objects ended where destructors run,
/// 8 KiB of bitmap cleared), far below the margin however cold the heap's cache lines are.
/// Once out of time the budget stays spent, whatever stage asks; the first check passes without
/// reading the clock, so that every step makes progress however small its budget.
class Budget {
 public:
  Budget(Clock::time_point start, std::chrono::nanoseconds time, std::size_t work) noexcept
      : deadline_(start + time - std::min<std::chrono::nanoseconds>(time / 10, kMaxMargin)), work_(work) {}
  void spend(std::size_t units) noexcept { done_ += units; }
  bool spent() noexcept {
    if (done_ >= work_ || out_of_time_) return true;
    if (!checked_) {
      checked_ = true;
      return false;
    }
    out_of_time_ = Clock::now() >= deadline_;
    return out_of_time_;
  }
  std::size_t done() const noexcept { return done_; }

 private:
  static constexpr std::chrono::nanoseconds kMaxMargin = std::chrono::microseconds(200);
  Clock::time_point deadline_;
  std::size_t work_;
  std::size_t done_ = 0;
  bool out_of_time_ = false;
  bool checked_ = false;
};

/// The phase flag handles and make() check while collector code runs, for one step's stage.
class StepPhase {
 public:
  StepPhase(ObjectTable& table, Phase phase) noexcept : table_(table) { table_.set_phase(phase); }
  ~StepPhase() { table_.set_phase(Phase::kIdle); }
  StepPhase(const StepPhase&) = delete;
  StepPhase& operator=(const StepPhase&) = delete;

 private:
  ObjectTable& table_;
};

void start_cycle(HeapImpl& heap) noexcept {
  check_traces_or_stop(heap);
  HeapImpl::Cycle& c = heap.cycle;
  c = {};
  c.stage = Stage::marking;
  c.thrown_before = thread_stats().destructor_exceptions;
  heap.table.set_collection_deferred(false);
  heap.table.set_clock(static_cast<std::uint64_t>(Clock::now().time_since_epoch().count()));
  heap.table.set_black_allocation(true);
  heap.table.set_marking(true);
}

// Debug builds and verify mode: at the end of marking no marked object points to an unmarked one,
// which is what a missing write barrier breaks.
class TriColorCheck final : public EdgeVisitor {
 public:
  explicit TriColorCheck(const ObjectTable& table) noexcept : table_(table) {}
  void visit_strong(const Object* target, const void*) override {
    if (!table_.is_marked(ObjectAccess::slot(target))) broken_ = true;
  }
  void visit_weak(HeapTag, std::uint32_t, std::uint32_t, const void*) override {}
  // An ephemeron's value must be marked only if its key is.
  void visit_ephemeron(HeapTag, std::uint32_t slot, std::uint32_t, const void*, const Object* value, const void*,
                       const Object*) override {
    if (value && table_.is_marked(slot) && !table_.is_marked(ObjectAccess::slot(value))) broken_ = true;
  }
  bool broken() const noexcept { return broken_; }

 private:
  const ObjectTable& table_;
  bool broken_ = false;
};

void check_tri_color(const ObjectTable& table) noexcept {
  TriColorCheck check(table);
  Tracer tracer = TracerAccess::visiting(check);
  for (std::uint32_t s = 1; s < table.slot_limit(); ++s) {
    const Object* o = table.object_at(s);
    if (!o || !table.is_marked(s)) continue;
    o->trace(tracer);
    if (check.broken())
      fatal(__FILE__, __LINE__, format_tri_color(table, s).c_str());
  }
}

// Marking's units of work, each far below a step's margin. Gray objects are traced with a
// deferring tracer (their edges' targets are collected, not touched), a few at a time, then the
// collected targets are shaded in batches with their headers prefetched ahead, so that the cache
// misses of a batch overlap and an object with thousands of edges (a container of Members) costs
// a few microseconds per batch rather than one long run of misses.
constexpr std::size_t kTraceBatch = 16;     // gray objects traced per unit...
constexpr std::size_t kDeferredHigh = 256;  // ... or fewer, once this many edges wait
constexpr std::size_t kShadeBatch = 64;     // deferred edges shaded per unit
constexpr std::size_t kPrefetchAhead = 16;
/// Dead objects ended per sweep unit in a heap with destructors.
constexpr unsigned kSweepObjects = 8;

}  // namespace

// Long vectors. An object's trace() is one unit of work, however many edges it has; but a vector
// of Members (a std::vector, with any allocator, or a snapheap::Vector; or an array of them, a
// std::array or a built-in one, whose buffer is part of the object and never moves) that it visits directly,
// or inside a pair, tuple, optional or variant, but not as an element of another container, and
// that is longer than a slice has only its first slice traced then. The rest waits in
// VectorSlices, as (owner, the vector's buffer, the next index); each later unit traces the
// owner again with a resuming tracer, which ignores every other edge and skips containers, finds
// the vector that holds that buffer now, and traces its next slice. The owner is marked, so it
// lives until the cycle's sweep.
//
// Why no edge is lost while the program runs between the slices. An edge in the buffer's
// untraced part either stays in the buffer (the index only grows, and elements move within it
// only through Member stores: Member has no move operations, so every move is a barriered copy),
// or leaves it through a Member store (copy, assignment, a reallocation's copies: Dijkstra's
// barrier shades the target), or is dropped (nothing to keep), or leaves with the whole buffer
// by a move or swap of the vector, which a std::vector does with no barrier (a snapheap::Vector
// runs one, but its std::vector base can be moved too). A buffer handed over that way to another
// vector of the owner is where the resumed trace finds it. If no vector of the owner holds it
// (it went into a row of a std::vector of vectors, or a map's value, or an optional holding its
// vector was reset), the owner is traced again, its containers whole and its vectors skipped:
// that finds it wherever in the owner it went. Such a retrace happens at most once per pending
// buffer, and is no longer than the owner's first trace. The vectors it skips hold no untraced
// edge but the pending ones: anything else in them was traced, or shaded when stored, and a
// pending buffer in one of them is found by its own resume. (A buffer handed to another object,
// or out to the program and back, with no barrier is the std::vector handover that
// snapheap::write_barrier documents; the end-of-marking check catches one that was not.) A
// buffer found again that is a new allocation at a freed one's address holds only targets its
// filling shaded; a slice of it is harmless.
namespace {
/// A resumed trace's edges: ignored, or (tracing an owner again) the strong ones collected.
class StrongEdges final : public EdgeVisitor {
 public:
  explicit StrongEdges(MarkStack* out) noexcept : out_(out) {}
  void visit_strong(const Object* target, const void*) override {
    if (out_) out_->push_back(target);
  }
  void visit_weak(HeapTag, std::uint32_t, std::uint32_t, const void*) override {}
  void visit_ephemeron(HeapTag, std::uint32_t, std::uint32_t, const void*, const Object*, const void*,
                       const Object*) override {}

 private:
  MarkStack* out_;
};
}  // namespace

void VectorSlices::vector(const void* data, std::size_t size, PushMembers push) noexcept {
  switch (mode_) {
    case Mode::first: {
      if (size <= slice_) return push(*out_, data, 0, size);
      // The first slice now, unless the edges waiting fill one already; the rest later.
      const std::size_t first = out_->size() < slice_ ? slice_ : 0;
      push(*out_, data, 0, first);
      pending_.push_back({owner_, data, first});
      return;
    }
    case Mode::resuming: {
      if (data != resumed_.data || found_) return;
      found_ = true;
      const std::size_t begin = std::min(resumed_.next, size);
      const std::size_t end = size - begin > slice_ ? begin + slice_ : size;
      push(*out_, data, begin, end);
      resumed_.next = end;
      more_ = end < size;
      return;
    }
    case Mode::retracing: return;
  }
}

void VectorSlices::resume_one(MarkStack& out) noexcept {
  resumed_ = pending_.back();
  pending_.pop_back();
  out_ = &out;
  found_ = false;
  more_ = false;
  mode_ = Mode::resuming;
  StrongEdges ignored(nullptr);
  Tracer resuming = TracerAccess::resuming(ignored, *this);
  resumed_.owner->trace(resuming);
  if (!found_) {
    // The buffer left the owner's vectors (see "Long vectors"): the owner's other edges.
    mode_ = Mode::retracing;
    StrongEdges collected(&out);
    Tracer retracing = TracerAccess::retracing(collected, *this);
    resumed_.owner->trace(retracing);
    ++retraced_;
  }
  mode_ = Mode::first;
  if (more_) pending_.push_back(resumed_);
}

namespace {

/// Shades the newest kShadeBatch deferred edges (or all there are); returns how many.
std::size_t shade_deferred(ObjectTable& table, MarkStack& edges) noexcept {
  const std::size_t size = edges.size();
  const std::size_t n = std::min(size, kShadeBatch);
  const Object* const* top = edges.data() + size;  // edges are taken from top[-1] down
  for (std::size_t i = 1; i <= std::min(size, kPrefetchAhead); ++i)
    __builtin_prefetch(top[-static_cast<std::ptrdiff_t>(i)]);
  for (std::size_t i = 1; i <= n; ++i) {
    if (i + kPrefetchAhead <= size) __builtin_prefetch(top[-static_cast<std::ptrdiff_t>(i + kPrefetchAhead)]);
    const Object* target = top[-static_cast<std::ptrdiff_t>(i)];
    SNAPHEAP_DCHECK(&HeapCore::of(target) == &static_cast<HeapCore&>(table),
                    "a Member points into another heap: edges must stay within one heap");
    table.shade(target);
  }
  edges.erase(edges.end() - static_cast<std::ptrdiff_t>(n), edges.end());
  return n;
}

void mark_some(HeapImpl& heap, Budget& budget) noexcept {
  ObjectTable& table = heap.table;
  StepPhase phase(table, Phase::kMarking);
  HeapImpl::Cycle& c = heap.cycle;
  MarkStack& stack = table.mark_stack();
  MarkStack& edges = heap.deferred_edges;
  VectorSlices& sliced = heap.sliced;
  Tracer tracer = TracerAccess::slicing(table, edges, sliced);
  const std::uint32_t* counts = table.root_counts();
  const std::uint64_t* live = table.live_bits();
  while (!budget.spent()) {
    if (!edges.empty()) {
      budget.spend(8 * shade_deferred(table, edges));
    } else if (!stack.empty()) {
      // A few gray objects, fewer if they hold many edges: the cells, and the edges collected
      // (their handles may live outside the cell: a vector's buffer).
      std::size_t bytes = 0;
      EphemeronIndex& index = c.ephemeron_index;
      for (std::size_t traced = 0; traced < kTraceBatch && !stack.empty() && edges.size() < kDeferredHigh; ++traced) {
        const Object* o = stack.back();
        stack.pop_back();
        sliced.tracing(o, edges);
        o->trace(tracer);
        if (index.active()) [[unlikely]]
          index.popped(table, o);
        bytes += ObjectTable::cell_bytes_of(o);
        ++c.traced;
      }
      budget.spend(bytes + 8 * edges.size());
    } else if (!sliced.empty()) {
      sliced.resume_one(edges);  // a long vector's next slice
      budget.spend(64 + 8 * edges.size());
    } else if (c.root_block < table.slot_limit()) {
      // Rooted objects join the deferred edges: shaded with their headers prefetched.
      const std::uint32_t end = std::min(c.root_block + 64, table.slot_limit());
      for (std::uint32_t s = c.root_block; s < end; ++s)
        if (counts[s] != 0 && ((live[s >> 6] >> (s & 63)) & 1u)) edges.push_back(table.object_at(s));
      c.root_block = end;
      budget.spend(64);
    } else if (ephemeron_round(heap)) {
      budget.spend(64);  // an ephemeron's key was marked (its value is gray now), or the fixpoint's index grew
    } else {
      // Roots scanned, nothing gray, ephemerons settled: what is white now is garbage.
      if (SNAPHEAP_DCHECK_IS_ON || heap.options.verify_after_collect) check_tri_color(table);
      c.had_log = maps_with_logs(heap);
      table.set_marking(false);
      table.release_quarantine();
      table.set_sweep_pending(true);
      c.stage = Stage::watches;
      return;
    }
  }
}

// The weak-key maps' entries whose keys marking left white (the pending ephemerons), 256 per
// unit; then the watched objects left white (death callbacks, weak-value maps' entries) in
// slices of the watched-object bitmap, each of at most 512 words (32,768 slots) or 64 dying
// objects; then the logs of maps that die go. Marks are final and the program's new objects are marked: what
// is noted between its steps is what one pass at the end of marking notes.
void watches_some(HeapImpl& heap, Budget& budget) noexcept {
  HeapImpl::Cycle& c = heap.cycle;
  constexpr std::size_t kEntries = 256, kWords = 512, kDying = 64;
  while (c.ephemeron_next != kPassDone) {
    if (budget.spent()) return;
    c.ephemeron_next = note_ephemeron_deaths(heap, c.ephemeron_next, kEntries, c.had_log);
    budget.spend(16 * kEntries);
  }
  while (c.watch_word != kPassDone) {
    if (budget.spent()) return;
    const std::size_t from = c.watch_word;
    c.watch_word = note_watched_deaths(heap, from, kWords, kDying);
    budget.spend(8 * kWords);
  }
  drop_dead_map_logs(heap);
  c.stage = Stage::census;
}

void census_some(HeapImpl& heap, Budget& budget) noexcept {
  ObjectTable& table = heap.table;
  HeapImpl::Cycle& c = heap.cycle;
  WeakCensus& census = table.weak_census();
  while (c.census_next < census.size()) {
    if (budget.spent()) return;
    const std::size_t end = std::min(c.census_next + 64, census.size());
    for (; c.census_next < end; ++c.census_next) {
      const WeakVisit& w = census[c.census_next];
      if (w.slot < table.slot_limit() && table.generation(w.slot) == w.generation && table.object_at(w.slot) &&
          !table.is_marked(w.slot))
        ++c.weak_expired;
    }
    budget.spend(16 * 64);
  }
  census.clear();
  heap.stats.last_weak_expired = c.weak_expired;
  heap.stats.total_weak_expired += c.weak_expired;
  c.stage = Stage::sweeping;
}

void sweep_some(HeapImpl& heap, Budget& budget) noexcept {
  ObjectTable& table = heap.table;
  StepPhase phase(table, Phase::kSweeping);
  HeapImpl::Cycle& c = heap.cycle;
  const std::size_t words = table.bit_words();
  // A unit is a word, or kSweepObjects of its dead objects where destructors run: one word of
  // objects whose destructors free large buffers would otherwise be one long unit.
  const unsigned per_unit = table.has_destructors() ? kSweepObjects : 64;
  const std::uint64_t* live = table.live_bits();
  const std::uint64_t* marks = table.mark_bits();
  while (c.sweep_word < words) {
    if (budget.spent()) return;
    const std::size_t objects_before = table.live_objects();
    const std::size_t bytes_before = table.live_bytes();
    budget.spend(64 + end_unmarked_word(table, marks, c.sweep_word, per_unit));
    c.freed_objects += objects_before - table.live_objects();
    c.freed_bytes += bytes_before - table.live_bytes();
    if ((live[c.sweep_word] & ~marks[c.sweep_word]) == 0) ++c.sweep_word;
  }
  table.set_sweep_pending(false);
  table.set_black_allocation(false);
  c.stage = Stage::clearing;
}

void clear_some(HeapImpl& heap, Budget& budget) noexcept {
  ObjectTable& table = heap.table;
  HeapImpl::Cycle& c = heap.cycle;
  constexpr std::size_t kSlice = 1024;  // words: 8 KiB of the bitmap, 65,536 slots
  const std::size_t words = table.bit_words();
  while (c.clear_word < words) {
    if (budget.spent()) return;
    const std::size_t n = std::min(kSlice, words - c.clear_word);
    std::memset(table.mark_bits() + c.clear_word, 0, n * sizeof(std::uint64_t));
    c.clear_word += n;
    budget.spend(n * 64);
  }
  HeapStats& s = heap.stats;
  s.last_freed_objects = c.freed_objects;
  s.last_freed_bytes = c.freed_bytes;
  s.total_freed_objects += c.freed_objects;
  s.destructor_exceptions += thread_stats().destructor_exceptions - c.thrown_before;
  ++s.cycles;
  c.stage = Stage::none;
  end_collection(heap, c.mark_time, c.sweep_time);
}

}  // namespace

bool incremental_running(const HeapImpl& heap) noexcept { return heap.cycle.stage != Stage::none; }

bool incremental_advance(HeapImpl& heap, std::chrono::nanoseconds time_budget, std::size_t work_budget) noexcept {
  ObjectTable& table = heap.table;
  if (!table.can_collect()) return incremental_running(heap);
  const auto start = Clock::now();
  table.set_inline_budget(0);  // make() from a destructor must reach the slow path and its check
  if (heap.cycle.stage == Stage::none) start_cycle(heap);
  HeapImpl::Cycle& c = heap.cycle;
  // A paced step (a finite work budget) also owes what earlier ones were cut short of by their
  // time budget, so that a cycle keeps pace with allocation even where a step's work takes
  // longer than its time (a large heap's cache misses).
  const bool paced = work_budget != ~std::size_t{0};
  if (paced) work_budget = work_budget + std::min(c.work_debt, ~std::size_t{0} - work_budget);
  Budget budget(start, time_budget, work_budget);
  while (c.stage != Stage::none) {
    const Stage stage = c.stage;
    const auto before = Clock::now();
    switch (stage) {
      case Stage::marking: mark_some(heap, budget); break;
      case Stage::watches: watches_some(heap, budget); break;
      case Stage::census: census_some(heap, budget); break;
      case Stage::sweeping: sweep_some(heap, budget); break;
      case Stage::clearing: clear_some(heap, budget); break;
      case Stage::none: break;
    }
    const auto spent = Clock::now() - before;
    if (stage == Stage::marking || stage == Stage::watches || stage == Stage::census) c.mark_time += spent;
    else c.sweep_time += spent;
    if (c.stage == stage) break;  // the budget ran out inside the stage
  }
  record_pause(heap.stats, Clock::now() - start);
  if (c.stage == Stage::none) return false;  // end_collection() set the next trigger
  if (paced) c.work_debt = work_budget > budget.done() ? work_budget - budget.done() : 0;
  else c.work_debt -= std::min(c.work_debt, budget.done());
  // The next step: after kStepBytes more of allocation (every allocation in stress mode), or
  // sooner when this one's time ran out before its work: after the allocation that the work it
  // did pays for at step_multiplier, so that work keeps pace with allocation however slow a unit
  // of it is (the steps stay bounded; the program runs less between them).
  c.stepped_at = table.allocated_since_collection();
  std::size_t interval = kStepBytes;
  if (paced && c.work_debt > 0 && heap.options.step_multiplier > 0) {
    const double paid = static_cast<double>(budget.done()) / heap.options.step_multiplier;
    interval = std::clamp(static_cast<std::size_t>(paid), kMinStepBytes, kStepBytes);
  }
  c.step_at = c.stepped_at + interval;
  const bool inline_path = !heap.options.stress && heap.options.max_bytes == 0;
  table.set_inline_budget(inline_path ? c.step_at : 0);
  return true;
}

void incremental_finish(HeapImpl& heap) noexcept {
  while (incremental_running(heap)) incremental_advance(heap, std::chrono::hours(24), ~std::size_t{0});
}

std::string format_tri_color(const ObjectTable& table, std::uint32_t slot) {
  const TypeInfo* type = type_at(ObjectAccess::type(table.object_at(slot)));
  return "the tri-color invariant is broken at the end of marking: a marked " +
         (type ? type->display_name() : std::string("?")) +
         " (slot " + std::to_string(slot) +
         ") points to an unmarked object; a Member was written without the write barrier";
}

}  // namespace snapheap::detail
