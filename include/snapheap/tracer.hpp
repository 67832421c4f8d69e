// snapheap::Tracer: what a managed object's trace() reports its edges to.
#pragma once

#include <boost/container/vector.hpp>
#include <cstdint>
#include <type_traits>

#include "snapheap/handles.hpp"

namespace snapheap {

namespace detail {
struct WeakVisit {
  std::uint32_t slot;
  std::uint32_t generation;
};
using WorkList = boost::container::vector<const Object*>;
using WeakList = boost::container::vector<WeakVisit>;
/// Edges the snapshot writer records while numbering, so that writing needs no lookups.
struct StrongEdge {
  const Object* target;
  std::uint32_t id;
};
struct WeakEdge {
  std::uint32_t slot;        // kNoSlot: the handle points into another heap
  std::uint32_t generation;
  std::uint32_t id;          // after resolution: the target's ID, or kNoSlot for a tombstone
};
using StrongEdgeLog = boost::container::vector<StrongEdge>;
using WeakEdgeLog = boost::container::vector<WeakEdge>;
class TracerAccess;
}  // namespace detail

/// Receives the edges of a managed object. A trace() calls `tracer.trace(h)` for every Member
/// and Weak the object holds, and `tracer.trace(range)` for a container of them:
///
///     void trace(snapheap::Tracer& t) const override {
///       t.trace(next);           // Member<Node>
///       t.trace(peer);           // Weak<Node>
///       t.trace(children);       // std::vector<Member<Node>>
///     }
///
/// The collector marks through it, the snapshot writer assigns IDs through it, and heap.verify()
/// checks every edge through it; none of them recurses, so trace() must not call trace() on
/// other objects itself.
class Tracer {
 public:
  template <class T>
  void trace(const Member<T>& member) noexcept {
    if (member) visit(member.get());
  }
  template <class T>
  void trace(const Weak<T>& weak) noexcept {
    if (weak.table_) visit_weak(weak.table_, weak.slot_, weak.generation_);
  }
  template <class T>
  void trace(const Strong<T>&) noexcept {
    static_assert(detail::kAlwaysFalse<T>,
                  "a Strong handle inside a managed object would be a root that keeps its own "
                  "cycles alive: store a snapheap::Member (strong edge) or snapheap::Weak instead");
  }
  /// Any range of handles (std::vector<Member<T>>, std::array<Weak<T>, N>, ...).
  template <class Range>
    requires requires(const Range& r) { std::begin(r); std::end(r); }
  void trace(const Range& range) noexcept {
    for (const auto& handle : range) trace(handle);
  }

  Tracer(const Tracer&) = delete;
  Tracer& operator=(const Tracer&) = delete;

 private:
  friend class detail::TracerAccess;
  enum class Mode : std::uint8_t { kMark, kNumber, kVisit };
  using VisitFn = void (*)(void* context, const Object* target, bool weak, std::uint32_t slot,
                           std::uint32_t generation, const detail::ObjectTable* table);

  Tracer() = default;

  // Marking: test-and-set the target's bit and queue it the first time.
  void visit(const Object* target) noexcept {
    if (mode_ != Mode::kMark) [[unlikely]]
      return visit_other(target);
    const std::uint32_t slot = detail::ObjectAccess::slot(target);
    SNAPHEAP_DCHECK(&detail::ObjectTable::of(target) == table_,
                    "a Member points into another heap: edges must stay within one heap");
    std::uint64_t& word = bits_[slot >> 6];
    const std::uint64_t bit = std::uint64_t{1} << (slot & 63);
    if (word & bit) return;
    word |= bit;
    work_->push_back(target);
  }
  // Numbering (the snapshot writer) queues every target without reading it and logs the edge;
  // the writer numbers an object when it takes it off the queue, a few entries after prefetching
  // it, so that the cache misses of many edges overlap instead of each waiting for its own.
  void visit_other(const Object* target) noexcept {
    if (mode_ == Mode::kVisit) return visit_fn_(context_, target, false, 0, 0, nullptr);
    SNAPHEAP_DCHECK(detail::page_of(target)->table == table_,
                    "a Member points into another heap: edges must stay within one heap");
    strong_log_->push_back({target, static_cast<std::uint32_t>(work_->size())});  // queue position
    work_->push_back(target);
  }
  void visit_weak(const detail::ObjectTable* table, std::uint32_t slot,
                  std::uint32_t generation) noexcept {
    switch (mode_) {
      case Mode::kMark:
        // Weak edges whose target is not marked yet are counted at the end of marking, when
        // it is known which of them expire.
        if (weak_ && table == table_ && !((bits_[slot >> 6] >> (slot & 63)) & 1u))
          weak_->push_back({slot, generation});
        return;
      case Mode::kNumber:
        weak_log_->push_back({table == table_ ? slot : detail::kNoSlot, generation, 0});
        return;
      case Mode::kVisit:
        return visit_fn_(context_, nullptr, true, slot, generation, table);
    }
  }

  Mode mode_ = Mode::kMark;
  const detail::ObjectTable* table_ = nullptr;
  std::uint64_t* bits_ = nullptr;
  detail::WorkList* work_ = nullptr;
  detail::WeakList* weak_ = nullptr;
  detail::StrongEdgeLog* strong_log_ = nullptr;
  detail::WeakEdgeLog* weak_log_ = nullptr;
  VisitFn visit_fn_ = nullptr;
  void* context_ = nullptr;
};

namespace detail {
/// Builds tracers for the collector, the snapshot writer and the verifier.
class TracerAccess {
 public:
  static void setup_mark(Tracer& t, const ObjectTable& table, std::uint64_t* bits, WorkList& work,
                         WeakList* weak) noexcept {
    t.mode_ = Tracer::Mode::kMark;
    t.table_ = &table;
    t.bits_ = bits;
    t.work_ = &work;
    t.weak_ = weak;
  }
  static void setup_number(Tracer& t, const ObjectTable& table, WorkList& queue, StrongEdgeLog& strong,
                           WeakEdgeLog& weak) noexcept {
    t.mode_ = Tracer::Mode::kNumber;
    t.table_ = &table;
    t.work_ = &queue;
    t.strong_log_ = &strong;
    t.weak_log_ = &weak;
  }
  static void setup_visit(Tracer& t, Tracer::VisitFn fn, void* context) noexcept {
    t.mode_ = Tracer::Mode::kVisit;
    t.visit_fn_ = fn;
    t.context_ = context;
  }
  static Tracer make() noexcept { return Tracer(); }
};
}  // namespace detail

}  // namespace snapheap
