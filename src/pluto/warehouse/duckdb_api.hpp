#pragma once
// RAII wrappers over the DuckDB C API (duckdb.h). Only the warehouse component and ingest
// connectors include this header; everything else goes through warehouse.hpp.
// Every wrapper is movable, not copyable, and frees its handle exactly once.
#include <duckdb.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pluto/core/error.hpp"

namespace pluto::warehouse {

struct OpenOptions {
  std::string path;                 // ":memory:" or empty for an in-memory database
  std::string memory_limit;         // empty: DuckDB's default
  int64_t threads = 0;              // 0: DuckDB's default (one per core)
  std::string extension_directory;  // extensions are loaded from here, never downloaded
  std::string home_directory;       // DuckDB's home (for ~ in paths); the data dir
  bool read_only = false;
};

class LogicalType {
 public:
  LogicalType() = default;
  explicit LogicalType(duckdb_logical_type t) : t_(t) {}
  ~LogicalType() { reset(); }
  LogicalType(LogicalType&& o) noexcept : t_(std::exchange(o.t_, nullptr)) {}
  LogicalType& operator=(LogicalType&& o) noexcept {
    if (this != &o) {
      reset();
      t_ = std::exchange(o.t_, nullptr);
    }
    return *this;
  }
  LogicalType(const LogicalType&) = delete;
  LogicalType& operator=(const LogicalType&) = delete;

  duckdb_logical_type get() const { return t_; }
  duckdb_type id() const { return duckdb_get_type_id(t_); }
  // DuckDB's SQL name of the type, e.g. "DECIMAL(18,3)", "INTEGER[]", "STRUCT(a INTEGER)".
  std::string name() const;

 private:
  void reset() {
    if (t_ != nullptr) duckdb_destroy_logical_type(&t_);
    t_ = nullptr;
  }
  duckdb_logical_type t_ = nullptr;
};

class DataChunk {
 public:
  explicit DataChunk(duckdb_data_chunk c) : c_(c) {}
  ~DataChunk() {
    if (c_ != nullptr) duckdb_destroy_data_chunk(&c_);
  }
  DataChunk(DataChunk&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
  DataChunk& operator=(DataChunk&& o) noexcept {
    if (this != &o) {
      if (c_ != nullptr) duckdb_destroy_data_chunk(&c_);
      c_ = std::exchange(o.c_, nullptr);
    }
    return *this;
  }
  DataChunk(const DataChunk&) = delete;
  DataChunk& operator=(const DataChunk&) = delete;

  idx_t size() const { return duckdb_data_chunk_get_size(c_); }
  idx_t column_count() const { return duckdb_data_chunk_get_column_count(c_); }
  duckdb_vector column(idx_t i) const { return duckdb_data_chunk_get_vector(c_, i); }
  duckdb_data_chunk get() const { return c_; }

 private:
  duckdb_data_chunk c_ = nullptr;
};

struct ColumnInfo {
  std::string name;
  std::string type;  // DuckDB's SQL type name
};

class QueryResult {
 public:
  QueryResult() = default;
  explicit QueryResult(duckdb_result r) : r_(r), valid_(true) {}
  ~QueryResult() { reset(); }
  QueryResult(QueryResult&& o) noexcept : r_(o.r_), valid_(std::exchange(o.valid_, false)) {}
  QueryResult& operator=(QueryResult&& o) noexcept {
    if (this != &o) {
      reset();
      r_ = o.r_;
      valid_ = std::exchange(o.valid_, false);
    }
    return *this;
  }
  QueryResult(const QueryResult&) = delete;
  QueryResult& operator=(const QueryResult&) = delete;

  idx_t column_count() { return duckdb_column_count(&r_); }
  std::string column_name(idx_t i) { return duckdb_column_name(&r_, i); }
  LogicalType column_type(idx_t i) { return LogicalType(duckdb_column_logical_type(&r_, i)); }
  std::vector<ColumnInfo> columns();
  duckdb_statement_type statement_type() { return duckdb_result_statement_type(r_); }
  duckdb_result_type return_type() { return duckdb_result_return_type(r_); }
  // True when the statement produces rows a caller would want to see (SELECT, SHOW, EXPLAIN…).
  bool returns_rows() { return return_type() == DUCKDB_RESULT_TYPE_QUERY_RESULT; }
  idx_t rows_changed() { return duckdb_rows_changed(&r_); }
  // Next chunk, or nullopt at the end. Streams for streaming results. An error while streaming
  // (e.g. an interrupt) is reported by `stream_error()` after nullopt.
  std::optional<DataChunk> next_chunk();
  std::optional<Error> stream_error();
  duckdb_result* raw() { return &r_; }

