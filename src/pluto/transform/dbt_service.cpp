#include "pluto/transform/dbt_service.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <deque>
#include <fstream>
#include <map>
#include <sstream>

#include "pluto/core/clock.hpp"
#include "pluto/core/log.hpp"
#include "pluto/jobs/job_runner.hpp"
#include "pluto/store/store.hpp"
#include "pluto/transform/dbt_log.hpp"
#include "pluto/transform/process.hpp"
#include "pluto/warehouse/warehouse.hpp"

#ifndef PLUTO_DEFAULT_DBT_EXECUTABLE
#define PLUTO_DEFAULT_DBT_EXECUTABLE ""
#endif
#ifndef PLUTO_DBT_STARTER_DIR
#define PLUTO_DBT_STARTER_DIR ""
#endif
#ifndef PLUTO_DBT_CORE_VERSION
#define PLUTO_DBT_CORE_VERSION ""
#endif
#ifndef PLUTO_DBT_DUCKDB_VERSION
#define PLUTO_DBT_DUCKDB_VERSION ""
#endif
#ifndef PLUTO_DBT_PY_DUCKDB_VERSION
#define PLUTO_DBT_PY_DUCKDB_VERSION ""
#endif

namespace pluto::transform {
namespace fs = std::filesystem;

namespace {

constexpr const char* kProfileName = "pluto_duck";
constexpr const char* kTargetName = "warehouse";
constexpr size_t kMaxMessage = 4000;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string trim(std::string_view s) {
  size_t b = 0;
  size_t e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b])) != 0) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1])) != 0) --e;
  return std::string(s.substr(b, e - b));
}

std::vector<std::string> split_ws(std::string_view s) {
  std::vector<std::string> out;
  std::istringstream in{std::string(s)};
  std::string tok;
  while (in >> tok) out.push_back(tok);
  return out;
}

std::string clip(std::string s, size_t max = kMaxMessage) {
  if (s.size() > max) {
    s.resize(max);
    s += "…";
  }
  return s;
}

std::string install_hint() {
  return std::string("run scripts/setup (it installs dbt-core ") + PLUTO_DBT_CORE_VERSION + " and dbt-duckdb " +
         PLUTO_DBT_DUCKDB_VERSION + " into .venv), or `pip install dbt-core==" + PLUTO_DBT_CORE_VERSION +
         " dbt-duckdb==" + PLUTO_DBT_DUCKDB_VERSION + " duckdb==" + PLUTO_DBT_PY_DUCKDB_VERSION +
         "` and set dbt.executable (PLUTODUCK_DBT__EXECUTABLE) to its dbt";
}

