#include "snapheap/errors.hpp"

#include <string>

namespace snapheap {

namespace {
std::string snapshot_message(const std::string& detail, std::uint64_t offset) {
  std::string message = "snapheap: " + detail;
  if (offset != SnapshotError::kNoOffset) message += " (at byte " + std::to_string(offset) + ")";
  return message;
}
}  // namespace

SnapshotError::SnapshotError(SnapshotErrc code, const std::string& detail, std::uint64_t offset)
    : std::runtime_error(snapshot_message(detail, offset)),
      code_(code),
      offset_(offset),
      detail_(detail) {}

const char* to_string(SnapshotErrc code) noexcept {
  switch (code) {
    case SnapshotErrc::io_error: return "io_error";
    case SnapshotErrc::truncated: return "truncated";
    case SnapshotErrc::not_a_snapshot: return "not_a_snapshot";
    case SnapshotErrc::unsupported_format: return "unsupported_format";
    case SnapshotErrc::machine_mismatch: return "machine_mismatch";
    case SnapshotErrc::checksum_mismatch: return "checksum_mismatch";
    case SnapshotErrc::malformed: return "malformed";
    case SnapshotErrc::bad_reference: return "bad_reference";
    case SnapshotErrc::unknown_type: return "unknown_type";
    case SnapshotErrc::newer_class_version: return "newer_class_version";
    case SnapshotErrc::record_mismatch: return "record_mismatch";
    case SnapshotErrc::root_conflict: return "root_conflict";
    case SnapshotErrc::unregistered_type: return "unregistered_type";
    case SnapshotErrc::unsaved_reference: return "unsaved_reference";
    case SnapshotErrc::unsupported_value: return "unsupported_value";
    case SnapshotErrc::missing_external: return "missing_external";
    case SnapshotErrc::external_mismatch: return "external_mismatch";
  }
  return "unknown";
}

HeapExhausted::HeapExhausted(std::size_t limit, std::size_t live, std::size_t requested)
    : std::runtime_error("snapheap: heap limit of " + std::to_string(limit) +
                         " bytes reached: " + std::to_string(live) +
                         " bytes are live after a collection and " + std::to_string(requested) +
                         " more were requested"),
      limit_(limit),
      live_(live),
      requested_(requested) {}

}  // namespace snapheap
