// Small real snapshots covering every feature of the format: the fuzzers' seed corpus
// (fuzz/make_corpus.cpp) and the inputs of the corruption sweep (tests/serialize/corruption_test.cpp).
//
//   seed-*       the seed document's three scenarios (examples/seed) at 10, 100 and 1000 elements,
//                saved with all roots and with the model only (a tombstone for the weak variant)
//   empty        a heap with no roots: no types, no objects
//   handles      empty Members and Weaks, tombstones (a dead target, and a live one left out)
//   features     every field kind of snapheap_fuzz::Record with contents
//   bulk         arrays past the bulk threshold (written from the object's memory)
//   shapes       sharing, a strong cycle, a chain, a self-reference
//   many-types   every registered type in one snapshot
//   many-roots   forty roots, one of them named like a root of the fuzzers' destination heap
//   graph-*      random graphs of Records with strong, weak and dead edges
//   weak-*       (format 3) weak structures: Ephemeron fields, a WeakKeyMap and a WeakValueMap
//                with keys and values in and out of the saved set, a chain resolved through
//                ephemeron values, dead keys; saved whole and with one root left out
//   external-*   snapshots with external roots (SaveOptions::external), named like the roots of
//                the fuzzers' destination heap (fuzz/harness.hpp) so that they load there:
//                external-seed-*  the seed's three scenarios with the payload (the DataProxy for
//                                 the proxy) as an external root
//                external-cycle   strong cycles through and beside external roots, weak handles
//                                 to them, and to what only an external root reaches (left out)
//                external-graph-* chains of Records with random edges, beside an external Record
//                                 (and what only it reaches) and an external Payload
#pragma once

#include <snapheap/snapheap.hpp>

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "fuzz/fuzz_types.hpp"
#include "seed/seed_model.hpp"

