// Prints the check mode a host sees through snapheap's installed headers: it must be the
// library's configured mode whatever the host's own build type (tests/package/pairs.cmake).
#include <snapheap/snapheap.hpp>

#include <cstdio>

struct Probe final : snapheap::Object {
  void trace(snapheap::Tracer&) const override {}
};

int main() {
  snapheap::Heap heap;
  auto probe = heap.make<Probe>();  // the inline make path, with or without its debug checks
  heap.collect();
  std::printf("dchecks=%d\n", SNAPHEAP_DCHECK_IS_ON);
  return probe ? 0 : 1;
}
