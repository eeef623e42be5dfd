#include "pluto/query/query_service.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <list>
#include <map>
#include <mutex>
#include <thread>

#include "pluto/core/clock.hpp"
#include "pluto/core/json_escape.hpp"
#include "pluto/core/log.hpp"
#include "pluto/jobs/job_runner.hpp"
#include "pluto/warehouse/arrow_ipc.hpp"
#include "pluto/warehouse/warehouse.hpp"

namespace pluto::query {
namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxAttachedSpools = 16;

std::string alias_for(const std::string& run_id) {
  std::string a = "spool_";
  for (char c : run_id) a += (std::isalnum(static_cast<unsigned char>(c)) != 0) ? c : '_';
  return a;
}

std::string columns_json(const std::vector<Column>& cols) {
  std::string out = "[";
  for (size_t i = 0; i < cols.size(); ++i) {
    if (i > 0) out += ',';
    out += "{\"name\":";
    append_json_string(out, cols[i].name);
    out += ",\"type\":";
    append_json_string(out, cols[i].type);
    out += '}';
  }
  return out + "]";
}

std::vector<Column> to_columns(const std::vector<warehouse::ColumnInfo>& cols) {
  std::vector<Column> out;
  for (const auto& c : cols) out.push_back({c.name, c.type});
  return out;
}

nlohmann::json columns_to_json(const std::vector<Column>& cols) {
  auto j = nlohmann::json::array();
  for (const auto& c : cols) j.push_back({{"name", c.name}, {"type", c.type}});
  return j;
}

std::vector<Column> columns_from_json(const nlohmann::json& j) {
  std::vector<Column> out;
  if (!j.is_array()) return out;
  for (const auto& c : j) out.push_back({c.value("name", ""), c.value("type", "")});
  return out;
}

// A run as the history records it (status, SQL, timings); live state and rows are added by callers.
QueryResultView view_of(const store::QueryRecord& rec) {
  QueryResultView v;
  v.run_id = rec.run_id;
  v.status = rec.status;
  v.sql = rec.sql;
  v.origin = rec.origin;
  v.submitted_at = rec.submitted_at;
  v.started_at = rec.started_at;
  v.finished_at = rec.finished_at;
  v.duration_ms = rec.duration_ms;
  v.row_count = rec.row_count;
  return v;
}

std::string status_of(jobs::JobStatus s) {
  return std::string(jobs::to_string(s));
}

}  // namespace

std::string QueryResultView::to_json() const {
  std::string out = "{\"run_id\":";
  append_json_string(out, run_id);
  out += ",\"status\":";
  append_json_string(out, status);
  out += ",\"sql\":";
  append_json_string(out, sql);
  out += ",\"origin\":";
  append_json_string(out, origin);
  out += ",\"submitted_at\":";
  append_json_string(out, submitted_at);
  auto opt_str = [&](const char* key, const std::optional<std::string>& v) {
    out += ",\"";
    out += key;
    out += "\":";
    if (v) {
      append_json_string(out, *v);
    } else {
      out += "null";
    }
  };
  auto opt_int = [&](const char* key, const std::optional<int64_t>& v) {
    out += ",\"";
    out += key;
    out += "\":";
    out += v ? std::to_string(*v) : "null";
  };
  opt_str("started_at", started_at);
  opt_str("finished_at", finished_at);
  opt_int("duration_ms", duration_ms);
  opt_int("row_count", row_count);
  out += ",\"columns\":" + columns_json(columns);
  out += ",\"rows\":" + rows_json;
  out += std::string(",\"truncated\":") + (truncated ? "true" : "false");
  out += std::string(",\"spooled\":") + (spooled ? "true" : "false");
  out += ",\"progress\":";
  if (progress >= 0) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4f", progress);
    out += buf;
  } else {
    out += "null";
  }
  out += ",\"events_url\":";
  append_json_string(out, "/api/v1/query/" + run_id + "/events");
  out += ",\"error\":";
  if (error) {
    out += "{\"code\":";
    append_json_string(out, to_string(error->code));
    out += ",\"message\":";
    append_json_string(out, error->message);
    out += ",\"hint\":";
    append_json_string(out, error->hint);
    out += '}';
  } else {
    out += "null";
  }
  return out + "}";
}

