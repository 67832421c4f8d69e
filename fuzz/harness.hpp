// The properties the fuzz targets check on every input, shared with the regression test
// (tests/serialize/regression_test.cpp), which runs every file in fuzz/regressions/ through them.
//
//   load     into a heap that already holds objects (rooted, host-held and garbage), once with the
//            checksum check off (the bytes as given) and once resealed (a fresh trailer, the
//            checksum on). Either it throws SnapshotError and the heap is as it was (HeapState:
//            the same objects live after a collection, the same root names with every root
//            holding the same object, and a save of it gives the same bytes as before; verify()
//            passes; the host-held object is intact), or it loads: then verify() passes, every
//            root of the snapshot is a root of the heap, inspect() agrees with the load's counts,
//            and the library's own output round-trips: the heap saves, that snapshot loads into a
//            fresh heap, and that heap saves the same bytes again (save, load, save agree).
//            External references bind to the destination's roots (it has a Record, a Payload and
//            a DataProxy root). The input itself is not compared with a re-save: an arbitrary input that loads need not
//            be in the form save writes (unreachable objects, another numbering). Where it must
//            agree, for snapshots the library wrote, check_resaves_identically() checks it.
//   load_roots  the resealed bytes once more, through load_roots() with a root prefix and a missing
//            weak external root an error: refused with the heap as it was, or loaded with no root
//            name added to the heap, the roots returned under their prefixed names; once they are
//            dropped, a collection leaves the heap as it was before the load.
//   inspect  on the bytes as given and resealed: throws SnapshotError or describes the snapshot
//            consistently (the sections add up to the size, the types' objects to the total, the
//            external roots' references to the external counts).
//            The graph behind `snapheap export/top/why/diff` (SnapshotGraph::read) accepts
//            exactly what inspect() accepts and agrees with its counts; then dominators(),
//            shortest_path(), weak_holders(), tombstones() and export_devtools() run on it:
//            dominators only under dominators, retained bytes at least the self bytes, every
//            path a chain of strong references from a root, the export's size bounded; `snapheap
//            diff` (tools/graph_diff.cpp) of the graph with itself finds only its unreachable
//            objects (which have no root path), and from an empty graph, every object added.
//
// A broken property throws PropertyViolation; the fuzz targets turn it into a crash. Any
// exception other than SnapshotError escaping load or inspect is a failure too.
#pragma once

#include <snapheap/inspect.hpp>
#include <snapheap/snapheap.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <ostream>
#include <span>
#include <streambuf>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_types.hpp"
#include "seed/seed_model.hpp"
#include "serialize/checksum.hpp"
#include "serialize/format.hpp"
#include "tools/graph_diff.hpp"

