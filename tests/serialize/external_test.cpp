// External roots (SaveOptions::external): the seed's three scenarios with the payload left out and
// bound again on load, into a heap that has it, lacks it or holds another type under its name;
// checkpoints loaded side by side (renamed roots, roots returned as handles); external references
// inside cycles; a long chain whose tail is external; round trips compared object by object
// (buffer, stream and file paths); the graph behind the tool's commands (SnapshotGraph).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "seed/seed_model.hpp"
#include "serialize/snapshot_types.hpp"
#include "support/temp_dir.hpp"

using namespace snapheap;
using snapheap_stest::HasCode;
using snapheap_stest::SNode;

namespace {

constexpr std::int64_t kElements = 1000000;

bool same_bytes(const ByteBuffer& a, const ByteBuffer& b) { return std::ranges::equal(a.view(), b.view()); }

/// The model's first layer.
Strong<Object> layer_of(const Strong<seed::Model>& model) {
  REQUIRE(model);
  REQUIRE(model->layers.size() >= 1);
  return Strong<Object>(model->layers.at(0));
}

/// The object a layer refers to (the payload, or the proxy), through its Member or Weak.
const Object* target_of(const Strong<Object>& layer) {
  if (auto strong = dynamic_handle_cast<seed::StrongRefLayer>(layer)) return strong->large_data.get();
  if (auto weak = dynamic_handle_cast<seed::WeakRefLayer>(layer)) return weak->large_data.lock().get();
  if (auto proxy = dynamic_handle_cast<seed::ProxyLayer>(layer)) return proxy->data_proxy.get();
  FAIL("not a seed layer");
  return nullptr;
}

/// A seed scenario whose payload (the DataProxy, for the proxy) is the root "large_data", saved
/// with only "model" and the payload external.
ByteBuffer model_snapshot(seed::Scenario scenario, std::int64_t elements, SnapshotStats* stats = nullptr) {
  Heap heap;
  seed::build(heap, scenario, elements);
  if (scenario == seed::Scenario::proxy) {
    auto layer = dynamic_handle_cast<seed::ProxyLayer>(layer_of(heap.root<seed::Model>("model")));
    REQUIRE(layer);
    heap.set_root("large_data", Strong<Object>(layer->data_proxy));
  }
  ByteBuffer bytes;
  const SnapshotStats saved = save(heap, bytes, {.roots = {"model"}, .external = {"large_data"}});
  if (stats) *stats = saved;
  return bytes;
}

/// What the scenario's layer refers to, made in `heap` as its root "large_data".
Strong<Object> provide_payload(Heap& heap, seed::Scenario scenario, std::int64_t elements) {
  Strong<Object> data;
  if (scenario == seed::Scenario::proxy) {
    auto proxy = heap.make<seed::DataProxy>();
    proxy->count = elements;
    data = Strong<Object>(proxy);
  } else {
    data = Strong<Object>(heap.make<seed::Payload>(elements));
  }
  heap.set_root("large_data", data);
  return data;
}

/// Another type under the payload's name.
Strong<Object> provide_wrong_type(Heap& heap, seed::Scenario scenario) {
  Strong<Object> wrong = scenario == seed::Scenario::proxy ? Strong<Object>(heap.make<seed::Payload>(std::int64_t{3}))
                                                           : Strong<Object>(heap.make<seed::DataProxy>());
  heap.set_root("large_data", wrong);
  return wrong;
}

const char* held_type(seed::Scenario scenario) {
  return scenario == seed::Scenario::proxy ? "seed::DataProxy" : "seed::Payload";
}
const char* wrong_type(seed::Scenario scenario) {
  return scenario == seed::Scenario::proxy ? "seed::Payload" : "seed::DataProxy";
}

/// A graph of SNodes from `root`, compared object by object without IDs: per node of the strong
/// closure (in chain order) its value and its strong and weak targets as indices into that
/// order, or the name of the external root they are, or "outside V" (a live weak target beyond
/// the closure, by value), "-1" (empty), "-2" (expired).
struct Shape {
  std::vector<std::int64_t> values;
  std::vector<std::string> next, peer;
  bool operator==(const Shape&) const = default;
};
Shape shape_of(const SNode* root, const std::unordered_map<const Object*, std::string>& externals) {
  std::unordered_map<const SNode*, std::size_t> index;
  std::vector<const SNode*> order;
  for (const SNode* n = root; n && !externals.contains(n) && index.emplace(n, order.size()).second; n = n->next.get())
    order.push_back(n);
  const auto name = [&](const SNode* n) -> std::string {
    if (auto e = externals.find(n); e != externals.end()) return "external " + e->second;
    if (auto i = index.find(n); i != index.end()) return std::to_string(i->second);
    return "outside " + std::to_string(n->value);
  };
  Shape s;
  for (const SNode* n : order) {
    s.values.push_back(n->value);
    s.next.push_back(n->next ? name(n->next.get()) : "-1");
    if (n->peer.empty()) s.peer.push_back("-1");
    else if (auto p = n->peer.lock()) s.peer.push_back(name(p.get()));
    else s.peer.push_back("-2");
  }
  return s;
}

}  // namespace