Result<DownloadFormat> parse_download_format(std::string_view name) {
  if (name == "json") return DownloadFormat::json;
  if (name == "csv") return DownloadFormat::csv;
  if (name == "parquet") return DownloadFormat::parquet;
  if (name == "arrow") return DownloadFormat::arrow;
  return Error(ErrorCode::invalid_argument, "unknown format '" + std::string(name) + "'",
               "use json, csv, parquet or arrow");
}

ServiceOptions ServiceOptions::from_config(const Config& config) {
  ServiceOptions o;
  o.results_dir = config.data_dir() / "results";
  o.default_timeout_ms = config.get_int("query.timeout_seconds") * 1000;
  o.default_max_rows = config.get_int("query.max_rows");
  o.results_max_bytes = config.get_int("query.results_max_mb") << 20U;
  o.results_max_age = std::chrono::hours(config.get_int("query.results_max_age_hours"));
  return o;
}

// What a finished run leaves in memory for the synchronous answer.
struct RunOutcome {
  std::vector<Column> columns;
  std::string rows_json = "[]";
  int64_t row_count = 0;
  bool truncated = false;
  bool spooled = false;
};

struct QueryService::Impl {
  ServiceOptions opts;
  store::Store& store;
  warehouse::Warehouse& wh;
  jobs::JobRunner& jobs;

  std::mutex mu;
  std::map<std::string, std::shared_ptr<RunOutcome>> outcomes;  // recent runs (sync answers)
  std::list<std::string> outcome_order;

  // A separate in-memory DuckDB reads spool files, so paging and downloads never touch the warehouse
  // (they work even while dbt holds it exclusively).
  std::mutex spool_mu;
  warehouse::Database spool_db;
  std::optional<warehouse::Connection> spool_conn;
  std::list<std::string> attached;  // LRU of attached spool run ids

  Impl(ServiceOptions o, store::Store& s, warehouse::Warehouse& w, jobs::JobRunner& j)
      : opts(std::move(o)), store(s), wh(w), jobs(j) {}

  fs::path spool_path(const std::string& run_id) const { return opts.results_dir / (run_id + ".duckdb"); }

  void remember(const std::string& run_id, std::shared_ptr<RunOutcome> o) {
    std::lock_guard lock(mu);
    outcomes[run_id] = std::move(o);
    outcome_order.push_back(run_id);
    while (outcome_order.size() > 256) {
      outcomes.erase(outcome_order.front());
      outcome_order.pop_front();
    }
  }
  std::shared_ptr<RunOutcome> outcome(const std::string& run_id) {
    std::lock_guard lock(mu);
    auto it = outcomes.find(run_id);
    return it == outcomes.end() ? nullptr : it->second;
  }

  Result<nlohmann::json> execute(const QueryRequest& req, jobs::JobContext& ctx, store::QueryRecord rec);
  Result<warehouse::Connection*> spool_reader(const std::string& run_id);
  void detach_spool_locked(const std::string& run_id);
};

QueryService::QueryService(ServiceOptions options, store::Store& store, warehouse::Warehouse& warehouse,
                           jobs::JobRunner& jobs)
    : impl_(std::make_unique<Impl>(std::move(options), store, warehouse, jobs)) {
  std::error_code ec;
  fs::create_directories(impl_->opts.results_dir, ec);
  // Runs whose job was marked interrupted (its process died) show as interrupted in the history too.
  (void)store.with_db([](store::SqliteDb& db) -> Status {
    auto has_jobs = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'jobs'");
    if (!has_jobs.ok()) return has_jobs.take_error();
    PLUTO_ASSIGN_OR_RETURN(bool row, has_jobs.value().step());
    if (!row) return {};
    return db.exec(
        "UPDATE query_history SET status = 'interrupted', error = coalesce(error, 'the process running this query "
        "stopped before it finished'), finished_at = coalesce(finished_at, (SELECT finished_at FROM jobs WHERE "
        "jobs.id = query_history.run_id)) WHERE status IN ('queued', 'running') AND run_id IN (SELECT id FROM jobs "
        "WHERE status = 'interrupted')");
  });
  prune_results();
}

