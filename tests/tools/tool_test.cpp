// The `snapheap` command-line tool, run as a subprocess: demo, info, verify, usage and help.
#include <catch2/catch.hpp>

#include <snapheap/config.hpp>
#include <snapheap/snapheap.hpp>

#include <algorithm>
#include <random>
#include <set>

#include "tool_support.hpp"

using namespace tool_test;

namespace tool_test {

/// A type only the test binary knows, with a name that needs escaping in JSON: a quote, a
/// backslash, a control byte, a UTF-8 letter and a byte that is not UTF-8.
struct OddThing final : snapheap::Object {
  std::int64_t value = 42;
  snapheap::Weak<OddThing> self;
  void trace(snapheap::Tracer& t) const override { t.trace(self); }
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & value & self;
  }
};

}  // namespace tool_test

SNAPHEAP_REGISTER_AS(tool_test::OddThing, "tool_test.Odd\"quoted\"\\back\x01" "caf\xc3\xa9" "\xff");

namespace {

const std::vector<std::string> kSnapshotNames = {"weak-ref-all.snap",   "weak-ref-model.snap", "strong-ref-all.snap",
                                                 "strong-ref-model.snap", "proxy-all.snap",      "proxy-model.snap"};

/// Runs `snapheap demo --elements 1000 <tmp>/out` and returns the snapshot directory.
fs::path run_demo(const TempDir& tmp) {
  const fs::path dir = tmp / "out";
  const ToolResult r = run_tool({"demo", "--elements", "1000", dir.string()}, tmp);
  INFO(r);
  REQUIRE(r.exit_code == 0);
  return dir;
}

/// A copy of `file` with `edit` applied to its bytes.
template <class Edit>
fs::path edited_copy(const fs::path& file, const fs::path& copy, Edit edit) {
  std::string bytes = read_file(file);
  edit(bytes);
  write_file(copy, bytes);
  return copy;
}

/// verify failed as it should: exit 1, nothing on stdout, exactly one line on stderr naming the file.
void require_one_line_failure(const ToolResult& r, const fs::path& file) {
  INFO(r);
  CHECK(r.exit_code == 1);
  CHECK(r.out.empty());
  const auto lines = r.err_lines();
  REQUIRE(lines.size() == 1);
  CHECK_THAT(lines[0], Catch::Matchers::StartsWith(file.string() + ": "));
}

}  // namespace

// ---- demo -----------------------------------------------------------------------------------------

TEST_CASE("snapheap demo saves, restores and checks the seed's three scenarios", "[tool]") {
  TempDir tmp;
  const fs::path dir = tmp / "out";  // does not exist yet: demo creates it
  const ToolResult r = run_tool({"demo", "--elements", "1000", dir.string()}, tmp);
  INFO(r);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.empty());
  CHECK_THAT(r.out, Catch::Matchers::Contains("1000 elements"));
  CHECK_THAT(r.out, Catch::Matchers::Contains("scenario") && Catch::Matchers::Contains("tombstones") &&
                        Catch::Matchers::Contains("file bytes") && Catch::Matchers::Contains("load ms"));
  for (const char* scenario : {"\nweak-ref ", "\nstrong-ref ", "\nproxy "})
    CHECK_THAT(r.out, Catch::Matchers::Contains(scenario));
  CHECK_THAT(r.out, Catch::Matchers::Contains(" checks passed"));

  // Exactly the six snapshots: the atomic saves left no temporary files behind.
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename().string());
  CHECK(names == std::set<std::string>(kSnapshotNames.begin(), kSnapshotNames.end()));

  CHECK(fs::file_size(dir / "weak-ref-model.snap") < 200);   // a tombstone, not the payload
  CHECK(fs::file_size(dir / "weak-ref-all.snap") > 8000);    // 1000 x 8 bytes of payload
  CHECK(fs::file_size(dir / "strong-ref-model.snap") > 8000);
  CHECK(fs::file_size(dir / "proxy-all.snap") < 200);
}

TEST_CASE("snapheap demo replaces the snapshots of an earlier run", "[tool]") {
  TempDir tmp;
  const fs::path dir = run_demo(tmp);
  const ToolResult again = run_tool({"demo", "--elements=2000", dir.string()}, tmp);
  INFO(again);
  REQUIRE(again.exit_code == 0);
  CHECK(fs::file_size(dir / "weak-ref-all.snap") > 16000);
  CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 6);
}

