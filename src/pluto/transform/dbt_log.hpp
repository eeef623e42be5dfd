#pragma once
// Turns the lines dbt prints with `--log-format json` into Pluto-Duck events and a running summary.
// dbt's structured events carry a stable name and code ("LogModelResult", "Q012"); we map the ones
// that describe node progress to dbt.node_started / dbt.node_finished and the rest to dbt.log.
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pluto::transform {

struct DbtEvent {
  std::string type;  // dbt.node_started, dbt.node_finished, dbt.node_error, dbt.list_item, dbt.log
  nlohmann::json data;
};

// What dbt said during one invocation, collected from its log lines.
struct LogSummary {
  std::string dbt_version;      // "1.11.16"
  std::string adapter_version;  // "duckdb=1.11.1"
  std::string invocation_id;
  std::string main_error;                          // MainEncounteredError: dbt could not run (bad project, profile…)
  std::map<std::string, std::string> node_errors;  // unique_id -> error text (RunResultError)
  std::map<std::string, std::string> compiled_paths;  // unique_id -> compiled SQL file
  std::vector<nlohmann::json> list_items;             // `dbt ls --output json`
  nlohmann::json stats;                               // StatsLine: pass/warn/error/skip/total
  std::vector<std::string> stderr_tail;               // last non-JSON lines (tracebacks)
  std::vector<std::string> error_lines;               // error-level messages, in order
  int nodes_finished = 0;
  int nodes_failed = 0;
};

class LogTranslator {
 public:
  // Translates one stdout line; nullopt for lines that carry nothing worth an event.
  std::optional<DbtEvent> on_stdout(std::string_view line);
  // stderr carries no JSON: Python warnings and tracebacks. Kept (the tail) for error messages.
  std::optional<DbtEvent> on_stderr(std::string_view line);
  const LogSummary& summary() const { return summary_; }

 private:
  LogSummary summary_;
};

// A node status as Pluto-Duck reports it: success, error, fail, warn, pass, skipped, no-op…
std::string normalize_status(std::string_view dbt_status);
// True for statuses that make a run fail (error, fail, runtime error).
bool is_failure_status(std::string_view status);

}  // namespace pluto::transform
