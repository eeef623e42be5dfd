#include "pluto/ingest/ingest_service.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>

#include "pluto/core/clock.hpp"
#include "pluto/core/log.hpp"
#include "pluto/ingest/loader.hpp"
#include "pluto/ingest/path_policy.hpp"
#include "pluto/ingest/sql_util.hpp"
#include "pluto/jobs/job_runner.hpp"
#include "pluto/store/store.hpp"
#include "pluto/warehouse/warehouse.hpp"

namespace pluto::ingest {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Ids like "0193f1c2a4b1-5e0c9d21" name temporary DuckDB objects: keep them identifier-shaped.
std::string session_id_from(const std::string& id) {
  std::string out;
  for (char c : id) out += std::isalnum(static_cast<unsigned char>(c)) != 0 ? c : '_';
  return out;
}

bool has_glob(const std::string& p) {
  return p.find_first_of("*?[") != std::string::npos;
}

Status check_env_name(const std::string& name) {
  bool ok = !name.empty() && (std::isalpha(static_cast<unsigned char>(name.front())) != 0 || name.front() == '_');
  for (char c : name) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_');
  if (!ok) {
    return Error(ErrorCode::invalid_argument, "invalid environment variable name '" + name + "' for --password-env",
                 "use a name such as CRM_PASSWORD (letters, digits and _)");
  }
  return {};
}

// For HTTP requests: the file or the fixed part of a glob must be in an allowed directory.
Status check_source_path(const SourceRef& ref, const std::vector<fs::path>& allowed) {
  if (ref.kind == SourceKind::postgres) return {};
  fs::path p = ref.location;
  if (has_glob(ref.location)) p = fs::path(ref.location.substr(0, ref.location.find_first_of("*?["))).parent_path();
  PLUTO_TRY(check_allowed_path(p, allowed));
  return {};
}

json columns_json(const std::vector<warehouse::ColumnInfo>& cols) {
  json out = json::array();
  for (const auto& c : cols) out.push_back({{"name", c.name}, {"type", c.type}});
  return out;
}

json table_result_json(const TableLoadResult& r) {
  json bad = json::array();
  for (const auto& b : r.bad_rows) bad.push_back({{"file", b.file}, {"line", b.line}, {"error", b.error}});
  return json{{"table", r.target.display()},
              {"schema", r.target.schema},
              {"name", r.target.table},
              {"object", r.object},
              {"rows", r.rows},
              {"bytes", r.bytes ? json(*r.bytes) : json()},
              {"created", r.created},
              {"columns", columns_json(r.columns)},
              {"high_water_mark", r.high_water ? json(*r.high_water) : json()},
              {"skipped_rows", r.skipped_rows ? json(*r.skipped_rows) : json()},
              {"bad_rows", bad},
              {"evolved", r.evolved}};
}

}  // namespace

IngestSettings IngestSettings::from_config(const Config& config) {
  IngestSettings s;
  s.data_dir = config.data_dir();
  s.allowed_dirs = parse_allowed_dirs(config.get("ingest.allowed_dirs"));
  s.connect_timeout_seconds = static_cast<int>(config.get_int("ingest.connect_timeout_seconds"));
  return s;
}

Result<AddSourceRequest> AddSourceRequest::from_json(const json& body) {
  if (!body.is_object()) {
    return Error(ErrorCode::invalid_argument, "the source must be a JSON object",
                 "send {\"name\": \"crm\", \"uri\": \"postgresql://user@host/db\", \"password_env\": \"CRM_PW\"}");
  }
  AddSourceRequest r;
  for (const auto& [key, value] : body.items()) {
    if (key != "name" && key != "uri" && key != "password_env" && key != "password") {
      return Error(ErrorCode::invalid_argument, "unknown field \"" + key + "\" in the source",
                   "fields are name, uri, password_env and password");
    }
    if (!value.is_string()) {
      return Error(ErrorCode::invalid_argument, "\"" + key + "\" must be a string", "");
    }
  }
  r.name = body.value("name", "");
  r.uri = body.value("uri", "");
  r.password_env = body.value("password_env", "");
  r.password = body.value("password", "");
  return r;
}