QueryService::~QueryService() {
  std::lock_guard lock(impl_->spool_mu);
  impl_->spool_conn.reset();
  impl_->spool_db.close();
}

Result<QueryResultView> QueryService::submit(QueryRequest req) {
  if (req.sql.find_first_not_of(" \t\r\n;") == std::string::npos) {
    return Error(ErrorCode::invalid_argument, "the SQL is empty", "send a statement in \"sql\"");
  }
  if (req.timeout_ms && *req.timeout_ms <= 0) {
    return Error(ErrorCode::invalid_argument, "timeout_ms must be positive", "omit it to use query.timeout_seconds");
  }
  if (req.max_rows && *req.max_rows < 0) {
    return Error(ErrorCode::invalid_argument, "max_rows must be zero or more");
  }
  store::QueryRecord rec;
  rec.run_id = req.run_id.empty() ? new_id() : req.run_id;
  rec.sql = req.sql;
  rec.status = "queued";
  rec.origin = req.origin;
  rec.submitted_at = now_rfc3339();
  if (auto st = impl_->store.save_query(rec); !st.ok()) return st.take_error();

  jobs::JobSpec spec;
  spec.id = rec.run_id;
  spec.kind = "query";
  spec.stream = "query/" + rec.run_id;
  spec.origin = req.origin;
  spec.access = jobs::Access::shared;
  spec.timeout = std::chrono::milliseconds(req.timeout_ms.value_or(impl_->opts.default_timeout_ms));
  spec.params = {{"sql", req.sql}};
  auto* impl = impl_.get();
  auto info = impl_->jobs.submit(std::move(spec),
                                 [impl, req, rec](jobs::JobContext& ctx) { return impl->execute(req, ctx, rec); });
  QueryResultView v;
  v.run_id = rec.run_id;
  v.status = "queued";
  v.sql = rec.sql;
  v.origin = rec.origin;
  v.submitted_at = rec.submitted_at;
  return v;
}

