// heap.verify(): a full consistency check, for tests, the stress mode and debugging a host.
// It reads only what it has checked first: an edge target is looked up among the live objects
// before anything is read through it.
#include <algorithm>
#include <string>
#include <vector>

#include "core/messages.hpp"
#include "gc/collector.hpp"

namespace snapheap::detail {

namespace {

/// Checks every edge it is handed against the heap's live objects.
class VerifyingVisitor final : public EdgeVisitor {
 public:
  VerifyingVisitor(const ObjectTable& table, const std::vector<const Object*>& live) : table_(table), live_(live) {}

  void set_holder(std::uint32_t slot) noexcept { holder_slot_ = slot; }
  const std::string& problem() const noexcept { return problem_; }

  void visit_strong(const Object* target, const void*) override {
    if (!problem_.empty() || std::binary_search(live_.begin(), live_.end(), target)) return;
    const TypeInfo* type = type_at(ObjectAccess::type_at(table_.object_at(holder_slot_)));
    problem_ = format_message(
        "object in slot %u (a %s) has a Member pointing at %p, which is not a live object of this heap (its "
        "target was freed: a Member kept in host code across a collection is no root)",
        holder_slot_, type ? type->display_name().c_str() : "type not registered", static_cast<const void*>(target));
  }
  void visit_weak(HeapTag heap, std::uint32_t slot, std::uint32_t generation, const void*) override {
    if (!problem_.empty() || heap != table_.tag()) return;  // a weak handle into another heap is that heap's business
    if (slot < table_.slot_limit() && generation <= table_.generation(slot) &&
        (slot != kTombstoneSlot || generation == 0))
      return;
    problem_ = format_message("object in slot %u has a Weak with slot %u generation %u, which this heap never issued",
                              holder_slot_, slot, generation);
  }

 private:
  const ObjectTable& table_;
  const std::vector<const Object*>& live_;  // sorted
  std::uint32_t holder_slot_ = 0;
  std::string problem_;
};

std::string check_edges(const ObjectTable& table, const std::vector<const Object*>& live) {
  VerifyingVisitor visitor(table, live);
  Tracer tracer = TracerAccess::visiting(visitor);
  for (std::uint32_t s = 1; s < table.slot_limit() && visitor.problem().empty(); ++s) {
    if (const Object* o = table.object_at(s)) {
      visitor.set_holder(s);
      o->trace(tracer);
    }
  }
  return visitor.problem();
}

std::string check_roots(const HeapImpl& heap, const std::vector<const Object*>& live) {
  for (const auto& [name, handle] : heap.roots.map()) {
    const Object* o = handle.get();
    if (!o || !std::binary_search(live.begin(), live.end(), o))
      return "root '" + name + "' does not hold a live object of this heap";
    if (heap.table.root_counts()[ObjectAccess::slot(o)] == 0) return "root '" + name + "' holds an object whose root count is zero";
  }
  return {};
}

}  // namespace

std::vector<const Object*> live_objects(const ObjectTable& table) {
  std::vector<const Object*> live;
  live.reserve(table.live_objects());
  for (std::uint32_t s = 1; s < table.slot_limit(); ++s)
    if (const Object* o = table.object_at(s)) live.push_back(o);
  std::sort(live.begin(), live.end());
  return live;
}

VerifyResult verify(const HeapImpl& heap) {
  heap.table.check_thread();
  std::string problem = heap.table.check_consistency();
  if (problem.empty()) {
    const std::vector<const Object*> live = live_objects(heap.table);
    problem = check_edges(heap.table, live);
    if (problem.empty()) problem = check_roots(heap, live);
    if (problem.empty() && checks_traces(heap.options)) problem = check_traces(heap.table);
  }
  if (problem.empty() && heap.table.phase() != Phase::kIdle) problem = "verify() was called while the collector runs";
  VerifyResult result;
  result.ok = problem.empty();
  result.problem = std::move(problem);
  return result;
}

}  // namespace snapheap::detail
