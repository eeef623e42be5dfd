// Contract tests of the ingestion, dbt and agent routes through the real `pluto-duck serve` (every
// service wired as in production): files uploaded and loaded over HTTP, a real PostgreSQL server as a
// saved source (incremental loads, live attach, secrets), a real SQLite file, the real dbt CLI, and
// the offline agent. Also checks that /openapi.json of the full binary lists exactly the routes the
// API suites cover.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "api/api_harness.hpp"
#include "api/server_process.hpp"
#include "support/postgres_server.hpp"
#include "test_util.hpp"

namespace pluto::api_test {
namespace {

namespace fs = std::filesystem;

// Routes of the optional services (ingest, dbt, agent): only the full binary registers them, so
// they are covered here rather than by the in-process suite.
const std::set<std::string>& service_routes() {
  static const std::set<std::string> routes = {
      "POST /api/v1/ingest",
      "GET /api/v1/ingest/runs",
      "GET /api/v1/ingest/runs/{id}",
      "GET /api/v1/sources",
      "POST /api/v1/sources",
      "GET /api/v1/sources/{name}",
      "DELETE /api/v1/sources/{name}",
      "POST /api/v1/sources/{name}/test",
      "GET /api/v1/sources/{name}/tables",
      "POST /api/v1/sources/{name}/attach",
      "POST /api/v1/sources/{name}/detach",
      "POST /api/v1/imports/{file}",
      "POST /api/v1/dbt/run",
      "GET /api/v1/dbt/runs",
      "GET /api/v1/dbt/runs/{id}",
      "POST /api/v1/dbt/runs/{id}/cancel",
      "GET /api/v1/dbt/manifest",
      "GET /api/v1/dbt/models",
      "GET /api/v1/dbt/lineage/{node}",
      "POST /api/v1/agent/run",
      "GET /api/v1/agent/{run_id}",
      "GET /api/v1/agent/{run_id}/events",
      "POST /api/v1/agent/{run_id}/cancel",
      "POST /api/v1/agent/{run_id}/resume",
      "GET /api/v1/agent/conversations/{id}",
  };
  return routes;
}

// Long enough for dbt under the sanitizers on a loaded machine; only catches hangs.
constexpr auto kJobLimit = std::chrono::seconds(240);

// The real server on a temp data dir, with settings (--set KEY=VALUE) and environment of the test.
class Served {
 public:
  explicit Served(std::vector<std::string> sets = {}, std::map<std::string, std::string> env = {})
      : sets_(std::move(sets)), env_(std::move(env)) {}

  void start() {
    std::vector<std::string> args{"--data-dir", data_.str(), "--json"};
    for (const auto& s : sets_) args.insert(args.end(), {"--set", s});
    args.insert(args.end(), {"serve", "--port", "0"});
    ASSERT_TRUE(process_.spawn(args, logs_.path(), env_));
    port_ = process_.wait_for_url(std::chrono::seconds(60));
    ASSERT_GT(port_, 0);
  }
  // SIGTERM, and the exit code.
  int stop() {
    process_.signal(SIGTERM);
    return process_.wait_exit(std::chrono::seconds(30)).value_or(-1);
  }

  int port() const { return port_; }
  std::unique_ptr<httplib::Client> client() const {
    auto c = make_client(port_);
    c->set_read_timeout(std::chrono::seconds(120));
    return c;
  }
  const testing::TempDir& data() const { return data_; }
  fs::path imports() const { return data_ / "imports"; }
  // Everything the process and its log wrote.
  std::string output() const {
    std::string all = process_.out() + process_.err();
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(data_ / "logs", ec)) all += testing::read_file(e.path());
    return all;
  }

  json post(const std::string& path, const json& body, int status) {
    auto r = client()->Post(path, body.dump(), "application/json");
    remember(r);
    return expect_json(r, status);
  }
  json get(const std::string& path, int status = 200) {
    auto r = client()->Get(path);
    remember(r);
    return expect_json(r, status);
  }
  void post_error(const std::string& path, const json& body, int status, const std::string& code,
                  const std::string& message_part = "") {
    auto r = client()->Post(path, body.dump(), "application/json");
    remember(r);
    expect_error(r, status, code, message_part);
  }
  void get_error(const std::string& path, int status, const std::string& code, const std::string& message_part = "") {
    auto r = client()->Get(path);
    remember(r);
    expect_error(r, status, code, message_part);
  }
  // Every answer body seen, for the secrets check.
  const std::string& answers() const { return answers_; }
  void remember(const httplib::Result& r) {
    if (r) answers_ += r->body + "\n";
  }