std::string str(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

Result<std::vector<std::string>> selectors(const nlohmann::json& v, const char* field) {
  std::vector<std::string> out;
  if (v.is_string()) {
    out = split_ws(v.get<std::string>());
  } else if (v.is_array()) {
    for (const auto& x : v) {
      if (!x.is_string()) {
        return Error(ErrorCode::invalid_argument, std::string("\"") + field + "\" must hold strings",
                     "e.g. \"" + std::string(field) + "\": [\"marts\", \"+fct_orders\"]");
      }
      for (auto& tok : split_ws(x.get<std::string>())) out.push_back(std::move(tok));
    }
  } else if (!v.is_null()) {
    return Error(ErrorCode::invalid_argument, std::string("\"") + field + "\" must be a string or an array of strings",
                 "e.g. \"" + std::string(field) + "\": \"marts +fct_orders\"");
  }
  for (const auto& s : out) {
    // A selector never starts with '-': refusing it keeps the request from passing dbt options.
    if (!s.empty() && s.front() == '-') {
      return Error(ErrorCode::invalid_argument, std::string("invalid selector '") + s + "' in \"" + field + "\"",
                   "selectors name nodes, paths, tags… (e.g. marts, +fct_orders, tag:nightly), not options");
    }
  }
  return out;
}

// What to call a node in messages: "model fct_orders".
std::string node_label(const NodeResult& n) {
  return n.resource_type + " " + n.name;
}

// resource_type and name from a unique_id ("model.pkg.name", "test.pkg.name.hash").
void fill_from_unique_id(NodeResult& n) {
  std::vector<std::string> parts;
  std::string cur;
  for (char c : n.unique_id) {
    if (c == '.') {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  parts.push_back(cur);
  if (n.resource_type.empty() && !parts.empty()) n.resource_type = parts[0];
  if (n.name.empty() && parts.size() >= 3) n.name = parts[2];
}

Status write_atomically(const fs::path& path, const std::string& content, const std::string& tag) {
  const fs::path tmp = path.string() + ".tmp-" + tag;
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) {
      return Error(ErrorCode::unavailable, "cannot write " + tmp.string(), "check that the data dir is writable");
    }
    out << content;
    if (!out.good()) return Error(ErrorCode::unavailable, "cannot write " + tmp.string());
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return Error(ErrorCode::unavailable, "cannot write " + path.string() + ": " + ec.message());
  return {};
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A YAML scalar: JSON strings are valid YAML, with every character escaped.
std::string yaml_string(const std::string& s) {
  return nlohmann::json(s).dump();
}

// The newest other run folder that left dbt's partial-parse state; dbt checks it and reparses
// what changed, which keeps a per-run target path as fast as dbt's own target/.
std::optional<fs::path> latest_partial_parse(const fs::path& runs_dir, const std::string& except) {
  std::error_code ec;
  std::vector<std::string> names;
  for (fs::directory_iterator it(runs_dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory(ec)) names.push_back(it->path().filename().string());
  }
  std::sort(names.rbegin(), names.rend());
  for (const auto& n : names) {
    if (n == except) continue;
    const auto p = runs_dir / n / "partial_parse.msgpack";
    if (fs::exists(p, ec)) return p;
  }
  return std::nullopt;
}

// Node results from run_results.json, completed from the manifest and the log.
std::vector<NodeResult> read_run_results(const fs::path& path, const ProjectCatalog* catalog,
                                         const LogSummary& summary) {
  std::vector<NodeResult> out;
  std::ifstream in(path, std::ios::binary);
  if (!in) return out;
  auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.contains("results") || !j["results"].is_array()) return out;
  for (const auto& r : j["results"]) {
    NodeResult n;
    n.unique_id = str(r, "unique_id");
    if (n.unique_id.empty()) continue;
    n.status = normalize_status(str(r, "status"));
    if (r.contains("execution_time") && r["execution_time"].is_number()) {
      n.execution_time = r["execution_time"].get<double>();
    }
    if (r.contains("timing") && r["timing"].is_array()) {
      for (const auto& t : r["timing"]) {
        if (n.started_at.empty()) n.started_at = str(t, "started_at");
        if (!str(t, "completed_at").empty()) n.completed_at = str(t, "completed_at");
      }
    }
    n.message = str(r, "message");
    if (r.contains("failures") && r["failures"].is_number_integer()) n.failures = r["failures"].get<int64_t>();
    n.relation_name = str(r, "relation_name");
    if (catalog != nullptr) {
      if (const auto* node = catalog->find(n.unique_id); node != nullptr && node->unique_id == n.unique_id) {
        n.name = node->name;
        n.resource_type = node->resource_type;
        n.compiled_path = node->compiled_path;
        if (n.relation_name.empty()) n.relation_name = node->relation_name;
      }
    }
    if (auto it = summary.compiled_paths.find(n.unique_id); it != summary.compiled_paths.end()) {
      n.compiled_path = it->second;
    }
    if (auto it = summary.node_errors.find(n.unique_id); it != summary.node_errors.end() && n.message.empty()) {
      n.message = it->second;
    }
    fill_from_unique_id(n);
    out.push_back(std::move(n));
  }
  return out;
}

// Classifies a run that dbt could not carry out (exit code 2: bad project, profile, lock…).
Error dbt_could_not_run(const std::string& command, const fs::path& project, const std::string& dbt_message) {
  const std::string msg = clip(trim(dbt_message));
  const auto l = lower(msg);
  if (l.find("could not set lock") != std::string::npos || l.find("conflicting lock") != std::string::npos) {
    return Error(ErrorCode::locked, "dbt could not open the warehouse: " + msg,
                 "another process holds the DuckDB file; run dbt through the pluto-duck server that has it open "
                 "(POST /api/v1/dbt/run) or stop that process");
  }
  if (l.find("profile") != std::string::npos && l.find("project") == std::string::npos) {
    return Error(ErrorCode::invalid_config, "dbt rejected the profile Pluto-Duck wrote: " + msg,
                 "check warehouse.path and the dbt.* settings (pluto-duck config show)");
  }
  return Error(ErrorCode::invalid_config,
               "dbt could not " + command + " the project at " + project.string() + ": " + msg,
               "fix the dbt project (dbt's message names the file), or point dbt.project_dir at another project");
}

// The dbt command line: the request's arguments, then our profile, target path and JSON logs.
ProcessSpec dbt_invocation(const DbtRequest& request, const fs::path& exe, const fs::path& project,
                           const fs::path& profiles_dir, const fs::path& run_dir) {
  ProcessSpec spec;
  spec.argv = {exe.string()};
  for (auto& a : request.dbt_args()) spec.argv.push_back(std::move(a));
  const std::vector<std::string> ours = {"--project-dir",  project.string(), "--profiles-dir", profiles_dir.string(),
                                         "--profile",      kProfileName,     "--target",       kTargetName,
                                         "--target-path",  run_dir.string(), "--log-path",     run_dir.string(),
                                         "--log-format",   "json",           "--log-level",    "info",
                                         "--no-use-colors"};
  spec.argv.insert(spec.argv.end(), ours.begin(), ours.end());
  spec.cwd = project;
  // No usage tracking (nothing leaves the machine), unbuffered lines; the user's DBT_* settings
  // must not redirect the profile, artifacts or log format we rely on.
  spec.env_set = {{"DBT_SEND_ANONYMOUS_USAGE_STATS", "false"},
                  {"DO_NOT_TRACK", "1"},
                  {"PYTHONUNBUFFERED", "1"},
                  {"PYTHONIOENCODING", "utf-8"}};
  spec.env_unset = {"DBT_PROFILES_DIR", "DBT_PROJECT_DIR", "DBT_TARGET_PATH", "DBT_LOG_PATH",
                    "DBT_LOG_FORMAT",   "DBT_LOG_LEVEL",   "DBT_QUIET",       "DBT_PRINTER_WIDTH"};
  return spec;
}

// A node result from a dbt.node_finished event (used when dbt leaves no run_results.json).
NodeResult node_from_event(const nlohmann::json& d) {
  NodeResult n;
  n.unique_id = str(d, "unique_id");
  n.name = str(d, "name");
  n.resource_type = str(d, "resource_type");
  n.status = str(d, "status");
  if (d.contains("execution_time") && d["execution_time"].is_number())
    n.execution_time = d["execution_time"].get<double>();
  n.started_at = str(d, "started_at");
  n.completed_at = str(d, "finished_at");
  n.message = str(d, "message");
  n.relation_name = str(d, "relation_name");
  return n;
}

// How a finished dbt process ended, from its exit, its nodes and what it logged; nullopt: success.
std::optional<Error> judge_exit(const DbtRun& rec, const ProcessOutcome& outcome, const LogSummary& summary,
                                const fs::path& project, const fs::path& run_dir) {
  std::vector<const NodeResult*> failed;
  for (const auto& n : rec.nodes) {
    if (is_failure_status(n.status)) failed.push_back(&n);
  }
  if (outcome.exit_code == 0 && failed.empty()) return std::nullopt;
  if (!failed.empty() || outcome.exit_code == 1) {
    std::string msg = "dbt " + rec.command + " failed: ";
    if (failed.empty()) {
      msg += summary.error_lines.empty() ? std::string("dbt reported errors") : clip(summary.error_lines.back());
    } else {
      msg += std::to_string(failed.size()) + " of " + std::to_string(rec.nodes.size()) + " nodes failed; first " +
             node_label(*failed.front()) + ": " + clip(trim(failed.front()->message));
    }
    std::string hint = "node results: GET /api/v1/dbt/runs/" + rec.run_id + " (or pluto-duck --json dbt …)";
    if (!failed.empty() && !failed.front()->compiled_path.empty()) {
      hint = "compiled SQL of " + failed.front()->name + ": " + failed.front()->compiled_path + "; " + hint;
    }
    return Error(ErrorCode::sql_error, msg, hint);
  }
  if (!summary.main_error.empty()) return dbt_could_not_run(rec.command, project, summary.main_error);
  std::string tail;
  for (const auto& l : summary.stderr_tail) tail += l + "\n";
  if (tail.empty() && !summary.error_lines.empty()) tail = summary.error_lines.back();
  const std::string how = outcome.term_signal != 0 ? "was killed by signal " + std::to_string(outcome.term_signal)
                                                   : "exited with code " + std::to_string(outcome.exit_code);
  return Error(ErrorCode::internal, "dbt " + how + (tail.empty() ? std::string() : ": " + clip(trim(tail))),
               "check the dbt installation with pluto-duck doctor; dbt's log: " + (run_dir / "dbt.log").string());
}

}  // namespace

// ---- commands and requests ------------------------------------------------------------------

std::string_view to_string(DbtCommand command) {
  switch (command) {
    case DbtCommand::run: return "run";
    case DbtCommand::test: return "test";
    case DbtCommand::build: return "build";
    case DbtCommand::seed: return "seed";
    case DbtCommand::ls: return "ls";
    case DbtCommand::parse: return "parse";
  }
  return "build";
}

Result<DbtCommand> parse_command(std::string_view name) {
  for (auto c :
       {DbtCommand::run, DbtCommand::test, DbtCommand::build, DbtCommand::seed, DbtCommand::ls, DbtCommand::parse}) {
    if (to_string(c) == name) return c;
  }
  return Error(ErrorCode::invalid_argument, "unknown dbt command '" + std::string(name) + "'",
               "use one of run, test, build, seed");
}

bool needs_warehouse(DbtCommand command) {
  switch (command) {
    case DbtCommand::run:
    case DbtCommand::test:
    case DbtCommand::build:
    case DbtCommand::seed: return true;
    case DbtCommand::ls:
    case DbtCommand::parse: return false;
  }
  return true;
}

Result<DbtRequest> DbtRequest::from_json(const nlohmann::json& body, const std::vector<DbtCommand>& allowed) {
  if (!body.is_object()) {
    return Error(ErrorCode::invalid_argument, "the dbt request must be a JSON object",
                 "e.g. {\"command\": \"build\", \"select\": \"marts\"}");
  }
  std::string allowed_names;
  for (auto c : allowed) allowed_names += (allowed_names.empty() ? "" : ", ") + std::string(to_string(c));
  for (const auto& [key, value] : body.items()) {
    static const std::set<std::string> known = {"command", "select", "exclude", "vars", "full_refresh", "wait"};
    if (known.count(key) == 0) {
      return Error(ErrorCode::invalid_argument, "unknown field \"" + key + "\" in the dbt request",
                   "allowed fields: command, select, exclude, vars, full_refresh, wait");
    }
  }
  DbtRequest r;
  if (!body.contains("command") || !body["command"].is_string()) {
    return Error(ErrorCode::invalid_argument, "the dbt request needs \"command\" (a string)",
                 "one of " + allowed_names);
  }
  const auto name = body["command"].get<std::string>();
  auto cmd = parse_command(name);
  if (!cmd.ok() || std::find(allowed.begin(), allowed.end(), cmd.value()) == allowed.end()) {
    return Error(ErrorCode::invalid_argument, "unknown dbt command '" + name + "'", "use one of " + allowed_names);
  }
  r.command = cmd.value();
  if (body.contains("select")) {
    PLUTO_ASSIGN_OR_RETURN(r.select, selectors(body["select"], "select"));
  }
  if (body.contains("exclude")) {
    PLUTO_ASSIGN_OR_RETURN(r.exclude, selectors(body["exclude"], "exclude"));
  }
  if (body.contains("vars")) {
    const auto& v = body["vars"];
    if (v.is_object()) {
      if (!v.empty()) r.vars = v.dump();
    } else if (v.is_string()) {
      r.vars = trim(v.get<std::string>());
    } else if (!v.is_null()) {
      return Error(ErrorCode::invalid_argument, "\"vars\" must be an object or a YAML/JSON string",
                   "e.g. \"vars\": {\"start_date\": \"2024-01-01\"}");
    }
  }
  for (const char* flag : {"full_refresh", "wait"}) {
    if (!body.contains(flag) || body[flag].is_null()) continue;
    if (!body[flag].is_boolean()) {
      return Error(ErrorCode::invalid_argument, std::string("\"") + flag + "\" must be true or false");
    }
    (std::string(flag) == "wait" ? r.wait : r.full_refresh) = body[flag].get<bool>();
  }
  if (r.full_refresh && (r.command == DbtCommand::test || !needs_warehouse(r.command))) {
    return Error(ErrorCode::invalid_argument, "\"full_refresh\" does not apply to dbt " + name,
                 "use it with run, build or seed");
  }
  return r;
}

nlohmann::json DbtRequest::to_json() const {
  nlohmann::json j{{"command", to_string(command)}, {"select", select}, {"exclude", exclude}};
  j["vars"] = vars.empty() ? nlohmann::json() : nlohmann::json(vars);
  j["full_refresh"] = full_refresh;
  return j;
}

std::vector<std::string> DbtRequest::dbt_args() const {
  std::vector<std::string> a{std::string(to_string(command))};
  if (command == DbtCommand::ls) {
    a.insert(a.end(), {"--output", "json"});
  }
  if (!select.empty()) {
    a.emplace_back("--select");
    a.insert(a.end(), select.begin(), select.end());
  }
  if (!exclude.empty()) {
    a.emplace_back("--exclude");
    a.insert(a.end(), exclude.begin(), exclude.end());
  }
  if (!vars.empty()) a.insert(a.end(), {"--vars", vars});
  if (full_refresh) a.emplace_back("--full-refresh");
  return a;
}

// ---- options, installation, profile, project ------------------------------------------------

fs::path DbtOptions::default_executable() {
  return PLUTO_DEFAULT_DBT_EXECUTABLE;
}
fs::path DbtOptions::default_starter_dir() {
  return PLUTO_DBT_STARTER_DIR;
}

DbtOptions DbtOptions::from_config(const Config& config) {
  DbtOptions o;
  o.data_dir = config.data_dir();
  o.executable = config.get("dbt.executable");
  o.default_project_dir = config.data_dir() / "dbt";
  o.project_dir = config.get("dbt.project_dir");
  if (o.project_dir.empty()) o.project_dir = o.default_project_dir;
  o.project_dir = fs::absolute(o.project_dir).lexically_normal();
  o.starter_dir = default_starter_dir();
  o.artifacts_dir = config.data_dir() / "dbt" / "target";
  o.warehouse_path = config.get("warehouse.path");
  o.extension_directory = config.get("warehouse.extension_directory");
  o.memory_limit = config.get("warehouse.memory_limit");
  o.duckdb_threads = config.get_int("warehouse.threads");
  o.threads = config.get_int("dbt.threads");
  o.timeout = std::chrono::seconds(config.get_int("dbt.timeout_seconds"));
  o.grace = std::chrono::seconds(config.get_int("dbt.cancel_grace_seconds"));
  o.keep_runs = config.get_int("dbt.keep_runs");
  return o;
}

Result<fs::path> locate_dbt(const DbtOptions& options) {
  if (!options.executable.empty()) {
    if (auto p = find_executable(options.executable)) return fs::absolute(*p);
    return Error(ErrorCode::unavailable,
                 "dbt not found: dbt.executable is '" + options.executable + "', which is not an executable file",
                 install_hint());
  }
  const auto def = DbtOptions::default_executable();
  if (!def.empty()) {
    if (auto p = find_executable(def.string())) return *p;
  }
  if (auto p = find_executable("dbt")) return *p;
  return Error(ErrorCode::unavailable,
               "dbt is not installed: neither " + (def.empty() ? std::string("the bundled .venv") : def.string()) +
                   " nor dbt on PATH exists",
               install_hint());
}

DbtVersions pinned_versions() {
  return {PLUTO_DBT_CORE_VERSION, PLUTO_DBT_DUCKDB_VERSION, PLUTO_DBT_PY_DUCKDB_VERSION};
}

Result<DbtVersions> probe_versions(const fs::path& dbt_executable) {
  // A pip-installed dbt is a Python script: ask its interpreter for the package versions, which
  // is fast and offline (`dbt --version` looks up the latest release on the network).
  std::ifstream in(dbt_executable, std::ios::binary);
  std::string first;
  std::getline(in, first);
  if (first.rfind("#!", 0) == 0 && first.find("python") != std::string::npos) {
    ProcessSpec spec;
    spec.argv = split_ws(first.substr(2));
    spec.argv.insert(spec.argv.end(), {"-c",
                                       "import importlib.metadata as m\n"
                                       "def v(n):\n"
                                       "    try:\n"
                                       "        return m.version(n)\n"
                                       "    except Exception:\n"
                                       "        return ''\n"
                                       "print(v('dbt-core')); print(v('dbt-duckdb')); print(v('duckdb'))\n"});
    auto out = capture_output(spec, std::chrono::seconds(30));
    if (out.ok()) {
      std::istringstream lines(out.value());
      DbtVersions v;
      std::getline(lines, v.dbt_core);
      std::getline(lines, v.dbt_duckdb);
      std::getline(lines, v.duckdb);
      if (!v.dbt_core.empty()) return v;
    }
  }
  ProcessSpec spec;
  spec.argv = {dbt_executable.string(), "--version"};
  spec.env_set = {{"DBT_SEND_ANONYMOUS_USAGE_STATS", "false"}, {"DO_NOT_TRACK", "1"}};
  PLUTO_ASSIGN_OR_RETURN(auto text, capture_output(spec, std::chrono::seconds(60)));
  DbtVersions v;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    const auto t = trim(line);
    if (t.rfind("- installed:", 0) == 0) v.dbt_core = trim(t.substr(12));
    if (t.rfind("- duckdb:", 0) == 0) v.dbt_duckdb = trim(split_ws(t.substr(9)).front());
    if (t.rfind("installed version:", 0) == 0) v.dbt_core = trim(t.substr(18));
  }
  if (v.dbt_core.empty()) {
    return Error(ErrorCode::unavailable, dbt_executable.string() + " --version did not report a dbt-core version",
                 install_hint());
  }
  return v;
}

