// The graph commands of the `snapheap` tool, run as a subprocess: export, top, why, diff, dot and
// html on the demo's snapshots and on heaps built here; --help, usage errors (exit 2) and - for
// standard input for each. (memlab, v8-heapsnapshot and Chromium check the exports and the page:
// tests/tools/node.)
#include <catch2/catch.hpp>

#include <snapheap/snapheap.hpp>

#include "tool_support.hpp"
#include "tools/graphgen/random_graph.hpp"

using namespace tool_test;

namespace {

fs::path demo(const TempDir& tmp) {
  const fs::path dir = tmp / "out";
  const ToolResult r = run_tool({"demo", "--elements", "1000", dir.string()}, tmp);
  INFO(r);
  REQUIRE(r.exit_code == 0);
  return dir;
}

void require_ok(const ToolResult& r) {
  INFO(r);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.empty());
}

}  // namespace

TEST_CASE("every graph command has --help, and usage errors exit 2 with the usage line", "[tool]") {
  TempDir tmp;
  const fs::path file = demo(tmp) / "weak-ref-all.snap";
  const std::string f = file.string();
  for (const char* command : {"export", "top", "why", "diff", "dot", "html"}) {
    const ToolResult help = run_tool({command, "--help"}, tmp);
    INFO(command << ": " << help);
    CHECK(help.exit_code == 0);
    CHECK_THAT(help.out, Catch::Matchers::StartsWith(std::string("usage: snapheap ") + command));
    CHECK_THAT(help.out, Catch::Matchers::Contains("Exit status"));
    const ToolResult via_help = run_tool({"help", command}, tmp);
    CHECK(via_help.out == help.out);
    const ToolResult unknown = run_tool({command, "--no-such-option", f}, tmp);
    CHECK(unknown.exit_code == 2);
    CHECK_THAT(unknown.err, Catch::Matchers::Contains("unknown option '--no-such-option'") &&
                                Catch::Matchers::Contains(std::string("usage: snapheap ") + command));
    const ToolResult none = run_tool({command}, tmp);
    CHECK(none.exit_code == 2);
    CHECK(none.out.empty());
  }
  const std::vector<std::vector<std::string>> bad = {
      {"export", f},                                  // no format
      {"export", "--devtools", f, f},                 // two files
      {"top", "--limit", "ten", f},
      {"why", f},                                     // no query
      {"why", f, "--id", "1", "--root", "model"},     // two queries
      {"why", f, "--id", "-3"},
      {"diff", f},
      {"diff", f, f, f},
      {"diff", "-", "-"},
      {"dot", "--max-objects", "x", f},
      {"html", f},                                    // no -o
  };
  for (const auto& args : bad) {
    const ToolResult r = run_tool(args, tmp);
    INFO(args[0] << " " << (args.size() > 1 ? args[1] : "") << ": " << r);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Matchers::Contains("usage: snapheap " + args[0]));
  }
  // The top-level help lists the new commands.
  const ToolResult top_help = run_tool({"--help"}, tmp);
  for (const char* command : {"export --devtools", "top", "why", "diff", "dot", "html"})
    CHECK_THAT(top_help.out, Catch::Matchers::Contains(std::string("snapheap ") + command));
}

TEST_CASE("the graph commands read standard input for -", "[tool]") {
  TempDir tmp;
  const fs::path file = demo(tmp) / "strong-ref-model.snap";
  const fs::path out = tmp / "x";
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"export", "--devtools", "-"}, {"top", "-"}, {"why", "-", "--root", "model"}, {"dot", "-"},
           {"html", "-", "-o", "-"}, {"diff", "-", file.string()}}) {
    const ToolResult from_stdin = run_tool(args, tmp, file);
    std::vector<std::string> named = args;
    std::replace(named.begin(), named.end(), std::string("-"), file.string());
    if (args[0] == "html") named.back() = "-";
    const ToolResult from_file = run_tool(named, tmp);
    INFO(args[0] << ": " << from_stdin);
    CHECK(from_stdin.exit_code == 0);
    if (args[0] == "export" || args[0] == "dot") CHECK(from_stdin.out == from_file.out);
    CHECK(!from_stdin.out.empty());
  }
  const ToolResult bad = run_tool({"top", "-"}, tmp, "/dev/null");
  CHECK(bad.exit_code == 1);
  CHECK_THAT(bad.err, Catch::Matchers::StartsWith("snapheap top: -: "));
}

