// weak/half_dead/<system>: n objects, one weak handle to each, and the odd-numbered half of the
// objects dies. Timed, the same steps for every system: the host lets go of the odd half, the
// system makes them dead, and every handle is checked (lock(), counting the live ones).
//  - snapheap: dropping the odd Strong roots (a decrement each), heap.collect() (which finds the
//    half dead, expires their handles and destroys them) and the 1M Weak::lock() calls.
//  - weak_ptr: dropping the odd shared_ptrs (which destroys the objects; there is no separate
//    death step) and the 1M weak_ptr::lock() calls.
//  - boehm: clearing the odd roots, GC_gcollect() (which clears the disappearing links of the
//    dead) and a read of every link.
//  - cppgc: clearing the odd cppgc::Persistent handles, ForceGarbageCollectionSlow (atomic, no
//    stack scan; its weak processing clears the handles of the dead) and a read of every weak
//    handle: WeakMember fields of one live holder object (cppgc), or cppgc::WeakPersistent handles
//    off the heap like snapheap's Weak (cppgc_weak_persistent).
// Warm: the heap (or arena) is reused; inputs are built and torn down outside the timed region.
#include <gc/gc.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "support.hpp"
#include "types.hpp"
#if SNAPHEAP_BENCH_CPPGC
#include "cppgc_baseline.hpp"
#endif

