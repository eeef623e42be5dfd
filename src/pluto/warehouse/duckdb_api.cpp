#include "pluto/warehouse/duckdb_api.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>

namespace pluto::warehouse {
namespace fs = std::filesystem;

namespace {

ErrorCode code_for(duckdb_error_type type) {
  switch (type) {
    case DUCKDB_ERROR_INTERRUPT: return ErrorCode::cancelled;
    case DUCKDB_ERROR_OUT_OF_MEMORY: return ErrorCode::too_large;
    default: return ErrorCode::sql_error;
  }
}

Error result_error(duckdb_result* r) {
  const char* msg = duckdb_result_error(r);
  return Error(code_for(duckdb_result_error_type(r)), msg != nullptr ? msg : "query failed");
}

// DuckDB prints "Parser Error: …" etc. as the message; hints depend on the kind of failure.
Error open_error(const std::string& path, const std::string& message) {
  if (message.find("Could not set lock") != std::string::npos ||
      message.find("Conflicting lock") != std::string::npos) {
    return Error(ErrorCode::locked, "warehouse file " + path + " is locked by another process: " + message,
                 "stop the other process using it (another pluto-duck serve, a DuckDB shell, dbt) or point "
                 "warehouse.path elsewhere");
  }
  return Error(ErrorCode::unavailable, "cannot open warehouse " + path + ": " + message,
               "check that the path is a DuckDB file in a writable directory, or set warehouse.path");
}

}  // namespace

std::string LogicalType::name() const {
  char* s = duckdb_logical_type_get_alias(t_);
  std::string out;
  if (s != nullptr) {
    out = s;
    duckdb_free(s);
    return out;
  }
  // The C API of 1.4 has no type-to-string; build DuckDB's SQL name ourselves.
  switch (id()) {
    case DUCKDB_TYPE_BOOLEAN: return "BOOLEAN";
    case DUCKDB_TYPE_TINYINT: return "TINYINT";
    case DUCKDB_TYPE_SMALLINT: return "SMALLINT";
    case DUCKDB_TYPE_INTEGER: return "INTEGER";
    case DUCKDB_TYPE_BIGINT: return "BIGINT";
    case DUCKDB_TYPE_UTINYINT: return "UTINYINT";
    case DUCKDB_TYPE_USMALLINT: return "USMALLINT";
    case DUCKDB_TYPE_UINTEGER: return "UINTEGER";
    case DUCKDB_TYPE_UBIGINT: return "UBIGINT";
    case DUCKDB_TYPE_FLOAT: return "FLOAT";
    case DUCKDB_TYPE_DOUBLE: return "DOUBLE";
    case DUCKDB_TYPE_TIMESTAMP: return "TIMESTAMP";
    case DUCKDB_TYPE_DATE: return "DATE";
    case DUCKDB_TYPE_TIME: return "TIME";
    case DUCKDB_TYPE_INTERVAL: return "INTERVAL";
    case DUCKDB_TYPE_HUGEINT: return "HUGEINT";
    case DUCKDB_TYPE_UHUGEINT: return "UHUGEINT";
    case DUCKDB_TYPE_VARCHAR: return "VARCHAR";
    case DUCKDB_TYPE_BLOB: return "BLOB";
    case DUCKDB_TYPE_DECIMAL:
      return "DECIMAL(" + std::to_string(duckdb_decimal_width(t_)) + "," + std::to_string(duckdb_decimal_scale(t_)) +
             ")";
    case DUCKDB_TYPE_TIMESTAMP_S: return "TIMESTAMP_S";
    case DUCKDB_TYPE_TIMESTAMP_MS: return "TIMESTAMP_MS";
    case DUCKDB_TYPE_TIMESTAMP_NS: return "TIMESTAMP_NS";
    case DUCKDB_TYPE_ENUM: return "ENUM";
    case DUCKDB_TYPE_LIST: {
      LogicalType child(duckdb_list_type_child_type(t_));
      return child.name() + "[]";
    }
    case DUCKDB_TYPE_ARRAY: {
      LogicalType child(duckdb_array_type_child_type(t_));
      return child.name() + "[" + std::to_string(duckdb_array_type_array_size(t_)) + "]";
    }
    case DUCKDB_TYPE_STRUCT:
    case DUCKDB_TYPE_UNION: {
      const bool is_union = id() == DUCKDB_TYPE_UNION;
      const idx_t n = is_union ? duckdb_union_type_member_count(t_) : duckdb_struct_type_child_count(t_);
      out = is_union ? "UNION(" : "STRUCT(";
      for (idx_t i = 0; i < n; ++i) {
        char* cname = is_union ? duckdb_union_type_member_name(t_, i) : duckdb_struct_type_child_name(t_, i);
        LogicalType child(is_union ? duckdb_union_type_member_type(t_, i) : duckdb_struct_type_child_type(t_, i));
        if (i > 0) out += ", ";
        out += quote_identifier(cname);
        out += ' ';
        out += child.name();
        duckdb_free(cname);
      }
      return out + ")";
    }
    case DUCKDB_TYPE_MAP: {
      LogicalType k(duckdb_map_type_key_type(t_));
      LogicalType v(duckdb_map_type_value_type(t_));
      return "MAP(" + k.name() + ", " + v.name() + ")";
    }
    case DUCKDB_TYPE_UUID: return "UUID";
    case DUCKDB_TYPE_BIT: return "BIT";
    case DUCKDB_TYPE_TIME_TZ: return "TIME WITH TIME ZONE";
    case DUCKDB_TYPE_TIMESTAMP_TZ: return "TIMESTAMP WITH TIME ZONE";
    case DUCKDB_TYPE_BIGNUM: return "BIGNUM";
    case DUCKDB_TYPE_SQLNULL: return "NULL";
    case DUCKDB_TYPE_TIME_NS: return "TIME_NS";
    default: return "UNKNOWN";
  }
}

std::vector<ColumnInfo> QueryResult::columns() {
  std::vector<ColumnInfo> out;
  const idx_t n = column_count();
  out.reserve(n);
  for (idx_t i = 0; i < n; ++i) out.push_back({column_name(i), column_type(i).name()});
  return out;
}

std::optional<DataChunk> QueryResult::next_chunk() {
  duckdb_data_chunk c = duckdb_fetch_chunk(r_);
  if (c == nullptr) return std::nullopt;
  return DataChunk(c);
}

std::optional<Error> QueryResult::stream_error() {
  const char* msg = duckdb_result_error(&r_);
  if (msg == nullptr || *msg == '\0') return std::nullopt;
  return result_error(&r_);
}

double Connection::progress() {
  const auto p = duckdb_query_progress(c_);
  return p.percentage < 0 ? -1.0 : p.percentage / 100.0;
}

namespace {

// The id of the transaction a statement runs in (nullopt if it cannot be read).
std::optional<int64_t> transaction_id(duckdb_connection c) {
  duckdb_result r;
  if (duckdb_query(c, "SELECT CAST(current_transaction_id() AS BIGINT)", &r) != DuckDBSuccess) {
    duckdb_destroy_result(&r);
    return std::nullopt;
  }
  std::optional<int64_t> id;
  duckdb_data_chunk chunk = duckdb_fetch_chunk(r);
  if (chunk != nullptr) {
    if (duckdb_data_chunk_get_size(chunk) == 1) {
      id = static_cast<const int64_t*>(duckdb_vector_get_data(duckdb_data_chunk_get_vector(chunk, 0)))[0];
    }
    duckdb_destroy_data_chunk(&chunk);
  }
  duckdb_destroy_result(&r);
  return id;
}

// True inside a transaction the caller opened (BEGIN … COMMIT). The C API cannot be asked directly,
// and trying BEGIN would abort the caller's transaction when it fails; but in auto-commit mode every
// statement gets a new transaction id, while inside a transaction they share one.
bool in_explicit_transaction(duckdb_connection c) {
  const auto a = transaction_id(c);
  const auto b = transaction_id(c);
  return a && b && *a == *b;
}

}  // namespace

Result<QueryResult> Connection::execute(std::string_view sql, bool streaming) {
  duckdb_extracted_statements stmts = nullptr;
  const std::string text(sql);
  const idx_t n = duckdb_extract_statements(c_, text.c_str(), &stmts);
  if (n == 0) {
    const char* err = duckdb_extract_statements_error(stmts);
    Error e(ErrorCode::sql_error, err != nullptr && *err != '\0' ? err : "no statement to run");
    duckdb_destroy_extracted(&stmts);
    return e;
  }
  // Several statements run as one transaction (unless they manage transactions themselves), so a
  // failure part-way leaves the warehouse exactly as it was. Each is prepared right before it runs
  // because later statements may depend on earlier ones (CREATE then INSERT).
  std::vector<PreparedStatement> prepared_list;
  bool wrap = n > 1;
  Result<QueryResult> last = Error(ErrorCode::internal, "no statement ran");
  auto prepare_at = [&](idx_t i) -> Result<PreparedStatement> {
    duckdb_prepared_statement prepared = nullptr;
    if (duckdb_prepare_extracted_statement(c_, stmts, i, &prepared) == DuckDBError) {
      const char* err = duckdb_prepare_error(prepared);
      Error e(ErrorCode::sql_error, err != nullptr ? err : "cannot prepare statement");
      duckdb_destroy_prepare(&prepared);
      return e;
    }
    PreparedStatement ps(prepared);
    if (ps.statement_type() == DUCKDB_STATEMENT_TYPE_TRANSACTION) wrap = false;
    return ps;
  };
  // A leading TRANSACTION statement disables the wrapper; find out before BEGIN.
  if (wrap) {
    auto first = prepare_at(0);
    if (!first.ok()) {
      duckdb_destroy_extracted(&stmts);
      return first.take_error();
    }
    prepared_list.push_back(std::move(first).value());
  }
  // Already inside the caller's transaction: all or nothing is the caller's to decide.
  if (wrap && in_explicit_transaction(c_)) wrap = false;
  if (wrap) {
    duckdb_result r;
    const bool began = duckdb_query(c_, "BEGIN TRANSACTION", &r) == DuckDBSuccess;
    duckdb_destroy_result(&r);
    wrap = began;
  }
  for (idx_t i = 0; i < n; ++i) {
    Result<PreparedStatement> ps = Error(ErrorCode::internal, "unprepared");
    if (i < prepared_list.size()) {
      ps = std::move(prepared_list[i]);
    } else {
      ps = prepare_at(i);
    }
    if (!ps.ok()) {
      last = ps.take_error();
      break;
    }
    last = ps.value().execute(streaming && !wrap && i + 1 == n);
    if (!last.ok()) break;
  }
  duckdb_destroy_extracted(&stmts);
  if (wrap) {
    duckdb_result r;
    const bool committed = duckdb_query(c_, last.ok() ? "COMMIT" : "ROLLBACK", &r) == DuckDBSuccess;
    if (last.ok() && !committed) last = result_error(&r);
    duckdb_destroy_result(&r);
  }
  return last;
}

Status Connection::run(std::string_view sql) {
  auto r = execute(sql, false);
  if (!r.ok()) return r.take_error();
  return {};
}

Result<PreparedStatement> Connection::prepare(std::string_view sql) {
  duckdb_prepared_statement prepared = nullptr;
  const std::string text(sql);
  if (duckdb_prepare(c_, text.c_str(), &prepared) == DuckDBError) {
    const char* err = duckdb_prepare_error(prepared);
    Error e(ErrorCode::sql_error, err != nullptr ? err : "cannot prepare statement");
    duckdb_destroy_prepare(&prepared);
    return e;
  }
  return PreparedStatement(prepared);
}

Result<Appender> Connection::appender(const std::string& schema, const std::string& table) {
  duckdb_appender a = nullptr;
  if (duckdb_appender_create(c_, schema.c_str(), table.c_str(), &a) == DuckDBError) {
    const char* err = duckdb_appender_error(a);
    Error e(ErrorCode::sql_error, err != nullptr ? err : "cannot create appender for " + table);
    duckdb_appender_destroy(&a);
    return e;
  }
  return Appender(a);
}

namespace {
Status bind_state(duckdb_state st, idx_t index) {
  if (st == DuckDBError) {
    return Error(ErrorCode::invalid_argument, "cannot bind parameter $" + std::to_string(index));
  }
  return {};
}
}  // namespace

Status PreparedStatement::bind(idx_t index, std::string_view value) {
  return bind_state(duckdb_bind_varchar_length(s_, index, value.data(), value.size()), index);
}
Status PreparedStatement::bind(idx_t index, int64_t value) {
  return bind_state(duckdb_bind_int64(s_, index, value), index);
}
Status PreparedStatement::bind(idx_t index, double value) {
  return bind_state(duckdb_bind_double(s_, index, value), index);
}
Status PreparedStatement::bind(idx_t index, bool value) {
  return bind_state(duckdb_bind_boolean(s_, index, value), index);
}
Status PreparedStatement::bind_null(idx_t index) {
  return bind_state(duckdb_bind_null(s_, index), index);
}

Result<QueryResult> PreparedStatement::execute(bool streaming) {
  if (!streaming) {
    duckdb_result r;
    if (duckdb_execute_prepared(s_, &r) == DuckDBError) {
      Error e = result_error(&r);
      duckdb_destroy_result(&r);
      return e;
    }
    return QueryResult(r);
  }
  duckdb_pending_result pending = nullptr;
  if (duckdb_pending_prepared_streaming(s_, &pending) == DuckDBError) {
    const char* err = duckdb_pending_error(pending);
    Error e(ErrorCode::sql_error, err != nullptr ? err : "cannot start statement");
    duckdb_destroy_pending(&pending);
    return e;
  }
  duckdb_result r;
  const auto st = duckdb_execute_pending(pending, &r);
  duckdb_destroy_pending(&pending);
  if (st == DuckDBError) {
    Error e = result_error(&r);
    duckdb_destroy_result(&r);
    return e;
  }
  return QueryResult(r);
}

Status Appender::check(duckdb_state st, const char* what) {
  if (st == DuckDBError) {
    const char* err = duckdb_appender_error(a_);
    return Error(ErrorCode::sql_error, std::string(what) + ": " + (err != nullptr ? err : "appender failed"));
  }
  return {};
}
Status Appender::append(std::string_view v) {
  return check(duckdb_append_varchar_length(a_, v.data(), v.size()), "append");
}
Status Appender::append(int64_t v) {
  return check(duckdb_append_int64(a_, v), "append");
}
Status Appender::append(double v) {
  return check(duckdb_append_double(a_, v), "append");
}
Status Appender::append(bool v) {
  return check(duckdb_append_bool(a_, v), "append");
}
Status Appender::append_null() {
  return check(duckdb_append_null(a_), "append");
}
Status Appender::end_row() {
  return check(duckdb_appender_end_row(a_), "end row");
}
Status Appender::flush() {
  return check(duckdb_appender_flush(a_), "flush");
}
Status Appender::close() {
  return check(duckdb_appender_close(a_), "close");
}

Result<Database> Database::open(const OpenOptions& options) {
  const bool in_memory = options.path.empty() || options.path == ":memory:";
  if (!in_memory) {
    const fs::path parent = fs::absolute(options.path).parent_path();
    std::error_code ec;
    if (!fs::exists(parent, ec)) {
      return Error(ErrorCode::unavailable,
                   "cannot open warehouse " + options.path + ": directory " + parent.string() + " does not exist",
                   "create the directory or set warehouse.path to a file in an existing directory");
    }
    if (!options.read_only && ::access(parent.c_str(), W_OK) != 0) {
      return Error(ErrorCode::unavailable,
                   "cannot open warehouse " + options.path + ": directory " + parent.string() + " is not writable (" +
                       std::strerror(errno) + ")",
                   "fix the permissions or set warehouse.path to a writable location");
    }
  }
  duckdb_config config = nullptr;
  if (duckdb_create_config(&config) == DuckDBError) return Error(ErrorCode::internal, "cannot create DuckDB config");
  auto set = [&](const char* key, const std::string& value) -> Status {
    if (duckdb_set_config(config, key, value.c_str()) == DuckDBError) {
      return Error(ErrorCode::invalid_config, std::string("DuckDB rejected setting ") + key + "='" + value + "'");
    }
    return {};
  };
  Status st = set("autoinstall_known_extensions", "false");
  if (st.ok()) st = set("autoload_known_extensions", "true");
  if (st.ok() && !options.extension_directory.empty()) st = set("extension_directory", options.extension_directory);
  if (st.ok() && !options.memory_limit.empty()) st = set("memory_limit", options.memory_limit);
  if (st.ok() && options.threads > 0) st = set("threads", std::to_string(options.threads));
  if (st.ok() && options.read_only) st = set("access_mode", "READ_ONLY");
  if (!st.ok()) {
    duckdb_destroy_config(&config);
    return st.take_error();
  }
  Database db;
  char* err = nullptr;
  const std::string path = in_memory ? std::string() : options.path;
  const auto state = duckdb_open_ext(in_memory ? nullptr : path.c_str(), &db.db_, config, &err);
  duckdb_destroy_config(&config);
  if (state == DuckDBError) {
    std::string message = err != nullptr ? err : "unknown error";
    if (err != nullptr) duckdb_free(err);
    db.db_ = nullptr;
    return open_error(options.path, message);
  }
  db.path_ = in_memory ? ":memory:" : options.path;
  db.home_directory_ = options.home_directory;
  return db;
}

Result<Connection> Database::connect() {
  duckdb_connection c = nullptr;
  if (db_ == nullptr) return Error(ErrorCode::unavailable, "the warehouse is closed");
  if (duckdb_connect(db_, &c) == DuckDBError) return Error(ErrorCode::unavailable, "cannot connect to the warehouse");
  Connection conn(c);
  if (!home_directory_.empty()) {
    // home_directory is a per-connection setting in DuckDB (not accepted at open time).
    PLUTO_TRY(conn.run("SET home_directory = " + quote_literal(home_directory_)));
  }
  return conn;
}

std::string quote_identifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string quote_literal(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
  return out;
}

std::string_view string_view_of(duckdb_string_t* s) {
  return {duckdb_string_t_data(s), duckdb_string_t_length(*s)};
}

}  // namespace pluto::warehouse
