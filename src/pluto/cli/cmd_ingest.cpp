// `pluto-duck ingest SOURCE --table NAME …`: loads a file, glob, directory, PostgreSQL or SQLite
// source into the warehouse as a job run in this process, showing progress from the job's event
// stream (a bar on a terminal, plain lines otherwise). `pluto-duck ingest --runs` lists past runs.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>

#include "pluto/cli/context.hpp"
#include "pluto/cli/sigint.hpp"
#include "pluto/cli/table_printer.hpp"
#include "pluto/events/event_bus.hpp"
#include "pluto/ingest/ingest_service.hpp"
#include "pluto/jobs/job_runner.hpp"

namespace pluto::cli {
namespace {

struct IngestCliOptions {
  std::string source;
  std::string table;
  std::string schema;
  std::string mode = "replace";
  std::string cursor;
  std::vector<std::string> keys;
  std::vector<std::string> source_tables;
  std::string source_schema;
  std::string query;
  std::string format;
  std::optional<std::string> delimiter;
  std::optional<std::string> quote;
  std::optional<std::string> escape;
  bool header = false;
  bool no_header = false;
  std::vector<std::string> types;  // COL=TYPE
  std::optional<std::string> date_format;
  std::optional<std::string> timestamp_format;
  std::optional<std::string> null_string;
  std::optional<std::string> compression;
  std::optional<int64_t> skip_lines;
  bool all_text = false;
  bool no_quoted_nulls = false;
  bool skip_bad_rows = false;
  bool evolve = false;
  bool runs = false;
  int64_t limit = 20;
};

std::string human_bytes(double b) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  int u = 0;
  while (b >= 1000.0 && u < 4) {
    b /= 1000.0;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", b, units[u]);
  return buf;
}

std::string human_count(double n) {
  char buf[32];
  if (n >= 1e6) {
    std::snprintf(buf, sizeof buf, "%.2fM", n / 1e6);
  } else if (n >= 1e4) {
    std::snprintf(buf, sizeof buf, "%.1fk", n / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%.0f", n);
  }
  return buf;
}

std::string str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t num(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<int64_t>() : 0;
}

Result<ingest::IngestRequest> build_request(const IngestCliOptions& o) {
  ingest::IngestRequest r;
  r.source = o.source;
  r.table = o.table;
  r.schema = o.schema;
  r.origin = "cli";
  PLUTO_ASSIGN_OR_RETURN(r.mode, ingest::parse_load_mode(o.mode));
  r.cursor = o.cursor;
  r.keys = o.keys;
  r.source_tables = o.source_tables;
  r.source_schema = o.source_schema;
  r.query = o.query;
  r.evolve = o.evolve;
  auto& f = r.file;
  if (!o.format.empty()) {
    PLUTO_ASSIGN_OR_RETURN(f.format, ingest::parse_file_format(o.format));
    if (o.format == "tsv" && !o.delimiter) f.delimiter = "\t";
  }
  f.delimiter = o.delimiter ? o.delimiter : f.delimiter;
  f.quote = o.quote;
  f.escape = o.escape;
  if (o.header && o.no_header) {
    return Error(ErrorCode::invalid_argument, "--header and --no-header contradict each other", "pass one of them");
  }
  if (o.header) f.header = true;
  if (o.no_header) f.header = false;
  for (const auto& t : o.types) {
    const auto eq = t.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == t.size()) {
      return Error(ErrorCode::invalid_argument, "--type expects COLUMN=TYPE, got '" + t + "'",
                   "for example --type amount=DECIMAL(12,2)");
    }
    f.column_types[t.substr(0, eq)] = t.substr(eq + 1);
  }
  f.date_format = o.date_format;
  f.timestamp_format = o.timestamp_format;
  f.null_string = o.null_string;
  f.compression = o.compression;
  f.skip_lines = o.skip_lines;
  f.all_text = o.all_text;
  f.quoted_nulls = !o.no_quoted_nulls;
  f.skip_bad_rows = o.skip_bad_rows;
  return r;
}

// Renders progress: a redrawn bar on a terminal, one line per update otherwise.
class ProgressView {
 public:
  explicit ProgressView(bool tty) : tty_(tty), start_(std::chrono::steady_clock::now()) {}

