#pragma once
// Runs the built `needle` binary (NEEDLE_BINARY, set by tests/CMakeLists.txt)
// as a child process, as a user would, for the command-line tests.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sstream>
#include <string>
#include <vector>

#include "tests/test_util.h"

extern char** environ;

namespace needle::testing {

struct NeedleResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Starts `needle args...` with stdout and stderr sent to `dir`/stdout and
// `dir`/stderr, and returns at once (for tests that kill it mid-run).
inline pid_t StartNeedle(const std::vector<std::string>& args,
                         const std::string& dir) {
  std::vector<std::string> argv_storage = {NEEDLE_BINARY};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  argv.reserve(argv_storage.size() + 1);
  for (std::string& arg : argv_storage) argv.push_back(arg.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, (dir + "/stdout").c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, (dir + "/stderr").c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  EXPECT_EQ(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ),
            0);
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

// Runs `needle args...` to the end: its exit code, stdout and stderr.
inline NeedleResult RunNeedle(const std::vector<std::string>& args) {
  const std::string dir = MakeTempDir();
  const pid_t pid = StartNeedle(args, dir);
  int status = 0;
  waitpid(pid, &status, 0);
  NeedleResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = ReadFile(dir + "/stdout");
  result.err = ReadFile(dir + "/stderr");
  return result;
}

// The same with the arguments as one command line, split at spaces: for
// arguments that hold no spaces (paths in temporary folders, flags).
inline NeedleResult RunNeedleLine(const std::string& args) {
  std::vector<std::string> split;
  std::istringstream words(args);
  for (std::string word; words >> word;) split.push_back(word);
  return RunNeedle(split);
}

}  // namespace needle::testing
