// memory/small/<system>: what n live small objects (24 bytes of fields) cost in memory.
// The counters are the result; the time is the (cold) allocation of a fresh heap and is not
// compared with anything.
//   bytes_per_object: everything the objects added, per object:
//     snapheap    pages committed (HeapStats::committed_bytes) + the object table (HeapStats::table_bytes)
//                 + other bookkeeping's malloc growth
//     make_shared malloc growth (mallinfo2: control block + object + chunk header)
//     malloc      malloc growth of malloc(24)
//     boehm       GC_get_memory_use() growth (and heap_bytes_per_object: GC_get_heap_size())
//     cppgc       page growth (cppgc::ProcessHeapStatistics::TotalAllocatedSpace: heap_bytes_per_object)
//                 + malloc growth (the Persistent handles' nodes, bookkeeping), after a full collection
//   cell_bytes_per_object (snapheap): HeapStats::live_bytes / n, the cells alone; (cppgc) the
//     objects' bytes with their 8-byte headers (TotalAllocatedObjectSize growth).
//   rss_bytes_per_object: resident set growth (0 where earlier runs left memory to reuse; snapheap
//     trims its process-wide page cache before each run, so its heap maps its memory afresh).
//   peak_rss_bytes: the process's peak so far (getrusage), which these runs come first to keep low.
// The handle vectors are reserved before the first probe, so they are not counted.
#include <gc/gc.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "support.hpp"
#include "types.hpp"
#if SNAPHEAP_BENCH_CPPGC
#include "cppgc_baseline.hpp"
#endif

