#include "pluto/warehouse/warehouse.hpp"

#include <algorithm>

namespace pluto::warehouse {

// ---- pool -------------------------------------------------------------------------------------

void ConnectionPool::Lease::release() {
  if (pool_ != nullptr) pool_->give_back(slot_);
  pool_ = nullptr;
}

Status ConnectionPool::fill(Database& db, size_t size) {
  std::vector<Connection> conns;
  for (size_t i = 0; i < size; ++i) {
    PLUTO_ASSIGN_OR_RETURN(auto c, db.connect());
    // Progress is tracked (duckdb_query_progress) but never printed to the terminal.
    PLUTO_TRY(c.run("SET enable_progress_bar = true; SET enable_progress_bar_print = false"));
    conns.push_back(std::move(c));
  }
  std::lock_guard lock(mu_);
  connections_ = std::move(conns);
  free_.clear();
  for (size_t i = connections_.size(); i > 0; --i) free_.push_back(i - 1);
  closed_ = false;
  return {};
}

size_t ConnectionPool::in_use() const {
  std::lock_guard lock(mu_);
  return connections_.size() - free_.size();
}

Result<ConnectionPool::Lease> ConnectionPool::acquire() {
  return acquire_impl(std::nullopt);
}

Result<ConnectionPool::Lease> ConnectionPool::acquire_for(std::chrono::milliseconds timeout) {
  return acquire_impl(timeout);
}

Result<ConnectionPool::Lease> ConnectionPool::acquire_impl(std::optional<std::chrono::milliseconds> timeout) {
  std::unique_lock lock(mu_);
  const uint64_t ticket = next_ticket_++;
  waiting_.push_back(ticket);
  auto ready = [&] { return closed_ || (!free_.empty() && waiting_.front() == ticket); };
  bool got = true;
  if (timeout) {
    got = cv_.wait_for(lock, *timeout, ready);
  } else {
    cv_.wait(lock, ready);
  }
  waiting_.erase(std::find(waiting_.begin(), waiting_.end(), ticket));
  if (!got) {
    cv_.notify_all();
    return Error(ErrorCode::timed_out, "no warehouse connection became free in time",
                 "other queries are running; retry, or raise warehouse.pool_size");
  }
  if (closed_) {
    cv_.notify_all();
    return Error(ErrorCode::unavailable, "the warehouse is closed", "retry once it is open again");
  }
  const size_t slot = free_.back();
  free_.pop_back();
  cv_.notify_all();  // the next ticket in line may now be at the front
  return Lease(this, slot);
}

void ConnectionPool::give_back(size_t slot) {
  std::lock_guard lock(mu_);
  free_.push_back(slot);
  cv_.notify_all();
}

void ConnectionPool::close() {
  std::unique_lock lock(mu_);
  closed_ = true;
  cv_.notify_all();
  cv_.wait(lock, [&] { return free_.size() == connections_.size(); });
  connections_.clear();
  free_.clear();
}

// ---- classification -----------------------------------------------------------------------------

const char* statement_type_name(duckdb_statement_type type) {
  switch (type) {
    case DUCKDB_STATEMENT_TYPE_SELECT: return "SELECT";
    case DUCKDB_STATEMENT_TYPE_INSERT: return "INSERT";
    case DUCKDB_STATEMENT_TYPE_UPDATE: return "UPDATE";
    case DUCKDB_STATEMENT_TYPE_EXPLAIN: return "EXPLAIN";
    case DUCKDB_STATEMENT_TYPE_DELETE: return "DELETE";
    case DUCKDB_STATEMENT_TYPE_PREPARE: return "PREPARE";
    case DUCKDB_STATEMENT_TYPE_CREATE: return "CREATE";
    case DUCKDB_STATEMENT_TYPE_EXECUTE: return "EXECUTE";
    case DUCKDB_STATEMENT_TYPE_ALTER: return "ALTER";
    case DUCKDB_STATEMENT_TYPE_TRANSACTION: return "TRANSACTION";
    case DUCKDB_STATEMENT_TYPE_COPY: return "COPY";
    case DUCKDB_STATEMENT_TYPE_ANALYZE: return "ANALYZE";
    case DUCKDB_STATEMENT_TYPE_VARIABLE_SET: return "VARIABLE_SET";
    case DUCKDB_STATEMENT_TYPE_CREATE_FUNC: return "CREATE_FUNC";
    case DUCKDB_STATEMENT_TYPE_DROP: return "DROP";
    case DUCKDB_STATEMENT_TYPE_EXPORT: return "EXPORT";
    case DUCKDB_STATEMENT_TYPE_PRAGMA: return "PRAGMA";
    case DUCKDB_STATEMENT_TYPE_VACUUM: return "VACUUM";
    case DUCKDB_STATEMENT_TYPE_CALL: return "CALL";
    case DUCKDB_STATEMENT_TYPE_SET: return "SET";
    case DUCKDB_STATEMENT_TYPE_LOAD: return "LOAD";
    case DUCKDB_STATEMENT_TYPE_RELATION: return "RELATION";
    case DUCKDB_STATEMENT_TYPE_EXTENSION: return "EXTENSION";
    case DUCKDB_STATEMENT_TYPE_LOGICAL_PLAN: return "LOGICAL_PLAN";
    case DUCKDB_STATEMENT_TYPE_ATTACH: return "ATTACH";
    case DUCKDB_STATEMENT_TYPE_DETACH: return "DETACH";
    case DUCKDB_STATEMENT_TYPE_MULTI: return "MULTI";
    case DUCKDB_STATEMENT_TYPE_INVALID: return "INVALID";
  }
  return "INVALID";
}

Result<std::vector<StatementInfo>> classify(Connection& conn, std::string_view sql) {
  duckdb_extracted_statements stmts = nullptr;
  const std::string text(sql);
  const idx_t n = duckdb_extract_statements(conn.get(), text.c_str(), &stmts);
  if (n == 0) {
    const char* err = duckdb_extract_statements_error(stmts);
    Error e(ErrorCode::sql_error, err != nullptr && *err != '\0' ? err : "no SQL statement found");
    duckdb_destroy_extracted(&stmts);
    return e;
  }
  std::vector<StatementInfo> out;
  for (idx_t i = 0; i < n; ++i) {
    duckdb_prepared_statement p = nullptr;
    if (duckdb_prepare_extracted_statement(conn.get(), stmts, i, &p) == DuckDBError) {
      const char* err = duckdb_prepare_error(p);
      Error e(ErrorCode::sql_error, err != nullptr ? err : "cannot prepare statement");
      duckdb_destroy_prepare(&p);
      duckdb_destroy_extracted(&stmts);
      return e;
    }
    const auto type = duckdb_prepared_statement_type(p);
    duckdb_destroy_prepare(&p);
    out.push_back(
        {statement_type_name(type), type == DUCKDB_STATEMENT_TYPE_SELECT || type == DUCKDB_STATEMENT_TYPE_EXPLAIN});
  }
  duckdb_destroy_extracted(&stmts);
  return out;
}

Result<StatementSummary> summarize(Connection& conn, std::string_view sql) {
  duckdb_extracted_statements stmts = nullptr;
  const std::string text(sql);
  const idx_t n = duckdb_extract_statements(conn.get(), text.c_str(), &stmts);
  if (n == 0) {
    const char* err = duckdb_extract_statements_error(stmts);
    Error e(ErrorCode::sql_error, err != nullptr && *err != '\0' ? err : "no SQL statement found");
    duckdb_destroy_extracted(&stmts);
    return e;
  }
  StatementSummary out;
  out.count = n;
  if (n == 1) {
    duckdb_prepared_statement p = nullptr;
    if (duckdb_prepare_extracted_statement(conn.get(), stmts, 0, &p) == DuckDBError) {
      const char* err = duckdb_prepare_error(p);
      Error e(ErrorCode::sql_error, err != nullptr ? err : "cannot prepare statement");
      duckdb_destroy_prepare(&p);
      duckdb_destroy_extracted(&stmts);
      return e;
    }
    const auto type = duckdb_prepared_statement_type(p);
    duckdb_destroy_prepare(&p);
    out.single = StatementInfo{statement_type_name(type),
                               type == DUCKDB_STATEMENT_TYPE_SELECT || type == DUCKDB_STATEMENT_TYPE_EXPLAIN};
  }
  duckdb_destroy_extracted(&stmts);
  return out;
}

// ---- catalog ------------------------------------------------------------------------------------

namespace {

std::string quote_if_needed(const std::string& name) {
  const bool plain = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  }) && !(name[0] >= '0' && name[0] <= '9');
  return plain ? name : quote_identifier(name);
}

