// Every input in fuzz/regressions/ (the inputs the fuzz targets once failed on) goes through the
// fuzz targets' own checks (fuzz/harness.hpp): load as given with the checksum check off, load
// resealed, inspect as given and resealed; the heap verified, unchanged after a refused load,
// round-tripped after a successful one. The inputs must be there and be the ones
// fuzz/regressions/README.md lists, and each must be checked (not skipped by the harness). The
// seed corpus (fuzz/samples.hpp) goes through the checks too, so that they are known to pass on
// good snapshots, and each sample must save back to its own bytes.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz/harness.hpp"
#include "fuzz/samples.hpp"

#ifndef SNAPHEAP_SOURCE_DIR
#error "SNAPHEAP_SOURCE_DIR (the source tree) must be defined: see tests/CMakeLists.txt"
#endif

namespace {

std::vector<std::filesystem::path> regression_inputs() {
  const std::filesystem::path dir = std::filesystem::path(SNAPHEAP_SOURCE_DIR) / "fuzz" / "regressions";
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.is_regular_file() && entry.path().filename().string().rfind("README", 0) != 0)
      files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<unsigned char> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// The file names fuzz/regressions/README.md's table lists (its rows start with "| `name` |").
std::vector<std::string> listed_inputs() {
  std::ifstream in(std::filesystem::path(SNAPHEAP_SOURCE_DIR) / "fuzz" / "regressions" / "README.md");
  REQUIRE(in);
  std::vector<std::string> names;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("| `", 0) != 0) continue;
    const std::size_t end = line.find('`', 3);
    if (end != std::string::npos) names.push_back(line.substr(3, end - 3));
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST_CASE("the fuzz regression inputs pass the fuzz targets' checks", "[serialize][hardening]") {
  REQUIRE(std::filesystem::is_directory(std::filesystem::path(SNAPHEAP_SOURCE_DIR) / "fuzz" / "regressions"));
  const auto files = regression_inputs();
  // The inputs are there, and they are the ones the README lists: none lost, none unlisted.
  REQUIRE_FALSE(files.empty());
  std::vector<std::string> names;
  for (const auto& file : files) names.push_back(file.filename().string());
  CHECK(names == listed_inputs());
  for (const auto& file : files) {
    INFO("fuzz/regressions/" << file.filename().string());
    const std::vector<unsigned char> bytes = read_file(file);
    // Both loads checked: an input the harness would skip (a huge DataProxy recipe) fails here.
    bool checked = false;
    CHECK_NOTHROW(checked = snapheap_fuzz::check_load_both(bytes));
    CHECK(checked);
    CHECK_NOTHROW(snapheap_fuzz::check_inspect_both(bytes));
  }
}

TEST_CASE("the seed corpus loads, inspects and round-trips under the fuzz targets' checks",
          "[serialize][hardening]") {
  for (const snapheap_fuzz::Sample& sample : snapheap_fuzz::make_samples()) {
    INFO("sample " << sample.name);
    REQUIRE(snapheap_fuzz::check_load(sample.bytes, {.on_root_conflict = snapheap::RootConflict::replace,
                                                     .verify_checksum = false}) == snapheap_fuzz::Outcome::loaded);
    // Resealing a good snapshot changes nothing.
    CHECK(snapheap_fuzz::reseal(sample.bytes) == sample.bytes);
    const bool conflicts = sample.name == "many-roots";  // names a root of the destination heap
    CHECK(snapheap_fuzz::check_load(sample.bytes, {}) ==
          (conflicts ? snapheap_fuzz::Outcome::refused : snapheap_fuzz::Outcome::loaded));
    CHECK_NOTHROW(snapheap_fuzz::check_inspect_both(sample.bytes));
    CHECK_FALSE(snapheap_fuzz::has_large_recipe(sample.bytes));
    // The library's own output: loaded into an empty heap, it saves back to the same bytes.
    CHECK_NOTHROW(snapheap_fuzz::check_resaves_identically(sample.bytes));
  }
}

TEST_CASE("the fuzz harness skips only huge DataProxy recipes", "[serialize][hardening]") {
  snapheap::Heap heap;
  seed::build(heap, seed::Scenario::proxy, 10);
  auto layer = snapheap::dynamic_handle_cast<seed::ProxyLayer>(
      snapheap::Strong<snapheap::Object>(heap.root<seed::Model>("model")->layers.at(0)));
  REQUIRE(layer);
  layer->data_proxy->count = snapheap_fuzz::kMaxRecipeElements;
  CHECK_FALSE(snapheap_fuzz::has_large_recipe(snapheap_fuzz::snapshot_of(heap)));
  layer->data_proxy->count = snapheap_fuzz::kMaxRecipeElements + 1;
  CHECK(snapheap_fuzz::has_large_recipe(snapheap_fuzz::snapshot_of(heap)));
}
