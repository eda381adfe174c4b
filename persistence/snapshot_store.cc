#include "persistence/snapshot_store.h"

#include <algorithm>

#include "core/assert.h"
#include "persistence/coding.h"
#include "persistence/crc32c.h"
#include "persistence/file_names.h"
#include "persistence/wal_format.h"

namespace smsx::persistence {
namespace {

// Read size when verifying a snapshot, so memory stays constant for any snapshot size.
constexpr size_t kVerifyChunkBytes = 1 << 20;

struct SnapshotHeader {
  uint64_t lsn = 0;
  uint64_t body_bytes = 0;
  uint32_t body_crc = 0;  // unmasked
};

void encode_snapshot_header(const SnapshotHeader& fields, uint8_t (&header)[kSnapshotHeaderBytes]) {
  encode_u32(header + kSnapshotMagicOffset, kSnapshotMagic);
  encode_u32(header + kSnapshotVersionOffset, kSnapshotVersion);
  encode_u64(header + kSnapshotLsnOffset, fields.lsn);
  encode_u64(header + kSnapshotBodyBytesOffset, fields.body_bytes);
  encode_u32(header + kSnapshotBodyCrcOffset, crc32c::mask(fields.body_crc));
  encode_u32(header + kSnapshotHeaderCrcOffset,
             crc32c::mask(crc32c::value(header, kSnapshotHeaderCrcOffset)));
}

// Checks the header of a file of `file_bytes` bytes; returns "" or the reason it is bad.
std::string check_snapshot_header(const uint8_t* header, uint64_t file_bytes,
                                  uint64_t lsn_from_name, SnapshotHeader* fields) {
  if (decode_u32(header + kSnapshotMagicOffset) != kSnapshotMagic) return "bad snapshot magic";
  const uint32_t crc = crc32c::unmask(decode_u32(header + kSnapshotHeaderCrcOffset));
  if (crc != crc32c::value(header, kSnapshotHeaderCrcOffset)) return "header CRC mismatch";
  if (decode_u32(header + kSnapshotVersionOffset) != kSnapshotVersion) {
    return "unsupported snapshot version";
  }
  fields->lsn = decode_u64(header + kSnapshotLsnOffset);
  fields->body_bytes = decode_u64(header + kSnapshotBodyBytesOffset);
  fields->body_crc = crc32c::unmask(decode_u32(header + kSnapshotBodyCrcOffset));
  if (fields->lsn != lsn_from_name) {
    return "header LSN " + std::to_string(fields->lsn) + " differs from the name's";
  }
  if (fields->body_bytes != file_bytes - kSnapshotHeaderBytes) {
    return "header says " + std::to_string(fields->body_bytes) + " body bytes, the file has " +
           std::to_string(file_bytes - kSnapshotHeaderBytes);
  }
  return "";
}

std::string temp_name(uint64_t lsn) { return snapshot_file_name(lsn) + kTempSuffix; }

}  // namespace

// ---- SnapshotWriter -------------------------------------------------------------------

SnapshotWriter::SnapshotWriter(Env& env, std::string dir, uint64_t lsn,
                               std::unique_ptr<WritableFile> file, std::string temp_path,
                               std::string final_path)
    : env_(env),
      dir_(std::move(dir)),
      lsn_(lsn),
      file_(std::move(file)),
      temp_path_(std::move(temp_path)),
      final_path_(std::move(final_path)) {}

SnapshotWriter::~SnapshotWriter() {
  if (!finished_) abandon();
}

void SnapshotWriter::abandon() {
  if (file_ != nullptr) (void)file_->close();
  file_.reset();
  if (env_.file_exists(temp_path_)) (void)env_.delete_file(temp_path_);
  finished_ = true;
}

Status SnapshotWriter::append(std::span<const uint8_t> bytes) {
  SMSX_ASSERT(!finished_);
  if (!failure_.ok()) return failure_;
  failure_ = file_->append(bytes);
  if (!failure_.ok()) return failure_;
  body_crc_ = crc32c::extend(body_crc_, bytes.data(), bytes.size());
  body_bytes_ += bytes.size();
  return Status();
}

Status SnapshotWriter::finish() {
  SMSX_ASSERT(!finished_);
  Status status = failure_;
  if (status.ok()) {
    uint8_t header[kSnapshotHeaderBytes];
    encode_snapshot_header(SnapshotHeader{lsn_, body_bytes_, body_crc_}, header);
    SMSX_ASSERT(file_->size() == kSnapshotHeaderBytes + body_bytes_);
    status = file_->write_at(0, header);
  }
  if (status.ok()) status = file_->sync();
  if (status.ok()) status = file_->close();
  // Check the other side of the boundary before the name becomes visible.
  uint64_t verified_lsn = 0;
  if (status.ok()) status = SnapshotStore(env_, dir_, dir_).verify(temp_path_, &verified_lsn);
  if (status.ok()) SMSX_ASSERT(verified_lsn == lsn_);
  if (status.ok()) status = env_.rename_file(temp_path_, final_path_);
  if (status.ok()) status = env_.sync_dir(dir_);
  if (!status.ok()) {
    abandon();
    return status;
  }
  file_.reset();
  finished_ = true;
  return Status();
}

std::span<const uint8_t> LoadedSnapshot::body() const {
  if (!found) return {};
  SMSX_ASSERT(bytes.size() >= kSnapshotHeaderBytes);
  return std::span<const uint8_t>(bytes).subspan(kSnapshotHeaderBytes);
}

// ---- SnapshotStore --------------------------------------------------------------------

SnapshotStore::SnapshotStore(Env& env, std::string snapshot_dir, std::string wal_dir)
    : env_(env), snapshot_dir_(std::move(snapshot_dir)), wal_dir_(std::move(wal_dir)) {}

Status SnapshotStore::begin(uint64_t lsn, std::unique_ptr<SnapshotWriter>* writer) const {
  const std::string temp_path = join_path(snapshot_dir_, temp_name(lsn));
  std::unique_ptr<WritableFile> file;
  PERSIST_RETURN_IF_ERROR(env_.new_writable_file(temp_path, &file));
  // Placeholder for the header, which finish() writes once the body's length and CRC are
  // known; all zeros never verify, so an unfinished file can never pass as a snapshot.
  const uint8_t placeholder[kSnapshotHeaderBytes] = {};
  Status status = file->append(placeholder);
  writer->reset(new SnapshotWriter(env_, snapshot_dir_, lsn, std::move(file), temp_path,
                                   join_path(snapshot_dir_, snapshot_file_name(lsn))));
  if (!status.ok()) {
    writer->reset();  // deletes the temporary file
    return status;
  }
  return Status();
}

Status SnapshotStore::write(uint64_t lsn, std::span<const uint8_t> body) const {
  std::unique_ptr<SnapshotWriter> writer;
  PERSIST_RETURN_IF_ERROR(begin(lsn, &writer));
  PERSIST_RETURN_IF_ERROR(writer->append(body));
  return writer->finish();
}

Status SnapshotStore::verify(const std::string& path, uint64_t* lsn) const {
  const std::string name = path.substr(path.rfind('/') + 1);
  std::string_view final_name(name);
  if (final_name.ends_with(kTempSuffix)) final_name.remove_suffix(sizeof(kTempSuffix) - 1);
  const std::optional<uint64_t> lsn_from_name = parse_snapshot_file_name(final_name);
  if (!lsn_from_name) return Status::invalid_argument(path + " is not a snapshot file name");
  PERSIST_RETURN_IF_ERROR(verify_as(path, *lsn_from_name));
  *lsn = *lsn_from_name;
  return Status();
}

Status SnapshotStore::verify_as(const std::string& path, uint64_t lsn) const {
  std::unique_ptr<ReadableFile> file;
  PERSIST_RETURN_IF_ERROR(env_.new_readable_file(path, &file));
  uint64_t file_bytes = 0;
  PERSIST_RETURN_IF_ERROR(file->size(&file_bytes));
  std::vector<uint8_t> chunk(kVerifyChunkBytes);
  size_t got = 0;
  PERSIST_RETURN_IF_ERROR(file->read_at(0, std::span(chunk.data(), kSnapshotHeaderBytes), &got));
  if (got < kSnapshotHeaderBytes) {
    return Status::corruption(path + " at offset 0: shorter than a snapshot header");
  }
  SnapshotHeader fields;
  if (std::string bad = check_snapshot_header(chunk.data(), file_bytes, lsn, &fields);
      !bad.empty()) {
    return Status::corruption(path + " at offset 0: " + bad);
  }
  uint32_t crc = 0;
  for (uint64_t offset = kSnapshotHeaderBytes; offset < file_bytes; offset += got) {
    PERSIST_RETURN_IF_ERROR(file->read_at(offset, chunk, &got));
    if (got == 0)
      return Status::corruption(path + " at offset " + std::to_string(offset) +
                                ": file shrank while being verified");
    crc = crc32c::extend(crc, chunk.data(), got);
  }
  if (crc != fields.body_crc) {
    return Status::corruption(path + " at offset " + std::to_string(kSnapshotHeaderBytes) +
                              ": body CRC mismatch");
  }
  return Status();
}

Status SnapshotStore::load_newest_valid(LoadedSnapshot* out) const {
  *out = LoadedSnapshot();
  std::vector<NamedFile> snapshots;
  PERSIST_RETURN_IF_ERROR(list_snapshots(env_, snapshot_dir_, &snapshots));
  for (auto it = snapshots.rbegin(); it != snapshots.rend(); ++it) {
    std::string bad;
    Status read = env_.read_file(it->path, &out->bytes);
    SnapshotHeader fields;
    if (!read.ok()) {
      bad = read.to_string();
    } else if (out->bytes.size() < kSnapshotHeaderBytes) {
      bad = "at offset 0: shorter than a snapshot header";
    } else if (bad = check_snapshot_header(out->bytes.data(), out->bytes.size(), it->lsn, &fields);
               !bad.empty()) {
      bad = "at offset 0: " + bad;
    } else if (crc32c::value(out->bytes.data() + kSnapshotHeaderBytes,
                             out->bytes.size() - kSnapshotHeaderBytes) != fields.body_crc) {
      bad = "at offset " + std::to_string(kSnapshotHeaderBytes) + ": body CRC mismatch";
    }
    if (!bad.empty()) {
      out->corrupt.push_back(it->path + ": " + bad);
      continue;
    }
    out->found = true;
    out->lsn = it->lsn;
    out->path = it->path;
    return Status();
  }
  out->bytes.clear();
  if (out->corrupt.empty()) return Status();  // no snapshot yet
  std::string message = "no valid snapshot:";
  for (const std::string& corrupt : out->corrupt) message += " [" + corrupt + "]";
  return Status::corruption(message);
}

Status SnapshotStore::prune(std::vector<std::string>* deleted) const {
  std::vector<std::string> names;
  PERSIST_RETURN_IF_ERROR(env_.list_dir(snapshot_dir_, &names));
  for (const std::string& name : names) {  // temporary files of snapshots never finished
    std::string_view view(name);
    if (!view.ends_with(kTempSuffix)) continue;
    view.remove_suffix(sizeof(kTempSuffix) - 1);
    if (!parse_snapshot_file_name(view)) continue;
    const std::string path = join_path(snapshot_dir_, name);
    PERSIST_RETURN_IF_ERROR(env_.delete_file(path));
    if (deleted != nullptr) deleted->push_back(path);
  }
  std::vector<NamedFile> snapshots;
  PERSIST_RETURN_IF_ERROR(list_snapshots(env_, snapshot_dir_, &snapshots));
  if (snapshots.size() < kSnapshotsKept) return Status();
  const size_t first_kept = snapshots.size() - kSnapshotsKept;
  for (size_t i = 0; i < first_kept; ++i) {
    PERSIST_RETURN_IF_ERROR(env_.delete_file(snapshots[i].path));
    if (deleted != nullptr) deleted->push_back(snapshots[i].path);
  }
  if (first_kept > 0) PERSIST_RETURN_IF_ERROR(env_.sync_dir(snapshot_dir_));
  return delete_segments_covered_by(env_, wal_dir_, snapshots[first_kept].lsn, deleted);
}

}  // namespace smsx::persistence