IngestService::IngestService(warehouse::Warehouse& warehouse, IngestCatalog catalog, IngestSettings settings)
    : warehouse_(warehouse),
      catalog_(catalog),
      settings_(std::move(settings)),
      secrets_(settings_.data_dir / "secrets"),
      connectors_(ConnectorRegistry::with_builtin()) {}

Result<std::unique_ptr<IngestService>> IngestService::create(warehouse::Warehouse& warehouse, store::Store& store,
                                                             IngestSettings settings) {
  PLUTO_ASSIGN_OR_RETURN(IngestCatalog catalog, IngestCatalog::open(store));
  std::unique_ptr<IngestService> svc(new IngestService(warehouse, catalog, std::move(settings)));
  auto interrupted = svc->catalog_.interrupt_orphaned_runs();
  if (!interrupted.ok()) return interrupted.take_error();
  if (interrupted.value() > 0) {
    log::warn("ingestion runs interrupted by a previous shutdown", {{"runs", interrupted.value()}});
  }
  return svc;
}

ConnectorSettings IngestService::connector_settings(const std::string& session_id, bool restrict_paths) const {
  ConnectorSettings s;
  s.connect_timeout_seconds = settings_.connect_timeout_seconds;
  s.restrict_paths = restrict_paths;
  s.allowed_dirs = settings_.allowed_dirs;
  s.session_id = session_id_from(session_id);
  return s;
}

Result<SourceRef> IngestService::resolve(const std::string& source, bool restrict_paths) {
  if (!is_postgres_uri(source) && !is_sqlite_source(source) && check_source_name(source).ok()) {
    PLUTO_ASSIGN_OR_RETURN(auto saved, catalog_.get_source(source));
    if (saved) {
      SourceRef ref;
      ref.kind = saved->kind;
      ref.location = saved->location;
      ref.saved_name = saved->name;
      if (!saved->password_env.empty()) {
        const char* pw = std::getenv(saved->password_env.c_str());
        if (pw == nullptr) {
          return Error(
              ErrorCode::unauthenticated,
              "source '" + saved->name + "' takes its password from $" + saved->password_env + ", which is not set",
              "set it in the environment of pluto-duck (e.g. export " + saved->password_env + "=…)");
        }
        ref.password = pw;
      } else if (saved->has_secret) {
        PLUTO_ASSIGN_OR_RETURN(auto pw, secrets_.get(saved->name));
        if (!pw) {
          return Error(ErrorCode::unauthenticated,
                       "the stored password of source '" + saved->name + "' is missing (" +
                           secrets_.file_for(saved->name).string() + ")",
                       "add the source again: `pluto-duck sources remove " + saved->name + "` then `sources add`");
        }
        ref.password = *pw;
      }
      if (restrict_paths) PLUTO_TRY(check_source_path(ref, settings_.allowed_dirs));
      return ref;
    }
    std::error_code ec;
    if (!fs::exists(source, ec)) {
      return Error(ErrorCode::not_found, "no saved source and no file named '" + source + "'",
                   "list saved sources with `pluto-duck sources list`; give a file as a path (./" + source + ")");
    }
  }
  PLUTO_ASSIGN_OR_RETURN(SourceRef ref, parse_source(source));
  if (restrict_paths) PLUTO_TRY(check_source_path(ref, settings_.allowed_dirs));
  return ref;
}

// ---- ingestion ------------------------------------------------------------------------------------

