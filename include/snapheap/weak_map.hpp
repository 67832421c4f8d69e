// Weak maps, managed classes that live in the heap and in snapshots:
//
//   snapheap::WeakKeyMap<K, V>     keyed by object identity; an entry lives while its key does
//                                  (ephemeron semantics: JavaScript's WeakMap, a Lua table with
//                                  __mode = "k", cppgc's EphemeronPair)
//   snapheap::WeakValueMap<Key, V> keyed by a value (a string, an integer, ...); an entry goes
//                                  when its value object dies (a cache: Python's
//                                  WeakValueDictionary, a Lua table with __mode = "v")
//
// Both are told by the collector which of their entries died and drop them at their next
// operation: a map that lost nothing pays nothing for it. Register each instantiation that
// snapshots hold like any managed type: SNAPHEAP_REGISTER(snapheap::WeakKeyMap<Node, Payload>).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "snapheap/allocator.hpp"
#include "snapheap/archive.hpp"
#include "snapheap/handles.hpp"
#include "snapheap/object.hpp"
#include "snapheap/tracer.hpp"

namespace snapheap {

namespace detail {
/// A watch a WeakValueMap holds on one of its values (gc/weak.cpp).
struct WatchId {
  std::uint32_t index = 0;
  std::uint64_t serial = 0;
};
WatchId watch_map_value(const Object* owner, const Object* value);
void cancel_map_watch(const Object* owner, WatchId id) noexcept;
/// The identities of `owner`'s entries the collector found dead since the last call (key
/// identities for a WeakKeyMap, value identities for a WeakValueMap); false if there are none.
bool take_dead_entries(const Object* owner, std::vector<std::uint64_t>& out);
/// After `owner` (a WeakKeyMap) was given `key` (`added`: in a new entry), what marking would
/// have met had it traced the map now. Incremental marking: a new entry of a map already traced
/// in this cycle, whose key is still white, is pending as if traced (else a key that dies in
/// this cycle would leave its entry in the map until the next one). Generational mode: an old
/// map given a young key is traced by the next minor collection (the key's death must reach it).
void note_key_set(const Object* owner, const Object* key, const Object* value, bool added) noexcept;

inline std::uint64_t identity_of(const Object* o) noexcept {
  const std::uint32_t slot = ObjectAccess::slot(o);
  return std::uint64_t{slot} | (std::uint64_t{HeapCore::of(o).generation(slot)} << 32);
}
/// The dead entries of `owner`, if the heap has any for some map (one load and a branch otherwise).
template <class Drop>
void drop_dead_entries(const Object* owner, Drop&& drop) {
  if (!HeapCore::of(owner).dead_entries_pending()) [[likely]]
    return;
  std::vector<std::uint64_t> dead;
  if (take_dead_entries(owner, dead))
    for (const std::uint64_t id : dead) drop(id);
}
}  // namespace detail

/// Entries in insertion order, for both maps: a dense vector of slots (an erased entry leaves a
/// hole until the holes are half the vector) and a hash index into it. Iteration, trace() and
/// snapshots walk the vector, so a map's order is the order of its insertions (as a Python dict's)
/// and a snapshot loads back into a map that saves to the same bytes.
namespace detail {
template <class Slot, class Id, class Hash = std::hash<Id>, class Eq = std::equal_to<Id>>
class DenseEntries {
 public:
  using Index = std::unordered_map<Id, std::uint32_t, Hash, Eq,
                                   Allocator<std::pair<const Id, std::uint32_t>>>;
  Slot* find(const Id& id) {
    const auto it = index_.find(id);
    return it == index_.end() ? nullptr : &slots_[it->second];
  }
  const Slot* find(const Id& id) const {
    const auto it = index_.find(id);
    return it == index_.end() ? nullptr : &slots_[it->second];
  }
  /// The slot for `id`, made (empty) at the end if there is none; `made` says which.
  Slot& get_or_add(const Id& id, bool& made) {
    const auto it = index_.find(id);
    if (it != index_.end()) {
      made = false;
      return slots_[it->second];
    }
    slots_.emplace_back();
    try {
      index_.emplace(id, static_cast<std::uint32_t>(slots_.size() - 1));
    } catch (...) {
      slots_.pop_back();
      throw;
    }
    made = true;
    return slots_.back();
  }
  /// Empties the slot of `id`; false if there is none.
  template <class Clear>
  bool erase(const Id& id, Clear&& clear) {
    const auto it = index_.find(id);
    if (it == index_.end()) return false;
    clear(slots_[it->second]);
    index_.erase(it);
    ++holes_;
    if (holes_ > 16 && holes_ * 2 > slots_.size()) compact();
    return true;
  }
  std::size_t size() const noexcept { return index_.size(); }
  void clear() {
    slots_.clear();
    index_.clear();
    holes_ = 0;
  }
  /// Every slot, holes included (a hole reads empty: Slot::used() is false).
  const Vector<Slot>& slots() const noexcept { return slots_; }

