// The `snapheap` command-line tool:
//
//     snapheap demo [--elements N] DIR   the seed document's three scenarios, saved, restored, checked
//     snapheap info [--json] FILE        what a snapshot holds, read without the types' code
//     snapheap verify FILE               "ok" or the first problem and its byte offset
//     snapheap export --devtools FILE    V8 .heapsnapshot JSON for Chrome DevTools and memlab
//     snapheap top FILE                  types and objects by retained bytes (dominators)
//     snapheap why FILE --id N|...       the shortest strong path from a root, weak holders
//     snapheap diff A B                  what changed between two snapshots (exit 0/1 like diff)
//     snapheap dot FILE                  Graphviz drawing of a small snapshot
//     snapheap html FILE -o OUT          a self-contained page: table, treemap, retainer paths
//
// Exit status: 0 success, 1 failure (a failed check, a bad file, any error), 2 bad arguments
// (diff: 0 same, 1 different, 2 trouble).
// No exception leaves main(): every error becomes one line on stderr.
#include <array>
#include <exception>
#include <iostream>
#include <snapheap/config.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cli.hpp"
#include "graph_support.hpp"

namespace snapheap_tool {

namespace {

constexpr std::string_view kUsage = "usage: snapheap [--help | --version] COMMAND [ARGS]";

std::array<const Command*, 9> commands() {
  return {&demo_command(), &info_command(), &verify_command(), &export_command(), &top_command(),
          &why_command(),  &diff_command(), &dot_command(),    &html_command()};
}

const Command* find_command(std::string_view name) {
  for (const Command* c : commands())
    if (c->name == name) return c;
  return nullptr;
}

void print_help(std::ostream& out) {
  out << kUsage << "\n\n"
      << "Inspect and demonstrate snapheap heap snapshots.\n\n"
      << "Commands:\n";
  for (const Command* c : commands()) out << "  " << c->usage.substr(std::string_view("usage: ").size()) << '\n';
  out << "\nOptions:\n"
      << "  -h, --help     print this help (`snapheap COMMAND --help` for a command's)\n"
      << "  --version      print the version\n\n"
      << "Exit status: 0 success, 1 failure, 2 bad arguments (diff: 0 same, 1 different, 2 trouble).\n";
}

void print_version(std::ostream& out) {
  out << "snapheap " << SNAPHEAP_VERSION_MAJOR << '.' << SNAPHEAP_VERSION_MINOR << '.' << SNAPHEAP_VERSION_PATCH
      << '\n';
}

/// "snapheap[ COMMAND]: <problem>" and the usage line, on stderr.
int usage_error(const std::string& message, std::string_view usage, std::string_view command = {}) {
  std::cerr << "snapheap" << (command.empty() ? "" : " ") << command << ": " << message << '\n' << usage << '\n';
  return kExitUsage;
}

int run_command(const Command& command, std::span<const std::string_view> args) {
  ParsedArgs parsed;
  try {
    parsed = parse_args(args, command.options);
    if (parsed.help) {
      std::cout << command.usage << "\n\n" << command.help;
      return kExitOk;
    }
    return command.run(parsed);
  } catch (const UsageError& e) {
    return usage_error(e.what(), command.usage, command.name);
  }
}

int run(std::span<const std::string_view> args) {
  if (args.empty()) return usage_error("no command given", kUsage);
  const std::string_view first = args[0];
  if (first == "--help" || first == "-h" || first == "help") {
    if (first == "help" && args.size() > 1) {
      if (const Command* c = find_command(args[1])) return run_command(*c, std::array{std::string_view("--help")});
      return usage_error("unknown command '" + std::string(args[1]) + "'", kUsage);
    }
    print_help(std::cout);
    return kExitOk;
  }
  if (first == "--version") {
    print_version(std::cout);
    return kExitOk;
  }
  if (const Command* c = find_command(first)) return run_command(*c, args.subspan(1));
  if (first.starts_with("-")) return usage_error("unknown option '" + std::string(first) + "'", kUsage);
  return usage_error("unknown command '" + std::string(first) + "'", kUsage);
}

/// An exception's message on one line.
std::string one_line(std::string text) {
  for (char& c : text)
    if (c == '\n' || c == '\r') c = ' ';
  return text;
}

/// Output that could not be written (a full disk, a closed pipe) is a failure, not a success.
int check_stdout(int status) {
  std::cout.flush();
  if (std::cout) return status;
  std::cerr << "snapheap: cannot write to standard output\n";
  return kExitFailure;
}

}  // namespace

}  // namespace snapheap_tool

int main(int argc, char** argv) {
  using namespace snapheap_tool;
  try {
    const std::vector<std::string_view> args(argc > 0 ? argv + 1 : argv, argv + argc);
    return check_stdout(run(args));
  } catch (const std::exception& e) {
    std::cerr << "snapheap: error: " << one_line(e.what()) << '\n';
  } catch (...) {
    std::cerr << "snapheap: error: an unknown exception\n";
  }
  return kExitFailure;
}
