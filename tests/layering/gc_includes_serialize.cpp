// Against the layering: gc must not see the snapshot module. Compiled with gc's include root,
// this must fail with "serialize/format.hpp: No such file" (tests/CMakeLists.txt).
#include "serialize/format.hpp"