 private:
  void compact() {
    std::size_t kept = 0;
    for (std::size_t i = 0; i < slots_.size(); ++i)
      if (slots_[i].used()) {
        if (kept != i) slots_[kept] = std::move(slots_[i]);
        index_[slots_[kept].id()] = static_cast<std::uint32_t>(kept);
        ++kept;
      }
    slots_.resize(kept);
    holes_ = 0;
  }
  Vector<Slot> slots_;
  Index index_;
  std::size_t holes_ = 0;
};
}  // namespace detail

/// A map from managed objects (by identity) to managed objects whose entries live while their key
/// is alive through other paths. A value that refers back to its own key does not keep the entry
/// alive. The map holds its values strongly only through live keys, like an Ephemeron each.
///
///     auto cache = heap.make<snapheap::WeakKeyMap<Layer, Stats>>();
///     cache->set(layer, heap.make<Stats>());
///     if (auto stats = cache->get(layer)) ...
///
/// Entries are kept in insertion order. Snapshots save an entry iff its key is saved (the key is
/// reachable from the saved roots, or becomes so through other saved entries); the others are
/// not written (SnapshotStats and `snapheap info` count them as ephemerons dropped). Do not
/// change the map from inside for_each().
template <class K, class V>
class WeakKeyMap final : public Object {
 public:
  WeakKeyMap() = default;
  WeakKeyMap(const WeakKeyMap&) = delete;
  WeakKeyMap& operator=(const WeakKeyMap&) = delete;

  /// Sets the value for `key` (replacing any, in place); a null value removes the entry. Both
  /// must live in the map's heap.
  void set(const K* key, const V* value) {
    if (!key) return;
    if (!value) {
      erase(key);
      return;
    }
    drop_dead();
    Weak<K> weak(const_cast<K*>(key));
    bool made;
    Entry& e = entries_.get_or_add(detail::HandleAccess::identity(weak), made);
    e.key = weak;
    e.value = value;
    detail::write_barrier(value);  // the one barrier a value passes: moving entries needs none
    detail::note_key_set(this, key, value, made);
  }
  template <class A, class B>
    requires detail::HandleConvertible<A, K> && detail::HandleConvertible<B, V>
  void set(const Strong<A>& key, const Strong<B>& value) {
    set(key.get(), value.get());
  }
  /// The value for `key`, or an empty handle.
  Strong<V> get(const K* key) const {
    const Entry* e = find(key);
    return e ? Strong<V>(const_cast<V*>(e->value)) : Strong<V>();
  }
  template <class A>
    requires detail::HandleConvertible<A, K>
  Strong<V> get(const Strong<A>& key) const {
    return get(key.get());
  }
  bool contains(const K* key) const { return find(key) != nullptr; }
  template <class A>
    requires detail::HandleConvertible<A, K>
  bool contains(const Strong<A>& key) const {
    return contains(key.get());
  }
  /// Removes the entry for `key`; true if there was one.
  bool erase(const K* key) {
    if (!key) return false;
    drop_dead();
    return entries_.erase(detail::identity_of(key), clear_entry);
  }
  template <class A>
    requires detail::HandleConvertible<A, K>
  bool erase(const Strong<A>& key) {
    return erase(key.get());
  }
  /// Live entries.
  std::size_t size() const {
    drop_dead();
    return entries_.size();
  }
  bool empty() const { return size() == 0; }
  void clear() { entries_.clear(); }
  /// Calls fn(Strong<K>, Strong<V>) for every live entry, in insertion order.
  template <class Fn>
  void for_each(Fn&& fn) const {
    drop_dead();
    for (const Entry& e : entries_.slots())
      if (Strong<K> key = e.key.lock()) fn(key, Strong<V>(const_cast<V*>(e.value)));
  }
  /// The live entries, rooted.
  std::vector<std::pair<Strong<K>, Strong<V>>> entries() const {
    std::vector<std::pair<Strong<K>, Strong<V>>> out;
    for_each([&](const Strong<K>& k, const Strong<V>& v) { out.emplace_back(k, v); });
    return out;
  }

  void trace(Tracer& tracer) const override {
    detail::TracerAccess::weak_structure(tracer);
    for (const Entry& e : entries_.slots()) detail::TracerAccess::entry(tracer, e.key, e.value, &e.value, this);
  }

