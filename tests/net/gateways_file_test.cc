#include "net/gateways_file.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace smsx::net {
namespace {

class GatewaysFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "smsx-gw-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    data_dir_ = (root_ / "a" / "b" / "data").string();  // parents do not exist yet
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  static unsigned mode_of(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
  }

  static std::string read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  std::filesystem::path root_;
  std::string data_dir_;
};

bool is_hex_token(const std::string& token) {
  return token.size() == 32 && token.find_first_not_of("0123456789abcdef") == std::string::npos;
}

TEST_F(GatewaysFileTest, FirstStartCreatesOneGatewayPerRoleWithMode0600) {
  Result<GatewaysFile> file = load_or_create_gateways_file(data_dir_);
  ASSERT_TRUE(file.ok()) << file.error();
  EXPECT_TRUE(file->created);
  EXPECT_EQ(file->path, data_dir_ + "/gateways.toml");
  EXPECT_EQ(gateways_file_path(data_dir_), file->path);
  EXPECT_EQ(mode_of(file->path), 0600u);
  EXPECT_EQ(mode_of(data_dir_), 0700u);
  ASSERT_EQ(file->gateways.size(), 5u);
  std::set<std::string> tokens;
  for (std::size_t i = 0; i < file->gateways.size(); ++i) {
    const GatewayConfig& gateway = file->gateways[i];
    EXPECT_EQ(gateway.role, kRoles[i]);
    EXPECT_EQ(gateway.name, role_name(kRoles[i]));
    EXPECT_TRUE(is_hex_token(gateway.token)) << gateway.token;
    tokens.insert(gateway.token);
  }
  EXPECT_EQ(tokens.size(), 5u);
  // No temporary file is left behind.
  EXPECT_FALSE(std::filesystem::exists(data_dir_ + "/.gateways.toml.tmp"));
}

TEST_F(GatewaysFileTest, ModeIs0600EvenWithAPermissiveUmask) {
  const mode_t saved = ::umask(0);
  Result<GatewaysFile> file = load_or_create_gateways_file(data_dir_);
  ::umask(saved);
  ASSERT_TRUE(file.ok()) << file.error();
  EXPECT_EQ(mode_of(file->path), 0600u);
}

TEST_F(GatewaysFileTest, LaterStartsLoadTheSameTokens) {
  Result<GatewaysFile> first = load_or_create_gateways_file(data_dir_);
  ASSERT_TRUE(first.ok()) << first.error();
  const std::string text = read(first->path);
  Result<GatewaysFile> second = load_or_create_gateways_file(data_dir_);
  ASSERT_TRUE(second.ok()) << second.error();
  EXPECT_FALSE(second->created);
  ASSERT_EQ(second->gateways.size(), first->gateways.size());
  for (std::size_t i = 0; i < first->gateways.size(); ++i) {
    EXPECT_EQ(second->gateways[i].token, first->gateways[i].token);
    EXPECT_EQ(second->gateways[i].role, first->gateways[i].role);
  }
  EXPECT_EQ(read(first->path), text);  // not rewritten
}

TEST_F(GatewaysFileTest, AnEditedFileIsLoadedAsEdited) {
  Result<GatewaysFile> first = load_or_create_gateways_file(data_dir_);
  ASSERT_TRUE(first.ok()) << first.error();
  std::ofstream(first->path, std::ios::app)
      << "\n[[gateways]]\nname = \"web-2\"\nrole = \"customer\"\ntoken = \"an-extra-token-0001\"\n";
  Result<GatewaysFile> second = load_or_create_gateways_file(data_dir_);
  ASSERT_TRUE(second.ok()) << second.error();
  ASSERT_EQ(second->gateways.size(), 6u);
  EXPECT_EQ(second->gateways[5].name, "web-2");
  EXPECT_EQ(second->gateways[5].token, "an-extra-token-0001");
}