// Reads a VARCHAR/BIGINT/BOOLEAN cell of a materialized result (catalog queries are small).
std::string cell_text(QueryResult& r, idx_t col, idx_t row) {
  char* v = duckdb_value_varchar(r.raw(), col, row);
  std::string out = v != nullptr ? v : "";
  if (v != nullptr) duckdb_free(v);
  return out;
}
bool cell_null(QueryResult& r, idx_t col, idx_t row) {
  return duckdb_value_is_null(r.raw(), col, row);
}

constexpr const char* kRelationsSql =
    "SELECT database_name, schema_name, table_name, 'table' AS kind, column_count, coalesce(comment, '') "
    "FROM duckdb_tables() WHERE NOT internal AND NOT temporary "
    "UNION ALL "
    "SELECT database_name, schema_name, view_name, 'view', column_count, coalesce(comment, '') "
    "FROM duckdb_views() WHERE NOT internal AND NOT temporary";

}  // namespace

std::string TableInfo::qualified_name() const {
  return quote_if_needed(database) + "." + quote_if_needed(schema) + "." + quote_if_needed(name);
}

Result<std::vector<TableInfo>> list_tables(Connection& conn) {
  PLUTO_ASSIGN_OR_RETURN(auto r, conn.execute(std::string(kRelationsSql) + " ORDER BY 1, 2, 3"));
  std::vector<TableInfo> out;
  const idx_t n = duckdb_row_count(r.raw());
  for (idx_t i = 0; i < n; ++i) {
    TableInfo t;
    t.database = cell_text(r, 0, i);
    t.schema = cell_text(r, 1, i);
    t.name = cell_text(r, 2, i);
    t.kind = cell_text(r, 3, i);
    t.column_count = duckdb_value_int64(r.raw(), 4, i);
    t.comment = cell_text(r, 5, i);
    out.push_back(std::move(t));
  }
  for (auto& t : out) {
    if (t.kind != "table") continue;
    // Names come from the catalog, and are quoted: count(*) on a table is answered from metadata.
    PLUTO_ASSIGN_OR_RETURN(auto c, conn.execute("SELECT count(*) FROM " + quote_identifier(t.database) + "." +
                                                quote_identifier(t.schema) + "." + quote_identifier(t.name)));
    t.row_count = duckdb_value_int64(c.raw(), 0, 0);
  }
  return out;
}

