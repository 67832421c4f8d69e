// Allowed: gc sees core. (tests/CMakeLists.txt compiles this with gc's include root.)
#include "core/object_table.hpp"
#include "gc/collector.hpp"