 private:
  void reset() {
    if (valid_) duckdb_destroy_result(&r_);
    valid_ = false;
  }
  duckdb_result r_{};
  bool valid_ = false;
};

class PreparedStatement;
class Appender;

class Connection {
 public:
  Connection() = default;
  explicit Connection(duckdb_connection c) : c_(c) {}
  ~Connection() {
    if (c_ != nullptr) duckdb_disconnect(&c_);
  }
  Connection(Connection&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
  Connection& operator=(Connection&& o) noexcept {
    if (this != &o) {
      if (c_ != nullptr) duckdb_disconnect(&c_);
      c_ = std::exchange(o.c_, nullptr);
    }
    return *this;
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more `;`-separated statements; returns the last one's result, streaming
  // (fetched chunk by chunk) when `streaming` is set. Errors carry DuckDB's message.
  Result<QueryResult> execute(std::string_view sql, bool streaming = false);
  // Runs statements and discards results.
  Status run(std::string_view sql);
  Result<PreparedStatement> prepare(std::string_view sql);
  Result<Appender> appender(const std::string& schema, const std::string& table);

  // Safe to call from any thread while another thread runs a statement on this connection.
  void interrupt() { duckdb_interrupt(c_); }
  // Fraction done of the running statement in [0,1], or -1 when unknown.
  double progress();
  duckdb_connection get() const { return c_; }

 private:
  duckdb_connection c_ = nullptr;
};

class PreparedStatement {
 public:
  explicit PreparedStatement(duckdb_prepared_statement s) : s_(s) {}
  ~PreparedStatement() {
    if (s_ != nullptr) duckdb_destroy_prepare(&s_);
  }
  PreparedStatement(PreparedStatement&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  PreparedStatement& operator=(PreparedStatement&& o) noexcept {
    if (this != &o) {
      if (s_ != nullptr) duckdb_destroy_prepare(&s_);
      s_ = std::exchange(o.s_, nullptr);
    }
    return *this;
  }
  PreparedStatement(const PreparedStatement&) = delete;
  PreparedStatement& operator=(const PreparedStatement&) = delete;

  // Parameters are 1-based, as in DuckDB.
  Status bind(idx_t index, std::string_view value);
  Status bind(idx_t index, int64_t value);
  Status bind(idx_t index, double value);
  Status bind(idx_t index, bool value);
  Status bind_null(idx_t index);
  Result<QueryResult> execute(bool streaming = false);
  duckdb_statement_type statement_type() const { return duckdb_prepared_statement_type(s_); }
  duckdb_prepared_statement get() const { return s_; }

 private:
  duckdb_prepared_statement s_ = nullptr;
};

class Appender {
 public:
  explicit Appender(duckdb_appender a) : a_(a) {}
  ~Appender() {
    if (a_ != nullptr) duckdb_appender_destroy(&a_);
  }
  Appender(Appender&& o) noexcept : a_(std::exchange(o.a_, nullptr)) {}
  Appender& operator=(Appender&& o) noexcept {
    if (this != &o) {
      if (a_ != nullptr) duckdb_appender_destroy(&a_);
      a_ = std::exchange(o.a_, nullptr);
    }
    return *this;
  }
  Appender(const Appender&) = delete;
  Appender& operator=(const Appender&) = delete;

  Status append(std::string_view v);
  Status append(int64_t v);
  Status append(double v);
  Status append(bool v);
  Status append_null();
  Status end_row();
  Status flush();
  Status close();
  duckdb_appender get() const { return a_; }

 private:
  Status check(duckdb_state st, const char* what);
  duckdb_appender a_ = nullptr;
};

class Database {
 public:
  Database() = default;
  ~Database() { close(); }
  Database(Database&& o) noexcept
      : db_(std::exchange(o.db_, nullptr)), path_(std::move(o.path_)), home_directory_(std::move(o.home_directory_)) {}
  Database& operator=(Database&& o) noexcept {
    if (this != &o) {
      close();
      db_ = std::exchange(o.db_, nullptr);
      path_ = std::move(o.path_);
      home_directory_ = std::move(o.home_directory_);
    }
    return *this;
  }
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Opens with autoinstall_known_extensions=false: nothing is ever downloaded. A file held by
  // another process gives ErrorCode::locked; an unwritable path ErrorCode::unavailable.
  static Result<Database> open(const OpenOptions& options);
  Result<Connection> connect();
  void close() {
    if (db_ != nullptr) duckdb_close(&db_);
    db_ = nullptr;
  }
  bool is_open() const { return db_ != nullptr; }
  const std::string& path() const { return path_; }

 private:
  duckdb_database db_ = nullptr;
  std::string path_;
  std::string home_directory_;
};

// Quotes an identifier for SQL text: a"b -> "a""b". For the rare places a name cannot be bound.
std::string quote_identifier(std::string_view name);
// Quotes a string literal: it's -> 'it''s'.
std::string quote_literal(std::string_view value);
// The text of a duckdb_string_t (VARCHAR or BLOB vector entry).
std::string_view string_view_of(duckdb_string_t* s);

}  // namespace pluto::warehouse
