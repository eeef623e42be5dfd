#include "pluto/ingest/sql_util.hpp"

#include "pluto/warehouse/value_format.hpp"

namespace pluto::ingest {

Result<std::vector<Row>> query_rows(warehouse::Connection& conn, std::string_view sql,
                                    const std::vector<std::string>& params) {
  PLUTO_ASSIGN_OR_RETURN(auto ps, conn.prepare(sql));
  for (size_t i = 0; i < params.size(); ++i) PLUTO_TRY(ps.bind(i + 1, std::string_view(params[i])));
  PLUTO_ASSIGN_OR_RETURN(auto result, ps.execute());
  const idx_t ncols = result.column_count();
  std::vector<warehouse::ColumnFormatter> formatters;
  formatters.reserve(ncols);
  for (idx_t c = 0; c < ncols; ++c) {
    auto type = result.column_type(c);
    PLUTO_ASSIGN_OR_RETURN(auto f, warehouse::ColumnFormatter::create(type.get()));
    formatters.push_back(std::move(f));
  }
  std::vector<Row> rows;
  while (auto chunk = result.next_chunk()) {
    for (idx_t c = 0; c < ncols; ++c) formatters[c].bind(chunk->column(c));
    for (idx_t r = 0; r < chunk->size(); ++r) {
      Row row;
      row.reserve(ncols);
      for (idx_t c = 0; c < ncols; ++c) {
        if (formatters[c].is_null(r)) {
          row.emplace_back(std::nullopt);
        } else {
          std::string text;
          formatters[c].append_text(text, r);
          row.emplace_back(std::move(text));
        }
      }
      rows.push_back(std::move(row));
    }
  }
  if (auto err = result.stream_error()) return *err;
  return rows;
}

Result<std::optional<std::string>> query_value(warehouse::Connection& conn, std::string_view sql,
                                               const std::vector<std::string>& params) {
  PLUTO_ASSIGN_OR_RETURN(auto rows, query_rows(conn, sql, params));
  if (rows.empty() || rows.front().empty()) return std::optional<std::string>();
  return rows.front().front();
}

Result<std::vector<warehouse::ColumnInfo>> select_columns(warehouse::Connection& conn, std::string_view select_sql) {
  PLUTO_ASSIGN_OR_RETURN(auto ps, conn.prepare(select_sql));
  std::vector<warehouse::ColumnInfo> out;
  const idx_t n = duckdb_prepared_statement_column_count(ps.get());
  out.reserve(n);
  for (idx_t i = 0; i < n; ++i) {
    // The C API hands out a copy of the name that we must free.
    const char* name = duckdb_prepared_statement_column_name(ps.get(), i);
    std::string owned = name != nullptr ? name : "";
    duckdb_free(const_cast<char*>(name));
    warehouse::LogicalType type(duckdb_prepared_statement_column_logical_type(ps.get(), i));
    out.push_back({std::move(owned), type.name()});
  }
  return out;
}

Result<std::vector<warehouse::ColumnInfo>> table_columns(warehouse::Connection& conn, const std::string& schema,
                                                         const std::string& table) {
  PLUTO_ASSIGN_OR_RETURN(auto rows, query_rows(conn,
                                               "SELECT column_name, data_type FROM duckdb_columns() WHERE "
                                               "database_name = current_database() AND schema_name = $1 AND "
                                               "table_name = $2 ORDER BY column_index",
                                               {schema, table}));
  std::vector<warehouse::ColumnInfo> out;
  for (auto& r : rows) out.push_back({r[0].value_or(""), r[1].value_or("")});
  return out;
}

}  // namespace pluto::ingest
