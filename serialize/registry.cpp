#include <cctype>
#include <string>
#include <string_view>

#include "snapheap/registry.hpp"

namespace snapheap::detail {

std::string normalize_type_name(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  bool space = false;
  for (char c : name) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = !out.empty();
      continue;
    }
    // Keep one space only between two identifier characters ("unsigned int"); drop it elsewhere
    // except after a comma, where the C++ spelling keeps it ("Pair<int, int>").
    const bool word = std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    const char last = out.empty() ? '\0' : out.back();
    const bool last_word = std::isalnum(static_cast<unsigned char>(last)) || last == '_';
    if (space && ((word && last_word) || last == ',')) out += ' ';
    if (!space && last == ',' ) out += ' ';
    space = false;
    out += c;
  }
  if (out.rfind("::", 0) == 0) out.erase(0, 2);
  return out;
}

}  // namespace snapheap::detail
