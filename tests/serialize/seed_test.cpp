// The seed document's three examples, saved and restored.
#include <catch2/catch.hpp>

#include "seed/seed_model.hpp"

using namespace snapheap;

TEST_CASE("example 1: saving all roots records the weak handle as the payload's ID") {
  Heap heap;
  seed::build(heap, seed::Scenario::weak_ref, 1000);
  ByteBuffer bytes;
  const SnapshotStats saved = save(heap, bytes);
  CHECK(saved.objects == 3);
  CHECK(saved.weak_targets == 1);
  CHECK(saved.weak_tombstones == 0);

  Heap restored;
  load(restored, bytes);
  auto model = restored.root<seed::Model>("model");
  REQUIRE(model);
  auto layer = dynamic_handle_cast<seed::WeakRefLayer>(Strong<Object>(model->layers.at(0)));
  REQUIRE(layer);
  auto data = restored.root<seed::Payload>("large_data");
  REQUIRE(data);
  CHECK(layer->large_data.lock() == data);
  CHECK(data->values == seed::range_data(1000));
}

TEST_CASE("example 1: saving only the model records a tombstone and leaves the payload out") {
  Heap heap;
  seed::build(heap, seed::Scenario::weak_ref, 1000000);
  ByteBuffer bytes;
  const SnapshotStats saved = save(heap, bytes, {.roots = {"model"}});
  CHECK(saved.objects == 2);
  CHECK(saved.weak_tombstones == 1);
  CHECK(bytes.size() < 200);

  Heap restored;
  load(restored, bytes);
  auto model = restored.root<seed::Model>("model");
  auto layer = dynamic_handle_cast<seed::WeakRefLayer>(Strong<Object>(model->layers.at(0)));
  REQUIRE(layer);
  CHECK(layer->large_data.expired());
  CHECK_FALSE(layer->large_data.empty());
  CHECK_FALSE(restored.has_root("large_data"));
}
