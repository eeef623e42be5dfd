#pragma once
// Small helpers over the warehouse's DuckDB wrappers for the ingest component: run a statement with
// text parameters and read its (small) result as text, and read the columns a SELECT would produce
// without running it.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pluto/core/error.hpp"
#include "pluto/warehouse/duckdb_api.hpp"

namespace pluto::ingest {

using Row = std::vector<std::optional<std::string>>;  // NULL is nullopt

// Runs `sql` with `params` bound as VARCHAR ($1, $2… or ?) and returns every row as display text.
Result<std::vector<Row>> query_rows(warehouse::Connection& conn, std::string_view sql,
                                    const std::vector<std::string>& params = {});
// The first column of the first row, or nullopt when there is no row or it is NULL.
Result<std::optional<std::string>> query_value(warehouse::Connection& conn, std::string_view sql,
                                               const std::vector<std::string>& params = {});
// Column names and DuckDB types of a SELECT, from preparing it (binds table functions, runs nothing).
Result<std::vector<warehouse::ColumnInfo>> select_columns(warehouse::Connection& conn, std::string_view select_sql);
// Columns of a warehouse table, in order; empty when the table does not exist.
Result<std::vector<warehouse::ColumnInfo>> table_columns(warehouse::Connection& conn, const std::string& schema,
                                                         const std::string& table);

}  // namespace pluto::ingest