TEST_CASE("snapheap export --devtools writes V8's layout to -o OUT or standard output", "[tool]") {
  TempDir tmp;
  const fs::path file = demo(tmp) / "weak-ref-model.snap";
  const fs::path out = tmp / "model.heapsnapshot";
  require_ok(run_tool({"export", "--devtools", file.string(), "-o", out.string()}, tmp));
  const std::string text = read_file(out);
  CHECK(JsonChecker(text).valid());
  CHECK_THAT(text, Catch::Matchers::StartsWith("{\"snapshot\":{\"meta\":{\"node_fields\":[\"type\",\"name\",\"id\""));
  // Two objects, three synthetic nodes; root edges 2 + 1 root + 1 strong + 1 tombstone.
  CHECK_THAT(text, Catch::Matchers::Contains("\"node_count\":5,\"edge_count\":5,"));
  CHECK_THAT(text, Catch::Matchers::Contains("\"(tombstone)\""));
  const ToolResult to_stdout = run_tool({"export", "--devtools", file.string()}, tmp);
  CHECK(to_stdout.out == text);
  const ToolResult bad = run_tool({"export", "--devtools", (tmp / "missing.snap").string()}, tmp);
  CHECK(bad.exit_code == 1);
  const ToolResult unwritable = run_tool({"export", "--devtools", file.string(), "-o", (tmp / "no/such/dir").string()}, tmp);
  CHECK(unwritable.exit_code == 1);
}

TEST_CASE("snapheap top lists types and the largest retainers by retained bytes", "[tool]") {
  TempDir tmp;
  const fs::path dir = demo(tmp);
  const ToolResult strong = run_tool({"top", (dir / "strong-ref-model.snap").string()}, tmp);
  require_ok(strong);
  // The model retains everything through the strong layer; the payload is the largest by self bytes.
  CHECK_THAT(strong.out, Catch::Matchers::Contains("largest retainers:\n  object 0 (seed::Model)"));
  const ToolResult json = run_tool({"top", "--json", "--limit", "2", (dir / "weak-ref-all.snap").string()}, tmp);
  require_ok(json);
  CHECK(JsonChecker(json.out).valid());
  CHECK(top_level_field(json.out, "objects") == "3");
  CHECK(top_level_field(json.out, "reachable") == "3");
  CHECK_THAT(json.out, Catch::Matchers::Contains("\"largest_retainers\": [\n    {\"id\": 0, \"type\": \"seed::Payload\""));
  CHECK_THAT(json.out, Catch::Matchers::Contains("\"dominator\": null"));
  // Weak handles retain nothing: the model's retained bytes do not include the payload.
  CHECK_THAT(json.out, Catch::Matchers::Contains("{\"name\": \"seed::Model\", \"objects\": 1, \"self_bytes\": 4, \"retained_bytes\": 7}"));
}

