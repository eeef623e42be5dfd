#pragma once
// The load modes, run inside one DuckDB transaction for all tables of a run: until COMMIT, readers
// see the tables as they were, and a failure, a cancel or a killed process leaves them exactly so
// (DuckDB discards an uncommitted transaction on restart).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pluto/core/cancel.hpp"
#include "pluto/core/error.hpp"
#include "pluto/ingest/connector.hpp"
#include "pluto/ingest/request.hpp"
#include "pluto/warehouse/duckdb_api.hpp"

namespace pluto::ingest {

struct LoadTarget {
  std::string schema;  // "main" unless asked otherwise
  std::string table;
  std::string display() const { return schema + "." + table; }
};

struct TableLoad {
  Relation relation;
  LoadTarget target;
  std::optional<std::string> stored_high_water;  // incremental: from the catalog
};

struct BadRow {
  std::string file;
  int64_t line = 0;
  std::string error;
};

struct TableLoadResult {
  LoadTarget target;
  std::string object;  // what was read
  int64_t rows = 0;    // rows this run wrote (inserted or updated)
  std::optional<int64_t> bytes;
  std::optional<int64_t> skipped_rows;  // skip_bad_rows: lines rejected
  std::vector<BadRow> bad_rows;         // the first few rejected lines
  std::vector<warehouse::ColumnInfo> columns;
  std::optional<std::string> high_water;  // incremental
  std::string high_water_type;
  bool created = false;
  std::vector<std::string> evolved;  // schema changes applied (evolve)
};

struct LoadOptions {
  LoadMode mode = LoadMode::replace;
  std::string cursor;
  std::vector<std::string> keys;
  bool evolve = false;
  std::string session_id;  // names temporary tables
};

// Called about four times a second while a table loads: which one, DuckDB's fraction done of the
// current statement ([0,1], or -1 when unknown) and its row estimate.
using ProgressFn = std::function<void(size_t index, double fraction, uint64_t rows_estimate)>;

// Loads every table in one transaction. On failure everything is rolled back, and the error is
// passed through `session.explain` (which can name a file and line).
Result<std::vector<TableLoadResult>> load_tables(warehouse::Connection& conn, SourceSession& session,
                                                 const std::vector<TableLoad>& loads, const LoadOptions& options,
                                                 const std::shared_ptr<CancelToken>& cancel,
                                                 const ProgressFn& progress);

// True when a value of DuckDB type `from` fits a column of type `to` without loss (same type,
// wider integer, integer to DOUBLE/DECIMAL, DATE to TIMESTAMP, anything to VARCHAR…).
bool type_fits(const std::string& from, const std::string& to);

// Target table names: non-empty, at most 255 bytes, no control characters, not starting with
// "__pluto_" (our temporary objects). Anything else (quotes, spaces, dots) is quoted as is.
Status check_table_name(const std::string& name, const char* what = "table");

}  // namespace pluto::ingest