namespace snapbench {

void** g_memory_roots = nullptr;

namespace {

struct Probe {
  std::size_t malloc_bytes = malloc_in_use();
  std::size_t rss = current_rss();
};

void per_object(benchmark::State& state, const char* name, double bytes, std::int64_t n) {
  set_counter(state, name, bytes / static_cast<double>(n));
}

void finish(benchmark::State& state, const Probe& before, std::int64_t n) {
  per_object(state, "rss_bytes_per_object",
             static_cast<double>(current_rss()) - static_cast<double>(before.rss), n);
  set_counter(state, "peak_rss_bytes", static_cast<double>(peak_rss()));
  set_rates(state, n);
}

void memory_snapheap(benchmark::State& state, std::int64_t n) {
  drop_fixture();
  for (auto _ : state) {
    {
      // Measured cold, in memory the heap maps itself: not on a destroyed heap's (the
      // process-wide page cache's), which would show as no resident growth.
      Untimed untimed(state);
      snapheap::trim_page_cache();
    }
    auto heap = std::make_unique<snapheap::Heap>();  // declared first: handles die before it
    std::vector<snapheap::Strong<SmallObject>> handles;
    handles.reserve(static_cast<std::size_t>(n));
    const Probe before;
    for (std::int64_t i = 0; i < n; ++i) handles.push_back(heap->make<SmallObject>(i));
    Untimed untimed(state);
    const snapheap::HeapStats stats = heap->stats();
    // The slot table's arrays are mappings of their own (HeapStats::table_bytes), the rest of
    // the heap's bookkeeping is malloc'ed.
    const double table = static_cast<double>(stats.table_bytes) + static_cast<double>(malloc_in_use()) -
                         static_cast<double>(before.malloc_bytes);
    per_object(state, "bytes_per_object", static_cast<double>(stats.committed_bytes) + table, n);
    per_object(state, "cell_bytes_per_object", static_cast<double>(stats.live_bytes), n);
    per_object(state, "committed_bytes_per_object", static_cast<double>(stats.committed_bytes), n);
    per_object(state, "table_bytes_per_object", table, n);
    finish(state, before, n);
    handles.clear();
    heap.reset();
  }
  state.SetLabel("cold: a fresh heap; default trigger policy");
}

void memory_make_shared(benchmark::State& state, std::int64_t n) {
  drop_fixture();
  for (auto _ : state) {
    std::vector<std::shared_ptr<PlainSmall>> handles;
    handles.reserve(static_cast<std::size_t>(n));
    const Probe before;
    for (std::int64_t i = 0; i < n; ++i) handles.push_back(std::make_shared<PlainSmall>(PlainSmall{i, nullptr, nullptr}));
    Untimed untimed(state);
    per_object(state, "bytes_per_object",
               static_cast<double>(malloc_in_use()) - static_cast<double>(before.malloc_bytes), n);
    finish(state, before, n);
    std::vector<std::shared_ptr<PlainSmall>>().swap(handles);
  }
  state.SetLabel("glibc malloc; control block + object in one allocation");
}

void memory_malloc(benchmark::State& state, std::int64_t n) {
  drop_fixture();
  for (auto _ : state) {
    std::vector<void*> handles;
    handles.reserve(static_cast<std::size_t>(n));
    const Probe before;
    for (std::int64_t i = 0; i < n; ++i) {
      auto* p = static_cast<PlainSmall*>(std::malloc(sizeof(PlainSmall)));
      if (!p) std::abort();
      *p = PlainSmall{i, nullptr, nullptr};
      handles.push_back(p);
    }
    Untimed untimed(state);
    per_object(state, "bytes_per_object",
               static_cast<double>(malloc_in_use()) - static_cast<double>(before.malloc_bytes), n);
    finish(state, before, n);
    for (void* p : handles) std::free(p);
  }
  state.SetLabel("glibc malloc(24)");
}

void memory_boehm(benchmark::State& state, std::int64_t n) {
  drop_fixture();
  const auto count = static_cast<std::size_t>(n);
  for (auto _ : state) {
    g_memory_roots = static_cast<void**>(GC_MALLOC(count * sizeof(void*)));
    GC_gcollect();
    const std::size_t use_before = GC_get_memory_use();
    const std::size_t heap_before = GC_get_heap_size();
    const Probe before;
    for (std::size_t i = 0; i < count; ++i) {
      auto* p = static_cast<PlainSmall*>(GC_MALLOC(sizeof(PlainSmall)));
      p->value = static_cast<std::int64_t>(i);
      g_memory_roots[i] = p;
    }
    Untimed untimed(state);
    GC_gcollect();  // settle the accounting: everything is live
    per_object(state, "bytes_per_object",
               static_cast<double>(GC_get_memory_use()) - static_cast<double>(use_before), n);
    per_object(state, "heap_bytes_per_object",
               static_cast<double>(GC_get_heap_size()) - static_cast<double>(heap_before), n);
    finish(state, before, n);
    g_memory_roots = nullptr;
    GC_gcollect();
  }
  state.SetLabel("GC_MALLOC(24); GC_get_memory_use growth");
}

#if SNAPHEAP_BENCH_CPPGC
void memory_cppgc(benchmark::State& state, std::int64_t n) {
  drop_fixture();
  for (auto _ : state) {
    cppgc_baseline::memory_begin(n);  // a fresh heap; the handle vector reserved
    const Probe before;
    const cppgc_baseline::MemoryProbe grown = cppgc_baseline::memory_fill(n);
    Untimed untimed(state);
    const double malloc_grown = static_cast<double>(malloc_in_use()) - static_cast<double>(before.malloc_bytes);
    per_object(state, "bytes_per_object", grown.space_bytes + malloc_grown, n);
    per_object(state, "cell_bytes_per_object", grown.object_bytes, n);
    per_object(state, "heap_bytes_per_object", grown.space_bytes, n);
    per_object(state, "malloc_bytes_per_object", malloc_grown, n);
    finish(state, before, n);
    cppgc_baseline::memory_end();
  }
  state.SetLabel("cold: a fresh cppgc heap; a Persistent per object; page + malloc growth");
}
#endif

}  // namespace

void register_memory_benchmarks() {
  add("memory/small/snapheap", memory_snapheap, and_huge({kMillion}), {.iterations = 1});
  add("memory/small/make_shared", memory_make_shared, {kMillion}, {.iterations = 1});
  add("memory/small/malloc", memory_malloc, {kMillion}, {.iterations = 1});
  add("memory/small/boehm", memory_boehm, {kMillion}, {.iterations = 1});
#if SNAPHEAP_BENCH_CPPGC
  add("memory/small/cppgc", memory_cppgc, {kMillion}, {.iterations = 1});
#endif
}

}  // namespace snapbench
