// `snapheap info` and `snapheap verify`: both read a snapshot through snapheap::inspect(), which
// checks the whole file without the types' code, so they work on snapshots of any program.
#include <algorithm>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <snapheap/inspect.hpp>
#include <snapheap/snapshot.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "cli.hpp"
#include "json.hpp"

namespace snapheap_tool {

namespace {

std::string hex64(std::uint64_t v) {
  char text[19];
  std::snprintf(text, sizeof text, "0x%016llx", static_cast<unsigned long long>(v));
  return text;
}

/// A name from the file as the terminal should see it: as it is if it is plain printable ASCII,
/// otherwise as an escaped, quoted JSON string (a hostile name cannot send control codes).
std::string printable(std::string_view name) {
  const bool plain = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return c >= 0x20 && c < 0x7F && c != '"';
  });
  return plain ? std::string(name) : json::quote(name);
}

/// Reads and checks FILE, or standard input if FILE is "-".
snapheap::SnapshotInfo inspect_input(const std::filesystem::path& file) {
  if (file != "-") return snapheap::inspect(file);
  snapheap::ByteBuffer bytes;
  char chunk[65536];
  while (const std::size_t n = std::fread(chunk, 1, sizeof chunk, stdin)) bytes.append(chunk, n);
  if (std::ferror(stdin)) throw snapheap::SnapshotError(snapheap::SnapshotErrc::io_error, "cannot read standard input");
  return snapheap::inspect(bytes.view());
}

/// Reads and checks the input; on a problem prints one line to stderr (prefixed with `who` unless it
/// is empty) and returns false.
bool inspect_file(const std::filesystem::path& file, std::string_view who, snapheap::SnapshotInfo& info) {
  try {
    info = inspect_input(file);
    return true;
  } catch (const std::exception& e) {
    std::cerr << who << describe_file_error(file, e) << '\n';
    return false;
  }
}

// ---- info: text -----------------------------------------------------------------------------------

void write_types_text(std::ostream& out, const snapheap::SnapshotInfo& info) {
  std::size_t width = 4;
  for (const auto& t : info.types) width = std::max(width, printable(t.name).size());
  out << "types:\n  " << std::left << std::setw(static_cast<int>(width)) << "name" << std::right
      << "  version  objects  record bytes\n";
  for (const auto& t : info.types)
    out << "  " << std::left << std::setw(static_cast<int>(width)) << printable(t.name) << std::right << "  "
        << std::setw(7) << t.version << "  " << std::setw(7) << t.objects << "  " << std::setw(12)
        << t.record_bytes << '\n';
}

// Format 2's tombstone kinds and external roots, after the lines every format has.
void write_externals_text(std::ostream& out, const snapheap::SnapshotInfo& info) {
  out << "tombstones:        ";
  if (info.format_version < 2) out << "format 1 does not record whether expired or left out\n";
  else out << info.weak_expired << " expired (the target had died), " << info.weak_left_out << " left out\n";
  out << "external refs:     " << info.strong_external << " Member, " << info.weak_external
      << " Weak (to roots the destination heap provides)\n"
      << "external roots:    " << info.externals.size() << " (table " << info.external_table_bytes << " bytes)\n";
  for (const auto& e : info.externals)
    out << "  " << printable(e.name) << ": " << e.strong_refs << " Member, " << e.weak_refs << " Weak\n";
  out << "weak structures:   ";
  if (info.format_version < 3) {
    out << "none (format " << info.format_version << " has no summary)\n";
    return;
  }
  out << info.ephemerons_saved << " ephemerons saved, " << info.ephemerons_dropped
      << " dropped (key not saved); " << info.weak_values_saved << " weak-value entries saved, "
      << info.weak_values_dropped << " dropped (value not saved)\n";
}

void write_text(std::ostream& out, const std::filesystem::path& file, const snapheap::SnapshotInfo& info) {
  out << "file:              " << file.string() << '\n'
      << "format version:    " << info.format_version << '\n'
      << "byte order:        " << info.byte_order << "-endian\n"
      << "bytes:             " << info.bytes << " (header " << info.header_bytes << ", type table "
      << info.type_table_bytes << ", records " << info.record_bytes << ", roots " << info.root_bytes
      << ", trailer " << info.trailer_bytes << ")\n"
      << "objects:           " << info.objects << '\n';
  write_types_text(out, info);
  out << "roots:\n";
  for (const auto& r : info.roots)
    out << "  " << printable(r.name) << " -> object " << r.id << " (" << printable(r.type) << ")\n";
  if (info.roots.empty()) out << "  (none)\n";
  out << "strong references: " << info.strong_refs << " to objects, " << info.strong_empty << " empty\n"
      << "weak handles:      " << info.weak_targets << " to targets, " << info.weak_tombstones
      << " tombstones, " << info.weak_empty << " empty\n"
      << "unreachable:       " << info.unreachable << " objects\n"
      << "checksum:          " << hex64(info.checksum) << " (XXH3-64)\n";
  write_externals_text(out, info);
}

