// One way to word a diagnostic that carries numbers and addresses (verify(), the table's
// consistency check, fatal stops): printf formatting into a std::string.
#pragma once

#include <string>

namespace snapheap::detail {

std::string format_message(const char* format, ...) __attribute__((format(printf, 1, 2)));

}  // namespace snapheap::detail
