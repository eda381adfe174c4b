#include "persistence/file_names.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "core/assert.h"
#include "persistence/wal_format.h"

namespace smsx::persistence {
namespace {

std::string lsn_name(std::string_view prefix, uint64_t lsn, std::string_view suffix) {
  char digits[kLsnDigits + 1];
  const int written = std::snprintf(digits, sizeof(digits), "%020" PRIu64, lsn);
  SMSX_ASSERT(written == static_cast<int>(kLsnDigits));
  std::string name(prefix);
  name.append(digits, kLsnDigits);
  name.append(suffix);
  return name;
}

std::optional<uint64_t> parse_lsn_name(std::string_view name, std::string_view prefix,
                                       std::string_view suffix) {
  if (name.size() != prefix.size() + kLsnDigits + suffix.size()) return std::nullopt;
  if (!name.starts_with(prefix) || !name.ends_with(suffix)) return std::nullopt;
  uint64_t lsn = 0;
  for (const char c : name.substr(prefix.size(), kLsnDigits)) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (lsn > (UINT64_MAX - digit) / 10) return std::nullopt;  // would overflow
    lsn = lsn * 10 + digit;
  }
  return lsn;
}

Status list_named(Env& env, const std::string& dir, std::string_view prefix,
                  std::string_view suffix, std::vector<NamedFile>* files) {
  files->clear();
  std::vector<std::string> names;
  PERSIST_RETURN_IF_ERROR(env.list_dir(dir, &names));
  for (const std::string& name : names) {
    if (const std::optional<uint64_t> lsn = parse_lsn_name(name, prefix, suffix)) {
      files->push_back(NamedFile{*lsn, join_path(dir, name)});
    }
  }
  std::sort(files->begin(), files->end(),
            [](const NamedFile& a, const NamedFile& b) { return a.lsn < b.lsn; });
  return Status();
}

}  // namespace

std::string segment_file_name(uint64_t first_lsn) {
  return lsn_name(kSegmentPrefix, first_lsn, kSegmentSuffix);
}

std::string snapshot_file_name(uint64_t lsn) {
  return lsn_name(kSnapshotPrefix, lsn, kSnapshotSuffix);
}

std::optional<uint64_t> parse_segment_file_name(std::string_view name) {
  const std::optional<uint64_t> lsn = parse_lsn_name(name, kSegmentPrefix, kSegmentSuffix);
  if (lsn == 0u) return std::nullopt;  // no record has LSN 0, so no segment starts there
  return lsn;
}

std::optional<uint64_t> parse_snapshot_file_name(std::string_view name) {
  return parse_lsn_name(name, kSnapshotPrefix, kSnapshotSuffix);
}

Status list_segments(Env& env, const std::string& dir, std::vector<NamedFile>* segments) {
  return list_named(env, dir, kSegmentPrefix, kSegmentSuffix, segments);
}

Status list_snapshots(Env& env, const std::string& dir, std::vector<NamedFile>* snapshots) {
  return list_named(env, dir, kSnapshotPrefix, kSnapshotSuffix, snapshots);
}

Status delete_segments_covered_by(Env& env, const std::string& wal_dir, uint64_t lsn,
                                  std::vector<std::string>* deleted) {
  std::vector<NamedFile> segments;
  PERSIST_RETURN_IF_ERROR(list_segments(env, wal_dir, &segments));
  bool any_deleted = false;
  for (size_t i = 0; i + 1 < segments.size(); ++i) {
    // Segment i holds LSNs [first(i), first(i + 1) - 1].
    const uint64_t last_lsn_of_segment = segments[i + 1].lsn - 1;
    if (last_lsn_of_segment > lsn) break;
    PERSIST_RETURN_IF_ERROR(env.delete_file(segments[i].path));
    any_deleted = true;
    if (deleted != nullptr) deleted->push_back(segments[i].path);
  }
  // Not needed for safety (a deletion lost in a crash only leaves extra segments), but it
  // keeps the folder's durable state close to what the operator sees.
  if (any_deleted) return env.sync_dir(wal_dir);
  return Status();
}

}  // namespace smsx::persistence
