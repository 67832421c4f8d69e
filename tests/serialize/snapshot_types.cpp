#include "serialize/snapshot_types.hpp"

#include <catch2/catch.hpp>

#include <cstring>

#include "serialize/checksum.hpp"
#include "serialize/format.hpp"

SNAPHEAP_REGISTER(snapheap_stest::SNode);
SNAPHEAP_REGISTER(snapheap_stest::SGraph);

namespace snapheap_stest {

std::vector<std::byte> reseal(std::vector<std::byte> bytes) {
  REQUIRE(bytes.size() >= snapheap::detail::wire::kTrailerSize);
  const std::size_t n = bytes.size();
  auto* p = reinterpret_cast<unsigned char*>(bytes.data());
  for (int i = 0; i < 8; ++i) p[n - 24 + i] = static_cast<unsigned char>(std::uint64_t{n} >> (8 * i));
  const std::uint64_t sum = snapheap::detail::checksum(p, n - 8);
  for (int i = 0; i < 8; ++i) p[n - 8 + i] = static_cast<unsigned char>(sum >> (8 * i));
  return bytes;
}

std::vector<std::byte> to_vector(const snapheap::ByteBuffer& buffer) {
  return {buffer.data(), buffer.data() + buffer.size()};
}

void replace_bytes(std::vector<std::byte>& bytes, const std::string& from, const std::string& to) {
  REQUIRE(from.size() == to.size());
  const auto* begin = reinterpret_cast<const char*>(bytes.data());
  const std::string_view view(begin, bytes.size());
  const std::size_t at = view.find(from);
  REQUIRE(at != std::string_view::npos);
  std::memcpy(bytes.data() + at, to.data(), to.size());
}

void put_varint(std::vector<unsigned char>& out, std::uint64_t v) {
  unsigned char buffer[10];
  const std::size_t n = snapheap::detail::wire::encode_varint(buffer, v);
  out.insert(out.end(), buffer, buffer + n);
}

std::uint64_t ref_code(std::int64_t from, std::int64_t to, bool weak, std::uint16_t version) {
  return ((snapheap::detail::wire::zigzag(to - from) << 1) | (weak ? 1u : 0u)) +
         snapheap::detail::wire::first_id_ref(version);
}

std::vector<std::byte> build(const RawSnapshot& raw) {
  namespace format = snapheap::detail::format;
  std::vector<unsigned char> out(snapheap::detail::wire::kMagic, snapheap::detail::wire::kMagic + 8);
  out.insert(out.end(), {static_cast<unsigned char>(raw.version), static_cast<unsigned char>(raw.version >> 8),
                         snapheap::detail::wire::native_byte_order(), snapheap::detail::wire::kIeee754, 0, 0, 0, 0});
  put_varint(out, raw.types.size());
  for (const auto& [name, version] : raw.types) {
    put_varint(out, name.size());
    out.insert(out.end(), name.begin(), name.end());
    put_varint(out, version);
  }
  put_varint(out, raw.objects);
  put_varint(out, raw.runs.size());
  for (const auto& [type, count] : raw.runs) {
    put_varint(out, type);
    put_varint(out, count);
  }
  if (raw.version >= 2) {
    put_varint(out, raw.externals.size());
    for (const std::string& name : raw.externals) {
      put_varint(out, name.size());
      out.insert(out.end(), name.begin(), name.end());
    }
  }
  for (const RawRecord& r : raw.records) {
    std::vector<unsigned char> refs;
    for (std::uint64_t code : r.refs) put_varint(refs, code);
    std::vector<unsigned char> body;
    put_varint(body, refs.size());
    body.insert(body.end(), refs.begin(), refs.end());
    body.insert(body.end(), r.data.begin(), r.data.end());
    put_varint(out, body.size());
    out.insert(out.end(), body.begin(), body.end());
  }
  put_varint(out, raw.roots.size());
  for (const auto& [name, id] : raw.roots) {
    put_varint(out, name.size());
    out.insert(out.end(), name.begin(), name.end());
    put_varint(out, id);
  }
  out.resize(out.size() + 8);
  out.insert(out.end(), snapheap::detail::wire::kEndMagic, snapheap::detail::wire::kEndMagic + 8);
  out.resize(out.size() + 8);
  std::vector<std::byte> bytes(out.size());
  std::memcpy(bytes.data(), out.data(), out.size());
  return reseal(std::move(bytes));
}

HeapState state_of(snapheap::Heap& heap) {
  heap.collect();
  HeapState state{heap.stats().live_objects, heap.root_names(), {}, {}};
  for (const std::string& name : state.roots) state.root_objects.push_back(heap.root<snapheap::Object>(name).get());
  snapheap::ByteBuffer buffer;
  snapheap::save(heap, buffer);
  state.saved = to_vector(buffer);
  return state;
}

}  // namespace snapheap_stest