Result<nlohmann::json> QueryService::Impl::execute(const QueryRequest& req, jobs::JobContext& ctx,
                                                   store::QueryRecord rec) {
  const auto start = std::chrono::steady_clock::now();
  const auto& token = ctx.cancel_token();
  auto finish_record = [&](const std::string& status, const std::optional<int64_t>& rows,
                           const std::optional<std::string>& error) {
    rec.status = status;
    rec.finished_at = now_rfc3339();
    rec.duration_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    rec.row_count = rows;
    rec.error = error;
    if (auto st = store.save_query(rec); !st.ok()) log::warn("cannot record query", {{"error", st.error().message}});
  };
  auto fail = [&](Error e) -> Result<nlohmann::json> {
    const auto reason = token->reason();
    const std::string status = reason == CancelReason::timed_out                                  ? "timed_out"
                               : (reason != CancelReason::none || e.code == ErrorCode::cancelled) ? "cancelled"
                                                                                                  : "failed";
    finish_record(status, std::nullopt, e.message);
    return e;
  };

  // A free connection, waiting in line (and cancellably) when all are busy.
  auto lease = wh.pool().acquire_for(std::chrono::milliseconds(0));
  if (!lease.ok() && lease.error().code == ErrorCode::timed_out) {
    ctx.emit("query.waiting", {{"reason", "waiting for a free warehouse connection (warehouse.pool_size)"}});
    while (!lease.ok() && lease.error().code == ErrorCode::timed_out && !token->cancelled()) {
      lease = wh.pool().acquire_for(std::chrono::milliseconds(100));
    }
  }
  if (token->cancelled()) return fail(Error(ErrorCode::cancelled, "query cancelled"));
  if (!lease.ok()) return fail(lease.take_error());
  warehouse::Connection& conn = lease.value().connection();

  rec.status = "running";
  rec.started_at = now_rfc3339();
  (void)store.save_query(rec);

  if (req.validator) {
    if (auto st = req.validator(conn, req.sql); !st.ok()) return fail(st.take_error());
  }

  // Interrupt DuckDB on cancel or timeout; report progress while it runs.
  CancelScope interrupt(token, [&conn] { conn.interrupt(); });
  // Progress is sampled every 250 ms; the sampler wakes at once when the statement ends.
  std::mutex progress_mu;
  std::condition_variable progress_cv;
  bool done = false;
  std::thread progress([&] {
    double last = -1;
    std::unique_lock lock(progress_mu);
    while (!progress_cv.wait_for(lock, std::chrono::milliseconds(250), [&] { return done; })) {
      // An interrupt sent before DuckDB started the statement is lost; keep sending it.
      if (token->cancelled()) conn.interrupt();
      const double p = conn.progress();
      if (p >= 0 && p != last) {
        last = p;
        ctx.set_progress(p);
        ctx.emit("query.progress", {{"progress", p}});
      }
    }
  });
  struct Joiner {
    std::mutex& mu;
    std::condition_variable& cv;
    bool& done;
    std::thread& t;
    ~Joiner() {
      {
        std::lock_guard lock(mu);
        done = true;
      }
      cv.notify_all();
      t.join();
    }
  } joiner{progress_mu, progress_cv, done, progress};

  if (token->cancelled()) return fail(Error(ErrorCode::cancelled, "query cancelled"));
  auto kinds = warehouse::summarize(conn, req.sql);
  if (!kinds.ok()) return fail(kinds.take_error());
  const int64_t max_rows = req.max_rows.value_or(opts.default_max_rows);
  auto outcome = std::make_shared<RunOutcome>();

  if (kinds.value().single && kinds.value().single->type == "SELECT") {
    // Spool: the query runs once, into its own DuckDB file; inline rows are read back from it.
    const auto path = spool_path(rec.run_id);
    const auto alias = alias_for(rec.run_id);
    auto cleanup = [&] { (void)conn.run("DETACH DATABASE IF EXISTS " + warehouse::quote_identifier(alias)); };
    if (auto st =
            conn.run("ATTACH " + warehouse::quote_literal(path.string()) + " AS " + warehouse::quote_identifier(alias));
        !st.ok()) {
      return fail(st.take_error());
    }
    if (token->cancelled()) {
      cleanup();
      return fail(Error(ErrorCode::cancelled, "query cancelled"));
    }
    auto ctas = conn.execute("CREATE TABLE " + warehouse::quote_identifier(alias) + ".result AS " + req.sql);
    if (!ctas.ok()) {
      cleanup();
      std::error_code ec;
      fs::remove(path, ec);
      fs::remove(path.string() + ".wal", ec);
      return fail(ctas.take_error());
    }
    ctas = Error(ErrorCode::internal, "consumed");
    auto count = conn.execute("SELECT count(*) FROM " + warehouse::quote_identifier(alias) + ".result");
    if (!count.ok()) {
      cleanup();
      return fail(count.take_error());
    }
    outcome->row_count = duckdb_value_int64(count.value().raw(), 0, 0);
    auto head = conn.execute(
        "SELECT * FROM " + warehouse::quote_identifier(alias) + ".result LIMIT " + std::to_string(max_rows),
        /*streaming=*/true);
    if (!head.ok()) {
      cleanup();
      return fail(head.take_error());
    }
    warehouse::WriteOptions wo;
    wo.format = warehouse::OutputFormat::json_arrays;
    std::string rows;
    auto written = warehouse::write_result(head.value(), wo, warehouse::string_sink(rows));
    head = Error(ErrorCode::internal, "consumed");
    cleanup();
    if (!written.ok()) return fail(written.take_error());
    outcome->columns = to_columns(written.value().columns);
    outcome->rows_json = std::move(rows);
    outcome->truncated = outcome->row_count > static_cast<int64_t>(written.value().rows_written);
    outcome->spooled = true;
  } else {
    auto result = conn.execute(req.sql);
    if (!result.ok()) return fail(result.take_error());
    if (result.value().return_type() != DUCKDB_RESULT_TYPE_NOTHING) {
      warehouse::WriteOptions wo;
      wo.format = warehouse::OutputFormat::json_arrays;
      wo.max_rows = static_cast<uint64_t>(max_rows);
      std::string rows;
      auto written = warehouse::write_result(result.value(), wo, warehouse::string_sink(rows));
      if (!written.ok()) return fail(written.take_error());
      outcome->columns = to_columns(written.value().columns);
      outcome->rows_json = std::move(rows);
      outcome->row_count = static_cast<int64_t>(written.value().rows_total);
      outcome->truncated = written.value().truncated;
      if (result.value().return_type() == DUCKDB_RESULT_TYPE_CHANGED_ROWS && written.value().rows_written == 1) {
        // INSERT/UPDATE/DELETE answer one row with the count of rows changed.
        outcome->row_count = static_cast<int64_t>(result.value().rows_changed());
      }
    }
  }
  if (req.max_bytes && static_cast<int64_t>(outcome->rows_json.size()) > *req.max_bytes) {
    // Keep whole rows only: cut at the last complete row that fits.
    std::string& s = outcome->rows_json;
    size_t cut = s.rfind("],[", static_cast<size_t>(*req.max_bytes));
    s = cut == std::string::npos ? "[]" : s.substr(0, cut + 1) + "]";
    outcome->truncated = true;
  }

  finish_record("succeeded", outcome->row_count, std::nullopt);
  remember(rec.run_id, outcome);
  return nlohmann::json{{"row_count", outcome->row_count},
                        {"columns", columns_to_json(outcome->columns)},
                        {"truncated", outcome->truncated},
                        {"spooled", outcome->spooled},
                        {"inline", outcome->spooled ? nlohmann::json() : nlohmann::json::parse(outcome->rows_json)}};
}