std::string render_profile(const DbtOptions& o) {
  std::string y;
  y += "# Written by pluto-duck before every dbt run (do not edit: it is rewritten). The target is the\n";
  y += "# warehouse DuckDB file; extensions load from Pluto-Duck's directory and are never downloaded.\n";
  y += std::string(kProfileName) + ":\n";
  y += "  target: " + std::string(kTargetName) + "\n";
  y += "  outputs:\n";
  y += "    " + std::string(kTargetName) + ":\n";
  y += "      type: duckdb\n";
  y += "      path: " + yaml_string(o.warehouse_path) + "\n";
  y += "      threads: " + std::to_string(o.threads) + "\n";
  y += "      settings:\n";
  y += "        autoinstall_known_extensions: false\n";
  if (!o.extension_directory.empty()) y += "        extension_directory: " + yaml_string(o.extension_directory) + "\n";
  if (!o.memory_limit.empty()) y += "        memory_limit: " + yaml_string(o.memory_limit) + "\n";
  if (o.duckdb_threads > 0) y += "        threads: " + std::to_string(o.duckdb_threads) + "\n";
  return y;
}

Result<fs::path> prepare_project(const DbtOptions& o) {
  std::error_code ec;
  const fs::path project = o.project_dir;
  if (fs::exists(project / "dbt_project.yml", ec)) return project;
  const bool is_default = project == fs::absolute(o.default_project_dir).lexically_normal();
  if (!is_default) {
    return Error(ErrorCode::invalid_config, "no dbt project at " + project.string() + " (no dbt_project.yml)",
                 "point dbt.project_dir at a folder with a dbt_project.yml, or unset it to use the starter project");
  }
  if (o.starter_dir.empty() || !fs::exists(o.starter_dir / "dbt_project.yml", ec)) {
    return Error(ErrorCode::unavailable,
                 "the starter dbt project is missing (looked in " + o.starter_dir.string() + ")",
                 "set dbt.project_dir to your dbt project");
  }
  fs::create_directories(project, ec);
  if (ec) {
    return Error(ErrorCode::unavailable, "cannot create " + project.string() + ": " + ec.message(),
                 "check that the data dir is writable");
  }
  // skip_existing: a file the user already has is never overwritten. Symlinks are followed, so
  // the seeds are copied as files.
  fs::copy(o.starter_dir, project, fs::copy_options::recursive | fs::copy_options::skip_existing, ec);
  if (ec) {
    return Error(ErrorCode::unavailable,
                 "cannot copy the starter dbt project to " + project.string() + ": " + ec.message(),
                 "check that the data dir is writable");
  }
  log::info("copied the starter dbt project", {{"from", o.starter_dir.string()}, {"to", project.string()}});
  return project;
}

