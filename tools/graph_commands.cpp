// `snapheap export`, `top`, `why`, `diff` and `dot`: questions asked of a snapshot's graph, read
// from the file alone (snapheap::SnapshotGraph, snapheap/inspect.hpp), so they work on the
// snapshots of any program without its types' code.
#include <algorithm>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <unordered_map>

#include "graph_diff.hpp"
#include "graph_support.hpp"
#include "json.hpp"

namespace snapheap_tool {

namespace {

using snapheap::Dominators;
using snapheap::SnapshotGraph;

constexpr std::uint32_t kNone = SnapshotGraph::kNone;

std::string object_text(const SnapshotGraph& g, std::uint32_t id) {
  return "object " + std::to_string(id) + " (" + printable(g.type_name(id)) + ")";
}

// ---- export -------------------------------------------------------------------------------------

int run_export(const ParsedArgs& args) {
  if (!args.has("--devtools")) throw UsageError("choose the format: --devtools (V8's .heapsnapshot JSON)");
  const std::filesystem::path file(single_operand(args, "FILE"));
  SnapshotGraph graph;
  if (!read_graph(file, "export", graph)) return kExitFailure;
  Output out(args.value("-o", "-"));
  if (!out.stream()) {
    std::cerr << "snapheap export: cannot open " << args.value("-o", "-") << " for writing\n";
    return kExitFailure;
  }
  snapheap::export_devtools(graph, out.stream());
  return out.finish("export") ? kExitOk : kExitFailure;
}

constexpr OptionSpec kExportOptions[] = {{"--devtools", false}, {"-o", true}};
constexpr std::string_view kExportHelp =
    "Writes the snapshot as V8's .heapsnapshot JSON, which Chrome DevTools (Memory panel, Load)\n"
    "and memlab open. Objects become \"object\" nodes named after their type, with id 7 + 2 x the\n"
    "snapshot object ID and the record's bytes as self size; Member references become element\n"
    "edges (index: the reference's position in the record), weak handles weak edges; the named\n"
    "roots hang off \"(GC roots)\" by property edges named after them, and every tombstone is a\n"
    "weak edge to one \"(tombstone)\" node. FILE may be - for standard input.\n\n"
    "Options:\n"
    "  --devtools   V8's .heapsnapshot format (the only one; required)\n"
    "  -o OUT       write to OUT instead of standard output\n"
    "  -h, --help   print this help\n\n"
    "Exit status: 0 written, 1 the file is not a valid snapshot or OUT cannot be written, 2 bad arguments.\n";

// ---- top ----------------------------------------------------------------------------------------

int run_top(const ParsedArgs& args) {
  const std::filesystem::path file(single_operand(args, "FILE"));
  const auto limit = static_cast<std::size_t>(parse_count("--limit", args.value("--limit", "10"), 1'000'000));
  SnapshotGraph graph;
  if (!read_graph(file, "top", graph)) return kExitFailure;
  const Dominators dom = snapheap::dominators(graph);
  std::vector<TypeTotals> types = type_totals(graph, dom);
  std::sort(types.begin(), types.end(), [&](const TypeTotals& a, const TypeTotals& b) {
    if (a.retained_bytes != b.retained_bytes) return a.retained_bytes > b.retained_bytes;
    if (a.self_bytes != b.self_bytes) return a.self_bytes > b.self_bytes;
    return graph.types()[a.type].name < graph.types()[b.type].name;
  });
  std::uint64_t self_total = 0;
  for (const auto& t : types) self_total += t.self_bytes;
  const std::vector<std::uint32_t> largest = largest_retainers(dom, limit);
  if (args.has("--json")) {
    json::Writer w(std::cout);
    w.begin_object();
    w.key("file").value(file.string());
    w.key("objects").value(graph.objects());
    w.key("reachable").value(dom.reachable);
    w.key("self_bytes").value(self_total);
    w.key("types").begin_array();
    for (const auto& t : types) {
      w.begin_object(true);
      w.key("name").value(graph.types()[t.type].name);
      w.key("objects").value(t.objects);
      w.key("self_bytes").value(t.self_bytes);
      w.key("retained_bytes").value(t.retained_bytes);
      w.end_object();
    }
    w.end_array();
    w.key("largest_retainers").begin_array();
    for (const std::uint32_t id : largest) {
      w.begin_object(true);
      w.key("id").value(id);
      w.key("type").value(graph.type_name(id));
      w.key("self_bytes").value(graph.self_bytes(id));
      w.key("retained_bytes").value(dom.retained[id]);
      w.key("dominator");
      if (dom.idom[id] == Dominators::kRoots) w.null();
      else w.value(dom.idom[id]);
      w.end_object();
    }
    w.end_array();
    w.end_object();
    return kExitOk;
  }
  std::size_t width = 4;
  for (const auto& t : types) width = std::max(width, printable(graph.types()[t.type].name).size());
  std::cout << file.string() << ": " << grouped(graph.objects()) << " objects (" << grouped(dom.reachable)
            << " reachable from the roots), " << grouped(self_total) << " record bytes\n\n"
            << "types by retained bytes:\n  " << std::left << std::setw(static_cast<int>(width)) << "type"
            << std::right << "  " << std::setw(12) << "objects" << "  " << std::setw(16) << "self bytes" << "  "
            << std::setw(16) << "retained bytes" << '\n';
  for (const auto& t : types)
    std::cout << "  " << std::left << std::setw(static_cast<int>(width)) << printable(graph.types()[t.type].name)
              << std::right << "  " << std::setw(12) << grouped(t.objects) << "  " << std::setw(16)
              << grouped(t.self_bytes) << "  " << std::setw(16) << grouped(t.retained_bytes) << '\n';
  std::cout << "\nlargest retainers:\n";
  for (const std::uint32_t id : largest)
    std::cout << "  " << std::left << std::setw(40) << object_text(graph, id) << std::right << " retains "
              << std::setw(14) << grouped(dom.retained[id]) << " bytes (self " << grouped(graph.self_bytes(id)) << ")\n";
  if (largest.empty()) std::cout << "  (none: no root reaches an object)\n";
  std::cout << "\nRetained bytes: what would go if the object were gone (dominators over strong references\n"
               "only; weak handles retain nothing). A type's retained bytes count each object once.\n";
  return kExitOk;
}

constexpr OptionSpec kTopOptions[] = {{"--json", false}, {"--limit", true}};
constexpr std::string_view kTopHelp =
    "Types by object count, self bytes (their records' bytes) and retained bytes, and the objects\n"
    "that retain the most. Retained bytes are what would go if the object were gone: its own and\n"
    "those of every object it dominates over strong references (Lengauer-Tarjan dominators from\n"
    "the roots; weak handles retain nothing). A type's retained bytes count the retained bytes of\n"
    "its objects that no other object of the type dominates, as DevTools does for a constructor.\n"
    "FILE may be - for standard input.\n\n"
    "Options:\n"
    "  --json       print one JSON object instead of text\n"
    "  --limit N    how many of the largest retainers to list (default 10)\n"
    "  -h, --help   print this help\n\n"
    "Exit status: 0 done, 1 the file is unreadable or not a valid snapshot, 2 bad arguments.\n";

// ---- why ----------------------------------------------------------------------------------------

struct WhyQuery {
  std::string kind;  // "id", "type" or "root"
  std::string value;
};

WhyQuery why_query(const ParsedArgs& args) {
  std::vector<WhyQuery> given;
  for (const char* option : {"--id", "--type", "--root"})
    if (args.has(option)) given.push_back({std::string(option + 2), std::string(args.value(option, ""))});
  if (given.size() != 1) throw UsageError("give exactly one of --id N, --type NAME, --root NAME");
  if (given[0].value.empty()) throw UsageError("--" + given[0].kind + " needs a value");
  if (given[0].kind == "id") parse_count("--id", given[0].value, 0xffffffffu);
  return given[0];
}

/// The object a query names, or kNone with the reason in `missing`.
std::uint32_t resolve(const SnapshotGraph& graph, const WhyQuery& q, std::string& missing) {
  if (q.kind == "id") {
    const std::uint64_t id = parse_count("--id", q.value, 0xffffffffu);
    if (id < graph.objects()) return static_cast<std::uint32_t>(id);
    missing = "object " + q.value + " is not in the snapshot (its IDs are 0 to " +
              (graph.objects() ? std::to_string(graph.objects() - 1) : std::string("none: it has no objects")) + ")";
    return kNone;
  }
  if (q.kind == "root") {
    for (const auto& r : graph.roots())
      if (r.name == q.value) return r.id;
    missing = "the snapshot has no root named " + json::quote(q.value);
    return kNone;
  }
  std::uint32_t best = kNone;
  for (std::uint32_t id = 0; id < graph.objects(); ++id)
    if (graph.type_name(id) == q.value && (best == kNone || graph.self_bytes(id) > graph.self_bytes(best))) best = id;
  if (best == kNone) missing = "the snapshot has no object of type " + json::quote(q.value);
  return best;
}

constexpr std::string_view kTombstoneMeaning =
    "A weak handle whose target was not saved is stored as a tombstone: the target was not reachable "
    "from the saved roots through strong references, so it is not in the file (loading restores the "
    "handle expired). A tombstone keeps no ID or type of its target.";

int run_why(const ParsedArgs& args) {
  const std::filesystem::path file(single_operand(args, "FILE"));
  const WhyQuery query = why_query(args);
  SnapshotGraph graph;
  if (!read_graph(file, "why", graph)) return kExitFailure;
  std::string missing;
  const std::uint32_t id = resolve(graph, query, missing);
  const std::vector<snapheap::WeakHolder> cut = snapheap::tombstones(graph);
  constexpr std::size_t kMaxListed = 100;
  const bool as_json = args.has("--json");
  json::Writer w(std::cout);
  const auto holders_json = [&](const char* key, const std::vector<snapheap::WeakHolder>& list) {
    w.key(key).begin_array();
    for (std::size_t i = 0; i < list.size() && i < kMaxListed; ++i) {
      w.begin_object(true);
      w.key("id").value(list[i].holder);
      w.key("type").value(graph.type_name(list[i].holder));
      w.key("position").value(list[i].position);
      w.end_object();
    }
    w.end_array();
    w.key(std::string(key) + "_total").value(list.size());
  };
  if (as_json) {
    w.begin_object();
    w.key("file").value(file.string());
    w.key("query").begin_object(true);
    w.key(query.kind).value(query.value);
    w.end_object();
    w.key("found").value(id != kNone);
  }
  if (id == kNone) {
    if (as_json) {
      w.key("explanation").value(missing + ". " + std::string(kTombstoneMeaning));
      holders_json("tombstones", cut);
      w.end_object();
    } else {
      std::cout << file.string() << ": " << missing << ".\n";
      if (!cut.empty()) {
        std::cout << "\nIf it was the target of a weak handle, it was left out: " << kTombstoneMeaning << "\n\n"
                  << "tombstones in this snapshot (" << cut.size() << "):\n";
        for (std::size_t i = 0; i < cut.size() && i < kMaxListed; ++i)
          std::cout << "  reference [" << cut[i].position << "] of " << object_text(graph, cut[i].holder) << '\n';
      } else {
        std::cout << "The snapshot has no tombstones: no weak handle in it lost its target.\n";
      }
    }
    return kExitFailure;
  }
  const Dominators dom = snapheap::dominators(graph);
  const snapheap::RetainerPath path = snapheap::shortest_path(graph, id);
  const std::vector<snapheap::WeakHolder> weak = snapheap::weak_holders(graph, id);
  if (as_json) {
    w.key("id").value(id);
    w.key("type").value(graph.type_name(id));
    w.key("self_bytes").value(graph.self_bytes(id));
    w.key("reachable").value(!path.steps.empty());
    w.key("retained_bytes").value(dom.retained[id]);
    w.key("dominator");
    if (dom.idom[id] == Dominators::kRoots || dom.idom[id] == kNone) w.null();
    else w.value(dom.idom[id]);
    w.key("root");
    if (path.steps.empty()) w.null();
    else w.value(path.root);
    w.key("path").begin_array();
    for (const auto& step : path.steps) {
      w.begin_object(true);
      w.key("id").value(step.id);
      w.key("type").value(graph.type_name(step.id));
      w.key("position");
      if (step.position == kNone) w.null();
      else w.value(step.position);
      w.end_object();
    }
    w.end_array();
    holders_json("weak_holders", weak);
    holders_json("tombstones", cut);
    w.end_object();
    return kExitOk;
  }
  std::cout << object_text(graph, id) << ": " << grouped(graph.self_bytes(id)) << " record bytes, retains "
            << grouped(dom.retained[id]) << " bytes\n";
  if (path.steps.empty()) {
    std::cout << "\nNo root reaches it through strong references: it is in the file but unreachable (a load\n"
                 "would restore it as garbage for the next collection).\n";
  } else {
    std::cout << "immediate dominator: "
              << (dom.idom[id] == Dominators::kRoots ? std::string("the roots (a root holds it, or objects under different roots do)")
                                                      : object_text(graph, dom.idom[id]))
              << "\n\nshortest strong path from a root (" << path.steps.size() - 1 << " reference"
              << (path.steps.size() == 2 ? "" : "s") << "):\n  root " << printable(path.root) << " holds "
              << object_text(graph, path.steps[0].id) << '\n';
    for (std::size_t i = 1; i < path.steps.size(); ++i)
      std::cout << "  reference [" << path.steps[i].position << "] of " << object_text(graph, path.steps[i - 1].id)
                << " -> " << object_text(graph, path.steps[i].id) << '\n';
  }
  std::cout << "\nweak handles pointing at it (they keep nothing alive): " << weak.size() << '\n';
  for (std::size_t i = 0; i < weak.size() && i < kMaxListed; ++i)
    std::cout << "  reference [" << weak[i].position << "] of " << object_text(graph, weak[i].holder) << '\n';
  std::cout << "tombstones in the snapshot (weak handles whose target was left out): " << cut.size() << '\n';
  for (std::size_t i = 0; i < cut.size() && i < kMaxListed; ++i)
    std::cout << "  reference [" << cut[i].position << "] of " << object_text(graph, cut[i].holder) << '\n';
  return kExitOk;
}

constexpr OptionSpec kWhyOptions[] = {{"--json", false}, {"--id", true}, {"--type", true}, {"--root", true}};
constexpr std::string_view kWhyHelp =
    "Why an object is in the snapshot: the shortest path of strong references from a root to it\n"
    "(each step names the referring object, its type and the reference's position in its record),\n"
    "its immediate dominator and retained bytes, the weak handles pointing at it, and the\n"
    "snapshot's tombstones (weak handles whose target was left out). --type picks the type's\n"
    "largest object. For an object that is not in the file (a tombstone's target), it says what\n"
    "that means and exits 1. FILE may be - for standard input.\n\n"
    "Options (exactly one of --id, --type, --root):\n"
    "  --id N       the object with snapshot ID N\n"
    "  --type NAME  the largest object of type NAME\n"
    "  --root NAME  the object the root NAME holds\n"
    "  --json       print one JSON object instead of text\n"
    "  -h, --help   print this help\n\n"
    "Exit status: 0 found, 1 not in the snapshot or the file is not valid, 2 bad arguments.\n";

// ---- diff ---------------------------------------------------------------------------------------

int run_diff(const ParsedArgs& args) {
  if (args.positional.size() != 2) throw UsageError(args.positional.size() < 2 ? "diff needs two files, A and B"
                                                                               : "diff takes two files, A and B");
  const std::filesystem::path file_a(args.positional[0]), file_b(args.positional[1]);
  if (file_a == "-" && file_b == "-") throw UsageError("only one of A and B may be - (standard input)");
  SnapshotGraph a, b;
  // Like diff(1): trouble is exit 2, differences 1.
  if (!read_graph(file_a, "diff", a) || !read_graph(file_b, "diff", b)) return kExitUsage;
  const GraphDiff d = compare(a, b);
  const bool same = d.same();
  const auto& [types, added, removed, changed, roots_added, roots_removed, roots_changed, growth, dom_a, dom_b] = d;
  if (args.has("--json")) {
    json::Writer w(std::cout);
    w.begin_object();
    w.key("a").value(file_a.string());
    w.key("b").value(file_b.string());
    w.key("same").value(same);
    w.key("objects_a").value(a.objects());
    w.key("objects_b").value(b.objects());
    w.key("objects_added").value(added);
    w.key("objects_removed").value(removed);
    w.key("objects_changed").value(changed);
    w.key("types").begin_array();
    for (const auto& [name, t] : types) {
      w.begin_object(true);
      w.key("name").value(name);
      w.key("objects_a").value(t.objects_a);
      w.key("objects_b").value(t.objects_b);
      w.key("bytes_a").value(t.bytes_a);
      w.key("bytes_b").value(t.bytes_b);
      w.key("added").value(t.added);
      w.key("removed").value(t.removed);
      w.key("changed").value(t.changed);
      w.key("bytes_added").value(t.bytes_added);
      w.key("bytes_removed").value(t.bytes_removed);
      w.end_object();
    }
    w.end_array();
    w.key("roots_added").begin_array(true);
    for (const auto& r : roots_added) w.value(r);
    w.end_array();
    w.key("roots_removed").begin_array(true);
    for (const auto& r : roots_removed) w.value(r);
    w.end_array();
    w.key("roots_changed").begin_array();
    for (const auto& r : roots_changed) {
      w.begin_object(true);
      w.key("name").value(r.name);
      w.key("type_a").value(a.type_name(r.id_a));
      w.key("type_b").value(b.type_name(r.id_b));
      w.key("retained_bytes_a").value(dom_a.retained[r.id_a]);
      w.key("retained_bytes_b").value(dom_b.retained[r.id_b]);
      w.key("retained_objects_a").value(dom_a.retained_objects[r.id_a]);
      w.key("retained_objects_b").value(dom_b.retained_objects[r.id_b]);
      w.end_object();
    }
    w.end_array();
    w.key("grew_most").begin_array();
    for (std::size_t i = 0; i < growth.size() && i < 10; ++i) {
      w.begin_object(true);
      w.key("name").value(growth[i].second);
      w.key("bytes_grown").value(static_cast<std::uint64_t>(growth[i].first));
      w.end_object();
    }
    w.end_array();
    w.end_object();
    return same ? kExitOk : kExitFailure;
  }
  std::cout << "A: " << file_a.string() << " (" << grouped(a.objects()) << " objects)\nB: " << file_b.string() << " ("
            << grouped(b.objects()) << " objects)\n";
  if (same) {
    std::cout << "no differences: the same objects by root path, with the same records, and the same roots\n";
    return kExitOk;
  }
  std::cout << "objects: " << grouped(added) << " added, " << grouped(removed) << " removed, " << grouped(changed)
            << " changed (matched by root path)\n\nby type:\n";
  for (const auto& [name, t] : types) {
    if (t.added == 0 && t.removed == 0 && t.changed == 0) continue;
    std::cout << "  " << printable(name) << ": " << grouped(t.objects_a) << " -> " << grouped(t.objects_b)
              << " objects (+" << grouped(t.added) << " -" << grouped(t.removed) << ", " << grouped(t.changed)
              << " changed), bytes +" << grouped(t.bytes_added) << " -" << grouped(t.bytes_removed) << '\n';
  }
  for (const auto& r : roots_added) std::cout << "root added:   " << printable(r) << '\n';
  for (const auto& r : roots_removed) std::cout << "root removed: " << printable(r) << '\n';
  for (const auto& r : roots_changed)
    std::cout << "root changed: " << printable(r.name) << ": " << printable(a.type_name(r.id_a)) << " retaining "
              << grouped(dom_a.retained_objects[r.id_a]) << " objects, " << grouped(dom_a.retained[r.id_a])
              << " bytes -> " << printable(b.type_name(r.id_b)) << " retaining " << grouped(dom_b.retained_objects[r.id_b])
              << " objects, " << grouped(dom_b.retained[r.id_b]) << " bytes\n";
  if (!growth.empty()) {
    std::cout << "grew most:\n";
    for (std::size_t i = 0; i < growth.size() && i < 10; ++i)
      std::cout << "  " << printable(growth[i].second) << " +" << grouped(static_cast<std::uint64_t>(growth[i].first))
                << " bytes\n";
  }
  return kExitFailure;
}

constexpr OptionSpec kDiffOptions[] = {{"--json", false}};
constexpr std::string_view kDiffHelp =
    "Compares two snapshots: objects and bytes by type added, removed and changed, roots added,\n"
    "removed and changed, and the types that grew most. Object IDs differ between files (they are\n"
    "numbered in the order a save reaches them), so objects are matched by root path: the path a\n"
    "breadth-first walk from all the roots at once (in name order; the walk a save numbers objects\n"
    "by) reaches the object along, as the root's name and the positions of the references followed.\n"
    "A matched object of the same type whose data or references (kinds, and targets by root path)\n"
    "differ is changed; an unmatched one is added (in B) or removed (in A). A root is changed when\n"
    "its object's type or content, or the number of objects it retains, differ.\n"
    "Either file may be - for standard input.\n\n"
    "Options:\n"
    "  --json       print one JSON object instead of text\n"
    "  -h, --help   print this help\n\n"
    "Exit status (as diff's): 0 no differences, 1 differences, 2 bad arguments or a file that is\n"
    "unreadable or not a valid snapshot.\n";

// ---- dot ----------------------------------------------------------------------------------------

std::string dot_text(std::string_view s) {
  std::string out;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') out += '\\', out += c;
    else if (u < 0x20 || u == 0x7F) out += '?';
    else out += c;
  }
  return out;
}

int run_dot(const ParsedArgs& args) {
  const std::filesystem::path file(single_operand(args, "FILE"));
  const std::uint64_t max = parse_count("--max-objects", args.value("--max-objects", "500"), 100'000'000);
  SnapshotGraph graph;
  if (!read_graph(file, "dot", graph)) return kExitFailure;
  if (graph.objects() > max) {
    std::cerr << "snapheap dot: " << file.string() << " has " << grouped(graph.objects())
              << " objects; dot draws at most " << grouped(max)
              << " (--max-objects N raises the limit; Graphviz takes minutes past a few thousand nodes: "
                 "try snapheap top, why or html instead)\n";
    return kExitFailure;
  }
  Output out(args.value("-o", "-"));
  std::ostream& os = out.stream();
  os << "digraph snapheap {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\", fontsize=10];\n"
        "  edge [fontname=\"monospace\", fontsize=9];\n";
  for (std::size_t i = 0; i < graph.roots().size(); ++i) {
    const auto& r = graph.roots()[i];
    os << "  r" << i << " [shape=ellipse, style=filled, fillcolor=\"#dde8ff\", label=\"root " << dot_text(r.name)
       << "\"];\n  r" << i << " -> o" << r.id << ";\n";
  }
  bool any_tombstone = false;
  for (std::uint32_t id = 0; id < graph.objects(); ++id) {
    os << "  o" << id << " [label=\"" << id << ": " << dot_text(graph.type_name(id)) << "\\n" << graph.self_bytes(id)
       << " B\"];\n";
    graph.for_each_ref(id, [&](const SnapshotGraph::Ref& ref) {
      switch (ref.kind) {
        case SnapshotGraph::RefKind::strong:
          os << "  o" << id << " -> o" << ref.target << " [label=\"[" << ref.position << "]\"];\n";
          break;
        case SnapshotGraph::RefKind::weak:
          os << "  o" << id << " -> o" << ref.target << " [style=dashed, label=\"[" << ref.position << "] weak\"];\n";
          break;
        case SnapshotGraph::RefKind::tombstone:
          any_tombstone = true;
          os << "  o" << id << " -> tombstone [style=dashed, color=gray40, label=\"[" << ref.position
             << "] tombstone\"];\n";
          break;
        case SnapshotGraph::RefKind::external_strong:
        case SnapshotGraph::RefKind::external_weak:
          os << "  o" << id << " -> x" << ref.external << " [" << (ref.kind == SnapshotGraph::RefKind::external_weak ? "style=dashed, " : "")
             << "label=\"[" << ref.position << "]" << (ref.kind == SnapshotGraph::RefKind::external_weak ? " weak" : "") << "\"];\n";
          break;
        case SnapshotGraph::RefKind::empty_strong:
        case SnapshotGraph::RefKind::empty_weak: break;
      }
    });
  }
  for (std::size_t i = 0; i < graph.externals().size(); ++i)
    os << "  x" << i << " [shape=ellipse, style=dashed, label=\"external root " << dot_text(graph.externals()[i])
       << "\\nnot saved\"];\n";
  if (any_tombstone)
    os << "  tombstone [shape=octagon, style=dashed, color=gray40, label=\"(tombstone)\\ntarget not saved\"];\n";
  os << "}\n";
  return out.finish("dot") ? kExitOk : kExitFailure;
}

constexpr OptionSpec kDotOptions[] = {{"--max-objects", true}, {"-o", true}};
constexpr std::string_view kDotHelp =
    "Writes the snapshot's graph in Graphviz's DOT language (`snapheap dot FILE | dot -Tsvg`):\n"
    "a box per object (ID, type, record bytes), an ellipse per root, strong references as solid\n"
    "arrows labelled with their position in the record, weak handles dashed, and tombstones as\n"
    "dashed arrows to one \"(tombstone)\" node. Large graphs are refused: a picture of more than a\n"
    "few hundred objects is not readable and Graphviz takes minutes to lay it out.\n"
    "FILE may be - for standard input.\n\n"
    "Options:\n"
    "  --max-objects N  the most objects to draw (default 500)\n"
    "  -o OUT           write to OUT instead of standard output\n"
    "  -h, --help       print this help\n\n"
    "Exit status: 0 written, 1 too many objects, an invalid file or a failed write, 2 bad arguments.\n";

}  // namespace

const Command& export_command() {
  static const Command c{"export", "usage: snapheap export --devtools FILE [-o OUT]", kExportHelp, kExportOptions, &run_export};
  return c;
}
const Command& top_command() {
  static const Command c{"top", "usage: snapheap top [--json] [--limit N] FILE", kTopHelp, kTopOptions, &run_top};
  return c;
}
const Command& why_command() {
  static const Command c{"why", "usage: snapheap why [--json] FILE (--id N | --type NAME | --root NAME)", kWhyHelp,
                         kWhyOptions, &run_why};
  return c;
}
const Command& diff_command() {
  static const Command c{"diff", "usage: snapheap diff [--json] A B", kDiffHelp, kDiffOptions, &run_diff};
  return c;
}
const Command& dot_command() {
  static const Command c{"dot", "usage: snapheap dot [--max-objects N] [-o OUT] FILE", kDotHelp, kDotOptions, &run_dot};
  return c;
}

}  // namespace snapheap_tool
