// A registered type needs a default constructor (loading makes each object before reading its
// fields): without one, registration is a static_assert that says what to add.
// expect-error: needs a default constructor, which loading uses
#include <snapheap/snapheap.hpp>

struct Sized final : snapheap::Object {
  explicit Sized(int n) : size(n) {}
  int size;
  void trace(snapheap::Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & size;
  }
};
SNAPHEAP_REGISTER(Sized);

int main() { return 0; }
