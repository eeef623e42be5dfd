#pragma once
// Runs a child process (the dbt CLI) in its own process group, streams its stdout and stderr line
// by line, and stops it on request: SIGINT to the group, SIGTERM after a grace period, SIGKILL
// after another. The group is signalled so that whatever dbt started goes too, and the child is
// killed (SIGTERM) if this process dies first.
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pluto/core/cancel.hpp"
#include "pluto/core/error.hpp"

namespace pluto::transform {

struct ProcessSpec {
  std::vector<std::string> argv;  // argv[0]: a path, or a name looked up on PATH
  std::filesystem::path cwd;      // empty: inherit
  std::map<std::string, std::string> env_set;
  std::vector<std::string> env_unset;
};

enum class OutputStream { out, err };

struct ProcessOutcome {
  int exit_code = -1;   // when it exited by itself
  int term_signal = 0;  // when a signal ended it
  bool stop_requested = false;
  std::vector<std::string> signals_sent;  // "SIGINT", "SIGTERM", "SIGKILL", in order
};

using LineFn = std::function<void(OutputStream, std::string_view line)>;

// Finds `name` on PATH (or returns it when it contains a '/'); nullopt when not found or not
// executable.
std::optional<std::filesystem::path> find_executable(const std::string& name);

// Starts the process and blocks until it ends, calling `on_line` (on this thread) for every line
// of output. When `stop` fires: SIGINT to the group, SIGTERM after `grace`, SIGKILL after 2×grace.
// Errors are only for failing to start it; a non-zero exit is an outcome.
Result<ProcessOutcome> run_process(const ProcessSpec& spec, const LineFn& on_line,
                                   const std::shared_ptr<CancelToken>& stop, std::chrono::milliseconds grace);

// Runs a short command and returns its stdout (for version probes); fails on a non-zero exit.
Result<std::string> capture_output(const ProcessSpec& spec, std::chrono::milliseconds timeout);

}  // namespace pluto::transform
