// Invariant 5: a bad snapshot throws SnapshotError saying what and where, allocates no more than
// the input justifies, and leaves the destination heap as it was. Also the errors of save.
#include <catch2/catch.hpp>

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <vector>

#include "serialize/format.hpp"
#include "serialize/snapshot_types.hpp"
#include "support/alloc_probe.hpp"
#include "support/child_process.hpp"

using namespace snapheap;
using namespace snapheap_stest;

namespace errors_test {

bool g_throw_in_constructor = false;
bool g_throw_in_load = false;
bool g_throw_in_save = false;

/// A type whose constructor, load or save throws on demand.
struct Fragile final : Object {
  int value = 0;
  Fragile() {
    if (g_throw_in_constructor) throw std::runtime_error("constructor failed");
  }
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    if (Archive::is_loading::value && g_throw_in_load) throw std::runtime_error("load failed");
    if (Archive::is_saving::value && g_throw_in_save) throw std::runtime_error("save failed");
    ar & value;
  }
};

/// Saves a Member that its trace() does not visit: a bug the writer must catch.
struct Forgetful final : Object {
  Member<SNode> hidden;
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & hidden;
  }
};

/// Not registered for snapshots.
struct Unregistered final : Object {
  void trace(Tracer&) const override {}
};
struct HoldsUnregistered final : Object {
  Member<Unregistered> member;
  void trace(Tracer& t) const override { t.trace(member); }
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & member;
  }
};

/// Registered (in a child process) under a name another type already has.
struct Twin final : Object {
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive&, unsigned) {}
};

/// A vector field, for hostile counts.
struct Numbers final : Object {
  std::vector<std::int32_t> values;
  std::vector<std::string> words;
  void trace(Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & values & words;
  }
};

}  // namespace errors_test

SNAPHEAP_REGISTER(errors_test::Fragile);
SNAPHEAP_REGISTER(errors_test::Forgetful);
SNAPHEAP_REGISTER(errors_test::HoldsUnregistered);
SNAPHEAP_REGISTER(errors_test::Numbers);

using namespace errors_test;