nlohmann::json Submission::to_json() const {
  return {{"run_id", run_id}, {"job_id", job_id}, {"stream", stream}, {"events_url", events_url}, {"status", status}};
}

// ---- the service ----------------------------------------------------------------------------

DbtService::DbtService(DbtOptions options, store::Store& store, WarehouseProvider warehouse, jobs::JobRunner& jobs)
    : options_(std::move(options)), store_(store), warehouse_(std::move(warehouse)), jobs_(jobs), runs_(store) {}

DbtService::~DbtService() = default;

Result<std::unique_ptr<DbtService>> DbtService::create(DbtOptions options, store::Store& store,
                                                       warehouse::Warehouse& warehouse, jobs::JobRunner& jobs) {
  return create(
      std::move(options), store, [&warehouse]() -> Result<warehouse::Warehouse*> { return &warehouse; }, jobs);
}

Result<std::unique_ptr<DbtService>> DbtService::create(DbtOptions options, store::Store& store,
                                                       WarehouseProvider warehouse, jobs::JobRunner& jobs) {
  PLUTO_TRY(RunStore::migrate(store));
  return std::unique_ptr<DbtService>(new DbtService(std::move(options), store, std::move(warehouse), jobs));
}

std::optional<std::string> DbtService::active_run() {
  for (auto it = active_.begin(); it != active_.end();) {
    auto info = jobs_.get(*it);
    if (!info.ok() || jobs::is_final(info->status)) {
      it = active_.erase(it);
    } else {
      return *it;
    }
  }
  return std::nullopt;
}

