#include "pluto/ingest/catalog.hpp"

#include <signal.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <fstream>
#include <iterator>
#include <sstream>

#include "pluto/core/clock.hpp"
#include "pluto/store/store.hpp"

namespace pluto::ingest {
namespace {

constexpr std::array kMigrations = {
    store::Migration{1, "ingestion catalog", R"sql(
CREATE TABLE ingest_runs (
  run_id       TEXT PRIMARY KEY,
  source       TEXT NOT NULL,
  source_kind  TEXT NOT NULL,
  saved_source TEXT NOT NULL DEFAULT '',
  target       TEXT NOT NULL,
  mode         TEXT NOT NULL,
  status       TEXT NOT NULL,
  origin       TEXT NOT NULL,
  owner        TEXT NOT NULL,
  started_at   TEXT NOT NULL,
  finished_at  TEXT,
  duration_ms  INTEGER,
  rows         INTEGER,
  bytes        INTEGER,
  skipped_rows INTEGER,
  schema_json  TEXT NOT NULL DEFAULT '{}',
  request_json TEXT NOT NULL DEFAULT '{}',
  error_code   TEXT,
  error        TEXT
);
CREATE INDEX ingest_runs_started ON ingest_runs (started_at);
CREATE INDEX ingest_runs_status ON ingest_runs (status);
CREATE TABLE ingest_run_tables (
  run_id      TEXT NOT NULL,
  schema_name TEXT NOT NULL,
  table_name  TEXT NOT NULL,
  PRIMARY KEY (run_id, schema_name, table_name)
);
CREATE INDEX ingest_run_tables_table ON ingest_run_tables (schema_name, table_name);
CREATE TABLE ingest_tables (
  schema_name     TEXT NOT NULL,
  table_name      TEXT NOT NULL,
  source          TEXT NOT NULL,
  source_kind     TEXT NOT NULL,
  saved_source    TEXT NOT NULL DEFAULT '',
  source_object   TEXT NOT NULL DEFAULT '',
  mode            TEXT NOT NULL,
  cursor_column   TEXT NOT NULL DEFAULT '',
  key_columns     TEXT NOT NULL DEFAULT '[]',
  high_water      TEXT,
  high_water_type TEXT NOT NULL DEFAULT '',
  first_loaded_at TEXT NOT NULL,
  last_loaded_at  TEXT NOT NULL,
  last_run_id     TEXT NOT NULL,
  last_rows       INTEGER NOT NULL DEFAULT 0,
  columns_json    TEXT NOT NULL DEFAULT '[]',
  PRIMARY KEY (schema_name, table_name)
);
CREATE TABLE ingest_sources (
  name         TEXT PRIMARY KEY,
  kind         TEXT NOT NULL,
  location     TEXT NOT NULL,
  password_env TEXT NOT NULL DEFAULT '',
  has_secret   INTEGER NOT NULL DEFAULT 0,
  attached     INTEGER NOT NULL DEFAULT 0,
  created_at   TEXT NOT NULL,
  updated_at   TEXT NOT NULL
);
)sql"},
};

// "pid:start-time" (field 22 of /proc/<pid>/stat), so a reused pid is not mistaken for the owner.
std::string process_identity(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = stat.rfind(')');
  if (close == std::string::npos || close + 2 > stat.size()) return std::to_string(pid) + ":?";
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  for (int i = 3; i <= 22 && rest >> field; ++i) {
  }
  return std::to_string(pid) + ":" + field;
}

bool owner_alive(const std::string& owner) {
  const auto colon = owner.find(':');
  if (colon == std::string::npos || colon == 0) return false;
  pid_t pid = 0;
  for (char c : owner.substr(0, colon)) {
    if (c < '0' || c > '9') return false;
    pid = pid * 10 + (c - '0');
  }
  if (::kill(pid, 0) != 0 && errno == ESRCH) return false;
  return process_identity(pid) == owner;
}

nlohmann::json opt(const std::optional<int64_t>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json();
}
nlohmann::json opt(const std::optional<std::string>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json();
}

nlohmann::json parse_json(const std::string& text, nlohmann::json fallback) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  return j.is_discarded() ? fallback : j;
}

constexpr const char* kRunColumns =
    "r.run_id, r.source, r.source_kind, r.saved_source, r.target, r.mode, r.status, r.origin, r.started_at, "
    "r.finished_at, r.duration_ms, r.rows, r.bytes, r.skipped_rows, r.schema_json, r.request_json, r.error_code, "
    "r.error";

RunRecord read_run(const store::Statement& st) {
  RunRecord r;
  r.run_id = st.text(0);
  r.source = st.text(1);
  r.source_kind = st.text(2);
  r.saved_source = st.text(3);
  r.target = st.text(4);
  r.mode = st.text(5);
  r.status = st.text(6);
  r.origin = st.text(7);
  r.started_at = st.text(8);
  r.finished_at = st.opt_text(9);
  r.duration_ms = st.opt_int64(10);
  r.rows = st.opt_int64(11);
  r.bytes = st.opt_int64(12);
  r.skipped_rows = st.opt_int64(13);
  r.schema = parse_json(st.text(14), nlohmann::json::object());
  r.request = parse_json(st.text(15), nlohmann::json::object());
  r.error_code = st.opt_text(16);
  r.error = st.opt_text(17);
  return r;
}

constexpr const char* kTableColumns =
    "schema_name, table_name, source, source_kind, saved_source, source_object, mode, cursor_column, key_columns, "
    "high_water, high_water_type, first_loaded_at, last_loaded_at, last_run_id, last_rows, columns_json";

TableRecord read_table(const store::Statement& st) {
  TableRecord t;
  t.schema_name = st.text(0);
  t.table_name = st.text(1);
  t.source = st.text(2);
  t.source_kind = st.text(3);
  t.saved_source = st.text(4);
  t.source_object = st.text(5);
  t.mode = st.text(6);
  t.cursor_column = st.text(7);
  const auto keys = parse_json(st.text(8), nlohmann::json::array());
  for (const auto& k : keys) {
    if (k.is_string()) t.key_columns.push_back(k.get<std::string>());
  }
  t.high_water = st.opt_text(9);
  t.high_water_type = st.text(10);
  t.first_loaded_at = st.text(11);
  t.last_loaded_at = st.text(12);
  t.last_run_id = st.text(13);
  t.last_rows = st.int64(14);
  t.columns = parse_json(st.text(15), nlohmann::json::array());
  return t;
}

constexpr const char* kSourceColumns =
    "name, kind, location, password_env, has_secret, attached, created_at, updated_at";

SourceRecord read_source(const store::Statement& st) {
  SourceRecord s;
  s.name = st.text(0);
  auto kind = parse_source_kind(st.text(1));
  s.kind = kind.ok() ? kind.value() : SourceKind::files;
  s.location = st.text(2);
  s.password_env = st.text(3);
  s.has_secret = st.int64(4) != 0;
  s.attached = st.int64(5) != 0;
  s.created_at = st.text(6);
  s.updated_at = st.text(7);
  return s;
}

}  // namespace

