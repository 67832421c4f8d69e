// The seed document's Example 3: the proxy. DataProxy saves a recipe (generator name and size)
// through a split save/load, so the snapshot is tiny and load regenerates the million elements.
#include <cstdio>

#include "seed/seed_model.hpp"

int main() {
  using namespace snapheap;
  Heap heap;
  seed::build(heap, seed::Scenario::proxy, 1000000);
  ByteBuffer bytes;
  save(heap, bytes);
  Heap restored;
  load(restored, bytes);
  auto layer = dynamic_handle_cast<seed::ProxyLayer>(Strong<Object>(restored.root<seed::Model>("model")->layers[0]));
  const bool ok = layer->data_proxy->data == seed::range_data(1000000);
  std::printf("proxy: %zu bytes on disk, %zu elements regenerated: %s\n", bytes.size(), layer->data_proxy->data.size(),
              ok ? "equal" : "DIFFERENT");
  return ok ? 0 : 1;
}
