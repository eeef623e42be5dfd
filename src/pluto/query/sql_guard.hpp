#pragma once
// The SQL guard ("safe mode"): decides, on DuckDB's own parse tree, whether SQL is exactly one
// read-only SELECT over the warehouse's tables and views. Used for every statement the agent writes
// and for `query.run` with "mode": "safe". It parses with `json_serialize_sql` (no binding, so nothing
// is read while checking) and walks every node of the tree: select lists, FROM, joins, subqueries,
// CTEs, set operations, function arguments, window specs, ORDER BY, HAVING, QUALIFY, LIMIT…
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "pluto/core/error.hpp"

namespace pluto::warehouse {
class Connection;
}

namespace pluto::query {

struct SqlGuardOptions {
  // Table functions allowed in FROM; every other table function is refused.
  std::vector<std::string> allowed_table_functions{"range", "generate_series", "unnest"};
};

// What an accepted statement reads (for events and explanations).
struct SqlGuardReport {
  std::vector<std::string> tables;     // catalog tables and views, as written in the SQL
  std::vector<std::string> functions;  // function names used, lower case, sorted, unique
};

// Accepts one read-only SELECT over catalog tables/views (attached sources included), CTEs defined
// in the statement, ordinary scalar/aggregate/window functions and the allowed table functions.
// Anything else is ErrorCode::permission_denied naming what was refused, where, and why.
Result<SqlGuardReport> check_sql(warehouse::Connection& conn, std::string_view sql,
                                 const SqlGuardOptions& options = {});

// The guard as a QueryRequest::validator (same signature as query::SqlValidator).
std::function<Status(warehouse::Connection&, const std::string&)> sql_guard_validator(SqlGuardOptions options = {});

}  // namespace pluto::query