namespace snapheap_fuzz {

struct Sample {
  std::string name;
  std::vector<unsigned char> bytes;
};

inline std::vector<unsigned char> snapshot_of(snapheap::Heap& heap, const snapheap::SaveOptions& options = {}) {
  snapheap::ByteBuffer buffer;
  snapheap::save(heap, buffer, options);
  const auto* p = reinterpret_cast<const unsigned char*>(buffer.data());
  return {p, p + buffer.size()};
}

/// A Record with every field set.
inline snapheap::Strong<Record> make_full_record(snapheap::Heap& heap, const std::string& name, std::uint32_t seed) {
  std::mt19937 rng(seed);
  auto r = heap.make<Record>();
  r->name = name;
  const std::uint32_t ints = 5 + rng() % 8;
  for (std::uint32_t i = 0; i < ints; ++i) r->ints.push_back(static_cast<std::int32_t>(rng()));
  r->words = {"alpha", "", std::string(1, '\0') + "nul", "w" + std::to_string(rng() % 100)};
  r->table = {{"one", 1}, {"minus", -7}, {"big", std::int64_t{1} << 60}, {"", 0}};
  r->nested = {{-3, {"x", "y"}}, {0, {}}, {42, {"z"}}};
  r->matrix = {{1, -2, 3}, {}, {std::int16_t{-32768}, std::int16_t{32767}}};
  r->note = "note " + std::to_string(seed);
  r->weight = 0.5 + seed;
  r->bits = {true, false, true, true};
  r->numbers = {0, 1, ~std::uint64_t{0}};
  switch (seed % 3) {
    case 0: r->choice = std::int64_t{-12345}; break;
    case 1: r->choice = std::string("chosen"); break;
    default: r->choice = 2.25; break;
  }
  r->label = {"label", static_cast<std::uint8_t>(seed)};
  auto leaf = heap.make<Leaf>();
  leaf->x = -1.5;
  leaf->y = 3.25f;
  leaf->flag = true;
  leaf->small = -8;
  leaf->medium = 65535;
  leaf->tag = {1, 2, 3, 4};
  r->leaf = leaf;
  return r;
}

/// Random Records: children (sharing and cycles happen), weak peers and watch lists (some to
/// nodes no root reaches, some to nodes that died), Leafs and Payloads behind `any` and `data`.
inline void build_random_graph(snapheap::Heap& heap, std::uint32_t seed, std::uint32_t nodes) {
  std::mt19937 rng(seed);
  auto pick = [&](std::uint32_t n) { return static_cast<std::uint32_t>(rng() % n); };
  std::vector<snapheap::Strong<Record>> all;
  for (std::uint32_t i = 0; i < nodes; ++i) {
    auto r = heap.make<Record>();
    r->name = "n" + std::to_string(i);
    for (std::uint32_t k = pick(4); k > 0; --k) r->ints.push_back(static_cast<std::int32_t>(rng()));
    if (pick(3) == 0) r->words.push_back("w" + std::to_string(rng() % 1000));
    if (pick(4) == 0) r->table["k" + std::to_string(pick(10))] = static_cast<std::int64_t>(rng()) - (1 << 30);
    if (pick(5) == 0) r->note = "note";
    if (pick(2) == 0) r->choice = std::string("s");
    all.push_back(r);
  }
  std::vector<snapheap::Strong<seed::Payload>> payloads;
  for (std::uint32_t i = 0; i < 1 + nodes / 8; ++i)
    payloads.push_back(heap.make<seed::Payload>(std::int64_t{pick(20)}));
  for (auto& r : all) {
    for (std::uint32_t k = pick(4); k > 0; --k) r->children.emplace_back(all[pick(nodes)]);
    if (pick(2) == 0) r->peer = all[pick(nodes)];
    for (std::uint32_t k = pick(3); k > 0; --k) r->watch.emplace_back(all[pick(nodes)]);
    if (pick(3) == 0) r->data = payloads[pick(static_cast<std::uint32_t>(payloads.size()))];
    switch (pick(5)) {
      case 0: r->any = heap.make<Leaf>(); break;
      case 1: r->any = all[pick(nodes)]; break;
      case 2: r->any = payloads[pick(static_cast<std::uint32_t>(payloads.size()))]; break;
      default: break;
    }
  }
  heap.set_root("graph", all[0]);
  if (nodes > 3) heap.set_root("graph.second", all[pick(nodes)]);
  if (pick(2) == 0) heap.set_root("graph.payload", payloads[0]);
  // Some nodes die: weak handles to them become tombstones.
  for (std::uint32_t i = 0; i < nodes / 4; ++i) all[pick(nodes)]->children.clear();
  all.clear();
  payloads.clear();
  heap.collect();
}

/// A chain of Records with random extra edges beside an external Record ("existing.records",
/// with children only it reaches) and an external Payload ("existing.payload"): strong and weak
/// edges to both, weak edges into the external Record's children (left out) and to Records that
/// died (expired), and a cycle through the external Record.
inline void build_external_graph(snapheap::Heap& heap, std::uint32_t seed, std::uint32_t nodes) {
  std::mt19937 rng(seed);
  auto pick = [&](std::uint32_t n) { return static_cast<std::uint32_t>(rng() % n); };
  auto external = heap.make<Record>();
  external->name = "external";
  std::vector<snapheap::Strong<Record>> hidden;  // reached only through the external Record
  for (int i = 0; i < 3; ++i) {
    hidden.push_back(heap.make<Record>());
    external->children.emplace_back(hidden.back());
  }
  auto payload = heap.make<seed::Payload>(std::int64_t{3});
  std::vector<snapheap::Strong<Record>> all, doomed;
  for (std::uint32_t i = 0; i < nodes; ++i) {
    all.push_back(heap.make<Record>());
    all.back()->name = "n" + std::to_string(i);
    if (i > 0) all[i - 1]->children.emplace_back(all[i]);
    doomed.push_back(heap.make<Record>());
  }
  for (auto& r : all) {
    for (std::uint32_t k = pick(3); k > 0; --k)
      r->children.emplace_back(pick(3) == 0 ? external : all[pick(nodes)]);
    switch (pick(5)) {
      case 0: r->peer = external; break;
      case 1: r->peer = hidden[pick(3)]; break;
      case 2: r->peer = all[pick(nodes)]; break;
      case 3: r->peer = doomed[pick(nodes)]; break;
      default: break;
    }
    if (pick(2) == 0) r->data = payload;
    if (pick(3) == 0) r->any = pick(2) ? snapheap::Strong<snapheap::Object>(payload) : snapheap::Strong<snapheap::Object>(external);
    for (std::uint32_t k = pick(3); k > 0; --k) r->watch.emplace_back(pick(2) ? all[pick(nodes)] : hidden[pick(3)]);
  }
  external->children.emplace_back(all[pick(nodes)]);  // a cycle through the external Record
  heap.set_root("graph", all[0]);
  heap.set_root("existing.records", external);
  heap.set_root("existing.payload", payload);
  all.clear();
  hidden.clear();
  doomed.clear();
  heap.collect();
}

/// A WeakTable over Records: pairs whose keys are saved (one only through another pair's value),
/// a pair whose key lives but is left out when "records" is not saved, a pair whose key died, an
/// empty pair; the same in the two maps.
inline void build_weak_structures(snapheap::Heap& heap) {
  auto table = heap.make<WeakTable>();
  table->by_record = heap.make<snapheap::WeakKeyMap<Record, Leaf>>().get();
  table->by_name = heap.make<snapheap::WeakValueMap<std::string, Record>>().get();
  auto records = heap.make<Record>();  // holds the keys of the second root
  auto a = heap.make<Record>();
  auto b = heap.make<Record>();
  auto c = heap.make<Record>();
  a->name = "a";
  b->name = "b";
  c->name = "c";
  table->pairs.emplace_back(b, c);  // b is saved only as a's value
  table->pairs.emplace_back(a, b);
  records->children = {c};
  auto outside = heap.make<Record>();
  outside->name = "outside";
  records->children.emplace_back(outside);
  table->pairs.emplace_back(outside, heap.make<Record>());
  {
    auto dead = heap.make<Record>();
    table->pairs.emplace_back(dead, a);
    table->by_record->set(dead, heap.make<Leaf>());
    table->by_name->set("dead", dead);
  }
  table->pairs.emplace_back();
  for (const auto& r : {a, b, outside}) {
    auto leaf = heap.make<Leaf>();
    leaf->x = static_cast<double>(r->name.size());
    table->by_record->set(r, leaf);
    table->by_name->set(r->name, r);
  }
  heap.set_root("table", table);
  heap.set_root("a", a);
  heap.set_root("records", records);
  heap.collect();
}

inline std::vector<Sample> make_samples() {
  using snapheap::Heap;
  std::vector<Sample> out;
  auto add = [&](std::string name, const std::function<void(Heap&)>& fill, const snapheap::SaveOptions& options = {}) {
    Heap heap;
    fill(heap);
    out.push_back({std::move(name), snapshot_of(heap, options)});
  };

  for (seed::Scenario scenario : {seed::Scenario::weak_ref, seed::Scenario::strong_ref, seed::Scenario::proxy}) {
    for (std::int64_t elements : {10, 100, 1000}) {
      const std::string base = std::string("seed-") + seed::name_of(scenario) + "-" + std::to_string(elements);
      auto fill = [&](Heap& heap) { seed::build(heap, scenario, elements); };
      add(base + "-all", fill);
      add(base + "-model", fill, {.roots = {"model"}});
    }
  }

  add("empty", [](Heap&) {});

  add("handles", [](Heap& heap) {
    auto empty = heap.make<Record>();  // every handle empty, every container empty
    heap.set_root("empty", empty);
    auto holder = heap.make<Record>();
    heap.set_root("holder", holder);
    {
      auto dead = heap.make<Record>();
      holder->peer = dead;  // a tombstone: the target dies
      holder->watch.emplace_back(dead);
    }
    auto left_out = heap.make<seed::Payload>(std::int64_t{4});
    heap.set_root("left-out", left_out);
    holder->data = left_out;  // a tombstone: alive but not saved
    holder->watch.emplace_back(nullptr);
    holder->watch.emplace_back(empty);
    holder->children.emplace_back(nullptr);
    holder->children.emplace_back(empty);
    heap.collect();
  }, {.roots = {"empty", "holder"}});

  add("features", [](Heap& heap) {
    auto a = make_full_record(heap, "a", 0);
    auto b = make_full_record(heap, "b", 1);
    auto c = make_full_record(heap, "c", 2);
    a->children = {b, c};
    b->peer = c;
    c->peer = a;
    c->any = b->leaf;
    a->watch = {snapheap::Weak<Record>(b), snapheap::Weak<Record>()};
    heap.set_root("features", a);
  });

  add("bulk", [](Heap& heap) {
    auto r = heap.make<Record>();
    r->name = "bulk";
    for (std::int32_t i = 0; i < 1100; ++i) r->ints.push_back(i * 7 - 1000);  // 4400 bytes
    r->matrix = {{1, 2}, std::vector<std::int16_t>(2100, 3)};                 // 4200 bytes
    auto payload = heap.make<seed::Payload>(std::int64_t{520});           // 4160 bytes
    r->any = payload;
    r->data = payload;
    heap.set_root("bulk", r);
  });

  add("shapes", [](Heap& heap) {
    auto shared = heap.make<Record>();
    shared->name = "shared";
    auto a = heap.make<Record>();
    auto b = heap.make<Record>();
    a->children = {shared, b};
    b->children = {shared, a};  // a strong cycle, and sharing
    shared->children = {shared};  // a self-reference
    heap.set_root("cycle", a);
    auto head = heap.make<Record>();
    snapheap::Strong<Record> tail = head;
    for (int i = 0; i < 200; ++i) {  // a chain
      auto next = heap.make<Record>();
      tail->children.emplace_back(next);
      next->peer = tail;
      tail = next;
    }
    heap.set_root("chain", head);
  });

  add("many-types", [](Heap& heap) {
    seed::build(heap, seed::Scenario::weak_ref, 5);
    auto model = heap.root<seed::Model>("model");
    auto strong = heap.make<seed::StrongRefLayer>();
    strong->large_data = heap.make<seed::Payload>(std::int64_t{3});
    model->layers.emplace_back(strong);
    auto proxy = heap.make<seed::DataProxy>();
    proxy->count = 6;
    auto proxy_layer = heap.make<seed::ProxyLayer>();
    proxy_layer->data_proxy = proxy;
    model->layers.emplace_back(proxy_layer);
    auto r = make_full_record(heap, "typed", 4);
    r->any = model;
    model->layers.emplace_back(r);
    model->layers.emplace_back(heap.make<Leaf>());
  });

  add("many-roots", [](Heap& heap) {
    for (int i = 0; i < 40; ++i) {
      if (i % 3 == 0) heap.set_root("leaf." + std::to_string(i), heap.make<Leaf>());
      else heap.set_root("record." + std::to_string(i), make_full_record(heap, "r", static_cast<std::uint32_t>(i)));
    }
    heap.set_root("existing.records", heap.make<Record>());
  });

  for (std::uint32_t seed = 1; seed <= 6; ++seed)
    for (std::uint32_t nodes : {4u, 20u, 60u})
      add("graph-" + std::to_string(seed) + "-" + std::to_string(nodes),
          [&](Heap& heap) { build_random_graph(heap, seed, nodes); });

  for (seed::Scenario scenario : {seed::Scenario::weak_ref, seed::Scenario::strong_ref, seed::Scenario::proxy}) {
    const bool proxy = scenario == seed::Scenario::proxy;
    const std::string external = proxy ? "existing.proxy" : "existing.payload";
    add(std::string("external-seed-") + seed::name_of(scenario), [&](Heap& heap) {
      seed::build(heap, scenario, 10);
      if (proxy) {
        auto model = heap.root<seed::Model>("model");
        auto layer = snapheap::dynamic_handle_cast<seed::ProxyLayer>(snapheap::Strong<snapheap::Object>(model->layers.at(0)));
        heap.set_root(external, snapheap::Strong<snapheap::Object>(layer->data_proxy));
      } else {
        heap.set_root(external, heap.root<snapheap::Object>("large_data"));
        heap.remove_root("large_data");
      }
    }, {.roots = {"model"}, .external = {external}});
  }

  add("external-cycle", [](Heap& heap) {
    auto external = heap.make<Record>();  // "existing.records"
    auto payload = heap.make<seed::Payload>(std::int64_t{2});  // "existing.payload"
    auto hidden = heap.make<Record>();  // only the external Record reaches it
    hidden->name = "hidden";
    auto a = heap.make<Record>();
    auto b = heap.make<Record>();
    a->name = "a";
    b->name = "b";
    a->children = {b, external};  // a -> b -> a, and a -> external -> a
    b->children = {a, external, external};
    external->children = {a, hidden};
    a->any = external;
    b->any = payload;
    a->peer = external;  // weak, to an external root
    b->peer = hidden;    // weak, to what only an external root reaches: left out
    a->data = payload;
    {
      auto dead = heap.make<Record>();
      b->watch = {dead, external, a, hidden};  // expired, external, a target, left out
    }
    heap.set_root("cycle", a);
    heap.set_root("existing.records", external);
    heap.set_root("existing.payload", payload);
    heap.collect();
  }, {.external = {"existing.payload", "existing.records"}});

  for (std::uint32_t seed = 1; seed <= 3; ++seed)
    add("external-graph-" + std::to_string(seed), [&](Heap& heap) { build_external_graph(heap, seed, 24); },
        {.external = {"existing.records", "existing.payload"}});

  add("weak-structures", build_weak_structures);
  add("weak-left-out", build_weak_structures, {.roots = {"a", "table"}});
  return out;
}

}  // namespace snapheap_fuzz