Status IngestService::validate(const IngestRequest& r) {
  if (r.source.empty()) {
    return Error(ErrorCode::invalid_argument, "no source given",
                 "give a file path or glob, a postgresql:// URI, sqlite:PATH, or a saved source name");
  }
  if (r.mode == LoadMode::incremental && r.cursor.empty()) {
    return Error(ErrorCode::invalid_argument, "incremental loads need a cursor column",
                 "pass --cursor COLUMN (options.cursor): a column that only grows, such as id or updated_at");
  }
  if (r.mode != LoadMode::incremental && !r.cursor.empty()) {
    return Error(ErrorCode::invalid_argument, "--cursor applies to --mode incremental only",
                 "drop --cursor or use --mode incremental");
  }
  if (r.mode == LoadMode::merge && r.keys.empty()) {
    return Error(ErrorCode::invalid_argument, "merge loads need a key column",
                 "pass --key COLUMN (options.key), repeated for a composite key");
  }
  if (r.mode != LoadMode::merge && !r.keys.empty()) {
    return Error(ErrorCode::invalid_argument, "--key applies to --mode merge only", "drop --key or use --mode merge");
  }
  if (!r.schema.empty()) PLUTO_TRY(check_table_name(r.schema, "schema"));
  const bool several = !r.source_schema.empty() || (r.source_tables.size() == 1 && r.source_tables.front() == "*") ||
                       r.source_tables.size() > 1;
  if (r.table.empty() && !several) {
    return Error(ErrorCode::invalid_argument, "no target table given", "pass --table NAME (\"table\" in the request)");
  }
  if (!r.table.empty() && !several) PLUTO_TRY(check_table_name(r.table));
  if (several && !r.table.empty()) PLUTO_TRY(check_table_name(r.table, "table prefix"));
  for (const auto& t : r.source_tables) {
    if (t.empty()) return Error(ErrorCode::invalid_argument, "an empty --source-table", "name a table, or '*' for all");
  }
  PLUTO_ASSIGN_OR_RETURN(SourceRef ref, resolve(r.source, r.restrict_paths));
  if (ref.kind == SourceKind::files && (!r.query.empty() || !r.source_tables.empty() || !r.source_schema.empty())) {
    return Error(ErrorCode::invalid_argument, "--source-table, --source-schema and --query apply to database sources",
                 "for files, give the path, a glob or a directory as SOURCE");
  }
  // A plain path that does not exist is refused before a job is queued (globs are matched by the load).
  std::error_code ec;
  if (ref.kind == SourceKind::files && ref.location.find_first_of("*?[") == std::string::npos &&
      !fs::exists(ref.location, ec)) {
    return Error(ErrorCode::unavailable, "cannot open " + ref.location + ": no such file or directory",
                 "check the path (relative paths start from the working directory of pluto-duck)");
  }
  return {};
}

jobs::JobSpec IngestService::job_spec(const IngestRequest& request) const {
  jobs::JobSpec spec;
  spec.kind = "ingest";
  spec.origin = request.origin;
  spec.access = jobs::Access::shared;
  spec.params = request.to_json();
  return spec;
}

Result<jobs::JobInfo> IngestService::submit(jobs::JobRunner& runner, const IngestRequest& request) {
  PLUTO_TRY(validate(request));
  return runner.submit(job_spec(request), [this, request](jobs::JobContext& ctx) { return run(request, ctx); });
}

std::vector<std::shared_ptr<std::mutex>> IngestService::lock_targets(std::vector<std::string> targets) {
  std::sort(targets.begin(), targets.end());
  targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
  std::vector<std::shared_ptr<std::mutex>> out;
  std::lock_guard lock(targets_mu_);
  for (const auto& t : targets) {
    auto& m = target_locks_[t];
    if (!m) m = std::make_shared<std::mutex>();
    out.push_back(m);
  }
  return out;
}