TEST_F(GatewaysFileTest, RefusesAFileOthersCanRead) {
  Result<GatewaysFile> first = load_or_create_gateways_file(data_dir_);
  ASSERT_TRUE(first.ok()) << first.error();
  for (mode_t mode : {0644, 0640, 0604, 0620, 0602, 0660}) {
    ASSERT_EQ(::chmod(first->path.c_str(), mode), 0);
    Result<GatewaysFile> loaded = load_or_create_gateways_file(data_dir_);
    ASSERT_FALSE(loaded.ok()) << std::oct << mode;
    char shown[8];
    std::snprintf(shown, sizeof shown, "%04o", static_cast<unsigned>(mode));
    EXPECT_EQ(loaded.error(), first->path + ": permissions " + shown +
                                  " are too open; the file holds gateway tokens and must be "
                                  "readable only by its owner (run: chmod 600 " +
                                  first->path + ")");
  }
  ASSERT_EQ(::chmod(first->path.c_str(), 0400), 0);  // read-only for the owner is fine
  EXPECT_TRUE(load_or_create_gateways_file(data_dir_).ok());
}

TEST_F(GatewaysFileTest, RefusesAFileOwnedBySomeoneElse) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give the file to another user";
  Result<GatewaysFile> first = load_or_create_gateways_file(data_dir_);
  ASSERT_TRUE(first.ok()) << first.error();
  ASSERT_EQ(::chown(first->path.c_str(), 12345, 12345), 0);
  Result<GatewaysFile> loaded = load_or_create_gateways_file(data_dir_);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error(), first->path +
                                ": owned by uid 12345 but smsxd runs as uid 0; refusing to "
                                "trust the tokens in it");
}

TEST_F(GatewaysFileTest, AnInvalidFileIsAnErrorNamingIt) {
  std::filesystem::create_directories(data_dir_);
  const std::string path = gateways_file_path(data_dir_);
  {
    std::ofstream(path)
        << "[[gateways]]\nname = \"x\"\nrole = \"root\"\ntoken = \"0123456789abcdef\"\n";
  }
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  Result<GatewaysFile> loaded = load_or_create_gateways_file(data_dir_);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error(), path +
                                ":3:8: gateways[0].role: expected one of customer, supplier, "
                                "payments, admin, replica; got \"root\"");

  { std::ofstream(path, std::ios::trunc) << "# emptied by hand\n"; }
  loaded = load_or_create_gateways_file(data_dir_);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error(), path + ": defines no gateways (add [[gateways]] tables)");
}

TEST_F(GatewaysFileTest, ALeftoverTemporaryFileFromACrashIsReplaced) {
  std::filesystem::create_directories(data_dir_);
  { std::ofstream(data_dir_ + "/.gateways.toml.tmp") << "half a fi"; }
  Result<GatewaysFile> file = load_or_create_gateways_file(data_dir_);
  ASSERT_TRUE(file.ok()) << file.error();
  EXPECT_TRUE(file->created);
  EXPECT_EQ(file->gateways.size(), 5u);
  EXPECT_FALSE(std::filesystem::exists(data_dir_ + "/.gateways.toml.tmp"));
}

TEST_F(GatewaysFileTest, DataDirThatIsAFile) {
  const std::string not_dir = (root_ / "plain").string();
  { std::ofstream(not_dir) << "x"; }
  Result<GatewaysFile> file = load_or_create_gateways_file(not_dir);
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.error(), "data_dir " + not_dir + ": not a directory");
}

TEST_F(GatewaysFileTest, TrailingSlashInDataDir) {
  Result<GatewaysFile> file = load_or_create_gateways_file(data_dir_ + "/");
  ASSERT_TRUE(file.ok()) << file.error();
  EXPECT_EQ(file->path, data_dir_ + "/gateways.toml");
}

TEST(GenerateToken, ThirtyTwoHexCharactersAndFresh) {
  Result<std::string> a = generate_token();
  Result<std::string> b = generate_token();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(is_hex_token(*a)) << *a;
  EXPECT_TRUE(is_hex_token(*b)) << *b;
  EXPECT_NE(*a, *b);
}

}  // namespace
}  // namespace smsx::net
