// Writes the fuzzers' seed corpus: real snapshots of every feature of the format, small enough
// to mutate quickly (fuzz/samples.hpp lists them).
//
//   make_corpus DIR     one file per sample in DIR (created if missing)
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>

#include "fuzz/samples.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  try {
    const std::filesystem::path dir = argv[1];
    std::filesystem::create_directories(dir);
    std::size_t bytes = 0;
    const std::vector<snapheap_fuzz::Sample> samples = snapheap_fuzz::make_samples();
    for (const snapheap_fuzz::Sample& sample : samples) {
      std::ofstream out(dir / sample.name, std::ios::binary | std::ios::trunc);
      out.write(reinterpret_cast<const char*>(sample.bytes.data()), static_cast<std::streamsize>(sample.bytes.size()));
      out.close();
      if (!out) {
        std::fprintf(stderr, "make_corpus: cannot write %s\n", (dir / sample.name).c_str());
        return 1;
      }
      bytes += sample.bytes.size();
    }
    std::printf("make_corpus: %zu snapshots (%zu bytes) in %s\n", samples.size(), bytes, dir.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_corpus: %s\n", e.what());
    return 1;
  }
}