namespace {

const std::string kNode = "snapheap_stest::SNode";
const std::string kGraph = "snapheap_stest::SGraph";

/// What a refused load allocated: through operator new (counted by AllocProbe) and in managed
/// heap pages (the growth of committed_bytes).
struct LoadAllocations {
  snapheap_test::AllocCounts heap_allocations;
  std::size_t committed_growth = 0;
};

/// Loads `bytes` into a heap that already holds something, and checks that the load fails with
/// `code`, a message containing `text`, and the heap unchanged. Returns the error's offset; if
/// `allocations` is given, counts what the load call allocated into it.
std::uint64_t expect_failure(const std::vector<std::byte>& bytes, SnapshotErrc code, const std::string& text = "",
                             const LoadOptions& options = {}, LoadAllocations* allocations = nullptr) {
  Heap heap;
  auto existing = heap.make<SNode>(1);
  heap.set_root("existing", existing);
  existing.reset();
  const HeapState before = state_of(heap);
  std::uint64_t offset = SnapshotError::kNoOffset;
  const std::size_t committed = heap.stats().committed_bytes;
  std::optional<snapheap_test::AllocProbe> probe;
  if (allocations) probe.emplace();
  try {
    load(heap, std::span<const std::byte>(bytes), options);
    probe.reset();
    FAIL("load did not throw");
  } catch (const SnapshotError& e) {
    if (allocations) {
      allocations->heap_allocations = probe->counts();
      probe.reset();
      allocations->committed_growth = heap.stats().committed_bytes - committed;
    }
    INFO(e.what());
    CHECK(e.code() == code);
    CHECK(std::string(e.what()).find(text) != std::string::npos);
    offset = e.offset();
  }
  CHECK(state_of(heap) == before);
  CHECK(heap.verify().ok);
  return offset;
}

/// A refused load of a hostile snapshot may allocate what a small snapshot needs (a reader's
/// tables, a message, the one or two objects it declares, which may open a 64 KiB page of their
/// size class), nothing in proportion to the counts and lengths the snapshot claims (2^40
/// objects, 2^60 elements, a 2^62-byte string): at most 64 KiB in one piece, 256 KiB in all,
/// and 256 KiB of new heap pages.
constexpr std::size_t kLargestAllocation = 64 * 1024;
constexpr std::size_t kAllAllocations = 256 * 1024;
constexpr std::size_t kPageGrowth = 256 * 1024;

/// expect_failure, and the load allocated no more than a small snapshot justifies.
void expect_refused_early(const std::vector<std::byte>& bytes, SnapshotErrc code, const std::string& text = "") {
  LoadAllocations a;
  expect_failure(bytes, code, text, {}, &a);
  INFO("the load made " << a.heap_allocations.count << " allocations of " << a.heap_allocations.bytes
                        << " bytes in all, the largest " << a.heap_allocations.largest
                        << " bytes; the heap's pages grew by " << a.committed_growth << " bytes");
  CHECK(a.heap_allocations.largest <= kLargestAllocation);
  CHECK(a.heap_allocations.bytes <= kAllAllocations);
  CHECK(a.committed_growth <= kPageGrowth);
}

/// A valid two-node snapshot: node 0 -> node 1 (strong), node 1 -> node 0 (weak).
RawSnapshot two_nodes() {
  RawSnapshot raw;
  raw.types = {{kNode, 0}};
  raw.objects = 2;
  raw.runs = {{0, 2}};
  RawRecord a, b;
  put_varint(a.data, snapheap::detail::wire::zigzag(10));
  a.refs = {ref_code(0, 1, false), snapheap::detail::wire::kEmptyWeakRef};
  put_varint(b.data, snapheap::detail::wire::zigzag(20));
  b.refs = {snapheap::detail::wire::kEmptyStrongRef, ref_code(1, 0, true)};
  raw.records = {a, b};
  raw.roots = {{"root", 0}};
  return raw;
}

}  // namespace

TEST_CASE("a hand-built snapshot loads (the builder the other tests use is right)", "[serialize][errors]") {
  Heap heap;
  load(heap, std::span<const std::byte>(build(two_nodes())));
  auto root = heap.root<SNode>("root");
  REQUIRE(root);
  CHECK(root->value == 10);
  CHECK(root->next->value == 20);
  CHECK(root->next->peer.lock().get() == root.get());
}

TEST_CASE("structural damage is reported with what and where", "[serialize][errors][valgrind]") {
  const std::vector<std::byte> good = build(two_nodes());

  SECTION("not a snapshot") {
    std::vector<std::byte> text(64, std::byte{'a'});
    CHECK(expect_failure(text, SnapshotErrc::not_a_snapshot, "magic") == 0);
  }
  SECTION("a newer format version") {
    auto bytes = good;
    bytes[8] = std::byte{9};
    CHECK(expect_failure(reseal(bytes), SnapshotErrc::unsupported_format, "format version 9") == 8);
  }
  SECTION("another byte order") {
    auto bytes = good;
    bytes[10] = static_cast<std::byte>(snapheap::detail::wire::native_byte_order() == 1 ? 2 : 1);
    CHECK(expect_failure(reseal(bytes), SnapshotErrc::machine_mismatch, "endian") == 10);
  }
  SECTION("a changed byte fails the checksum") {
    auto bytes = good;
    bytes[bytes.size() / 2] ^= std::byte{0x40};
    CHECK(expect_failure(bytes, SnapshotErrc::checksum_mismatch, "checksum") == bytes.size() - 8);
  }
  SECTION("every truncation is reported, none crashes") {
    for (std::size_t n = 0; n < good.size(); ++n) {
      INFO("cut at " << n);
      const std::vector<std::byte> cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
      Heap heap;
      CHECK_THROWS_MATCHES(load(heap, std::span<const std::byte>(cut)), SnapshotError,
                           HasCode(SnapshotErrc::truncated));
      CHECK(heap.stats().live_objects == 0);
    }
    const std::vector<std::byte> cut(good.begin(), good.end() - 5);
    expect_failure(cut, SnapshotErrc::truncated, "end marker");
  }
  SECTION("bytes after the end are reported") {
    auto bytes = good;
    bytes.push_back(std::byte{0});
    expect_failure(bytes, SnapshotErrc::truncated);
  }
}

