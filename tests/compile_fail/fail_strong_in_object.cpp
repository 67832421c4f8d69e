// A Strong field traced from inside a managed object would be a root that keeps its own cycles
// alive: tracing one is a static_assert with a sentence that says what to use instead.
// expect-error: a Strong handle inside a managed object would be a root
#include "common.hpp"

struct Holder final : snapheap::Object {
  snapheap::Strong<Node> node;
  void trace(snapheap::Tracer& t) const override { t.trace(node); }
};

int main() {
  snapheap::Heap heap;
  auto holder = heap.make<Holder>();
  return holder ? 0 : 1;
}