namespace snapheap_fuzz {

/// A property of the reader that does not hold.
class PropertyViolation : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

[[noreturn]] inline void violation(const std::string& what) { throw PropertyViolation("property violated: " + what); }

inline std::span<const std::byte> as_bytes(std::span<const unsigned char> bytes) noexcept {
  return {reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()};
}

/// The bytes with a trailer that matches them: where they end in something shaped like a
/// trailer (the end magic 16 bytes before the end) its length and checksum are rewritten, else a
/// whole trailer is appended. The checksum check then passes and the structural checks are
/// reached, also for inputs whose length the fuzzer changed.
inline std::vector<unsigned char> reseal(std::span<const unsigned char> in) {
  namespace format = snapheap::detail::format;
  std::vector<unsigned char> out(in.begin(), in.end());
  const bool shaped = out.size() >= snapheap::detail::wire::kHeaderSize + snapheap::detail::wire::kTrailerSize &&
                      std::memcmp(out.data() + out.size() - 16, snapheap::detail::wire::kEndMagic, sizeof snapheap::detail::wire::kEndMagic) == 0;
  if (!shaped) {
    out.resize(out.size() + snapheap::detail::wire::kTrailerSize);
    std::memcpy(out.data() + out.size() - 16, snapheap::detail::wire::kEndMagic, sizeof snapheap::detail::wire::kEndMagic);
  }
  const std::uint64_t size = out.size();
  unsigned char* trailer = out.data() + size - snapheap::detail::wire::kTrailerSize;
  for (int i = 0; i < 8; ++i) trailer[i] = static_cast<unsigned char>(size >> (8 * i));
  const std::uint64_t sum = snapheap::detail::checksum(out.data(), out.size() - 8);
  for (int i = 0; i < 8; ++i) trailer[16 + i] = static_cast<unsigned char>(sum >> (8 * i));
  return out;
}

/// seed::DataProxy saves a recipe (a generator and a count) and rebuilds its data on load: a
/// snapshot of a few bytes may legitimately ask for up to 2^31 elements (16 GiB; `snapheap demo
/// --elements` goes that far). That is the example's design, not a reader bug, so inputs whose
/// recipes ask for more than this are skipped: the fuzzers' allocation limit stays meaningful.
inline constexpr std::int64_t kMaxRecipeElements = std::int64_t{1} << 20;

/// Whether loading the bytes would run a DataProxy recipe larger than kMaxRecipeElements. Reads
/// the records the way the reader does (in order, stopping where the reader would stop).
inline bool has_large_recipe(std::span<const unsigned char> bytes) {
  namespace format = snapheap::detail::format;
  try {
    format::Prefix prefix;
    format::Cursor cursor = format::open(bytes, /*verify_checksum=*/false, prefix);
    format::read_prefix(cursor, prefix);
    std::uint32_t proxy = ~std::uint32_t{0};
    for (std::size_t i = 0; i < prefix.types.size(); ++i)
      if (prefix.types[i].name == "seed::DataProxy") proxy = static_cast<std::uint32_t>(i);
    if (proxy == ~std::uint32_t{0}) return false;
    std::uint32_t id = 0;
    for (const format::Run& run : prefix.runs) {
      for (std::uint32_t k = 0; k < run.count; ++k, ++id) {
        const format::Record record = format::read_record(cursor, id);
        if (run.type != proxy) continue;
        format::Cursor data(bytes.data(), record.data, record.end);
        const std::uint64_t length = data.varint("a generator name");
        data.bytes(static_cast<std::size_t>(length), "a generator name");
        const std::int64_t count = snapheap::detail::wire::unzigzag(data.varint("a generator count"));
        if (count > kMaxRecipeElements) return true;
      }
    }
  } catch (const snapheap::SnapshotError&) {
    // The reader stops here too.
  }
  return false;
}

/// A heap's observable state, to check that a refused load left it exactly as it was.
struct HeapState {
  std::size_t live_objects = 0;                       // after a collection
  std::vector<std::string> roots;                     // the root names, in order
  std::vector<const snapheap::Object*> root_objects;  // the object each root holds, in that order
  std::vector<unsigned char> saved;                   // a snapshot of every root
  bool operator==(const HeapState&) const = default;
};

inline std::vector<unsigned char> saved_bytes(snapheap::Heap& heap) {
  snapheap::ByteBuffer buffer;
  snapheap::save(heap, buffer);
  const auto* p = reinterpret_cast<const unsigned char*>(buffer.data());
  return {p, p + buffer.size()};
}

inline HeapState state_of(snapheap::Heap& heap) {
  heap.collect();
  HeapState state{heap.stats().live_objects, heap.root_names(), {}, {}};
  for (const std::string& name : state.roots) state.root_objects.push_back(heap.root<snapheap::Object>(name).get());
  state.saved = saved_bytes(heap);
  return state;
}

/// What differs between two states, for a message.
inline std::string difference(const HeapState& before, const HeapState& after) {
  if (before.live_objects != after.live_objects)
    return std::to_string(before.live_objects) + " objects live before, " + std::to_string(after.live_objects) + " after";
  if (before.roots != after.roots) return "the root names changed";
  if (before.root_objects != after.root_objects) return "a root holds another object";
  if (before.saved != after.saved)
    return "the heap saves other bytes (" + std::to_string(before.saved.size()) + " before, " +
           std::to_string(after.saved.size()) + " after)";
  return "nothing";
}

inline void verify(const snapheap::Heap& heap, const char* when) {
  const snapheap::VerifyResult result = heap.verify();
  if (!result.ok) violation(std::string("heap.verify() ") + when + ": " + result.problem);
}

/// The heap a fuzz input is loaded into: named roots, an object only host code holds, a weak
/// handle across them, and garbage for the collection to find.
struct Destination {
  snapheap::Heap heap;
  snapheap::Strong<Record> host;

