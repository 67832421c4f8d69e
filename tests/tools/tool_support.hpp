// Running the `snapheap` tool from the tests: a per-test temporary directory, the tool's path,
// a subprocess runner that captures the exit status, stdout and stderr, and a small JSON checker.
#pragma once

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "support/temp_dir.hpp"

extern char** environ;

namespace tool_test {

namespace fs = std::filesystem;

using snapheap_test::TempDir;

/// $SNAPHEAP_TOOL, else <directory of the test binary>/../tools/snapheap (the build tree's
/// layout). A missing tool fails the test: a skipped tool test would hide a broken build.
inline fs::path tool_path() {
  if (const char* env = std::getenv("SNAPHEAP_TOOL"); env && *env) {
    const fs::path tool(env);
    if (!fs::exists(tool)) FAIL("SNAPHEAP_TOOL is set to " << tool << ", which does not exist");
    return tool;
  }
  std::error_code error;
  const fs::path self = fs::read_symlink("/proc/self/exe", error);
  if (error) FAIL("cannot read /proc/self/exe to find the snapheap tool; set SNAPHEAP_TOOL");
  const fs::path tool = (self.parent_path() / ".." / "tools" / "snapheap").lexically_normal();
  if (!fs::exists(tool))
    FAIL("the snapheap tool was not found at " << tool
                                               << ": build the target snapheap_tool, or set SNAPHEAP_TOOL to its path");
  return tool;
}

inline std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void write_file(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

struct ToolResult {
  int exit_code = -1;  ///< -1 if the tool did not exit normally (killed by a signal)
  std::string out, err;

  std::vector<std::string> err_lines() const {
    std::vector<std::string> lines;
    std::istringstream in(err);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }
};

inline std::ostream& operator<<(std::ostream& os, const ToolResult& r) {
  return os << "exit " << r.exit_code << "\n--- stdout ---\n" << r.out << "--- stderr ---\n" << r.err;
}

/// Runs `snapheap args...` with stdin from `input` (/dev/null by default) and stdout and stderr
/// captured in files in `scratch` (no pipes, so no deadlock on large output).
inline ToolResult run_tool(const std::vector<std::string>& args, const TempDir& scratch,
                           const fs::path& input = "/dev/null") {
  const std::string tool = tool_path().string();
  const std::string out = (scratch / ".tool-stdout").string(), err = (scratch / ".tool-stderr").string();
  posix_spawn_file_actions_t actions;
  REQUIRE(::posix_spawn_file_actions_init(&actions) == 0);
  ::posix_spawn_file_actions_addopen(&actions, 0, input.c_str(), O_RDONLY, 0);
  ::posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ::posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> argv{const_cast<char*>(tool.c_str())};
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = ::posix_spawn(&pid, tool.c_str(), &actions, nullptr, argv.data(), environ);
  ::posix_spawn_file_actions_destroy(&actions);
  REQUIRE(spawned == 0);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) REQUIRE(errno == EINTR);
  ToolResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = read_file(out);
  result.err = read_file(err);
  return result;
}

// ---- JSON -----------------------------------------------------------------------------------------

/// A strict JSON syntax check (RFC 8259; strings must hold valid escapes and no raw control
/// characters). Recursion is bounded by the nesting of what `info --json` prints (three levels).
class JsonChecker {
 public:
  explicit JsonChecker(std::string_view text) : s_(text) {}
  /// True if the text is exactly one JSON value (with surrounding whitespace).
  bool valid() {
    skip_space();
    if (!value()) return false;
    skip_space();
    return i_ == s_.size();
  }

 private:
  bool value() {
    if (i_ >= s_.size()) return false;
    switch (s_[i_]) {
      case '{': return container('}', true);
      case '[': return container(']', false);
      case '"': return string();
      case 't': return literal("true");
      case 'f': return literal("false");
      case 'n': return literal("null");
      default: return number();
    }
  }
  bool container(char close, bool object) {
    ++i_;
    skip_space();
    if (peek() == close) return ++i_, true;
    for (;;) {
      if (object) {
        if (!string()) return false;
        skip_space();
        if (peek() != ':') return false;
        ++i_;
        skip_space();
      }
      if (!value()) return false;
      skip_space();
      if (peek() == close) return ++i_, true;
      if (peek() != ',') return false;
      ++i_;
      skip_space();
    }
  }
  bool string() {
    if (peek() != '"') return false;
    for (++i_; i_ < s_.size(); ++i_) {
      const auto c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') return ++i_, true;
      if (c < 0x20) return false;
      if (c == '\\' && !escape()) return false;
    }
    return false;
  }
  bool escape() {
    if (++i_ >= s_.size()) return false;
    if (std::string_view("\"\\/bfnrt").find(s_[i_]) != std::string_view::npos) return true;
    if (s_[i_] != 'u' || i_ + 4 >= s_.size()) return false;
    for (int k = 1; k <= 4; ++k)
      if (!std::isxdigit(static_cast<unsigned char>(s_[i_ + k]))) return false;
    i_ += 4;
    return true;
  }
  bool number() {
    const std::size_t start = i_;
    if (peek() == '-') ++i_;
    if (peek() == '0') ++i_;
    else if (!digits()) return false;
    if (peek() == '.' && (++i_, !digits())) return false;
    if ((peek() == 'e' || peek() == 'E')) {
      ++i_;
      if (peek() == '+' || peek() == '-') ++i_;
      if (!digits()) return false;
    }
    return i_ > start;
  }
  bool digits() {
    const std::size_t start = i_;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
    return i_ > start;
  }
  bool literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void skip_space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

/// The text of a top-level field's value in `info --json` output (which puts each top-level
/// field on its own line, indented by two spaces), up to the end of its line, without the
/// trailing comma. Empty if the field is missing.
inline std::string top_level_field(const std::string& json, const std::string& key) {
  const std::string marker = "\n  \"" + key + "\": ";
  const std::size_t at = json.find(marker);
  if (at == std::string::npos) return {};
  const std::size_t begin = at + marker.size();
  std::string value = json.substr(begin, json.find('\n', begin) - begin);
  if (!value.empty() && value.back() == ',') value.pop_back();
  return value;
}

}  // namespace tool_test
