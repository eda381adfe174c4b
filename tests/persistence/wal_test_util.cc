#include "tests/persistence/wal_test_util.h"

#include "core/assert.h"
#include "persistence/file_names.h"

namespace smsx::persistence::testing {

bool is_known_test_type(uint8_t type) { return type >= 1 && type <= kKnownTypeMax; }

std::ostream& operator<<(std::ostream& out, const Record& record) {
  return out << "{lsn " << record.lsn << ", type " << int{record.type} << ", "
             << record.payload.size() << " bytes}";
}

Record test_record(uint64_t lsn, size_t bytes) {
  Record record;
  record.lsn = lsn;
  record.type = static_cast<uint8_t>(1 + lsn % kKnownTypeMax);
  record.payload.resize(bytes);
  for (size_t i = 0; i < bytes; ++i) record.payload[i] = static_cast<uint8_t>(lsn * 31 + i * 7);
  return record;
}

ReadResult read_log(Env& env, const std::string& dir, uint64_t from_lsn, WalReaderOptions options) {
  ReadResult result;
  WalReader reader(env, dir, is_known_test_type, options);
  result.status = reader.seek(from_lsn);
  WalRecord view;
  while (result.status.ok() && reader.next(&view)) {
    result.records.push_back(Record{
        view.lsn, view.type, std::vector<uint8_t>(view.payload.begin(), view.payload.end())});
  }
  if (result.status.ok()) result.status = reader.status();
  result.last_lsn = reader.last_lsn();
  result.torn_tail = reader.torn_tail();
  return result;
}

std::unique_ptr<WalWriter> open_writer(Env& env, uint64_t next_lsn, uint64_t segment_bytes_max,
                                       const std::string& dir) {
  SMSX_ASSERT(env.create_dir(dir).ok());
  WalWriterOptions options;
  options.segment_bytes_max = segment_bytes_max;
  std::unique_ptr<WalWriter> writer;
  const Status status = WalWriter::open(env, dir, next_lsn, options, &writer);
  SMSX_ASSERT(status.ok());
  return writer;
}

Status write_batch_of(WalWriter& writer, size_t count, size_t bytes, std::vector<Record>* written) {
  for (size_t i = 0; i < count; ++i) {
    const Record record = test_record(writer.next_lsn(), bytes);
    uint64_t lsn = 0;
    PERSIST_RETURN_IF_ERROR(writer.append(record.type, record.payload, &lsn));
    SMSX_ASSERT(lsn == record.lsn);
    if (written != nullptr) written->push_back(record);
  }
  return writer.commit();
}

std::vector<std::string> segment_paths(Env& env, const std::string& dir) {
  std::vector<NamedFile> segments;
  SMSX_ASSERT(list_segments(env, dir, &segments).ok());
  std::vector<std::string> paths;
  for (const NamedFile& segment : segments) paths.push_back(segment.path);
  return paths;
}

}  // namespace smsx::persistence::testing