TEST_CASE("external payload: the seed's scenarios save the model alone and link to the destination's payload",
          "[serialize][external]") {
  const auto scenario = GENERATE(seed::Scenario::strong_ref, seed::Scenario::weak_ref, seed::Scenario::proxy);
  INFO("scenario " << seed::name_of(scenario));
  const bool weak = scenario == seed::Scenario::weak_ref;
  SnapshotStats saved;
  const ByteBuffer bytes = model_snapshot(scenario, kElements, &saved);
  CHECK(bytes.size() < 300);  // not the 8 MB payload
  CHECK(saved.objects == 2);  // the model and its layer
  CHECK(saved.external_roots == 1);
  CHECK(saved.strong_external == (weak ? 0u : 1u));
  CHECK(saved.weak_external == (weak ? 1u : 0u));
  CHECK(saved.weak_tombstones == 0);

  const SnapshotInfo info = inspect(bytes.view());
  REQUIRE(info.externals.size() == 1);
  CHECK(info.externals[0].name == "large_data");
  CHECK(info.externals[0].strong_refs == (weak ? 0u : 1u));
  CHECK(info.externals[0].weak_refs == (weak ? 1u : 0u));

  SECTION("into a heap that has it: the reference is the destination's payload") {
    Heap dest;
    const Strong<Object> data = provide_payload(dest, scenario, 5);
    const SnapshotStats loaded = load(dest, bytes);
    CHECK(loaded.objects == 2);
    CHECK(loaded.weak_unbound == 0);
    CHECK(loaded.strong_external == saved.strong_external);
    CHECK(loaded.weak_external == saved.weak_external);
    CHECK(target_of(layer_of(dest.root<seed::Model>("model"))) == data.get());
    CHECK(dest.root<Object>("large_data") == data);  // bound, not replaced
    CHECK(dest.verify().ok);
    dest.collect();
    CHECK(dest.stats().live_objects == 3);  // the payload was not copied
    // Saved again the same way, the heap gives the same bytes.
    ByteBuffer again;
    save(dest, again, {.roots = {"model"}, .external = {"large_data"}});
    CHECK(same_bytes(again, bytes));
  }

  SECTION("into a heap that lacks it") {
    Heap dest;
    dest.set_root("other", dest.make<seed::Payload>(std::int64_t{2}));
    const snapheap_stest::HeapState before = snapheap_stest::state_of(dest);
    if (!weak) {
      CHECK_THROWS_MATCHES(load(dest, bytes), SnapshotError,
                           HasCode(SnapshotErrc::missing_external, "external root 'large_data'"));
      CHECK(snapheap_stest::state_of(dest) == before);
    } else {
      CHECK_THROWS_MATCHES(load(dest, bytes, {.on_missing_weak_external = MissingExternal::error}), SnapshotError,
                           HasCode(SnapshotErrc::missing_external, "external root 'large_data'"));
      CHECK(snapheap_stest::state_of(dest) == before);
      const SnapshotStats loaded = load(dest, bytes);  // by default: a tombstone
      CHECK(loaded.weak_unbound == 1);
      auto layer = dynamic_handle_cast<seed::WeakRefLayer>(layer_of(dest.root<seed::Model>("model")));
      REQUIRE(layer);
      CHECK(layer->large_data.expired());
      CHECK_FALSE(layer->large_data.empty());
      CHECK_FALSE(dest.has_root("large_data"));
      // Saved again, the handle is a left-out tombstone (not an expired one).
      ByteBuffer again;
      const SnapshotStats resaved = save(dest, again, {.roots = {"model"}});
      CHECK(resaved.weak_left_out == 1);
      CHECK(resaved.weak_expired == 0);
    }
  }

  SECTION("into a heap where it has another type: an error naming both types") {
    Heap dest;
    provide_wrong_type(dest, scenario);
    const snapheap_stest::HeapState before = snapheap_stest::state_of(dest);
    CHECK_THROWS_MATCHES(load(dest, bytes), SnapshotError, HasCode(SnapshotErrc::external_mismatch, held_type(scenario)));
    CHECK_THROWS_MATCHES(load(dest, bytes), SnapshotError, HasCode(SnapshotErrc::external_mismatch, wrong_type(scenario)));
    CHECK(snapheap_stest::state_of(dest) == before);
  }
}

