// Must compile: the same class used correctly. If this fails, the setup (compiler, include
// paths) is broken and the failures of the other cases prove nothing.
#include "common.hpp"

int main() {
  snapheap::Heap heap;
  snapheap::Strong<Node> node = heap.make<Node>();
  node->next = heap.make<Node>();
  node->peer = node;
  return node->peer.expired() ? 1 : 0;
}
