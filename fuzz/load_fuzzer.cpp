// libFuzzer target: snapheap::load on arbitrary bytes, into a heap that already holds objects.
// Each input is loaded twice (fuzz/harness.hpp): as given with the checksum check off, so that
// in-place mutations reach the structural checks and the types' load code, and resealed (a
// fresh trailer: length and checksum) with the check on, so that mutations that change the
// length do too. A successful load must leave a heap that verifies and round-trips through save.
//
// Types: the seed model (examples/seed) and snapheap_fuzz::Record / Leaf (every field kind).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <span>

#include "fuzz/harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    // -1: an input this target does not judge (a huge DataProxy recipe); kept out of the corpus.
    return snapheap_fuzz::check_load_both(std::span<const unsigned char>(data, size)) ? 0 : -1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "load_fuzzer: %s\n", e.what());
    std::abort();
  }
}
