// snapheap::Tracer: what a managed object's trace() reports its edges to.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <tuple>
#include <utility>
#include <type_traits>
#include <variant>
#include <vector>

#include "snapheap/detail/heap_core.hpp"
#include "snapheap/handles.hpp"

namespace snapheap {

template <class T>
class Vector;

namespace detail {
/// Everything that walks edges except marking (the snapshot writer's numbering, heap.verify()):
/// the Tracer hands each edge to it through a virtual call. Marking, the hot path, is inline.
class EdgeVisitor {
 public:
  /// `handle` is the address of the Member (or handle) being traced.
  virtual void visit_strong(const Object* target, const void* handle) = 0;
  virtual void visit_weak(HeapTag heap, std::uint32_t slot, std::uint32_t generation, const void* handle) = 0;
  /// A container, pair, tuple, optional or variant trace() was given, by its address and size
  /// (stale bytes in its storage are its own business: the forgotten-trace check skips them).
  virtual void visit_value(const void* /*value*/, std::size_t /*bytes*/) {}
  /// An ephemeron (an Ephemeron field or a weak map's entry): its key as a weak edge, and its
  /// value, null if the key has died. `owner` is the weak map holding the entry, or null. By
  /// default: a weak edge and, while the key lives, a strong one.
  virtual void visit_ephemeron(HeapTag heap, std::uint32_t slot, std::uint32_t generation, const void* key_handle,
                               const Object* value, const void* value_handle, const Object* /*owner*/) {
    visit_weak(heap, slot, generation, key_handle);
    if (value) visit_strong(value, value_handle);
  }
  /// The object being traced holds a weak structure (an Ephemeron or a weak map): snapshots of it
  /// need the format that counts what they keep.
  virtual void visit_weak_structure() {}

 protected:
  ~EdgeVisitor() = default;
};
class TracerAccess;

/// Incremental marking's slicing of long containers (gc/incremental.cpp says how): a vector of
/// Members (std::vector or snapheap::Vector) or an array of them (std::array, a built-in array)
/// that a trace() visits, other than as an element of another container, is handed to it rather
/// than traced in one piece.
class VectorSlicer {
 public:
  /// Pushes the targets of the non-null Members in [begin, end) of the array at `data` onto `out`.
  using PushMembers = void (*)(MarkStack& out, const void* data, std::size_t begin, std::size_t end) noexcept;
  /// A vector of `size` Members whose buffer is at `data`.
  virtual void vector(const void* data, std::size_t size, PushMembers push) noexcept = 0;

