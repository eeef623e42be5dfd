#pragma once
// QueryService: every way into Pluto-Duck (HTTP, CLI, agent) runs SQL through here.
// A query is a job (kind "query", stream "query/<run_id>", shared warehouse access) with a timeout
// enforced by interrupting DuckDB, cancel, progress events, and a history record in the store.
// The rows of a row-returning statement are spooled once to <data_dir>/results/<run_id>.duckdb (a
// DuckDB file keeps every type exactly), so they can be paged and downloaded as JSON, CSV, Parquet or Arrow
// later without running the query again. Nothing is ever written into the warehouse for a result.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "pluto/core/cancel.hpp"
#include "pluto/core/config.hpp"
#include "pluto/core/error.hpp"
#include "pluto/store/store.hpp"
#include "pluto/warehouse/duckdb_api.hpp"
#include "pluto/warehouse/writers.hpp"

namespace pluto::warehouse {
class Warehouse;
}
namespace pluto::jobs {
class JobRunner;
}

namespace pluto::query {

// Checks SQL before it runs (safe mode / the agent's SQL guard). Gets a connection of the warehouse
// so it can parse with DuckDB. Returns permission_denied (or sql_error) with the reason to refuse.
using SqlValidator = std::function<Status(warehouse::Connection& conn, const std::string& sql)>;

struct QueryRequest {
  std::string sql;
  std::optional<int64_t> timeout_ms;  // default: query.timeout_seconds
  std::optional<int64_t> max_rows;    // inline rows; default: query.max_rows
  std::string origin = "api";         // api, cli, agent
  std::string run_id;                 // empty: a new id
  SqlValidator validator;             // optional: refuse before running
  std::optional<int64_t> max_bytes;   // cap on the inline JSON rows (agent results)
};

struct Column {
  std::string name;
  std::string type;
};

struct QueryResultView {
  std::string run_id;
  std::string status;  // queued, running, succeeded, failed, cancelled, timed_out, interrupted
  std::string sql;
  std::string origin;
  std::string submitted_at;
  std::optional<std::string> started_at;
  std::optional<std::string> finished_at;
  std::optional<int64_t> duration_ms;
  std::optional<int64_t> row_count;  // rows of the result (or rows changed)
  std::vector<Column> columns;
  std::string rows_json = "[]";  // inline rows as a JSON array of arrays (capped)
  bool truncated = false;        // more rows exist than are inline
  bool spooled = false;          // rows can be paged/downloaded
  double progress = -1;
  std::optional<Error> error;

  // The HTTP answer shape: {"run_id","status","columns","rows","row_count","truncated","duration_ms",…}
  std::string to_json() const;
};

enum class DownloadFormat { json, csv, parquet, arrow };
Result<DownloadFormat> parse_download_format(std::string_view name);

struct ServiceOptions {
  std::filesystem::path results_dir;  // <data_dir>/results
  int64_t default_timeout_ms = 30000;
  int64_t default_max_rows = 10000;
  int64_t results_max_bytes = int64_t{2} << 30U;  // spool size kept in total
  std::chrono::hours results_max_age{24};         // spool age kept
  static ServiceOptions from_config(const Config& config);
};

class QueryService {
 public:
  QueryService(ServiceOptions options, store::Store& store, warehouse::Warehouse& warehouse, jobs::JobRunner& jobs);
  ~QueryService();
  QueryService(const QueryService&) = delete;
  QueryService& operator=(const QueryService&) = delete;

  // Queues the query and returns at once (status queued).
  Result<QueryResultView> submit(QueryRequest request);
  // Runs the query and waits for its end; a failed query is a view with status failed, not an Error
  // (an Error means the request itself was invalid).
  Result<QueryResultView> run(QueryRequest request);
  // Waits for a submitted query (up to `timeout`) and returns its view.
  Result<QueryResultView> wait(const std::string& run_id, std::optional<std::chrono::milliseconds> timeout = {});
  Status cancel(const std::string& run_id);
  // Status, timings and (for finished runs) the first rows.
  Result<QueryResultView> get(const std::string& run_id);
  // Rows [offset, offset+limit) of a finished run's spooled result, as a JSON array of arrays.
  Result<QueryResultView> page(const std::string& run_id, int64_t offset, int64_t limit);
  // Streams the whole spooled result in `format` to `sink` (json and arrow (the Arrow IPC streaming
  // format) stream chunk by chunk; csv and parquet are written by DuckDB to a temp file first, then streamed).
  Status download(const std::string& run_id, DownloadFormat format, const warehouse::Sink& sink);
  // What `download` would refuse, checked before any byte is sent: an unknown run (not_found), a run
  // without a stored result (conflict), a column arrow cannot carry (invalid_argument, naming it).
  Status check_download(const std::string& run_id, DownloadFormat format);
  Result<std::vector<store::QueryRecord>> history(const store::QueryFilter& filter);
  // Runs `fn` on a pooled warehouse connection with shared access, as a query gets it: while an
  // exclusive job (a dbt run) holds the warehouse it waits, up to the default query timeout, instead
  // of failing on a closed warehouse. For short catalog reads (table.list, table.describe).
  Status with_connection(const std::function<Status(warehouse::Connection&)>& fn,
                         const std::shared_ptr<CancelToken>& cancel = nullptr);

  // Deletes spool files past the size/age limits (also done when the service starts).
  void prune_results();

 private:
  bool was_spooled(const std::string& run_id);
  Status downloadable(const std::string& run_id);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pluto::query
