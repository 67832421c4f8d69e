// Managed types for the fuzz targets, their seed corpus and the regression test: between them they
// use every kind of field the archives know (integers of every width, floating point, bool,
// strings, bulk blocks, nested containers, maps, optionals, variants, pairs, fixed arrays,
// Members, Members to any type, Weak handles to their own and to other types).
//
// Header-only, registrations included: a program that includes it registers the types (a repeat
// in another translation unit is harmless).
#pragma once

#include <snapheap/snapheap.hpp>

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "seed/seed_model.hpp"

namespace snapheap_fuzz {

/// Plain data only: fixed-size scalars, a fixed array, a bool.
struct Leaf final : snapheap::Object {
  double x = 0;
  float y = 0;
  bool flag = false;
  std::int8_t small = 0;
  std::uint16_t medium = 0;
  std::array<std::uint8_t, 4> tag{};

  void trace(snapheap::Tracer&) const override {}
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & x & y & flag & small & medium & tag;
  }
};

/// Every field kind at once.
struct Record final : snapheap::Object {
  std::string name;
  std::vector<std::int32_t> ints;                          // one bulk block
  std::vector<std::string> words;
  std::vector<snapheap::Member<Record>> children;          // strong edges
  std::map<std::string, std::int64_t> table;
  std::map<std::int32_t, std::vector<std::string>> nested;
  std::vector<std::vector<std::int16_t>> matrix;           // blocks inside a container
  std::optional<std::string> note;
  std::optional<double> weight;
  std::vector<bool> bits;
  std::deque<std::uint64_t> numbers;
  std::variant<std::int64_t, std::string, double> choice;
  std::pair<std::string, std::uint8_t> label;
  snapheap::Member<Leaf> leaf;
  snapheap::Member<snapheap::Object> any;                  // a Member to any managed type
  snapheap::Weak<Record> peer;
  snapheap::Weak<seed::Payload> data;                      // a weak edge to another type
  std::vector<snapheap::Weak<Record>> watch;

  void trace(snapheap::Tracer& t) const override {
    t.trace(children);
    t.trace(leaf);
    t.trace(any);
    t.trace(peer);
    t.trace(data);
    t.trace(watch);
  }
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & name & ints & words & children & table & nested & matrix & note & weight & bits & numbers;
    ar & choice & label & leaf & any & peer & data & watch;
  }
};

/// Weak structures: ephemeron fields, a weak-keyed map and a weak-valued cache.
struct WeakTable final : snapheap::Object {
  std::vector<snapheap::Ephemeron<Record, Record>> pairs;
  snapheap::Member<snapheap::WeakKeyMap<Record, Leaf>> by_record;
  snapheap::Member<snapheap::WeakValueMap<std::string, Record>> by_name;

  void trace(snapheap::Tracer& t) const override {
    t.trace(pairs);
    t.trace(by_record);
    t.trace(by_name);
  }
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & pairs & by_record & by_name;
  }
};

}  // namespace snapheap_fuzz

SNAPHEAP_REGISTER(snapheap_fuzz::Leaf);
SNAPHEAP_REGISTER(snapheap_fuzz::Record);
SNAPHEAP_REGISTER(snapheap_fuzz::WeakTable);
SNAPHEAP_REGISTER(snapheap::WeakKeyMap<snapheap_fuzz::Record, snapheap_fuzz::Leaf>);
SNAPHEAP_REGISTER(snapheap::WeakValueMap<std::string, snapheap_fuzz::Record>);
