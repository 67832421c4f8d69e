// snapheap::Tracer: what a managed object's trace() reports its edges to.
#pragma once

#include <cstdint>
#include <iterator>
#include <type_traits>

#include "snapheap/detail/heap_core.hpp"
#include "snapheap/handles.hpp"

namespace snapheap {

namespace detail {
/// Everything that walks edges except marking (the snapshot writer's numbering, heap.verify()):
/// the Tracer hands each edge to it through a virtual call. Marking, the hot path, is inline.
class EdgeVisitor {
 public:
  virtual void visit_strong(const Object* target) = 0;
  virtual void visit_weak(const HeapCore* heap, std::uint32_t slot, std::uint32_t generation) = 0;

 protected:
  ~EdgeVisitor() = default;
};
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
/// The collector marks through it, the snapshot writer numbers objects through it, and
/// heap.verify() checks every edge through it; none of them recurses, so trace() must not call
/// trace() on other objects itself.
class Tracer {
 public:
  template <class T>
  void trace(const Member<T>& member) noexcept {
    if (member) visit(member.get());
  }
  template <class T>
  void trace(const Weak<T>& weak) noexcept {
    if (const detail::HeapCore* heap = detail::HandleAccess::heap(weak))
      visit_weak(heap, detail::HandleAccess::slot(weak), detail::HandleAccess::generation(weak));
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

  /// Marking `heap`: its mark bits, mark stack and weak census.
  explicit Tracer(detail::HeapCore& heap) noexcept
      : heap_(&heap), bits_(heap.mark_bits()), stack_(&heap.mark_stack()), census_(&heap.weak_census()) {}
  /// Handing every edge to `visitor`.
  explicit Tracer(detail::EdgeVisitor& visitor) noexcept : visitor_(&visitor) {}

  // Marking: test-and-set the target's bit and push it the first time.
  void visit(const Object* target) noexcept {
    if (visitor_) [[unlikely]]
      return visitor_->visit_strong(target);
    const std::uint32_t slot = detail::ObjectAccess::slot(target);
    SNAPHEAP_DCHECK(&detail::HeapCore::of(target) == heap_,
                    "a Member points into another heap: edges must stay within one heap");
    std::uint64_t& word = bits_[slot >> 6];
    const std::uint64_t bit = std::uint64_t{1} << (slot & 63);
    if (word & bit) return;
    word |= bit;
    stack_->push_back(target);
  }
  // Weak edges whose target is not marked yet are counted at the end of marking, when it is
  // known which of them expire.
  void visit_weak(const detail::HeapCore* heap, std::uint32_t slot, std::uint32_t generation) noexcept {
    if (visitor_) [[unlikely]]
      return visitor_->visit_weak(heap, slot, generation);
    if (heap == heap_ && !((bits_[slot >> 6] >> (slot & 63)) & 1u)) census_->push_back({slot, generation});
  }

  const detail::HeapCore* heap_ = nullptr;
  std::uint64_t* bits_ = nullptr;
  detail::MarkStack* stack_ = nullptr;
  detail::WeakCensus* census_ = nullptr;
  detail::EdgeVisitor* visitor_ = nullptr;
};

namespace detail {
/// Builds tracers: the collector's marking one and the visitors' ones.
class TracerAccess {
 public:
  static Tracer marking(HeapCore& heap) noexcept { return Tracer(heap); }
  static Tracer visiting(EdgeVisitor& visitor) noexcept { return Tracer(visitor); }
};
}  // namespace detail

}  // namespace snapheap
