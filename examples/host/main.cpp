// A host program embedding snapheap: an editor's document of shapes, with a cache of rendered
// thumbnails that the document only points to weakly. Checkpointing the document saves the
// shapes and records each thumbnail link as a tombstone (the cache is rebuilt on demand), so the
// checkpoint stays small; checkpointing the whole heap keeps the thumbnails too.
//
// Build against an installed snapheap:   find_package(snapheap REQUIRED)
//                                        target_link_libraries(app PRIVATE snapheap::snapheap)
#include <snapheap/snapheap.hpp>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace editor {

struct Thumbnail final : snapheap::Object {
  std::vector<std::uint8_t> pixels;
  void trace(snapheap::Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & pixels;
  }
};

struct Shape final : snapheap::Object {
  std::string name;
  double x = 0, y = 0;
  snapheap::Member<Shape> parent;          // strong: a group keeps its members
  snapheap::Weak<Thumbnail> thumbnail;     // weak: the cache may drop it
  void trace(snapheap::Tracer& t) const override {
    t.trace(parent);
    t.trace(thumbnail);
  }
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & name & x & y & parent & thumbnail;
  }
};

struct Document final : snapheap::Object {
  std::vector<snapheap::Member<Shape>> shapes;
  void trace(snapheap::Tracer& t) const override { t.trace(shapes); }
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & shapes;
  }
};

struct Cache final : snapheap::Object {
  std::vector<snapheap::Member<Thumbnail>> entries;
  void trace(snapheap::Tracer& t) const override { t.trace(entries); }
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & entries;
  }
};

}  // namespace editor

SNAPHEAP_REGISTER(editor::Thumbnail);
SNAPHEAP_REGISTER(editor::Shape);
SNAPHEAP_REGISTER(editor::Document);
SNAPHEAP_REGISTER(editor::Cache);

int main(int argc, char** argv) {
  using namespace snapheap;
  const std::filesystem::path dir = argc > 1 ? argv[1] : std::filesystem::temp_directory_path();

  Heap heap;
  auto doc = heap.make<editor::Document>();
  auto cache = heap.make<editor::Cache>();
  heap.set_root("document", doc);
  heap.set_root("cache", cache);
  auto group = heap.make<editor::Shape>();
  group->name = "group";
  doc->shapes.emplace_back(group);
  for (int i = 0; i < 100; ++i) {
    auto shape = heap.make<editor::Shape>();
    shape->name = "shape-" + std::to_string(i);
    shape->x = i;
    shape->parent = group;
    auto thumb = heap.make<editor::Thumbnail>();
    thumb->pixels.assign(64 * 64, static_cast<std::uint8_t>(i));
    cache->entries.emplace_back(thumb);
    shape->thumbnail = thumb;
    doc->shapes.emplace_back(shape);
  }

  // The cache drops half its entries: those thumbnails die, their weak links expire.
  cache->entries.resize(50);
  heap.collect();
  std::printf("after trimming the cache: %zu objects live, %zu weak links expired\n",
              heap.stats().live_objects, heap.stats().last_weak_expired);

  const auto doc_only = dir / "document.snap";
  const auto everything = dir / "everything.snap";
  const SnapshotStats d = save(heap, doc_only, {.roots = {"document"}});
  const SnapshotStats e = save(heap, everything);
  std::printf("document only: %zu objects, %zu tombstones, %llu bytes\n", d.objects, d.weak_tombstones,
              static_cast<unsigned long long>(d.bytes));
  std::printf("whole heap:    %zu objects, %zu weak targets, %llu bytes\n", e.objects, e.weak_targets,
              static_cast<unsigned long long>(e.bytes));

  Heap restored;
  load(restored, doc_only);
  auto copy = restored.root<editor::Document>("document");
  std::size_t expired = 0;
  for (const auto& shape : copy->shapes) expired += shape->thumbnail.expired() ? 1 : 0;
  const bool ok = copy->shapes.size() == 101 && copy->shapes[5]->parent == copy->shapes[0] && expired == 101;
  std::printf("restored document: %zu shapes, %zu thumbnail links expired: %s\n", copy->shapes.size(), expired,
              ok ? "ok" : "WRONG");
  std::filesystem::remove(doc_only);
  std::filesystem::remove(everything);
  return ok ? 0 : 1;
}