namespace snapbench {

void** g_weak_roots = nullptr;   // Boehm: the targets (scanned)
GC_word* g_weak_links = nullptr; // Boehm: the disappearing links (atomic: not scanned)

namespace {

std::int64_t expected_alive(std::int64_t n) { return (n + 1) / 2; }

struct SnapheapWeak final : Fixture {
  snapheap::Heap heap;
};

void half_dead_snapheap(benchmark::State& state, std::int64_t n) {
  auto& f = fixture<SnapheapWeak>(key("weak/half_dead/snapheap", n));
  const auto count = static_cast<std::size_t>(n);
  std::vector<snapheap::Strong<SmallObject>> strong;
  std::vector<snapheap::Weak<SmallObject>> weak;
  strong.reserve(count);
  weak.reserve(count);
  TimedFaults faults;
  for (auto _ : state) {
    {
      Untimed untimed(state);
      for (std::int64_t i = 0; i < n; ++i) {
        strong.push_back(f.heap.make<SmallObject>(i));
        weak.emplace_back(strong.back());
      }
    }
    for (std::size_t i = 1; i < count; i += 2) strong[i].reset();
    f.heap.collect();
    std::int64_t alive = 0;
    for (const auto& w : weak)
      if (snapheap::Strong<SmallObject> s = w.lock()) ++alive;
    Untimed untimed(state);
    if (alive != expected_alive(n)) state.SkipWithError("wrong number of live weak targets");
    strong.clear();
    weak.clear();
    f.heap.collect();
  }
  set_rates(state, n);
  state.SetLabel("warm; release of the odd half + collect() + lock() on every handle");
}

void half_dead_weak_ptr(benchmark::State& state, std::int64_t n) {
  drop_fixture();
  const auto count = static_cast<std::size_t>(n);
  std::vector<std::shared_ptr<PlainSmall>> strong;
  std::vector<std::weak_ptr<PlainSmall>> weak;
  strong.reserve(count);
  weak.reserve(count);
  TimedFaults faults;
  for (auto _ : state) {
    {
      Untimed untimed(state);
      for (std::int64_t i = 0; i < n; ++i) {
        strong.push_back(std::make_shared<PlainSmall>(PlainSmall{i, nullptr, nullptr}));
        weak.emplace_back(strong.back());
      }
    }
    for (std::size_t i = 1; i < count; i += 2) strong[i].reset();
    std::int64_t alive = 0;
    for (const auto& w : weak)
      if (std::shared_ptr<PlainSmall> s = w.lock()) ++alive;
    Untimed untimed(state);
    if (alive != expected_alive(n)) state.SkipWithError("wrong number of live weak targets");
    strong.clear();
    weak.clear();
  }
  set_rates(state, n);
  state.SetLabel("warm; release of the odd half + lock() on every handle");
}

[[gnu::noinline]] void boehm_build_weak(std::size_t count) {
  g_weak_roots = static_cast<void**>(GC_MALLOC(count * sizeof(void*)));
  g_weak_links = static_cast<GC_word*>(GC_MALLOC_ATOMIC(count * sizeof(GC_word)));
  for (std::size_t i = 0; i < count; ++i) {
    auto* p = static_cast<PlainSmall*>(GC_MALLOC(sizeof(PlainSmall)));
    p->value = static_cast<std::int64_t>(i);
    g_weak_roots[i] = p;
    g_weak_links[i] = GC_HIDE_POINTER(p);
    GC_general_register_disappearing_link(reinterpret_cast<void**>(&g_weak_links[i]), p);
  }
}

[[gnu::noinline]] void boehm_release_odd(std::size_t count) {
  for (std::size_t i = 1; i < count; i += 2) g_weak_roots[i] = nullptr;
}

[[gnu::noinline]] void boehm_drop_weak() {
  g_weak_roots = nullptr;
  g_weak_links = nullptr;  // the links die with their array; Boehm then forgets them
  GC_gcollect();
}

void half_dead_boehm(benchmark::State& state, std::int64_t n) {
  drop_fixture();
  const auto count = static_cast<std::size_t>(n);
  double retained = 0;
  TimedFaults faults;
  for (auto _ : state) {
    {
      Untimed untimed(state);
      boehm_build_weak(count);
    }
    boehm_release_odd(count);
    GC_gcollect();
    std::int64_t alive = 0;
    // Single-threaded and no allocation in between: the links can be read without the lock.
    for (std::size_t i = 0; i < count; ++i) alive += g_weak_links[i] != 0;
    Untimed untimed(state);
    // Boehm scans the stack and registers conservatively: a stale word may keep a few dead
    // objects alive. Counted, and tolerated up to 0.1%.
    const std::int64_t extra = alive - expected_alive(n);
    retained += static_cast<double>(extra);
    if (extra < 0 || extra > std::max<std::int64_t>(16, n / 1000)) {
      const std::string message = "wrong number of live weak targets: " + std::to_string(alive) +
                                  " of " + std::to_string(n);
      state.SkipWithError(message.c_str());
    }
    boehm_drop_weak();
  }
  set_rates(state, n);
  set_counter(state, "conservatively_retained", retained / static_cast<double>(state.iterations()));
  state.SetLabel("warm; release of the odd half + GC_gcollect + read of every disappearing link; " +
                 std::to_string(boehm_markers()) + " marker thread(s)");
}

#if SNAPHEAP_BENCH_CPPGC
void half_dead_cppgc_kind(benchmark::State& state, std::int64_t n, cppgc_baseline::WeakKind kind) {
  drop_fixture();
  TimedFaults faults;
  for (auto _ : state) {
    {
      Untimed untimed(state);
      cppgc_baseline::weak_build(n, kind);
    }
    cppgc_baseline::weak_release_odd();
    cppgc_baseline::collect();
    const std::int64_t alive = cppgc_baseline::weak_count_alive();
    Untimed untimed(state);
    if (alive != expected_alive(n)) state.SkipWithError("wrong number of live weak targets");
    cppgc_baseline::weak_clear();
    cppgc_baseline::collect();
  }
  set_rates(state, n);
  state.SetLabel(kind == cppgc_baseline::WeakKind::member
                     ? "warm; release of the odd half + full collection + read of every WeakMember"
                     : "warm; release of the odd half + full collection + read of every WeakPersistent");
}
void half_dead_cppgc(benchmark::State& state, std::int64_t n) {
  half_dead_cppgc_kind(state, n, cppgc_baseline::WeakKind::member);
}
void half_dead_cppgc_weak_persistent(benchmark::State& state, std::int64_t n) {
  half_dead_cppgc_kind(state, n, cppgc_baseline::WeakKind::persistent);
}
#endif

}  // namespace

void register_weak_benchmarks() {
  add("weak/half_dead/snapheap", half_dead_snapheap, sweep());
  add("weak/half_dead/weak_ptr", half_dead_weak_ptr, sweep());
  add("weak/half_dead/boehm", half_dead_boehm, sweep(kMillion));
#if SNAPHEAP_BENCH_CPPGC
  add("weak/half_dead/cppgc", half_dead_cppgc, sweep(kMillion));
  add("weak/half_dead/cppgc_weak_persistent", half_dead_cppgc_weak_persistent, sweep(kMillion));
#endif
}

}  // namespace snapbench