Result<TableDetail> describe_table(Connection& conn, std::string_view name) {
  PLUTO_ASSIGN_OR_RETURN(
      auto stmt,
      conn.prepare(std::string("SELECT * FROM (") + kRelationsSql +
                   ") r WHERE table_name = $1 OR schema_name || '.' || table_name = $1 "
                   "OR database_name || '.' || schema_name || '.' || table_name = $1 "
                   "ORDER BY (database_name = current_database()) DESC, (schema_name = current_schema()) DESC, "
                   "database_name, schema_name LIMIT 1"));
  PLUTO_TRY(stmt.bind(1, name));
  PLUTO_ASSIGN_OR_RETURN(auto r, stmt.execute());
  if (duckdb_row_count(r.raw()) == 0) {
    return Error(ErrorCode::not_found, "no table or view named '" + std::string(name) + "'",
                 "run `pluto-duck tables` to see what exists");
  }
  TableDetail d;
  d.table.database = cell_text(r, 0, 0);
  d.table.schema = cell_text(r, 1, 0);
  d.table.name = cell_text(r, 2, 0);
  d.table.kind = cell_text(r, 3, 0);
  d.table.column_count = duckdb_value_int64(r.raw(), 4, 0);
  d.table.comment = cell_text(r, 5, 0);

  PLUTO_ASSIGN_OR_RETURN(auto cols, conn.prepare("SELECT column_name, data_type, is_nullable, column_default, "
                                                 "coalesce(comment, '') FROM duckdb_columns() WHERE "
                                                 "database_name = $1 AND schema_name = $2 AND table_name = $3 "
                                                 "ORDER BY column_index"));
  PLUTO_TRY(cols.bind(1, std::string_view(d.table.database)));
  PLUTO_TRY(cols.bind(2, std::string_view(d.table.schema)));
  PLUTO_TRY(cols.bind(3, std::string_view(d.table.name)));
  PLUTO_ASSIGN_OR_RETURN(auto cr, cols.execute());
  const idx_t n = duckdb_row_count(cr.raw());
  for (idx_t i = 0; i < n; ++i) {
    ColumnDetail c;
    c.name = cell_text(cr, 0, i);
    c.type = cell_text(cr, 1, i);
    c.nullable = duckdb_value_boolean(cr.raw(), 2, i);
    c.default_value = cell_null(cr, 3, i) ? "" : cell_text(cr, 3, i);
    c.comment = cell_text(cr, 4, i);
    d.columns.push_back(std::move(c));
  }

  const char* def_sql = d.table.kind == "table"
                            ? "SELECT sql FROM duckdb_tables() WHERE database_name = $1 AND schema_name = $2 AND "
                              "table_name = $3"
                            : "SELECT sql FROM duckdb_views() WHERE database_name = $1 AND schema_name = $2 AND "
                              "view_name = $3";
  PLUTO_ASSIGN_OR_RETURN(auto def, conn.prepare(def_sql));
  PLUTO_TRY(def.bind(1, std::string_view(d.table.database)));
  PLUTO_TRY(def.bind(2, std::string_view(d.table.schema)));
  PLUTO_TRY(def.bind(3, std::string_view(d.table.name)));
  PLUTO_ASSIGN_OR_RETURN(auto dr, def.execute());
  if (duckdb_row_count(dr.raw()) > 0 && !cell_null(dr, 0, 0)) d.definition = cell_text(dr, 0, 0);

  if (d.table.kind == "table") {
    PLUTO_ASSIGN_OR_RETURN(auto c,
                           conn.execute("SELECT count(*) FROM " + quote_identifier(d.table.database) + "." +
                                        quote_identifier(d.table.schema) + "." + quote_identifier(d.table.name)));
    d.table.row_count = duckdb_value_int64(c.raw(), 0, 0);
  }
  return d;
}

