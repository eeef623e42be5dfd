#pragma once
// Shared state of one CLI invocation: global options, lazy config/runtime, exit-code mapping.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pluto/cli/runtime.hpp"
#include "pluto/core/error.hpp"

namespace pluto::cli {

// Exit codes of ARCHITECTURE.md, in one place.
enum ExitCode : int {
  kExitOk = 0,
  kExitFailed = 1,       // the operation failed (bad SQL, failed model…)
  kExitUsage = 2,        // usage or configuration error
  kExitUnavailable = 3,  // cannot reach or open what was asked (file, server, database)
  kExitInterrupted = 130,
};

int exit_code_for(ErrorCode code);

struct GlobalOptions {
  std::string data_dir;
  bool json = false;
  int verbosity = 0;
  std::vector<std::string> sets;  // KEY=VALUE
};

class Context {
 public:
  Context(GlobalOptions& global, const RuntimeFactory& factory) : global_(global), factory_(factory) {}

  GlobalOptions& global() { return global_; }
  bool json() const { return global_.json; }
  // Config overrides from subcommand flags (e.g. --timeout → query.timeout_seconds).
  void set_flag(const std::string& key, const std::string& value, const std::string& origin) {
    flags_[key] = value;
    flag_origins_[key] = origin;
  }
  // Loads config (once), starts logging and builds the runtime.
  Result<Runtime*> runtime();
  Result<const Config*> config();

  // Prints an error (text, or JSON with --json) and returns its exit code.
  int fail(const Error& error);

 private:
  GlobalOptions& global_;
  const RuntimeFactory& factory_;
  std::map<std::string, std::string> flags_;
  std::map<std::string, std::string> flag_origins_;
  std::optional<Config> config_;
  std::unique_ptr<Runtime> runtime_;
};

// One file per subcommand, each with a setup_… function registering it.
using Runner = std::function<int()>;
void setup_version(CLI::App& app, Context& ctx, Runner& run);
void setup_query(CLI::App& app, Context& ctx, Runner& run);
void setup_tables(CLI::App& app, Context& ctx, Runner& run);
void setup_describe(CLI::App& app, Context& ctx, Runner& run);
void setup_config(CLI::App& app, Context& ctx, Runner& run);
void setup_doctor(CLI::App& app, Context& ctx, Runner& run);
void setup_history(CLI::App& app, Context& ctx, Runner& run);
void setup_serve(CLI::App& app, Context& ctx, Runner& run);
// --- more subcommands are declared below (one line each) ---
void setup_ask(CLI::App& app, Context& ctx, Runner& run);
void setup_ingest(CLI::App& app, Context& ctx, Runner& run);
void setup_sources(CLI::App& app, Context& ctx, Runner& run);
void setup_dbt(CLI::App& app, Context& ctx, Runner& run);
void setup_logs(CLI::App& app, Context& ctx, Runner& run);

// Helpers shared by subcommands.
std::string json_quote(std::string_view s);
bool stdout_is_terminal();

}  // namespace pluto::cli
