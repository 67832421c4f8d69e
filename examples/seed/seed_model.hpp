// The seed document's Keras model, as managed types: a layer holding a weak handle to a
// million-element payload (example 1), the strong variant (example 2), and a proxy that saves a
// recipe instead of the data (example 3). Used by examples/, the `snapheap demo` tool, the tests
// and the benchmarks.
#pragma once

#include <snapheap/snapheap.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace seed {

/// `large_data = [i for i in range(1000000)]`
struct Payload final : snapheap::Object {
  snapheap::Vector<std::int64_t> values;  // counted by the heap: 8 MB at a million elements

  Payload() = default;
  /// `[i for i in range(n)]`, built in place.
  explicit Payload(std::int64_t count);
  /// A copy of `v` (the copy counts toward this payload's heap).
  explicit Payload(const snapheap::Vector<std::int64_t>& v) : values(v) {}
  void trace(snapheap::Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned /*version*/) {
    ar & values;
  }
};

/// Example 1: `self.large_data_ref = weakref.ref(large_data)`.
struct WeakRefLayer final : snapheap::Object {
  snapheap::Weak<Payload> large_data;

  void trace(snapheap::Tracer& t) const override { t.trace(large_data); }
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & large_data;
  }
  /// `call(inputs)`: inputs + large_data if it still exists, else inputs.
  std::vector<std::int64_t> call(const std::vector<std::int64_t>& inputs) const;
};

/// Example 2: `self.large_data = large_data` (strong).
struct StrongRefLayer final : snapheap::Object {
  snapheap::Member<Payload> large_data;

  void trace(snapheap::Tracer& t) const override { t.trace(large_data); }
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & large_data;
  }
};

/// Example 3's DataProxy: saves the recipe (a generator's name and its size) and rebuilds the
/// data on load, so the snapshot stays small whatever the data's size.
struct DataProxy final : snapheap::Object {
  std::string generator = "range";
  std::int64_t count = 0;
  snapheap::Vector<std::int64_t> data;  // rebuilt from the recipe, never saved

  void trace(snapheap::Tracer&) const override {}
  template <class Archive>
  void save(Archive& ar, unsigned) const {
    ar & generator & count;
  }
  template <class Archive>
  void load(Archive& ar, unsigned) {
    ar & generator & count;
    data = generate(ar, generator, count);
  }
  BOOST_SERIALIZATION_SPLIT_MEMBER()

  /// The registered generators: "range" (0, 1, ..., n-1), the seed's generate_data().
  static snapheap::Vector<std::int64_t> generate(const std::string& generator, std::int64_t count);

 private:
  static snapheap::Vector<std::int64_t> generate(snapheap::InputArchive& ar, const std::string& generator,
                                            std::int64_t count);
};

/// Example 3's ProxyLayer.
struct ProxyLayer final : snapheap::Object {
  snapheap::Member<DataProxy> data_proxy;

  void trace(snapheap::Tracer& t) const override { t.trace(data_proxy); }
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & data_proxy;
  }
};

/// `keras.Sequential([...])`: the model holds its layers.
struct Model final : snapheap::Object {
  std::vector<snapheap::Member<snapheap::Object>> layers;

  void trace(snapheap::Tracer& t) const override { t.trace(layers); }
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & layers;
  }
};

/// `[i for i in range(n)]` (counted toward no heap: a field built from it copies it).
snapheap::Vector<std::int64_t> range_data(std::int64_t n);

/// Builds a scenario in `heap`: roots "model" (a Model with one layer) and, for the weak and
/// strong variants, "large_data" (the payload the host keeps, as the seed's global variable).
enum class Scenario { weak_ref, strong_ref, proxy };
const char* name_of(Scenario scenario);
void build(snapheap::Heap& heap, Scenario scenario, std::int64_t elements);

}  // namespace seed
