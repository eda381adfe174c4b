#include "persistence/env.h"

#include "core/assert.h"

namespace smsx::persistence {

Status Env::read_file(const std::string& path, std::vector<uint8_t>* contents) {
  std::unique_ptr<ReadableFile> file;
  PERSIST_RETURN_IF_ERROR(new_readable_file(path, &file));
  uint64_t bytes = 0;
  PERSIST_RETURN_IF_ERROR(file->size(&bytes));
  contents->resize(bytes);
  size_t bytes_read = 0;
  PERSIST_RETURN_IF_ERROR(file->read_at(0, *contents, &bytes_read));
  // The file may have shrunk between size() and read_at(); keep what was there.
  contents->resize(bytes_read);
  return Status();
}

Status Env::write_file_durably(const std::string& path, std::span<const uint8_t> data) {
  std::unique_ptr<WritableFile> file;
  PERSIST_RETURN_IF_ERROR(new_writable_file(path, &file));
  PERSIST_RETURN_IF_ERROR(file->append(data));
  PERSIST_RETURN_IF_ERROR(file->sync());
  PERSIST_RETURN_IF_ERROR(file->close());
  return sync_dir(dir_of(path));
}

std::string join_path(std::string_view dir, std::string_view name) {
  SMSX_ASSERT(!name.empty());
  std::string path(dir);
  if (!path.empty() && path.back() != '/') path += '/';
  path += name;
  return path;
}

std::string dir_of(std::string_view path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

}  // namespace smsx::persistence