TEST_CASE("the allocation probe sees what is allocated", "[serialize][errors]") {
  // The hostile-contents test below relies on it: it must see an allocation to be able to fail.
  std::size_t largest = 0, count = 0;
  {
    snapheap_test::AllocProbe probe;
    std::vector<std::int64_t> big(100000);
    const Heap heap;  // its tables are allocated with operator new
    largest = probe.counts().largest;
    count = probe.counts().count;
    CHECK(big.size() == 100000);
  }
  CHECK(largest >= 100000 * sizeof(std::int64_t));
  CHECK(count >= 2);
}

TEST_CASE("hostile contents are refused before anything large is allocated", "[serialize][errors][valgrind]") {
  SECTION("an object count the snapshot cannot hold") {
    RawSnapshot raw = two_nodes();
    raw.objects = std::uint64_t{1} << 40;
    raw.runs = {{0, std::uint64_t{1} << 40}};
    expect_refused_early(build(raw), SnapshotErrc::malformed, "object count");
  }
  SECTION("type runs that do not add up") {
    RawSnapshot raw = two_nodes();
    raw.runs = {{0, 1}};
    expect_refused_early(build(raw), SnapshotErrc::malformed, "type runs cover");
  }
  SECTION("a type run naming a type that is not in the table") {
    RawSnapshot raw = two_nodes();
    raw.runs = {{3, 2}};
    expect_refused_early(build(raw), SnapshotErrc::malformed, "type 3");
  }
  SECTION("a reference to an object that does not exist") {
    RawSnapshot raw = two_nodes();
    raw.records[0].refs[0] = ref_code(0, 5, false);
    expect_refused_early(build(raw), SnapshotErrc::bad_reference, "object 5");
    raw.records[0].refs[0] = ref_code(0, -1, false);
    expect_refused_early(build(raw), SnapshotErrc::bad_reference, "object -1");
  }
  SECTION("a weak reference where a Member is stored, and the reverse") {
    RawSnapshot raw = two_nodes();
    raw.records[0].refs[0] = ref_code(0, 1, true);
    expect_refused_early(build(raw), SnapshotErrc::bad_reference, "Member field holds a weak");
    raw = two_nodes();
    raw.records[1].refs[1] = ref_code(1, 0, false);
    expect_refused_early(build(raw), SnapshotErrc::bad_reference, "Weak field holds a Member");
    raw = two_nodes();
    raw.records[0].refs[0] = snapheap::detail::wire::kTombstoneRef;
    expect_refused_early(build(raw), SnapshotErrc::bad_reference);
  }
  SECTION("a reference to an object of the wrong type") {
    RawSnapshot raw;
    raw.types = {{kNode, 0}, {kGraph, 0}};
    raw.objects = 2;
    raw.runs = {{0, 1}, {1, 1}};
    RawRecord node, graph;
    put_varint(node.data, 0);
    node.refs = {ref_code(0, 1, false), snapheap::detail::wire::kEmptyWeakRef};  // a Member<SNode> to the graph
    put_varint(graph.data, 0);  // no nodes
    put_varint(graph.data, 0);  // no watched
    raw.records = {node, graph};
    raw.roots = {{"root", 0}};
    expect_refused_early(build(raw), SnapshotErrc::bad_reference, "where the field holds");
  }
  SECTION("a record with more or fewer bytes than its type reads") {
    RawSnapshot raw = two_nodes();
    raw.records[0].data.push_back(7);
    expect_refused_early(build(raw), SnapshotErrc::record_mismatch, "unread");
    raw = two_nodes();
    raw.records[0].data.clear();
    expect_refused_early(build(raw), SnapshotErrc::record_mismatch, "reads");
    raw = two_nodes();
    raw.records[0].refs.push_back(snapheap::detail::wire::kEmptyStrongRef);
    expect_refused_early(build(raw), SnapshotErrc::record_mismatch, "references unread");
  }
  SECTION("a container count larger than its record") {
    RawSnapshot raw;
    raw.types = {{"errors_test::Numbers", 0}};
    raw.objects = 1;
    raw.runs = {{0, 1}};
    RawRecord r;
    put_varint(r.data, std::uint64_t{1} << 60);  // 2^60 int32 values
    put_varint(r.data, 4);
    raw.records = {r};
    raw.roots = {{"n", 0}};
    expect_refused_early(build(raw), SnapshotErrc::record_mismatch, "count of");
    raw.records[0].data.clear();
    put_varint(raw.records[0].data, 0);
    put_varint(raw.records[0].data, 4);
    put_varint(raw.records[0].data, std::uint64_t{1} << 50);  // 2^50 strings
    expect_refused_early(build(raw), SnapshotErrc::record_mismatch, "count of");
  }
  SECTION("an array whose element size differs from the program's") {
    RawSnapshot raw;
    raw.types = {{"errors_test::Numbers", 0}};
    raw.objects = 1;
    raw.runs = {{0, 1}};
    RawRecord r;
    put_varint(r.data, 1);
    put_varint(r.data, 8);  // 8-byte elements into int32
    r.data.insert(r.data.end(), 8, 0);
    put_varint(r.data, 0);
    raw.records = {r};
    raw.roots = {{"n", 0}};
    expect_refused_early(build(raw), SnapshotErrc::record_mismatch, "8-byte elements");
  }
  SECTION("a value out of its field's range") {
    RawSnapshot raw;
    raw.types = {{"errors_test::Numbers", 0}};
    raw.objects = 1;
    raw.runs = {{0, 1}};
    RawRecord r;
    put_varint(r.data, 0);
    put_varint(r.data, 4);
    put_varint(r.data, 1);                       // one string
    put_varint(r.data, std::uint64_t{1} << 62);  // of 2^62 bytes
    raw.records = {r};
    raw.roots = {{"n", 0}};
    expect_refused_early(build(raw), SnapshotErrc::record_mismatch);
  }
  SECTION("an overlong or oversized varint") {
    RawSnapshot raw = two_nodes();
    raw.records[0].data = {0x94, 0x00};  // 20 in two bytes
    expect_refused_early(build(raw), SnapshotErrc::malformed, "variable-length");
    raw.records[0].data.assign(11, 0xff);
    expect_refused_early(build(raw), SnapshotErrc::malformed);
  }
  SECTION("roots out of order, repeated, or naming a missing object") {
    RawSnapshot raw = two_nodes();
    raw.roots = {{"b", 0}, {"a", 1}};
    expect_refused_early(build(raw), SnapshotErrc::malformed, "increasing");
    raw.roots = {{"a", 0}, {"a", 1}};
    expect_refused_early(build(raw), SnapshotErrc::malformed, "increasing");
    raw.roots = {{"a", 2}};
    expect_refused_early(build(raw), SnapshotErrc::bad_reference, "object 2");
    raw.roots = {{"", 0}};
    expect_refused_early(build(raw), SnapshotErrc::malformed);
  }
  SECTION("a type listed twice") {
    RawSnapshot raw = two_nodes();
    raw.types = {{kNode, 0}, {kNode, 0}};
    expect_refused_early(build(raw), SnapshotErrc::malformed, "listed twice");
  }
}