nlohmann::json RunRecord::to_json() const {
  nlohmann::json j{{"run_id", run_id},
                   {"source", source},
                   {"source_kind", source_kind},
                   {"saved_source", saved_source.empty() ? nlohmann::json() : nlohmann::json(saved_source)},
                   {"target", target},
                   {"mode", mode},
                   {"status", status},
                   {"origin", origin},
                   {"started_at", started_at},
                   {"finished_at", opt(finished_at)},
                   {"duration_ms", opt(duration_ms)},
                   {"rows", opt(rows)},
                   {"bytes", opt(bytes)},
                   {"skipped_rows", opt(skipped_rows)},
                   {"schema", schema},
                   {"request", request}};
  if (error) {
    j["error"] = {{"code", error_code.value_or("internal")}, {"message", *error}};
  } else {
    j["error"] = nullptr;
  }
  return j;
}

nlohmann::json TableRecord::to_json() const {
  return nlohmann::json{
      {"schema", schema_name},
      {"table", table_name},
      {"source", source},
      {"source_kind", source_kind},
      {"saved_source", saved_source.empty() ? nlohmann::json() : nlohmann::json(saved_source)},
      {"source_object", source_object},
      {"mode", mode},
      {"cursor_column", cursor_column.empty() ? nlohmann::json() : nlohmann::json(cursor_column)},
      {"key_columns", key_columns},
      {"high_water_mark", opt(high_water)},
      {"high_water_type", high_water_type.empty() ? nlohmann::json() : nlohmann::json(high_water_type)},
      {"first_loaded_at", first_loaded_at},
      {"last_loaded_at", last_loaded_at},
      {"last_run_id", last_run_id},
      {"last_rows", last_rows},
      {"columns", columns}};
}