Result<Submission> DbtService::submit(DbtRequest request) {
  PLUTO_TRY(locate_dbt(options_));
  PLUTO_TRY(prepare_project(options_));
  if (request.run_id.empty()) request.run_id = new_id();
  const bool exclusive = needs_warehouse(request.command);

  DbtRun rec;
  rec.run_id = request.run_id;
  rec.command = std::string(to_string(request.command));
  rec.args = request.to_json();
  rec.status = "queued";
  rec.origin = request.origin;
  rec.project_dir = options_.project_dir.string();
  rec.artifacts_dir = (options_.artifacts_dir / "runs" / rec.run_id).string();
  rec.submitted_at = now_rfc3339();

  jobs::JobSpec spec;
  spec.id = request.run_id;
  spec.kind = "dbt";
  spec.origin = request.origin;
  spec.access = exclusive ? jobs::Access::exclusive : jobs::Access::none;
  spec.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(options_.timeout);
  spec.params = request.to_json();
  {
    std::lock_guard lock(mu_);
    if (exclusive && !request.wait) {
      if (auto other = active_run()) {
        return Error(ErrorCode::conflict, "another dbt run (" + *other + ") is queued or running",
                     "wait for it (GET /api/v1/dbt/runs/" + *other + ") or send \"wait\": true to queue behind it");
      }
      if (jobs_.gate().exclusive_held()) {
        return Error(ErrorCode::conflict, "another job has the warehouse to itself",
                     "try again when it finishes, or send \"wait\": true to queue behind it");
      }
    }
    PLUTO_TRY(runs_.save(rec));
    if (exclusive) active_.insert(rec.run_id);
  }
  auto info = jobs_.submit(std::move(spec), [this, request](jobs::JobContext& ctx) { return run(request, ctx); });
  Submission s;
  s.run_id = rec.run_id;
  s.job_id = info.id;
  s.stream = info.stream;
  s.events_url = "/api/v1/jobs/" + info.id + "/events";
  s.status = std::string(jobs::to_string(info.status));
  return s;
}

Result<nlohmann::json> DbtService::run(const DbtRequest& request, jobs::JobContext& ctx) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::string run_id = ctx.id();
  DbtRun rec;
  if (auto existing = runs_.get(run_id); existing.ok() && existing.value()) {
    rec = std::move(*existing.value());
  } else {
    rec.run_id = run_id;
    rec.command = std::string(to_string(request.command));
    rec.args = request.to_json();
    rec.origin = request.origin;
    rec.submitted_at = now_rfc3339();
  }
  rec.status = "running";
  rec.started_at = now_rfc3339();
  rec.project_dir = options_.project_dir.string();
  const fs::path run_dir = options_.artifacts_dir / "runs" / run_id;
  rec.artifacts_dir = run_dir.string();

  // Ends the run record (and the job) with an error before dbt started.
  auto fail_early = [&](Error err) -> Result<nlohmann::json> {
    rec.status = err.code == ErrorCode::cancelled ? "cancelled" : "failed";
    rec.finished_at = now_rfc3339();
    rec.duration_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    rec.error = err;
    (void)runs_.save(rec);
    return err;
  };

  auto exe = locate_dbt(options_);
  if (!exe.ok()) return fail_early(exe.take_error());
  auto project = prepare_project(options_);
  if (!project.ok()) return fail_early(project.take_error());
  if (needs_warehouse(request.command) && (options_.warehouse_path.empty() || options_.warehouse_path == ":memory:")) {
    return fail_early(
        Error(ErrorCode::invalid_config,
              "dbt needs the warehouse in a file, but warehouse.path is '" + options_.warehouse_path + "'",
              "set warehouse.path to a .duckdb file"));
  }
  std::error_code ec;
  const fs::path profiles_dir = options_.artifacts_dir / "profiles";
  fs::create_directories(run_dir, ec);
  fs::create_directories(profiles_dir, ec);
  if (ec) {
    return fail_early(Error(ErrorCode::unavailable, "cannot create " + run_dir.string() + ": " + ec.message(),
                            "check that the data dir is writable"));
  }
  if (auto st = write_atomically(profiles_dir / "profiles.yml", render_profile(options_), run_id); !st.ok()) {
    return fail_early(st.take_error());
  }
  if (auto pp = latest_partial_parse(options_.artifacts_dir / "runs", run_id)) {
    fs::copy_file(*pp, run_dir / "partial_parse.msgpack", fs::copy_options::overwrite_existing, ec);
  }
  (void)runs_.save(rec);

  const ProcessSpec spec = dbt_invocation(request, exe.value(), project.value(), profiles_dir, run_dir);
  std::vector<std::string> shown(spec.argv.begin() + 1, spec.argv.end());
  ctx.emit("dbt.invocation", {{"run_id", run_id},
                              {"command", rec.command},
                              {"executable", exe.value().string()},
                              {"args", shown},
                              {"project_dir", project.value().string()},
                              {"artifacts_dir", run_dir.string()}});

  // The dbt CLI opens the DuckDB file itself: give it up for the run, and take it back on every
  // path (success, failure, cancel, timeout) — the guard covers the paths that return early.
  struct Reopen {
    warehouse::Warehouse* wh = nullptr;
    ~Reopen() {
      if (wh != nullptr && !wh->is_open()) (void)wh->reopen();
    }
  } reopen_guard;
  warehouse::Warehouse* wh = nullptr;
  if (needs_warehouse(request.command)) {
    auto opened = warehouse_();
    if (!opened.ok()) return fail_early(opened.take_error());
    wh = opened.value();
    wh->close();
    reopen_guard.wh = wh;
    ctx.emit("dbt.warehouse", {{"state", "closed"}, {"reason", "dbt " + rec.command + " has the warehouse to itself"}});
  }

  LogTranslator translator;
  std::vector<NodeResult> streamed;  // results seen in the log, for runs that leave no run_results.json
  int64_t total = 0;
  LineFn on_line = [&](OutputStream which, std::string_view line) {
    auto ev = which == OutputStream::out ? translator.on_stdout(line) : translator.on_stderr(line);
    if (!ev) return;
    if (ev->type == "dbt.node_finished") {
      streamed.push_back(node_from_event(ev->data));
      if (ev->data.contains("total") && ev->data["total"].is_number_integer()) total = ev->data["total"].get<int64_t>();
      if (total > 0) ctx.set_progress(static_cast<double>(streamed.size()) / static_cast<double>(total));
    }
    ctx.emit(ev->type, std::move(ev->data));
  };
  auto outcome = run_process(spec, on_line, ctx.cancel_token(), options_.grace);

  std::optional<Error> reopen_error;
  if (wh != nullptr) {
    if (auto st = wh->reopen(); st.ok()) {
      ctx.emit("dbt.warehouse", {{"state", "reopened"}});
    } else {
      reopen_error = st.error();
      log::error("cannot reopen the warehouse after dbt", {{"run_id", run_id}, {"error", st.error().message}});
      ctx.emit("dbt.warehouse", {{"state", "unavailable"}, {"error", st.error().message}});
    }
  }

  const auto& summary = translator.summary();
  rec.dbt_version = summary.dbt_version;
  rec.adapter_version = summary.adapter_version;
  rec.invocation_id = summary.invocation_id;
  if (summary.stats.is_object()) rec.stats = summary.stats;
  rec.has_manifest = fs::exists(run_dir / "manifest.json", ec);
  std::shared_ptr<const ProjectCatalog> catalog;
  if (rec.has_manifest) {
    if (auto c = ProjectCatalog::load(run_dir / "manifest.json"); c.ok()) {
      catalog = std::make_shared<const ProjectCatalog>(std::move(c).value());
    }
  }
  rec.nodes = read_run_results(run_dir / "run_results.json", catalog.get(), summary);
  if (rec.nodes.empty() && !streamed.empty()) {
    for (auto& n : streamed) {
      if (auto it = summary.node_errors.find(n.unique_id); it != summary.node_errors.end()) n.message = it->second;
      if (auto it = summary.compiled_paths.find(n.unique_id); it != summary.compiled_paths.end()) {
        n.compiled_path = it->second;
      }
    }
    rec.nodes = streamed;
  }
  if (request.command == DbtCommand::ls) rec.stats["listed"] = static_cast<int64_t>(summary.list_items.size());

  // Decide how the run ended.
  const auto reason = ctx.cancel_token()->reason();
  std::optional<Error> err;
  if (!outcome.ok()) {
    err = outcome.error();
  } else if (reason == CancelReason::timed_out) {
    err = Error(ErrorCode::timed_out,
                "dbt " + rec.command + " stopped after " + std::to_string(options_.timeout.count()) +
                    " s (dbt.timeout_seconds)",
                "raise dbt.timeout_seconds, or select fewer nodes");
  } else if (reason != CancelReason::none) {
    err = Error(ErrorCode::cancelled, "dbt " + rec.command + " cancelled");
  } else {
    rec.exit_code = outcome->exit_code;
    err = judge_exit(rec, outcome.value(), summary, project.value(), run_dir);
  }
  if (!err && reopen_error) err = reopen_error;

  rec.finished_at = now_rfc3339();
  rec.duration_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  rec.error = err;
  rec.status = !err                                ? "succeeded"
               : err->code == ErrorCode::cancelled ? "cancelled"
               : err->code == ErrorCode::timed_out ? "timed_out"
                                                   : "failed";
  if (auto st = runs_.save(rec); !st.ok()) log::warn("cannot record the dbt run", {{"error", st.error().message}});
  if (auto st = runs_.save_nodes(run_id, rec.nodes); !st.ok()) {
    log::warn("cannot record dbt node results", {{"error", st.error().message}});
  }
  {
    std::lock_guard lock(mu_);
    active_.erase(run_id);
    // This run's manifest is the newest: the catalog need not read it again.
    if (catalog) {
      catalog_ = catalog;
      catalog_path_ = (run_dir / "manifest.json").string();
    }
  }
  prune_runs(run_id);
  log::info("dbt run finished",
            {{"run_id", run_id}, {"command", rec.command}, {"status", rec.status}, {"duration_ms", *rec.duration_ms}});
  if (err) return *err;
  auto j = rec.to_json();
  j.erase("nodes");
  if (request.command == DbtCommand::ls) j["items"] = summary.list_items;
  return j;
}