 protected:
  ~VectorSlicer() = default;
};

template <class T>
struct may_hold_handles;
/// Whether a value of T can hold a handle: handles, and ranges, pairs, tuples, optionals and
/// variants of what can. A trace() of a pair or a map skips the parts that cannot.
template <class T>
inline constexpr bool may_hold_handles_v = may_hold_handles<std::remove_cv_t<T>>::value;
template <class T>
struct may_hold_handles {
  static constexpr bool value = [] {
    if constexpr (requires(const T& r) { std::begin(r); std::end(r); })
      return may_hold_handles_v<std::remove_cvref_t<decltype(*std::begin(std::declval<const T&>()))>>;
    else
      return false;
  }();
};
template <class T>
struct may_hold_handles<Member<T>> : std::true_type {};
template <class T>
struct may_hold_handles<Weak<T>> : std::true_type {};
template <class K, class V>
struct may_hold_handles<Ephemeron<K, V>> : std::true_type {};
template <class T>
struct may_hold_handles<Strong<T>> : std::true_type {};  // so that trace() refuses it
template <class A, class B>
struct may_hold_handles<std::pair<A, B>> : std::bool_constant<may_hold_handles_v<A> || may_hold_handles_v<B>> {};
template <class... Ts>
struct may_hold_handles<std::tuple<Ts...>> : std::bool_constant<(may_hold_handles_v<Ts> || ...)> {};
template <class T>
struct may_hold_handles<std::optional<T>> : std::bool_constant<may_hold_handles_v<T>> {};
template <class... Ts>
struct may_hold_handles<std::variant<Ts...>> : std::bool_constant<(may_hold_handles_v<Ts> || ...)> {};
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
    if (member) visit(member.get(), &member);
  }
  template <class T>
  void trace(const Weak<T>& weak) noexcept {
    if (const detail::HeapTag heap = detail::HandleAccess::tag(weak))
      visit_weak(heap, detail::HandleAccess::slot(weak), detail::HandleAccess::generation(weak), &weak);
  }
  /// An ephemeron: the key weakly, the value strongly while the key is alive through other paths.
  template <class K, class V>
  void trace(const Ephemeron<K, V>& pair) noexcept {
    note_value(pair);
    if (visitor_) [[unlikely]]
      visitor_->visit_weak_structure();
    visit_ephemeron(pair.key_, pair.value_.get(), &pair.value_, nullptr);
  }
  /// True while the collector marks through this tracer (false for the snapshot writer, verify()
  /// and the other walks). A structure holding only weak handles may skip them when marking.
  bool marking() const noexcept { return visitor_ == nullptr || marking_; }
  /// A vector of Members, a std::vector or a snapheap::Vector: incremental marking traces a long
  /// one in slices.
  template <class T, class A>
  void trace(const std::vector<Member<T>, A>& vector) noexcept {
    trace_vector(vector);
  }
  // (A Vector needs its own overload: for it the range overload below is an exact match, the
  // std::vector one a conversion to its base.)
  template <class T>
  void trace(const Vector<Member<T>>& vector) noexcept {
    trace_vector(vector);
  }
  /// An array of Members (a std::array or a built-in array field, the form of a long run of
  /// Member fields) is sliced the same way: its elements never leave the object.
  template <class T, std::size_t N>
  void trace(const std::array<Member<T>, N>& array) noexcept {
    trace_vector(array);
  }
  template <class T, std::size_t N>
  void trace(const Member<T> (&array)[N]) noexcept {
    note_value(array);
    trace_members(array, N);
  }
  template <class T>
  void trace(const Strong<T>&) noexcept {
    static_assert(detail::kAlwaysFalse<T>,
                  "a Strong handle inside a managed object would be a root that keeps its own "
                  "cycles alive: store a snapheap::Member (strong edge) or snapheap::Weak instead");
  }
  /// Any range of handles or of values holding them (std::vector<Member<T>>,
  /// std::array<Weak<T>, N>, std::map<std::string, Member<T>>, std::set<Weak<T>>, ...).
  template <class Range>
    requires requires(const Range& r) { std::begin(r); std::end(r); }
  void trace(const Range& range) noexcept {
    static_assert(detail::may_hold_handles_v<Range>,
                  "Tracer::trace() takes handles (Member, Weak) and containers, pairs, tuples, "
                  "optionals and variants of them; this range holds none");
    note_value(range);
    if (slicer_) [[unlikely]]
      return trace_unsliced(range);
    for (const auto& element : range) trace(element);
  }
  /// A pair (a map's entry): the parts that can hold handles.
  template <class A, class B>
  void trace(const std::pair<A, B>& pair) noexcept {
    note_value(pair);
    trace_part(pair.first);
    trace_part(pair.second);
  }
  template <class... Ts>
  void trace(const std::tuple<Ts...>& tuple) noexcept {
    note_value(tuple);
    std::apply([this](const auto&... element) { (trace_part(element), ...); }, tuple);
  }
  template <class T>
  void trace(const std::optional<T>& optional) noexcept {
    note_value(optional);
    if (optional) trace_part(*optional);
  }
  template <class... Ts>
  void trace(const std::variant<Ts...>& variant) noexcept {
    note_value(variant);
    std::visit([this](const auto& alternative) { trace_part(alternative); }, variant);
  }

  Tracer(const Tracer&) = delete;
  Tracer& operator=(const Tracer&) = delete;

 private:
  friend class detail::TracerAccess;

  template <class T>
  void note_value(const T& value) noexcept {
    if (visitor_) [[unlikely]]
      visitor_->visit_value(&value, sizeof(T));
  }
  template <class T>
  void trace_part(const T& part) noexcept {
    if constexpr (detail::may_hold_handles_v<T>) trace(part);
  }
  // The elements of a container are traced whole (a vector among them is not sliced: only its
  // container's trace could find it again); a resumed trace skips containers.
  template <class Range>
  void trace_unsliced(const Range& range) noexcept {
    if (resuming_) return;
    detail::VectorSlicer* const slicer = slicer_;
    slicer_ = nullptr;
    for (const auto& element : range) trace(element);
    slicer_ = slicer;
  }
  template <class V>
  void trace_vector(const V& vector) noexcept {
    note_value(vector);
    trace_members(vector.data(), vector.size());
  }
  template <class M>
  void trace_members(const M* members, std::size_t size) noexcept {
    if (slicer_) [[unlikely]]
      return slicer_->vector(members, size, &push_members<M>);
    for (std::size_t i = 0; i < size; ++i) trace(members[i]);
  }
  template <class M>
  static void push_members(detail::MarkStack& out, const void* data, std::size_t begin, std::size_t end) noexcept {
    const M* members = static_cast<const M*>(data);
    for (std::size_t i = begin; i < end; ++i)
      if (const auto* target = members[i].get()) out.push_back(target);
  }