nlohmann::json SourceRecord::to_json() const {
  std::string password = "none";
  if (!password_env.empty()) {
    password = "env:" + password_env;
  } else if (has_secret) {
    password = "stored";
  }
  return nlohmann::json{
      {"name", name},         {"kind", to_string(kind)},  {"location", location},    {"password", password},
      {"attached", attached}, {"created_at", created_at}, {"updated_at", updated_at}};
}

Result<IngestCatalog> IngestCatalog::open(store::Store& store) {
  PLUTO_TRY(store.migrate("ingest", kMigrations));
  return IngestCatalog(store);
}

std::string IngestCatalog::current_process_identity() {
  return process_identity(::getpid());
}

Status IngestCatalog::begin_run(const RunRecord& r) {
  const std::string owner = current_process_identity();
  return store_->with_db([&](store::SqliteDb& db) -> Status {
    PLUTO_ASSIGN_OR_RETURN(auto st, db.prepare("INSERT INTO ingest_runs (run_id, source, source_kind, saved_source, "
                                               "target, mode, status, origin, owner, started_at, request_json) "
                                               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    st.bind(1, r.run_id).bind(2, r.source).bind(3, r.source_kind).bind(4, r.saved_source).bind(5, r.target);
    st.bind(6, r.mode).bind(7, r.status).bind(8, r.origin).bind(9, owner).bind(10, r.started_at);
    st.bind(11, r.request.dump());
    return st.run();
  });
}

Status IngestCatalog::finish_run(const RunRecord& r) {
  return store_->with_db([&](store::SqliteDb& db) -> Status {
    // The source's kind and saved name are known only once it is resolved (after begin_run).
    PLUTO_ASSIGN_OR_RETURN(auto st, db.prepare("UPDATE ingest_runs SET target = ?, status = ?, finished_at = ?, "
                                               "duration_ms = ?, rows = ?, bytes = ?, skipped_rows = ?, "
                                               "schema_json = ?, error_code = ?, error = ?, source = ?, "
                                               "source_kind = ?, saved_source = ? WHERE run_id = ?"));
    st.bind(1, r.target).bind(2, r.status).bind(3, r.finished_at).bind(4, r.duration_ms).bind(5, r.rows);
    st.bind(6, r.bytes).bind(7, r.skipped_rows).bind(8, r.schema.dump()).bind(9, r.error_code).bind(10, r.error);
    st.bind(11, r.source).bind(12, r.source_kind).bind(13, r.saved_source).bind(14, r.run_id);
    return st.run();
  });
}

Status IngestCatalog::add_run_tables(const std::string& run_id,
                                     const std::vector<std::pair<std::string, std::string>>& tables) {
  return store_->with_db(
      [&](store::SqliteDb& db) -> Status {
        for (const auto& [schema_name, table_name] : tables) {
          PLUTO_ASSIGN_OR_RETURN(auto ins, db.prepare("INSERT OR IGNORE INTO ingest_run_tables (run_id, schema_name, "
                                                      "table_name) VALUES (?, ?, ?)"));
          ins.bind(1, run_id).bind(2, schema_name).bind(3, table_name);
          PLUTO_TRY(ins.run());
        }
        return {};
      },
      /*transaction=*/true);
}

Result<std::optional<RunRecord>> IngestCatalog::get_run(const std::string& run_id) {
  std::optional<RunRecord> out;
  PLUTO_TRY(store_->with_db([&](store::SqliteDb& db) -> Status {
    PLUTO_ASSIGN_OR_RETURN(auto st,
                           db.prepare(std::string("SELECT ") + kRunColumns + " FROM ingest_runs r WHERE r.run_id = ?"));
    st.bind(1, run_id);
    PLUTO_ASSIGN_OR_RETURN(bool row, st.step());
    if (row) out = read_run(st);
    return {};
  }));
  return out;
}

Result<std::vector<RunRecord>> IngestCatalog::list_runs(const RunFilter& f) {
  std::vector<RunRecord> out;
  PLUTO_TRY(store_->with_db([&](store::SqliteDb& db) -> Status {
    // A name matches a table of that name in any schema, or schema.table.
    PLUTO_ASSIGN_OR_RETURN(
        auto st,
        db.prepare(std::string("SELECT ") + kRunColumns +
                   " FROM ingest_runs r WHERE (?1 = '' OR r.status = ?1) AND (?2 = '' OR EXISTS (SELECT 1 FROM "
                   "ingest_run_tables t WHERE t.run_id = r.run_id AND (lower(t.table_name) = lower(?2) OR "
                   "lower(t.schema_name || '.' || t.table_name) = lower(?2)))) ORDER BY r.started_at DESC, "
                   "r.run_id DESC LIMIT ?3"));
    st.bind(1, f.status).bind(2, f.table).bind(3, f.limit);
    while (true) {
      PLUTO_ASSIGN_OR_RETURN(bool row, st.step());
      if (!row) break;
      out.push_back(read_run(st));
    }
    return {};
  }));
  return out;
}

Result<int64_t> IngestCatalog::interrupt_orphaned_runs() {
  std::vector<std::pair<std::string, std::string>> dead;  // run_id, started_at
  PLUTO_TRY(store_->with_db([&](store::SqliteDb& db) -> Status {
    PLUTO_ASSIGN_OR_RETURN(auto st, db.prepare("SELECT run_id, owner FROM ingest_runs WHERE status = 'running'"));
    while (true) {
      PLUTO_ASSIGN_OR_RETURN(bool row, st.step());
      if (!row) break;
      if (!owner_alive(st.text(1))) dead.emplace_back(st.text(0), st.text(1));
    }
    return {};
  }));
  const std::string now = now_rfc3339();
  for (const auto& [run_id, owner] : dead) {
    PLUTO_TRY(store_->with_db([&, &id = run_id](store::SqliteDb& db) -> Status {
      PLUTO_ASSIGN_OR_RETURN(auto up, db.prepare("UPDATE ingest_runs SET status = 'interrupted', finished_at = ?, "
                                                 "error_code = 'internal', error = ? WHERE run_id = ? AND status = "
                                                 "'running'"));
      up.bind(1, now)
          .bind(2,
                "the process running this ingestion stopped before it finished; the target tables were left as "
                "they were before it")
          .bind(3, id);
      return up.run();
    }));
  }
  return static_cast<int64_t>(dead.size());
}

Status IngestCatalog::upsert_table(const TableRecord& t) {
  return store_->with_db([&](store::SqliteDb& db) -> Status {
    PLUTO_ASSIGN_OR_RETURN(
        auto st, db.prepare(std::string("INSERT INTO ingest_tables (") + kTableColumns +
                            ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) "
                            "ON CONFLICT (schema_name, table_name) DO UPDATE SET source = ?3, source_kind = ?4, "
                            "saved_source = ?5, source_object = ?6, mode = ?7, cursor_column = ?8, key_columns = ?9, "
                            "high_water = ?10, high_water_type = ?11, last_loaded_at = ?13, last_run_id = ?14, "
                            "last_rows = ?15, columns_json = ?16"));
    st.bind(1, t.schema_name).bind(2, t.table_name).bind(3, t.source).bind(4, t.source_kind).bind(5, t.saved_source);
    st.bind(6, t.source_object).bind(7, t.mode).bind(8, t.cursor_column).bind(9, nlohmann::json(t.key_columns).dump());
    st.bind(10, t.high_water).bind(11, t.high_water_type).bind(12, t.first_loaded_at).bind(13, t.last_loaded_at);
    st.bind(14, t.last_run_id).bind(15, t.last_rows).bind(16, t.columns.dump());
    return st.run();
  });
}

Result<std::optional<TableRecord>> IngestCatalog::get_table(const std::string& schema_name,
                                                            const std::string& table_name) {
  std::optional<TableRecord> out;
  PLUTO_TRY(store_->with_db([&](store::SqliteDb& db) -> Status {
    PLUTO_ASSIGN_OR_RETURN(auto st, db.prepare(std::string("SELECT ") + kTableColumns +
                                               " FROM ingest_tables WHERE lower(schema_name) = lower(?) AND "
                                               "lower(table_name) = lower(?)"));
    st.bind(1, schema_name).bind(2, table_name);
    PLUTO_ASSIGN_OR_RETURN(bool row, st.step());
    if (row) out = read_table(st);
    return {};
  }));
  return out;
}

Result<std::vector<TableRecord>> IngestCatalog::find_tables(const std::string& name) {
  std::vector<TableRecord> out;
  PLUTO_TRY(store_->with_db([&](store::SqliteDb& db) -> Status {
    PLUTO_ASSIGN_OR_RETURN(
        auto st, db.prepare(std::string("SELECT ") + kTableColumns +
                            " FROM ingest_tables WHERE lower(table_name) = lower(?1) OR lower(schema_name || '.' || "
                            "table_name) = lower(?1) ORDER BY schema_name = 'main' DESC, schema_name, table_name"));
    st.bind(1, name);
    while (true) {
      PLUTO_ASSIGN_OR_RETURN(bool row, st.step());
      if (!row) break;
      out.push_back(read_table(st));
    }
    return {};
  }));
  return out;
}

Status IngestCatalog::add_source(const SourceRecord& s) {
  return store_->with_db([&](store::SqliteDb& db) -> Status {
    PLUTO_ASSIGN_OR_RETURN(auto check, db.prepare("SELECT 1 FROM ingest_sources WHERE lower(name) = lower(?)"));
    check.bind(1, s.name);
    PLUTO_ASSIGN_OR_RETURN(bool exists, check.step());
    if (exists) {
      return Error(ErrorCode::conflict, "a source named '" + s.name + "' already exists",
                   "choose another name, or remove it first with `pluto-duck sources remove " + s.name + "`");
    }
    PLUTO_ASSIGN_OR_RETURN(auto st, db.prepare(std::string("INSERT INTO ingest_sources (") + kSourceColumns +
                                               ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
    st.bind(1, s.name).bind(2, to_string(s.kind)).bind(3, s.location).bind(4, s.password_env);
    st.bind(5, s.has_secret ? 1 : 0).bind(6, s.attached ? 1 : 0).bind(7, s.created_at).bind(8, s.updated_at);
    return st.run();
  });
}

Result<std::optional<SourceRecord>> IngestCatalog::get_source(const std::string& name) {
  std::optional<SourceRecord> out;
  PLUTO_TRY(store_->with_db([&](store::SqliteDb& db) -> Status {
    PLUTO_ASSIGN_OR_RETURN(auto st, db.prepare(std::string("SELECT ") + kSourceColumns +
                                               " FROM ingest_sources WHERE lower(name) = lower(?)"));
    st.bind(1, name);
    PLUTO_ASSIGN_OR_RETURN(bool row, st.step());
    if (row) out = read_source(st);
    return {};
  }));
  return out;
}

Result<std::vector<SourceRecord>> IngestCatalog::list_sources() {
  std::vector<SourceRecord> out;
  PLUTO_TRY(store_->with_db([&](store::SqliteDb& db) -> Status {
    PLUTO_ASSIGN_OR_RETURN(auto st,
                           db.prepare(std::string("SELECT ") + kSourceColumns + " FROM ingest_sources ORDER BY name"));
    while (true) {
      PLUTO_ASSIGN_OR_RETURN(bool row, st.step());
      if (!row) break;
      out.push_back(read_source(st));
    }
    return {};
  }));
  return out;
}

Status IngestCatalog::remove_source(const std::string& name) {
  return store_->with_db([&](store::SqliteDb& db) -> Status {
    PLUTO_ASSIGN_OR_RETURN(auto st, db.prepare("DELETE FROM ingest_sources WHERE lower(name) = lower(?)"));
    st.bind(1, name);
    PLUTO_TRY(st.run());
    if (db.changes() == 0) {
      return Error(ErrorCode::not_found, "no saved source named '" + name + "'",
                   "list them with `pluto-duck sources list`");
    }
    return {};
  });
}

Status IngestCatalog::set_attached(const std::string& name, bool attached) {
  return store_->with_db([&](store::SqliteDb& db) -> Status {
    PLUTO_ASSIGN_OR_RETURN(auto st, db.prepare("UPDATE ingest_sources SET attached = ?, updated_at = ? WHERE "
                                               "lower(name) = lower(?)"));
    st.bind(1, attached ? 1 : 0).bind(2, now_rfc3339()).bind(3, name);
    return st.run();
  });
}

}  // namespace pluto::ingest
