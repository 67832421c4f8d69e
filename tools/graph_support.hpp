// What the graph commands (export, top, why, diff, dot, html) share: reading FILE (or standard
// input) into a snapheap::SnapshotGraph, output to -o OUT or standard output, the retained bytes
// of each type, and names as a terminal, DOT or HTML should see them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <ostream>
#include <snapheap/inspect.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "cli.hpp"

namespace snapheap_tool {

/// Reads and checks FILE ("-": standard input). Throws SnapshotError.
snapheap::SnapshotGraph read_graph(const std::filesystem::path& file);

/// Reads FILE; on a problem prints "snapheap CMD: FILE: <what is wrong>" and returns false.
bool read_graph(const std::filesystem::path& file, std::string_view command, snapheap::SnapshotGraph& graph);

/// Where a command writes: `-o OUT` (a file, replaced) or standard output ("-" or no -o).
class Output {
 public:
  explicit Output(std::string_view path);
  std::ostream& stream() { return *out_; }
  /// Flushes and reports a failed write (false, with a line on stderr).
  bool finish(std::string_view command);
  bool to_file() const noexcept { return file_ != nullptr; }

 private:
  std::string path_;
  std::unique_ptr<std::ofstream> file_;
  std::ostream* out_;
};

/// Per type (types() order): objects, self bytes, and retained bytes as DevTools counts them for
/// a constructor: the retained bytes of the type's objects that no other object of the same
/// type dominates (so nothing is counted twice).
struct TypeTotals {
  std::uint32_t type = 0;
  std::uint64_t objects = 0, self_bytes = 0, retained_bytes = 0;
};
std::vector<TypeTotals> type_totals(const snapheap::SnapshotGraph& graph, const snapheap::Dominators& dom);

/// The `count` objects with the most retained bytes (ties: lower ID first), largest first.
std::vector<std::uint32_t> largest_retainers(const snapheap::Dominators& dom, std::size_t count);

/// A name from a file for a terminal: as is if plain printable ASCII, else a quoted JSON string.
std::string printable(std::string_view name);
/// "8,000,016"
std::string grouped(std::uint64_t n);
/// Parses a whole unsigned number for an option, or throws UsageError naming the option.
std::uint64_t parse_count(std::string_view option, std::string_view text, std::uint64_t max);

/// The subcommands (graph_commands.cpp, html_report.cpp).
const Command& export_command();
const Command& top_command();
const Command& why_command();
const Command& diff_command();
const Command& dot_command();
const Command& html_command();

}  // namespace snapheap_tool
