// The seed document's Example 2: the strong variant. The payload travels with the model, so the
// snapshot is as large as the payload, and the restored layer owns a copy of it.
#include <cstdio>

#include "seed/seed_model.hpp"

int main() {
  using namespace snapheap;
  Heap heap;
  seed::build(heap, seed::Scenario::strong_ref, 1000000);
  ByteBuffer bytes;
  save(heap, bytes, {.roots = {"model"}});
  Heap restored;
  load(restored, bytes);
  auto layer =
      dynamic_handle_cast<seed::StrongRefLayer>(Strong<Object>(restored.root<seed::Model>("model")->layers[0]));
  const bool ok = layer->large_data->values == seed::range_data(1000000);
  std::printf("model only, strong edge: %zu bytes, payload restored: %s\n", bytes.size(), ok ? "equal" : "DIFFERENT");
  return ok ? 0 : 1;
}
