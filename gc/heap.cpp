// Heap: the public face of the object table and the collector.
#include "snapheap/heap.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>

#include "core/thread_stats.hpp"
#include "gc/collector.hpp"

namespace snapheap {

namespace {
void validate(const HeapOptions& options) {
  if (!(options.growth_factor >= 1.0))
    throw std::invalid_argument("snapheap: HeapOptions::growth_factor must be at least 1");
}
}  // namespace

Heap::Heap(HeapOptions options) : options_(options) {
  validate(options_);
  detail::Collector::set_next_trigger(*this);
}

Heap::~Heap() { detail::Collector::tear_down(*this); }

void Heap::set_options(const HeapOptions& options) {
  validate(options);
  options_ = options;
  detail::Collector::set_next_trigger(*this);
}

void Heap::attach_to_current_thread() noexcept { table_.set_owner(std::this_thread::get_id()); }

void Heap::release_memory() noexcept {
  check_thread();
  table_.trim(0, 0, 0);
  scratch_.reset();
}

// ---- allocation ------------------------------------------------------------------------------------

void Heap::prepare_make(std::size_t bytes) {
  check_thread();
  SNAPHEAP_CHECK(table_.state() == detail::TableState::kIdle,
                 "Heap::make was called from a destructor or a trace(): nothing may be allocated "
                 "while the collector runs");
  if ((options_.stress || stats_.allocated_since_collection >= stats_.next_collection_bytes) &&
      table_.can_collect())
    collect();
  // The limit is on live_bytes(), which counts cells: compare the cell the object will take, not
  // its sizeof, or the heap could pass its limit by a size class step or a large object's pages.
  const std::size_t cell = detail::ObjectTable::cell_bytes_for(bytes);
  if (options_.max_bytes != 0 && table_.live_bytes() + cell > options_.max_bytes) {
    if (table_.can_collect()) collect();
    if (table_.live_bytes() + cell > options_.max_bytes)
      throw HeapExhausted(options_.max_bytes, table_.live_bytes(), cell);
  }
}

void Heap::run_deferred_collection() noexcept {
  if (collection_deferred_ && table_.can_collect()) collect();
}

// ---- collection ------------------------------------------------------------------------------------

void Heap::collect() noexcept {
  check_thread();
  if (!table_.can_collect()) {
    // During construction or a load: run when it ends. From a destructor: nothing to do.
    if (table_.state() == detail::TableState::kIdle) collection_deferred_ = true;
    return;
  }
  detail::Collector::collect(*this);
}

namespace detail {

namespace {
// Empty pages go back to the operating system after two seconds unused, 8 MiB excepted: a heap
// that fills and empties every cycle keeps reusing warm memory (touching a fresh page costs far
// more than reusing one), and a heap that has shrunk for good returns the rest soon after.
constexpr std::uint64_t kPageIdleNs = 2'000'000'000;
constexpr std::size_t kWarmPoolBytes = std::size_t{8} << 20;

std::uint64_t now_ns(std::chrono::steady_clock::time_point t) noexcept {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}
}  // namespace

void Collector::collect(Heap& heap) noexcept {
  using Clock = std::chrono::steady_clock;
  heap.collection_deferred_ = false;
  heap.fast_budget_ = 0;  // make() from a destructor must reach the slow path and its check
  const std::uint64_t thrown_before = thread_stats().destructor_exceptions;
  const auto start = Clock::now();
  heap.table_.set_clock(now_ns(start));
  heap.table_.set_state(TableState::kMarking);
  mark_roots(heap);
  trace_references(heap);
  const std::size_t expired = count_expired_weak(heap);
  heap.table_.set_state(TableState::kIdle);
  const auto marked = Clock::now();
  const SweepResult swept = sweep(heap);
  const auto done = Clock::now();

  HeapStats& s = heap.stats_;
  ++s.collections;
  s.last_freed_objects = swept.freed_objects;
  s.last_freed_bytes = swept.freed_bytes;
  s.total_freed_objects += swept.freed_objects;
  s.last_mark_time = marked - start;
  s.last_sweep_time = done - marked;
  s.last_weak_expired = expired;
  s.total_weak_expired += expired;
  s.destructor_exceptions += thread_stats().destructor_exceptions - thrown_before;
  set_next_trigger(heap);
  if (heap.scratch_) {
    if (!heap.scratch_->used) heap.scratch_.reset();
    else heap.scratch_->used = false;
  }
  heap.table_.trim(kWarmPoolBytes, now_ns(done), kPageIdleNs);
  if (heap.options_.verify_after_collect) {
    const VerifyResult check = heap.verify();
    if (!check.ok) {
      const std::string message = "heap.verify() failed after a collection: " + check.problem;
      fatal(__FILE__, __LINE__, message.c_str());
    }
  }
}

void Collector::set_next_trigger(Heap& heap) noexcept {
  const double grown = static_cast<double>(heap.table_.live_bytes()) * (heap.options_.growth_factor - 1.0);
  heap.stats_.next_collection_bytes =
      std::max(heap.options_.min_trigger_bytes, static_cast<std::size_t>(grown));
  heap.stats_.allocated_since_collection = 0;
  const bool inline_path = !heap.options_.stress && heap.options_.max_bytes == 0;
  heap.fast_budget_ = inline_path ? heap.stats_.next_collection_bytes : 0;
}

}  // namespace detail

HeapStats Heap::stats() const noexcept {
  HeapStats s = stats_;
  s.live_objects = table_.live_objects();
  s.live_bytes = table_.live_bytes();
  s.committed_bytes = table_.committed_bytes();
  return s;
}

// ---- roots -----------------------------------------------------------------------------------------

void Heap::set_root(std::string_view name, Strong<Object> handle) {
  check_thread();
  if (name.empty()) throw std::invalid_argument("snapheap: a root name must not be empty");
  if (!handle) {
    remove_root(name);
    return;
  }
  if (&detail::ObjectTable::of(handle.get()) != &table_)
    throw std::invalid_argument("snapheap: set_root('" + std::string(name) +
                                "'): the object belongs to another heap");
  auto found = roots_.find(name);
  if (found != roots_.end()) found->second = std::move(handle);
  else roots_.emplace(std::string(name), std::move(handle));
}

bool Heap::remove_root(std::string_view name) {
  check_thread();
  auto found = roots_.find(name);
  if (found == roots_.end()) return false;
  roots_.erase(found);
  return true;
}

bool Heap::has_root(std::string_view name) const { return roots_.find(name) != roots_.end(); }

std::vector<std::string> Heap::root_names() const {
  std::vector<std::string> names;
  names.reserve(roots_.size());
  for (const auto& [name, handle] : roots_) names.push_back(name);
  return names;
}

Object* Heap::root_object(std::string_view name) const {
  check_thread();
  auto found = roots_.find(name);
  return found == roots_.end() ? nullptr : found->second.get();
}

void Heap::throw_root_type(std::string_view name, const Object* object, const std::type_info& wanted) {
  const detail::TypeInfo* held = detail::type_at(detail::ObjectAccess::type(object));
  detail::TypeInfo probe;
  probe.cpp_type = &wanted;
  throw std::invalid_argument("snapheap: root '" + std::string(name) + "' holds a " +
                              (held ? held->display_name() : std::string("?")) + ", not a " +
                              probe.display_name());
}

namespace detail {

void HeapAccess::splice_roots(Heap& h, RootMap& from) noexcept {
  while (!from.empty()) {
    auto node = from.extract(from.begin());
    auto found = h.roots_.find(node.key());
    if (found != h.roots_.end()) found->second = std::move(node.mapped());
    else h.roots_.insert(std::move(node));
  }
}

}  // namespace detail

}  // namespace snapheap
