// libFuzzer target: snapheap::inspect, and the graph behind the inspection commands
// (SnapshotGraph, dominators, shortest paths, the DevTools export), on arbitrary bytes. inspect() always checks the checksum,
// so each input is also resealed (a fresh trailer: length and checksum) to reach the structural
// checks: every record's length and references, the type table and the roots (fuzz/harness.hpp).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <span>

#include "fuzz/harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    snapheap_fuzz::check_inspect_both(std::span<const unsigned char>(data, size));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "inspect_fuzzer: %s\n", e.what());
    std::abort();
  }
  return 0;
}
