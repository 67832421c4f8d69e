#include "graph_diff.hpp"

#include <algorithm>
#include <span>
#include <string_view>
#include <unordered_map>

namespace snapheap_tool {

namespace {

using snapheap::SnapshotGraph;

constexpr std::uint32_t kNone = SnapshotGraph::kNone;

std::uint64_t mix(std::uint64_t h, std::uint64_t v) {
  std::uint64_t x = h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
std::uint64_t hash_bytes(std::span<const unsigned char> bytes, std::uint64_t h = 0xcbf29ce484222325ULL) {
  for (const unsigned char b : bytes) h = (h ^ b) * 0x100000001b3ULL;
  return h;
}
std::uint64_t hash_name(std::string_view s) {
  return hash_bytes({reinterpret_cast<const unsigned char*>(s.data()), s.size()});
}

/// Each object's root path as a 64-bit key: the path along which a breadth-first walk from all
/// the roots at once (roots in name order, references in record order) first reaches it, as the
/// root's name and the positions of the references followed. Unreachable objects get no key.
constexpr std::uint64_t kNoKey = 0;
std::vector<std::uint64_t> path_keys(const SnapshotGraph& g) {
  std::vector<std::uint64_t> key(g.objects(), kNoKey);
  std::vector<std::uint32_t> queue;
  for (const auto& r : g.roots())
    if (key[r.id] == kNoKey) key[r.id] = mix(hash_name(r.name), 1) | 1, queue.push_back(r.id);
  for (std::size_t q = 0; q < queue.size(); ++q) {
    const std::uint32_t v = queue[q];
    g.for_each_strong(v, [&](std::uint32_t t, std::uint32_t position) {
      if (key[t] != kNoKey) return;
      key[t] = mix(key[v], position) | 1;
      queue.push_back(t);
    });
  }
  return key;
}

/// The same record in both files: the same data bytes and the same references (kinds, and
/// targets by root path), whatever the IDs (which the references' encoding depends on).
bool same_content(const SnapshotGraph& a, const std::vector<std::uint64_t>& key_a, std::uint32_t ia,
                  const SnapshotGraph& b, const std::vector<std::uint64_t>& key_b, std::uint32_t ib) {
  const auto da = a.record_data(ia), db = b.record_data(ib);
  if (!std::equal(da.begin(), da.end(), db.begin(), db.end())) return false;
  const auto refs = [](const SnapshotGraph& g, const std::vector<std::uint64_t>& key, std::uint32_t id) {
    std::vector<std::uint64_t> out;
    g.for_each_ref(id, [&](const SnapshotGraph::Ref& r) {
      out.push_back(static_cast<std::uint64_t>(r.kind));
      if (r.target != kNone) out.push_back(key[r.target] == kNoKey ? r.target : key[r.target]);
    });
    return out;
  };
  return refs(a, key_a, ia) == refs(b, key_b, ib);
}

}  // namespace

GraphDiff compare(const SnapshotGraph& a, const SnapshotGraph& b) {
  GraphDiff d;
  const std::vector<std::uint64_t> key_a = path_keys(a), key_b = path_keys(b);
  std::unordered_map<std::uint64_t, std::uint32_t> in_b;
  in_b.reserve(b.objects());
  for (std::uint32_t id = 0; id < b.objects(); ++id)
    if (key_b[id] != kNoKey) in_b.emplace(key_b[id], id);
  std::vector<bool> matched_b(b.objects(), false);
  for (std::uint32_t id = 0; id < a.objects(); ++id) {
    TypeDiff& t = d.types[a.type_name(id)];
    ++t.objects_a;
    t.bytes_a += a.self_bytes(id);
    const auto found = key_a[id] == kNoKey ? in_b.end() : in_b.find(key_a[id]);
    if (found != in_b.end() && b.type_name(found->second) == a.type_name(id)) {
      matched_b[found->second] = true;
      if (!same_content(a, key_a, id, b, key_b, found->second)) ++t.changed;
      continue;
    }
    ++t.removed;
    t.bytes_removed += a.self_bytes(id);
  }
  for (std::uint32_t id = 0; id < b.objects(); ++id) {
    TypeDiff& t = d.types[b.type_name(id)];
    ++t.objects_b;
    t.bytes_b += b.self_bytes(id);
    if (!matched_b[id]) ++t.added, t.bytes_added += b.self_bytes(id);
  }
  // Roots: added, removed, and changed (another type, or its object's record or retained bytes differ).
  d.dom_a = snapheap::dominators(a);
  d.dom_b = snapheap::dominators(b);
  std::map<std::string, std::uint32_t> roots_a, roots_b;
  for (const auto& r : a.roots()) roots_a.emplace(r.name, r.id);
  for (const auto& r : b.roots()) roots_b.emplace(r.name, r.id);
  for (const auto& [name, id] : roots_a) {
    const auto found = roots_b.find(name);
    if (found == roots_b.end()) {
      d.roots_removed.push_back(name);
      continue;
    }
    const std::uint32_t other = found->second;
    if (a.type_name(id) != b.type_name(other) || d.dom_a.retained_objects[id] != d.dom_b.retained_objects[other] ||
        !same_content(a, key_a, id, b, key_b, other))
      d.roots_changed.push_back({name, id, other});
  }
  for (const auto& [name, id] : roots_b)
    if (!roots_a.count(name)) d.roots_added.push_back(name);
  for (const auto& [name, t] : d.types) {
    d.added += t.added;
    d.removed += t.removed;
    d.changed += t.changed;
    const auto delta = static_cast<std::int64_t>(t.bytes_b) - static_cast<std::int64_t>(t.bytes_a);
    if (delta > 0) d.growth.emplace_back(delta, name);
  }
  std::sort(d.growth.begin(), d.growth.end(), [](const auto& x, const auto& y) {
    return x.first != y.first ? x.first > y.first : x.second < y.second;
  });
  return d;
}

}  // namespace snapheap_tool
