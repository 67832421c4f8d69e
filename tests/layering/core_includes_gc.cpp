// Against the layering: core must not see the collector. Compiled with core's include root, this
// must fail with "gc/collector.hpp: No such file" (tests/CMakeLists.txt).
#include "gc/collector.hpp"
