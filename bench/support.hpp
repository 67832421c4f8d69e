// What every benchmark file shares: sizes, the deterministic inputs, timing helpers, counters,
// memory probes and the input cache.
//
// Conventions (bench/results/REPORT.md relies on them):
//  - Names are <group>/<workload>/<system>/<elements>, e.g. collect/live_chain/boehm/1000000.
//    The report takes the 1,000,000-element runs for its tables and every size for its scaling
//    chart; `--benchmark_filter='-/10000000(/|$)'` drops the 10^7 runs (the short report does).
//  - Inputs are built and torn down outside the timed region (Untimed), so only the operation
//    named by the benchmark is on the clock. Google Benchmark reports its wall time (real_time)
//    and the thread's CPU time (cpu_time); the report compares CPU times (the machine is shared:
//    CPU time does not count the time other processes hold the core) except for the file
//    benchmarks, which wait for the disk and are compared by wall time (UseRealTime).
//  - Counters: items_per_second (elements), bytes_per_second (the bytes the operation moves:
//    the snapshot or the payload), snapshot_bytes, page_faults_per_iteration (of the timed part:
//    first-touch costs), and per-benchmark extras.
//  - Inputs come from fixed seeds, so every system sees the same graph in every run.
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <streambuf>
#include <string>
#include <utility>
#include <vector>

#include "types.hpp"  // snapheap's headers too