Result<json> IngestService::run(const IngestRequest& request, jobs::JobContext& ctx) {
  const auto start = std::chrono::steady_clock::now();
  RunRecord rec;
  rec.run_id = ctx.id();
  rec.source = redact_source(request.source);
  rec.source_kind = is_postgres_uri(request.source)    ? "postgres"
                    : is_sqlite_source(request.source) ? "sqlite"
                                                       : "files";
  rec.target = request.table;
  rec.mode = std::string(to_string(request.mode));
  rec.status = "running";
  rec.origin = request.origin;
  rec.started_at = now_rfc3339();
  rec.request = request.to_json();
  PLUTO_TRY(catalog_.begin_run(rec));

  std::vector<std::string> secrets;
  auto result = run_impl(request, ctx, rec, secrets);
  rec.finished_at = now_rfc3339();
  rec.duration_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  if (!result.ok()) {
    Error e = scrub(result.take_error(), secrets);
    if (ctx.cancelled() || e.code == ErrorCode::cancelled) {
      const bool timed_out = ctx.cancel_token()->reason() == CancelReason::timed_out;
      e = timed_out ? Error(ErrorCode::timed_out, "ingestion into " + rec.target + " timed out; nothing was written",
                            "raise the job's timeout, or load less at a time")
                    : Error(ErrorCode::cancelled, "ingestion into " + rec.target + " cancelled; nothing was written");
      rec.status = timed_out ? "timed_out" : "cancelled";
    } else {
      rec.status = "failed";
    }
    rec.error_code = std::string(to_string(e.code));
    rec.error = e.message;
    if (auto st = catalog_.finish_run(rec); !st.ok()) {
      log::warn("cannot record ingestion run", {{"error", st.error().message}});
    }
    ctx.emit("ingest.finished", {{"run_id", rec.run_id},
                                 {"status", rec.status},
                                 {"duration_ms", *rec.duration_ms},
                                 {"error", {{"code", to_string(e.code)}, {"message", e.message}, {"hint", e.hint}}}});
    log::info("ingestion failed", {{"run_id", rec.run_id},
                                   {"source", rec.source},
                                   {"target", rec.target},
                                   {"status", rec.status},
                                   {"error", e.message}});
    return e;
  }
  json summary = std::move(result).value();
  summary["duration_ms"] = *rec.duration_ms;
  rec.status = "succeeded";
  if (auto st = catalog_.finish_run(rec); !st.ok()) {
    log::warn("cannot record ingestion run", {{"error", st.error().message}});
  }
  json finished = summary;
  finished["status"] = rec.status;
  ctx.emit("ingest.finished", finished);
  log::info("ingestion finished", {{"run_id", rec.run_id},
                                   {"source", rec.source},
                                   {"target", rec.target},
                                   {"mode", rec.mode},
                                   {"rows", rec.rows.value_or(0)},
                                   {"duration_ms", *rec.duration_ms}});
  return summary;
}

