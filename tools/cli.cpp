// Argument parsing and error lines shared by the `snapheap` subcommands.
#include "cli.hpp"

#include <algorithm>
#include <snapheap/errors.hpp>

namespace snapheap_tool {

namespace {

const OptionSpec* find_option(std::span<const OptionSpec> specs, std::string_view name) {
  const auto found = std::find_if(specs.begin(), specs.end(), [&](const OptionSpec& s) { return s.name == name; });
  return found == specs.end() ? nullptr : &*found;
}

bool is_help(std::string_view arg) { return arg == "--help" || arg == "-h"; }

}  // namespace

bool ParsedArgs::has(std::string_view name) const {
  return std::any_of(options.begin(), options.end(), [&](const auto& o) { return o.first == name; });
}

std::string_view ParsedArgs::value(std::string_view name, std::string_view fallback) const {
  for (auto it = options.rbegin(); it != options.rend(); ++it)
    if (it->first == name) return it->second;
  return fallback;
}

// --help wins over anything after it, so `snapheap demo --help` prints the help even when the
// rest of the line would be an error; a "-" alone is an operand (standard input, for info and
// verify).
ParsedArgs parse_args(std::span<const std::string_view> args, std::span<const OptionSpec> specs) {
  ParsedArgs parsed;
  bool options_done = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (options_done || arg.size() < 2 || arg[0] != '-') {
      parsed.positional.push_back(arg);
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }
    if (is_help(arg)) {
      parsed.help = true;
      return parsed;
    }
    const std::size_t eq = arg.find('=');
    const std::string_view name = arg.substr(0, eq);
    const OptionSpec* spec = find_option(specs, name);
    if (!spec) throw UsageError("unknown option '" + std::string(name) + "'");
    if (!spec->takes_value) {
      if (eq != std::string_view::npos) throw UsageError("option '" + std::string(name) + "' takes no value");
      parsed.options.emplace_back(name, std::string_view());
    } else if (eq != std::string_view::npos) {
      parsed.options.emplace_back(name, arg.substr(eq + 1));
    } else {
      if (i + 1 == args.size()) throw UsageError("option '" + std::string(name) + "' needs a value");
      parsed.options.emplace_back(name, args[++i]);
    }
  }
  return parsed;
}

std::string_view single_operand(const ParsedArgs& parsed, std::string_view what) {
  if (parsed.positional.empty()) throw UsageError("missing " + std::string(what));
  if (parsed.positional.size() > 1)
    throw UsageError("unexpected argument '" + std::string(parsed.positional[1]) + "' after " + std::string(what));
  if (parsed.positional[0].empty()) throw UsageError(std::string(what) + " is empty");
  return parsed.positional[0];
}

std::string describe_file_error(const std::filesystem::path& file, const std::exception& error) {
  std::string line = file.string() + ": ";
  if (const auto* snapshot = dynamic_cast<const snapheap::SnapshotError*>(&error)) {
    line += snapshot->detail();
    if (snapshot->offset() != snapheap::SnapshotError::kNoOffset)
      line += " (at byte " + std::to_string(snapshot->offset()) + ")";
  } else {
    line += error.what();
  }
  // One line, whatever the message holds.
  std::replace(line.begin(), line.end(), '\n', ' ');
  return line;
}

}  // namespace snapheap_tool