TEST_CASE("snapheap why: the path, the dominator, weak holders, and what a tombstone means", "[tool]") {
  TempDir tmp;
  const fs::path dir = demo(tmp);
  const ToolResult strong = run_tool({"why", "--json", (dir / "strong-ref-model.snap").string(), "--type", "seed::Payload"}, tmp);
  require_ok(strong);
  CHECK(JsonChecker(strong.out).valid());
  CHECK(top_level_field(strong.out, "root") == "\"model\"");
  CHECK(top_level_field(strong.out, "dominator") == "1");
  CHECK_THAT(strong.out, Catch::Matchers::Contains(
                             "{\"id\": 0, \"type\": \"seed::Model\", \"position\": null},\n"
                             "    {\"id\": 1, \"type\": \"seed::StrongRefLayer\", \"position\": 0},\n"
                             "    {\"id\": 2, \"type\": \"seed::Payload\", \"position\": 0}"));
  const ToolResult weak = run_tool({"why", (dir / "weak-ref-all.snap").string(), "--root", "large_data"}, tmp);
  require_ok(weak);
  CHECK_THAT(weak.out, Catch::Matchers::Contains("root large_data holds object 0 (seed::Payload)"));
  CHECK_THAT(weak.out, Catch::Matchers::Contains("weak handles pointing at it (they keep nothing alive): 1\n"
                                                 "  reference [0] of object 2 (seed::WeakRefLayer)"));
  const ToolResult gone = run_tool({"why", (dir / "weak-ref-model.snap").string(), "--type", "seed::Payload"}, tmp);
  INFO(gone);
  CHECK(gone.exit_code == 1);
  CHECK_THAT(gone.out, Catch::Matchers::Contains("no object of type \"seed::Payload\"") &&
                           Catch::Matchers::Contains("tombstone") &&
                           Catch::Matchers::Contains("reference [0] of object 1 (seed::WeakRefLayer)"));
  const ToolResult gone_json = run_tool({"why", "--json", (dir / "weak-ref-model.snap").string(), "--id", "9"}, tmp);
  CHECK(gone_json.exit_code == 1);
  CHECK(JsonChecker(gone_json.out).valid());
  CHECK(top_level_field(gone_json.out, "found") == "false");
  CHECK(top_level_field(gone_json.out, "tombstones_total") == "1");
}

namespace {

using snapheap_graphgen::GNode;

fs::path save_to(snapheap::Heap& heap, const TempDir& tmp, const std::string& name) {
  const fs::path path = tmp / name;
  snapheap::save(heap, path, {.sync = false});
  return path;
}

}  // namespace

TEST_CASE("snapheap diff: objects matched by root path, known differences, exit 0 and 1", "[tool]") {
  TempDir tmp;
  snapheap::Heap heap;
  const auto outsiders = snapheap_graphgen::build(heap, {.objects = 200, .seed = 4});
  const fs::path a = save_to(heap, tmp, "a.snap");
  const ToolResult same = run_tool({"diff", a.string(), a.string()}, tmp);
  require_ok(same);
  CHECK_THAT(same.out, Catch::Matchers::Contains("no differences"));

  // A new root whose name sorts first: every object ID shifts by one, yet only one object is new.
  auto extra = heap.make<GNode>();
  extra->values.assign(10, 1);
  heap.set_root("a-first", extra);
  const fs::path b = save_to(heap, tmp, "b.snap");
  const ToolResult added = run_tool({"diff", "--json", a.string(), b.string()}, tmp);
  INFO(added);
  CHECK(added.exit_code == 1);
  CHECK(JsonChecker(added.out).valid());
  CHECK(top_level_field(added.out, "objects_added") == "1");
  CHECK(top_level_field(added.out, "objects_removed") == "0");
  CHECK(top_level_field(added.out, "objects_changed") == "0");
  CHECK(top_level_field(added.out, "roots_added") == "[\"a-first\"]");
  CHECK(top_level_field(added.out, "roots_removed") == "[]");

  // Change one object's data (root r1's): one object changed, and the root holding it.
  heap.root<GNode>("r1")->values.push_back(12345);
  const fs::path c1 = save_to(heap, tmp, "c1.snap");
  const ToolResult changed = run_tool({"diff", "--json", b.string(), c1.string()}, tmp);
  INFO(changed);
  CHECK(changed.exit_code == 1);
  CHECK(top_level_field(changed.out, "objects_changed") == "1");
  CHECK(top_level_field(changed.out, "objects_added") == "0");
  CHECK(top_level_field(changed.out, "objects_removed") == "0");
  CHECK_THAT(changed.out, Catch::Matchers::Contains("\"roots_changed\": [\n    {\"name\": \"r1\", \"type_a\": \"graphgen.Node\""));
  CHECK_THAT(changed.out, Catch::Matchers::Contains("\"grew_most\": [\n    {\"name\": \"graphgen.Node\", \"bytes_grown\": "));
  // Drop root r2 (its object stays reachable from "root").
  const auto r2 = heap.root<GNode>("r2");
  heap.remove_root("r2");
  const fs::path c = save_to(heap, tmp, "c.snap");
  const ToolResult dropped = run_tool({"diff", "--json", c1.string(), c.string()}, tmp);
  CHECK(dropped.exit_code == 1);
  CHECK(top_level_field(dropped.out, "roots_removed") == "[\"r2\"]");
  CHECK(top_level_field(dropped.out, "roots_added") == "[]");
  CHECK(top_level_field(dropped.out, "objects_a") == top_level_field(dropped.out, "objects_b"));

  // Cut the spanning tree under the root: what hung off it is removed, and the text says how much.
  heap.root<GNode>("root")->out.clear();
  const fs::path d = save_to(heap, tmp, "d.snap");
  const ToolResult removed = run_tool({"diff", c.string(), d.string()}, tmp);
  INFO(removed);
  CHECK(removed.exit_code == 1);
  CHECK_THAT(removed.out, Catch::Matchers::Contains(" removed") && Catch::Matchers::Contains("graphgen.Node: "));
  const ToolResult json = run_tool({"diff", "--json", c.string(), d.string()}, tmp);
  CHECK(top_level_field(json.out, "objects_removed") != "0");
  // (Objects still reachable through other roots now have other root paths: removed and added.)
  CHECK(std::stoul(top_level_field(json.out, "objects_b")) < std::stoul(top_level_field(json.out, "objects_a")));
  CHECK(top_level_field(json.out, "same") == "false");
  // A bad file is trouble, as for diff(1).
  write_file(tmp / "bad.snap", "not a snapshot");
  CHECK(run_tool({"diff", a.string(), (tmp / "bad.snap").string()}, tmp).exit_code == 2);
}

