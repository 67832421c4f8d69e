// `snapheap html FILE -o report.html`: one self-contained page (no script, no network: a
// Content-Security-Policy forbids loading anything) with the `top` table, a treemap of retained
// bytes by type (SVG laid out here, squarified), the retainer paths of the largest objects, the
// roots and the tombstones: readable by a person without a terminal.
#include <algorithm>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "graph_support.hpp"
#include "json.hpp"

namespace snapheap_tool {

namespace {

using snapheap::Dominators;
using snapheap::SnapshotGraph;

/// Text from a file for HTML: markup characters escaped, control bytes as '?', bytes that are not
/// UTF-8 as U+FFFD.
std::string html(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      if (const std::size_t n = json::detail::utf8_sequence_length(s, i)) {
        out.append(s.substr(i, n));
        i += n;
      } else {
        out += "\xEF\xBF\xBD";
        ++i;
      }
      continue;
    }
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c < 0x20 || c == 0x7F ? '?' : static_cast<char>(c);
    }
    ++i;
  }
  return out;
}

struct Cell {
  std::size_t item;  // index into the values
  double x, y, w, h;
};

/// Squarified treemap (Bruls, Huizing and van Wijk, 2000) of positive values sorted largest
/// first, in the rectangle (x, y, w, h).
std::vector<Cell> squarify(const std::vector<double>& values, double x, double y, double w, double h) {
  std::vector<Cell> cells;
  double total = 0;
  for (const double v : values) total += v;
  if (total <= 0) return cells;
  const double scale = w * h / total;
  std::size_t i = 0;
  while (i < values.size()) {
    const double side = std::min(w, h);
    // Grow the row while the worst aspect ratio improves.
    std::size_t end = i;
    double row = 0, worst = INFINITY;
    while (end < values.size()) {
      const double next_row = row + values[end] * scale;
      const double lo = values[end] * scale, hi = values[i] * scale;
      const double next_worst = std::max(std::max(side * side * hi / (next_row * next_row), next_row * next_row / (side * side * hi)),
                                         std::max(side * side * lo / (next_row * next_row), next_row * next_row / (side * side * lo)));
      if (next_worst > worst) break;
      worst = next_worst;
      row = next_row;
      ++end;
    }
    const double thickness = row / side;
    double offset = 0;
    for (std::size_t k = i; k < end; ++k) {
      const double length = values[k] * scale / thickness;
      if (w >= h) cells.push_back({k, x, y + offset, thickness, length});
      else cells.push_back({k, x + offset, y, length, thickness});
      offset += length;
    }
    if (w >= h) x += thickness, w -= thickness;
    else y += thickness, h -= thickness;
    i = end;
  }
  return cells;
}

std::string fixed(double v) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(1) << v;
  return s.str();
}

std::string object_html(const SnapshotGraph& g, std::uint32_t id) {
  return "object " + std::to_string(id) + " (<code>" + html(g.type_name(id)) + "</code>)";
}