Result<json> IngestService::run_impl(const IngestRequest& request, jobs::JobContext& ctx, RunRecord& rec,
                                     std::vector<std::string>& secrets) {
  PLUTO_TRY(validate(request));
  PLUTO_ASSIGN_OR_RETURN(SourceRef ref, resolve(request.source, request.restrict_paths));
  if (!ref.password.empty()) secrets.push_back(ref.password);
  rec.source = ref.display();
  rec.source_kind = std::string(to_string(ref.kind));
  rec.saved_source = ref.saved_name;
  const Connector* connector = connectors_.find(ref.kind);
  if (connector == nullptr) {
    return Error(ErrorCode::internal, "no connector for " + std::string(to_string(ref.kind)) + " sources");
  }

  PLUTO_ASSIGN_OR_RETURN(auto lease, warehouse_.pool().acquire());
  warehouse::Connection& conn = lease.connection();
  // Cancelling the job interrupts whatever DuckDB runs on this connection.
  CancelScope interrupt_on_cancel(ctx.cancel_token(), [&conn] { conn.interrupt(); });
  if (ctx.cancelled()) return Error(ErrorCode::cancelled, "ingestion cancelled");

  const ConnectorSettings cs = connector_settings(ctx.id(), request.restrict_paths);
  auto session_r = connector->open(conn, ref, cs);
  if (!session_r.ok()) return classify_source_error(session_r.take_error(), ref.kind, ref.display());
  std::unique_ptr<SourceSession> session = std::move(session_r).value();

  ReadSpec spec;
  spec.tables = request.source_tables;
  spec.schema = request.source_schema;
  spec.query = request.query;
  spec.file = request.file;
  auto relations_r = session->relations(spec);
  if (!relations_r.ok()) return classify_source_error(relations_r.take_error(), ref.kind, ref.display());
  std::vector<Relation> relations = std::move(relations_r).value();

  const std::string schema = request.schema.empty() ? "main" : request.schema;
  std::vector<TableLoad> loads;
  std::vector<std::pair<std::string, std::string>> targets;
  std::vector<std::string> lock_keys;
  std::string target_list;
  for (auto& rel : relations) {
    TableLoad load;
    load.target.schema = schema;
    load.target.table =
        relations.size() == 1 && !request.table.empty() ? request.table : request.table + rel.default_name;
    PLUTO_TRY(check_table_name(load.target.table));
    if (request.mode == LoadMode::incremental) {
      PLUTO_ASSIGN_OR_RETURN(auto known, catalog_.get_table(load.target.schema, load.target.table));
      if (known && known->cursor_column == request.cursor) load.stored_high_water = known->high_water;
    }
    load.relation = std::move(rel);
    targets.emplace_back(load.target.schema, load.target.table);
    lock_keys.push_back(lower(load.target.display()));
    target_list += (target_list.empty() ? "" : ", ") + load.target.display();
    loads.push_back(std::move(load));
  }
  rec.target = target_list;
  if (auto st = catalog_.add_run_tables(rec.run_id, targets); !st.ok()) {
    log::warn("cannot record the tables of an ingestion run", {{"error", st.error().message}});
  }
  json target_names = json::array();
  for (const auto& l : loads) target_names.push_back(l.target.display());
  ctx.emit("ingest.loading",
           {{"run_id", rec.run_id}, {"source", rec.source}, {"tables", target_names}, {"mode", rec.mode}});

  // One load per table at a time in this process (DuckDB would fail the second with a conflict).
  auto locks = lock_targets(lock_keys);
  std::vector<std::unique_lock<std::mutex>> held;
  for (auto& m : locks) held.emplace_back(*m);

  auto last_emit = std::chrono::steady_clock::time_point{};
  double last_fraction = -2;
  const ProgressFn progress = [&](size_t i, double fraction, uint64_t duckdb_rows) {
    // At most two a second, and only when something moved (or every 5 s as a heartbeat).
    const auto now = std::chrono::steady_clock::now();
    if (fraction < 0 && duckdb_rows == 0) return;  // between statements: nothing to tell
    if (now - last_emit < std::chrono::milliseconds(500)) return;
    if (fraction == last_fraction && now - last_emit < std::chrono::seconds(5)) return;
    last_emit = now;
    last_fraction = fraction;
    // DuckDB's own row count is a guess from the scan's size; the connector's estimate is closer.
    const auto& estimate = loads[i].relation.rows_estimate;
    const int64_t rows = estimate && fraction >= 0 ? static_cast<int64_t>(fraction * static_cast<double>(*estimate))
                                                   : static_cast<int64_t>(duckdb_rows);
    json d{{"table", loads[i].target.display()},
           {"index", i},
           {"tables", loads.size()},
           {"fraction", fraction < 0 ? json() : json(fraction)},
           {"rows", rows},
           {"rows_estimated", true}};
    if (const auto& bytes = loads[i].relation.bytes; bytes && fraction >= 0) {
      d["bytes"] = static_cast<int64_t>(fraction * static_cast<double>(*bytes));
      d["total_bytes"] = *bytes;
    }
    ctx.emit("ingest.progress", std::move(d));
    ctx.set_progress((static_cast<double>(i) + std::max(0.0, fraction)) / static_cast<double>(loads.size()));
  };

  LoadOptions lo;
  lo.mode = request.mode;
  lo.cursor = request.cursor;
  lo.keys = request.keys;
  lo.evolve = request.evolve;
  lo.session_id = cs.session_id;
  auto loaded = load_tables(conn, *session, loads, lo, ctx.cancel_token(), progress);
  session.reset();  // detaches the source before the connection goes back to the pool
  if (!loaded.ok()) return classify_source_error(loaded.take_error(), ref.kind, ref.display());

  const std::string now = now_rfc3339();
  json tables = json::array();
  int64_t rows = 0;
  std::optional<int64_t> bytes;
  std::optional<int64_t> skipped;
  for (const auto& r : loaded.value()) {
    rows += r.rows;
    if (r.bytes) bytes = bytes.value_or(0) + *r.bytes;
    if (r.skipped_rows) skipped = skipped.value_or(0) + *r.skipped_rows;
    rec.schema[r.target.display()] = columns_json(r.columns);
    tables.push_back(table_result_json(r));

    TableRecord t;
    auto known = catalog_.get_table(r.target.schema, r.target.table);
    if (known.ok() && known.value()) t = *known.value();
    t.schema_name = r.target.schema;
    t.table_name = r.target.table;
    t.source = ref.display();
    t.source_kind = std::string(to_string(ref.kind));
    t.saved_source = ref.saved_name;
    t.source_object = r.object;
    t.mode = std::string(to_string(request.mode));
    if (request.mode == LoadMode::replace) {
      t.cursor_column.clear();
      t.high_water.reset();
      t.high_water_type.clear();
    }
    if (request.mode == LoadMode::incremental) {
      t.cursor_column = request.cursor;
      t.high_water = r.high_water;
      t.high_water_type = r.high_water_type;
    }
    if (request.mode == LoadMode::merge) t.key_columns = request.keys;
    if (t.first_loaded_at.empty() || r.created) t.first_loaded_at = now;
    t.last_loaded_at = now;
    t.last_run_id = rec.run_id;
    t.last_rows = r.rows;
    t.columns = columns_json(r.columns);
    if (auto st = catalog_.upsert_table(t); !st.ok()) {
      log::warn("cannot record ingested table in the catalog",
                {{"table", r.target.display()}, {"error", st.error().message}});
    }
  }
  rec.rows = rows;
  rec.bytes = bytes;
  rec.skipped_rows = skipped;
  return json{{"run_id", rec.run_id},
              {"source", rec.source},
              {"source_kind", rec.source_kind},
              {"mode", rec.mode},
              {"rows", rows},
              {"bytes", bytes ? json(*bytes) : json()},
              {"skipped_rows", skipped ? json(*skipped) : json()},
              {"tables", tables}};
}

