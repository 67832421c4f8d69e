// Shared by the graph commands: input, output, per-type totals, names.
#include "graph_support.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "json.hpp"

namespace snapheap_tool {

snapheap::SnapshotGraph read_graph(const std::filesystem::path& file) {
  if (file != "-") return snapheap::SnapshotGraph::read(file);
  snapheap::ByteBuffer bytes;
  char chunk[65536];
  while (const std::size_t n = std::fread(chunk, 1, sizeof chunk, stdin)) bytes.append(chunk, n);
  if (std::ferror(stdin)) throw snapheap::SnapshotError(snapheap::SnapshotErrc::io_error, "cannot read standard input");
  return snapheap::SnapshotGraph::read(std::move(bytes));
}

bool read_graph(const std::filesystem::path& file, std::string_view command, snapheap::SnapshotGraph& graph) {
  try {
    graph = read_graph(file);
    return true;
  } catch (const std::exception& e) {
    std::cerr << "snapheap " << command << ": " << describe_file_error(file, e) << '\n';
    return false;
  }
}

Output::Output(std::string_view path) : path_(path), out_(&std::cout) {
  if (path.empty() || path == "-") return;
  file_ = std::make_unique<std::ofstream>(path_, std::ios::binary | std::ios::trunc);
  out_ = file_.get();
}

bool Output::finish(std::string_view command) {
  out_->flush();
  if (file_) file_->close();
  if (file_ ? !file_->fail() : static_cast<bool>(*out_)) return true;
  std::cerr << "snapheap " << command << ": cannot write " << (file_ ? path_ : std::string("standard output")) << '\n';
  return false;
}

std::vector<TypeTotals> type_totals(const snapheap::SnapshotGraph& graph, const snapheap::Dominators& dom) {
  const std::uint32_t n = graph.objects();
  std::vector<TypeTotals> totals(graph.types().size());
  for (std::uint32_t t = 0; t < totals.size(); ++t) totals[t].type = t;
  for (std::uint32_t id = 0; id < n; ++id) {
    TypeTotals& t = totals[graph.type_of(id)];
    ++t.objects;
    t.self_bytes += graph.self_bytes(id);
  }
  // The dominator tree as child lists (node n is the synthetic root), walked depth first with a
  // count of the open objects of each type: an object is counted when none of its type is open.
  std::vector<std::uint32_t> first(std::size_t{n} + 2, 0);
  const auto parent_of = [&](std::uint32_t id) { return dom.idom[id] == snapheap::Dominators::kRoots ? n : dom.idom[id]; };
  for (std::uint32_t id = 0; id < n; ++id)
    if (dom.idom[id] != snapheap::SnapshotGraph::kNone) ++first[parent_of(id) + 1];
  for (std::size_t i = 1; i < first.size(); ++i) first[i] += first[i - 1];
  std::vector<std::uint32_t> children(first.back());
  {
    std::vector<std::uint32_t> fill(first.begin(), first.end() - 1);
    for (std::uint32_t id = 0; id < n; ++id)
      if (dom.idom[id] != snapheap::SnapshotGraph::kNone) children[fill[parent_of(id)]++] = id;
  }
  std::vector<std::uint32_t> open(totals.size(), 0);
  std::vector<std::pair<std::uint32_t, std::uint32_t>> stack{{n, first[n]}};  // (node, next child)
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (next == first[node + 1]) {
      if (node != n) --open[graph.type_of(node)];
      stack.pop_back();
      continue;
    }
    const std::uint32_t child = children[next++];
    const std::uint32_t type = graph.type_of(child);
    if (open[type]++ == 0) totals[type].retained_bytes += dom.retained[child];
    stack.emplace_back(child, first[child]);
  }
  return totals;
}

std::vector<std::uint32_t> largest_retainers(const snapheap::Dominators& dom, std::size_t count) {
  std::vector<std::uint32_t> ids;
  for (std::uint32_t id = 0; id < dom.retained.size(); ++id)
    if (dom.idom[id] != snapheap::SnapshotGraph::kNone) ids.push_back(id);
  const auto larger = [&](std::uint32_t a, std::uint32_t b) {
    return dom.retained[a] != dom.retained[b] ? dom.retained[a] > dom.retained[b] : a < b;
  };
  count = std::min(count, ids.size());
  std::partial_sort(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(count), ids.end(), larger);
  ids.resize(count);
  return ids;
}

std::string printable(std::string_view name) {
  const bool plain = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return c >= 0x20 && c < 0x7F && c != '"';
  });
  return plain ? std::string(name) : json::quote(name);
}

std::string grouped(std::uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::uint64_t parse_count(std::string_view option, std::string_view text, std::uint64_t max) {
  std::uint64_t n = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || n > max)
    throw UsageError("bad " + std::string(option) + " value '" + std::string(text) + "': expected a whole number from 0 to " +
                     std::to_string(max));
  return n;
}

}  // namespace snapheap_tool