constexpr std::string_view kStyle = R"(
body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 1000px; color: #1d1d1f; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 1.8em; }
table { border-collapse: collapse; width: 100%; font-size: 0.9em; }
th, td { padding: 0.25em 0.6em; border-bottom: 1px solid #ddd; text-align: right; }
th:first-child, td:first-child { text-align: left; }
code { font-family: ui-monospace, monospace; }
#treemap { border: 1px solid #ccc; background: #fafafa; }
#treemap text { font: 11px ui-monospace, monospace; fill: #000; pointer-events: none; }
#treemap rect { stroke: #fff; stroke-width: 1; }
ol.path { font-size: 0.9em; margin: 0.3em 0 0.9em; }
.note { color: #555; font-size: 0.9em; }
)";

int run_html(const ParsedArgs& args) {
  const std::filesystem::path file(single_operand(args, "FILE"));
  if (!args.has("-o")) throw UsageError("missing -o OUT (the page to write; - for standard output)");
  const auto limit = static_cast<std::size_t>(parse_count("--limit", args.value("--limit", "10"), 1000));
  SnapshotGraph graph;
  if (!read_graph(file, "html", graph)) return kExitFailure;
  const Dominators dom = snapheap::dominators(graph);
  std::vector<TypeTotals> types = type_totals(graph, dom);
  std::sort(types.begin(), types.end(), [&](const TypeTotals& a, const TypeTotals& b) {
    if (a.retained_bytes != b.retained_bytes) return a.retained_bytes > b.retained_bytes;
    if (a.self_bytes != b.self_bytes) return a.self_bytes > b.self_bytes;
    return graph.types()[a.type].name < graph.types()[b.type].name;
  });
  std::uint64_t self_total = 0, retained_total = 0;
  for (const auto& t : types) self_total += t.self_bytes, retained_total += t.retained_bytes;
  const auto cut = snapheap::tombstones(graph);

  Output out(args.value("-o", "-"));
  std::ostream& os = out.stream();
  const std::string title = html(file.string());
  os << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
     << "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
     << "<title>snapheap: " << title << "</title>\n<style>" << kStyle << "</style>\n</head>\n<body>\n"
     << "<h1>Heap snapshot <code>" << title << "</code></h1>\n<p id=\"summary\">" << grouped(graph.objects())
     << " objects (" << grouped(dom.reachable) << " reachable from the roots), " << grouped(self_total)
     << " record bytes, " << graph.roots().size() << " roots, " << grouped(graph.counts().weak_targets)
     << " weak handles to saved objects, " << grouped(cut.size()) << " tombstones.</p>\n";

  // The treemap: one rectangle per type with retained bytes, area proportional to them.
  constexpr double kWidth = 960, kHeight = 420;
  std::vector<double> values;
  for (const auto& t : types)
    if (t.retained_bytes > 0) values.push_back(static_cast<double>(t.retained_bytes));
  os << "<h2>Retained bytes by type</h2>\n<svg id=\"treemap\" width=\""
     << kWidth << "\" height=\"" << kHeight << "\" viewBox=\"0 0 " << kWidth << ' ' << kHeight
     << "\" role=\"img\" aria-label=\"treemap of retained bytes by type\">\n";
  for (const Cell& c : squarify(values, 0, 0, kWidth, kHeight)) {
    const TypeTotals& t = types[c.item];
    const std::string name = html(graph.types()[t.type].name);
    const double share = 100.0 * static_cast<double>(t.retained_bytes) / static_cast<double>(retained_total);
    os << "<g class=\"cell\"><rect x=\"" << fixed(c.x) << "\" y=\"" << fixed(c.y) << "\" width=\"" << fixed(c.w)
       << "\" height=\"" << fixed(c.h) << "\" fill=\"hsl(" << (c.item * 47) % 360 << ",55%,70%)\"><title>" << name
       << ": " << grouped(t.retained_bytes) << " bytes retained (" << fixed(share) << "%), " << grouped(t.objects)
       << " objects</title></rect>";
    if (c.w > 60 && c.h > 16)
      os << "<text x=\"" << fixed(c.x + 4) << "\" y=\"" << fixed(c.y + 14) << "\">" << name << " " << fixed(share)
         << "%</text>";
    os << "</g>\n";
  }
  os << "</svg>\n<p class=\"note\">Retained bytes: what would go if the objects were gone (dominators over "
        "strong references; weak handles retain nothing).</p>\n";

  os << "<h2>Types</h2>\n<table id=\"types-table\">\n<thead><tr><th>type</th><th>objects</th><th>self bytes</th>"
        "<th>retained bytes</th></tr></thead>\n<tbody>\n";
  for (const auto& t : types)
    os << "<tr><td><code>" << html(graph.types()[t.type].name) << "</code></td><td>" << grouped(t.objects) << "</td><td>"
       << grouped(t.self_bytes) << "</td><td>" << grouped(t.retained_bytes) << "</td></tr>\n";
  os << "</tbody>\n</table>\n";

  os << "<h2>Largest retainers, and why they are alive</h2>\n<ol id=\"retainers\">\n";
  for (const std::uint32_t id : largest_retainers(dom, limit)) {
    const auto path = snapheap::shortest_path(graph, id);
    os << "<li>" << object_html(graph, id) << " retains " << grouped(dom.retained[id]) << " bytes (self "
       << grouped(graph.self_bytes(id)) << ")\n<ol class=\"path\">";
    if (!path.steps.empty()) {
      os << "<li>root <code>" << html(path.root) << "</code> holds " << object_html(graph, path.steps[0].id) << "</li>";
      for (std::size_t i = 1; i < path.steps.size(); ++i)
        os << "<li>reference [" << path.steps[i].position << "] of " << object_html(graph, path.steps[i - 1].id)
           << " &rarr; " << object_html(graph, path.steps[i].id) << "</li>";
    }
    os << "</ol></li>\n";
  }
  os << "</ol>\n<h2>Roots</h2>\n<table id=\"roots-table\">\n<thead><tr><th>root</th><th>object</th><th>retained "
        "bytes</th></tr></thead>\n<tbody>\n";
  for (const auto& r : graph.roots())
    os << "<tr><td><code>" << html(r.name) << "</code></td><td>" << object_html(graph, r.id) << "</td><td>"
       << grouped(dom.retained[r.id]) << "</td></tr>\n";
  os << "</tbody>\n</table>\n<h2>Tombstones</h2>\n<p class=\"note\">Weak handles whose target was not saved (it was "
        "not reachable from the saved roots through strong references); they load as expired.</p>\n<ul id=\"tombstones\">\n";
  for (std::size_t i = 0; i < cut.size() && i < 100; ++i)
    os << "<li>reference [" << cut[i].position << "] of " << object_html(graph, cut[i].holder) << "</li>\n";
  if (cut.size() > 100) os << "<li>... and " << grouped(cut.size() - 100) << " more</li>\n";
  if (cut.empty()) os << "<li>none</li>\n";
  os << "</ul>\n</body>\n</html>\n";
  return out.finish("html") ? kExitOk : kExitFailure;
}

constexpr OptionSpec kHtmlOptions[] = {{"-o", true}, {"--limit", true}};
constexpr std::string_view kHtmlHelp =
    "Writes one self-contained HTML page about the snapshot (no scripts, nothing loaded from the\n"
    "network): the top table (types by objects, self and retained bytes), a treemap of retained\n"
    "bytes by type, the largest retainers with the shortest strong path from a root to each, the\n"
    "roots and the tombstones. FILE may be - for standard input.\n\n"
    "Options:\n"
    "  -o OUT       the page to write (required; - for standard output)\n"
    "  --limit N    how many of the largest retainers to show (default 10)\n"
    "  -h, --help   print this help\n\n"
    "Exit status: 0 written, 1 the file is not a valid snapshot or OUT cannot be written, 2 bad arguments.\n";

}  // namespace

const Command& html_command() {
  static const Command c{"html", "usage: snapheap html FILE -o OUT [--limit N]", kHtmlHelp, kHtmlOptions, &run_html};
  return c;
}

}  // namespace snapheap_tool