  Destination() {
    auto records = heap.make<Record>();
    records->name = "existing";
    records->leaf = heap.make<Leaf>();
    auto child = heap.make<Record>();
    child->peer = records;
    records->children.emplace_back(child);
    heap.set_root("existing.records", records);
    auto payload = heap.make<seed::Payload>(std::int64_t{16});
    heap.set_root("existing.payload", payload);
    auto proxy = heap.make<seed::DataProxy>();
    proxy->count = 4;
    proxy->data = seed::DataProxy::generate(proxy->generator, proxy->count);
    heap.set_root("existing.proxy", proxy);
    host = heap.make<Record>();
    host->data = payload;
    host->peer = child;
    heap.make<Leaf>();  // garbage
  }
  /// The objects the host set up are all still there.
  void check_intact(const char* when) const {
    auto records = heap.root<Record>("existing.records");
    if (!records || records->name != "existing" || records->children.size() != 1 || !records->leaf)
      violation(std::string("the destination's root 'existing.records' changed ") + when);
    if (!host || host->data.expired() || host->peer.expired())
      violation(std::string("the destination's host-held object changed ") + when);
  }
};

inline std::string describe(const snapheap::SnapshotStats& s) {
  return std::to_string(s.objects) + " objects, " + std::to_string(s.roots) + " roots, " +
         std::to_string(s.strong_refs) + " strong, " + std::to_string(s.weak_targets) + " weak, " +
         std::to_string(s.weak_tombstones) + " tombstones (" + std::to_string(s.weak_expired) + " expired, " +
         std::to_string(s.weak_left_out) + " left out), " + std::to_string(s.weak_empty) + " empty weak, " +
         std::to_string(s.external_roots) + " external roots, " + std::to_string(s.strong_external) + " strong and " +
         std::to_string(s.weak_external) + " weak external";
}

/// The counts a save and a load of the same snapshot agree on.
inline bool same_counts(const snapheap::SnapshotStats& a, const snapheap::SnapshotStats& b) {
  return a.objects == b.objects && a.roots == b.roots && a.strong_refs == b.strong_refs &&
         a.weak_targets == b.weak_targets && a.weak_tombstones == b.weak_tombstones && a.weak_empty == b.weak_empty &&
         a.weak_expired == b.weak_expired && a.weak_left_out == b.weak_left_out &&
         a.external_roots == b.external_roots && a.strong_external == b.strong_external &&
         a.weak_external == b.weak_external;
}

/// inspect() of a snapshot that loaded must succeed and count what the load counted.
inline void cross_check(std::span<const unsigned char> loaded, const snapheap::SnapshotStats& stats) {
  const std::vector<unsigned char> sealed = reseal(loaded);
  snapheap::SnapshotInfo info;
  try {
    info = snapheap::inspect(as_bytes(sealed));
  } catch (const snapheap::SnapshotError& e) {
    violation(std::string("a snapshot that loads fails inspect(): ") + e.what());
  }
  snapheap::SnapshotStats counted;
  counted.objects = info.objects;
  counted.roots = info.roots.size();
  counted.strong_refs = info.strong_refs;
  counted.weak_targets = info.weak_targets;
  counted.weak_tombstones = info.weak_tombstones;
  counted.weak_empty = info.weak_empty;
  counted.weak_expired = info.weak_expired;
  counted.weak_left_out = info.weak_left_out;
  counted.external_roots = info.externals.size();
  counted.strong_external = info.strong_external;
  counted.weak_external = info.weak_external;
  if (!same_counts(counted, stats))
    violation("inspect() and load disagree: the load restored " + describe(stats) + "; inspect() counts " +
              describe(counted));
  if (stats.weak_unbound > stats.weak_external)
    violation("more unbound weak external references than weak external ones");
}

/// Whether `again`, a save of the heap that loaded `first` (a snapshot the library wrote), agrees
/// with it: the same bytes, except in format 3's summary, which counts the map entries the first
/// save dropped: the loaded maps never had them, so `again` may drop fewer (an Ephemeron field
/// keeps its dropped state: its key loads as a tombstone). The saved counts must agree.
inline bool resave_agrees(std::span<const unsigned char> first, std::span<const unsigned char> again) {
  if (first.size() == again.size() && std::memcmp(first.data(), again.data(), first.size()) == 0) return true;
  const snapheap::SnapshotInfo a = snapheap::inspect(as_bytes(first));
  if (a.format_version < 3) return false;
  const snapheap::SnapshotInfo b = snapheap::inspect(as_bytes(again));
  const std::size_t body = static_cast<std::size_t>(a.bytes - a.summary_bytes - a.trailer_bytes);
  return again.size() >= body && std::memcmp(again.data(), first.data(), body) == 0 &&
         b.summary_bytes + b.trailer_bytes + body == again.size() && b.ephemerons_saved == a.ephemerons_saved &&
         b.weak_values_saved == a.weak_values_saved && b.ephemerons_dropped <= a.ephemerons_dropped &&
         b.weak_values_dropped <= a.weak_values_dropped;
}

/// A heap that loaded saves; the snapshot loads into a fresh heap, which saves the same bytes.
inline void round_trip(snapheap::Heap& heap) {
  snapheap::ByteBuffer first;
  snapheap::SnapshotStats saved;
  try {
    saved = snapheap::save(heap, first);
  } catch (const snapheap::SnapshotError& e) {
    violation(std::string("a heap that loaded does not save: ") + e.what());
  }
  snapheap::Heap again;
  snapheap::SnapshotStats reloaded;
  try {
    reloaded = snapheap::load(again, first);
  } catch (const snapheap::SnapshotError& e) {
    violation(std::string("a snapshot the library wrote does not load: ") + e.what());
  }
  verify(again, "after loading a re-saved snapshot");
  if (!same_counts(reloaded, saved))
    violation("a re-saved snapshot loads other counts: saved " + describe(saved) + ", loaded " + describe(reloaded));
  if (saved.external_roots != 0 || saved.weak_tombstones != saved.weak_expired + saved.weak_left_out)
    violation("a save of every root wrote external references or unclassified tombstones: " + describe(saved));
  snapheap::ByteBuffer second;
  snapheap::save(again, second);
  if (!resave_agrees({reinterpret_cast<const unsigned char*>(first.data()), first.size()},
                     {reinterpret_cast<const unsigned char*>(second.data()), second.size()}))
    violation("save, load, save does not give the same bytes (" + std::to_string(first.size()) + " then " +
              std::to_string(second.size()) + ")");
  const snapheap::SnapshotInfo info = snapheap::inspect(first.view());
  if (info.unreachable != 0) violation("a snapshot the library wrote holds unreachable objects");
}

enum class Outcome { refused, loaded };

/// Loads the bytes into a populated heap and checks the properties above.
inline Outcome check_load(std::span<const unsigned char> bytes, const snapheap::LoadOptions& options) {
  Destination dest;
  const HeapState before = state_of(dest.heap);
  snapheap::SnapshotStats stats;
  try {
    stats = snapheap::load(dest.heap, as_bytes(bytes), options);
  } catch (const snapheap::SnapshotError& e) {
    if (e.offset() != snapheap::SnapshotError::kNoOffset && e.offset() > bytes.size())
      violation(std::string("an error offset past the end of the input: ") + e.what());
    if (const HeapState after = state_of(dest.heap); after != before)
      violation("a failed load changed the heap (" + difference(before, after) + "): " + e.what());
    verify(dest.heap, "after a failed load");
    dest.check_intact("by a failed load");
    return Outcome::refused;
  }
  verify(dest.heap, "after a load");
  cross_check(bytes, stats);
  const std::vector<unsigned char> sealed = reseal(bytes);
  for (const auto& root : snapheap::inspect(as_bytes(sealed)).roots)
    if (!dest.heap.has_root(root.name)) violation("the snapshot's root '" + root.name + "' is not in the heap");
  if (options.on_root_conflict == snapheap::RootConflict::error) dest.check_intact("by a load");
  round_trip(dest.heap);
  dest.heap.collect();
  verify(dest.heap, "after a collection following a load");
  return Outcome::loaded;
}

/// inspect() throws SnapshotError or describes the bytes consistently.
inline void check_inspect(std::span<const unsigned char> bytes) {
  snapheap::SnapshotInfo info;
  try {
    info = snapheap::inspect(as_bytes(bytes));
  } catch (const snapheap::SnapshotError& e) {
    if (e.offset() != snapheap::SnapshotError::kNoOffset && e.offset() > bytes.size())
      violation(std::string("an error offset past the end of the input: ") + e.what());
    return;
  }
  if (info.bytes != bytes.size() ||
      info.header_bytes + info.type_table_bytes + info.external_table_bytes + info.record_bytes + info.root_bytes +
              info.summary_bytes + info.trailer_bytes !=
          bytes.size())
    violation("inspect(): the sections do not add up to the snapshot's size");
  std::size_t strong_external = 0, weak_external = 0;
  for (std::size_t i = 0; i < info.externals.size(); ++i) {
    strong_external += info.externals[i].strong_refs;
    weak_external += info.externals[i].weak_refs;
    if (i > 0 && !(info.externals[i - 1].name < info.externals[i].name))
      violation("inspect(): the external roots are not in strictly increasing name order");
  }
  if (strong_external != info.strong_external || weak_external != info.weak_external)
    violation("inspect(): the external roots' references do not add up to the external counts");
  if (info.format_version == 1 && (!info.externals.empty() || info.weak_expired + info.weak_left_out != 0))
    violation("inspect(): a format-1 snapshot with external roots or classified tombstones");
  if (info.format_version >= 2 && info.weak_expired + info.weak_left_out != info.weak_tombstones)
    violation("inspect(): a format-2 snapshot's tombstones are not all expired or left out");
  std::size_t objects = 0;
  std::uint64_t record_bytes = 0;
  for (const auto& type : info.types) {
    objects += type.objects;
    record_bytes += type.record_bytes;
  }
  if (objects != info.objects || record_bytes != info.record_bytes)
    violation("inspect(): the types' objects or record bytes do not add up");
  if (info.unreachable > info.objects) violation("inspect(): more unreachable objects than objects");
  for (const auto& root : info.roots)
    if (root.id >= info.objects) violation("inspect(): a root names a missing object");
}

/// load_roots() into a populated heap, with a root prefix and missing weak external roots an
/// error: refused with the heap as it was, or loaded without naming anything in the heap; once the
/// returned handles are dropped, a collection leaves the heap as it was before the load.
inline Outcome check_load_roots(std::span<const unsigned char> bytes) {
  Destination dest;
  const HeapState before = state_of(dest.heap);
  const snapheap::LoadOptions options{.verify_checksum = true,
                                      .on_missing_weak_external = snapheap::MissingExternal::error,
                                      .root_prefix = "fuzz/"};
  snapheap::LoadedRoots loaded;
  try {
    loaded = snapheap::load_roots(dest.heap, as_bytes(bytes), options);
  } catch (const snapheap::SnapshotError& e) {
    if (const HeapState after = state_of(dest.heap); after != before)
      violation("a failed load_roots changed the heap (" + difference(before, after) + "): " + e.what());
    return Outcome::refused;
  }
  verify(dest.heap, "after load_roots");
  if (dest.heap.root_names() != before.roots) violation("load_roots named roots in the heap");
  if (loaded.roots.size() != loaded.stats.roots) violation("load_roots returned another number of roots than it read");
  if (loaded.stats.weak_unbound != 0) violation("load_roots left a weak external unbound although that is an error");
  for (const auto& [name, handle] : loaded.roots)
    if (name.rfind("fuzz/", 0) != 0 || !handle)
      violation("load_roots returned the root '" + name + "' unprefixed or empty");
  loaded.roots.clear();
  if (const HeapState after = state_of(dest.heap); after != before)
    violation("load_roots' objects outlived their dropped handles (" + difference(before, after) + ")");
  dest.check_intact("by load_roots");
  return Outcome::loaded;
}

/// The load target's checks: the bytes as given with the checksum check off, then resealed with
/// it on, through load() and through load_roots(). Returns true if the loads were checked; false
/// for an input that would run a recipe larger than kMaxRecipeElements, as given or resealed
/// (then the bytes as given were checked if only the resealed bytes ask for one, else nothing was).
inline bool check_load_both(std::span<const unsigned char> bytes) {
  if (has_large_recipe(bytes)) return false;
  check_load(bytes, {.on_root_conflict = snapheap::RootConflict::replace, .verify_checksum = false});
  const std::vector<unsigned char> sealed = reseal(bytes);
  if (has_large_recipe(sealed)) return false;
  check_load(sealed, {.on_root_conflict = snapheap::RootConflict::error, .verify_checksum = true});
  check_load_roots(sealed);
  return true;
}

/// For a snapshot the library wrote: loaded into an empty heap, it saves back to exactly these
/// bytes (the format has one form for a given graph). One with external roots is loaded into a
/// Destination, which has them, and saved with its own roots and those external ones.
inline void check_resaves_identically(std::span<const unsigned char> bytes) {
  const snapheap::SnapshotInfo info = snapheap::inspect(as_bytes(bytes));
  Destination dest;
  snapheap::Heap empty;
  snapheap::Heap& heap = info.externals.empty() ? empty : dest.heap;
  snapheap::SaveOptions options;
  if (!info.externals.empty()) {
    for (const auto& root : info.roots) options.roots.push_back(root.name);
    for (const auto& external : info.externals) options.external.push_back(external.name);
  }
  try {
    snapheap::load(heap, as_bytes(bytes), {.on_root_conflict = snapheap::RootConflict::replace});
  } catch (const snapheap::SnapshotError& e) {
    violation(std::string("a snapshot the library wrote does not load: ") + e.what());
  }
  snapheap::ByteBuffer buffer;
  snapheap::save(heap, buffer, options);
  const auto* p = reinterpret_cast<const unsigned char*>(buffer.data());
  const std::vector<unsigned char> again(p, p + buffer.size());
  if (!resave_agrees(bytes, again))
    violation("a snapshot the library wrote, loaded into an empty heap, saves other bytes (" +
              std::to_string(bytes.size()) + " then " + std::to_string(again.size()) + ")");
}

/// Counts what is written to it and keeps nothing (the export of a hostile input).
class CountingBuf final : public std::streambuf {
 public:
  std::uint64_t count = 0;

