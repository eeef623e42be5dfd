#pragma once
// The warehouse: the only owner of DuckDB. A Warehouse opens the user's DuckDB file, hands out
// pooled connections, and answers catalog questions. Other components see this facade and the
// RAII wrappers of duckdb_api.hpp; no DuckDB exception or C++ type crosses it.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "pluto/core/error.hpp"
#include "pluto/warehouse/duckdb_api.hpp"

namespace pluto::warehouse {

struct WarehouseOptions : OpenOptions {
  int64_t pool_size = 4;
};

// A fixed set of connections handed out in arrival order (FIFO): a caller that arrives first is
// served first when a connection comes back.
class ConnectionPool {
 public:
  class Lease {
   public:
    Lease(ConnectionPool* pool, size_t slot) : pool_(pool), slot_(slot) {}
    ~Lease() { release(); }
    Lease(Lease&& o) noexcept : pool_(std::exchange(o.pool_, nullptr)), slot_(o.slot_) {}
    Lease& operator=(Lease&& o) noexcept {
      if (this != &o) {
        release();
        pool_ = std::exchange(o.pool_, nullptr);
        slot_ = o.slot_;
      }
      return *this;
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Connection& connection() { return pool_->connections_[slot_]; }
    Connection* operator->() { return &connection(); }

   private:
    void release();
    ConnectionPool* pool_ = nullptr;
    size_t slot_ = 0;
  };

  ConnectionPool() = default;
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  Status fill(Database& db, size_t size);
  // Blocks until a connection is free; fails only when the pool is closed.
  Result<Lease> acquire();
  // Gives up after `timeout` with ErrorCode::timed_out.
  Result<Lease> acquire_for(std::chrono::milliseconds timeout);
  // Waits for every lease to come back, then drops all connections. Waiters fail with unavailable.
  void close();
  size_t size() const { return connections_.size(); }
  size_t in_use() const;

 private:
  Result<Lease> acquire_impl(std::optional<std::chrono::milliseconds> timeout);
  void give_back(size_t slot);

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Connection> connections_;
  std::vector<size_t> free_;
  std::deque<uint64_t> waiting_;  // tickets, in arrival order
  uint64_t next_ticket_ = 0;
  bool closed_ = true;
};

struct StatementInfo {
  std::string type;  // "SELECT", "CREATE", "INSERT"… (DuckDB's statement type)
  bool read_only = false;
};
// Splits `sql` into statements and classifies each (duckdb_extract_statements + statement type).
// A statement that does not parse or bind is an ErrorCode::sql_error with DuckDB's message.
Result<std::vector<StatementInfo>> classify(Connection& conn, std::string_view sql);
const char* statement_type_name(duckdb_statement_type type);
// How many statements `sql` holds (parse only: later statements may depend on earlier ones, so they
// are not bound), and for exactly one statement its classification.
struct StatementSummary {
  size_t count = 0;
  std::optional<StatementInfo> single;
};
Result<StatementSummary> summarize(Connection& conn, std::string_view sql);

struct TableInfo {
  std::string database;
  std::string schema;
  std::string name;
  std::string kind;                  // "table" or "view"
  std::optional<int64_t> row_count;  // exact for tables; not computed for views
  int64_t column_count = 0;
  std::string comment;
  std::string qualified_name() const;  // database.schema.name, each part quoted when needed
};

struct ColumnDetail {
  std::string name;
  std::string type;
  bool nullable = true;
  std::string default_value;
  std::string comment;
};

struct TableDetail {
  TableInfo table;
  std::vector<ColumnDetail> columns;
  std::string definition;  // CREATE statement as DuckDB stores it
};

// User tables and views of every attached database, ordered by database, schema, name.
Result<std::vector<TableInfo>> list_tables(Connection& conn);
// Resolves `name` as table, schema.table or database.schema.table (names bound, never pasted).
Result<TableDetail> describe_table(Connection& conn, std::string_view name);

// Writes the rows of one SELECT to a file with DuckDB's COPY (format: parquet, csv or json).
Status export_query(Connection& conn, std::string_view select_sql, const std::filesystem::path& path,
                    std::string_view format);

class Warehouse {
 public:
  static Result<std::unique_ptr<Warehouse>> open(const WarehouseOptions& options);
  ~Warehouse();
  Warehouse(const Warehouse&) = delete;
  Warehouse& operator=(const Warehouse&) = delete;

  ConnectionPool& pool() { return pool_; }
  const WarehouseOptions& options() const { return options_; }
  static std::string duckdb_version();

  // For a tool that must own the DuckDB file (the dbt CLI): waits for every connection to come
  // back and closes the database. reopen() opens it again with the same options.
  void close();
  Status reopen();
  bool is_open() const { return db_.is_open(); }
  // Runs after every reopen() (e.g. to ATTACH live sources again, which a reopen drops).
  void on_reopen(std::function<void()> hook) { reopen_hooks_.push_back(std::move(hook)); }

 private:
  explicit Warehouse(WarehouseOptions options) : options_(std::move(options)) {}
  Status open_impl();

  WarehouseOptions options_;
  Database db_;
  ConnectionPool pool_;
  std::vector<std::function<void()>> reopen_hooks_;
};

}  // namespace pluto::warehouse
