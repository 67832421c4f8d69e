// inspect(): a snapshot described without the types' code.
#include <catch2/catch.hpp>

#include "seed/seed_model.hpp"
#include "serialize/snapshot_types.hpp"

using namespace snapheap;
using snapheap_stest::SNode;

TEST_CASE("inspect describes a snapshot as save wrote it", "[serialize][inspect]") {
  Heap heap;
  seed::build(heap, seed::Scenario::weak_ref, 1000);
  ByteBuffer bytes;
  const SnapshotStats all = save(heap, bytes);
  const SnapshotInfo info = inspect(bytes.view());
  CHECK(info.format_version == 2);
  CHECK(info.bytes == bytes.size());
  CHECK(info.objects == all.objects);
  CHECK(info.weak_targets == 1);
  CHECK(info.weak_tombstones == 0);
  CHECK(info.unreachable == 0);
  REQUIRE(info.roots.size() == 2);
  CHECK(info.roots[0].name == "large_data");
  CHECK(info.roots[0].type == "seed::Payload");
  CHECK(info.roots[1].name == "model");
  CHECK(info.header_bytes + info.type_table_bytes + info.external_table_bytes + info.record_bytes +
            info.root_bytes + info.trailer_bytes ==
        info.bytes);
  CHECK(info.external_table_bytes == 1);  // no external roots: a count of 0
  CHECK(info.externals.empty());
  std::size_t objects = 0;
  for (const auto& t : info.types) objects += t.objects;
  CHECK(objects == info.objects);

  save(heap, bytes, {.roots = {"model"}});
  const SnapshotInfo model = inspect(bytes.view());
  CHECK(model.weak_tombstones == 1);
  CHECK(model.weak_left_out == 1);  // the payload lives: left out, not expired
  CHECK(model.weak_expired == 0);
  CHECK(model.objects == 2);
}

TEST_CASE("inspect works on types this program does not know", "[serialize][inspect]") {
  Heap heap;
  auto a = heap.make<SNode>(1);
  a->next = heap.make<SNode>(2);
  heap.set_root("root", a);
  ByteBuffer bytes;
  save(heap, bytes);
  auto renamed = snapheap_stest::to_vector(bytes);
  snapheap_stest::replace_bytes(renamed, "snapheap_stest::SNode", "unknown_xyz::Whatever");
  renamed = snapheap_stest::reseal(std::move(renamed));
  const SnapshotInfo info = inspect(std::span<const std::byte>(renamed));
  REQUIRE(info.types.size() == 1);
  CHECK(info.types[0].name == "unknown_xyz::Whatever");
  CHECK(info.types[0].objects == 2);
  CHECK(info.strong_refs == 1);
  Heap target;
  CHECK_THROWS_MATCHES(load(target, std::span<const std::byte>(renamed)), SnapshotError,
                       snapheap_stest::HasCode(SnapshotErrc::unknown_type, "unknown_xyz::Whatever"));
}

TEST_CASE("inspect counts objects no root reaches", "[serialize][inspect]") {
  snapheap_stest::RawSnapshot raw;
  raw.types = {{"snapheap_stest::SNode", 0}};
  raw.objects = 2;
  raw.runs = {{0, 2}};
  snapheap_stest::RawRecord r;
  snapheap_stest::put_varint(r.data, 0);
  r.refs = {snapheap::detail::wire::kEmptyStrongRef, snapheap::detail::wire::kEmptyWeakRef};
  raw.records = {r, r};
  raw.roots = {{"root", 0}};
  const SnapshotInfo info = inspect(std::span<const std::byte>(snapheap_stest::build(raw)));
  CHECK(info.unreachable == 1);
  CHECK(info.strong_empty == 2);
  CHECK(info.weak_empty == 2);
}