 protected:
  int_type overflow(int_type c) override {
    ++count;
    return traits_type::not_eof(c);
  }
  std::streamsize xsputn(const char*, std::streamsize n) override {
    count += static_cast<std::uint64_t>(n);
    return n;
  }
};

/// The graph behind the inspection commands: refused exactly when inspect() refuses the bytes,
/// else consistent with it, and every analysis runs on it and gives a consistent answer.
inline void check_graph(std::span<const unsigned char> bytes) {
  using snapheap::SnapshotGraph;
  bool inspect_ok = true;
  snapheap::SnapshotInfo info;
  try {
    info = snapheap::inspect(as_bytes(bytes));
  } catch (const snapheap::SnapshotError&) {
    inspect_ok = false;
  }
  snapheap::ByteBuffer buffer;
  buffer.append(bytes.data(), bytes.size());
  SnapshotGraph graph;
  try {
    graph = SnapshotGraph::read(std::move(buffer));
  } catch (const snapheap::SnapshotError&) {
    if (inspect_ok) violation("SnapshotGraph::read refused bytes that inspect() accepts");
    return;
  }
  if (!inspect_ok) violation("SnapshotGraph::read accepted bytes that inspect() refuses");
  const auto& c = graph.counts();
  if (graph.objects() != info.objects || c.strong_refs != info.strong_refs || c.weak_targets != info.weak_targets ||
      c.weak_tombstones != info.weak_tombstones || c.strong_empty != info.strong_empty || c.weak_empty != info.weak_empty ||
      graph.roots().size() != info.roots.size() || c.strong_external != info.strong_external ||
      c.weak_external != info.weak_external || graph.externals().size() != info.externals.size())
    violation("SnapshotGraph's counts differ from inspect()'s");
  std::uint64_t external_refs = 0;
  for (std::uint32_t id = 0; id < graph.objects(); ++id)
    graph.for_each_ref(id, [&](const SnapshotGraph::Ref& ref) {
      if (ref.kind != SnapshotGraph::RefKind::external_strong && ref.kind != SnapshotGraph::RefKind::external_weak) return;
      if (ref.external >= graph.externals().size()) violation("a graph reference names no external root");
      ++external_refs;
    });
  if (external_refs != c.strong_external + c.weak_external) violation("the graph's external references differ from its counts");
  std::uint64_t self = 0;
  for (std::uint32_t id = 0; id < graph.objects(); ++id) self += graph.self_bytes(id);
  if (self != info.record_bytes) violation("SnapshotGraph's self bytes do not add up to the records section");

  const snapheap::Dominators dom = snapheap::dominators(graph);
  if (dom.reachable != info.objects - info.unreachable) violation("dominators() reached another set than inspect()");
  for (std::uint32_t id = 0; id < graph.objects(); ++id) {
    const std::uint32_t d = dom.idom[id];
    if (d == SnapshotGraph::kNone) {
      if (dom.retained[id] != 0) violation("an unreachable object retains bytes");
      continue;
    }
    if (dom.retained[id] < graph.self_bytes(id)) violation("an object retains less than its own bytes");
    if (d != snapheap::Dominators::kRoots && (d >= graph.objects() || dom.idom[d] == SnapshotGraph::kNone ||
                                              dom.retained[d] < dom.retained[id] + graph.self_bytes(d)))
      violation("a dominator that does not retain what it dominates");
  }
  const snapheap_tool::GraphDiff itself = snapheap_tool::compare(graph, graph);
  const std::uint64_t unreached = graph.objects() - dom.reachable;
  if (itself.changed != 0 || itself.removed != unreached || itself.added != unreached || !itself.roots_added.empty() ||
      !itself.roots_removed.empty() || !itself.roots_changed.empty())
    violation("snapheap diff of a graph with itself found more than its unreachable objects");
  const snapheap_tool::GraphDiff from_empty = snapheap_tool::compare(SnapshotGraph(), graph);
  if (from_empty.added != graph.objects() || from_empty.removed != 0 || from_empty.changed != 0 ||
      !from_empty.roots_removed.empty() || !from_empty.roots_changed.empty() || from_empty.roots_added.empty() != graph.roots().empty())
    violation("snapheap diff from an empty graph did not find every object added");
  std::uint32_t probes = 0;
  for (std::uint32_t id = 0; id < graph.objects() && probes < 64; id += 1 + graph.objects() / 64, ++probes) {
    const snapheap::RetainerPath path = snapheap::shortest_path(graph, id);
    if (path.steps.empty() != (dom.idom[id] == SnapshotGraph::kNone)) violation("shortest_path() and dominators() disagree on reachability");
    for (std::size_t i = 1; i < path.steps.size(); ++i) {
      bool found = false;
      graph.for_each_strong(path.steps[i - 1].id, [&](std::uint32_t target, std::uint32_t position) {
        found = found || (target == path.steps[i].id && position == path.steps[i].position);
      });
      if (!found) violation("a retainer path step that is not a strong reference");
    }
    snapheap::weak_holders(graph, id);
  }
  if (snapheap::tombstones(graph).size() != info.weak_tombstones) violation("tombstones() misses some");
  CountingBuf counter;
  std::ostream out(&counter);
  snapheap::export_devtools(graph, out);
  // Each node and edge is a line of a few numbers; the strings are the file's names, escaped.
  const std::uint64_t limit = 4096 + 64 * (std::uint64_t{graph.objects()} + c.strong_refs + c.weak_targets +
                                           c.weak_tombstones + graph.roots().size()) + 8 * bytes.size();
  if (counter.count > limit) violation("the DevTools export is out of proportion to its input");
}

/// The inspect target's checks: the bytes as given, then resealed.
inline void check_inspect_both(std::span<const unsigned char> bytes) {
  check_inspect(bytes);
  check_graph(bytes);
  const std::vector<unsigned char> sealed = reseal(bytes);
  check_inspect(sealed);
  check_graph(sealed);
}

}  // namespace snapheap_fuzz