// ---- saved sources ----------------------------------------------------------------------------------

Result<SourceRecord> IngestService::add_source(const AddSourceRequest& req) {
  PLUTO_TRY(check_source_name(req.name));
  if (req.uri.empty()) {
    return Error(ErrorCode::invalid_argument, "no URI or path given for source '" + req.name + "'",
                 "give a postgresql:// URI, sqlite:PATH, or a file path, glob or directory");
  }
  if (!req.password_env.empty()) PLUTO_TRY(check_env_name(req.password_env));
  PLUTO_ASSIGN_OR_RETURN(auto existing, catalog_.get_source(req.name));
  if (existing) {
    return Error(ErrorCode::conflict, "a source named '" + existing->name + "' already exists",
                 "choose another name, or remove it first with `pluto-duck sources remove " + existing->name + "`");
  }
  PLUTO_ASSIGN_OR_RETURN(SourceRef ref, parse_source(req.uri));
  if (req.restrict_paths) PLUTO_TRY(check_source_path(ref, settings_.allowed_dirs));
  if (ref.kind != SourceKind::postgres && !req.password_env.empty()) {
    return Error(ErrorCode::invalid_argument, "--password-env applies to PostgreSQL sources only",
                 "drop --password-env for " + std::string(to_string(ref.kind)) + " sources");
  }
  if (!req.password.empty()) {
    if (ref.kind != SourceKind::postgres) {
      return Error(ErrorCode::invalid_argument, "a password applies to PostgreSQL sources only",
                   "drop the password for " + std::string(to_string(ref.kind)) + " sources");
    }
    if (!ref.password.empty()) {
      return Error(ErrorCode::invalid_argument, "the URI already holds a password",
                   "give the password once: in the URI or separately");
    }
    ref.password = req.password;
  }
  if (!ref.password.empty() && !req.password_env.empty()) {
    return Error(ErrorCode::invalid_argument, "the URI holds a password and --password-env names another source of it",
                 "give the password one way: in the URI (stored under secrets/) or in the variable");
  }
  SourceRecord rec;
  rec.name = req.name;
  rec.kind = ref.kind;
  rec.location = ref.location;
  rec.password_env = req.password_env;
  rec.has_secret = !ref.password.empty();
  rec.created_at = rec.updated_at = now_rfc3339();
  if (rec.has_secret) PLUTO_TRY(secrets_.put(rec.name, ref.password));
  if (auto st = catalog_.add_source(rec); !st.ok()) {
    if (rec.has_secret) (void)secrets_.remove(rec.name);
    return st.take_error();
  }
  log::info("source saved", {{"name", rec.name}, {"kind", to_string(rec.kind)}, {"location", rec.location}});
  return rec;
}

