// The seed document's three examples, saved and restored.
#include <catch2/catch.hpp>

#include "seed/seed_model.hpp"
#include "serialize/snapshot_types.hpp"

using namespace snapheap;

TEST_CASE("example 1: saving all roots records the weak handle as the payload's ID", "[serialize][seed]") {
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

TEST_CASE("example 1: saving only the model records a tombstone and leaves the payload out", "[serialize][seed]") {
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

TEST_CASE("example 2: the strong variant saves and restores the payload", "[serialize][seed]") {
  Heap heap;
  seed::build(heap, seed::Scenario::strong_ref, 100000);
  ByteBuffer bytes;
  const SnapshotStats saved = save(heap, bytes, {.roots = {"model"}});
  CHECK(saved.objects == 3);
  CHECK(bytes.size() > 800000);  // the payload travels with the model
  Heap restored;
  load(restored, bytes);
  auto model = restored.root<seed::Model>("model");
  auto layer = dynamic_handle_cast<seed::StrongRefLayer>(Strong<Object>(model->layers.at(0)));
  REQUIRE(layer);
  CHECK(layer->large_data->values == seed::range_data(100000));
}

TEST_CASE("example 3: the proxy saves a recipe and load regenerates the data", "[serialize][seed]") {
  Heap heap;
  seed::build(heap, seed::Scenario::proxy, 1000000);
  ByteBuffer bytes;
  save(heap, bytes);
  CHECK(bytes.size() < 200);
  Heap restored;
  load(restored, bytes);
  auto model = restored.root<seed::Model>("model");
  auto layer = dynamic_handle_cast<seed::ProxyLayer>(Strong<Object>(model->layers.at(0)));
  REQUIRE(layer);
  CHECK(layer->data_proxy->count == 1000000);
  CHECK(layer->data_proxy->data == seed::range_data(1000000));

  SECTION("a recipe with a hostile count is refused, not obeyed") {
    auto raw = snapheap_stest::to_vector(bytes);
    // The count is the varint after the generator name: 1000000 zigzagged is 80 89 7a. Make it
    // 81 80 01, which is -8193: a count no generator accepts.
    snapheap_stest::replace_bytes(raw, std::string("range\x80\x89\x7a"), std::string("range\x81\x80\x01"));
    Heap target;
    // The recipe's own check (seed_model.cpp) refuses it, through ar.fail(record_mismatch, ...).
    CHECK_THROWS_MATCHES(load(target, snapheap_stest::reseal(raw)), SnapshotError,
                         snapheap_stest::HasCode(SnapshotErrc::record_mismatch, "generator count -8193 out of range"));
    CHECK(target.stats().live_objects == 0);
  }
}