Result<QueryResultView> QueryService::run(QueryRequest request) {
  PLUTO_ASSIGN_OR_RETURN(auto v, submit(std::move(request)));
  return wait(v.run_id);
}

Result<QueryResultView> QueryService::wait(const std::string& run_id,
                                           std::optional<std::chrono::milliseconds> timeout) {
  PLUTO_ASSIGN_OR_RETURN(auto info, impl_->jobs.wait(run_id, timeout));
  return get(run_id);
}

Status QueryService::cancel(const std::string& run_id) {
  auto info = impl_->jobs.get(run_id);
  if (!info.ok() || info->kind != "query") {
    return Error(ErrorCode::not_found, "no query run with id '" + run_id + "'", "list runs with GET /api/v1/query");
  }
  return impl_->jobs.cancel(run_id);
}

Result<QueryResultView> QueryService::get(const std::string& run_id) {
  auto job = impl_->jobs.get(run_id);
  PLUTO_ASSIGN_OR_RETURN(auto rec, impl_->store.get_query(run_id));
  if (!rec) {
    return Error(ErrorCode::not_found, "no query run with id '" + run_id + "'", "list runs with GET /api/v1/query");
  }
  QueryResultView v = view_of(*rec);
  if (job.ok()) {
    // The job knows best while the run is live and for how it ended (timed_out vs cancelled).
    v.status = status_of(job->status);
    v.progress = job->progress;
    if (job->error) v.error = job->error;
    if (!job->result.is_null()) {
      v.columns = columns_from_json(job->result.value("columns", nlohmann::json::array()));
      v.truncated = job->result.value("truncated", false);
      v.spooled = job->result.value("spooled", false);
      if (job->result.contains("inline") && job->result["inline"].is_array())
        v.rows_json = job->result["inline"].dump();
    }
  } else if (rec->error) {
    v.error = Error(ErrorCode::sql_error, *rec->error);
  }
  if (auto o = impl_->outcome(run_id)) {
    v.columns = o->columns;
    v.rows_json = o->rows_json;
    v.truncated = o->truncated;
    v.spooled = o->spooled;
  } else if (v.spooled && v.status == "succeeded") {
    auto p = page(run_id, 0, impl_->opts.default_max_rows);
    if (p.ok()) {
      v.rows_json = p->rows_json;
      v.truncated = p->truncated;
    }
  }
  return v;
}

