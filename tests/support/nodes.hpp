// Managed types shared by the heap and collector tests, and a host-side log of destructor runs.
#pragma once

#include <snapheap/heap.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace snapheap_test {

/// Counts destructor runs per object id in host memory. While a log is installed (one at a time),
/// every Node, GraphNode and Blob destructor records its id here, so a test can check that
/// exactly the objects it expects died, each exactly once. Declare the log before the Heap so
/// that it outlives the heap's teardown.
class DestructionLog {
 public:
  explicit DestructionLog(std::size_t ids);
  ~DestructionLog();
  DestructionLog(const DestructionLog&) = delete;
  DestructionLog& operator=(const DestructionLog&) = delete;

  /// Called by destructors: no allocation, so it is safe in sweep.
  static void record(std::int64_t id) noexcept;

  std::uint32_t count(std::size_t id) const { return counts_.at(id); }
  std::size_t size() const noexcept { return counts_.size(); }
  /// Destructor runs in total (ids outside the log's range included).
  std::uint64_t total() const noexcept { return total_; }
  /// The first id whose count differs from `expected(id)`, as a message; empty if none does.
  template <class Expected>
  std::string first_mismatch(Expected&& expected) const {
    for (std::size_t id = 0; id < counts_.size(); ++id) {
      const std::uint32_t want = expected(id);
      if (counts_[id] != want)
        return "object " + std::to_string(id) + ": destructor ran " + std::to_string(counts_[id]) +
               " times, expected " + std::to_string(want);
    }
    return {};
  }

 private:
  std::vector<std::uint32_t> counts_;
  std::uint64_t total_ = 0;
};

/// A list node: one strong edge, one weak edge, an id.
struct Node final : snapheap::Object {
  std::int64_t value = 0;
  snapheap::Member<Node> next;
  snapheap::Weak<Node> peer;

  Node() = default;
  explicit Node(std::int64_t v) : value(v) {}
  ~Node() { DestructionLog::record(value); }
  void trace(snapheap::Tracer& t) const override {
    t.trace(next);
    t.trace(peer);
  }
};

/// A node of a random graph: two strong edges and one weak edge.
struct GraphNode final : snapheap::Object {
  std::int64_t value = 0;
  snapheap::Member<GraphNode> left;
  snapheap::Member<GraphNode> right;
  snapheap::Weak<GraphNode> weak;

  explicit GraphNode(std::int64_t v) : value(v) {}
  ~GraphNode() { DestructionLog::record(value); }
  void trace(snapheap::Tracer& t) const override {
    t.trace(left);
    t.trace(right);
    t.trace(weak);
  }
};

/// A base and two derived classes, for conversions and casts.
struct Animal : snapheap::Object {
  std::int64_t legs = 0;
  snapheap::Member<Animal> friend_;
  void trace(snapheap::Tracer& t) const override { t.trace(friend_); }
};
struct Dog final : Animal {
  Dog() { legs = 4; }
};
struct Bird final : Animal {
  Bird() { legs = 2; }
};

}  // namespace snapheap_test