  /// Marking `heap`: its mark bits, mark stack and weak census.
  /// In the checked mode (HeapCore::checks_edges) every target is checked before it is marked:
  /// `checked_` rides on the deferring branch, so the plain marking path has no test of its own.
  explicit Tracer(detail::HeapCore& heap) noexcept
      : heap_(&heap), tag_(heap.tag()), bits_(heap.mark_bits()), stack_(&heap.mark_stack()),
        census_(&heap.weak_census()), ephemerons_(&heap.ephemerons()) {
    if (heap.checks_edges()) [[unlikely]] {
      checked_ = true;
      deferred_ = stack_;  // never pushed to directly: visit() checks, then marks
    }
  }
  /// Marking `heap`, its strong edges' targets collected into `deferred` rather than shaded (the
  /// collector checks them as it shades them).
  Tracer(detail::HeapCore& heap, detail::MarkStack& deferred) noexcept : Tracer(heap) {
    deferred_ = &deferred;
    checked_ = false;
  }
  /// Handing every edge to `visitor`.
  explicit Tracer(detail::EdgeVisitor& visitor) noexcept : visitor_(&visitor) {}
  /// Deferring, with vectors of Members handed to `slicer`.
  Tracer(detail::HeapCore& heap, detail::MarkStack& deferred, detail::VectorSlicer& slicer) noexcept
      : Tracer(heap, deferred) {
    slicer_ = &slicer;
  }
  /// Marking again through `visitor`, each vector of Members to `slicer`; containers skipped
  /// while `resuming`.
  Tracer(detail::EdgeVisitor& visitor, detail::VectorSlicer& slicer, bool resuming) noexcept
      : visitor_(&visitor), slicer_(&slicer), resuming_(resuming), marking_(true) {}