TEST_CASE("snapheap dot draws small graphs and refuses large ones", "[tool]") {
  TempDir tmp;
  const fs::path dir = demo(tmp);
  const ToolResult weak = run_tool({"dot", (dir / "weak-ref-all.snap").string()}, tmp);
  require_ok(weak);
  CHECK_THAT(weak.out, Catch::Matchers::StartsWith("digraph snapheap {"));
  CHECK_THAT(weak.out, Catch::Matchers::Contains("o2 -> o0 [style=dashed, label=\"[0] weak\"]"));
  const ToolResult cut = run_tool({"dot", (dir / "weak-ref-model.snap").string()}, tmp);
  CHECK_THAT(cut.out, Catch::Matchers::Contains("-> tombstone [style=dashed") &&
                          Catch::Matchers::Contains("tombstone [shape=octagon"));
  snapheap::Heap heap;
  const auto outsiders = snapheap_graphgen::build(heap, {.objects = 600, .seed = 2});
  const fs::path big = save_to(heap, tmp, "big.snap");
  const ToolResult refused = run_tool({"dot", big.string()}, tmp);
  CHECK(refused.exit_code == 1);
  CHECK(refused.out.empty());
  CHECK_THAT(refused.err, Catch::Matchers::Contains("has 600 objects; dot draws at most 500") &&
                              Catch::Matchers::Contains("--max-objects"));
  CHECK(run_tool({"dot", "--max-objects", "1000", big.string()}, tmp).exit_code == 0);
}

TEST_CASE("snapheap html writes one self-contained page", "[tool]") {
  TempDir tmp;
  const fs::path dir = demo(tmp);
  const fs::path page = tmp / "report.html";
  require_ok(run_tool({"html", (dir / "strong-ref-all.snap").string(), "-o", page.string()}, tmp));
  const std::string text = read_file(page);
  CHECK_THAT(text, Catch::Matchers::StartsWith("<!DOCTYPE html>"));
  CHECK_THAT(text, Catch::Matchers::Contains("<table id=\"types-table\">") &&
                       Catch::Matchers::Contains("<svg id=\"treemap\"") && Catch::Matchers::Contains("<rect ") &&
                       Catch::Matchers::Contains("<ol id=\"retainers\">"));
  CHECK_THAT(text, Catch::Matchers::Contains("default-src 'none'"));
  // Nothing to load: no script, no stylesheet or image from elsewhere, no address at all.
  for (const char* needle : {"<script", "<link", "<img", "http:", "https:", "src="})
    CHECK(text.find(needle) == std::string::npos);
}
