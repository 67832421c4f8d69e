// export_devtools(): V8's .heapsnapshot JSON, laid out as V8's HeapSnapshotJSONSerializer writes
// it (src/profiler/heap-snapshot-generator.cc), so that Chrome DevTools' loader and memlab's
// parser (which finds the meta and each array by literal substrings such as `"nodes":`) read it:
// the meta's field lists in V8's order, integers only, one node or edge per line with the comma
// leading, the strings table last with "<dummy>" at index 0.
#include <charconv>
#include <ostream>
#include <string>
#include <unordered_map>

#include "snapheap/inspect.hpp"

namespace snapheap {

namespace {

// The meta exactly as V8 writes it.
constexpr std::string_view kMeta =
    R"("meta":{"node_fields":["type","name","id","self_size","edge_count","trace_node_id","detachedness"],)"
    R"("node_types":[["hidden","array","string","object","code","closure","regexp","number","native","synthetic",)"
    R"("concatenated string","sliced string","symbol","bigint","object shape"],"string","number","number","number",)"
    R"("number","number"],"edge_fields":["type","name_or_index","to_node"],"edge_types":[["context","element",)"
    R"("property","internal","hidden","shortcut","weak"],"string_or_number","node"],"trace_function_info_fields":)"
    R"(["function_id","name","script_name","script_id","line","column"],"trace_node_fields":["id",)"
    R"("function_info_index","count","size","children"],"sample_fields":["timestamp_us","last_assigned_id"],)"
    R"("location_fields":["object_index","script_id","line","column"]})";

constexpr unsigned kNodeObject = 3, kNodeSynthetic = 9;
constexpr unsigned kEdgeElement = 1, kEdgeProperty = 2, kEdgeWeak = 6;
constexpr std::uint64_t kNodeFields = 7;
// Node 0 is the synthetic root; then (GC roots), (tombstone), and the objects.
constexpr std::uint64_t kGcRootsNode = 1, kTombstoneNode = 2, kFirstObjectNode = 3;

/// Buffered output: numbers through to_chars, flushed to the stream in 1 MiB pieces.
class Out {
 public:
  explicit Out(std::ostream& out) : out_(out) { buffer_.reserve(kFlushAt + 64); }
  ~Out() { flush(); }
  Out(const Out&) = delete;
  Out& operator=(const Out&) = delete;
  Out& operator<<(std::string_view s) {
    buffer_.append(s);
    if (buffer_.size() >= kFlushAt) flush();
    return *this;
  }
  Out& operator<<(char c) {
    buffer_.push_back(c);
    return *this;
  }
  Out& number(std::uint64_t v) {
    char digits[24];
    const auto r = std::to_chars(digits, digits + sizeof digits, v);
    buffer_.append(digits, r.ptr);
    return *this;
  }
  void flush() {
    out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    buffer_.clear();
  }

 private:
  static constexpr std::size_t kFlushAt = std::size_t{1} << 20;
  std::ostream& out_;
  std::string buffer_;
};

/// The strings table: index 0 is V8's "<dummy>".
class Strings {
 public:
  Strings() { list_.emplace_back("<dummy>"); }
  std::uint32_t id(const std::string& s) {
    auto [it, added] = ids_.try_emplace(s, static_cast<std::uint32_t>(list_.size()));
    if (added) list_.push_back(s);
    return it->second;
  }
  const std::vector<std::string>& list() const noexcept { return list_; }

 private:
  std::unordered_map<std::string, std::uint32_t> ids_;
  std::vector<std::string> list_;
};

/// The length of the well-formed UTF-8 sequence at s[i] (not ASCII) and its code point, or 0.
std::size_t utf8_decode(std::string_view s, std::size_t i, std::uint32_t& cp) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = b(i);
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) n = 2, cp = b0 & 0x1Fu;
  else if (b0 >= 0xE0 && b0 <= 0xEF) n = 3, cp = b0 & 0x0Fu, lo = b0 == 0xE0 ? 0xA0 : 0x80, hi = b0 == 0xED ? 0x9F : 0xBF;
  else if (b0 >= 0xF0 && b0 <= 0xF4) n = 4, cp = b0 & 0x07u, lo = b0 == 0xF0 ? 0x90 : 0x80, hi = b0 == 0xF4 ? 0x8F : 0xBF;
  else return 0;
  if (i + n > s.size() || b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3Fu);
  }
  return n;
}

/// A JSON string as V8 writes one: printable ASCII as is, the usual escapes, everything else as
/// \uXXXX (UTF-16, surrogate pairs past U+FFFF), and '?' for a byte that is not UTF-8.
void write_string(Out& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  const auto u16 = [&](std::uint32_t u) {
    const char e[6] = {'\\', 'u', kHex[(u >> 12) & 0xF], kHex[(u >> 8) & 0xF], kHex[(u >> 4) & 0xF], kHex[u & 0xF]};
    out << std::string_view(e, 6);
  };
  out << '"';
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '\b': out << "\\b"; ++i; continue;
      case '\f': out << "\\f"; ++i; continue;
      case '\n': out << "\\n"; ++i; continue;
      case '\r': out << "\\r"; ++i; continue;
      case '\t': out << "\\t"; ++i; continue;
      case '"': out << "\\\""; ++i; continue;
      case '\\': out << "\\\\"; ++i; continue;
      default: break;
    }
    if (c < 0x20) {
      u16(c);
      ++i;
    } else if (c < 0x80) {
      out << static_cast<char>(c);
      ++i;
    } else {
      std::uint32_t cp = 0;
      const std::size_t n = utf8_decode(s, i, cp);
      if (n == 0) {
        out << '?';
        ++i;
        continue;
      }
      if (cp >= 0x10000) {
        u16(0xD800 + ((cp - 0x10000) >> 10));
        u16(0xDC00 + ((cp - 0x10000) & 0x3FF));
      } else {
        u16(cp);
      }
      i += n;
    }
  }
  out << '"';
}

}  // namespace

