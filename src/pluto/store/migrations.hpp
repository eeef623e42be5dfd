#pragma once
// Numbered schema migrations of the metadata store, per component: each component (store itself,
// events, jobs, ingest, transform, agent…) owns its tables and its own numbered list, applied with
// Store::migrate(component, list). Append only: never edit a released one.
#include <array>
#include <span>

namespace pluto::store {

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

// The store's own tables.
inline constexpr std::array kMigrations = {
    Migration{1, "query history", R"sql(
CREATE TABLE query_history (
  run_id       TEXT PRIMARY KEY,
  sql          TEXT NOT NULL,
  status       TEXT NOT NULL,
  origin       TEXT NOT NULL,
  submitted_at TEXT NOT NULL,
  started_at   TEXT,
  finished_at  TEXT,
  duration_ms  INTEGER,
  row_count    INTEGER,
  error        TEXT
);
CREATE INDEX query_history_submitted ON query_history (submitted_at);
CREATE INDEX query_history_status ON query_history (status);
)sql"},
};

}  // namespace pluto::store
