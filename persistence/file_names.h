// Names of WAL segments and snapshots, and listing them in LSN order. A name carries a
// 20-digit zero-padded LSN, so lexical and numeric order agree; any other entry of the
// folder (temporary files, files of other components) is ignored.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "persistence/env.h"

namespace smsx::persistence {

// "wal-00000000000000000001.log" for LSN 1.
std::string segment_file_name(uint64_t first_lsn);
// "snap-00000000000000000042.snap" for LSN 42.
std::string snapshot_file_name(uint64_t lsn);

// The LSN in a name of exactly that form, or nothing (also for a segment named LSN 0).
std::optional<uint64_t> parse_segment_file_name(std::string_view name);
std::optional<uint64_t> parse_snapshot_file_name(std::string_view name);

struct NamedFile {
  uint64_t lsn;      // a segment's first LSN, or a snapshot's LSN
  std::string path;  // dir joined with the name
};

// Segments of `dir`, sorted by first LSN.
Status list_segments(Env& env, const std::string& dir, std::vector<NamedFile>* segments);
// Snapshots of `dir`, sorted by LSN.
Status list_snapshots(Env& env, const std::string& dir, std::vector<NamedFile>* snapshots);

// Deletes every segment of `wal_dir` whose records all have LSN <= `lsn`. A segment's last
// LSN is one less than the next segment's first LSN, so the last segment (which the writer
// may still be filling) is never deleted. Safe while a WalWriter rolls segments in the same
// folder. *deleted (optional) receives the deleted paths.
Status delete_segments_covered_by(Env& env, const std::string& wal_dir, uint64_t lsn,
                                  std::vector<std::string>* deleted = nullptr);

}  // namespace smsx::persistence
