// The collector frees managed objects: `delete` on one is an access error outside the class.
// expect-error: operator delete.*protected|protected.*operator delete
#include "common.hpp"

void destroy(Node* node) { delete node; }

int main() {
  snapheap::Heap heap;
  destroy(heap.make<Node>().get());
}
