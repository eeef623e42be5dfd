#pragma once
// App metadata in SQLite (WAL): query history now; runs, jobs, events, sources, conversations as
// later migrations add them. Never the user's data. Safe to share between threads and between
// processes (a CLI command and a running server) thanks to WAL and a busy timeout.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "pluto/core/error.hpp"
#include "pluto/store/migrations.hpp"
#include "pluto/store/sqlite.hpp"

namespace pluto::store {

struct QueryRecord {
  std::string run_id;
  std::string sql;
  std::string status;        // queued, running, succeeded, failed, cancelled, timed_out, interrupted
  std::string origin;        // api, cli, agent
  std::string submitted_at;  // RFC 3339
  std::optional<std::string> started_at;
  std::optional<std::string> finished_at;
  std::optional<int64_t> duration_ms;
  std::optional<int64_t> row_count;
  std::optional<std::string> error;
};

struct QueryFilter {
  std::string text;    // substring of the SQL (case-insensitive); empty: any
  std::string status;  // exact status; empty: any
  int64_t limit = 50;
  int64_t offset = 0;
};

class Store {
 public:
  // Opens (creating) the SQLite file in WAL mode and applies pending migrations.
  static Result<std::unique_ptr<Store>> open(const std::filesystem::path& file);

  // Version of the store's own schema (component "store").
  int schema_version();
  static int latest_schema_version();
  // Applies a component's pending migrations (each once, in order, in one transaction). Components
  // call this when their service is created; two processes doing it at once is safe.
  Status migrate(const std::string& component, std::span<const Migration> migrations);
  int component_version(const std::string& component);

  Status save_query(const QueryRecord& record);  // insert or update by run_id
  Result<std::optional<QueryRecord>> get_query(const std::string& run_id);
  Result<std::vector<QueryRecord>> list_queries(const QueryFilter& filter);
  // Marks runs left `queued`/`running` by a process that died as `interrupted`; returns how many.
  Result<int64_t> interrupt_unfinished_queries(const std::string& finished_at);

  // Runs `fn` with exclusive use of the connection, inside a transaction when `transaction` is set.
  Status with_db(const std::function<Status(SqliteDb&)>& fn, bool transaction = false);

 private:
  explicit Store(SqliteDb db) : db_(std::move(db)) {}

  std::mutex mu_;
  SqliteDb db_;
};

}  // namespace pluto::store
