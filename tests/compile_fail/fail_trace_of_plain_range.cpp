// trace() takes handles and containers of them; a container of plain values is a static_assert
// with a sentence, not a template dump.
// expect-error: this range holds none
#include "common.hpp"

#include <vector>

struct Holder final : snapheap::Object {
  std::vector<int> values;
  void trace(snapheap::Tracer& t) const override { t.trace(values); }
};

int main() {
  snapheap::Heap heap;
  auto holder = heap.make<Holder>();
  return holder ? 0 : 1;
}
