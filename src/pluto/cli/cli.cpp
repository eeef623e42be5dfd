#include "pluto/cli/cli.hpp"

#include <unistd.h>

#include <iostream>

#include "pluto/cli/context.hpp"
#include "pluto/core/json_escape.hpp"
#include "pluto/core/log.hpp"

namespace pluto::cli {

int exit_code_for(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_argument:
    case ErrorCode::invalid_config: return kExitUsage;
    case ErrorCode::sql_error:
    case ErrorCode::not_found:
    case ErrorCode::conflict:
    case ErrorCode::too_large:
    case ErrorCode::timed_out:
    case ErrorCode::internal: return kExitFailed;
    case ErrorCode::unavailable:
    case ErrorCode::locked:
    case ErrorCode::permission_denied:
    case ErrorCode::unauthenticated: return kExitUnavailable;
    case ErrorCode::cancelled: return kExitInterrupted;
  }
  return kExitFailed;
}

std::string json_quote(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

bool stdout_is_terminal() {
  return ::isatty(STDOUT_FILENO) == 1;
}

Result<const Config*> Context::config() {
  if (config_) return &*config_;
  ConfigLoadOptions opts;
  if (!global_.data_dir.empty()) opts.data_dir = global_.data_dir;
  opts.flag_overrides = flags_;
  opts.flag_origins = flag_origins_;
  for (const auto& kv : global_.sets) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Error(ErrorCode::invalid_argument, "--set expects KEY=VALUE, got '" + kv + "'",
                   "for example --set query.timeout_seconds=60");
    }
    const auto key = kv.substr(0, eq);
    if (opts.flag_overrides.count(key) == 0) {
      opts.flag_overrides[key] = kv.substr(eq + 1);
      opts.flag_origins[key] = "--set " + key;
    }
  }
  PLUTO_ASSIGN_OR_RETURN(auto cfg, Config::load(opts));
  config_ = std::move(cfg);

  log::Options lo;
  lo.file = config_->data_dir() / "logs" / "pluto-duck.log";
  lo.file_level = log::parse_level(config_->get("log.level")).value();
  lo.stderr_level = global_.verbosity >= 3   ? log::Level::trace
                    : global_.verbosity == 2 ? log::Level::debug
                    : global_.verbosity == 1 ? log::Level::info
                                             : log::Level::warn;
  lo.max_file_bytes = static_cast<size_t>(config_->get_int("log.max_file_mb")) << 20U;
  lo.max_files = static_cast<size_t>(config_->get_int("log.max_files"));
  PLUTO_TRY(log::init(lo));
  for (const auto& w : config_->warnings()) log::warn(w);
  return &*config_;
}

Result<Runtime*> Context::runtime() {
  if (runtime_) return runtime_.get();
  PLUTO_ASSIGN_OR_RETURN(const Config* cfg, config());
  PLUTO_ASSIGN_OR_RETURN(runtime_, factory_(*cfg));
  return runtime_.get();
}

int Context::fail(const Error& error) {
  if (global_.json) {
    std::string out = "{\"error\":{\"code\":" + json_quote(to_string(error.code)) +
                      ",\"message\":" + json_quote(error.message) + ",\"hint\":" + json_quote(error.hint) + "}}\n";
    std::fputs(out.c_str(), stderr);
  } else {
    std::fprintf(stderr, "error: %s\n", error.message.c_str());
    if (!error.hint.empty()) std::fprintf(stderr, "hint: %s\n", error.hint.c_str());
  }
  return exit_code_for(error.code);
}

int run(int argc, char** argv, const RuntimeFactory& factory) {
  CLI::App app{"pluto-duck: a local-first analytics studio around an embedded DuckDB warehouse", "pluto-duck"};
  app.require_subcommand(1);
  app.set_version_flag("--version", [] { return std::string("pluto-duck " PLUTO_VERSION); });
  GlobalOptions global;
  app.add_option("--data-dir", global.data_dir, "data directory (default: $PLUTODUCK_DATA_DIR or ~/.pluto-duck)")
      ->type_name("DIR");
  app.add_flag("--json", global.json, "machine-readable JSON output");
  app.add_flag("-v,--verbose", global.verbosity, "more log output on stderr (repeat for more)");
  app.add_option("--set", global.sets, "override a setting, e.g. --set query.max_rows=500")->type_name("KEY=VALUE");

  Context ctx(global, factory);
  Runner runner;
  setup_version(app, ctx, runner);
  setup_query(app, ctx, runner);
  setup_tables(app, ctx, runner);
  setup_describe(app, ctx, runner);
  setup_config(app, ctx, runner);
  setup_doctor(app, ctx, runner);
  setup_history(app, ctx, runner);
  setup_serve(app, ctx, runner);
  // --- more subcommands are registered below (one line each) ---
  setup_ask(app, ctx, runner);
  setup_ingest(app, ctx, runner);
  setup_sources(app, ctx, runner);
  setup_dbt(app, ctx, runner);
  setup_logs(app, ctx, runner);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : kExitUsage;
  }
  const int rc = runner ? runner() : kExitUsage;
  std::fflush(stdout);
  log::shutdown();
  return rc;
}

}  // namespace pluto::cli