TEST_CASE("types the program does not know, or knows in an older version, are refused", "[serialize][errors]") {
  RawSnapshot raw = two_nodes();
  raw.types = {{"no.such.Type", 0}};
  const std::uint64_t at = expect_failure(build(raw), SnapshotErrc::unknown_type, "'no.such.Type'");
  CHECK(at == snapheap::detail::wire::kHeaderSize + 1);
  raw.types = {{kNode, 3}};
  expect_failure(build(raw), SnapshotErrc::newer_class_version, "class version 3");
}

TEST_CASE("exceptions from a type's own code leave the heap as it was", "[serialize][errors][valgrind]") {
  Heap heap;
  auto f = heap.make<Fragile>();
  f->value = 5;
  heap.set_root("f", f);
  ByteBuffer bytes;
  save(heap, bytes);

  Heap target;
  auto mine = target.make<SNode>(1);
  target.set_root("mine", mine);
  const HeapState before = state_of(target);
  SECTION("a constructor") {
    g_throw_in_constructor = true;
    CHECK_THROWS_WITH(load(target, bytes), "constructor failed");
    g_throw_in_constructor = false;
  }
  SECTION("a load") {
    g_throw_in_load = true;
    CHECK_THROWS_WITH(load(target, bytes), "load failed");
    g_throw_in_load = false;
  }
  CHECK(state_of(target) == before);
  CHECK(target.verify().ok);
  CHECK(target.root<SNode>("mine").get() == mine.get());

  SECTION("a save: the buffer is emptied and the heap is untouched") {
    const HeapState before_save = state_of(heap);
    g_throw_in_save = true;
    CHECK_THROWS_WITH(save(heap, bytes), "save failed");
    g_throw_in_save = false;
    CHECK(bytes.empty());
    CHECK(state_of(heap) == before_save);  // the same objects, roots and saved bytes
    CHECK(heap.verify().ok);
    CHECK_NOTHROW(save(heap, bytes));
    CHECK(to_vector(bytes) == before_save.saved);
  }
}