// ---- info: JSON -----------------------------------------------------------------------------------

void write_sections_json(json::Writer& w, const snapheap::SnapshotInfo& info) {
  w.key("sections").begin_object(true);
  w.key("header").value(info.header_bytes);
  w.key("type_table").value(info.type_table_bytes);
  w.key("records").value(info.record_bytes);
  w.key("roots").value(info.root_bytes);
  w.key("trailer").value(info.trailer_bytes);
  w.key("external_table").value(info.external_table_bytes);
  w.key("summary").value(info.summary_bytes);
  w.end_object();
}

void write_externals_json(json::Writer& w, const snapheap::SnapshotInfo& info) {
  w.key("weak_expired").value(info.weak_expired);
  w.key("weak_left_out").value(info.weak_left_out);
  w.key("ephemerons_saved").value(info.ephemerons_saved);
  w.key("ephemerons_dropped").value(info.ephemerons_dropped);
  w.key("weak_values_saved").value(info.weak_values_saved);
  w.key("weak_values_dropped").value(info.weak_values_dropped);
  w.key("strong_external").value(info.strong_external);
  w.key("weak_external").value(info.weak_external);
  w.key("externals").begin_array();
  for (const auto& e : info.externals) {
    w.begin_object(true);
    w.key("name").value(e.name);
    w.key("strong_refs").value(e.strong_refs);
    w.key("weak_refs").value(e.weak_refs);
    w.end_object();
  }
  w.end_array();
}

void write_types_json(json::Writer& w, const snapheap::SnapshotInfo& info) {
  w.key("types").begin_array();
  for (const auto& t : info.types) {
    w.begin_object(true);
    w.key("name").value(t.name);
    w.key("class_version").value(t.version);
    w.key("objects").value(t.objects);
    w.key("record_bytes").value(t.record_bytes);
    w.end_object();
  }
  w.end_array();
}

void write_roots_json(json::Writer& w, const snapheap::SnapshotInfo& info) {
  w.key("roots").begin_array();
  for (const auto& r : info.roots) {
    w.begin_object(true);
    w.key("name").value(r.name);
    w.key("id").value(r.id);
    w.key("type").value(r.type);
    w.end_object();
  }
  w.end_array();
}

void write_json(std::ostream& out, const std::filesystem::path& file, const snapheap::SnapshotInfo& info) {
  json::Writer w(out);
  w.begin_object();
  w.key("file").value(file.string());
  w.key("format_version").value(unsigned{info.format_version});
  w.key("byte_order").value(info.byte_order);
  w.key("bytes").value(info.bytes);
  write_sections_json(w, info);
  w.key("objects").value(info.objects);
  write_types_json(w, info);
  write_roots_json(w, info);
  w.key("strong_refs").value(info.strong_refs);
  w.key("strong_empty").value(info.strong_empty);
  w.key("weak_targets").value(info.weak_targets);
  w.key("weak_tombstones").value(info.weak_tombstones);
  w.key("weak_empty").value(info.weak_empty);
  w.key("unreachable").value(info.unreachable);
  write_externals_json(w, info);
  w.key("checksum_algorithm").value("xxh3-64");
  w.key("checksum").value(hex64(info.checksum));
  w.end_object();
}

// ---- the commands ---------------------------------------------------------------------------------

int run_info(const ParsedArgs& args) {
  const std::filesystem::path file(single_operand(args, "FILE"));
  snapheap::SnapshotInfo info;
  if (!inspect_file(file, "snapheap info: ", info)) return kExitFailure;
  if (args.has("--json")) write_json(std::cout, file, info);
  else write_text(std::cout, file, info);
  return kExitOk;
}

