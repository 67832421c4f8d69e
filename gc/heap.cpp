// Heap: the public face of the object table, the collector and the roots.
#include "snapheap/heap.hpp"

#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include "core/memory_cache.hpp"
#include "gc/collector.hpp"
#include "snapheap/allocator.hpp"

namespace snapheap {

namespace {
void validate(const HeapOptions& options) {
  if (!(options.growth_factor >= 1.0))
    throw std::invalid_argument("snapheap: HeapOptions::growth_factor must be at least 1");
  if (!(options.pretenure_survival >= 0.0))
    throw std::invalid_argument("snapheap: HeapOptions::pretenure_survival must be a fraction of at least 0 (above 1: never)");
}
}  // namespace

namespace detail {
// The checked mode: debug builds, stress and verify. The forgotten-trace check (gc/trace_check.cpp)
// runs, freed cells are zeroed (so that stale padding in a reused cell cannot look like a handle),
// and every edge target is looked up among the live objects before it is marked (check_edge_target).
bool checks_traces(const HeapOptions& options) noexcept {
  return SNAPHEAP_DCHECK_IS_ON || options.stress || options.verify_after_collect;
}
GcMode env_gc_mode() noexcept {
  const char* value = std::getenv("SNAPHEAP_GC_MODE");
  if (!value || !*value || std::strcmp(value, "stop_the_world") == 0) return GcMode::stop_the_world;
  if (std::strcmp(value, "incremental") == 0) return GcMode::incremental;
  if (std::strcmp(value, "generational") == 0) return GcMode::generational;
  fatal(__FILE__, __LINE__,
        "SNAPHEAP_GC_MODE must be stop_the_world, incremental or generational (or unset)");
}
HeapTag tag_of(Heap& heap) noexcept { return HeapInternals::of(heap).table.tag(); }
}  // namespace detail

Heap::Heap(HeapOptions options) {
  validate(options);
  impl_ = std::make_unique<detail::HeapImpl>(options);
  core_ = &impl_->table;
  impl_->table.set_checked(detail::checks_traces(options));
  impl_->table.set_generational(options.mode == GcMode::generational);
  detail::Collector::set_next_trigger(*impl_);
}

Heap::~Heap() { detail::Collector::tear_down(*impl_); }

const HeapOptions& Heap::options() const noexcept { return impl_->options; }

void Heap::set_options(const HeapOptions& options) {
  validate(options);
  core_->check_thread();
  impl_->table.set_checked(detail::checks_traces(options));
  detail::Collector::apply_options(*impl_, options);
  detail::run_death_callbacks(*impl_);
}

void set_page_cache_limit(std::size_t bytes) noexcept { detail::memory_cache::set_limit(bytes); }
std::size_t page_cache_limit() noexcept { return detail::memory_cache::limit(); }
std::size_t page_cache_bytes() noexcept { return detail::memory_cache::bytes(); }
void trim_page_cache() noexcept { detail::memory_cache::trim(); }

void Heap::attach_to_current_thread() noexcept { core_->attach_to_current_thread(); }

void Heap::release_memory() noexcept {
  core_->check_thread();
  impl_->table.release_quarantine();
  impl_->table.trim(0, 0, 0);
  impl_->release_extensions();
}

std::chrono::nanoseconds HeapStats::Pauses::quantile(double q) const noexcept {
  const auto wanted = static_cast<std::uint64_t>(q * static_cast<double>(count) + 0.5);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < histogram.size(); ++i) {
    seen += histogram[i];
    if (seen >= wanted && seen > 0) {
      const auto upper = std::chrono::nanoseconds(std::int64_t{1} << (i + 1));
      return upper < max ? upper : max;
    }
  }
  return max;
}

std::size_t Heap::adjust_external_memory(std::ptrdiff_t delta) {
  core_->check_thread();
  if (delta > 0) detail::charge_external(core_->tag(), static_cast<std::size_t>(delta));
  if (delta < 0) detail::refund_external(core_->tag(), static_cast<std::size_t>(-(delta + 1)) + 1);
  detail::run_death_callbacks(*impl_);
  return core_->external_bytes();
}

void Heap::prepare_make(std::size_t bytes) {
  // One call after the collection (if any) runs every ready batch, older ones first.
  detail::Collector::prepare_make(*impl_, bytes);
  detail::run_death_callbacks(*impl_);
  detail::Collector::refresh_inline_budget(*impl_);
}

void Heap::run_deferred_collection() noexcept {
  if (core_->collection_deferred() && core_->can_collect()) detail::Collector::collect(*impl_);
  detail::run_death_callbacks(*impl_);
}

bool Heap::checks_captures() const noexcept { return detail::checks_traces(impl_->options); }

void Heap::collect() noexcept {
  core_->check_thread();
  if (!core_->can_collect()) {
    // During construction or a snapshot: run when it ends. From a destructor: nothing to do.
    if (core_->phase() == detail::Phase::kIdle) core_->set_collection_deferred(true);
    return;
  }
  detail::Collector::collect(*impl_);
  detail::run_death_callbacks(*impl_);
}

bool Heap::step(std::chrono::nanoseconds budget) noexcept {
  core_->check_thread();
  const bool running = detail::Collector::step(*impl_, budget);
  detail::run_death_callbacks(*impl_);
  return running;
}

HeapStats Heap::stats() const noexcept {
  HeapStats s = impl_->stats;
  s.live_objects = impl_->table.live_objects();
  s.live_bytes = impl_->table.live_bytes();
  s.external_bytes = impl_->table.external_bytes();
  s.committed_bytes = impl_->table.committed_bytes();
  s.table_bytes = impl_->table.table_bytes();
  s.allocated_since_collection = impl_->table.allocated_since_collection();
  s.cycle_running = detail::incremental_running(*impl_);
  return s;
}

VerifyResult Heap::verify() const { return detail::verify(*impl_); }

// ---- roots -----------------------------------------------------------------------------------------

void Heap::set_root(std::string_view name, Strong<Object> handle) {
  core_->check_thread();
  if (name.empty()) throw std::invalid_argument("snapheap: a root name must not be empty");
  if (!handle) {
    remove_root(name);
    return;
  }
  if (&detail::HeapCore::of(handle.get()) != core_)
    throw std::invalid_argument("snapheap: set_root('" + std::string(name) +
                                "'): the object belongs to another heap");
  impl_->roots.set(name, std::move(handle));
}

bool Heap::remove_root(std::string_view name) {
  core_->check_thread();
  return impl_->roots.remove(name);
}

bool Heap::has_root(std::string_view name) const { return impl_->roots.contains(name); }
std::vector<std::string> Heap::root_names() const { return impl_->roots.names(); }
std::size_t Heap::root_count() const noexcept { return impl_->roots.size(); }

Object* Heap::root_object(std::string_view name) const {
  core_->check_thread();
  return impl_->roots.find(name);
}

void Heap::throw_root_type(std::string_view name, const Object* object, const std::type_info& wanted) {
  const detail::TypeInfo* held = detail::type_at(detail::ObjectAccess::type(object));
  throw std::invalid_argument("snapheap: root '" + std::string(name) + "' holds a " +
                              (held ? held->display_name() : std::string("?")) + ", not a " +
                              detail::demangled_name(wanted));
}

}  // namespace snapheap