void DbtService::prune_runs(const std::string& keep) {
  std::error_code ec;
  const fs::path runs_dir = options_.artifacts_dir / "runs";
  std::vector<std::string> names;
  for (fs::directory_iterator it(runs_dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory(ec)) names.push_back(it->path().filename().string());
  }
  if (static_cast<int64_t>(names.size()) <= options_.keep_runs) return;
  std::sort(names.begin(), names.end());
  std::set<std::string> busy;
  {
    std::lock_guard lock(mu_);
    busy = active_;
  }
  auto excess = static_cast<int64_t>(names.size()) - options_.keep_runs;
  for (const auto& n : names) {
    if (excess <= 0) break;
    if (n == keep || busy.count(n) > 0) continue;
    fs::remove_all(runs_dir / n, ec);
    --excess;
  }
}

Result<DbtRun> DbtService::reconcile(DbtRun run) {
  // A run whose job ended before the body ran (cancelled while queued, process died) takes the
  // job's final state.
  if (run.status == "queued" || run.status == "running") {
    auto job = jobs_.get(run.run_id);
    if (job.ok() && jobs::is_final(job->status)) {
      run.status = std::string(jobs::to_string(job->status));
      run.finished_at = job->finished_at;
      if (job->error) run.error = job->error;
    }
  }
  return run;
}

Result<DbtRun> DbtService::get_run(const std::string& run_id) {
  PLUTO_ASSIGN_OR_RETURN(auto found, runs_.get(run_id));
  if (!found) {
    return Error(ErrorCode::not_found, "no dbt run with id '" + run_id + "'",
                 "run ids come from POST /api/v1/dbt/run and from pluto-duck --json dbt …");
  }
  return reconcile(std::move(*found));
}

Result<std::vector<DbtRun>> DbtService::list_runs(int64_t limit) {
  PLUTO_ASSIGN_OR_RETURN(auto list, runs_.list(limit));
  std::vector<DbtRun> out;
  for (auto& r : list) {
    PLUTO_ASSIGN_OR_RETURN(auto rr, reconcile(std::move(r)));
    out.push_back(std::move(rr));
  }
  return out;
}

Result<DbtRun> DbtService::wait(const std::string& run_id, std::optional<std::chrono::milliseconds> timeout) {
  PLUTO_TRY(get_run(run_id));
  PLUTO_TRY(jobs_.wait(run_id, timeout));
  return get_run(run_id);
}

Status DbtService::cancel(const std::string& run_id) {
  PLUTO_TRY(get_run(run_id));
  return jobs_.cancel(run_id);
}

// ---- catalog --------------------------------------------------------------------------------

