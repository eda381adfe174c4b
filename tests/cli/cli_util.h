// Runs the smsx binary (SMSX_CLI_PATH) as a subprocess and captures what it printed.
//
// The child gets a clean environment: PATH, HOME pointing at an empty temporary folder (so
// no ~/.config/smsx/cli.toml of the machine's user is read), and only the SMSX_* variables
// a test passes. A child still running after 30 s is killed and the test fails.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace smsx::cli_test {

struct CliResult {
  int status = -1;  // exit status; 128 + signal if killed
  std::string out, err;
};

CliResult run_cli(const std::vector<std::string>& args,
                  const std::vector<std::pair<std::string, std::string>>& env = {});

// A file in a fresh temporary folder; the folder is removed when the test process exits.
std::string write_temp_file(const std::string& name, const std::string& text);

}  // namespace smsx::cli_test
