#include "seed/seed_model.hpp"

#include <numeric>
#include <stdexcept>

SNAPHEAP_REGISTER(seed::Payload);
SNAPHEAP_REGISTER(seed::WeakRefLayer);
SNAPHEAP_REGISTER(seed::StrongRefLayer);
SNAPHEAP_REGISTER(seed::DataProxy);
SNAPHEAP_REGISTER(seed::ProxyLayer);
SNAPHEAP_REGISTER(seed::Model);

namespace seed {

namespace {
// A recipe read from a snapshot is input like any other: a corrupt or hostile count must not
// make the load allocate without bound. 2^31 elements (16 GiB) is far past any real payload.
constexpr std::int64_t kMaxGeneratedElements = std::int64_t{1} << 31;
}  // namespace

snapheap::Vector<std::int64_t> range_data(std::int64_t n) {
  snapheap::Vector<std::int64_t> values(static_cast<std::size_t>(n));
  std::iota(values.begin(), values.end(), std::int64_t{0});
  return values;
}

Payload::Payload(std::int64_t count) : values(static_cast<std::size_t>(count)) {
  std::iota(values.begin(), values.end(), std::int64_t{0});
}

std::vector<std::int64_t> WeakRefLayer::call(const std::vector<std::int64_t>& inputs) const {
  std::vector<std::int64_t> out = inputs;
  if (snapheap::Strong<Payload> data = large_data.lock()) {
    const std::size_t n = std::min(out.size(), data->values.size());
    for (std::size_t i = 0; i < n; ++i) out[i] += data->values[i];
  }
  return out;
}

namespace {
/// Why a recipe cannot be followed, or an empty string.
std::string recipe_problem(const std::string& generator, std::int64_t count) {
  if (generator != "range") return "unknown generator '" + generator + "'";
  if (count < 0 || count > kMaxGeneratedElements) return "generator count " + std::to_string(count) + " out of range";
  return {};
}
}  // namespace

snapheap::Vector<std::int64_t> DataProxy::generate(const std::string& generator, std::int64_t count) {
  if (std::string problem = recipe_problem(generator, count); !problem.empty()) throw std::invalid_argument(problem);
  return range_data(count);
}

snapheap::Vector<std::int64_t> DataProxy::generate(snapheap::InputArchive& ar, const std::string& generator,
                                              std::int64_t count) {
  if (std::string problem = recipe_problem(generator, count); !problem.empty())
    ar.fail(snapheap::SnapshotErrc::record_mismatch, problem);
  return range_data(count);
}

const char* name_of(Scenario scenario) {
  switch (scenario) {
    case Scenario::weak_ref: return "weak-ref";
    case Scenario::strong_ref: return "strong-ref";
    case Scenario::proxy: return "proxy";
  }
  return "?";
}

namespace {
/// A layer holding the payload, which the host keeps as the root "large_data".
template <class Layer>
snapheap::Strong<Layer> make_layer(snapheap::Heap& heap, std::int64_t elements) {
  auto data = heap.make<Payload>(elements);
  heap.set_root("large_data", data);
  auto layer = heap.make<Layer>();
  layer->large_data = data;
  return layer;
}
}  // namespace

void build(snapheap::Heap& heap, Scenario scenario, std::int64_t elements) {
  auto model = heap.make<Model>();
  heap.set_root("model", model);
  switch (scenario) {
    case Scenario::weak_ref:
      model->layers.emplace_back(make_layer<WeakRefLayer>(heap, elements));
      break;
    case Scenario::strong_ref:
      model->layers.emplace_back(make_layer<StrongRefLayer>(heap, elements));
      break;
    case Scenario::proxy: {
      auto proxy = heap.make<DataProxy>();
      proxy->count = elements;
      proxy->data = DataProxy::generate(proxy->generator, elements);
      auto layer = heap.make<ProxyLayer>();
      layer->data_proxy = proxy;
      model->layers.emplace_back(layer);
      break;
    }
  }
}

}  // namespace seed