Result<std::shared_ptr<const ProjectCatalog>> DbtService::current_catalog() {
  PLUTO_ASSIGN_OR_RETURN(auto latest, runs_.latest_with_manifest());
  if (!latest) {
    return Error(ErrorCode::not_found, "dbt has not run yet, so there is no manifest",
                 "run pluto-duck dbt ls (or build), or POST /api/v1/dbt/run");
  }
  const auto path = (fs::path(latest->artifacts_dir) / "manifest.json").string();
  {
    std::lock_guard lock(mu_);
    if (catalog_ && catalog_path_ == path) return catalog_;
  }
  PLUTO_ASSIGN_OR_RETURN(auto c, ProjectCatalog::load(path));
  auto shared = std::make_shared<const ProjectCatalog>(std::move(c));
  std::lock_guard lock(mu_);
  catalog_ = shared;
  catalog_path_ = path;
  return shared;
}

namespace {

nlohmann::json last_result_json(const std::map<std::string, NodeResult>& results, const std::string& id) {
  auto it = results.find(id);
  if (it == results.end()) return nullptr;
  const auto& r = it->second;
  return {{"status", r.status},
          {"execution_time", r.execution_time},
          {"completed_at", r.completed_at},
          {"message", r.message},
          {"failures", r.failures ? nlohmann::json(*r.failures) : nlohmann::json()},
          {"run_id", r.run_id}};
}

nlohmann::json node_json(const ProjectCatalog& c, const CatalogNode& n,
                         const std::map<std::string, NodeResult>& results, bool with_sql) {
  auto j = n.to_json(with_sql);
  j["parents"] = c.parents(n.unique_id);
  j["children"] = c.children(n.unique_id);
  j["last_result"] = last_result_json(results, n.unique_id);
  return j;
}

nlohmann::json test_json(const CatalogNode& t, const std::map<std::string, NodeResult>& results) {
  return {{"unique_id", t.unique_id},
          {"name", t.name},
          {"test_name", t.test_name.empty() ? std::string("singular") : t.test_name},
          {"column_name", t.column_name},
          {"description", t.description},
          {"last_result", last_result_json(results, t.unique_id)}};
}

}  // namespace

Result<nlohmann::json> DbtService::manifest() {
  PLUTO_ASSIGN_OR_RETURN(auto catalog, current_catalog());
  PLUTO_ASSIGN_OR_RETURN(auto results, runs_.latest_results());
  nlohmann::json nodes = nlohmann::json::array();
  std::map<std::string, int64_t> counts;
  for (const auto& [id, n] : catalog->nodes()) {
    nodes.push_back(node_json(*catalog, n, results, /*with_sql=*/false));
    ++counts[n.resource_type];
  }
  return nlohmann::json{{"project_name", catalog->project_name()},
                        {"dbt_version", catalog->dbt_version()},
                        {"generated_at", catalog->generated_at()},
                        {"invocation_id", catalog->invocation_id()},
                        {"project_dir", options_.project_dir.string()},
                        {"counts", counts},
                        {"nodes", std::move(nodes)}};
}

Result<nlohmann::json> DbtService::lineage(const std::string& node, int depth) {
  PLUTO_ASSIGN_OR_RETURN(auto catalog, current_catalog());
  const auto* start = catalog->find(node);
  if (start == nullptr) {
    return Error(ErrorCode::not_found, "dbt knows no node named '" + node + "'",
                 "use a model, seed, source or snapshot name (e.g. fct_orders) or a unique_id; list them with the "
                 "dbt.models action or GET /api/v1/dbt/manifest");
  }
  PLUTO_ASSIGN_OR_RETURN(auto results, runs_.latest_results());
  std::map<std::string, int> seen{{start->unique_id, 0}};  // id -> signed distance (- upstream)
  nlohmann::json edges = nlohmann::json::array();
  std::set<std::pair<std::string, std::string>> edge_set;
  for (int dir : {-1, 1}) {
    std::deque<std::pair<std::string, int>> queue{{start->unique_id, 0}};
    while (!queue.empty()) {
      auto [id, d] = queue.front();
      queue.pop_front();
      if (depth > 0 && d >= depth) continue;
      const auto& next = dir < 0 ? catalog->parents(id) : catalog->children(id);
      for (const auto& other : next) {
        auto it = catalog->nodes().find(other);
        if (it == catalog->nodes().end() || it->second.resource_type == "test") continue;
        const auto edge = dir < 0 ? std::make_pair(other, id) : std::make_pair(id, other);
        if (edge_set.insert(edge).second) edges.push_back({{"from", edge.first}, {"to", edge.second}});
        if (seen.count(other) == 0) {
          seen[other] = dir * (d + 1);
          queue.emplace_back(other, d + 1);
        }
      }
    }
  }
  nlohmann::json nodes = nlohmann::json::array();
  for (const auto& [id, dist] : seen) {
    const auto& n = catalog->nodes().at(id);
    auto j = n.to_json(false);
    j["distance"] = dist;
    j["direction"] = dist < 0 ? "upstream" : dist > 0 ? "downstream" : "self";
    j["last_result"] = last_result_json(results, id);
    nodes.push_back(std::move(j));
  }
  nlohmann::json tests = nlohmann::json::array();
  for (const auto* t : catalog->tests_of(start->unique_id)) tests.push_back(test_json(*t, results));
  auto self = node_json(*catalog, *start, results, /*with_sql=*/true);
  return nlohmann::json{
      {"node", std::move(self)}, {"nodes", std::move(nodes)}, {"edges", std::move(edges)}, {"tests", std::move(tests)}};
}

Result<std::optional<nlohmann::json>> DbtService::table_info(const std::string& name) {
  auto catalog_r = current_catalog();
  if (!catalog_r.ok()) {
    if (catalog_r.error().code == ErrorCode::not_found) return std::optional<nlohmann::json>();
    return catalog_r.take_error();
  }
  const auto catalog = std::move(catalog_r).value();
  const auto* n = catalog->find_relation(name);
  if (n == nullptr) return std::optional<nlohmann::json>();
  PLUTO_ASSIGN_OR_RETURN(auto results, runs_.latest_results());
  auto j = node_json(*catalog, *n, results, /*with_sql=*/true);
  // A manifest from `dbt ls` has no compiled SQL: take it from the node's last run.
  if (j["compiled_code"].get<std::string>().empty()) {
    if (auto it = results.find(n->unique_id); it != results.end() && !it->second.compiled_path.empty()) {
      j["compiled_path"] = it->second.compiled_path;
      j["compiled_code"] = read_text(it->second.compiled_path);
    }
  }
  nlohmann::json tests = nlohmann::json::array();
  std::map<std::string, nlohmann::json> by_column;
  for (const auto* t : catalog->tests_of(n->unique_id)) {
    auto tj = test_json(*t, results);
    tests.push_back(tj);
    if (!t->column_name.empty()) by_column[lower(t->column_name)].push_back(tj);
  }
  for (auto& col : j["columns"]) {
    const auto key = lower(col["name"].get<std::string>());
    col["tests"] = by_column.count(key) > 0 ? by_column[key] : nlohmann::json::array();
  }
  j["tests"] = std::move(tests);
  j["project_name"] = catalog->project_name();
  return std::optional<nlohmann::json>(std::move(j));
}

