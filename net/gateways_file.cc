#include "net/gateways_file.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace smsx::net {
namespace {

constexpr std::size_t kTokenRandomBytes = 16;
// Larger than any gateways file a person would write.
constexpr std::size_t kGatewaysFileBytesMax = 1 << 20;
constexpr std::string_view kTempFileName = ".gateways.toml.tmp";

std::string errno_text(int error) { return std::strerror(error); }

// mkdir -p, creating missing directories with mode 0700.
std::optional<std::string> make_directories(const std::string& path) {
  for (std::size_t slash = 1; slash <= path.size(); ++slash) {
    if (slash != path.size() && path[slash] != '/') continue;
    const std::string prefix = path.substr(0, slash);
    if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) {
      return "data_dir " + path + ": cannot create " + prefix + ": " + errno_text(errno);
    }
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return "data_dir " + path + ": " + errno_text(errno);
  }
  if (!S_ISDIR(st.st_mode)) return "data_dir " + path + ": not a directory";
  return std::nullopt;
}

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

void fsync_directory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

// Reads an open gateways file after checking who may read it.
Result<std::vector<GatewayConfig>> read_checked(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Error{path + ": " + errno_text(errno)};
  if (!S_ISREG(st.st_mode)) return Error{path + ": not a regular file"};
  if (st.st_uid != ::geteuid()) {
    return Error{path + ": owned by uid " + std::to_string(st.st_uid) + " but smsxd runs as uid " +
                 std::to_string(::geteuid()) + "; refusing to trust the tokens in it"};
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Error{path + ": permissions " + mode +
                 " are too open; the file holds gateway tokens and must be readable only by "
                 "its owner (run: chmod 600 " +
                 path + ")"};
  }
  std::string text;
  char chunk[16 * 1024];
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error{path + ": cannot read: " + errno_text(errno)};
    if (n == 0) break;
    text.append(chunk, static_cast<std::size_t>(n));
    if (text.size() > kGatewaysFileBytesMax) return Error{path + ": larger than 1MiB"};
  }
  return parse_gateways_toml(text, path);
}

Result<GatewaysFile> load(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error{path + ": cannot open: " + errno_text(errno)};
  Result<std::vector<GatewayConfig>> gateways = read_checked(fd, path);
  ::close(fd);
  if (!gateways.ok()) return Error{gateways.error()};
  return GatewaysFile{path, false, std::move(gateways).value()};
}

Result<std::string> generated_text() {
  std::string text =
      "# smsx gateway tokens, generated on first start. Keep this file secret: it must stay\n"
      "# readable by its owner only (mode 0600) or smsxd refuses to start.\n"
      "# A gateway sends {\"op\":\"hello\",\"token\":\"...\"} first to get its role.\n"
      "# Edit freely (add gateways, replace tokens) and restart smsxd; to keep gateways in\n"
      "# the --config file instead, define [[gateways]] there and this file is ignored.\n";
  for (Role role : kRoles) {
    Result<std::string> token = generate_token();
    if (!token.ok()) return token;
    text += "\n[[gateways]]\nname = \"";
    text += role_name(role);
    text += "\"\nrole = \"";
    text += role_name(role);
    text += "\"\ntoken = \"" + *token + "\"\n";
  }
  return text;
}

}  // namespace

std::string gateways_file_path(std::string_view data_dir) {
  std::string path(data_dir);
  if (path.empty() || path.back() != '/') path += '/';
  path += kGatewaysFileName;
  return path;
}

Result<std::string> generate_token() {
  unsigned char random[kTokenRandomBytes];
  std::size_t filled = 0;
  while (filled < sizeof random) {
    const ssize_t n = ::getrandom(random + filled, sizeof random - filled, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error{"getrandom: " + errno_text(errno)};
    filled += static_cast<std::size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string token;
  token.reserve(2 * sizeof random);
  for (unsigned char byte : random) {
    token += kHex[byte >> 4];
    token += kHex[byte & 0xf];
  }
  return token;
}

Result<GatewaysFile> load_or_create_gateways_file(const std::string& data_dir) {
  if (auto error = make_directories(data_dir)) return Error{std::move(*error)};
  const std::string path = gateways_file_path(data_dir);
  if (::access(path.c_str(), F_OK) == 0) return load(path);
  if (errno != ENOENT) return Error{path + ": " + errno_text(errno)};

  Result<std::string> text = generated_text();
  if (!text.ok()) return Error{text.error()};
  std::string temp = gateways_file_path(data_dir);
  temp.replace(temp.size() - kGatewaysFileName.size(), kGatewaysFileName.size(), kTempFileName);
  // A leftover from a crash during an earlier first start.
  if (::unlink(temp.c_str()) != 0 && errno != ENOENT) {
    return Error{temp + ": cannot remove: " + errno_text(errno)};
  }
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Error{temp + ": cannot create: " + errno_text(errno)};
  const bool written = write_all(fd, *text) && ::fsync(fd) == 0;
  const int write_errno = errno;
  ::close(fd);
  if (!written) {
    ::unlink(temp.c_str());
    return Error{temp + ": cannot write: " + errno_text(write_errno)};
  }
  // link() never replaces: if another start won the race, its file is the one to use.
  const bool linked = ::link(temp.c_str(), path.c_str()) == 0;
  const int link_errno = errno;
  ::unlink(temp.c_str());
  if (!linked && link_errno != EEXIST) {
    return Error{path + ": cannot create: " + errno_text(link_errno)};
  }
  fsync_directory(data_dir);
  Result<GatewaysFile> loaded = load(path);
  if (loaded.ok()) loaded->created = linked;
  return loaded;
}

}  // namespace smsx::net