  // Marking: test-and-set the target's bit and push it the first time. A deferring tracer
  // (incremental marking) only collects the targets, without touching them: the collector shades
  // them later in bounded, prefetched batches, so that one large object's trace is not one long
  // run of cache misses.
  void visit(const Object* target, const void* handle) noexcept {
    if (visitor_) [[unlikely]]
      return visitor_->visit_strong(target, handle);
    if (deferred_) [[unlikely]] {
      if (!checked_) return deferred_->push_back(target);
      detail::check_edge_target(heap_, target, detail::EdgeCheck::marking);
    }
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
  void visit_weak(detail::HeapTag heap, std::uint32_t slot, std::uint32_t generation, const void* handle) noexcept {
    if (visitor_) [[unlikely]]
      return visitor_->visit_weak(heap, slot, generation, handle);
    if (heap == tag_ && !((bits_[slot >> 6] >> (slot & 63)) & 1u)) census_->push_back({slot, generation});
  }

  template <class K>
  void visit_ephemeron(const Weak<K>& key, const Object* value, const void* value_handle, const Object* owner) noexcept {
    const detail::HeapTag tag = detail::HandleAccess::tag(key);
    if (tag == 0) return;
    const std::uint32_t slot = detail::HandleAccess::slot(key);
    const std::uint32_t generation = detail::HandleAccess::generation(key);
    if (visitor_) [[unlikely]] {
      const Object* target = detail::live_target(tag, slot, generation) ? value : nullptr;
      return visitor_->visit_ephemeron(tag, slot, generation, &key, target, value_handle, owner);
    }
    if (tag != tag_) {
      // A tombstone (a key a snapshot left out) names no heap; a key in a live other heap is a
      // mistake.
      SNAPHEAP_DCHECK(detail::heap_of(tag) == nullptr,
                      "an Ephemeron's key is in another heap: edges must stay within one heap");
      return;
    }
    if (heap_->generation(slot) != generation) {
      // The key died in an earlier collection: a map's entry still there is reported again.
      if (owner) ephemerons_->push_back({slot, generation, nullptr, owner});
      return;
    }
    if ((bits_[slot >> 6] >> (slot & 63)) & 1u) {
      if (value) visit(value, value_handle);
      return;
    }
    census_->push_back({slot, generation});
    if (value || owner) ephemerons_->push_back({slot, generation, value, owner});
  }

  const detail::HeapCore* heap_ = nullptr;
  detail::HeapTag tag_ = 0;
  std::uint64_t* bits_ = nullptr;
  detail::MarkStack* stack_ = nullptr;
  detail::WeakCensus* census_ = nullptr;
  detail::EphemeronList* ephemerons_ = nullptr;
  detail::EdgeVisitor* visitor_ = nullptr;
  detail::MarkStack* deferred_ = nullptr;
  detail::VectorSlicer* slicer_ = nullptr;
  bool resuming_ = false;
  bool marking_ = false;  // with a visitor: marking() reads true
  bool checked_ = false;  // marking in the checked mode: each target checked before it is read
};

namespace detail {
/// Builds tracers: the collector's marking one and the visitors' ones.
class TracerAccess {
 public:
  static Tracer marking(HeapCore& heap) noexcept { return Tracer(heap); }
  /// Marking whose strong edges go to `deferred` unshaded (Tracer::visit says why), and which
  /// hands vectors of Members to `slicer`.
  static Tracer slicing(HeapCore& heap, MarkStack& deferred, VectorSlicer& slicer) noexcept {
    return Tracer(heap, deferred, slicer);
  }
  /// Tracing an object again to find the vector a slice resumes: every edge goes to `ignored`,
  /// containers are skipped, and each vector of Members goes to `slicer`; marking() reads true.
  static Tracer resuming(EdgeVisitor& ignored, VectorSlicer& slicer) noexcept {
    return Tracer(ignored, slicer, /*resuming=*/true);
  }
  /// Tracing an object again after a sliced vector's buffer left it: edges to `visitor`,
  /// containers traced whole, each vector of Members to `slicer`; marking() reads true.
  static Tracer retracing(EdgeVisitor& visitor, VectorSlicer& slicer) noexcept {
    return Tracer(visitor, slicer, /*resuming=*/false);
  }
  static Tracer visiting(EdgeVisitor& visitor) noexcept { return Tracer(visitor); }
  /// A weak map's entry: an ephemeron whose owner is told when its key dies. `value` is the
  /// pointer at `value_handle` (null for none).
  template <class K>
  static void entry(Tracer& tracer, const Weak<K>& key, const Object* value, const void* value_handle,
                    const Object* owner) noexcept {
    tracer.visit_ephemeron(key, value, value_handle, owner);
  }
  /// A weak map announces itself to the walks (not to marking).
  static void weak_structure(Tracer& tracer) noexcept {
    if (tracer.visitor_) tracer.visitor_->visit_weak_structure();
  }
};

/// Shades each strong edge's target for the write barrier (EdgeVisitor's virtual call per edge:
/// this runs only while some heap needs barriers).
class BarrierVisitor final : public EdgeVisitor {
 public:
  void visit_strong(const Object* target, const void*) override { write_barrier_slow(target); }
  void visit_weak(HeapTag, std::uint32_t, std::uint32_t, const void*) override {}
};
}  // namespace detail

/// Runs the write barrier for every strong edge `value` holds (a container, a pair, an optional,
/// anything a trace() accepts), as if each had just been stored.
///
/// Every way a Member gets a value runs the barrier itself. What does not is handing a whole
/// standard container over without touching its elements: a std::vector moved or swapped into
/// another (its buffer changes hands), a std::list spliced, a std::map or std::unordered_map
/// moved, swapped, merged, or given a node by extract/insert. When that moves edges from one
/// managed object into another that already exists while an incremental cycle is marking, the
/// receiving object may already be traced: call write_barrier on what it received, or the
/// collector may free objects it still points to. An object made while marking runs needs no
/// call, whatever its constructor was handed (it is gray: a later step traces it), nor does a
/// snapheap::Vector, which runs the barrier itself when it is moved or swapped (as a Vector:
/// moving its std::vector base out into a std::vector is a std::vector handover). The debug
/// build's end-of-marking check (and HeapOptions::verify_after_collect) stops the program where
/// one was missed.
///
///     a->children = std::move(b->children);
///     snapheap::write_barrier(a->children);
///
/// Needed in incremental mode only (a generational heap's barrier already remembers every young
/// object stored since the last collection; stop-the-world marks in one piece). While no heap
/// marks incrementally, it costs one load and a branch; while one does, a call per edge.
namespace detail {
template <class T>
void write_barrier_each(const T& value) noexcept;
}  // namespace detail

template <class T>
void write_barrier(const T& value) noexcept {
  static_assert(detail::may_hold_handles_v<T> || std::is_base_of_v<Object, T>,
                "write_barrier() takes what a trace() accepts: handles and containers, pairs, "
                "tuples, optionals and variants of them");
  if (detail::g_marking_heaps.load(std::memory_order_relaxed) == 0) [[likely]]
    return;
  detail::write_barrier_each(value);
}

namespace detail {
/// write_barrier()'s work while a heap marks, out of line: the test above stays a load and a
/// branch wherever it is inlined (a snapheap::Vector's every move).
template <class T>
[[gnu::noinline]] void write_barrier_each(const T& value) noexcept {
  BarrierVisitor visitor;
  Tracer tracer = TracerAccess::visiting(visitor);
  if constexpr (std::is_base_of_v<Object, T>)
    value.trace(tracer);
  else
    tracer.trace(value);
}
}  // namespace detail

}  // namespace snapheap