TEST_CASE("external payload: the payload-included save is what the external one spares", "[serialize][external]") {
  Heap heap;
  seed::build(heap, seed::Scenario::strong_ref, 100000);
  ByteBuffer whole, model;
  save(heap, whole, {.roots = {"model"}});
  save(heap, model, {.roots = {"model"}, .external = {"large_data"}});
  CHECK(whole.size() > 800000);
  CHECK(model.size() * 1000 < whole.size());
}

TEST_CASE("external roots: saving refuses names it cannot use", "[serialize][external]") {
  Heap heap;
  seed::build(heap, seed::Scenario::strong_ref, 10);
  ByteBuffer bytes;
  CHECK_THROWS_AS(save(heap, bytes, {.roots = {"model"}, .external = {"nothing"}}), std::invalid_argument);
  CHECK_THROWS_AS(save(heap, bytes, {.roots = {"model"}, .external = {"model"}}), std::invalid_argument);
  heap.set_root("alias", heap.root<Object>("model"));
  CHECK_THROWS_AS(save(heap, bytes, {.roots = {"model"}, .external = {"alias"}}), std::invalid_argument);
  // Without SaveOptions::roots, every root but the external ones is saved.
  save(heap, bytes, {.external = {"large_data"}});
  const SnapshotInfo info = inspect(bytes.view());
  REQUIRE(info.roots.size() == 2);
  CHECK(info.roots[0].name == "alias");
  CHECK(info.roots[1].name == "model");
  CHECK(info.externals.size() == 1);
}

