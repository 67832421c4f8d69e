// What the `snapheap` subcommands share: exit codes, usage errors and a small argument parser.
#pragma once

#include <cstdint>
#include <exception>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace snapheap_tool {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  ///< a check failed, a file is bad, something threw
inline constexpr int kExitUsage = 2;    ///< bad arguments

/// Bad arguments. main() prints "snapheap: <message>" and the usage line to stderr, exits 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// An option a subcommand accepts: `--name` alone, or `--name VALUE` / `--name=VALUE`.
struct OptionSpec {
  std::string_view name;  ///< with its dashes: "--json"
  bool takes_value = false;
};

/// A subcommand's arguments, split by parse_args().
struct ParsedArgs {
  bool help = false;  ///< --help or -h was given: print the help and do nothing else
  std::vector<std::string_view> positional;
  std::vector<std::pair<std::string_view, std::string_view>> options;  ///< in the order given

  bool has(std::string_view name) const;
  /// The last value given for the option, or `fallback`.
  std::string_view value(std::string_view name, std::string_view fallback) const;
};

/// A subcommand: its name, its one-line usage, the text `--help` prints below the usage, the
/// options it takes, and the function that runs it on its parsed arguments. main() parses the
/// arguments and handles --help, so `run` sees only a request to do the work.
struct Command {
  std::string_view name;
  std::string_view usage;
  std::string_view help;
  std::span<const OptionSpec> options;
  int (*run)(const ParsedArgs& args);
};

/// Splits `args` into options (checked against `specs`) and positional arguments; "--" ends the
/// options. Throws UsageError for an unknown option or a missing value.
ParsedArgs parse_args(std::span<const std::string_view> args, std::span<const OptionSpec> specs);

/// The one positional argument a command takes (FILE, DIR); UsageError if none or more.
std::string_view single_operand(const ParsedArgs& parsed, std::string_view what);

/// "FILE: <what is wrong> (at byte N)": one line for an exception about a snapshot file,
/// SnapshotError's detail and offset when it is one.
std::string describe_file_error(const std::filesystem::path& file, const std::exception& error);

/// The subcommands (demo.cpp, inspect_commands.cpp).
const Command& demo_command();
const Command& info_command();
const Command& verify_command();

}  // namespace snapheap_tool
