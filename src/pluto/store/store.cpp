#include "pluto/store/store.hpp"

#include "pluto/core/log.hpp"
#include "pluto/store/migrations.hpp"

namespace pluto::store {

Result<std::unique_ptr<Store>> Store::open(const std::filesystem::path& file) {
  PLUTO_ASSIGN_OR_RETURN(auto db, SqliteDb::open(file.string()));
  std::unique_ptr<Store> store(new Store(std::move(db)));
  PLUTO_TRY(store->db_.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"));
  PLUTO_TRY(store->migrate("store", kMigrations));
  return store;
}

int Store::latest_schema_version() {
  return kMigrations.back().version;
}

int Store::schema_version() {
  return component_version("store");
}

int Store::component_version(const std::string& component) {
  std::lock_guard lock(mu_);
  auto st = db_.prepare("SELECT coalesce(max(version), 0) FROM schema_migrations WHERE component = ?");
  if (!st.ok()) return 0;
  st->bind(1, component);
  auto row = st->step();
  return row.ok() && row.value() ? static_cast<int>(st->int64(0)) : 0;
}

Status Store::migrate(const std::string& component, std::span<const Migration> migrations) {
  std::lock_guard lock(mu_);
  PLUTO_TRY(
      db_.exec("CREATE TABLE IF NOT EXISTS schema_migrations (component TEXT NOT NULL, version INTEGER NOT NULL, "
               "name TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')), "
               "PRIMARY KEY (component, version))"));
  // BEGIN IMMEDIATE: two processes starting at once apply each migration exactly once.
  PLUTO_TRY(db_.exec("BEGIN IMMEDIATE"));
  auto fail = [&](Error e) -> Status {
    (void)db_.exec("ROLLBACK");
    return e;
  };
  auto current = db_.prepare("SELECT coalesce(max(version), 0) FROM schema_migrations WHERE component = ?");
  if (!current.ok()) return fail(current.take_error());
  current->bind(1, component);
  auto row = current->step();
  if (!row.ok()) return fail(row.take_error());
  const int64_t have = current->int64(0);
  const int64_t latest = migrations.empty() ? 0 : migrations.back().version;
  if (have > latest) {
    return fail(Error(ErrorCode::unavailable,
                      "the metadata store's " + component + " schema (version " + std::to_string(have) +
                          ") was written by a newer pluto-duck",
                      "upgrade pluto-duck, or use another --data-dir"));
  }
  for (const auto& m : migrations) {
    if (m.version <= have) continue;
    if (auto st = db_.exec(m.sql); !st.ok()) return fail(st.take_error());
    auto ins = db_.prepare("INSERT INTO schema_migrations (component, version, name) VALUES (?, ?, ?)");
    if (!ins.ok()) return fail(ins.take_error());
    ins->bind(1, component).bind(2, m.version).bind(3, m.name);
    if (auto st = ins->run(); !st.ok()) return fail(st.take_error());
    log::debug("applied metadata migration", {{"component", component}, {"version", m.version}, {"name", m.name}});
  }
  return db_.exec("COMMIT");
}

Status Store::with_db(const std::function<Status(SqliteDb&)>& fn, bool transaction) {
  std::lock_guard lock(mu_);
  if (!transaction) return fn(db_);
  PLUTO_TRY(db_.exec("BEGIN IMMEDIATE"));
  auto st = fn(db_);
  if (!st.ok()) {
    (void)db_.exec("ROLLBACK");
    return st;
  }
  return db_.exec("COMMIT");
}

Status Store::save_query(const QueryRecord& r) {
  return with_db([&](SqliteDb& db) -> Status {
    PLUTO_ASSIGN_OR_RETURN(auto st,
                           db.prepare("INSERT INTO query_history (run_id, sql, status, origin, submitted_at, "
                                      "started_at, finished_at, duration_ms, row_count, error) VALUES "
                                      "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (run_id) DO UPDATE SET "
                                      "status = ?3, started_at = ?6, finished_at = ?7, duration_ms = ?8, "
                                      "row_count = ?9, error = ?10"));
    st.bind(1, r.run_id).bind(2, r.sql).bind(3, r.status).bind(4, r.origin).bind(5, r.submitted_at);
    st.bind(6, r.started_at).bind(7, r.finished_at).bind(8, r.duration_ms).bind(9, r.row_count).bind(10, r.error);
    return st.run();
  });
}

namespace {
constexpr const char* kQueryColumns =
    "run_id, sql, status, origin, submitted_at, started_at, finished_at, duration_ms, row_count, error";

QueryRecord read_query(const Statement& st) {
  QueryRecord r;
  r.run_id = st.text(0);
  r.sql = st.text(1);
  r.status = st.text(2);
  r.origin = st.text(3);
  r.submitted_at = st.text(4);
  r.started_at = st.opt_text(5);
  r.finished_at = st.opt_text(6);
  r.duration_ms = st.opt_int64(7);
  r.row_count = st.opt_int64(8);
  r.error = st.opt_text(9);
  return r;
}
}  // namespace

Result<std::optional<QueryRecord>> Store::get_query(const std::string& run_id) {
  std::optional<QueryRecord> out;
  PLUTO_TRY(with_db([&](SqliteDb& db) -> Status {
    PLUTO_ASSIGN_OR_RETURN(auto st,
                           db.prepare(std::string("SELECT ") + kQueryColumns + " FROM query_history WHERE run_id = ?"));
    st.bind(1, run_id);
    PLUTO_ASSIGN_OR_RETURN(bool row, st.step());
    if (row) out = read_query(st);
    return {};
  }));
  return out;
}

Result<std::vector<QueryRecord>> Store::list_queries(const QueryFilter& f) {
  std::vector<QueryRecord> out;
  PLUTO_TRY(with_db([&](SqliteDb& db) -> Status {
    PLUTO_ASSIGN_OR_RETURN(
        auto st, db.prepare(std::string("SELECT ") + kQueryColumns +
                            " FROM query_history WHERE (?1 = '' OR instr(lower(sql), lower(?1)) > 0) "
                            "AND (?2 = '' OR status = ?2) ORDER BY submitted_at DESC, run_id DESC LIMIT ?3 OFFSET ?4"));
    st.bind(1, f.text).bind(2, f.status).bind(3, f.limit).bind(4, f.offset);
    while (true) {
      PLUTO_ASSIGN_OR_RETURN(bool row, st.step());
      if (!row) break;
      out.push_back(read_query(st));
    }
    return {};
  }));
  return out;
}

Result<int64_t> Store::interrupt_unfinished_queries(const std::string& finished_at) {
  int64_t n = 0;
  PLUTO_TRY(with_db([&](SqliteDb& db) -> Status {
    PLUTO_ASSIGN_OR_RETURN(auto st, db.prepare("UPDATE query_history SET status = 'interrupted', finished_at = ?1, "
                                               "error = 'the process running this query stopped before it finished' "
                                               "WHERE status IN ('queued', 'running')"));
    st.bind(1, finished_at);
    PLUTO_TRY(st.run());
    n = db.changes();
    return {};
  }));
  return n;
}

}  // namespace pluto::store