void export_devtools(const SnapshotGraph& graph, std::ostream& stream) {
  const std::uint32_t objects = graph.objects();
  const SnapshotGraph::Counts& counts = graph.counts();
  Strings strings;
  const std::uint32_t empty_name = strings.id(""), gc_roots_name = strings.id("(GC roots)"),
                      tombstone_name = strings.id("(tombstone)");
  std::vector<std::uint32_t> type_names;
  type_names.reserve(graph.types().size());
  for (const auto& t : graph.types()) type_names.push_back(strings.id(t.name));
  std::vector<std::uint32_t> weak_names;  // "[position]", by position
  const auto weak_name = [&](std::uint32_t position) {
    while (weak_names.size() <= position) {
      char text[16] = {'['};
      char* end = std::to_chars(text + 1, text + sizeof text - 1, weak_names.size()).ptr;
      *end++ = ']';
      weak_names.push_back(strings.id(std::string(text, end)));
    }
    return weak_names[position];
  };
  // One synthetic node per external root (SaveOptions::external) after the objects.
  const std::uint64_t first_external_node = kFirstObjectNode + objects;
  const std::uint64_t node_count = first_external_node + graph.externals().size();
  const std::uint64_t edge_count = 2 + graph.roots().size() + counts.strong_refs + counts.weak_targets +
                                   counts.weak_tombstones + counts.strong_external + counts.weak_external;

  Out out(stream);
  out << "{\"snapshot\":{" << kMeta << ",\"node_count\":";
  out.number(node_count) << ",\"edge_count\":";
  out.number(edge_count) << ",\"trace_function_count\":0},\n\"nodes\":[";
  const auto node = [&](bool first, unsigned type, std::uint32_t name, std::uint64_t id, std::uint64_t self,
                        std::uint64_t edges) {
    if (!first) out << ',';
    out.number(type) << ',';
    out.number(name) << ',';
    out.number(id) << ',';
    out.number(self) << ',';
    out.number(edges) << ",0,0\n";
  };
  node(true, kNodeSynthetic, empty_name, 1, 0, 2);
  node(false, kNodeSynthetic, gc_roots_name, 3, 0, graph.roots().size());
  node(false, kNodeSynthetic, tombstone_name, 5, 0, 0);
  for (std::uint32_t id = 0; id < objects; ++id) {
    std::uint64_t edges = 0;
    graph.for_each_ref(id, [&](const SnapshotGraph::Ref& ref) {
      edges += ref.kind != SnapshotGraph::RefKind::empty_strong && ref.kind != SnapshotGraph::RefKind::empty_weak;
    });
    node(false, kNodeObject, type_names[graph.type_of(id)], 7 + 2 * std::uint64_t{id}, graph.self_bytes(id), edges);
  }
  for (std::size_t i = 0; i < graph.externals().size(); ++i)
    node(false, kNodeSynthetic, strings.id("(external root) " + graph.externals()[i]), 7 + 2 * (objects + i), 0, 0);
  out << "],\n\"edges\":[";
  bool first = true;
  const auto edge = [&](unsigned type, std::uint64_t name_or_index, std::uint64_t to_node) {
    if (!first) out << ',';
    first = false;
    out.number(type) << ',';
    out.number(name_or_index) << ',';
    out.number(to_node * kNodeFields) << '\n';
  };
  edge(kEdgeElement, 1, kGcRootsNode);
  edge(kEdgeElement, 2, kTombstoneNode);
  // Root names are interned as they are written: the strings table comes last.
  for (const auto& root : graph.roots()) edge(kEdgeProperty, strings.id(root.name), kFirstObjectNode + root.id);
  for (std::uint32_t id = 0; id < objects; ++id) {
    graph.for_each_ref(id, [&](const SnapshotGraph::Ref& ref) {
      switch (ref.kind) {
        case SnapshotGraph::RefKind::strong: edge(kEdgeElement, ref.position, kFirstObjectNode + ref.target); break;
        case SnapshotGraph::RefKind::weak: edge(kEdgeWeak, weak_name(ref.position), kFirstObjectNode + ref.target); break;
        case SnapshotGraph::RefKind::tombstone: edge(kEdgeWeak, weak_name(ref.position), kTombstoneNode); break;
        case SnapshotGraph::RefKind::external_strong: edge(kEdgeElement, ref.position, first_external_node + ref.external); break;
        case SnapshotGraph::RefKind::external_weak:
          edge(kEdgeWeak, weak_name(ref.position), first_external_node + ref.external);
          break;
        case SnapshotGraph::RefKind::empty_strong:
        case SnapshotGraph::RefKind::empty_weak: break;
      }
    });
  }
  out << "],\n\"trace_function_infos\":[],\n\"trace_tree\":[],\n\"samples\":[],\n\"locations\":[],\n\"strings\":[";
  bool first_string = true;
  for (const std::string& s : strings.list()) {
    if (!first_string) out << ",\n";
    first_string = false;
    write_string(out, s);
  }
  out << "]}";
  out.flush();
  if (!stream) throw SnapshotError(SnapshotErrc::io_error, "cannot write the DevTools export");
}

void export_devtools(const Heap& heap, std::ostream& out) { export_devtools(SnapshotGraph::of_heap(heap), out); }

}  // namespace snapheap