Result<std::vector<SourceRecord>> IngestService::list_sources() {
  return catalog_.list_sources();
}

Result<SourceRecord> IngestService::get_source(const std::string& name) {
  PLUTO_ASSIGN_OR_RETURN(auto rec, catalog_.get_source(name));
  if (!rec) {
    return Error(ErrorCode::not_found, "no saved source named '" + name + "'",
                 "list them with `pluto-duck sources list`, or add one with `pluto-duck sources add NAME URI`");
  }
  return *rec;
}

Status IngestService::remove_source(const std::string& name) {
  PLUTO_ASSIGN_OR_RETURN(SourceRecord rec, get_source(name));
  if (rec.attached) {
    if (auto st = detach_source(rec.name); !st.ok()) {
      log::warn("cannot detach a removed source", {{"name", rec.name}, {"error", st.error().message}});
    }
  }
  PLUTO_TRY(catalog_.remove_source(rec.name));
  PLUTO_TRY(secrets_.remove(rec.name));
  log::info("source removed", {{"name", rec.name}});
  return {};
}

Result<json> IngestService::test_source(const std::string& source) {
  std::vector<std::string> secrets;
  auto run = [&]() -> Result<json> {
    PLUTO_ASSIGN_OR_RETURN(SourceRef ref, resolve(source, false));
    if (!ref.password.empty()) secrets.push_back(ref.password);
    const Connector* connector = connectors_.find(ref.kind);
    PLUTO_ASSIGN_OR_RETURN(auto lease, warehouse_.pool().acquire());
    auto session = connector->open(lease.connection(), ref, connector_settings(new_id(), false));
    if (!session.ok()) return classify_source_error(session.take_error(), ref.kind, ref.display());
    auto detail = session.value()->test();
    if (!detail.ok()) return classify_source_error(detail.take_error(), ref.kind, ref.display());
    return json{{"name", ref.saved_name.empty() ? json() : json(ref.saved_name)},
                {"kind", to_string(ref.kind)},
                {"location", ref.location},
                {"ok", true},
                {"detail", detail.value()}};
  };
  auto r = run();
  if (!r.ok()) return scrub(r.take_error(), secrets);
  return r;
}

Result<std::vector<SourceObject>> IngestService::source_tables(const std::string& source) {
  std::vector<std::string> secrets;
  auto run = [&]() -> Result<std::vector<SourceObject>> {
    PLUTO_ASSIGN_OR_RETURN(SourceRef ref, resolve(source, false));
    if (!ref.password.empty()) secrets.push_back(ref.password);
    const Connector* connector = connectors_.find(ref.kind);
    PLUTO_ASSIGN_OR_RETURN(auto lease, warehouse_.pool().acquire());
    auto session = connector->open(lease.connection(), ref, connector_settings(new_id(), false));
    if (!session.ok()) return classify_source_error(session.take_error(), ref.kind, ref.display());
    return session.value()->list_objects();
  };
  auto r = run();
  if (!r.ok()) return scrub(r.take_error(), secrets);
  return r;
}

// ---- live federation --------------------------------------------------------------------------------

Result<json> IngestService::attach_source(const std::string& name) {
  PLUTO_ASSIGN_OR_RETURN(SourceRecord rec, get_source(name));
  if (rec.kind == SourceKind::files) {
    return Error(ErrorCode::invalid_argument, "source '" + rec.name + "' holds files, which cannot be attached",
                 "attach works for PostgreSQL and SQLite sources; load files with `pluto-duck ingest " + rec.name +
                     " --table NAME`");
  }
  std::vector<std::string> secrets;
  auto run = [&]() -> Result<json> {
    PLUTO_ASSIGN_OR_RETURN(SourceRef ref, resolve(rec.name, false));
    if (!ref.password.empty()) secrets.push_back(ref.password);
    const Connector* connector = connectors_.find(ref.kind);
    PLUTO_ASSIGN_OR_RETURN(auto lease, warehouse_.pool().acquire());
    warehouse::Connection& conn = lease.connection();
    (void)connector->detach(conn, rec.name);
    PLUTO_TRY(connector->attach(conn, ref, rec.name, connector_settings(new_id(), false)));
    PLUTO_TRY(catalog_.set_attached(rec.name, true));
    PLUTO_ASSIGN_OR_RETURN(auto rows, query_rows(conn,
                                                 "SELECT schema_name, table_name, 'table' FROM duckdb_tables() WHERE "
                                                 "database_name = $1 AND NOT internal UNION ALL SELECT schema_name, "
                                                 "view_name, 'view' FROM duckdb_views() WHERE database_name = $1 AND "
                                                 "NOT internal ORDER BY 1, 2",
                                                 {rec.name}));
    json tables = json::array();
    for (const auto& r : rows) {
      tables.push_back({{"schema", r[0].value_or("")}, {"name", r[1].value_or("")}, {"kind", r[2].value_or("")}});
    }
    log::info("source attached", {{"name", rec.name}, {"kind", to_string(ref.kind)}});
    return json{{"name", rec.name}, {"database", rec.name}, {"kind", to_string(ref.kind)}, {"tables", tables}};
  };
  auto r = run();
  if (!r.ok()) return scrub(r.take_error(), secrets);
  return r;
}

