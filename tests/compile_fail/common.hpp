// The managed class the compile-fail cases misuse.
#pragma once

#include <snapheap/heap.hpp>

struct Node final : snapheap::Object {
  snapheap::Member<Node> next;
  snapheap::Weak<Node> peer;
  void trace(snapheap::Tracer& t) const override {
    t.trace(next);
    t.trace(peer);
  }
};