TEST_CASE("snapheap demo exits 1 with one line when DIR cannot be created", "[tool]") {
  TempDir tmp;
  write_file(tmp / "a-file", "not a directory");
  const ToolResult r = run_tool({"demo", "--elements", "10", (tmp / "a-file" / "sub").string()}, tmp);
  INFO(r);
  CHECK(r.exit_code == 1);
  CHECK(r.err_lines().size() == 1);
}

// ---- info -----------------------------------------------------------------------------------------

TEST_CASE("snapheap info describes a snapshot as text", "[tool]") {
  TempDir tmp;
  const fs::path file = run_demo(tmp) / "weak-ref-all.snap";
  const ToolResult r = run_tool({"info", file.string()}, tmp);
  INFO(r);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Matchers::Contains("format version:    2"));
  CHECK_THAT(r.out, Catch::Matchers::Contains("bytes:             " + std::to_string(fs::file_size(file)) +
                                              " (header 16,"));
  CHECK_THAT(r.out, Catch::Matchers::Contains("seed::Payload") && Catch::Matchers::Contains("seed::WeakRefLayer"));
  CHECK_THAT(r.out, Catch::Matchers::Contains("large_data -> object ") &&
                        Catch::Matchers::Contains("model -> object "));
  CHECK_THAT(r.out, Catch::Matchers::Contains("1 to targets, 0 tombstones, 0 empty"));
  CHECK_THAT(r.out, Catch::Matchers::Contains("checksum:          0x"));
}

TEST_CASE("snapheap info --json: the model-only weak-ref snapshot holds one tombstone and no payload", "[tool]") {
  TempDir tmp;
  const fs::path file = run_demo(tmp) / "weak-ref-model.snap";
  const ToolResult r = run_tool({"info", "--json", file.string()}, tmp);
  INFO(r);
  REQUIRE(r.exit_code == 0);
  CHECK(JsonChecker(r.out).valid());
  CHECK(top_level_field(r.out, "format_version") == "2");
  CHECK(top_level_field(r.out, "byte_order") == "\"little\"");
  CHECK(top_level_field(r.out, "bytes") == std::to_string(fs::file_size(file)));
  CHECK(top_level_field(r.out, "objects") == "2");
  CHECK(top_level_field(r.out, "weak_tombstones") == "1");
  CHECK(top_level_field(r.out, "weak_targets") == "0");
  CHECK(top_level_field(r.out, "unreachable") == "0");
  CHECK_THAT(r.out, Catch::Matchers::Contains("{\"name\": \"model\", \"id\": 0, \"type\": \"seed::Model\"}"));
  CHECK_THAT(r.out, !Catch::Matchers::Contains("seed::Payload"));
  CHECK(top_level_field(r.out, "checksum").size() == 2 + 16 + 2);  // "0x" and 16 hex digits, quoted
}

TEST_CASE("snapheap info --json: the all-roots weak-ref snapshot points the weak handle at the payload", "[tool]") {
  TempDir tmp;
  const fs::path file = run_demo(tmp) / "weak-ref-all.snap";
  const ToolResult r = run_tool({"info", "--json", file.string()}, tmp);
  INFO(r);
  REQUIRE(r.exit_code == 0);
  CHECK(JsonChecker(r.out).valid());
  CHECK(top_level_field(r.out, "objects") == "3");
  CHECK(top_level_field(r.out, "weak_targets") == "1");
  CHECK(top_level_field(r.out, "weak_tombstones") == "0");
  CHECK_THAT(r.out, Catch::Matchers::Contains("\"name\": \"seed::Payload\", \"class_version\": 0, \"objects\": 1"));
}