  template <class Archive>
  void save(Archive& ar, unsigned) const {
    drop_dead();
    std::size_t saved = 0;
    for (const Entry& e : entries_.slots())
      if (e.used() && !e.key.expired() && ar.saves(e.key)) ++saved;
    ar << saved;
    for (const Entry& e : entries_.slots()) {
      if (!e.used() || e.key.expired() || !ar.saves(e.key)) continue;
      ar << e.key;
      ar.put_strong(e.value);
    }
    ar.count_weak_entries(detail::WeakEntryKind::ephemeron, saved, entries_.size() - saved);
  }
  template <class Archive>
  void load(Archive& ar, unsigned) {
    entries_.clear();
    const std::size_t count = ar.get_count(0);
    for (std::size_t i = 0; i < count; ++i) {
      Weak<K> key;
      ar >> key;
      const V* value = ar.template get_strong<V>();
      const Strong<K> live = key.lock();
      if (!live || !value) continue;  // a key the destination lacks (an external root)
      set(live.get(), value);
    }
    ar.count_weak_entries(detail::WeakEntryKind::ephemeron, count, 0);
  }
  BOOST_SERIALIZATION_SPLIT_MEMBER()

 private:
  // The value is a plain pointer, not a Member: set() passes it through the write barrier once,
  // and the vector's growth moves entries without shading every value (which would keep values
  // of dying keys through an incremental cycle).
  struct Entry {
    Weak<K> key;
    const V* value = nullptr;  // may dangle once the key has died, until the entry is dropped
    bool used() const noexcept { return !key.empty(); }
    std::uint64_t id() const noexcept { return detail::HandleAccess::identity(key); }
  };
  static void clear_entry(Entry& e) noexcept {
    e.key.reset();
    e.value = nullptr;
  }

  const Entry* find(const K* key) const {
    if (!key) return nullptr;
    drop_dead();
    const Entry* e = entries_.find(detail::identity_of(key));
    return e && !e->key.expired() ? e : nullptr;
  }
  void drop_dead() const {
    detail::drop_dead_entries(this, [this](std::uint64_t id) { entries_.erase(id, clear_entry); });
  }

  mutable detail::DenseEntries<Entry, std::uint64_t> entries_;
};

/// A map from values (strings, integers, anything hashable) to managed objects, whose entries go
/// when their value dies: a cache of objects something else keeps alive. Replacing a value
/// leaves the new one in place when the old one dies.
///
///     auto cache = heap.make<snapheap::WeakValueMap<std::string, Texture>>();
///     cache->set("grass", texture);
///     if (auto t = cache->get("grass")) ...
///
/// Entries are kept in insertion order. Snapshots save an entry iff its value is saved; the
/// others are dropped (not written; SnapshotStats and `snapheap info` count them as weak-value
/// entries dropped). The key type must be one snapshots can save. Do not change the map from
/// inside for_each().
template <class Key, class V, class Hash = std::hash<Key>, class Eq = std::equal_to<Key>>
class WeakValueMap final : public Object {
 public:
  WeakValueMap() = default;
  WeakValueMap(const WeakValueMap&) = delete;
  WeakValueMap& operator=(const WeakValueMap&) = delete;
  ~WeakValueMap() {
    for (const auto& [id, w] : watched_) detail::cancel_map_watch(this, w.watch);
  }

  /// Sets the value for `key` (replacing any, in place); a null value removes the entry.
  void set(const Key& key, const V* value) {
    if (!value) {
      erase(key);
      return;
    }
    drop_dead();
    const Weak<V> weak(const_cast<V*>(value));
    const std::uint64_t id = detail::HandleAccess::identity(weak);
    bool made;
    Entry& e = entries_.get_or_add(key, made);
    if (!made) {
      const std::uint64_t old = detail::HandleAccess::identity(e.value);
      if (old == id && !e.value.expired()) return;
      unlink(key, old);
    } else {
      e.key = key;
    }
    e.value = weak;
    link(key, id, value);
  }
  template <class B>
    requires detail::HandleConvertible<B, V>
  void set(const Key& key, const Strong<B>& value) {
    set(key, value.get());
  }
  /// The value for `key`, or an empty handle.
  Strong<V> get(const Key& key) const {
    drop_dead();
    const Entry* e = entries_.find(key);
    return e ? e->value.lock() : Strong<V>();
  }
  bool contains(const Key& key) const { return static_cast<bool>(get(key)); }
  /// Removes the entry for `key`; true if there was one.
  bool erase(const Key& key) {
    drop_dead();
    const Entry* e = entries_.find(key);
    if (!e) return false;
    unlink(key, detail::HandleAccess::identity(e->value));
    return entries_.erase(key, clear_entry);
  }
  /// Live entries.
  std::size_t size() const {
    drop_dead();
    return entries_.size();
  }
  bool empty() const { return size() == 0; }
  void clear() {
    for (const auto& [id, w] : watched_) detail::cancel_map_watch(this, w.watch);
    watched_.clear();
    entries_.clear();
  }
  /// Calls fn(const Key&, Strong<V>) for every live entry, in insertion order.
  template <class Fn>
  void for_each(Fn&& fn) const {
    drop_dead();
    for (const Entry& e : entries_.slots())
      if (Strong<V> value = e.value.lock()) fn(e.key, value);
  }
  std::vector<std::pair<Key, Strong<V>>> entries() const {
    std::vector<std::pair<Key, Strong<V>>> out;
    for_each([&](const Key& k, const Strong<V>& v) { out.emplace_back(k, v); });
    return out;
  }

