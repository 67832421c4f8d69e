// The seed document's Example 1, in C++: a layer holding a weak handle to a million-element
// payload. Where pickle raises "TypeError: cannot pickle 'weakref.ReferenceType' object",
// snapheap records the weak handle as the payload's ID (if the payload is saved too) or as a
// tombstone (if it is not).
#include <cstdio>

#include "seed/seed_model.hpp"

int main() {
  using namespace snapheap;
  Heap heap;
  seed::build(heap, seed::Scenario::weak_ref, 1000000);

  ByteBuffer all, model_only;
  save(heap, all);                                 // the payload is held by the root "large_data"
  save(heap, model_only, {.roots = {"model"}});    // only what the model reaches strongly
  std::printf("all roots:  %zu bytes\nmodel only: %zu bytes\n", all.size(), model_only.size());

  Heap a;
  load(a, all);
  auto layer = dynamic_handle_cast<seed::WeakRefLayer>(Strong<Object>(a.root<seed::Model>("model")->layers[0]));
  std::printf("restored from all roots:  weak handle %s, call([1,2,3]) = [%lld, %lld, %lld]\n",
              layer->large_data.expired() ? "expired" : "points at the restored payload",
              static_cast<long long>(layer->call({1, 2, 3})[0]), static_cast<long long>(layer->call({1, 2, 3})[1]),
              static_cast<long long>(layer->call({1, 2, 3})[2]));
  Heap b;
  load(b, model_only);
  auto lonely = dynamic_handle_cast<seed::WeakRefLayer>(Strong<Object>(b.root<seed::Model>("model")->layers[0]));
  std::printf("restored from model only: weak handle %s, call([1,2,3]) = [%lld, ...] (inputs unchanged)\n",
              lonely->large_data.expired() ? "expired (a tombstone)" : "alive?!",
              static_cast<long long>(lonely->call({1, 2, 3})[0]));
  return layer->large_data.expired() || !lonely->large_data.expired();
}
