// A tiny JSON writer for the tool's --json output (info, top, why, diff): string escaping and an object/array builder that
// places the commas. Header-only so the tests can check the escaper directly.
//
// Names in a snapshot come from the file, so they may hold quotes, backslashes, control bytes or
// bytes that are not UTF-8. The escaper always produces valid JSON: quotes, backslashes and
// control characters are escaped, well-formed UTF-8 passes through, and each byte of an
// ill-formed sequence becomes U+FFFD (the replacement character), as decoders do.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace snapheap_tool::json {

namespace detail {

/// The length of the well-formed UTF-8 sequence starting at s[i], or 0 if it is ill-formed
/// (overlong, a surrogate, past U+10FFFF, or cut short). s[i] is not ASCII.
inline std::size_t utf8_sequence_length(std::string_view s, std::size_t i) noexcept {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) n = 2;
  else if (b0 >= 0xE0 && b0 <= 0xEF) n = 3, lo = b0 == 0xE0 ? 0xA0 : 0x80, hi = b0 == 0xED ? 0x9F : 0xBF;
  else if (b0 >= 0xF0 && b0 <= 0xF4) n = 4, lo = b0 == 0xF0 ? 0x90 : 0x80, hi = b0 == 0xF4 ? 0x8F : 0xBF;
  else return 0;
  if (i + n > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  return n;
}

inline void escape_ascii(std::string& out, char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  switch (c) {
    case '"': out += "\\\""; return;
    case '\\': out += "\\\\"; return;
    case '\b': out += "\\b"; return;
    case '\f': out += "\\f"; return;
    case '\n': out += "\\n"; return;
    case '\r': out += "\\r"; return;
    case '\t': out += "\\t"; return;
    default: break;
  }
  const auto u = static_cast<unsigned char>(c);
  if (u < 0x20 || u == 0x7F) {  // DEL is legal JSON but unsafe on a terminal
    out += "\\u00";
    out += kHex[u >> 4];
    out += kHex[u & 0xF];
  } else {
    out += c;
  }
}

}  // namespace detail

/// The JSON string literal for `s`, quotes included.
inline std::string quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      detail::escape_ascii(out, s[i++]);
    } else if (const std::size_t n = detail::utf8_sequence_length(s, i)) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out += "\\ufffd";
      ++i;
    }
  }
  out += '"';
  return out;
}

/// Writes one JSON value with two-space indentation, placing commas and newlines. Usage:
///
///     json::Writer w(std::cout);
///     w.begin_object();
///     w.key("objects").value(3);
///     w.key("types").begin_array(); ...; w.end_array();
///     w.end_object();
///
/// `compact` containers (the array elements of a table, say) are written on one line.
class Writer {
 public:
  explicit Writer(std::ostream& out) : out_(out) {}

  Writer& begin_object(bool compact = false) { return open('{', compact); }
  Writer& end_object() { return close('}'); }
  Writer& begin_array(bool compact = false) { return open('[', compact); }
  Writer& end_array() { return close(']'); }

  Writer& key(std::string_view name) {
    separate();
    out_ << quote(name) << ": ";
    after_key_ = true;
    return *this;
  }
  Writer& value(std::string_view s) { return raw(quote(s)); }
  Writer& value(const char* s) { return value(std::string_view(s)); }
  template <class T>
    requires std::is_unsigned_v<T> && (!std::is_same_v<T, bool>)
  Writer& value(T n) {
    return raw(std::to_string(n));
  }
  Writer& value(bool b) { return raw(b ? "true" : "false"); }
  Writer& null() { return raw("null"); }

 private:
  struct Level {
    bool compact = false;
    bool empty = true;
  };

  Writer& open(char bracket, bool compact) {
    separate();
    out_ << bracket;
    levels_.push_back({compact || inside_compact(), true});
    return *this;
  }
  Writer& close(char bracket) {
    const Level level = levels_.back();
    levels_.pop_back();
    if (!level.empty && !level.compact) newline();
    out_ << bracket;
    if (levels_.empty()) out_ << '\n';
    return *this;
  }
  Writer& raw(std::string_view text) {
    separate();
    out_ << text;
    return *this;
  }
  /// Before a key, or a value not after a key: a comma after a sibling, then a line break.
  void separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (levels_.empty()) return;
    Level& level = levels_.back();
    if (!level.empty) out_ << (level.compact ? ", " : ",");
    if (!level.compact) newline();
    level.empty = false;
  }
  void newline() {
    out_ << '\n';
    for (std::size_t i = 0; i < levels_.size(); ++i) out_ << "  ";
  }
  bool inside_compact() const { return !levels_.empty() && levels_.back().compact; }

  std::ostream& out_;
  std::vector<Level> levels_;  // the open containers, innermost last
  bool after_key_ = false;
};

}  // namespace snapheap_tool::json
