// Format stability: the snapshots of tests/data/format-v1 (written by the library before the
// layering restructure) are what today's library writes for the same heaps, byte for byte, and
// each of them still loads and saves back to itself.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "fuzz/samples.hpp"

namespace {

const std::filesystem::path kGolden = std::filesystem::path(SNAPHEAP_SOURCE_DIR) / "tests/data/format-v1";

std::vector<unsigned char> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("the library writes the committed format-1 snapshots byte for byte", "[serialize][golden]") {
  const std::vector<snapheap_fuzz::Sample> samples = snapheap_fuzz::make_samples();
  REQUIRE(samples.size() >= 40);
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kGolden))
    files += entry.path().extension() != ".md";
  CHECK(files == samples.size());  // no sample without its golden file, and none left over
  for (const snapheap_fuzz::Sample& sample : samples) {
    INFO(sample.name);
    CHECK(sample.bytes == read_file(kGolden / sample.name));
  }
}

TEST_CASE("every committed format-1 snapshot loads and saves back to itself", "[serialize][golden]") {
  std::size_t checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kGolden)) {
    if (entry.path().extension() == ".md") continue;
    INFO(entry.path().filename().string());
    const std::vector<unsigned char> bytes = read_file(entry.path());
    snapheap::Heap heap;
    snapheap::load(heap, std::span(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()));
    CHECK(heap.verify().ok);
    CHECK(snapheap_fuzz::snapshot_of(heap) == bytes);
    ++checked;
  }
  CHECK(checked >= 40);
}
