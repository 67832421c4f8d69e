// save/payload/<system> and load/payload/<system>: the seed's payload, n int64 values
// (seed::Payload, `[i for i in range(n)]`), to and from memory.
//  - snapheap: save(heap, ByteBuffer) into a reused buffer (header, type table, the record with
//    the values as one block, roots, checksum); load(heap, bytes) into a reused heap, which
//    verifies the checksum and allocates the vector; the loaded root is dropped untimed.
//  - memcpy: the floor, the same 8n bytes copied into a warm destination (no checksum).
//  - boost: binary_oarchive / binary_iarchive of the same std::vector<int64_t> (one block each
//    way: Boost's array optimization), over a memory streambuf; load into a new vector.
//  - cereal: BinaryOutputArchive / BinaryInputArchive of the same vector, the same way.
// Every buffer is written once before timing starts (warm), and each load runs once untimed
// first, so the fresh vector a Boost or cereal load allocates is a block malloc already had (it
// keeps freed memory: main.cpp).
#include <cstdint>
#include <cstring>
#include <istream>
#include <ostream>
#include <vector>

#include <seed/seed_model.hpp>

#include "baselines.hpp"
#include "support.hpp"

namespace snapbench {
namespace {

std::int64_t payload_bytes(std::int64_t n) { return n * static_cast<std::int64_t>(sizeof(std::int64_t)); }

struct SnapheapPayload final : Fixture {
  snapheap::Heap heap;
  snapheap::Heap restored;
  snapheap::Strong<seed::Payload> payload;
  snapheap::ByteBuffer buffer;
  std::uint64_t bytes = 0;

