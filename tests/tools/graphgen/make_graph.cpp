// snapheap_make_graph OBJECTS SEED OUT: saves a random graph snapshot (random_graph.hpp) for the
// node checks (tests/tools/node) and the benchmarks' memlab script.
#include <charconv>
#include <cstdio>
#include <exception>
#include <string_view>

#include "random_graph.hpp"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: snapheap_make_graph OBJECTS SEED OUT\n");
    return 2;
  }
  snapheap_graphgen::Options options;
  const std::string_view objects(argv[1]), seed(argv[2]);
  if (std::from_chars(objects.data(), objects.data() + objects.size(), options.objects).ec != std::errc() ||
      std::from_chars(seed.data(), seed.data() + seed.size(), options.seed).ec != std::errc()) {
    std::fprintf(stderr, "snapheap_make_graph: OBJECTS and SEED are whole numbers\n");
    return 2;
  }
  try {
    snapheap::Heap heap;
    const auto outsiders = snapheap_graphgen::build(heap, options);
    const snapheap::SnapshotStats stats = snapheap::save(heap, argv[3], {.sync = false});
    std::printf("%s: %zu objects, %zu strong references, %zu weak, %zu tombstones, %llu bytes\n", argv[3],
                stats.objects, stats.strong_refs, stats.weak_targets, stats.weak_tombstones,
                static_cast<unsigned long long>(stats.bytes));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "snapheap_make_graph: %s\n", e.what());
    return 1;
  }
  return 0;
}
