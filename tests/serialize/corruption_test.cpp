// Invariant 5 under damage: real snapshots cut at every length and with every byte flipped, as
// they are (the checksum must catch every change) and resealed with a matching checksum (so the
// structural checks and the types' load code are reached; each byte with three masks, and every
// bit of one payload snapshot). A load either throws SnapshotError
// and leaves the destination heap as it was, or (resealed only) loads a heap that verifies and
// saves again. Never a crash (the ASan build runs these too), a hang, or an undetected change.
// The subjects include snapshots with external roots (fuzz/samples.hpp's external-*), loaded into
// the fuzzers' destination heap, which has those roots.
#include <catch2/catch.hpp>

#include <cstddef>
#include <exception>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "fuzz/harness.hpp"
#include "fuzz/samples.hpp"
#include "serialize/format.hpp"
#include "serialize/snapshot_types.hpp"

using namespace snapheap;

namespace {

using Bytes = std::vector<unsigned char>;

struct Subject {
  std::string name;
  Bytes bytes;
};

/// The destination heap's roots are replaced by the snapshot's of the same name, so that every
/// sample can load (one names a root of the destination); the checksum is checked.
const LoadOptions kOptions{.on_root_conflict = RootConflict::replace, .verify_checksum = true};

/// The result of one load attempt into a populated heap.
struct Attempt {
  bool loaded = false;
  SnapshotErrc code{};
  std::string what;
  std::string problem;  // a broken property, if any
};

/// The fuzzers' populated destination heap and its state, reused from one refused load to the
/// next: each refused load must leave it exactly as it was (snapheap_fuzz::HeapState: the same
/// objects live after a collection, every root holding the same object, a save giving the same
/// bytes), so the next load meets the same heap. Made anew after a load that succeeded or broke
/// a property.
class Target {
 public:
  Target() { reset(); }

  /// Loads with kOptions (the checksum checked); on failure checks that the heap is as it was,
  /// verifies, and still holds the host's objects.
  Attempt attempt(const Bytes& bytes) {
    Attempt a;
    try {
      load(dest_->heap, snapheap_fuzz::as_bytes(bytes), kOptions);
      a.loaded = true;
    } catch (const SnapshotError& e) {
      a.code = e.code();
      a.what = e.what();
      if (const snapheap_fuzz::HeapState after = snapheap_fuzz::state_of(dest_->heap); after != before_)
        a.problem = "the failed load changed the heap: " + snapheap_fuzz::difference(before_, after);
      else if (!dest_->heap.verify().ok) a.problem = "heap.verify() fails after the failed load";
      else {
        try {
          dest_->check_intact("by a failed load");
        } catch (const snapheap_fuzz::PropertyViolation& v) {
          a.problem = v.what();
        }
      }
    }
    if (a.loaded || !a.problem.empty()) reset();
    return a;
  }

