// Format stability.
//  - tests/data/format-v3: what today's library writes for fuzz/samples.hpp's heaps with weak
//    structures (the weak-* samples), byte for byte; each loads and saves back to itself.
//  - tests/data/format-v2: what today's library writes for fuzz/samples.hpp's other heaps, byte for byte;
//    each file loads (one with external roots into the fuzzers' destination heap, which has them)
//    and saves back to itself.
//  - tests/data/format-v1: the same heaps as the library wrote them in format 1 (at commit
//    0cfe974, before format 2). Each still loads and saves back as format 2, to the bytes of the
//    format-2 file of the same name, except where format 1 cannot say more: its tombstones do not
//    record whether the target had died or was left out, so they load expired and save as
//    expired (code 2) where the format-2 file says left out (code 3). The test requires exactly
//    those bytes to differ, as many as the format-2 file has left-out tombstones.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "fuzz/harness.hpp"
#include "fuzz/samples.hpp"

namespace {

const std::filesystem::path kData = std::filesystem::path(SNAPHEAP_SOURCE_DIR) / "tests/data";
const std::filesystem::path kGolden1 = kData / "format-v1";
const std::filesystem::path kGolden2 = kData / "format-v2";
const std::filesystem::path kGolden3 = kData / "format-v3";

bool has_weak_structures(const std::string& sample) { return sample.rfind("weak-", 0) == 0; }

std::vector<unsigned char> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::filesystem::path> snapshots_in(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.path().extension() != ".md") files.push_back(entry.path());
  return files;
}

snapheap::SnapshotInfo info_of(const std::vector<unsigned char>& bytes) {
  return snapheap::inspect(snapheap_fuzz::as_bytes(bytes));
}

}  // namespace

TEST_CASE("the library writes the committed format-2 snapshots byte for byte", "[serialize][golden]") {
  const std::vector<snapheap_fuzz::Sample> samples = snapheap_fuzz::make_samples();
  REQUIRE(samples.size() >= 50);
  // No sample without its golden file, and none left over.
  const auto weak = static_cast<std::size_t>(std::count_if(
      samples.begin(), samples.end(), [](const snapheap_fuzz::Sample& s) { return has_weak_structures(s.name); }));
  CHECK(weak >= 2);
  CHECK(snapshots_in(kGolden3).size() == weak);
  CHECK(snapshots_in(kGolden2).size() == samples.size() - weak);
  std::size_t with_externals = 0, with_ephemerons = 0;
  for (const snapheap_fuzz::Sample& sample : samples) {
    INFO(sample.name);
    const bool v3 = has_weak_structures(sample.name);
    const std::vector<unsigned char> golden = read_file((v3 ? kGolden3 : kGolden2) / sample.name);
    CHECK(sample.bytes == golden);
    const snapheap::SnapshotInfo info = info_of(golden);
    CHECK(info.format_version == (v3 ? 3 : 2));
    with_externals += !info.externals.empty();
    with_ephemerons += info.ephemerons_saved != 0 && info.ephemerons_dropped != 0 && info.weak_values_saved != 0 &&
                       info.weak_values_dropped != 0;
  }
  CHECK(with_externals >= 7);  // external-seed-*, external-cycle, external-graph-*
  CHECK(with_ephemerons >= 1);  // weak-left-out
}

TEST_CASE("every committed format-2 and format-3 snapshot loads and saves back to itself", "[serialize][golden]") {
  std::size_t checked = 0;
  std::vector<std::filesystem::path> files = snapshots_in(kGolden2);
  for (const auto& file : snapshots_in(kGolden3)) files.push_back(file);
  for (const std::filesystem::path& file : files) {
    INFO(file.filename().string());
    const std::vector<unsigned char> bytes = read_file(file);
    CHECK_NOTHROW(snapheap_fuzz::check_resaves_identically(bytes));
    ++checked;
  }
  CHECK(checked >= 50);
}

TEST_CASE("every committed format-1 snapshot loads and saves back as format 2", "[serialize][golden]") {
  std::size_t checked = 0, differing = 0;
  for (const std::filesystem::path& file : snapshots_in(kGolden1)) {
    const std::string name = file.filename().string();
    INFO(name);
    const std::vector<unsigned char> old = read_file(file);
    const snapheap::SnapshotInfo old_info = info_of(old);
    CHECK(old_info.format_version == 1);
    CHECK(old_info.weak_expired + old_info.weak_left_out == 0);  // format 1 does not say

    snapheap::Heap heap;
    snapheap::load(heap, snapheap_fuzz::as_bytes(old));
    CHECK(heap.verify().ok);
    const std::vector<unsigned char> resaved = snapheap_fuzz::snapshot_of(heap);
    const snapheap::SnapshotInfo info = info_of(resaved);
    CHECK(info.format_version == 2);
    CHECK(info.objects == old_info.objects);
    CHECK(info.strong_refs == old_info.strong_refs);
    CHECK(info.weak_targets == old_info.weak_targets);
    CHECK(info.weak_tombstones == old_info.weak_tombstones);
    CHECK(info.weak_expired == old_info.weak_tombstones);  // every format-1 tombstone loads expired
    CHECK(info.roots.size() == old_info.roots.size());

    // The format-2 file of the same heap: the same bytes but for its left-out tombstones.
    const std::vector<unsigned char> golden = read_file(kGolden2 / name);
    const snapheap::SnapshotInfo golden_info = info_of(golden);
    REQUIRE(resaved.size() == golden.size());
    std::size_t left_out = 0, other = 0;
    for (std::size_t i = 0; i + snapheap::detail::wire::kTrailerSize < golden.size(); ++i) {
      if (resaved[i] == golden[i]) continue;
      if (golden[i] == snapheap::detail::wire::kLeftOutRef && resaved[i] == snapheap::detail::wire::kExpiredRef)
        ++left_out;
      else
        ++other;
    }
    CHECK(other == 0);
    CHECK(left_out == golden_info.weak_left_out);
    if (golden_info.weak_left_out == 0) CHECK(resaved == golden);
    differing += left_out != 0;
    ++checked;
  }
  CHECK(checked >= 40);
  CHECK(differing >= 3);  // the model-only weak-ref snapshots, "handles", the graphs with unreached targets
}