TEST_CASE("two checkpoints of one model load side by side beside one payload", "[serialize][external]") {
  Heap source;
  seed::build(source, seed::Scenario::strong_ref, 1000);
  const SaveOptions options{.roots = {"model"}, .external = {"large_data"}};
  ByteBuffer first, second;
  save(source, first, options);
  // The second checkpoint has a second layer (weak, to the same payload).
  auto model = source.root<seed::Model>("model");
  auto extra = source.make<seed::WeakRefLayer>();
  extra->large_data = source.root<seed::Payload>("large_data");
  model->layers.emplace_back(extra);
  save(source, second, options);

  Heap dest;
  const Strong<Object> data = provide_payload(dest, seed::Scenario::strong_ref, 7);
  const auto check_pair = [&](const Strong<seed::Model>& a, const Strong<seed::Model>& b) {
    REQUIRE(a);
    REQUIRE(b);
    CHECK(a != b);
    CHECK(a->layers.size() == 1);
    CHECK(b->layers.size() == 2);
    CHECK(target_of(layer_of(a)) == data.get());
    CHECK(target_of(layer_of(b)) == data.get());
    auto weak = dynamic_handle_cast<seed::WeakRefLayer>(Strong<Object>(b->layers.at(1)));
    REQUIRE(weak);
    CHECK(weak->large_data.lock() == data);
  };

  SECTION("a plain load of the second one collides with the first") {
    load(dest, first);
    CHECK_THROWS_MATCHES(load(dest, second), SnapshotError, HasCode(SnapshotErrc::root_conflict, "model"));
  }
  SECTION("renamed by a prefix") {
    load(dest, first, {.root_prefix = "a."});
    load(dest, second, {.root_prefix = "b."});
    CHECK_FALSE(dest.has_root("model"));
    check_pair(dest.root<seed::Model>("a.model"), dest.root<seed::Model>("b.model"));
  }
  SECTION("renamed by a mapping") {
    load(dest, first, {.rename_roots = {{"model", "ckpt-1"}}});
    load(dest, second, {.rename_roots = {{"model", "ckpt-2"}, {"absent", "ignored"}}});
    CHECK_FALSE(dest.has_root("model"));
    CHECK_FALSE(dest.has_root("ignored"));
    check_pair(dest.root<seed::Model>("ckpt-1"), dest.root<seed::Model>("ckpt-2"));
    // A mapping onto a name the heap holds is a conflict like any other.
    CHECK_THROWS_MATCHES(load(dest, first, {.rename_roots = {{"model", "ckpt-2"}}}), SnapshotError,
                         HasCode(SnapshotErrc::root_conflict, "ckpt-2"));
  }
  SECTION("returned as handles, no name added to the heap") {
    dest.collect();
    const std::size_t live_before = dest.stats().live_objects;
    {
      const LoadedRoots a = load_roots(dest, first);
      const LoadedRoots b = load_roots(dest, second);
      CHECK(a.roots.size() == 1);
      CHECK(a.stats.objects == 2);
      CHECK(b.stats.objects == 3);
      check_pair(a.root<seed::Model>("model"), b.root<seed::Model>("model"));
      CHECK(dest.root_names() == std::vector<std::string>{"large_data"});
      CHECK_THROWS_AS(a.root<seed::Payload>("model"), std::invalid_argument);
      CHECK_FALSE(a.root<seed::Model>("absent"));
      // With a prefix, the handles come back under the new names.
      const LoadedRoots c = load_roots(dest, first, {.root_prefix = "c."});
      CHECK(c.root<seed::Model>("c.model"));
      CHECK_FALSE(c.root<seed::Model>("model"));
    }
    dest.collect();
    CHECK(dest.stats().live_objects == live_before);  // dropped, the checkpoints are garbage
  }
}

TEST_CASE("two snapshot roots renamed to one name are refused", "[serialize][external]") {
  Heap source;
  source.set_root("x", source.make<SNode>(1));
  source.set_root("y", source.make<SNode>(2));
  ByteBuffer bytes;
  save(source, bytes);
  Heap dest;
  const snapheap_stest::HeapState before = snapheap_stest::state_of(dest);
  CHECK_THROWS_MATCHES(load(dest, bytes, {.rename_roots = {{"x", "same"}, {"y", "same"}}}), SnapshotError,
                       HasCode(SnapshotErrc::root_conflict));
  CHECK_THROWS_MATCHES(load_roots(dest, bytes, {.rename_roots = {{"x", "p.y"}}, .root_prefix = "p."}), SnapshotError,
                       HasCode(SnapshotErrc::root_conflict));
  CHECK(snapheap_stest::state_of(dest) == before);
}

