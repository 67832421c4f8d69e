// Managed objects are created only by Heap::make: `new` on a managed class does not compile.
// expect-error: deleted function.*operator new[^\[]
#include "common.hpp"

int main() {
  Node* node = new Node;
  return node ? 0 : 1;
}