TEST_CASE("snapheap info counts a type it does not know by name and escapes names from the file", "[tool]") {
  TempDir tmp;
  const fs::path file = tmp / "odd.snap";
  const std::string root_name = "odd \"root\"\nname\\";
  {
    snapheap::Heap heap;
    auto thing = heap.make<OddThing>();
    thing->self = thing;
    heap.set_root(root_name, thing);
    thing.reset();
    snapheap::save(heap, file);
  }
  const ToolResult json = run_tool({"info", "--json", file.string()}, tmp);
  INFO(json);
  REQUIRE(json.exit_code == 0);
  CHECK(JsonChecker(json.out).valid());
  CHECK_THAT(json.out, Catch::Matchers::Contains(R"("name": "tool_test.Odd\"quoted\"\\back\u0001café\ufffd")"));
  CHECK_THAT(json.out, Catch::Matchers::Contains(R"("name": "odd \"root\"\nname\\")"));
  CHECK(top_level_field(json.out, "weak_targets") == "1");

  const ToolResult text = run_tool({"info", file.string()}, tmp);
  INFO(text);
  REQUIRE(text.exit_code == 0);
  CHECK(text.out.find('\x01') == std::string::npos);  // control bytes from the file never reach the terminal
  CHECK_THAT(text.out, Catch::Matchers::Contains(R"("odd \"root\"\nname\\" -> object 0)"));

  const ToolResult verify = run_tool({"verify", file.string()}, tmp);
  CHECK(verify.exit_code == 0);
}

TEST_CASE("snapheap info exits 1 with one line on a damaged snapshot", "[tool]") {
  TempDir tmp;
  const fs::path file = run_demo(tmp) / "strong-ref-all.snap";
  const fs::path cut = edited_copy(file, tmp / "cut.snap", [](std::string& b) { b.resize(b.size() / 2); });
  const ToolResult r = run_tool({"info", "--json", cut.string()}, tmp);
  INFO(r);
  CHECK(r.exit_code == 1);
  CHECK(r.out.empty());
  REQUIRE(r.err_lines().size() == 1);
  CHECK_THAT(r.err, Catch::Matchers::Contains("(at byte "));
}

// ---- verify ---------------------------------------------------------------------------------------

TEST_CASE("snapheap verify accepts every snapshot the demo wrote", "[tool]") {
  TempDir tmp;
  const fs::path dir = run_demo(tmp);
  for (const std::string& name : kSnapshotNames) {
    const ToolResult r = run_tool({"verify", (dir / name).string()}, tmp);
    INFO(name << ": " << r);
    CHECK(r.exit_code == 0);
    CHECK(r.err.empty());
    CHECK_THAT(r.out, Catch::Matchers::StartsWith("ok: ") &&
                          Catch::Matchers::EndsWith(" objects, " + std::to_string(fs::file_size(dir / name)) +
                                                    " bytes\n"));
  }
}

TEST_CASE("snapheap verify rejects a truncated snapshot with one line naming the byte", "[tool]") {
  TempDir tmp;
  const fs::path file = run_demo(tmp) / "weak-ref-all.snap";
  for (const std::size_t keep : {std::size_t{4}, std::size_t{20}, std::size_t{4000}, fs::file_size(file) - 1}) {
    const fs::path cut = edited_copy(file, tmp / "cut.snap", [&](std::string& b) { b.resize(keep); });
    const ToolResult r = run_tool({"verify", cut.string()}, tmp);
    INFO("kept " << keep << " bytes");
    require_one_line_failure(r, cut);
    CHECK_THAT(r.err, Catch::Matchers::Contains("(at byte "));
  }
}

TEST_CASE("snapheap verify rejects a snapshot with a flipped byte", "[tool]") {
  TempDir tmp;
  const fs::path file = run_demo(tmp) / "weak-ref-all.snap";
  for (const std::size_t at : {std::size_t{40}, std::size_t{4000}, fs::file_size(file) - 30}) {
    const fs::path flipped = edited_copy(file, tmp / "flipped.snap", [&](std::string& b) { b[at] ^= 0x5a; });
    const ToolResult r = run_tool({"verify", flipped.string()}, tmp);
    INFO("flipped byte " << at);
    require_one_line_failure(r, flipped);
    CHECK_THAT(r.err, Catch::Matchers::Contains("(at byte "));
  }
}

TEST_CASE("snapheap verify rejects a missing file, an empty file and garbage", "[tool]") {
  TempDir tmp;
  SECTION("a file that does not exist") {
    const fs::path missing = tmp / "missing.snap";
    const ToolResult r = run_tool({"verify", missing.string()}, tmp);
    require_one_line_failure(r, missing);
    CHECK_THAT(r.err, Catch::Matchers::Contains("No such file"));
  }
  SECTION("an empty file") {
    const fs::path empty = tmp / "empty.snap";
    write_file(empty, "");
    const ToolResult r = run_tool({"verify", empty.string()}, tmp);
    require_one_line_failure(r, empty);
    CHECK_THAT(r.err, Catch::Matchers::Contains("(at byte 0)"));
  }
  SECTION("random bytes") {
    std::mt19937 random(12345);
    std::string bytes(4096, '\0');
    for (char& c : bytes) c = static_cast<char>(random() & 0xff);
    const fs::path garbage = tmp / "garbage.snap";
    write_file(garbage, bytes);
    require_one_line_failure(run_tool({"verify", garbage.string()}, tmp), garbage);
    // The same garbage behind a valid magic gets past the first check.
    write_file(garbage, "\x89SNH\r\n\x1a\n" + bytes);
    require_one_line_failure(run_tool({"verify", garbage.string()}, tmp), garbage);
  }
  SECTION("a directory") {
    require_one_line_failure(run_tool({"verify", tmp.path().string()}, tmp), tmp.path());
  }
}

TEST_CASE("snapheap verify and info read standard input when FILE is -", "[tool]") {
  TempDir tmp;
  const fs::path file = run_demo(tmp) / "weak-ref-model.snap";
  const ToolResult ok = run_tool({"verify", "-"}, tmp, file);
  INFO(ok);
  CHECK(ok.exit_code == 0);
  CHECK(ok.out == "ok: 2 objects, " + std::to_string(fs::file_size(file)) + " bytes\n");
  const ToolResult info = run_tool({"info", "--json", "-"}, tmp, file);
  CHECK(info.exit_code == 0);
  CHECK(top_level_field(info.out, "weak_tombstones") == "1");
  require_one_line_failure(run_tool({"verify", "-"}, tmp), "-");  // /dev/null: an empty snapshot
}

// ---- usage, help, version -------------------------------------------------------------------------

TEST_CASE("snapheap exits 2 with a usage line on bad arguments", "[tool]") {
  TempDir tmp;
  const std::vector<std::vector<std::string>> cases = {
      {},
      {"bogus"},
      {"--bogus"},
      {"demo"},
      {"demo", "--elements", "0", "dir"},
      {"demo", "--elements", "-5", "dir"},
      {"demo", "--elements", "abc", "dir"},
      {"demo", "--elements", "12x", "dir"},
      {"demo", "--elements", "2147483649", "dir"},
      {"demo", "--elements", "99999999999999999999999", "dir"},
      {"demo", "--elements"},
      {"demo", "--verbose", "dir"},
      {"demo", "a", "b"},
      {"info"},
      {"info", "--xml", "file"},
      {"info", "a", "b"},
      {"verify"},
      {"verify", ""},
      {"verify", "--json", "file"},
  };
  for (const auto& args : cases) {
    const ToolResult r = run_tool(args, tmp);
    std::string line = "snapheap";
    for (const auto& a : args) line += " '" + a + "'";
    INFO(line << "\n" << r);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK_THAT(r.err, Catch::Matchers::Contains("usage: snapheap"));
  }
  CHECK_FALSE(fs::exists(tmp / "dir"));
}

TEST_CASE("snapheap --help and each command's --help print usage and exit 0", "[tool]") {
  TempDir tmp;
  const std::vector<std::vector<std::string>> cases = {
      {"--help"}, {"-h"}, {"help"}, {"help", "demo"}, {"demo", "--help"}, {"info", "--help"},
      {"verify", "-h"}, {"demo", "--elements", "0", "--help"}, {"info", "--help", "extra", "args"}};
  for (const auto& args : cases) {
    const ToolResult r = run_tool(args, tmp);
    INFO(args.front() << (args.size() > 1 ? " " + args[1] : std::string()) << "\n" << r);
    CHECK(r.exit_code == 0);
    CHECK(r.err.empty());
    CHECK_THAT(r.out, Catch::Matchers::StartsWith("usage: snapheap"));
  }
}

TEST_CASE("snapheap --version prints the library's version", "[tool]") {
  TempDir tmp;
  const ToolResult r = run_tool({"--version"}, tmp);
  INFO(r);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "snapheap " + std::to_string(SNAPHEAP_VERSION_MAJOR) + "." + std::to_string(SNAPHEAP_VERSION_MINOR) +
                     "." + std::to_string(SNAPHEAP_VERSION_PATCH) + "\n");
}