TEST_CASE("external references inside cycles round-trip object by object", "[serialize][external]") {
  // a -> b -> c -> a, c -> ext (external), ext -> hidden (reached only through ext: left out);
  // weak handles: a ~> ext, b ~> hidden (left out), c ~> a; a second cycle d <-> e through ext's name.
  Heap heap;
  auto a = heap.make<SNode>(1), b = heap.make<SNode>(2), c = heap.make<SNode>(3);
  auto ext = heap.make<SNode>(100), hidden = heap.make<SNode>(101);
  auto d = heap.make<SNode>(4), e = heap.make<SNode>(5);
  a->next = b;
  b->next = c;
  c->next = a;
  ext->next = hidden;
  hidden->next = a;  // the external side points back into the saved part
  a->peer = ext;
  b->peer = hidden;
  c->peer = a;
  d->next = e;
  e->next = ext;
  e->peer = d;
  d->peer = ext;
  heap.set_root("root", a);
  heap.set_root("second", d);
  heap.set_root("ext", ext);
  hidden = nullptr;
  heap.collect();
  const SaveOptions options{.roots = {"root", "second"}, .external = {"ext"}};
  const Shape root_shape = shape_of(a.get(), {{ext.get(), "ext"}});
  const Shape second_shape = shape_of(d.get(), {{ext.get(), "ext"}});
  CHECK(root_shape.next == std::vector<std::string>{"1", "2", "0"});
  CHECK(second_shape.next == std::vector<std::string>{"1", "external ext"});
  CHECK(root_shape.peer == std::vector<std::string>{"external ext", "outside 101", "0"});

  ByteBuffer bytes;
  const SnapshotStats saved = save(heap, bytes, options);
  CHECK(saved.objects == 5);
  CHECK(saved.strong_external == 1);
  CHECK(saved.weak_external == 2);
  CHECK(saved.weak_left_out == 1);
  CHECK(saved.weak_expired == 0);

  Heap dest;
  auto dest_ext = dest.make<SNode>(-100);
  dest.set_root("ext", dest_ext);
  load(dest, bytes);
  const std::unordered_map<const Object*, std::string> dest_externals{{dest_ext.get(), "ext"}};
  Shape expected = root_shape;
  expected.peer[1] = "-2";  // the left-out target restores expired
  CHECK(shape_of(dest.root<SNode>("root").get(), dest_externals) == expected);
  CHECK(shape_of(dest.root<SNode>("second").get(), dest_externals) == second_shape);
  CHECK(dest_ext->next == nullptr);  // the destination's own object is not touched
  CHECK(dest.verify().ok);

  // The loaded heap saves the same bytes, and a heap holding the loaded graph collects it once
  // the roots go (the cycles through the external root's name hold nothing alive).
  ByteBuffer again;
  save(dest, again, options);
  CHECK(same_bytes(again, bytes));
  dest.remove_root("root");
  dest.remove_root("second");
  dest.collect();
  CHECK(dest.stats().live_objects == 1);
}

namespace {
/// A chain of `nodes` SNodes from root "head" whose last node's Member, and every node's Weak, is
/// the external root "tail": saved, then loaded where the tail is and where it is not.
void chain_with_external_tail(int nodes) {
  const int kNodes = nodes;
  const auto count_of = static_cast<std::size_t>(nodes);
  Heap heap;
  auto tail = heap.make<SNode>(-1);
  heap.set_root("tail", tail);
  {
    Strong<SNode> head = tail;
    for (int i = kNodes - 1; i >= 0; --i) {
      auto node = heap.make<SNode>(i);
      node->next = head;
      node->peer = tail;
      head = node;
    }
    heap.set_root("head", head);
  }
  ByteBuffer bytes;
  const SnapshotStats saved = save(heap, bytes, {.roots = {"head"}, .external = {"tail"}});
  CHECK(saved.objects == count_of);
  CHECK(saved.strong_external == 1);
  CHECK(saved.weak_external == count_of);

  SECTION("into a heap that has the tail") {
    Heap dest;
    auto dest_tail = dest.make<SNode>(-7);
    dest.set_root("tail", dest_tail);
    load(dest, bytes);
    const SNode* n = dest.root<SNode>("head").get();
    int count = 0;
    bool in_order = true, peers = true;
    for (; n != dest_tail.get() && n != nullptr; n = n->next.get(), ++count) {
      in_order = in_order && n->value == count;
      peers = peers && n->peer.lock() == dest_tail;
    }
    CHECK(count == kNodes);
    CHECK(n == dest_tail.get());
    CHECK(in_order);
    CHECK(peers);
    ByteBuffer again;
    save(dest, again, {.roots = {"head"}, .external = {"tail"}});
    CHECK(same_bytes(again, bytes));
  }
  SECTION("into a heap that lacks it: refused, nothing loaded") {
    Heap dest;
    const snapheap_stest::HeapState before = snapheap_stest::state_of(dest);
    CHECK_THROWS_MATCHES(load(dest, bytes), SnapshotError, HasCode(SnapshotErrc::missing_external, "'tail'"));
    CHECK(snapheap_stest::state_of(dest) == before);
  }
}
}  // namespace