namespace snapbench {

/// The seed payload's values (0..n-1) in a plain std::vector, as the baselines hold them.
inline std::vector<std::int64_t> std_range(std::int64_t n) {
  std::vector<std::int64_t> values(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<std::int64_t>(i);
  return values;
}

inline constexpr std::int64_t kMillion = 1'000'000;
/// The scaling sweep: the report checks that 10^7 costs at most 1.3x ten times 10^6.
inline constexpr std::int64_t kSweep[] = {1'000, 10'000, 100'000, 1'000'000, 10'000'000};
inline constexpr std::uint64_t kSeed = 0x5eed'5eed'2025'0130ULL;
/// The 10^8 run (`snapheap_bench --huge`): a family that lists this size runs at 10^6 and 10^8
/// one right after the other there, and at this size nowhere else (not in the passes, the
/// scaling run or CI's smoke run).
inline constexpr std::int64_t kHundredMillion = 100'000'000;

// ---- registration --------------------------------------------------------------------------------

using BenchFn = void (*)(benchmark::State&, std::int64_t);

struct AddOptions {
  bool real_time = false;      ///< compare by wall time (the benchmark waits for I/O)
  std::int64_t iterations = 0; ///< a fixed iteration count (0: Google Benchmark decides)
  /// The untimed part of an iteration has a fixed cost (a full Boehm collection): cap the
  /// iterations at 50 and about 10^7 elements, instead of letting a tiny timed part ask for
  /// thousands of them.
  bool costly_reset = false;
  bool heavy = false;          ///< heavy at 10^6 too (Boost's and cereal's graphs)
};

/// Registers `fn(state, n)` as <name>/<n> for every n in `sizes` (times in microseconds), one
/// family per size so that heavy sizes can be given fewer repetitions: 10^7 (and 10^6 of a
/// `heavy` one) run $SNAPHEAP_BENCH_HEAVY_REPETITIONS times when that is set, instead of
/// --benchmark_repetitions.
void add(const std::string& name, BenchFn fn, const std::vector<std::int64_t>& sizes = {kMillion},
         AddOptions options = {});
/// Registers a save and a load benchmark size by size (save n, load n, save n', ...), so that a
/// load reuses the inputs its save built (see fixture()).
void add_pair(const std::string& save_name, BenchFn save, const std::string& load_name, BenchFn load,
              const std::vector<std::int64_t>& sizes, AddOptions options = {});
/// One family of add_by_size().
struct Row {
  std::string name;
  BenchFn fn;
  std::vector<std::int64_t> sizes;
};
/// Registers the rows size by size (each row that lists the smallest size, then the next size),
/// so that rows sharing a fixture run one right after the other at each size. add_pair() is this
/// for two rows with the same sizes.
void add_by_size(const std::vector<Row>& rows, AddOptions options = {});
/// The sweep sizes up to `max` (10^7 by default; the slow serializers stop at 10^6).
std::vector<std::int64_t> sweep(std::int64_t max = kSweep[4]);
/// `sizes` and 10^8: the family joins the 10^8 run.
std::vector<std::int64_t> and_huge(std::vector<std::int64_t> sizes);
/// `snapheap_bench --scaling`: register only the benchmarks that run at 10^7, at 10^6 and 10^7,
/// so that the two sizes the scaling check compares are measured one right after the other.
void set_scaling_only(bool on) noexcept;
/// `snapheap_bench --smoke`: register every benchmark once, at one tiny size (its smallest, at
/// most kSmokeElements), so that a CI stage can run every benchmark and the report generator in
/// seconds (with --benchmark_min_time=0: one iteration each, unless a benchmark fixes its count).
inline constexpr std::int64_t kSmokeElements = 1'000;
void set_smoke(bool on) noexcept;
/// `snapheap_bench --huge`: register only the families that list 10^8 (and_huge()), at 10^6 and
/// 10^8, one iteration per repetition at 10^8.
void set_huge_only(bool on) noexcept;
bool huge_only() noexcept;
/// Benchmark groups, for progress lines: main() calls begin_group() before each register_*
/// function, and every benchmark registered after it belongs to that group (a group that registers
/// nothing, as most do in --scaling mode, is not counted).
void begin_group(const std::string& name);
/// `snapheap_bench --progress-fd=N`: when the first benchmark of a group starts (before its timed
/// loop), write "group k/N: <name>" and a newline to file descriptor N (bench/run-report prints
/// these lines and sends the console output to a log).
void set_progress_fd(int fd) noexcept;

// ---- timing and counters ---------------------------------------------------------------------------

/// Counts the page faults of the timed part of a benchmark loop (the parts outside Untimed
/// scopes): nonzero means the timed part touched fresh memory (first-touch costs). Construct it
/// just before `for (auto _ : state)`; set_rates() reports page_faults_per_iteration.
class TimedFaults {
 public:
  TimedFaults() noexcept;
  ~TimedFaults();
  TimedFaults(const TimedFaults&) = delete;
  TimedFaults& operator=(const TimedFaults&) = delete;
  void pause() noexcept;
  void resume() noexcept;
  /// Faults in the timed parts so far (closing the current part).
  std::int64_t total() noexcept;
  static TimedFaults* active() noexcept;

 private:
  std::int64_t start_;
  std::int64_t total_ = 0;
  bool paused_ = false;
};

/// Stops the clock for its lifetime: `{ Untimed untimed(state); build_inputs(); }`. Google
/// Benchmark then reports both the wall time (real_time) and the thread's CPU time (cpu_time) of
/// the timed part alone; each pause and resume reads both clocks (about a microsecond in all).
class Untimed {
 public:
  explicit Untimed(benchmark::State& state) : state_(state) {
    if (state_.error_occurred()) return;  // after SkipWithError the clock must be left alone
    state_.PauseTiming();
    if (TimedFaults* faults = TimedFaults::active()) faults->pause();
  }
  ~Untimed() {
    if (TimedFaults* faults = TimedFaults::active()) faults->resume();
    if (!state_.error_occurred()) state_.ResumeTiming();
  }
  Untimed(const Untimed&) = delete;
  Untimed& operator=(const Untimed&) = delete;

 private:
  benchmark::State& state_;
};

/// items_per_second and bytes_per_second from per-iteration amounts, and the page faults the
/// TimedFaults in scope counted.
void set_rates(benchmark::State& state, std::int64_t items, std::int64_t bytes = 0);
/// A plain (averaged, not rate) counter.
inline void set_counter(benchmark::State& state, const char* name, double value) {
  state.counters[name] = benchmark::Counter(value);
}
/// A snapshot of `nodes` objects taking `bytes`: set_rates over both, snapshot_bytes and
/// bytes_per_node.
inline void set_snapshot_counters(benchmark::State& state, std::int64_t nodes, std::uint64_t bytes) {
  set_rates(state, nodes, static_cast<std::int64_t>(bytes));
  set_counter(state, "snapshot_bytes", static_cast<double>(bytes));
  set_counter(state, "bytes_per_node", static_cast<double>(bytes) / static_cast<double>(nodes));
}

// ---- deterministic inputs ------------------------------------------------------------------------

__extension__ typedef unsigned __int128 Uint128;

/// SplitMix64: fast, good enough for picking edges, and the same on every standard library.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) noexcept : state_(seed) {}
  std::uint64_t next() noexcept {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, bound) (bound > 0), by multiply-shift.
  std::uint32_t below(std::uint64_t bound) noexcept {
    return static_cast<std::uint32_t>((static_cast<Uint128>(next()) * bound) >> 64);
  }

 private:
  std::uint64_t state_;
};

inline constexpr std::uint32_t kNoEdge = 0xFFFFFFFFu;

/// The benchmark graphs, as indices: node i holds the value i, a strong edge to an earlier node
/// (none for node 0) and a weak edge to a random node at or before it. The strong edge goes to a
/// random earlier node (GraphShape::random) or to node i - 1 (GraphShape::chain: a strong chain
/// with a random weak edge per node). Pointing backwards keeps Boost's and cereal's recursion
/// shallow: every target is written before it is reached.
struct GraphSpec {
  std::vector<std::uint32_t> strong;  // kNoEdge or < i
  std::vector<std::uint32_t> weak;    // <= i
};
/// The same spec for the same n and shape in every call (fixed seed).
const GraphSpec& graph_spec(std::int64_t n, GraphShape shape = GraphShape::random);
/// Frees graph_spec(n, shape)'s arrays (a 10^8 fixture, once built from them).
void forget_graph_spec(std::int64_t n, GraphShape shape);
/// "graph" or "graph_chain": the workload's name in benchmark names and fixture keys.
constexpr const char* graph_workload(GraphShape shape) noexcept {
  return shape == GraphShape::random ? "graph" : "graph_chain";
}

// ---- inputs kept between runs of one benchmark ---------------------------------------------------

/// Inputs that are costly to build (a million-node graph) are kept while consecutive runs of the
/// same benchmark ask for them (Google Benchmark calls the function again for every repetition),
/// and freed when another benchmark asks for different ones.
struct Fixture {
  virtual ~Fixture() = default;
};
namespace detail {
Fixture* find_fixture(const std::string& key) noexcept;
void store_fixture(std::string key, std::unique_ptr<Fixture> fixture);
}  // namespace detail
/// "<name>/<n>": the key of a benchmark's kept inputs.
inline std::string key(const char* name, std::int64_t n) { return std::string(name) + "/" + std::to_string(n); }
/// Frees the kept inputs (benchmarks that build their own call it first, to start clean).
void drop_fixture() noexcept;

template <class F, class... Args>
F& fixture(const std::string& key, Args&&... args) {
  if (Fixture* kept = detail::find_fixture(key)) return static_cast<F&>(*kept);
  drop_fixture();  // free the previous inputs before building the next
  auto made = std::make_unique<F>(std::forward<Args>(args)...);
  F& result = *made;
  detail::store_fixture(key, std::move(made));
  return result;
}

// ---- memory probes ---------------------------------------------------------------------------------

/// Bytes malloc has handed out and not taken back (mallinfo2().uordblks + hblkhd).
std::size_t malloc_in_use() noexcept;
/// Resident set size now (from /proc/self/statm).
std::size_t current_rss() noexcept;
/// Peak resident set size of the process so far (getrusage).
std::size_t peak_rss() noexcept;

// ---- streams over memory, for Boost and cereal -----------------------------------------------------

/// A std::streambuf writing into a caller-owned std::vector<char>. The vector is used as a
/// pre-sized buffer (its size is the capacity in use) so that a reused buffer is written at
/// memcpy speed with no zero-filling and no per-byte virtual calls.
class VectorOutBuf final : public std::streambuf {
 public:
  explicit VectorOutBuf(std::vector<char>& storage);
  /// Bytes written so far.
  std::size_t size() const noexcept { return static_cast<std::size_t>(pptr() - pbase()); }

 protected:
  int_type overflow(int_type ch) override;
  std::streamsize xsputn(const char* s, std::streamsize n) override;

 private:
  void grow(std::size_t extra);
  std::vector<char>& storage_;
};

/// A std::streambuf reading from bytes in memory (setg over them; bulk reads are memcpy).
class MemoryInBuf : public std::streambuf {
 public:
  MemoryInBuf(const char* data, std::size_t size);

 protected:
  std::streamsize xsgetn(char* s, std::streamsize n) override;
};

/// MemoryInBuf that can also seek (seekoff and seekpos over its bytes), as a std::ifstream or a
/// std::istringstream can: the seekable std::istream source of the stream benchmarks.
class SeekableInBuf final : public MemoryInBuf {
 public:
  using MemoryInBuf::MemoryInBuf;

 protected:
  pos_type seekoff(off_type off, std::ios_base::seekdir dir, std::ios_base::openmode which) override;
  pos_type seekpos(pos_type pos, std::ios_base::openmode which) override;
};

/// Reads through another streambuf and cannot seek (seekoff and seekpos return -1, the default),
/// as a pipe's or a socket's stream: the non-seekable std::istream source of the stream benchmarks.
class NoSeekInBuf final : public std::streambuf {
 public:
  explicit NoSeekInBuf(std::streambuf& inner) noexcept : inner_(inner) {}

 protected:
  int_type underflow() override { return inner_.sgetc(); }
  int_type uflow() override { return inner_.sbumpc(); }
  std::streamsize xsgetn(char* s, std::streamsize n) override { return inner_.sgetn(s, n); }

 private:
  std::streambuf& inner_;
};

/// The stream rows' save: save(heap, std::ostream) over a VectorOutBuf into a vector grown to the
/// snapshot's size once, untimed, then timed in the benchmark loop; then `counters(bytes)` (with
/// the loop's TimedFaults still counting, for set_rates).
void time_stream_save(benchmark::State& state, snapheap::Heap& heap, void (*counters)(benchmark::State&, std::uint64_t));
/// load(heap, std::istream) of `bytes`, through a SeekableInBuf (seekable) or a NoSeekInBuf over
/// one (not seekable: a pipe's case).
snapheap::SnapshotStats load_from_stream(snapheap::Heap& heap, const snapheap::ByteBuffer& bytes, bool seekable);

// ---- Boehm GC ------------------------------------------------------------------------------------

/// GC_INIT once (from main) with the number of marker threads the report states (1 by default:
/// snapheap marks on one thread; SNAPHEAP_BENCH_BOEHM_MARKERS=N overrides).
void boehm_init();
unsigned boehm_markers() noexcept;

}  // namespace snapbench
