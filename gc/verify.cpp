// Heap::verify(): a full consistency check, for tests, the stress mode and debugging a host.
// It reads only what it has checked first: an edge target is looked up among the live objects
// before anything is read through it.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "gc/collector.hpp"

namespace snapheap {

namespace {

struct EdgeCheck {
  const detail::ObjectTable* table;
  const std::vector<const Object*>* live;  // sorted
  std::uint32_t holder_slot = 0;
  std::string problem;
};

void check_edge(void* context, const Object* target, bool weak, std::uint32_t slot,
                std::uint32_t generation, const detail::ObjectTable* table) {
  auto& c = *static_cast<EdgeCheck*>(context);
  if (!c.problem.empty()) return;
  char buffer[200];
  if (!weak) {
    if (!std::binary_search(c.live->begin(), c.live->end(), target)) {
      std::snprintf(buffer, sizeof buffer,
                    "object in slot %u has a Member pointing at %p, which is not a live object of "
                    "this heap",
                    c.holder_slot, static_cast<const void*>(target));
      c.problem = buffer;
    }
    return;
  }
  if (table != c.table) return;  // a weak handle into another heap is that heap's business
  if (slot >= table->slot_limit() || generation > table->generation(slot) ||
      (slot == detail::kTombstoneSlot && generation != 0)) {
    std::snprintf(buffer, sizeof buffer,
                  "object in slot %u has a Weak with slot %u generation %u, which this heap never "
                  "issued",
                  c.holder_slot, slot, generation);
    c.problem = buffer;
  }
}

}  // namespace

VerifyResult Heap::verify() const {
  check_thread();
  VerifyResult result;
  auto fail = [&](std::string problem) {
    result.ok = false;
    result.problem = std::move(problem);
    return result;
  };
  if (std::string p = table_.check_consistency(); !p.empty()) return fail(p);

  std::vector<const Object*> live;
  live.reserve(table_.live_objects());
  for (std::uint32_t s = 1; s < table_.slot_limit(); ++s)
    if (const Object* o = table_.object_at(s)) live.push_back(o);
  std::sort(live.begin(), live.end());

  EdgeCheck check{&table_, &live, 0, {}};
  Tracer tracer = detail::TracerAccess::make();
  detail::TracerAccess::setup_visit(tracer, &check_edge, &check);
  for (std::uint32_t s = 1; s < table_.slot_limit(); ++s) {
    const Object* o = table_.object_at(s);
    if (!o) continue;
    check.holder_slot = s;
    o->trace(tracer);
    if (!check.problem.empty()) return fail(check.problem);
  }

  for (const auto& [name, handle] : roots_) {
    const Object* o = handle.get();
    if (!o || !std::binary_search(live.begin(), live.end(), o))
      return fail("root '" + name + "' does not hold a live object of this heap");
    if (table_.root_counts()[detail::ObjectAccess::slot(o)] == 0)
      return fail("root '" + name + "' holds an object whose root count is zero");
  }
  if (table_.state() != detail::TableState::kIdle)
    return fail("verify() was called while the collector runs");
  return result;
}

}  // namespace snapheap