TEST_CASE("a 100,000-node chain whose tail is external", "[serialize][external][big]") {
  chain_with_external_tail(100000);
}
TEST_CASE("a 1,000-node chain whose tail is external", "[serialize][external]") {
  chain_with_external_tail(1000);
}

TEST_CASE("external snapshots go through streams and files as through buffers", "[serialize][external]") {
  Heap heap;
  seed::build(heap, seed::Scenario::strong_ref, 1000);
  const SaveOptions options{.roots = {"model"}, .external = {"large_data"}, .sync = false};
  ByteBuffer buffer;
  save(heap, buffer, options);
  std::stringstream stream;
  save(heap, stream, options);
  CHECK(stream.str() == std::string(reinterpret_cast<const char*>(buffer.data()), buffer.size()));
  snapheap_test::TempDir dir;
  save(heap, dir / "model.snap", options);
  ByteBuffer from_file;
  read_snapshot_file(dir / "model.snap", from_file);
  CHECK(same_bytes(from_file, buffer));

  Heap dest;
  const Strong<Object> data = provide_payload(dest, seed::Scenario::strong_ref, 3);
  std::istringstream in(stream.str());
  load(dest, in, {.root_prefix = "stream."});
  load(dest, dir / "model.snap", {.root_prefix = "file."});
  std::istringstream in_again(stream.str());
  const LoadedRoots from_stream = load_roots(dest, in_again);
  const LoadedRoots from_path = load_roots(dest, dir / "model.snap");
  CHECK(target_of(layer_of(dest.root<seed::Model>("stream.model"))) == data.get());
  CHECK(target_of(layer_of(dest.root<seed::Model>("file.model"))) == data.get());
  CHECK(target_of(layer_of(from_stream.root<seed::Model>("model"))) == data.get());
  CHECK(target_of(layer_of(from_path.root<seed::Model>("model"))) == data.get());

  // A stream into a heap without the payload fails the same way as a buffer.
  Heap empty;
  std::istringstream in_missing(stream.str());
  CHECK_THROWS_MATCHES(load(empty, in_missing), SnapshotError, HasCode(SnapshotErrc::missing_external, "large_data"));
  CHECK(empty.root_names().empty());
}

TEST_CASE("the snapshot graph shows external references as their own kind", "[serialize][external]") {
  const ByteBuffer bytes = model_snapshot(seed::Scenario::strong_ref, 10);
  ByteBuffer copy;
  copy.append(bytes.data(), bytes.size());
  const SnapshotGraph graph = SnapshotGraph::read(std::move(copy));
  REQUIRE(graph.externals() == std::vector<std::string>{"large_data"});
  CHECK(graph.objects() == 2);
  CHECK(graph.counts().strong_external == 1);
  CHECK(graph.counts().weak_external == 0);
  CHECK(graph.counts().strong_refs == 1);  // the model's Member to its layer
  std::vector<SnapshotGraph::Ref> layer_refs;
  graph.for_each_ref(1, [&](const SnapshotGraph::Ref& ref) { layer_refs.push_back(ref); });
  REQUIRE(layer_refs.size() == 1);
  CHECK(layer_refs[0].kind == SnapshotGraph::RefKind::external_strong);
  CHECK(layer_refs[0].external == 0);
  // Nothing in the snapshot is retained by the external reference.
  const Dominators dom = dominators(graph);
  CHECK(dom.reachable == 2);
  std::ostringstream devtools;
  export_devtools(graph, devtools);
  CHECK(devtools.str().find("\"(external root) large_data\"") != std::string::npos);
  CHECK(devtools.str().find("\"node_count\":6") != std::string::npos);  // 3 synthetic, 2 objects, 1 external
  CHECK(devtools.str().find("\"edge_count\":5") != std::string::npos);  // 2 + 1 root + 1 strong + 1 external
}