  void on_event(const events::Event& e) {
    const auto& d = e.data;
    if (e.type == "ingest.loading") {
      std::string tables;
      for (const auto& t : d.value("tables", nlohmann::json::array())) {
        tables += (tables.empty() ? "" : ", ") + t.get<std::string>();
      }
      std::printf("loading %s into %s (%s)\n", str(d, "source").c_str(), tables.c_str(), str(d, "mode").c_str());
    } else if (e.type == "ingest.waiting" || e.type == "job.waiting") {
      std::printf("waiting: %s\n", str(d, "reason").c_str());
    } else if (e.type == "ingest.progress") {
      progress(d);
    } else if (e.type == "ingest.finished") {
      clear();
    }
    std::fflush(stdout);
  }
  void clear() {
    if (tty_ && drawn_) std::printf("\r\033[K");
    drawn_ = false;
  }

 private:
  void progress(const nlohmann::json& d) {
    const double secs =
        std::max(0.001, std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
    const bool known = d.contains("fraction") && d["fraction"].is_number();
    const double fraction = known ? d["fraction"].get<double>() : 0.0;
    const double bytes = static_cast<double>(num(d, "bytes"));
    const double rows = static_cast<double>(num(d, "rows"));
    std::string rate = d.contains("bytes") ? human_bytes(bytes / secs) + "/s" : human_count(rows / secs) + " rows/s";
    const std::string table = str(d, "table");
    if (!tty_) {
      std::printf("progress %s: %s%s ~%s rows, %s\n", table.c_str(),
                  known ? (std::to_string(static_cast<int>(fraction * 100)) + "%").c_str() : "?",
                  d.contains("bytes") ? (", " + human_bytes(bytes)).c_str() : "", human_count(rows).c_str(),
                  rate.c_str());
      return;
    }
    constexpr int kWidth = 28;
    const int filled = static_cast<int>(fraction * kWidth);
    std::string bar(static_cast<size_t>(filled), '#');
    bar.append(static_cast<size_t>(kWidth - filled), '.');
    std::printf("\r\033[K[%s] %3d%%  ~%s rows  %s  %s  %s", bar.c_str(), static_cast<int>(fraction * 100),
                human_count(rows).c_str(), d.contains("bytes") ? human_bytes(bytes).c_str() : "", rate.c_str(),
                table.c_str());
    drawn_ = true;
  }

  bool tty_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
};

void print_summary(const nlohmann::json& s) {
  const double secs = static_cast<double>(num(s, "duration_ms")) / 1000.0;
  for (const auto& t : s.value("tables", nlohmann::json::array())) {
    std::printf("%s: %lld rows%s%s\n", str(t, "table").c_str(), static_cast<long long>(num(t, "rows")),
                t.value("created", false) ? " (new table)" : "",
                t.contains("high_water_mark") && t["high_water_mark"].is_string()
                    ? (", high-water mark " + t["high_water_mark"].get<std::string>()).c_str()
                    : "");
    for (const auto& ev : t.value("evolved", nlohmann::json::array())) {
      std::printf("  schema evolved: %s\n", ev.get<std::string>().c_str());
    }
    if (t.contains("skipped_rows") && t["skipped_rows"].is_number()) {
      std::printf("  skipped %lld bad rows\n", static_cast<long long>(t["skipped_rows"].get<int64_t>()));
      for (const auto& b : t.value("bad_rows", nlohmann::json::array())) {
        std::printf("    %s line %lld: %s\n", str(b, "file").c_str(), static_cast<long long>(num(b, "line")),
                    str(b, "error").c_str());
      }
    }
  }
  std::string bytes =
      s.contains("bytes") && s["bytes"].is_number() ? ", " + human_bytes(static_cast<double>(num(s, "bytes"))) : "";
  std::printf("loaded %lld rows%s in %.1f s (run %s)\n", static_cast<long long>(num(s, "rows")), bytes.c_str(), secs,
              str(s, "run_id").c_str());
  std::fflush(stdout);
}

int list_runs(Context& ctx, ingest::IngestService& svc, const IngestCliOptions& o) {
  ingest::RunFilter f;
  f.table = o.table;
  f.limit = o.limit;
  auto runs = svc.list_runs(f);
  if (!runs.ok()) return ctx.fail(runs.error());
  if (ctx.json()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : runs.value()) out.push_back(r.to_json());
    std::printf("%s\n", out.dump().c_str());
    return kExitOk;
  }
  TablePrinter p({"run", "started", "status", "mode", "source", "target", "rows", "seconds", "error"});
  for (const auto& r : runs.value()) {
    char secs[32] = "";
    if (r.duration_ms) std::snprintf(secs, sizeof secs, "%.1f", static_cast<double>(*r.duration_ms) / 1000.0);
    p.add({r.run_id, r.started_at, r.status, r.mode, r.source, r.target, r.rows ? std::to_string(*r.rows) : "", secs,
           r.error.value_or("")});
  }
  std::fputs(p.render().c_str(), stdout);
  return kExitOk;
}

int run_ingest(Context& ctx, const IngestCliOptions& o) {
  auto rt = ctx.runtime();
  if (!rt.ok()) return ctx.fail(rt.error());
  auto svc_r = rt.value()->ingest();
  if (!svc_r.ok()) return ctx.fail(svc_r.error());
  ingest::IngestService& svc = *svc_r.value();
  if (o.runs) return list_runs(ctx, svc, o);
  if (o.source.empty()) {
    return ctx.fail(Error(ErrorCode::invalid_argument, "no SOURCE given",
                          "pluto-duck ingest SOURCE --table NAME (a path, glob, postgresql:// URI, sqlite:PATH or a "
                          "saved source name), or --runs to list past runs"));
  }
  auto req = build_request(o);
  if (!req.ok()) return ctx.fail(req.error());
  auto jobs_r = rt.value()->jobs();
  if (!jobs_r.ok()) return ctx.fail(jobs_r.error());
  jobs::JobRunner& runner = *jobs_r.value();
  auto bus_r = rt.value()->events();
  if (!bus_r.ok()) return ctx.fail(bus_r.error());
  events::EventBus& bus = *bus_r.value();

  SigintGuard sigint;
  auto sub = svc.submit(runner, req.value());
  if (!sub.ok()) return ctx.fail(sub.error());
  const std::string job_id = sub->id;

  ProgressView view(::isatty(STDOUT_FILENO) == 1);
  int64_t last = 0;
  bool cancel_sent = false;
  while (true) {
    auto r = bus.wait(sub->stream, last, std::chrono::milliseconds(200));
    for (const auto& e : r.events) {
      last = e.id;
      if (!ctx.json()) view.on_event(e);
    }
    if (r.closed) break;
    if (SigintGuard::raised() && !cancel_sent) {
      cancel_sent = true;
      if (!ctx.json()) {
        view.clear();
        std::fprintf(stderr, "cancelling the ingestion (nothing will be written)…\n");
      }
      (void)runner.cancel(job_id);
    }
  }
  auto info = runner.wait(job_id);
  if (!info.ok()) return ctx.fail(info.error());
  if (info->status == jobs::JobStatus::succeeded) {
    if (ctx.json()) {
      std::printf("%s\n", info->result.dump().c_str());
    } else {
      print_summary(info->result);
    }
    return kExitOk;
  }
  if (info->error) return ctx.fail(*info->error);
  if (info->status == jobs::JobStatus::cancelled) return ctx.fail(Error(ErrorCode::cancelled, "ingestion cancelled"));
  return kExitFailed;
}

}  // namespace

void setup_ingest(CLI::App& app, Context& ctx, Runner& run) {
  auto o = std::make_shared<IngestCliOptions>();
  auto* sub = app.add_subcommand("ingest", "load a file, glob, directory, PostgreSQL or SQLite source into a table");
  sub->add_option("source", o->source,
                  "path, glob (data/*.csv), directory, postgresql://USER@HOST/DB, sqlite:PATH, or a saved source");
  sub->add_option("-t,--table", o->table, "target table (a name prefix when several source tables are loaded)")
      ->type_name("NAME");
  sub->add_option("--schema", o->schema, "target schema (default main)")->type_name("NAME");
  sub->add_option("-m,--mode", o->mode, "replace (default), append, incremental or merge")
      ->check(CLI::IsMember({"replace", "append", "incremental", "merge"}));
  sub->add_option("--cursor", o->cursor, "incremental: a column that only grows (id, updated_at)")->type_name("COL");
  sub->add_option("--key", o->keys, "merge: the key column (repeat for a composite key)")->type_name("COL");
  sub->add_option("--source-table", o->source_tables, "database sources: table (schema.table), repeatable; '*' for all")
      ->type_name("NAME");
  sub->add_option("--source-schema", o->source_schema, "PostgreSQL: load every table of this schema")
      ->type_name("NAME");
  sub->add_option("--query", o->query, "database sources: a query in the source's own SQL")->type_name("SQL");
  sub->add_option("--format", o->format, "file format: auto (from the extension), csv, tsv, parquet, json, ndjson")
      ->check(CLI::IsMember({"auto", "csv", "tsv", "parquet", "json", "ndjson", "jsonl"}));
  sub->add_option("--delimiter", o->delimiter, "CSV delimiter (e.g. ';', '|', '\\t')")->type_name("CHAR");
  sub->add_option("--quote", o->quote, "CSV quote character")->type_name("CHAR");
  sub->add_option("--escape", o->escape, "CSV escape character")->type_name("CHAR");
  sub->add_flag("--header", o->header, "the first CSV line holds column names");
  sub->add_flag("--no-header", o->no_header, "the first CSV line is data");
  sub->add_option("--type", o->types, "CSV column type, e.g. --type zip=VARCHAR (repeatable)")->type_name("COL=TYPE");
  sub->add_option("--date-format", o->date_format, "strptime format of dates, e.g. %d/%m/%Y")->type_name("FMT");
  sub->add_option("--timestamp-format", o->timestamp_format, "strptime format of timestamps")->type_name("FMT");
  sub->add_option("--null", o->null_string, "CSV text that means NULL")->type_name("TEXT");
  sub->add_option("--compression", o->compression, "auto (from the extension), gzip, zstd or none")
      ->check(CLI::IsMember({"auto", "gzip", "zstd", "none"}));
  sub->add_option("--skip-lines", o->skip_lines, "CSV lines to skip at the top of each file")->type_name("N");
  sub->add_flag("--all-text", o->all_text, "read every CSV column as text (no type detection)");
  sub->add_flag("--no-quoted-nulls", o->no_quoted_nulls, "read a quoted empty CSV value (\"\") as '' rather than NULL");
  sub->add_flag("--skip-bad-rows", o->skip_bad_rows, "skip (and count) CSV/JSON rows that do not parse");
  sub->add_flag("--evolve", o->evolve, "append/incremental/merge: add new columns and widen changed types");
  sub->add_flag("--runs", o->runs, "list past ingestion runs (with --table: of that table)");
  sub->add_option("--limit", o->limit, "runs listed by --runs")->type_name("N");
  sub->footer(
      "Replace loads appear at once and whole; a failed, cancelled or killed load leaves the table as it was.\n"
      "Exit codes: 0 loaded, 1 the load failed (bad data, schema drift), 2 bad options, 3 cannot read or reach the "
      "source, 130 cancelled.");
  sub->callback([&ctx, &run, o] { run = [&ctx, o] { return run_ingest(ctx, *o); }; });
}

}  // namespace pluto::cli