Status IngestService::detach_source(const std::string& name) {
  PLUTO_ASSIGN_OR_RETURN(SourceRecord rec, get_source(name));
  const Connector* connector = connectors_.find(rec.kind);
  PLUTO_ASSIGN_OR_RETURN(auto lease, warehouse_.pool().acquire());
  PLUTO_TRY(connector->detach(lease.connection(), rec.name));
  PLUTO_TRY(catalog_.set_attached(rec.name, false));
  log::info("source detached", {{"name", rec.name}});
  return {};
}

json IngestService::restore_attachments() {
  json out{{"attached", json::array()}, {"failed", json::array()}};
  auto sources = catalog_.list_sources();
  if (!sources.ok()) {
    out["failed"].push_back({{"name", nullptr}, {"error", sources.error().message}});
    return out;
  }
  for (const auto& s : sources.value()) {
    if (!s.attached) continue;
    std::vector<std::string> secrets;
    auto st = [&]() -> Status {
      PLUTO_ASSIGN_OR_RETURN(SourceRef ref, resolve(s.name, false));
      if (!ref.password.empty()) secrets.push_back(ref.password);
      const Connector* connector = connectors_.find(ref.kind);
      PLUTO_ASSIGN_OR_RETURN(auto lease, warehouse_.pool().acquire());
      (void)connector->detach(lease.connection(), s.name);
      return connector->attach(lease.connection(), ref, s.name, connector_settings(new_id(), false));
    }();
    if (st.ok()) {
      out["attached"].push_back(s.name);
    } else {
      const Error e = scrub(st.take_error(), secrets);
      log::warn("cannot re-attach source", {{"name", s.name}, {"error", e.message}});
      out["failed"].push_back({{"name", s.name}, {"error", e.message}});
    }
  }
  return out;
}

// ---- ingestion catalog ------------------------------------------------------------------------------

Result<json> IngestService::table_lineage(const std::string& name) {
  PLUTO_ASSIGN_OR_RETURN(auto tables, catalog_.find_tables(name));
  if (tables.empty()) {
    return Error(ErrorCode::not_found, "no ingestion has written a table named '" + name + "'",
                 "load it with `pluto-duck ingest SOURCE --table " + name + "`");
  }
  const TableRecord& t = tables.front();
  RunFilter f;
  f.table = t.schema_name + "." + t.table_name;
  f.limit = 20;
  PLUTO_ASSIGN_OR_RETURN(auto runs, catalog_.list_runs(f));
  json runs_json = json::array();
  for (const auto& r : runs) runs_json.push_back(r.to_json());
  return json{{"table", t.to_json()}, {"runs", runs_json}};
}

Result<std::vector<RunRecord>> IngestService::list_runs(const RunFilter& filter) {
  return catalog_.list_runs(filter);
}

Result<RunRecord> IngestService::get_run(const std::string& run_id) {
  PLUTO_ASSIGN_OR_RETURN(auto r, catalog_.get_run(run_id));
  if (!r) return Error(ErrorCode::not_found, "no ingestion run " + run_id, "list runs with `pluto-duck ingest --runs`");
  return *r;
}

}  // namespace pluto::ingest