TEST_CASE("save refuses what it cannot write faithfully", "[serialize][errors]") {
  Heap heap;
  ByteBuffer bytes;
  SECTION("an object of an unregistered type") {
    auto h = heap.make<HoldsUnregistered>();
    h->member = heap.make<Unregistered>();
    heap.set_root("h", h);
    try {
      save(heap, bytes);
      FAIL("save did not throw");
    } catch (const SnapshotError& e) {
      CHECK(e.code() == SnapshotErrc::unregistered_type);
      CHECK(std::string(e.what()).find("Unregistered") != std::string::npos);
    }
  }
  SECTION("a Member that trace() does not visit") {
    auto f = heap.make<Forgetful>();
    auto hidden = heap.make<SNode>(1);
    f->hidden = hidden;
    heap.set_root("f", f);
    try {
      save(heap, bytes);
      FAIL("save did not throw");
    } catch (const SnapshotError& e) {
      CHECK(e.code() == SnapshotErrc::unsaved_reference);
      CHECK(std::string(e.what()).find("trace()") != std::string::npos);
    }
    f->hidden = nullptr;  // the forgotten Member goes, before verify() (or a collection) reports it
  }
  SECTION("a root that does not exist") {
    CHECK_THROWS_AS(save(heap, bytes, {.roots = {"nope"}}), std::invalid_argument);
  }
  CHECK(bytes.empty());
  CHECK(heap.verify().ok);
}

TEST_CASE("conflicting registrations are reported by save and load", "[serialize][errors]") {
  // In a child process: the conflict would affect every later test in this one.
  const auto result = snapheap_test::run_in_child([] {
    register_type<Twin>(kNode);  // the name SNode already has
    Heap heap;
    ByteBuffer bytes;
    try {
      save(heap, bytes);
    } catch (const std::logic_error& e) {
      if (std::string(e.what()).find("registered for both") != std::string::npos) std::_Exit(42);
    }
    std::_Exit(1);
  });
  INFO(result.describe());
  CHECK(result.exited);
  CHECK(result.exit_code == 42);
}