  explicit SnapheapPayload(std::int64_t n) : payload(heap.make<seed::Payload>(n)) {
    heap.set_root("payload", payload);
    bytes = snapheap::save(heap, buffer).bytes;
    snapheap::load(restored, buffer);  // warm the destination heap
    drop_restored();
  }
  void drop_restored() {
    restored.remove_root("payload");
    restored.collect();
  }
};

void save_snapheap(benchmark::State& state, std::int64_t n) {
  auto& f = fixture<SnapheapPayload>(key("payload/snapheap", n), n);
  std::uint64_t bytes = 0;
  TimedFaults faults;
  for (auto _ : state) {
    bytes = snapheap::save(f.heap, f.buffer).bytes;
  }
  set_rates(state, n, static_cast<std::int64_t>(bytes));
  set_counter(state, "snapshot_bytes", static_cast<double>(bytes));
  state.SetLabel("warm; reused ByteBuffer; checksum included");
}

void load_snapheap(benchmark::State& state, std::int64_t n) {
  auto& f = fixture<SnapheapPayload>(key("payload/snapheap", n), n);
  TimedFaults faults;
  for (auto _ : state) {
    snapheap::load(f.restored, f.buffer);
    Untimed untimed(state);
    auto loaded = f.restored.root<seed::Payload>("payload");
    if (!loaded || static_cast<std::int64_t>(loaded->values.size()) != n || (n > 0 && loaded->values.back() != n - 1))
      state.SkipWithError("the loaded payload differs");
    loaded.reset();
    f.drop_restored();
  }
  set_rates(state, n, static_cast<std::int64_t>(f.bytes));
  set_counter(state, "snapshot_bytes", static_cast<double>(f.bytes));
  state.SetLabel("warm; reused heap; checksum verified");
}

// The stream paths, against the ByteBuffer rows above (the same fixture's heaps and bytes):
//  - snapheap_stream: save to a std::ostream over a memory streambuf writing into a reused
//    std::vector<char>; load from a std::istream over the saved bytes that can seek (so the load
//    learns the size and reads it in one piece).
//  - snapheap_pipe: load from a std::istream that cannot seek (a pipe's or a socket's case), the
//    same bytes behind a streambuf whose seekoff returns -1.
void save_stream(benchmark::State& state, std::int64_t n) {
  auto& f = fixture<SnapheapPayload>(key("payload/snapheap", n), n);
  time_stream_save(state, f.heap, [](benchmark::State& s, std::uint64_t bytes) {
    set_rates(s, s.range(0), static_cast<std::int64_t>(bytes));
    set_counter(s, "snapshot_bytes", static_cast<double>(bytes));
  });
  state.SetLabel("warm; std::ostream over a memory streambuf into a reused vector; checksum included");
}

template <bool kSeekable>
void load_stream(benchmark::State& state, std::int64_t n) {
  auto& f = fixture<SnapheapPayload>(key("payload/snapheap", n), n);
  load_from_stream(f.restored, f.buffer, kSeekable);  // the untimed round every system gets
  f.drop_restored();
  TimedFaults faults;
  for (auto _ : state) {
    load_from_stream(f.restored, f.buffer, kSeekable);
    Untimed untimed(state);
    auto loaded = f.restored.root<seed::Payload>("payload");
    if (!loaded || static_cast<std::int64_t>(loaded->values.size()) != n || (n > 0 && loaded->values.back() != n - 1))
      state.SkipWithError("the loaded payload differs");
    loaded.reset();
    f.drop_restored();
  }
  set_rates(state, n, static_cast<std::int64_t>(f.bytes));
  set_counter(state, "snapshot_bytes", static_cast<double>(f.bytes));
  state.SetLabel(kSeekable ? "warm; reused heap; std::istream over memory that can seek; checksum verified"
                           : "warm; reused heap; std::istream that cannot seek; checksum verified");
}

struct MemcpyPayload final : Fixture {
  std::vector<std::int64_t> source;
  std::vector<std::int64_t> destination;
  explicit MemcpyPayload(std::int64_t n) : source(std_range(n)), destination(source.size(), 1) {}
};

void copy_memcpy(benchmark::State& state, std::int64_t n) {
  auto& f = fixture<MemcpyPayload>(key("payload/memcpy", n), n);
  TimedFaults faults;
  for (auto _ : state) {
    std::memcpy(f.destination.data(), f.source.data(), f.source.size() * sizeof(std::int64_t));
    benchmark::ClobberMemory();
  }
  set_rates(state, n, payload_bytes(n));
  set_counter(state, "snapshot_bytes", static_cast<double>(payload_bytes(n)));
  state.SetLabel("the floor: memcpy into a warm destination");
}

template <bool kBoost>
struct SerializerPayload final : Fixture {
  std::vector<std::int64_t> values;
  std::vector<char> storage;
  std::size_t bytes = 0;
  explicit SerializerPayload(std::int64_t n) : values(std_range(n)) { save(); }
  void save() { bytes = kBoost ? boost_save(values, storage) : cereal_save(values, storage); }
  void load(std::vector<std::int64_t>& out) const {
    if constexpr (kBoost) boost_load(storage, bytes, out);
    else cereal_load(storage, bytes, out);
  }
};

template <bool kBoost>
void save_serializer(benchmark::State& state, std::int64_t n) {
  auto& f = fixture<SerializerPayload<kBoost>>(key(kBoost ? "payload/boost" : "payload/cereal", n), n);
  TimedFaults faults;
  for (auto _ : state) {
    f.save();
  }
  set_rates(state, n, static_cast<std::int64_t>(f.bytes));
  set_counter(state, "snapshot_bytes", static_cast<double>(f.bytes));
  state.SetLabel("warm; memory streambuf over a reused vector");
}

template <bool kBoost>
void load_serializer(benchmark::State& state, std::int64_t n) {
  auto& f = fixture<SerializerPayload<kBoost>>(key(kBoost ? "payload/boost" : "payload/cereal", n), n);
  {
    std::vector<std::int64_t> warm;  // an untimed round first, as every system gets
    f.load(warm);
  }
  TimedFaults faults;
  for (auto _ : state) {
    std::vector<std::int64_t> out;
    f.load(out);
    Untimed untimed(state);
    if (out != f.values) state.SkipWithError("the loaded payload differs");
    std::vector<std::int64_t>().swap(out);  // freed while the clock is stopped
  }
  set_rates(state, n, static_cast<std::int64_t>(f.bytes));
  set_counter(state, "snapshot_bytes", static_cast<double>(f.bytes));
  state.SetLabel("warm; into a new vector (resize zero-fills, then one block read)");
}

}  // namespace

void register_payload_benchmarks() {
  add_pair("save/payload/snapheap", save_snapheap, "load/payload/snapheap", load_snapheap, and_huge(sweep()));
  add_pair("save/payload/snapheap_stream", save_stream, "load/payload/snapheap_stream", load_stream<true>, {kMillion});
  add("load/payload/snapheap_pipe", load_stream<false>, {kMillion});
  add_pair("save/payload/memcpy", copy_memcpy, "load/payload/memcpy", copy_memcpy, and_huge(sweep()));
  add_pair("save/payload/boost", save_serializer<true>, "load/payload/boost", load_serializer<true>, sweep());
  add_pair("save/payload/cereal", save_serializer<false>, "load/payload/cereal", load_serializer<false>, sweep());
}

}  // namespace snapbench