Result<warehouse::Connection*> QueryService::Impl::spool_reader(const std::string& run_id) {
  if (!spool_db.is_open()) {
    warehouse::OpenOptions o;  // in-memory
    o.threads = 2;
    PLUTO_ASSIGN_OR_RETURN(spool_db, warehouse::Database::open(o));
    PLUTO_ASSIGN_OR_RETURN(auto c, spool_db.connect());
    spool_conn.emplace(std::move(c));
  }
  auto it = std::find(attached.begin(), attached.end(), run_id);
  if (it != attached.end()) {
    attached.splice(attached.end(), attached, it);
    return &*spool_conn;
  }
  const auto path = spool_path(run_id);
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    return Error(ErrorCode::not_found, "the result of run " + run_id + " is no longer kept",
                 "run the query again (results are kept up to query.results_max_age_hours / query.results_max_mb)");
  }
  PLUTO_TRY(spool_conn->run("ATTACH " + warehouse::quote_literal(path.string()) + " AS " +
                            warehouse::quote_identifier(alias_for(run_id)) + " (READ_ONLY)"));
  attached.push_back(run_id);
  while (attached.size() > kMaxAttachedSpools) {
    detach_spool_locked(attached.front());
  }
  return &*spool_conn;
}

void QueryService::Impl::detach_spool_locked(const std::string& run_id) {
  auto it = std::find(attached.begin(), attached.end(), run_id);
  if (it == attached.end()) return;
  attached.erase(it);
  if (spool_conn) (void)spool_conn->run("DETACH DATABASE IF EXISTS " + warehouse::quote_identifier(alias_for(run_id)));
}

bool QueryService::was_spooled(const std::string& run_id) {
  if (auto o = impl_->outcome(run_id)) return o->spooled;
  auto job = impl_->jobs.get(run_id);
  if (job.ok() && job->result.is_object()) return job->result.value("spooled", false);
  // No job record (e.g. a CLI run): a stored result exists only as its file.
  std::error_code ec;
  return std::filesystem::exists(impl_->spool_path(run_id), ec);
}

Result<QueryResultView> QueryService::page(const std::string& run_id, int64_t offset, int64_t limit) {
  if (offset < 0 || limit < 0) return Error(ErrorCode::invalid_argument, "offset and limit must be zero or more");
  PLUTO_ASSIGN_OR_RETURN(auto rec, impl_->store.get_query(run_id));
  if (!rec) return Error(ErrorCode::not_found, "no query run with id '" + run_id + "'");
  if (rec->status != "succeeded") {
    return Error(ErrorCode::conflict, "run " + run_id + " has no result to page (status " + rec->status + ")",
                 rec->status == "running" || rec->status == "queued" ? "wait for it to finish" : "");
  }
  if (!was_spooled(run_id)) {
    return Error(ErrorCode::conflict, "run " + run_id + " has no stored result to page",
                 "only the rows of a single SELECT are stored; its inline rows are in GET /api/v1/query/" + run_id);
  }
  QueryResultView v = view_of(*rec);
  v.spooled = true;
  std::lock_guard lock(impl_->spool_mu);
  PLUTO_ASSIGN_OR_RETURN(auto* conn, impl_->spool_reader(run_id));
  auto r = conn->execute("SELECT * FROM " + warehouse::quote_identifier(alias_for(run_id)) + ".result LIMIT " +
                             std::to_string(limit) + " OFFSET " + std::to_string(offset),
                         true);
  if (!r.ok()) return r.take_error();
  warehouse::WriteOptions wo;
  wo.format = warehouse::OutputFormat::json_arrays;
  std::string rows;
  PLUTO_ASSIGN_OR_RETURN(auto written, warehouse::write_result(r.value(), wo, warehouse::string_sink(rows)));
  v.columns = to_columns(written.columns);
  v.rows_json = std::move(rows);
  v.truncated = rec->row_count && offset + static_cast<int64_t>(written.rows_written) < *rec->row_count;
  return v;
}

Status QueryService::downloadable(const std::string& run_id) {
  PLUTO_ASSIGN_OR_RETURN(auto rec, impl_->store.get_query(run_id));
  if (!rec) return Error(ErrorCode::not_found, "no query run with id '" + run_id + "'");
  if (rec->status != "succeeded") {
    return Error(ErrorCode::conflict, "run " + run_id + " has no result to download (status " + rec->status + ")");
  }
  if (!was_spooled(run_id)) {
    return Error(ErrorCode::conflict, "run " + run_id + " has no stored result to download",
                 "only the rows of a single SELECT are stored");
  }
  return {};
}