/// With --provides: whether a heap with those roots would bind every external reference. A
/// Member to a root it lacks fails the load; a Weak becomes a tombstone, unless --require-weak.
/// Returns the line that says why it would not load, or an empty string.
std::string unprovided(const ParsedArgs& args, const std::filesystem::path& file, const snapheap::SnapshotInfo& info,
                       const std::vector<std::string_view>& provided) {
  const bool require_weak = args.has("--require-weak");
  std::string missing;
  std::size_t count = 0;
  for (const auto& e : info.externals) {
    if (std::find(provided.begin(), provided.end(), e.name) != provided.end()) continue;
    if (e.strong_refs == 0 && !require_weak) continue;
    missing += (count++ ? ", " : "") + printable(e.name) + " (" + std::to_string(e.strong_refs) + " Member, " +
               std::to_string(e.weak_refs) + " Weak)";
  }
  if (missing.empty()) return {};
  return file.string() + ": would not load: the destination heap does not provide the external root" +
         (count > 1 ? "s " : " ") + missing;
}

int run_verify(const ParsedArgs& args) {
  const std::filesystem::path file(single_operand(args, "FILE"));
  snapheap::SnapshotInfo info;
  if (!inspect_file(file, "", info)) return kExitFailure;
  const bool destination = args.has("--provides") || args.has("--require-weak");
  std::vector<std::string_view> provided;
  for (const auto& [name, value] : args.options)
    if (name == "--provides" && !value.empty()) provided.push_back(value);
  if (destination) {
    if (const std::string why = unprovided(args, file, info, provided); !why.empty()) {
      std::cerr << why << '\n';
      return kExitFailure;
    }
  }
  std::cout << "ok: " << info.objects << " objects, " << info.bytes << " bytes\n";
  for (const auto& e : info.externals) {
    std::cout << "external root " << printable(e.name) << ": " << e.strong_refs << " Member, " << e.weak_refs << " Weak";
    if (destination) {
      const bool has = std::find(provided.begin(), provided.end(), e.name) != provided.end();
      std::cout << (has ? "; provided" : "; not provided: its Weak references load expired");
    }
    std::cout << '\n';
  }
  return kExitOk;
}

constexpr OptionSpec kInfoOptions[] = {{"--json", false}};

constexpr std::string_view kInfoHelp =
    "Describes a snapshot file: format version, byte order, the size of each section, objects by\n"
    "type (name, class version, count, record bytes), the named roots, strong references, weak\n"
    "handles (to targets, tombstones, empty), unreachable objects and the checksum; then the\n"
    "tombstones by kind (expired or left out), the references to external roots, and the external\n"
    "roots the snapshot needs a destination heap to provide. The file is checked completely\n"
    "first; the types' code is not needed, so any program's snapshots work.\n"
    "FILE may be - for standard input.\n\n"
    "Options:\n"
    "  --json       print one JSON object instead of text\n"
    "  -h, --help   print this help\n\n"
    "Exit status: 0 described, 1 the file is unreadable or not a valid snapshot, 2 bad arguments.\n";

constexpr std::string_view kVerifyHelp =
    "Checks a snapshot file completely (header, trailer, checksum, type table, every record and\n"
    "reference, the roots). Prints \"ok: N objects, B bytes\", or one line naming the first\n"
    "problem and its byte offset: \"FILE: <what is wrong> (at byte N)\". FILE may be - for\n"
    "standard input. The external roots the snapshot needs follow, one line each.\n\n"
    "Options:\n"
    "  --provides NAME   a root the destination heap will have (repeat it for each; an empty\n"
    "                    NAME says the destination has none): then verify also says whether the\n"
    "                    snapshot would load there, and fails if a Member refers to an external\n"
    "                    root that is not provided (\"FILE: would not load: ...\"); a Weak to one\n"
    "                    loads expired\n"
    "  --require-weak    a Weak to an external root not provided fails too\n"
    "                    (LoadOptions::on_missing_weak_external = MissingExternal::error)\n"
    "  -h, --help        print this help\n\n"
    "Exit status: 0 valid (and loadable there), 1 not valid, unreadable or would not load,\n"
    "2 bad arguments.\n";

}  // namespace

const Command& info_command() {
  static const Command command{"info", "usage: snapheap info [--json] FILE", kInfoHelp, kInfoOptions, &run_info};
  return command;
}

constexpr OptionSpec kVerifyOptions[] = {{"--provides", true}, {"--require-weak", false}};

const Command& verify_command() {
  static const Command command{"verify", "usage: snapheap verify [--provides NAME]... [--require-weak] FILE",
                               kVerifyHelp, kVerifyOptions, &run_verify};
  return command;
}

}  // namespace snapheap_tool
