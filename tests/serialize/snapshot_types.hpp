// Managed types for the snapshot tests, and helpers to rewrite a snapshot's bytes.
#pragma once

#include <catch2/catch.hpp>
#include <snapheap/snapheap.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace snapheap_stest {

/// A graph node: an id, one strong edge, one weak edge.
struct SNode final : snapheap::Object {
  std::int64_t value = 0;
  snapheap::Member<SNode> next;
  snapheap::Weak<SNode> peer;

  SNode() = default;
  explicit SNode(std::int64_t v) : value(v) {}
  void trace(snapheap::Tracer& t) const override {
    t.trace(next);
    t.trace(peer);
  }
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & value & next & peer;
  }
};

/// Holds many nodes (a graph's root object).
struct SGraph final : snapheap::Object {
  std::vector<snapheap::Member<SNode>> nodes;
  std::vector<snapheap::Weak<SNode>> watch;  // weak handles to nodes, some of them dead

  void trace(snapheap::Tracer& t) const override {
    t.trace(nodes);
    t.trace(watch);
  }
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & nodes & watch;
  }
};

/// Edits a snapshot and recomputes its trailer (length and checksum), so that a test can build a
/// well-formed but hostile or evolved snapshot.
std::vector<std::byte> reseal(std::vector<std::byte> bytes);
std::vector<std::byte> to_vector(const snapheap::ByteBuffer& buffer);
/// Replaces the first occurrence of `from` by `to` (same length) in the bytes; fails the test if
/// absent.
void replace_bytes(std::vector<std::byte>& bytes, const std::string& from, const std::string& to);
/// Builds a snapshot byte by byte, for hostile and hand-made inputs. References are raw codes
/// (see archive.hpp): use ref_code() for a reference to an object.
struct RawRecord {
  std::vector<std::uint64_t> refs;
  std::vector<unsigned char> data;
};
struct RawSnapshot {
  std::uint16_t version = 1;  // format version of the header (2: with the external-root table)
  std::vector<std::pair<std::string, std::uint64_t>> types;  // name, class version
  std::uint64_t objects = 0;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> runs;  // type index, count
  std::vector<std::string> externals;  // version 2: the external-root table
  std::vector<RawRecord> records;
  std::vector<std::pair<std::string, std::uint64_t>> roots;  // name, object ID
};
std::vector<std::byte> build(const RawSnapshot& raw);
/// The code of a reference from `from` (the record's ID, or the previous reference's target) to
/// `to`, in format `version`'s reference codes.
std::uint64_t ref_code(std::int64_t from, std::int64_t to, bool weak, std::uint16_t version = 1);
void put_varint(std::vector<unsigned char>& out, std::uint64_t v);

/// A heap's observable state, to check that a failed load left it exactly as it was: the objects
/// live after a collection, the root names, the object each root holds, and the bytes a save of
/// every root gives.
struct HeapState {
  std::size_t live_objects;
  std::vector<std::string> roots;
  std::vector<const snapheap::Object*> root_objects;
  std::vector<std::byte> saved;
  bool operator==(const HeapState&) const = default;
};
HeapState state_of(snapheap::Heap& heap);

/// A Catch matcher: a SnapshotError with this code (and, if given, a message containing `text`).
/// CHECK_THROWS_MATCHES(load(...), snapheap::SnapshotError, HasCode(SnapshotErrc::truncated)).
class HasCode final : public Catch::MatcherBase<snapheap::SnapshotError> {
 public:
  explicit HasCode(snapheap::SnapshotErrc code, std::string text = {}) : code_(code), text_(std::move(text)) {}
  bool match(const snapheap::SnapshotError& e) const override {
    return e.code() == code_ && std::string(e.what()).find(text_) != std::string::npos;
  }
  std::string describe() const override {
    return std::string("is a SnapshotError with code ") + snapheap::to_string(code_) +
           (text_.empty() ? "" : " and a message containing \"" + text_ + "\"");
  }

 private:
  snapheap::SnapshotErrc code_;
  std::string text_;
};

}  // namespace snapheap_stest