  // Polls GET /api/v1/jobs/{id} until the job is final.
  json wait_job(const std::string& id) {
    const auto deadline = Clock::now() + kJobLimit;
    json last;
    auto cli = client();
    while (Clock::now() < deadline) {
      auto r = cli->Get("/api/v1/jobs/" + id);
      if (r && r->status == 200) {
        remember(r);
        last = json::parse(r->body);
        const std::string st = last["status"];
        if (st != "queued" && st != "running") return last;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "job " << id << " did not finish; last: " << last.dump();
    return last;
  }

  // Runs SQL synchronously and returns the rows (a JSON array of arrays).
  json rows(const std::string& sql) {
    json r = post("/api/v1/query", {{"sql", sql}}, 200);
    EXPECT_EQ(r.value("status", ""), "succeeded") << r.dump();
    return r.value("rows", json());
  }

 private:
  std::vector<std::string> sets_;
  std::map<std::string, std::string> env_;
  testing::TempDir data_;
  testing::TempDir logs_;
  ServerProcess process_;
  int port_ = 0;
  std::string answers_;
};

bool has_event(const SseRead& read, const std::string& type) {
  for (const auto& f : read.events) {
    if (f.event == type) return true;
  }
  return false;
}

// Reads a job's event stream to its end and checks the frames against the envelope contract.
std::vector<json> job_events(const Served& s, const json& job) {
  const auto read = read_sse(s.port(), job["events_url"].get<std::string>(), {}, nullptr, kJobLimit);
  EXPECT_EQ(read.status, 200);
  EXPECT_TRUE(read.ended_by_server);
  return check_frames(read, job["stream"].get<std::string>());
}

std::vector<std::string> types_of(const std::vector<json>& envelopes) {
  std::vector<std::string> out;
  for (const auto& e : envelopes) out.push_back(e["type"].get<std::string>());
  return out;
}

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// ---- ingestion -------------------------------------------------------------------------------

// A file uploaded through /imports and loaded with POST /api/v1/ingest: 202 with a job, events to
// the end, the run and the catalog entry; append with a type drift fails naming the column and
// leaves the table as it was; bad requests and paths outside ingest.allowed_dirs are refused.
TEST(IngestRoutes, UploadLoadAppendAndRefusals) {
  testing::TempDir outside;
  testing::write_file(outside / "secret.csv", "id\n1\n");
  Served s;
  s.start();

  const std::string csv = "id,name,amount\n1,ann,10.5\n2,bob,20\n3,\"c, d\",30\n";
  auto cli = s.client();
  json up = expect_json(cli->Post("/api/v1/imports/orders.csv", csv, "text/csv"), 201);
  const std::string path = (s.imports() / "orders.csv").string();
  EXPECT_EQ(up["path"], path);
  EXPECT_EQ(up["bytes"], csv.size());
  EXPECT_EQ(testing::read_file(path), csv);
  expect_error(cli->Post("/api/v1/imports/orders.csv", "x", "text/csv"), 409, "conflict", "already exists");
  EXPECT_EQ(testing::read_file(path), csv);
  expect_error(cli->Post("/api/v1/imports/.profile", "x", "text/plain"), 400, "invalid_argument");

  json sub = s.post("/api/v1/ingest", {{"source", path}, {"table", "orders"}}, 202);
  ASSERT_TRUE(sub["job_id"].is_string());
  const std::string id = sub["job_id"];
  EXPECT_EQ(sub["events_url"], "/api/v1/jobs/" + id + "/events");
  json job = s.wait_job(id);
  EXPECT_EQ(job["status"], "succeeded") << job.dump();
  const auto types = types_of(job_events(s, job));
  EXPECT_TRUE(contains(types, "ingest.loading")) << json(types).dump();
  EXPECT_EQ(types.back(), "ingest.succeeded") << json(types).dump();

  json run = s.get("/api/v1/ingest/runs/" + id);
  EXPECT_EQ(run["status"], "succeeded") << run.dump();
  EXPECT_EQ(run["rows"], 3);
  EXPECT_EQ(run["mode"], "replace");
  EXPECT_EQ(run["origin"], "api");
  json runs = s.get("/api/v1/ingest/runs?limit=5");
  ASSERT_FALSE(runs["runs"].empty());
  EXPECT_EQ(runs["runs"][0]["run_id"], id);
  s.get_error("/api/v1/ingest/runs/no-such-run", 404, "not_found");
  EXPECT_EQ(s.rows("SELECT count(*), sum(amount), max(name) FROM orders"), json::parse(R"([[3, 60.5, "c, d"]])"));
  const json table = s.get("/api/v1/catalog/tables/orders");
  ASSERT_TRUE(table["ingestion"].is_object()) << table.dump();
  EXPECT_EQ(table["ingestion"]["table"]["last_run_id"], id) << table.dump();
  EXPECT_EQ(table["ingestion"]["table"]["last_rows"], 3);
  EXPECT_EQ(table["ingestion"]["table"]["source_kind"], "files");
  EXPECT_EQ(table["ingestion"]["runs"][0]["run_id"], id);

  // Append with a column that changed type: the job fails naming it; the table is unchanged.
  json up2 = expect_json(cli->Post("/api/v1/imports/more.csv", "id,name,amount\n4,dan,lots\n", "text/csv"), 201);
  json append = s.post("/api/v1/ingest", {{"source", up2["path"]}, {"table", "orders"}, {"mode", "append"}}, 202);
  json failed = s.wait_job(append["job_id"]);
  EXPECT_EQ(failed["status"], "failed");
  ASSERT_TRUE(failed["error"].is_object()) << failed.dump();
  EXPECT_NE(failed["error"]["message"].get<std::string>().find("amount"), std::string::npos) << failed.dump();
  EXPECT_EQ(s.rows("SELECT count(*) FROM orders"), json::parse("[[3]]"));
  EXPECT_EQ(s.get("/api/v1/ingest/runs/" + append["job_id"].get<std::string>())["status"], "failed");

  // Bad requests.
  s.post_error("/api/v1/ingest", {{"table", "x"}}, 400, "invalid_argument", "source");
  s.post_error("/api/v1/ingest", {{"source", path}, {"table", "x"}, {"mode", "upsert"}}, 400, "invalid_argument");
  s.post_error("/api/v1/ingest", {{"source", path}, {"table", "x"}, {"options", {{"colour", 1}}}}, 400,
               "invalid_argument", "colour");
  // A missing file is refused before any job (like the CLI's exit 3: cannot open what was asked).
  s.post_error("/api/v1/ingest", {{"source", (s.imports() / "missing.csv").string()}, {"table", "x"}}, 503,
               "unavailable", "missing.csv");
  s.post_error("/api/v1/ingest", {{"source", "no_such_saved_source"}, {"table", "x"}}, 404, "not_found",
               "no_such_saved_source");
  // Outside ingest.allowed_dirs: directly, through "..", and through a symlink placed in imports/.
  s.post_error("/api/v1/ingest", {{"source", (outside / "secret.csv").string()}, {"table", "x"}}, 403,
               "permission_denied");
  const std::string dotdot = (s.imports() / ".." / ".." / outside.path().filename() / "secret.csv").string();
  ASSERT_TRUE(fs::exists(dotdot)) << dotdot;
  s.post_error("/api/v1/ingest", {{"source", dotdot}, {"table", "x"}}, 403, "permission_denied");
  fs::create_symlink(outside / "secret.csv", s.imports() / "link.csv");
  s.post_error("/api/v1/ingest", {{"source", (s.imports() / "link.csv").string()}, {"table", "x"}}, 403,
               "permission_denied");
  // A table name carrying SQL is a name, quoted, never SQL.
  const std::string odd = "we\"ird; DROP TABLE orders; --";
  json odd_job = s.post("/api/v1/ingest", {{"source", path}, {"table", odd}}, 202);
  EXPECT_EQ(s.wait_job(odd_job["job_id"])["status"], "succeeded");
  EXPECT_EQ(s.rows("SELECT count(*) FROM orders"), json::parse("[[3]]"));
  EXPECT_EQ(s.rows("SELECT count(*) FROM \"we\"\"ird; DROP TABLE orders; --\""), json::parse("[[3]]"));
  EXPECT_EQ(s.stop(), 0);
}

// Writes a SQLite database with one table of `n` invoices.
void write_sqlite(const fs::path& file, int n) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  std::string sql = "CREATE TABLE invoices(id INTEGER PRIMARY KEY, customer TEXT, total REAL);";
  for (int i = 1; i <= n; ++i) {
    sql += "INSERT INTO invoices VALUES(" + std::to_string(i) + ", 'c" + std::to_string(i % 7) + "', " +
           std::to_string(i) + ".25);";
  }
  char* err = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

// A saved PostgreSQL source over HTTP: add (the password kept as a secret), list, get, test, list
// its tables, incremental loads (the second takes exactly the 10 new rows), live attach and detach,
// a wrong password (401, never echoed), remove. A SQLite file uploaded to imports/ loads too. No
// password appears in any answer, the output or the log.
TEST(IngestRoutes, SavedPostgresSourceSqliteFileAndSecrets) {
  testing::PostgresServer pg;
  ASSERT_TRUE(pg.ok()) << pg.error();
  ASSERT_EQ(pg.psql("CREATE TABLE items(id int PRIMARY KEY, name text, price numeric(10,2));"
                    "INSERT INTO items SELECT g, 'item ' || g, g * 1.5 FROM generate_series(1, 100) g;")
                .exit_code,
            0);
  const std::string wrong_password = "Wr0ng-Passw0rd-7c1e";
  Served s;
  s.start();

  json added = s.post("/api/v1/sources",
                      {{"name", "shop"}, {"uri", pg.uri_without_password()}, {"password", pg.password()}}, 201);
  EXPECT_EQ(added["name"], "shop");
  EXPECT_EQ(added["password"], "stored");
  s.post_error("/api/v1/sources", {{"name", "shop"}, {"uri", pg.uri_without_password()}}, 409, "conflict", "shop");
  s.post_error("/api/v1/sources", {{"uri", pg.uri_without_password()}}, 400, "invalid_argument", "name");
  json list = s.get("/api/v1/sources");
  ASSERT_EQ(list["sources"].size(), 1U);
  EXPECT_EQ(list["sources"][0]["name"], "shop");
  EXPECT_EQ(s.get("/api/v1/sources/shop")["kind"], "postgres");
  s.get_error("/api/v1/sources/nope", 404, "not_found", "nope");
  (void)s.post("/api/v1/sources/shop/test", json::object(), 200);
  json tables = s.get("/api/v1/sources/shop/tables");
  bool has_items = false;
  for (const auto& t : tables["tables"]) has_items = has_items || (t["schema"] == "public" && t["name"] == "items");
  EXPECT_TRUE(has_items) << tables.dump();

  const json incremental = {{"source", "shop"},
                            {"table", "items"},
                            {"mode", "incremental"},
                            {"options", {{"source_table", "public.items"}, {"cursor", "id"}}}};
  json first = s.wait_job(s.post("/api/v1/ingest", incremental, 202)["job_id"]);
  ASSERT_EQ(first["status"], "succeeded") << first.dump();
  EXPECT_EQ(s.get("/api/v1/ingest/runs/" + first["id"].get<std::string>())["rows"], 100);
  ASSERT_EQ(pg.psql("INSERT INTO items SELECT g, 'new ' || g, g FROM generate_series(101, 110) g").exit_code, 0);
  json second = s.wait_job(s.post("/api/v1/ingest", incremental, 202)["job_id"]);
  ASSERT_EQ(second["status"], "succeeded") << second.dump();
  EXPECT_EQ(s.get("/api/v1/ingest/runs/" + second["id"].get<std::string>())["rows"], 10);
  EXPECT_EQ(s.rows("SELECT count(*), count(DISTINCT id), max(id) FROM items"), json::parse("[[110, 110, 110]]"));
  const json item_table = s.get("/api/v1/catalog/tables/items");
  ASSERT_TRUE(item_table["ingestion"].is_object()) << item_table.dump();
  const json& origin = item_table["ingestion"]["table"];
  EXPECT_EQ(origin["saved_source"], "shop") << item_table.dump();
  EXPECT_EQ(origin["source_kind"], "postgres");
  EXPECT_EQ(origin["source_object"], "public.items");
  EXPECT_EQ(origin["cursor_column"], "id");
  EXPECT_EQ(origin["high_water_mark"], "110");
  // Each run records what the saved source resolved to.
  const json& last_run = item_table["ingestion"]["runs"][0];
  EXPECT_EQ(last_run["rows"], 10);
  EXPECT_EQ(last_run["source_kind"], "postgres") << last_run.dump();
  EXPECT_EQ(last_run["saved_source"], "shop");

  // Merge on a key: changed rows are updated in place, none duplicated.
  ASSERT_EQ(pg.psql("UPDATE items SET name = 'renamed' WHERE id <= 5").exit_code, 0);
  json merged = s.wait_job(s.post("/api/v1/ingest",
                                  {{"source", "shop"},
                                   {"table", "items"},
                                   {"mode", "merge"},
                                   {"options", {{"source_table", "public.items"}, {"key", "id"}}}},
                                  202)["job_id"]);
  ASSERT_EQ(merged["status"], "succeeded") << merged.dump();
  EXPECT_EQ(s.rows("SELECT count(*), count(*) FILTER (name = 'renamed') FROM items"), json::parse("[[110, 5]]"));
  // A query at the source.
  json queried = s.wait_job(s.post("/api/v1/ingest",
                                   {{"source", "shop"},
                                    {"table", "pricey"},
                                    {"options", {{"query", "SELECT id, price FROM items WHERE price > 100"}}}},
                                   202)["job_id"]);
  ASSERT_EQ(queried["status"], "succeeded") << queried.dump();
  EXPECT_EQ(s.rows("SELECT count(*), min(id) FROM pricey"), json::parse("[[44, 67]]"));

  // Live federation: read-only, listed in the catalog under the source's name, gone after detach.
  (void)s.post("/api/v1/sources/shop/attach", json::object(), 200);
  EXPECT_EQ(s.rows("SELECT count(*) FROM shop.public.items"), json::parse("[[110]]"));
  json catalog = s.get("/api/v1/catalog/tables");
  bool listed = false;
  for (const auto& t : catalog["tables"]) listed = listed || (t["database"] == "shop" && t["name"] == "items");
  EXPECT_TRUE(listed) << catalog.dump();
  json write = s.post("/api/v1/query", {{"sql", "INSERT INTO shop.public.items VALUES (999, 'x', 1)"}}, 200);
  EXPECT_EQ(write["status"], "failed") << write.dump();
  EXPECT_EQ(pg.psql("SELECT count(*) FROM items").out, "110\n");
  (void)s.post("/api/v1/sources/shop/detach", json::object(), 200);
  EXPECT_EQ(s.post("/api/v1/query", {{"sql", "SELECT count(*) FROM shop.public.items"}}, 200)["status"], "failed");

  // A wrong password: a clear authentication error that does not carry the password.
  (void)s.post("/api/v1/sources", {{"name", "bad"}, {"uri", pg.uri_without_password()}, {"password", wrong_password}},
               201);
  s.post_error("/api/v1/sources/bad/test", json::object(), 401, "unauthenticated");

  // SQLite: a database file uploaded to imports/, one table loaded.
  testing::TempDir scratch;
  write_sqlite(scratch / "legacy.db", 25);
  auto cli = s.client();
  json up = expect_json(
      cli->Post("/api/v1/imports/legacy.db", testing::read_file(scratch / "legacy.db"), "application/vnd.sqlite3"),
      201);
  json lite = s.wait_job(s.post("/api/v1/ingest",
                                {{"source", "sqlite:" + up["path"].get<std::string>()},
                                 {"table", "invoices"},
                                 {"options", {{"source_table", "invoices"}}}},
                                202)["job_id"]);
  ASSERT_EQ(lite["status"], "succeeded") << lite.dump();
  EXPECT_EQ(s.rows("SELECT count(*), sum(total) FROM invoices"), json::parse("[[25, 331.25]]"));

  // The same operations as catalog actions.
  json actions = s.get("/api/v1/actions");
  std::set<std::string> names;
  for (const auto& a : actions["actions"]) names.insert(a["name"].get<std::string>());
  for (const char* n : {"source.list", "source.tables", "source.ingest", "dbt.run", "dbt.models", "dbt.lineage"}) {
    EXPECT_EQ(names.count(n), 1U) << n;
  }
  json via_action = s.post("/api/v1/actions/source.list", json::object(), 200);
  EXPECT_EQ(via_action["sources"].size(), 2U) << via_action.dump();

  (void)s.client()->Delete("/api/v1/sources/bad");
  auto removed = s.client()->Delete("/api/v1/sources/shop");
  EXPECT_EQ(expect_json(removed)["removed"], "shop");
  s.get_error("/api/v1/sources/shop", 404, "not_found");
  expect_error(s.client()->Delete("/api/v1/sources/shop"), 404, "not_found");

  EXPECT_EQ(s.stop(), 0);
  const std::string everything = s.answers() + s.output();
  EXPECT_EQ(everything.find(pg.password()), std::string::npos);
  EXPECT_EQ(everything.find(wrong_password), std::string::npos);
}

// ---- dbt -------------------------------------------------------------------------------------

// A dbt project of our own: `slow` runs until cancelled, `quick` is instant, `broken` fails.
fs::path write_mini_project(const fs::path& dir) {
  fs::create_directories(dir / "models");
  testing::write_file(dir / "dbt_project.yml",
                      "name: mini\nversion: \"1.0.0\"\nconfig-version: 2\nprofile: anything\n"
                      "models:\n  mini:\n    +materialized: table\n");
  testing::write_file(dir / "models" / "slow.sql",
                      "select sum(a.range * b.range) as s from range(100000) a, range(10000000) b");
  testing::write_file(dir / "models" / "quick.sql", "select 7 as n");
  testing::write_file(dir / "models" / "broken.sql", "select no_such_column from {{ ref('quick') }}");
  return dir;
}

// POST /api/v1/dbt/run builds the starter project: 202, node events to the end, the run with its
// per-node results, the manifest, models, lineage of a mart and its column tests in the catalog;
// the models answer queries. Bad requests get 400/404/409.
TEST(DbtRoutes, BuildStarterProjectThroughTheApi) {
  Served s;
  s.start();
  json sub = s.post("/api/v1/dbt/run", {{"command", "build"}}, 202);
  const std::string id = sub["run_id"];
  EXPECT_EQ(sub["events_url"], "/api/v1/jobs/" + id + "/events");
  const auto read = read_sse(s.port(), sub["events_url"].get<std::string>(), {}, nullptr, kJobLimit);
  const auto envelopes = check_frames(read, sub["stream"].get<std::string>());
  const auto types = types_of(envelopes);
  EXPECT_TRUE(contains(types, "dbt.node_started")) << json(types).dump();
  EXPECT_TRUE(contains(types, "dbt.node_finished"));
  ASSERT_FALSE(types.empty());
  EXPECT_EQ(types.back(), "dbt.succeeded") << json(types).dump();

  json run = s.get("/api/v1/dbt/runs/" + id);
  EXPECT_EQ(run["status"], "succeeded") << run.dump().substr(0, 2000);
  EXPECT_EQ(run["command"], "build");
  std::map<std::string, std::string> status_of;
  for (const auto& n : run["nodes"]) status_of[n["name"].get<std::string>()] = n["status"].get<std::string>();
  EXPECT_EQ(status_of["fct_orders"], "success");
  EXPECT_EQ(status_of["stg_orders"], "success");
  EXPECT_GE(run["nodes"].size(), 10U);
  json runs = s.get("/api/v1/dbt/runs");
  ASSERT_FALSE(runs["runs"].empty());
  EXPECT_EQ(runs["runs"][0]["run_id"], id);

  json manifest = s.get("/api/v1/dbt/manifest");
  EXPECT_FALSE(manifest["nodes"].empty());
  json models = s.get("/api/v1/dbt/models?q=fct_");
  std::set<std::string> model_names;
  for (const auto& m : models["models"]) model_names.insert(m["name"].get<std::string>());
  EXPECT_EQ(model_names.count("fct_orders"), 1U) << models.dump().substr(0, 2000);
  EXPECT_EQ(model_names.count("stg_products"), 0U);  // filtered by ?q=
  json lineage = s.get("/api/v1/dbt/lineage/fct_orders");
  std::set<std::string> upstream;
  for (const auto& n : lineage["nodes"]) {
    if (n["direction"] == "upstream") upstream.insert(n["name"].get<std::string>());
  }
  EXPECT_EQ(upstream.count("stg_orders"), 1U) << lineage.dump().substr(0, 2000);
  EXPECT_FALSE(lineage["tests"].empty());
  json table = s.get("/api/v1/catalog/tables/fct_orders");
  ASSERT_TRUE(table["dbt"].is_object()) << table.dump().substr(0, 2000);
  bool column_tested = false;
  for (const auto& c : table["dbt"]["columns"]) {
    for (const auto& t : c["tests"]) column_tested = column_tested || t.dump().find("pass") != std::string::npos;
  }
  EXPECT_TRUE(column_tested) << table["dbt"].dump().substr(0, 2000);
  EXPECT_EQ(s.rows("SELECT count(*) > 0 FROM fct_orders"), json::parse("[[true]]"));

  s.post_error("/api/v1/dbt/run", {{"command", "drop"}}, 400, "invalid_argument");
  s.get_error("/api/v1/dbt/runs/no-such-run", 404, "not_found");
  s.get_error("/api/v1/dbt/lineage/no_such_model", 404, "not_found", "no_such_model");
  s.post_error("/api/v1/dbt/runs/" + id + "/cancel", json::object(), 409, "conflict");
  EXPECT_EQ(s.stop(), 0);
}

// While dbt holds the warehouse, a query and a catalog read wait (the query's stream says why) and a
// second run asked not to wait is refused (409); cancelling the run through the API stops dbt and
// they complete at once. A broken model fails its run with the model's error while the others'
// results are recorded, and the server stays healthy.
TEST(DbtRoutes, QueriesWaitForARunCancelFreesTheWarehouseBrokenModelFails) {
  testing::TempDir project_root;
  const auto project = write_mini_project(project_root / "mini");
  Served s({"dbt.project_dir=" + project.string()});
  s.start();
  (void)s.rows("CREATE TABLE before_dbt AS SELECT 42 AS x");

  json slow = s.post("/api/v1/dbt/run", {{"command", "run"}, {"select", "slow"}}, 202);
  const std::string slow_id = slow["run_id"];
  // Follow the run until dbt has the warehouse and is running the slow model.
  (void)read_sse(s.port(), slow["events_url"].get<std::string>(), {},
                 [](const SseRead& r) { return !(has_event(r, "dbt.node_started")); });
  s.post_error("/api/v1/dbt/run", {{"command", "run"}, {"select", "quick"}, {"wait", false}}, 409, "conflict", slow_id);
  json q = s.post("/api/v1/query", {{"sql", "SELECT x FROM before_dbt"}, {"async", true}}, 202);
  std::atomic<int> catalog_status{0};
  std::thread catalog_reader([&] {
    auto r = s.client()->Get("/api/v1/catalog/tables/before_dbt");
    catalog_status = r ? r->status : -1;
  });
  // The query says it waits, and for what.
  const auto waiting = read_sse(s.port(), q["events_url"].get<std::string>(), {},
                                [](const SseRead& r) { return !has_event(r, "query.waiting"); });
  EXPECT_TRUE(has_event(waiting, "query.waiting"));
  EXPECT_EQ(s.get("/api/v1/query/" + q["run_id"].get<std::string>())["status"], "queued");

  json cancel = s.post("/api/v1/dbt/runs/" + slow_id + "/cancel", json::object(), 202);
  EXPECT_EQ(cancel["status"], "cancelling");
  json done = poll_run(*s.client(), q["run_id"], is_final_status, kJobLimit);
  EXPECT_EQ(done["status"], "succeeded");
  EXPECT_EQ(done["rows"], json::parse("[[42]]"));
  catalog_reader.join();
  EXPECT_EQ(catalog_status.load(), 200);
  EXPECT_EQ(s.wait_job(slow_id)["status"], "cancelled");
  EXPECT_EQ(s.get("/api/v1/dbt/runs/" + slow_id)["status"], "cancelled");
  EXPECT_EQ(s.rows("SELECT 1 + 1"), json::parse("[[2]]"));

  json broken = s.post("/api/v1/dbt/run", {{"command", "run"}, {"select", "quick broken"}}, 202);
  EXPECT_EQ(s.wait_job(broken["run_id"])["status"], "failed");
  json run = s.get("/api/v1/dbt/runs/" + broken["run_id"].get<std::string>());
  EXPECT_EQ(run["status"], "failed");
  ASSERT_TRUE(run["error"].is_object()) << run.dump();
  EXPECT_NE(run["error"]["message"].get<std::string>().find("no_such_column"), std::string::npos) << run.dump();
  std::map<std::string, json> nodes;
  for (const auto& n : run["nodes"]) nodes[n["name"].get<std::string>()] = n;
  EXPECT_EQ(nodes["quick"]["status"], "success");
  EXPECT_EQ(nodes["broken"]["status"], "error");
  EXPECT_FALSE(nodes["broken"]["compiled_path"].get<std::string>().empty());
  EXPECT_EQ(s.get("/api/v1/health")["status"], "ok");
  EXPECT_EQ(s.rows("SELECT n FROM quick"), json::parse("[[7]]"));
  EXPECT_EQ(s.stop(), 0);
}

// Without dbt the route says what is missing and how to install it (503), and the server goes on.
TEST(DbtRoutes, MissingDbtIsUnavailableWithHowToInstall) {
  Served s({"dbt.executable=/nonexistent/bin/dbt"});
  s.start();
  auto r = s.client()->Post("/api/v1/dbt/run", R"({"command":"run"})", "application/json");
  expect_error(r, 503, "unavailable", "/nonexistent/bin/dbt");
  ASSERT_TRUE(r);
  EXPECT_NE(json::parse(r->body)["error"]["hint"].get<std::string>().find("install"), std::string::npos) << r->body;
  EXPECT_EQ(s.rows("SELECT 1"), json::parse("[[1]]"));
  EXPECT_EQ(s.stop(), 0);
}

// ---- agent and the route table ------------------------------------------------------------------

// The agent routes refuse bad requests and unknown ids; the full binary documents exactly the
// routes these suites cover.
TEST(AgentRoutes, BadRequestsAndUnknownIds) {
  Served s;
  s.start();
  s.post_error("/api/v1/agent/run", json::object(), 400, "invalid_argument", "question");
  s.post_error("/api/v1/agent/run", {{"question", "how many?"}, {"provider", "telepathy"}}, 400, "invalid_argument",
               "telepathy");
  s.get_error("/api/v1/agent/no-such-run", 404, "not_found");
  s.get_error("/api/v1/agent/no-such-run/events", 404, "not_found");
  s.post_error("/api/v1/agent/no-such-run/cancel", json::object(), 404, "not_found");
  s.get_error("/api/v1/agent/conversations/no-such-conversation", 404, "not_found");
  // A conversation started over HTTP is readable afterwards.
  (void)s.rows("CREATE TABLE customers AS SELECT range AS id FROM range(12)");
  json run = s.post("/api/v1/agent/run", {{"question", "how many customers are there?"}}, 202);
  const auto read = read_sse(s.port(), run["events_url"].get<std::string>(), {}, nullptr, kJobLimit);
  EXPECT_TRUE(has_event(read, "agent.answer"));
  json view = s.get("/api/v1/agent/" + run["run_id"].get<std::string>());
  EXPECT_NE(view.dump().find("12"), std::string::npos) << view.dump().substr(0, 2000);
  // Only a run that did not finish can be resumed (the resume itself is tested through `ask --resume`).
  s.post_error("/api/v1/agent/" + run["run_id"].get<std::string>() + "/resume", json::object(), 409, "conflict",
               "already succeeded");
  s.post_error("/api/v1/agent/no-such-run/resume", json::object(), 404, "not_found");
  json conv = s.get("/api/v1/agent/conversations/" + run["conversation_id"].get<std::string>());
  EXPECT_NE(conv.dump().find("how many customers are there?"), std::string::npos) << conv.dump().substr(0, 2000);
  EXPECT_EQ(s.stop(), 0);
}

TEST(ServedRoutes, OpenApiOfTheFullBinaryListsExactlyTheCoveredRoutes) {
  Served s;
  s.start();
  json spec = s.get("/openapi.json");
  std::set<std::string> documented;
  for (const auto& [path, methods] : spec["paths"].items()) {
    for (const auto& [method, op] : methods.items()) {
      std::string m = method;
      for (auto& c : m) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      documented.insert(m + " " + path);
    }
  }
  std::set<std::string> covered = covered_routes();
  covered.insert(service_routes().begin(), service_routes().end());
  for (const auto& r : documented) EXPECT_EQ(covered.count(r), 1U) << "documented but not covered: " << r;
  for (const auto& r : covered) EXPECT_EQ(documented.count(r), 1U) << "covered but not documented: " << r;
  EXPECT_EQ(s.stop(), 0);
}

}  // namespace
}  // namespace pluto::api_test
