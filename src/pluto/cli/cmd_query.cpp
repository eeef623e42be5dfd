// `pluto-duck query SQL`: runs SQL against the warehouse and prints or writes the result.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "pluto/api/client.hpp"
#include "pluto/cli/context.hpp"
#include "pluto/cli/sigint.hpp"
#include "pluto/cli/table_printer.hpp"
#include "pluto/core/clock.hpp"
#include "pluto/core/log.hpp"
#include "pluto/query/sql_guard.hpp"
#include "pluto/store/store.hpp"
#include "pluto/warehouse/warehouse.hpp"
#include "pluto/warehouse/writers.hpp"

namespace pluto::cli {
namespace {

struct QueryOptions {
  std::string sql;
  std::string file;
  std::string format;
  std::string output;
  std::optional<int64_t> timeout;
  std::string server;
  bool safe = false;
};

Result<std::string> read_sql(const QueryOptions& o) {
  if (!o.file.empty()) {
    std::ifstream in(o.file);
    if (!in) {
      return Error(ErrorCode::unavailable, "cannot read SQL file " + o.file, "check the path and its permissions");
    }
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  if (o.sql == "-") {
    std::stringstream ss;
    ss << std::cin.rdbuf();
    return ss.str();
  }
  if (o.sql.empty()) {
    return Error(ErrorCode::invalid_argument, "no SQL given", "pass SQL as an argument, '-' for stdin, or --file FILE");
  }
  return o.sql;
}

// Renders a JSON array of row objects as an aligned table (remote results).
std::string json_rows_as_table(const std::string& text) {
  auto rows = nlohmann::json::parse(text, nullptr, false);
  if (!rows.is_array() || rows.empty() || !rows[0].is_object()) return "(0 rows)\n";
  std::vector<std::string> header;
  for (const auto& [k, v] : rows[0].items()) header.push_back(k);
  TablePrinter p(header);
  for (const auto& r : rows) {
    std::vector<std::string> cells;
    for (const auto& h : header) {
      const auto& v = r.contains(h) ? r[h] : nlohmann::json();
      cells.push_back(v.is_null() ? "NULL" : v.is_string() ? v.get<std::string>() : v.dump());
    }
    p.add(std::move(cells));
  }
  return p.render() + "(" + std::to_string(rows.size()) + (rows.size() == 1 ? " row)\n" : " rows)\n");
}

int run_remote(Context& ctx, const QueryOptions& o, const std::string& sql, const std::string& format) {
  auto cfg = ctx.config();
  if (!cfg.ok()) return ctx.fail(cfg.error());
  if (format == "ndjson") {
    return ctx.fail(Error(ErrorCode::invalid_argument, "--server does not support --format ndjson",
                          "use table, csv, json, arrow or parquet"));
  }
  api::RemoteQuery q;
  q.url = o.server;
  q.token = cfg.value()->get("server.api_token");
  q.sql = sql;
  if (o.timeout) q.timeout_ms = *o.timeout * 1000;
  q.format = format == "table" ? "json" : format;
  SigintGuard sigint;
  q.interrupt = &sigint_flag();
  std::FILE* out = stdout;
  if (!o.output.empty()) {
    out = std::fopen(o.output.c_str(), "wb");
    if (out == nullptr) {
      return ctx.fail(Error(ErrorCode::unavailable, "cannot write " + o.output + ": " + std::strerror(errno)));
    }
  }
  std::string buffered;  // the table format needs the whole answer
  auto sink = format == "table" ? warehouse::string_sink(buffered) : warehouse::file_sink(out);
  auto r = api::run_remote_query(q, sink);
  if (r.ok() && r.value().status == "succeeded" && format == "table")
    std::fputs(json_rows_as_table(buffered).c_str(), out);
  if (out != stdout) std::fclose(out);
  if (format == "arrow" && !o.output.empty() && (!r.ok() || r.value().status != "succeeded")) {
    std::remove(o.output.c_str());  // a stream cut short is no Arrow file
  }
  if (!r.ok()) return ctx.fail(r.error());
  const auto& outcome = r.value();
  if (outcome.status == "succeeded") return kExitOk;
  if (outcome.status == "cancelled") return ctx.fail(Error(ErrorCode::cancelled, "query interrupted"));
  return ctx.fail(Error(outcome.status == "timed_out" ? ErrorCode::timed_out : ErrorCode::sql_error,
                        outcome.error_message.empty() ? "query " + outcome.status : outcome.error_message));
}

int run_query(Context& ctx, const QueryOptions& o) {
  if (o.timeout) ctx.set_flag("query.timeout_seconds", std::to_string(*o.timeout), "--timeout");
  auto sql_r = read_sql(o);
  if (!sql_r.ok()) return ctx.fail(sql_r.error());
  const std::string sql = sql_r.value();

  std::string format = o.format.empty() ? (ctx.json() ? "json" : "table") : o.format;
  const bool parquet = format == "parquet";
  warehouse::OutputFormat out_format = warehouse::OutputFormat::table;
  if (parquet) {
    if (o.output.empty()) {
      return ctx.fail(Error(ErrorCode::invalid_argument, "--format parquet needs --output FILE",
                            "Parquet is binary; write it to a file"));
    }
  } else {
    auto f = warehouse::parse_output_format(format);
    if (!f.ok()) return ctx.fail(f.error());
    out_format = f.value();
  }
  if (out_format == warehouse::OutputFormat::arrow && o.output.empty() && ::isatty(STDOUT_FILENO) != 0) {
    return ctx.fail(Error(ErrorCode::invalid_argument, "--format arrow writes a binary Arrow IPC stream",
                          "write it to a file with --output FILE.arrows, or pipe it into a program"));
  }

  if (!o.server.empty() && o.safe) {
    return ctx.fail(Error(ErrorCode::invalid_argument, "--safe runs in process",
                          "drop --server, or send {\"mode\": \"safe\"} to POST /api/v1/query"));
  }
  if (!o.server.empty()) return run_remote(ctx, o, sql, format);

  auto rt = ctx.runtime();
  if (!rt.ok()) return ctx.fail(rt.error());
  const Config& cfg = rt.value()->config();
  auto wh = rt.value()->warehouse();
  if (!wh.ok()) return ctx.fail(wh.error());
  auto st = rt.value()->store();
  if (!st.ok()) return ctx.fail(st.error());
  store::Store& store = *st.value();

  store::QueryRecord rec;
  rec.run_id = new_id();
  rec.sql = sql;
  rec.origin = "cli";
  rec.submitted_at = now_rfc3339();
  rec.status = "running";
  rec.started_at = rec.submitted_at;
  if (auto s = store.save_query(rec); !s.ok()) log::warn("cannot record query history", {{"error", s.error().message}});

  auto lease_r = wh.value()->pool().acquire();
  if (!lease_r.ok()) return ctx.fail(lease_r.error());
  auto lease = std::move(lease_r).value();
  warehouse::Connection& conn = lease.connection();

  // A watcher interrupts DuckDB on Ctrl-C or when the timeout passes.
  const auto timeout = std::chrono::seconds(cfg.get_int("query.timeout_seconds"));
  const auto start = std::chrono::steady_clock::now();
  std::atomic<bool> done{false};
  std::atomic<int> reason{0};  // 1 cancelled, 2 timed out
  SigintGuard sigint;
  std::thread watcher([&] {
    while (!done.load()) {
      if (SigintGuard::raised() && reason.load() == 0) {
        reason = 1;
        conn.interrupt();
      } else if (std::chrono::steady_clock::now() - start > timeout && reason.load() == 0) {
        reason = 2;
        conn.interrupt();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });

  std::FILE* out = stdout;
  Result<warehouse::WriteSummary> summary = Error(ErrorCode::internal, "query did not run");
  Status guard;
  if (o.safe) guard = query::sql_guard_validator()(conn, sql);
  if (!guard.ok()) {
    summary = guard.take_error();
  } else if (parquet) {
    auto s = warehouse::classify(conn, sql);
    if (!s.ok()) {
      summary = s.take_error();
    } else if (s.value().size() != 1 || s.value()[0].type != "SELECT") {
      summary = Error(ErrorCode::invalid_argument, "--format parquet needs exactly one SELECT statement");
    } else if (auto e = warehouse::export_query(conn, sql, o.output, "parquet"); !e.ok()) {
      summary = e.take_error();
    } else {
      summary = warehouse::WriteSummary{};
    }
  } else {
    if (!o.output.empty()) {
      out = std::fopen(o.output.c_str(), "wb");
      if (out == nullptr) {
        done = true;
        watcher.join();
        return ctx.fail(Error(ErrorCode::unavailable, "cannot write " + o.output + ": " + std::strerror(errno),
                              "check the path and its permissions"));
      }
    }
    auto result = conn.execute(sql, /*streaming=*/true);
    if (!result.ok()) {
      summary = result.take_error();
    } else if (result.value().return_type() == DUCKDB_RESULT_TYPE_NOTHING) {
      summary = warehouse::WriteSummary{};
    } else {
      warehouse::WriteOptions wo;
      wo.format = out_format;
      if (out_format == warehouse::OutputFormat::table)
        wo.max_rows = static_cast<uint64_t>(cfg.get_int("query.max_rows"));
      summary = warehouse::write_result(result.value(), wo, warehouse::file_sink(out));
    }
    if (out != stdout) std::fclose(out);
    // A stream cut short is no Arrow file: leave none behind.
    if (!summary.ok() && out_format == warehouse::OutputFormat::arrow && !o.output.empty()) {
      std::remove(o.output.c_str());
    }
  }
  done = true;
  watcher.join();

  const auto elapsed =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  rec.finished_at = now_rfc3339();
  rec.duration_ms = elapsed;
  if (!summary.ok()) {
    Error err = summary.error();
    if (err.code == ErrorCode::cancelled && reason.load() == 2) {
      err = Error(ErrorCode::timed_out,
                  "query timed out after " + std::to_string(timeout.count()) + " s (query.timeout_seconds)",
                  "raise the limit with --timeout SECONDS or PLUTODUCK_QUERY__TIMEOUT_SECONDS");
    } else if (err.code == ErrorCode::cancelled) {
      err = Error(ErrorCode::cancelled, "query interrupted");
    }
    rec.status = err.code == ErrorCode::timed_out   ? "timed_out"
                 : err.code == ErrorCode::cancelled ? "cancelled"
                                                    : "failed";
    rec.error = err.message;
    (void)store.save_query(rec);
    log::info("query finished", {{"run_id", rec.run_id}, {"status", rec.status}, {"duration_ms", elapsed}});
    return ctx.fail(err);
  }
  rec.status = "succeeded";
  rec.row_count = static_cast<int64_t>(summary.value().rows_total);
  (void)store.save_query(rec);
  log::info("query finished", {{"run_id", rec.run_id},
                               {"status", rec.status},
                               {"duration_ms", elapsed},
                               {"rows", static_cast<int64_t>(summary.value().rows_total)}});
  return kExitOk;
}

}  // namespace

void setup_query(CLI::App& app, Context& ctx, Runner& run) {
  auto opts = std::make_shared<QueryOptions>();
  auto* sub = app.add_subcommand("query", "run SQL against the warehouse");
  sub->add_option("sql", opts->sql, "the SQL to run ('-' reads it from stdin)");
  sub->add_option("-f,--file", opts->file, "read the SQL from a file")->type_name("FILE");
  sub->add_option("--format", opts->format,
                  "table (default), csv, json, ndjson, arrow (Arrow IPC stream) or parquet (with --output)")
      ->check(CLI::IsMember({"table", "csv", "json", "ndjson", "arrow", "parquet"}));
  sub->add_option("-o,--output", opts->output, "write the result to FILE instead of stdout")->type_name("FILE");
  sub->add_option("--timeout", opts->timeout, "interrupt the query after SECONDS (query.timeout_seconds)")
      ->type_name("SECONDS");
  sub->add_flag("--safe", opts->safe,
                "safe mode: only one read-only SELECT over catalog tables (no files, network or settings)");
  sub->add_option("--server", opts->server,
                  "run on a running server (e.g. http://127.0.0.1:8123) instead of in process")
      ->type_name("URL");
  sub->callback([&ctx, &run, opts] { run = [&ctx, opts] { return run_query(ctx, *opts); }; });
}

}  // namespace pluto::cli