  // Marking has nothing to do here: the values are weak and their deaths arrive through the
  // watches. The other walks (snapshots, verify, inspection) see every value as a weak edge.
  void trace(Tracer& tracer) const override {
    if (tracer.marking()) return;
    detail::TracerAccess::weak_structure(tracer);
    for (const Entry& e : entries_.slots()) tracer.trace(e.value);
  }

  template <class Archive>
  void save(Archive& ar, unsigned) const {
    drop_dead();
    std::size_t saved = 0;
    for (const Entry& e : entries_.slots())
      if (e.used() && ar.saves(e.value)) ++saved;
    ar << saved;
    for (const Entry& e : entries_.slots())
      if (e.used() && ar.saves(e.value)) ar << e.key << e.value;
    ar.count_weak_entries(detail::WeakEntryKind::weak_value, saved, entries_.size() - saved);
  }
  template <class Archive>
  void load(Archive& ar, unsigned) {
    clear();
    const std::size_t count = ar.get_count(0);
    for (std::size_t i = 0; i < count; ++i) {
      Key key{};
      Weak<V> weak;
      ar >> key >> weak;
      if (const Strong<V> value = weak.lock()) set(key, value.get());  // a tombstone: absent
    }
    ar.count_weak_entries(detail::WeakEntryKind::weak_value, count, 0);
  }
  BOOST_SERIALIZATION_SPLIT_MEMBER()

 private:
  struct Entry {
    Key key{};
    Weak<V> value;
    bool used() const noexcept { return !value.empty(); }
    const Key& id() const noexcept { return key; }
  };
  // A hole keeps its key until the next compaction (used() reads the value).
  static void clear_entry(Entry& e) noexcept { e.value.reset(); }
  /// A value the map watches, and the keys it is stored under.
  struct Watched {
    detail::WatchId watch;
    std::vector<Key> keys;
  };
  using WatchedMap = std::unordered_map<std::uint64_t, Watched, std::hash<std::uint64_t>, std::equal_to<std::uint64_t>,
                                        Allocator<std::pair<const std::uint64_t, Watched>>>;

  void link(const Key& key, std::uint64_t id, const V* value) {
    const auto [it, inserted] = watched_.try_emplace(id);
    if (inserted) {
      try {
        it->second.watch = detail::watch_map_value(this, value);
      } catch (...) {
        watched_.erase(it);
        entries_.erase(key, clear_entry);
        throw;
      }
    }
    it->second.keys.push_back(key);
  }
  void unlink(const Key& key, std::uint64_t id) {
    const auto it = watched_.find(id);
    if (it == watched_.end()) return;
    std::vector<Key>& keys = it->second.keys;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (Eq{}(keys[i], key)) {
        keys[i] = std::move(keys.back());
        keys.pop_back();
        break;
      }
    }
    if (!keys.empty()) return;
    detail::cancel_map_watch(this, it->second.watch);
    watched_.erase(it);
  }
  // A watched value died: its entries go, unless a key was given another value since.
  void drop_dead() const {
    detail::drop_dead_entries(this, [this](std::uint64_t id) {
      const auto it = watched_.find(id);
      if (it == watched_.end()) return;
      for (const Key& key : it->second.keys) {
        const Entry* e = entries_.find(key);
        if (e && detail::HandleAccess::identity(e->value) == id) entries_.erase(key, clear_entry);
      }
      watched_.erase(it);
    });
  }

  mutable detail::DenseEntries<Entry, Key, Hash, Eq> entries_;
  mutable WatchedMap watched_;
};

}  // namespace snapheap