Status export_query(Connection& conn, std::string_view select_sql, const std::filesystem::path& path,
                    std::string_view format) {
  if (format != "parquet" && format != "csv" && format != "json") {
    return Error(ErrorCode::invalid_argument, "cannot export as '" + std::string(format) + "'",
                 "use parquet, csv or json");
  }
  std::string options = "FORMAT " + std::string(format);
  if (format == "csv") options += ", HEADER true";
  if (format == "json") options += ", ARRAY true";
  // COPY takes no bound parameters for its path; the path is quoted as a literal.
  return conn.run("COPY (" + std::string(select_sql) + ") TO " + quote_literal(path.string()) + " (" + options + ")");
}

// ---- warehouse ----------------------------------------------------------------------------------

Result<std::unique_ptr<Warehouse>> Warehouse::open(const WarehouseOptions& options) {
  std::unique_ptr<Warehouse> w(new Warehouse(options));
  PLUTO_TRY(w->open_impl());
  return w;
}

Warehouse::~Warehouse() {
  close();
}

std::string Warehouse::duckdb_version() {
  return duckdb_library_version();
}

Status Warehouse::open_impl() {
  PLUTO_ASSIGN_OR_RETURN(db_, Database::open(options_));
  return pool_.fill(db_, static_cast<size_t>(std::max<int64_t>(1, options_.pool_size)));
}

void Warehouse::close() {
  pool_.close();
  db_.close();
}

Status Warehouse::reopen() {
  if (db_.is_open()) return {};
  PLUTO_TRY(open_impl());
  for (const auto& hook : reopen_hooks_) hook();
  return {};
}

}  // namespace pluto::warehouse
