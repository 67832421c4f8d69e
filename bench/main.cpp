// snapheap_bench: every benchmark and every baseline in one binary, so that ratios come from one
// run. Registration order is the run order: memory probes first (before earlier benchmarks leave
// warm memory behind), then the collector, then snapshots, then the
// Boost.Container choices against the standard containers they replaced.
//
//   snapheap_bench [Google Benchmark flags]     every benchmark at every size
//   snapheap_bench --scaling [flags]            only 10^6 and 10^7 of the families run at 10^7
//   snapheap_bench --huge [flags]               only 10^6 and 10^8 of the families run at 10^8
//                                               (bench/run-report's full run; about 20 GB at its peak)
//   snapheap_bench --smoke [flags]              every benchmark at one tiny size (CI's bench stage)
//   snapheap_bench --progress-fd=N [flags]      also "group k/N: <name>" on fd N as each group
//                                               starts (bench/run-report's progress lines)
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <cstdlib>
#include <string>
#include <utility>

#include "support.hpp"

namespace snapbench {
void register_memory_benchmarks();
void register_alloc_benchmarks();
void register_collect_benchmarks();
void register_weak_benchmarks();
void register_weak_map_benchmarks();
void register_payload_benchmarks();
void register_graph_benchmarks();
void register_seed_benchmarks();
void register_chain_benchmarks();
void register_file_benchmarks();
void register_container_benchmarks();
void register_barrier_benchmarks();
}  // namespace snapbench

int main(int argc, char** argv) {
  // --scaling, --huge, --smoke and --progress-fd=N (ours, taken out before Google Benchmark parses
  // the rest): see set_scaling_only(), set_huge_only(), set_smoke() and set_progress_fd().
  int kept = 1;
  const std::string progress_fd = "--progress-fd=";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--scaling") snapbench::set_scaling_only(true);
    else if (arg == "--huge") snapbench::set_huge_only(true);
    else if (arg == "--smoke") snapbench::set_smoke(true);
    else if (arg.starts_with(progress_fd)) snapbench::set_progress_fd(std::atoi(arg.c_str() + progress_fd.size()));
    else argv[kept++] = argv[i];
  }
  argc = kept;

  // Warm against warm: glibc returns freed memory to the system (trim, and mmap for blocks past a
  // moving threshold), so a malloc-based baseline (or a std::vector inside a snapshot) would fault
  // its memory in again every iteration while snapheap keeps a pool of warm pages. Keep freed
  // memory instead: no trimming, no mmap (an 80 MB vector at 10^7 elements would otherwise be
  // mapped afresh every time). SNAPHEAP_BENCH_MALLOC_DEFAULTS=1 keeps glibc's defaults, and so
  // does the 10^8 run: a buffer grown by doubling leaves its old blocks in the heap when nothing
  // is mapped, and at 10^8 that takes the save past 24 GiB. Its rows that malloc gigabytes anew
  // in the timed region show it in page_faults_per_iteration (first-touch costs).
  const char* defaults = std::getenv("SNAPHEAP_BENCH_MALLOC_DEFAULTS");
  const bool keep_freed = !(defaults && *defaults == '1') && !snapbench::huge_only();
  if (keep_freed) {
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    mallopt(M_MMAP_MAX, 0);
  }
  snapbench::boehm_init();
  // One group per file, in run order; each names what it measures (the progress lines).
  const std::pair<const char*, void (*)()> groups[] = {
      {"memory per object", snapbench::register_memory_benchmarks},
      {"allocation", snapbench::register_alloc_benchmarks},
      {"write barrier", snapbench::register_barrier_benchmarks},
      {"collection", snapbench::register_collect_benchmarks},
      {"weak handles", snapbench::register_weak_benchmarks},
      {"death callbacks and weak maps", snapbench::register_weak_map_benchmarks},
      {"payload save/load", snapbench::register_payload_benchmarks},
      {"graph save/load", snapbench::register_graph_benchmarks},
      {"seed model save/load", snapbench::register_seed_benchmarks},
      {"chain save/load", snapbench::register_chain_benchmarks},
      {"file save/load", snapbench::register_file_benchmarks},
      {"containers", snapbench::register_container_benchmarks},
  };
  for (const auto& [name, register_group] : groups) {
    snapbench::begin_group(name);
    register_group();
  }

  benchmark::AddCustomContext("snapheap_build_type", SNAPHEAP_BENCH_BUILD_TYPE);
  benchmark::AddCustomContext("snapheap_cxx_flags", SNAPHEAP_BENCH_CXX_FLAGS);
#if defined(__clang__)
  benchmark::AddCustomContext("compiler", std::string("clang ") + __clang_version__);
#else
  benchmark::AddCustomContext("compiler", std::string("g++ ") + __VERSION__);
#endif
  benchmark::AddCustomContext("boehm_markers", std::to_string(snapbench::boehm_markers()));
  benchmark::AddCustomContext("malloc_keeps_freed_memory", keep_freed ? "yes" : "no");
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  snapbench::drop_fixture();
  benchmark::Shutdown();
  return 0;
}
