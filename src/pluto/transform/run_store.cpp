#include "pluto/transform/run_store.hpp"

#include <array>

#include "pluto/store/store.hpp"

namespace pluto::transform {
namespace {

constexpr std::array kMigrations = {
    store::Migration{1, "dbt runs and node results", R"sql(
CREATE TABLE dbt_runs (
  run_id          TEXT PRIMARY KEY,
  command         TEXT NOT NULL,
  args            TEXT NOT NULL,
  status          TEXT NOT NULL,
  origin          TEXT NOT NULL,
  project_dir     TEXT NOT NULL,
  artifacts_dir   TEXT NOT NULL,
  submitted_at    TEXT NOT NULL,
  started_at      TEXT,
  finished_at     TEXT,
  duration_ms     INTEGER,
  exit_code       INTEGER,
  dbt_version     TEXT NOT NULL DEFAULT '',
  adapter_version TEXT NOT NULL DEFAULT '',
  invocation_id   TEXT NOT NULL DEFAULT '',
  error_code      TEXT,
  error_message   TEXT,
  error_hint      TEXT,
  stats           TEXT NOT NULL DEFAULT '{}',
  has_manifest    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX dbt_runs_submitted ON dbt_runs (submitted_at);
CREATE TABLE dbt_node_results (
  run_id         TEXT NOT NULL REFERENCES dbt_runs (run_id) ON DELETE CASCADE,
  seq            INTEGER NOT NULL,
  unique_id      TEXT NOT NULL,
  name           TEXT NOT NULL,
  resource_type  TEXT NOT NULL,
  status         TEXT NOT NULL,
  execution_time REAL NOT NULL,
  started_at     TEXT NOT NULL,
  completed_at   TEXT NOT NULL,
  message        TEXT NOT NULL,
  failures       INTEGER,
  relation_name  TEXT NOT NULL,
  compiled_path  TEXT NOT NULL,
  PRIMARY KEY (run_id, unique_id)
);
CREATE INDEX dbt_node_results_node ON dbt_node_results (unique_id, run_id);
)sql"},
};

std::optional<ErrorCode> parse_code(const std::string& s) {
  for (int i = 0; i <= static_cast<int>(ErrorCode::internal); ++i) {
    if (to_string(static_cast<ErrorCode>(i)) == s) return static_cast<ErrorCode>(i);
  }
  return std::nullopt;
}

nlohmann::json opt(const std::optional<std::string>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json();
}
nlohmann::json opt(const std::optional<int64_t>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json();
}

constexpr const char* kRunColumns =
    "run_id, command, args, status, origin, project_dir, artifacts_dir, submitted_at, started_at, finished_at, "
    "duration_ms, exit_code, dbt_version, adapter_version, invocation_id, error_code, error_message, error_hint, "
    "stats, has_manifest";

DbtRun read_run(const store::Statement& st) {
  DbtRun r;
  r.run_id = st.text(0);
  r.command = st.text(1);
  r.args = nlohmann::json::parse(st.text(2), nullptr, false);
  if (r.args.is_discarded()) r.args = nlohmann::json::object();
  r.status = st.text(3);
  r.origin = st.text(4);
  r.project_dir = st.text(5);
  r.artifacts_dir = st.text(6);
  r.submitted_at = st.text(7);
  r.started_at = st.opt_text(8);
  r.finished_at = st.opt_text(9);
  r.duration_ms = st.opt_int64(10);
  r.exit_code = st.opt_int64(11);
  r.dbt_version = st.text(12);
  r.adapter_version = st.text(13);
  r.invocation_id = st.text(14);
  if (!st.is_null(15)) {
    r.error = Error(parse_code(st.text(15)).value_or(ErrorCode::internal), st.text(16), st.text(17));
  }
  r.stats = nlohmann::json::parse(st.text(18), nullptr, false);
  if (r.stats.is_discarded()) r.stats = nlohmann::json::object();
  r.has_manifest = st.int64(19) != 0;
  return r;
}

constexpr const char* kNodeColumns =
    "unique_id, name, resource_type, status, execution_time, started_at, completed_at, message, failures, "
    "relation_name, compiled_path, run_id";

NodeResult read_node(const store::Statement& st) {
  NodeResult n;
  n.unique_id = st.text(0);
  n.name = st.text(1);
  n.resource_type = st.text(2);
  n.status = st.text(3);
  n.execution_time = st.real(4);
  n.started_at = st.text(5);
  n.completed_at = st.text(6);
  n.message = st.text(7);
  n.failures = st.opt_int64(8);
  n.relation_name = st.text(9);
  n.compiled_path = st.text(10);
  n.run_id = st.text(11);
  return n;
}

}  // namespace

nlohmann::json NodeResult::to_json() const {
  nlohmann::json j{{"unique_id", unique_id},           {"name", name},
                   {"resource_type", resource_type},   {"status", status},
                   {"execution_time", execution_time}, {"started_at", started_at},
                   {"completed_at", completed_at},     {"message", message},
                   {"failures", opt(failures)},        {"relation_name", relation_name},
                   {"compiled_path", compiled_path}};
  if (!run_id.empty()) j["run_id"] = run_id;
  return j;
}

nlohmann::json DbtRun::to_json() const {
  nlohmann::json nodes_json = nlohmann::json::array();
  for (const auto& n : nodes) nodes_json.push_back(n.to_json());
  nlohmann::json j{{"run_id", run_id},
                   {"command", command},
                   {"args", args},
                   {"status", status},
                   {"origin", origin},
                   {"project_dir", project_dir},
                   {"artifacts_dir", artifacts_dir},
                   {"submitted_at", submitted_at},
                   {"started_at", opt(started_at)},
                   {"finished_at", opt(finished_at)},
                   {"duration_ms", opt(duration_ms)},
                   {"exit_code", opt(exit_code)},
                   {"dbt_version", dbt_version},
                   {"adapter_version", adapter_version},
                   {"invocation_id", invocation_id},
                   {"stats", stats},
                   {"has_manifest", has_manifest},
                   {"job_id", run_id},
                   {"events_url", "/api/v1/jobs/" + run_id + "/events"},
                   {"nodes", std::move(nodes_json)}};
  j["error"] =
      error ? nlohmann::json{{"code", to_string(error->code)}, {"message", error->message}, {"hint", error->hint}}
            : nlohmann::json();
  return j;
}

Status RunStore::migrate(store::Store& store) {
  return store.migrate("transform", kMigrations);
}

Status RunStore::save(const DbtRun& run) {
  return store_.with_db([&](store::SqliteDb& db) -> Status {
    PLUTO_ASSIGN_OR_RETURN(
        auto st, db.prepare("INSERT INTO dbt_runs (run_id, command, args, status, origin, project_dir, artifacts_dir, "
                            "submitted_at, started_at, finished_at, duration_ms, exit_code, dbt_version, "
                            "adapter_version, invocation_id, error_code, error_message, error_hint, stats, "
                            "has_manifest) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
                            "?16, ?17, ?18, ?19, ?20) ON CONFLICT (run_id) DO UPDATE SET status = ?4, started_at = "
                            "?9, finished_at = ?10, duration_ms = ?11, exit_code = ?12, dbt_version = ?13, "
                            "adapter_version = ?14, invocation_id = ?15, error_code = ?16, error_message = ?17, "
                            "error_hint = ?18, stats = ?19, has_manifest = ?20"));
    st.bind(1, run.run_id).bind(2, run.command).bind(3, run.args.dump()).bind(4, run.status).bind(5, run.origin);
    st.bind(6, run.project_dir).bind(7, run.artifacts_dir).bind(8, run.submitted_at).bind(9, run.started_at);
    st.bind(10, run.finished_at).bind(11, run.duration_ms).bind(12, run.exit_code).bind(13, run.dbt_version);
    st.bind(14, run.adapter_version).bind(15, run.invocation_id);
    if (run.error) {
      st.bind(16, std::string(to_string(run.error->code))).bind(17, run.error->message).bind(18, run.error->hint);
    } else {
      st.bind_null(16).bind_null(17).bind_null(18);
    }
    st.bind(19, run.stats.dump()).bind(20, run.has_manifest ? 1 : 0);
    return st.run();
  });
}

Status RunStore::save_nodes(const std::string& run_id, const std::vector<NodeResult>& nodes) {
  return store_.with_db(
      [&](store::SqliteDb& db) -> Status {
        PLUTO_ASSIGN_OR_RETURN(auto del, db.prepare("DELETE FROM dbt_node_results WHERE run_id = ?"));
        del.bind(1, run_id);
        PLUTO_TRY(del.run());
        int64_t seq = 0;
        for (const auto& n : nodes) {
          PLUTO_ASSIGN_OR_RETURN(
              auto st, db.prepare("INSERT OR REPLACE INTO dbt_node_results (run_id, seq, unique_id, name, "
                                  "resource_type, status, execution_time, started_at, completed_at, message, "
                                  "failures, relation_name, compiled_path) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                                  "?, ?)"));
          st.bind(1, run_id).bind(2, seq++).bind(3, n.unique_id).bind(4, n.name).bind(5, n.resource_type);
          st.bind(6, n.status).bind(7, n.execution_time).bind(8, n.started_at).bind(9, n.completed_at);
          st.bind(10, n.message).bind(11, n.failures).bind(12, n.relation_name).bind(13, n.compiled_path);
          PLUTO_TRY(st.run());
        }
        return {};
      },
      /*transaction=*/true);
}

Result<std::optional<DbtRun>> RunStore::get(const std::string& run_id) {
  std::optional<DbtRun> found;
  PLUTO_TRY(store_.with_db([&](store::SqliteDb& db) -> Status {
    PLUTO_ASSIGN_OR_RETURN(auto st,
                           db.prepare(std::string("SELECT ") + kRunColumns + " FROM dbt_runs WHERE run_id = ?"));
    st.bind(1, run_id);
    PLUTO_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) return {};
    found = read_run(st);
    PLUTO_ASSIGN_OR_RETURN(auto ns, db.prepare(std::string("SELECT ") + kNodeColumns +
                                               " FROM dbt_node_results WHERE run_id = ? ORDER BY seq"));
    ns.bind(1, run_id);
    while (true) {
      PLUTO_ASSIGN_OR_RETURN(bool more, ns.step());
      if (!more) break;
      found->nodes.push_back(read_node(ns));
      found->nodes.back().run_id.clear();  // implied by the run
    }
    return {};
  }));
  return found;
}

Result<std::vector<DbtRun>> RunStore::list(int64_t limit) {
  std::vector<DbtRun> out;
  PLUTO_TRY(store_.with_db([&](store::SqliteDb& db) -> Status {
    PLUTO_ASSIGN_OR_RETURN(auto st, db.prepare(std::string("SELECT ") + kRunColumns +
                                               " FROM dbt_runs ORDER BY submitted_at DESC, run_id DESC LIMIT ?"));
    st.bind(1, limit);
    while (true) {
      PLUTO_ASSIGN_OR_RETURN(bool row, st.step());
      if (!row) break;
      out.push_back(read_run(st));
    }
    return {};
  }));
  return out;
}

Result<std::optional<DbtRun>> RunStore::latest_with_manifest() {
  std::optional<DbtRun> found;
  PLUTO_TRY(store_.with_db([&](store::SqliteDb& db) -> Status {
    PLUTO_ASSIGN_OR_RETURN(auto st, db.prepare(std::string("SELECT ") + kRunColumns +
                                               " FROM dbt_runs WHERE has_manifest = 1 ORDER BY finished_at DESC, "
                                               "run_id DESC LIMIT 1"));
    PLUTO_ASSIGN_OR_RETURN(bool row, st.step());
    if (row) found = read_run(st);
    return {};
  }));
  return found;
}

Result<std::map<std::string, NodeResult>> RunStore::latest_results() {
  std::map<std::string, NodeResult> out;
  PLUTO_TRY(store_.with_db([&](store::SqliteDb& db) -> Status {
    // Run ids sort by creation time, so the greatest run_id per node is its newest result.
    PLUTO_ASSIGN_OR_RETURN(auto st, db.prepare(std::string("SELECT ") + kNodeColumns +
                                               " FROM dbt_node_results r WHERE run_id = (SELECT max(run_id) FROM "
                                               "dbt_node_results WHERE unique_id = r.unique_id)"));
    while (true) {
      PLUTO_ASSIGN_OR_RETURN(bool row, st.step());
      if (!row) break;
      auto n = read_node(st);
      out[n.unique_id] = std::move(n);
    }
    return {};
  }));
  return out;
}

}  // namespace pluto::transform
