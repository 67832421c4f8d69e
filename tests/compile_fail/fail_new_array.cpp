// Nor does `new[]`.
// expect-error: deleted function.*operator new ?\[\]
#include "common.hpp"

int main() {
  Node* nodes = new Node[4];
  return nodes ? 0 : 1;
}
