// The `snapheap` tool on snapshots with external roots: info lists the roots a snapshot needs and
// tells the tombstones' kinds apart; verify --provides says whether it would load.
#include <catch2/catch.hpp>

#include <snapheap/snapheap.hpp>

#include "seed/seed_model.hpp"
#include "tool_support.hpp"

using namespace tool_test;

namespace {

/// The seed's scenario saved as the model only, with the payload an external root.
fs::path external_snapshot(const TempDir& tmp, seed::Scenario scenario, const std::string& name) {
  const fs::path file = tmp / name;
  snapheap::Heap heap;
  seed::build(heap, scenario, 1000);
  snapheap::save(heap, file, {.roots = {"model"}, .external = {"large_data"}, .sync = false});
  return file;
}

}  // namespace

TEST_CASE("snapheap info lists the external roots a snapshot needs", "[tool]") {
  TempDir tmp;
  const fs::path file = external_snapshot(tmp, seed::Scenario::strong_ref, "strong.snap");
  CHECK(fs::file_size(file) < 200);  // the payload stayed out

  const ToolResult text = run_tool({"info", file.string()}, tmp);
  INFO(text);
  REQUIRE(text.exit_code == 0);
  CHECK_THAT(text.out, Catch::Matchers::Contains("format version:    2"));
  CHECK_THAT(text.out, Catch::Matchers::Contains("external refs:     1 Member, 0 Weak"));
  CHECK_THAT(text.out, Catch::Matchers::Contains("external roots:    1 (table 12 bytes)"));
  CHECK_THAT(text.out, Catch::Matchers::Contains("\n  large_data: 1 Member, 0 Weak\n"));
  CHECK_THAT(text.out, !Catch::Matchers::Contains("seed::Payload"));

  const ToolResult json = run_tool({"info", "--json", file.string()}, tmp);
  INFO(json);
  REQUIRE(json.exit_code == 0);
  CHECK(JsonChecker(json.out).valid());
  CHECK(top_level_field(json.out, "strong_external") == "1");
  CHECK(top_level_field(json.out, "weak_external") == "0");
  CHECK(top_level_field(json.out, "strong_refs") == "1");  // the model's Member to its layer
  CHECK_THAT(json.out, Catch::Matchers::Contains(R"({"name": "large_data", "strong_refs": 1, "weak_refs": 0})"));
  CHECK_THAT(json.out, Catch::Matchers::Contains(R"("external_table": 12)"));
}

TEST_CASE("snapheap info tells expired tombstones from left-out ones", "[tool]") {
  TempDir tmp;
  const fs::path file = tmp / "tombstones.snap";
  {
    snapheap::Heap heap;
    seed::build(heap, seed::Scenario::weak_ref, 10);
    auto layer = heap.make<seed::WeakRefLayer>();
    heap.root<seed::Model>("model")->layers.emplace_back(layer);
    layer->large_data = heap.make<seed::Payload>(std::int64_t{1});  // dies before the save
    heap.collect();
    snapheap::save(heap, file, {.roots = {"model"}, .sync = false});  // the payload left out
  }
  const ToolResult text = run_tool({"info", file.string()}, tmp);
  INFO(text);
  REQUIRE(text.exit_code == 0);
  CHECK_THAT(text.out, Catch::Matchers::Contains("0 to targets, 2 tombstones, 0 empty"));
  CHECK_THAT(text.out, Catch::Matchers::Contains("tombstones:        1 expired (the target had died), 1 left out"));
  const ToolResult json = run_tool({"info", "--json", file.string()}, tmp);
  REQUIRE(json.exit_code == 0);
  CHECK(top_level_field(json.out, "weak_expired") == "1");
  CHECK(top_level_field(json.out, "weak_left_out") == "1");
  CHECK(top_level_field(json.out, "weak_tombstones") == "2");
}

TEST_CASE("snapheap verify --provides says whether a snapshot would load there", "[tool]") {
  TempDir tmp;
  const fs::path strong = external_snapshot(tmp, seed::Scenario::strong_ref, "strong.snap");
  const fs::path weak = external_snapshot(tmp, seed::Scenario::weak_ref, "weak.snap");

  SECTION("without --provides: valid, and the external roots it needs") {
    const ToolResult r = run_tool({"verify", strong.string()}, tmp);
    INFO(r);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "ok: 2 objects, " + std::to_string(fs::file_size(strong)) +
                       " bytes\nexternal root large_data: 1 Member, 0 Weak\n");
  }
  SECTION("a destination that provides the root") {
    const ToolResult r = run_tool({"verify", "--provides", "other", "--provides=large_data", strong.string()}, tmp);
    INFO(r);
    CHECK(r.exit_code == 0);
    CHECK(r.err.empty());
    CHECK_THAT(r.out, Catch::Matchers::EndsWith("external root large_data: 1 Member, 0 Weak; provided\n"));
  }
  SECTION("a destination without it: a Member cannot be bound") {
    const ToolResult r = run_tool({"verify", "--provides", "other", strong.string()}, tmp);
    INFO(r);
    CHECK(r.exit_code == 1);
    CHECK(r.out.empty());
    REQUIRE(r.err_lines().size() == 1);
    CHECK(r.err_lines()[0] == strong.string() +
                                  ": would not load: the destination heap does not provide the external root "
                                  "large_data (1 Member, 0 Weak)");
  }
  SECTION("a destination with no roots at all (--provides with an empty name)") {
    CHECK(run_tool({"verify", "--provides=", strong.string()}, tmp).exit_code == 1);
  }
  SECTION("a Weak to a missing root loads expired, unless --require-weak") {
    const ToolResult r = run_tool({"verify", "--provides=", weak.string()}, tmp);
    INFO(r);
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Matchers::Contains("large_data: 0 Member, 1 Weak; not provided: its Weak references load expired"));
    const ToolResult strict = run_tool({"verify", "--require-weak", weak.string()}, tmp);
    INFO(strict);
    CHECK(strict.exit_code == 1);
    CHECK_THAT(strict.err, Catch::Matchers::Contains("does not provide the external root large_data (0 Member, 1 Weak)"));
    CHECK(run_tool({"verify", "--require-weak", "--provides", "large_data", weak.string()}, tmp).exit_code == 0);
  }
  SECTION("what verify says is what load does") {
    snapheap::ByteBuffer bytes;
    snapheap::read_snapshot_file(strong, bytes);
    snapheap::Heap without;
    CHECK_THROWS_AS(snapheap::load(without, bytes), snapheap::SnapshotError);
    snapheap::Heap with;
    with.set_root("large_data", with.make<seed::Payload>(std::int64_t{5}));
    CHECK_NOTHROW(snapheap::load(with, bytes));
  }
}
