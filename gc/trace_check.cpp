// The forgotten-trace check: a Member or Weak inside a managed object that the object's trace()
// does not visit (the commonest mistake with a precise collector: the target is freed under it),
// and a Strong or raw pointer stored inside a managed object (a root that keeps its own cycle
// alive, or a pointer that will dangle).
//
// How: every live object is traced with a visitor that records which of the object's bytes it
// was shown (each handle, and each container, pair, tuple, optional or variant handed to
// trace()); then the object's other bytes are read 8 at a time. A word that holds this heap's tag is
// the start of a Weak to this heap, and a word that holds the address of a live object of this
// heap (found in the table without reading outside its pages) is a Member, a Strong or a raw
// pointer to it: each must be a handle its trace() showed. Each word costs a compare or two and
// a search over the heap's 4 MiB chunks, so the check is linear in the heap.
// Cells are zeroed as they are freed while the check is on (ObjectTable::set_checked), so stale
// bytes in padding cannot look like handles; the object's Object header is skipped. What the
// object owns outside its cell (a std::vector's buffer) is not read.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define SNAPHEAP_HAS_MEMCHECK 1
#endif
#endif

#include "core/messages.hpp"
#include "gc/collector.hpp"

namespace snapheap::detail {

namespace {

/// Records what trace() showed inside the object being checked: each handle's bytes and each
/// container's, pair's, tuple's, optional's or variant's bytes (stale bytes left in a
/// disengaged optional are not a forgotten handle).
class CoverageRecorder final : public EdgeVisitor {
 public:
  void start(const unsigned char* begin, std::size_t size) noexcept {
    begin_ = reinterpret_cast<std::uintptr_t>(begin);
    end_ = begin_ + size;
    covered_.clear();
  }
  void visit_strong(const Object*, const void* handle) override { cover(handle, sizeof(void*)); }
  void visit_weak(HeapTag, std::uint32_t, std::uint32_t, const void* handle) override {
    cover(handle, sizeof(HeapTag));
  }
  void visit_value(const void* value, std::size_t bytes) override { cover(value, bytes); }
  bool covered(const void* address) const noexcept {
    const auto at = reinterpret_cast<std::uintptr_t>(address);
    for (const auto& [from, to] : covered_)
      if (at >= from && at < to) return true;
    return false;
  }

 private:
  // Only what lies inside the object: a vector's elements live elsewhere and are not read.
  void cover(const void* address, std::size_t bytes) {
    const auto at = reinterpret_cast<std::uintptr_t>(address);
    if (at >= begin_ && at < end_) covered_.emplace_back(at, at + bytes);
  }
  std::uintptr_t begin_ = 0, end_ = 0;
  std::vector<std::pair<std::uintptr_t, std::uintptr_t>> covered_;
};

std::string type_name(const Object* o) {
  const TypeInfo* type = type_at(ObjectAccess::type(o));
  return type ? type->display_name() : std::string("?");
}

/// The first word of `o` that looks like a handle its trace() did not show, described.
std::string check_object(const ObjectTable& table, const Object* o, std::uint32_t slot,
                         CoverageRecorder& recorder) {
  const auto* begin = static_cast<const unsigned char*>(ObjectTable::cell_of(o));
  const std::size_t size = type_at(ObjectAccess::type(o))->size;
  recorder.start(begin, size);
  Tracer tracer = TracerAccess::visiting(recorder);
  o->trace(tracer);
  const auto* header = reinterpret_cast<const unsigned char*>(o);
#if defined(SNAPHEAP_HAS_MEMCHECK)
  VALGRIND_MAKE_MEM_DEFINED_IF_ADDRESSABLE(begin, size);  // padding is read, never trusted
#endif
  for (std::size_t offset = 0; offset + sizeof(std::uintptr_t) <= size; offset += sizeof(std::uintptr_t)) {
    const unsigned char* at = begin + offset;
    if (at >= header && at < header + sizeof(Object)) continue;
    std::uintptr_t word;
    std::memcpy(&word, at, sizeof word);
    if (word == 0 || recorder.covered(at)) continue;
    const bool weak = word == table.tag();
    if (!weak && !table.is_live_object(word)) continue;
    if (weak)
      return format_message("object in slot %u (%s) holds at offset %zu a Weak that its trace() does not visit", slot,
                            type_name(o).c_str(), offset);
    return format_message(
        "object in slot %u (%s) holds at offset %zu a pointer to a live object that its trace() does not "
        "visit: a Member that trace() forgets, or a Strong or a raw pointer stored in a managed object",
        slot, type_name(o).c_str(), offset);
  }
  return {};
}

}  // namespace

std::string check_traces(const ObjectTable& table) {
  CoverageRecorder recorder;
  for (std::uint32_t s = 1; s < table.slot_limit(); ++s) {
    if (const Object* o = table.object_at(s)) {
      std::string problem = check_object(table, o, s, recorder);
      if (!problem.empty()) return problem;
    }
  }
  return {};
}

}  // namespace snapheap::detail