Status QueryService::check_download(const std::string& run_id, DownloadFormat format) {
  PLUTO_TRY(downloadable(run_id));
  if (format != DownloadFormat::arrow) return {};
  std::lock_guard lock(impl_->spool_mu);
  PLUTO_ASSIGN_OR_RETURN(auto* conn, impl_->spool_reader(run_id));
  PLUTO_ASSIGN_OR_RETURN(
      auto r, conn->execute("SELECT * FROM " + warehouse::quote_identifier(alias_for(run_id)) + ".result LIMIT 0"));
  return warehouse::check_arrow_columns(r);
}

Status QueryService::download(const std::string& run_id, DownloadFormat format, const warehouse::Sink& sink) {
  PLUTO_TRY(downloadable(run_id));
  std::unique_lock lock(impl_->spool_mu);
  PLUTO_ASSIGN_OR_RETURN(auto* conn, impl_->spool_reader(run_id));
  const std::string table = warehouse::quote_identifier(alias_for(run_id)) + ".result";
  if (format == DownloadFormat::json || format == DownloadFormat::arrow) {
    PLUTO_ASSIGN_OR_RETURN(auto r, conn->execute("SELECT * FROM " + table, true));
    warehouse::WriteOptions wo;
    wo.format = format == DownloadFormat::json ? warehouse::OutputFormat::json : warehouse::OutputFormat::arrow;
    PLUTO_ASSIGN_OR_RETURN(auto written, warehouse::write_result(r, wo, sink));
    (void)written;
    return {};
  }
  // CSV and Parquet: DuckDB's own parallel writers into a temp file, then streamed.
  const auto tmp =
      impl_->opts.results_dir / (run_id + "-" + new_id() + (format == DownloadFormat::csv ? ".csv" : ".parquet"));
  PLUTO_TRY(
      warehouse::export_query(*conn, "SELECT * FROM " + table, tmp, format == DownloadFormat::csv ? "csv" : "parquet"));
  lock.unlock();
  std::ifstream in(tmp, std::ios::binary);
  std::string buf(1 << 20, '\0');
  Status st;
  while (in && st.ok()) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto n = in.gcount();
    if (n > 0) st = sink(std::string_view(buf.data(), static_cast<size_t>(n)));
  }
  std::error_code ec;
  fs::remove(tmp, ec);
  return st;
}

Result<std::vector<store::QueryRecord>> QueryService::history(const store::QueryFilter& filter) {
  return impl_->store.list_queries(filter);
}

Status QueryService::with_connection(const std::function<Status(warehouse::Connection&)>& fn,
                                     const std::shared_ptr<CancelToken>& cancel) {
  PLUTO_ASSIGN_OR_RETURN(auto grant,
                         impl_->jobs.gate().acquire(jobs::Access::shared, cancel, {},
                                                    std::chrono::milliseconds(impl_->opts.default_timeout_ms)));
  PLUTO_ASSIGN_OR_RETURN(auto lease, impl_->wh.pool().acquire());
  return fn(lease.connection());
}

void QueryService::prune_results() {
  struct Spool {
    fs::path path;
    fs::file_time_type mtime;
    uintmax_t size;
  };
  std::vector<Spool> spools;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(impl_->opts.results_dir, ec)) {
    if (e.path().extension() != ".duckdb") continue;
    spools.push_back({e.path(), e.last_write_time(ec), e.file_size(ec)});
  }
  std::sort(spools.begin(), spools.end(), [](const Spool& a, const Spool& b) { return a.mtime > b.mtime; });
  const auto now = fs::file_time_type::clock::now();
  uintmax_t total = 0;
  std::lock_guard lock(impl_->spool_mu);
  for (const auto& s : spools) {
    total += s.size;
    const bool too_old = now - s.mtime > impl_->opts.results_max_age;
    if (!too_old && total <= static_cast<uintmax_t>(impl_->opts.results_max_bytes)) continue;
    impl_->detach_spool_locked(s.path.stem().string());
    fs::remove(s.path, ec);
    fs::remove(s.path.string() + ".wal", ec);
    log::debug("removed query result", {{"path", s.path.string()}, {"too_old", too_old}});
  }
}

}  // namespace pluto::query
