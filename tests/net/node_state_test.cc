#include "net/node_state.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace smsx::net {
namespace {

class NodeStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "smsx-node-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void write(const std::string& text) { std::ofstream(dir_ + "/node.state") << text; }

  std::string dir_;
};

TEST_F(NodeStateTest, AMissingFileIsEpochOneWithoutAPeer) {
  NodeState state{.epoch = 9, .peer = "x"};
  EXPECT_EQ(load_node_state(dir_, &state), "");
  EXPECT_EQ(state.epoch, 1u);
  EXPECT_EQ(state.peer, "");
}

TEST_F(NodeStateTest, SavedStateLoadsBackAndReplacesTheOldOne) {
  ASSERT_EQ(save_node_state(dir_, {.epoch = 3, .peer = "10.0.0.2:7700"}), "");
  ASSERT_EQ(save_node_state(dir_, {.epoch = 4, .peer = "[::1]:7710"}), "");
  NodeState state;
  ASSERT_EQ(load_node_state(dir_, &state), "");
  EXPECT_EQ(state.epoch, 4u);
  EXPECT_EQ(state.peer, "[::1]:7710");
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/node.state.tmp"));
}

TEST_F(NodeStateTest, NoPeerIsSavedAsNoLine) {
  ASSERT_EQ(save_node_state(dir_, {.epoch = 2, .peer = ""}), "");
  NodeState state{.epoch = 1, .peer = "stale"};
  ASSERT_EQ(load_node_state(dir_, &state), "");
  EXPECT_EQ(state.epoch, 2u);
  EXPECT_EQ(state.peer, "");
}

TEST_F(NodeStateTest, DamageIsAnErrorNamingTheFile) {
  NodeState state;
  write("epoch zero\n");
  EXPECT_NE(load_node_state(dir_, &state).find("node.state: bad epoch"), std::string::npos);
  write("epoch 0\n");
  EXPECT_NE(load_node_state(dir_, &state).find("bad epoch"), std::string::npos);
  write("epoch 2\nleader me\n");
  EXPECT_NE(load_node_state(dir_, &state).find("unknown line"), std::string::npos);
}

TEST_F(NodeStateTest, ASaveIntoAMissingFolderFails) {
  EXPECT_NE(save_node_state(dir_ + "/missing", {.epoch = 2, .peer = ""}), "");
}

}  // namespace
}  // namespace smsx::net