Result<nlohmann::json> DbtService::models(const std::string& filter, const std::string& resource_type) {
  PLUTO_ASSIGN_OR_RETURN(auto catalog, current_catalog());
  PLUTO_ASSIGN_OR_RETURN(auto results, runs_.latest_results());
  const auto f = lower(filter);
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [id, n] : catalog->nodes()) {
    const bool kind_ok = resource_type.empty() ? (n.resource_type == "model" || n.resource_type == "seed" ||
                                                  n.resource_type == "snapshot" || n.resource_type == "source")
                                               : n.resource_type == resource_type;
    if (!kind_ok) continue;
    if (!f.empty() && lower(n.name).find(f) == std::string::npos && lower(n.description).find(f) == std::string::npos) {
      continue;
    }
    nlohmann::json j{{"unique_id", n.unique_id},
                     {"name", n.name},
                     {"resource_type", n.resource_type},
                     {"description", n.description},
                     {"materialized", n.materialized},
                     {"relation_name", n.relation_name},
                     {"schema", n.schema},
                     {"alias", n.alias},
                     {"path", n.original_file_path},
                     {"columns", static_cast<int64_t>(n.columns.size())},
                     {"parents", catalog->parents(n.unique_id)},
                     {"last_result", last_result_json(results, n.unique_id)}};
    out.push_back(std::move(j));
  }
  return nlohmann::json{{"project_name", catalog->project_name()}, {"models", std::move(out)}};
}

// ---- actions --------------------------------------------------------------------------------

std::vector<DbtAction> dbt_actions(DbtService& service) {
  std::vector<DbtAction> out;
  DbtAction run;
  run.name = "dbt.run";
  run.description =
      "Runs dbt on the project against the warehouse (run models, test them, build both, or load seeds) and "
      "returns the run with per-node results. Other warehouse work waits while dbt runs.";
  run.params_schema = {
      {"type", "object"},
      {"properties",
       {{"command", {{"type", "string"}, {"enum", {"run", "test", "build", "seed"}}}},
        {"select",
         {{"type", "string"}, {"description", "dbt selectors, space-separated (e.g. \"marts +fct_orders\")"}}},
        {"exclude", {{"type", "string"}, {"description", "dbt selectors to leave out"}}},
        {"vars", {{"type", "object"}, {"description", "dbt variables"}}},
        {"full_refresh", {{"type", "boolean"}}},
        {"wait", {{"type", "boolean"}, {"description", "queue behind a running dbt run (default) or fail"}}},
        {"background", {{"type", "boolean"}, {"description", "return at once with the run id"}}}}},
      {"required", {"command"}},
      {"additionalProperties", false}};
  run.result_schema = {{"type", "object"},
                       {"properties",
                        {{"run_id", {{"type", "string"}}},
                         {"status", {{"type", "string"}}},
                         {"nodes", {{"type", "array"}}},
                         {"error", {{"description", "null, or {code, message, hint} when the run failed"}}}}}};
  run.read_only = false;
  run.handler = [&service](const nlohmann::json& params, const std::string& origin,
                           const std::shared_ptr<CancelToken>& cancel) -> Result<nlohmann::json> {
    nlohmann::json body = params.is_object() ? params : nlohmann::json::object();
    const bool background =
        body.contains("background") && body["background"].is_boolean() && body["background"].get<bool>();
    body.erase("background");
    PLUTO_ASSIGN_OR_RETURN(auto req, DbtRequest::from_json(body));
    req.origin = origin;
    PLUTO_ASSIGN_OR_RETURN(auto sub, service.submit(std::move(req)));
    if (background) return sub.to_json();
    // Cancelling the caller (an agent run) cancels the dbt run.
    CancelScope scope(cancel, [&service, id = sub.run_id] { (void)service.cancel(id); });
    PLUTO_ASSIGN_OR_RETURN(auto done, service.wait(sub.run_id));
    return done.to_json();
  };
  out.push_back(std::move(run));

  DbtAction models;
  models.name = "dbt.models";
  models.description =
      "Lists the dbt models, seeds, snapshots and sources of the project with their description, materialization, "
      "table and last run status. Optional filter on name or description.";
  models.params_schema = {
      {"type", "object"},
      {"properties",
       {{"filter", {{"type", "string"}}},
        {"resource_type", {{"type", "string"}, {"enum", {"model", "seed", "snapshot", "source"}}}}}},
      {"additionalProperties", false}};
  models.result_schema = {{"type", "object"},
                          {"properties", {{"project_name", {{"type", "string"}}}, {"models", {{"type", "array"}}}}}};
  models.handler = [&service](const nlohmann::json& params, const std::string&,
                              const std::shared_ptr<CancelToken>&) -> Result<nlohmann::json> {
    return service.models(str(params, "filter"), str(params, "resource_type"));
  };
  out.push_back(std::move(models));

  DbtAction lineage;
  lineage.name = "dbt.lineage";
  lineage.description =
      "Shows where a dbt model or table comes from and what is built from it: upstream parents, downstream "
      "children, the tests on it with their last status, and its compiled SQL.";
  lineage.params_schema = {{"type", "object"},
                           {"properties",
                            {{"node", {{"type", "string"}, {"description", "model/table name or unique_id"}}},
                             {"depth", {{"type", "integer"}, {"minimum", 0}, {"maximum", 100}}}}},
                           {"required", {"node"}},
                           {"additionalProperties", false}};
  lineage.result_schema = {{"type", "object"},
                           {"properties",
                            {{"node", {{"type", "object"}}},
                             {"nodes", {{"type", "array"}}},
                             {"edges", {{"type", "array"}}},
                             {"tests", {{"type", "array"}}}}}};
  lineage.handler = [&service](const nlohmann::json& params, const std::string&,
                               const std::shared_ptr<CancelToken>&) -> Result<nlohmann::json> {
    const auto node = str(params, "node");
    if (node.empty()) return Error(ErrorCode::invalid_argument, "dbt.lineage needs \"node\"", "e.g. fct_orders");
    int64_t depth = 0;
    if (params.contains("depth") && params["depth"].is_number_integer()) depth = params["depth"].get<int64_t>();
    depth = std::clamp<int64_t>(depth, 0, 100);
    return service.lineage(node, static_cast<int>(depth));
  };
  out.push_back(std::move(lineage));
  return out;
}

}  // namespace pluto::transform