 private:
  void reset() {
    dest_ = std::make_unique<snapheap_fuzz::Destination>();
    before_ = snapheap_fuzz::state_of(dest_->heap);
  }
  std::unique_ptr<snapheap_fuzz::Destination> dest_;
  snapheap_fuzz::HeapState before_;
};

/// A graph of SNodes under an SGraph: some nodes left out (their weak handles become
/// tombstones), some dead.
Bytes snode_graph(std::uint32_t seed, int n) {
  using snapheap_stest::SGraph;
  using snapheap_stest::SNode;
  Heap heap;
  std::mt19937 rng(seed);
  auto graph = heap.make<SGraph>();
  heap.set_root("graph", graph);
  std::vector<Strong<SNode>> nodes;
  for (int i = 0; i < n; ++i) nodes.push_back(heap.make<SNode>(i * 1000 - 7));
  for (auto& node : nodes) {
    if (rng() % 2) node->next = nodes[rng() % nodes.size()];
    if (rng() % 3 == 0) node->peer = nodes[rng() % nodes.size()];
  }
  for (auto& node : nodes)
    if (rng() % 2) graph->nodes.emplace_back(node);
  for (int k = 0; k < 5; ++k) graph->watch.emplace_back(nodes[rng() % nodes.size()]);
  nodes.clear();
  heap.collect();
  return snapheap_fuzz::snapshot_of(heap);
}

Bytes seed_snapshot(seed::Scenario scenario, std::int64_t elements, bool model_only) {
  Heap heap;
  seed::build(heap, scenario, elements);
  return snapheap_fuzz::snapshot_of(heap, model_only ? SaveOptions{.roots = {"model"}} : SaveOptions{});
}

std::vector<Subject> small_subjects() {
  std::vector<Subject> out = {
      {"seed weak-ref, all roots", seed_snapshot(seed::Scenario::weak_ref, 10, false)},
      {"seed weak-ref, model only (a tombstone)", seed_snapshot(seed::Scenario::weak_ref, 10, true)},
      {"seed strong-ref", seed_snapshot(seed::Scenario::strong_ref, 10, true)},
      {"seed proxy", seed_snapshot(seed::Scenario::proxy, 10, false)},
      // 520 int64 = 4160 bytes: past the bulk threshold, written from the object's memory.
      {"seed weak-ref with a bulk array", seed_snapshot(seed::Scenario::weak_ref, 520, false)},
      {"SNode graph 1", snode_graph(1, 12)},
      {"SNode graph 2", snode_graph(2, 30)},
  };
  for (snapheap_fuzz::Sample& s : snapheap_fuzz::make_samples())
    if (s.name == "handles" || s.name == "features" || s.name == "graph-1-20" || s.name == "graph-5-4" ||
        s.name == "empty" || s.name == "external-seed-strong-ref" || s.name == "external-cycle")
      out.push_back({s.name, std::move(s.bytes)});
  return out;
}

/// Counts what the sweep ran, for the final checks and the message of a failure. `skipped` are
/// resealed flips that would run a DataProxy recipe past the fuzzers' limit (fuzz/harness.hpp):
/// they are not loaded, so they are not counted as cases.
struct Tally {
  std::size_t cases = 0, refused = 0, loaded = 0, skipped = 0;
  std::size_t expected = 0;  // cases + skipped, if every byte got every flip
};

/// The masks a resealed byte is flipped with: the low bit, the high bit (a varint's continuation
/// bit), all of them.
constexpr unsigned char kMasks[] = {0x01, 0x80, 0xff};

/// Every truncation length, every byte flipped (^ 0xff) as is, every byte before the trailer
/// flipped with each of kMasks and resealed.
void sweep(const Subject& subject, Tally& tally) {
  namespace format = detail::format;
  const Bytes& good = subject.bytes;
  const std::size_t size = good.size();
  INFO("subject: " << subject.name << " (" << size << " bytes)");
  REQUIRE(size >= snapheap::detail::wire::kHeaderSize + snapheap::detail::wire::kTrailerSize);
  REQUIRE(snapheap_fuzz::check_load(good, kOptions) == snapheap_fuzz::Outcome::loaded);
  snapheap_fuzz::check_resaves_identically(good);  // the undamaged subject is the library's own form
  tally.expected += size + size + std::size(kMasks) * (size - snapheap::detail::wire::kTrailerSize);

  // Every truncation: reported as truncated, the heap unchanged.
  Target target;
  for (std::size_t n = 0; n < size; ++n) {
    const Bytes cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
    const Attempt a = target.attempt(cut);
    ++tally.cases;
    if (a.loaded || a.code != SnapshotErrc::truncated || !a.problem.empty())
      FAIL_CHECK("cut to " << n << " bytes: " << (a.loaded ? "it loaded" : a.what) << " " << a.problem);
  }

  // Every byte flipped, as is: the load fails, the heap unchanged. In the body (between the
  // header and the trailer) it is the checksum that catches it: the reader's own checks come
  // after it.
  for (std::size_t i = 0; i < size; ++i) {
    Bytes bad = good;
    bad[i] ^= 0xff;
    const Attempt a = target.attempt(bad);
    ++tally.cases;
    const bool body = i >= snapheap::detail::wire::kHeaderSize && i < size - snapheap::detail::wire::kTrailerSize;
    if (a.loaded || !a.problem.empty() || (body && a.code != SnapshotErrc::checksum_mismatch))
      FAIL_CHECK("byte " << i << " flipped: " << (a.loaded ? "it loaded, undetected" : a.what) << " " << a.problem);
  }

  // Every byte before the trailer flipped with the checksum resealed: SnapshotError with the
  // heap unchanged, or a clean load (heap.verify() passes, inspect agrees, it saves and the
  // result loads and saves the same bytes): fuzz/harness.hpp checks all of that.
  for (std::size_t i = 0; i < size - snapheap::detail::wire::kTrailerSize; ++i) {
    for (unsigned char mask : kMasks) {
      Bytes bad = good;
      bad[i] ^= mask;
      const Bytes sealed = snapheap_fuzz::reseal(bad);
      if (snapheap_fuzz::has_large_recipe(sealed)) {  // a DataProxy asked for more than 2^20 elements
        ++tally.skipped;
        continue;
      }
      ++tally.cases;
      try {
        if (snapheap_fuzz::check_load(sealed, kOptions) == snapheap_fuzz::Outcome::loaded) ++tally.loaded;
        else ++tally.refused;
      } catch (const std::exception& e) {
        FAIL_CHECK("byte " << i << " ^ " << int{mask} << ", resealed: " << e.what());
      }
    }
  }
}

/// Whether a snapshot holds a seed::DataProxy (the only type whose flips may be skipped).
bool has_proxy(const Bytes& bytes) {
  for (const auto& type : inspect(snapheap_fuzz::as_bytes(bytes)).types)
    if (type.name == "seed::DataProxy") return true;
  return false;
}

/// Sweeps the subjects and checks that every flip ran: nothing skipped but DataProxy recipes,
/// and resealed flips both loaded and were refused.
void sweep_all(const std::vector<Subject>& subjects) {
  Tally tally;
  std::size_t proxy_bytes = 0;
  for (const Subject& subject : subjects) {
    const std::size_t skipped = tally.skipped;
    sweep(subject, tally);
    INFO("subject " << subject.name);
    if (has_proxy(subject.bytes)) proxy_bytes += subject.bytes.size();
    else CHECK(tally.skipped == skipped);
  }
  INFO(subjects.size() << " subjects, " << tally.cases << " cases run; resealed: " << tally.loaded << " loaded, "
                       << tally.refused << " refused, " << tally.skipped << " skipped (huge DataProxy recipes)");
  CHECK(tally.cases + tally.skipped == tally.expected);
  CHECK(tally.skipped <= std::size(kMasks) * proxy_bytes);
  CHECK(tally.loaded > 0);
  CHECK(tally.refused > 0);
}

}  // namespace

TEST_CASE("damaged snapshots are refused or load cleanly, never crash", "[serialize][hardening]") {
  sweep_all(small_subjects());
}

namespace {
/// The fuzz corpus in four parts of similar size, one test case each, so that ctest runs them
/// side by side; every sample is in exactly one part.
enum class CorpusPart { seed_strong, seed_other_and_graphs, bulk, rest };
CorpusPart part_of(const std::string& name) {
  if (name.rfind("seed-strong-ref-", 0) == 0) return CorpusPart::seed_strong;
  if (name.rfind("seed-", 0) == 0 || name.rfind("graph-", 0) == 0) return CorpusPart::seed_other_and_graphs;
  if (name == "bulk") return CorpusPart::bulk;
  return CorpusPart::rest;
}
void sweep_corpus(CorpusPart part) {
  std::vector<Subject> subjects;
  for (snapheap_fuzz::Sample& sample : snapheap_fuzz::make_samples())
    if (part_of(sample.name) == part) subjects.push_back({sample.name, std::move(sample.bytes)});
  REQUIRE(!subjects.empty());
  sweep_all(subjects);
}
}  // namespace

TEST_CASE("damaged snapshots: the fuzz corpus, seed-strong-ref-*", "[serialize][hardening][big]") {
  sweep_corpus(CorpusPart::seed_strong);
}
TEST_CASE("damaged snapshots: the fuzz corpus, the other seed-* and graph-*", "[serialize][hardening][big]") {
  sweep_corpus(CorpusPart::seed_other_and_graphs);
}
TEST_CASE("damaged snapshots: the fuzz corpus, bulk", "[serialize][hardening][big]") {
  sweep_corpus(CorpusPart::bulk);
}
TEST_CASE("damaged snapshots: the fuzz corpus, the rest", "[serialize][hardening][big]") {
  sweep_corpus(CorpusPart::rest);
}

TEST_CASE("damaged snapshots: every resealed flip of a seed payload at every bit", "[serialize][hardening][big]") {
  // Single-bit flips everywhere in a bulk payload's snapshot: the varints, the block header,
  // the block's bytes and the references each see all eight bits.
  const Bytes good = seed_snapshot(seed::Scenario::strong_ref, 600, false);
  REQUIRE(good.size() > 600 * 8);
  std::size_t cases = 0, loaded = 0, refused = 0;
  for (std::size_t i = 0; i < good.size() - snapheap::detail::wire::kTrailerSize; ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      Bytes bad = good;
      bad[i] ^= static_cast<unsigned char>(1u << bit);
      ++cases;
      try {
        if (snapheap_fuzz::check_load(snapheap_fuzz::reseal(bad), kOptions) == snapheap_fuzz::Outcome::loaded) ++loaded;
        else ++refused;
      } catch (const std::exception& e) {
        FAIL_CHECK("byte " << i << " bit " << bit << ", resealed: " << e.what());
      }
    }
  }
  INFO(cases << " cases: " << loaded << " loaded, " << refused << " refused");
  CHECK(cases == 8 * (good.size() - snapheap::detail::wire::kTrailerSize));
  CHECK(loaded + refused == cases);
  CHECK(loaded > 0);   // flips inside the payload's values load (as other values)
  CHECK(refused > 0);  // flips in the structure are refused
}
