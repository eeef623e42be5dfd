// Database sources against real servers and files: a PostgreSQL server started for the suite
// (initdb + pg_ctl on a free port), SQLite files made with the sqlite3 library. Saved sources,
// secrets, live attachment and the actions.
#include <sqlite3.h>
#include <sys/stat.h>

#include <cstdlib>

#include "ingest_fixture.hpp"
#include "pluto/core/log.hpp"
#include "pluto/ingest/actions.hpp"
#include "support/postgres_server.hpp"

namespace pluto::ingest {
namespace {

namespace fs = std::filesystem;
using testing::IngestFixture;
using Rows = std::vector<std::vector<std::string>>;

class PostgresIngest : public IngestFixture {
 protected:
  static void SetUpTestSuite() {
    pg_ = new pluto::testing::PostgresServer();
    if (!pg_->ok()) return;
    auto r = pg_->psql(
        "CREATE TABLE customers (id integer PRIMARY KEY, name text NOT NULL, city text, updated_at timestamp);"
        "INSERT INTO customers SELECT g, 'customer ' || g, CASE WHEN g % 2 = 0 THEN 'Berlin' ELSE 'Lyon' END, "
        "  timestamp '2024-01-01' + g * interval '1 hour' FROM generate_series(1, 100) g;"
        "CREATE TABLE orders (order_id bigint PRIMARY KEY, customer_id integer, amount numeric(12,2), note text);"
        "INSERT INTO orders SELECT g, 1 + g % 100, g * 1.25, NULL FROM generate_series(1, 500) g;"
        "CREATE SCHEMA sales; CREATE TABLE sales.regions (code text PRIMARY KEY, label text);"
        "INSERT INTO sales.regions VALUES ('EU', 'Europe'), ('NA', 'North America');"
        "CREATE TABLE sales.\"Mixed Case\" (x int); INSERT INTO sales.\"Mixed Case\" VALUES (1), (2);"
        "CREATE VIEW berlin AS SELECT * FROM customers WHERE city = 'Berlin';");
    if (r.exit_code != 0) setup_error_ = r.err;
  }
  static void TearDownTestSuite() {
    delete pg_;
    pg_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(pg_->ok()) << pg_->error();
    ASSERT_TRUE(setup_error_.empty()) << setup_error_;
    IngestFixture::SetUp();
  }

  static pluto::testing::PostgresServer* pg_;
  static std::string setup_error_;
};
pluto::testing::PostgresServer* PostgresIngest::pg_ = nullptr;
std::string PostgresIngest::setup_error_;

TEST_F(PostgresIngest, TableLoadsWithTypesAndLineage) {
  auto req = request(pg_->uri(), "customers");
  req.source_tables = {"customers"};
  auto r = ingest(req);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value()["rows"], 100);
  EXPECT_EQ(rows("SELECT typeof(id), typeof(name), typeof(updated_at) FROM customers LIMIT 1"),
            (Rows{{"INTEGER", "VARCHAR", "TIMESTAMP"}}));
  EXPECT_EQ(value("SELECT count(*) FILTER (WHERE city = 'Berlin') FROM customers"), "50");
  const std::string shown = r.value().dump();
  EXPECT_EQ(shown.find(pg_->password()), std::string::npos) << shown;
  auto lineage = service_->table_lineage("customers");
  ASSERT_TRUE(lineage.ok());
  EXPECT_EQ(lineage.value()["table"]["source"], pg_->uri_without_password());
  EXPECT_EQ(lineage.value()["table"]["source_object"], "public.customers");
  EXPECT_EQ(lineage.value().dump().find(pg_->password()), std::string::npos);
  EXPECT_EQ(service_->get_run(last_job_)->source, pg_->uri_without_password());
  // Nothing stays attached after the load.
  EXPECT_EQ(value("SELECT count(*) FROM duckdb_databases() WHERE database_name LIKE '__pluto%'"), "0");
  EXPECT_EQ(value("SELECT count(*) FROM duckdb_secrets()"), "0");
}

TEST_F(PostgresIngest, SeveralTablesWholeSchemaAndQuery) {
  auto several = request(pg_->uri(), "pg_");
  several.source_tables = {"customers", "orders"};
  auto r = ingest(several);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value()["rows"], 600);
  EXPECT_EQ(value("SELECT count(*) FROM pg_orders"), "500");
  EXPECT_EQ(value("SELECT count(*) FROM pg_customers"), "100");

  auto schema = request(pg_->uri(), "");
  schema.source_schema = "sales";
  schema.schema = "sales";
  auto s = ingest(schema);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(value("SELECT string_agg(label, ',' ORDER BY code) FROM sales.regions"), "Europe,North America");
  EXPECT_EQ(value("SELECT sum(x) FROM sales.\"Mixed Case\""), "3");

  auto q = request(pg_->uri(), "top_cities");
  q.query = "SELECT city, count(*) AS n FROM customers GROUP BY city ORDER BY city";
  auto qr = ingest(q);
  ASSERT_TRUE(qr.ok()) << qr.error().message;
  EXPECT_EQ(rows("SELECT city, n FROM top_cities ORDER BY city"), (Rows{{"Berlin", "50"}, {"Lyon", "50"}}));

  auto all = request(pg_->uri(), "all_");
  all.source_tables = {"*"};
  auto a = ingest(all);
  ASSERT_TRUE(a.ok()) << a.error().message;
  const auto expected =
      pg_->psql("SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')");
  EXPECT_EQ(value("SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'all_%'") + "\n", expected.out);
  EXPECT_EQ(value("SELECT count(*) FROM \"all_sales_Mixed Case\""), "2");

  auto missing = request(pg_->uri(), "x");
  missing.source_tables = {"nope"};
  auto m = ingest(missing);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, ErrorCode::not_found);
  EXPECT_NE(m.error().message.find("public.nope"), std::string::npos) << m.error().message;
}

TEST_F(PostgresIngest, IncrementalSecondRunLoadsExactlyTheNewRows) {
  ASSERT_EQ(pg_->psql("CREATE TABLE events (id serial PRIMARY KEY, kind text); "
                      "INSERT INTO events (kind) SELECT 'k' || g FROM generate_series(1, 50) g")
                .exit_code,
            0);
  auto req = request(pg_->uri(), "events", LoadMode::incremental);
  req.source_tables = {"events"};
  req.cursor = "id";
  auto first = ingest(req);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first.value()["rows"], 50);
  ASSERT_EQ(pg_->psql("INSERT INTO events (kind) SELECT 'new' || g FROM generate_series(1, 10) g").exit_code, 0);
  auto second = ingest(req);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second.value()["rows"], 10);
  EXPECT_EQ(value("SELECT count(*) || '/' || count(DISTINCT id) || '/' || count(*) FILTER (WHERE kind LIKE 'new%') "
                  "FROM events"),
            "60/60/10");
  EXPECT_EQ(service_->table_lineage("events").value()["table"]["high_water_mark"], "60");
}

TEST_F(PostgresIngest, MergeOnKeyUpdatesAndInserts) {
  ASSERT_EQ(pg_->psql("CREATE TABLE stock (sku text PRIMARY KEY, qty int); INSERT INTO stock VALUES ('a', 1), ('b', 2)")
                .exit_code,
            0);
  auto req = request(pg_->uri(), "stock", LoadMode::merge);
  req.source_tables = {"stock"};
  req.keys = {"sku"};
  ASSERT_TRUE(ingest(req).ok());
  ASSERT_EQ(pg_->psql("UPDATE stock SET qty = 20 WHERE sku = 'b'; INSERT INTO stock VALUES ('c', 3)").exit_code, 0);
  auto r = ingest(req);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(rows("SELECT sku, qty FROM stock ORDER BY sku"), (Rows{{"a", "1"}, {"b", "20"}, {"c", "3"}}));
}

TEST_F(PostgresIngest, WrongPasswordIsAnAuthErrorWithoutThePassword) {
  const std::string wrong = "Wr0ng-Pa55-Value";
  auto req = request("postgresql://postgres:" + wrong + "@127.0.0.1:" + std::to_string(pg_->port()) + "/postgres", "t");
  req.source_tables = {"customers"};
  auto r = ingest(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::unauthenticated) << r.error().message;
  EXPECT_NE(r.error().message.find("password authentication failed"), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.find(wrong), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().hint.find(wrong), std::string::npos);
  auto run = service_->get_run(last_job_);
  EXPECT_EQ(run->status, "failed");
  EXPECT_EQ(run->to_json().dump().find(wrong), std::string::npos);
  for (const auto& e : job_events()) EXPECT_EQ(e.data.dump().find(wrong), std::string::npos) << e.type;
  auto jobs = runner_->get(last_job_);
  ASSERT_TRUE(jobs.ok());
  EXPECT_EQ(jobs->to_json().dump().find(wrong), std::string::npos) << jobs->to_json().dump();
}

TEST_F(PostgresIngest, UnreachableHostFailsWithinTheConnectTimeout) {
  const int closed = pluto::testing::free_local_port();
  auto req = request("postgresql://postgres:whatever@127.0.0.1:" + std::to_string(closed) + "/postgres", "t");
  req.source_tables = {"customers"};
  const auto start = std::chrono::steady_clock::now();
  auto r = ingest(req);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::unavailable) << r.error().message;
  EXPECT_NE(r.error().message.find(std::to_string(closed)), std::string::npos) << r.error().message;
  EXPECT_LT(took, std::chrono::seconds(60));  // a hang detector, not a timing requirement
}

TEST_F(PostgresIngest, SavedSourceKeepsThePasswordInAPrivateFileOnly) {
  AddSourceRequest add;
  add.name = "crm";
  add.uri = pg_->uri();
  auto saved = service_->add_source(add);
  ASSERT_TRUE(saved.ok()) << saved.error().message;
  EXPECT_TRUE(saved->has_secret);
  EXPECT_EQ(saved->location, pg_->uri_without_password());
  const fs::path secret = data_dir_ / "secrets" / "source-crm.password";
  EXPECT_EQ(pluto::testing::read_file(secret), pg_->password());
  struct stat st {};
  ASSERT_EQ(::stat(secret.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777U, 0600U);
  ASSERT_EQ(::stat((data_dir_ / "secrets").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777U, 0700U);

  auto listed = source_list(*service_, nlohmann::json::object());
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed.value()["sources"][0]["password"], "stored");
  EXPECT_EQ(listed.value().dump().find(pg_->password()), std::string::npos);

  auto tested = service_->test_source("crm");
  ASSERT_TRUE(tested.ok()) << tested.error().message;
  EXPECT_NE(tested.value()["detail"].get<std::string>().find("PostgreSQL"), std::string::npos);
  auto tables = source_tables(*service_, {{"source", "crm"}});
  ASSERT_TRUE(tables.ok()) << tables.error().message;
  bool regions = false;
  bool view = false;
  for (const auto& t : tables.value()["tables"]) {
    regions = regions || (t["schema"] == "sales" && t["name"] == "regions");
    view = view || (t["name"] == "berlin" && t["kind"] == "view");
  }
  EXPECT_TRUE(regions) << tables.value().dump();
  EXPECT_TRUE(view) << tables.value().dump();

  // Ingest by name, through the action.
  auto job = source_ingest(*service_, *runner_,
                           {{"source", "crm"}, {"table", "crm_orders"}, {"options", {{"source_table", "orders"}}}},
                           "agent", false);
  ASSERT_TRUE(job.ok()) << job.error().message;
  auto done = runner_->wait(job.value()["job_id"].get<std::string>(), std::chrono::minutes(2));
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->status, jobs::JobStatus::succeeded) << (done->error ? done->error->message : "");
  EXPECT_EQ(value("SELECT count(*) FROM crm_orders"), "500");
  EXPECT_EQ(service_->table_lineage("crm_orders").value()["table"]["saved_source"], "crm");

  AddSourceRequest dup = add;
  EXPECT_EQ(service_->add_source(dup).error().code, ErrorCode::conflict);
  ASSERT_TRUE(service_->remove_source("crm").ok());
  EXPECT_FALSE(fs::exists(secret));
  EXPECT_EQ(service_->get_source("crm").error().code, ErrorCode::not_found);
}

TEST_F(PostgresIngest, SavedSourceCanReadThePasswordFromAnEnvironmentVariable) {
  AddSourceRequest add;
  add.name = "envsrc";
  add.uri = pg_->uri_without_password();
  add.password_env = "PLUTO_TEST_PG_PW";
  ASSERT_TRUE(service_->add_source(add).ok());
  EXPECT_FALSE(fs::exists(data_dir_ / "secrets" / "source-envsrc.password"));
  ::unsetenv("PLUTO_TEST_PG_PW");
  auto unset = service_->test_source("envsrc");
  ASSERT_FALSE(unset.ok());
  EXPECT_EQ(unset.error().code, ErrorCode::unauthenticated);
  EXPECT_NE(unset.error().message.find("PLUTO_TEST_PG_PW"), std::string::npos);
  ::setenv("PLUTO_TEST_PG_PW", pg_->password().c_str(), 1);
  auto ok = service_->test_source("envsrc");
  ::unsetenv("PLUTO_TEST_PG_PW");
  EXPECT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(service_->get_source("envsrc")->to_json()["password"], "env:PLUTO_TEST_PG_PW");
}

TEST_F(PostgresIngest, AttachedSourceIsQueryableReadOnlyAndComesBackAfterReopen) {
  AddSourceRequest add;
  add.name = "live";
  add.uri = pg_->uri();
  ASSERT_TRUE(service_->add_source(add).ok());
  auto attached = service_->attach_source("live");
  ASSERT_TRUE(attached.ok()) << attached.error().message;
  EXPECT_EQ(attached.value()["database"], "live");
  // The warehouse catalog lists its tables under the source's name.
  {
    auto lease = warehouse_->pool().acquire();
    ASSERT_TRUE(lease.ok());
    auto tables = warehouse::list_tables(lease.value().connection());
    ASSERT_TRUE(tables.ok()) << tables.error().message;
    bool found = false;
    for (const auto& t : tables.value()) found = found || (t.database == "live" && t.name == "customers");
    EXPECT_TRUE(found);
  }
  EXPECT_EQ(value("SELECT count(*) FROM live.public.customers"), "100");
  EXPECT_FALSE(exec("INSERT INTO live.public.customers VALUES (1000, 'x', 'y', NULL)").ok());
  // The password is in no catalog DuckDB shows.
  EXPECT_EQ(value("SELECT string_agg(coalesce(path, ''), ' ') FROM duckdb_databases()").find(pg_->password()),
            std::string::npos);
  EXPECT_EQ(value("SELECT string_agg(secret_string, ' ') FROM duckdb_secrets()").find(pg_->password()),
            std::string::npos);

  // A fresh process: the warehouse opens without it until restore_attachments().
  close_all();
  open_all();
  EXPECT_EQ(value("SELECT count(*) FROM duckdb_databases() WHERE database_name = 'live'"), "0");
  auto restored = service_->restore_attachments();
  EXPECT_EQ(restored["attached"], nlohmann::json::array({"live"})) << restored.dump();
  EXPECT_EQ(value("SELECT count(*) FROM live.public.orders"), "500");
  EXPECT_TRUE(service_->get_source("live")->attached);

  ASSERT_TRUE(service_->detach_source("live").ok());
  EXPECT_EQ(value("SELECT count(*) FROM duckdb_databases() WHERE database_name = 'live'"), "0");
  EXPECT_FALSE(service_->get_source("live")->attached);
}

// ---- SQLite ---------------------------------------------------------------------------------------

class SqliteIngest : public IngestFixture {
 protected:
  void SetUp() override {
    IngestFixture::SetUp();
    db_path_ = dir_ / "shop.db";
    sql("CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT, price REAL, added TEXT);"
        "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < 40) "
        "INSERT INTO products SELECT i, 'product ' || i, i * 2.5, '2024-02-' || printf('%02d', 1 + i % 28) FROM g;"
        "CREATE TABLE \"odd \"\"name\" (x INTEGER); INSERT INTO \"odd \"\"name\" VALUES (7);"
        "CREATE VIEW cheap AS SELECT * FROM products WHERE price < 10;");
  }
  void sql(const std::string& s) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(db_path_.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, s.c_str(), nullptr, nullptr, &err);
    const std::string msg = err != nullptr ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    ASSERT_EQ(rc, SQLITE_OK) << msg;
  }
  fs::path db_path_;
};

TEST_F(SqliteIngest, TableAllTablesQueryAndIncremental) {
  auto one = request("sqlite:" + db_path_.string(), "products");
  one.source_tables = {"products"};
  auto r = ingest(one);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value()["rows"], 40);
  EXPECT_EQ(rows("SELECT typeof(id), typeof(price), sum(price) FROM products GROUP BY ALL"),
            (Rows{{"BIGINT", "DOUBLE", "2050.0"}}));

  auto all = request(db_path_.string(), "lite_");  // detected as SQLite by its header
  all.source_tables = {"*"};
  auto a = ingest(all);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(value("SELECT x FROM \"lite_odd \"\"name\""), "7");
  EXPECT_EQ(value("SELECT count(*) FROM lite_products"), "40");

  auto q = request("sqlite:" + db_path_.string(), "expensive");
  q.query = "SELECT name FROM products WHERE price > 90";
  ASSERT_TRUE(ingest(q).ok());
  EXPECT_EQ(value("SELECT count(*) FROM expensive"), "4");  // 37..40 * 2.5

  auto inc = request("sqlite:" + db_path_.string(), "inc", LoadMode::incremental);
  inc.source_tables = {"products"};
  inc.cursor = "id";
  ASSERT_EQ(ingest(inc).value()["rows"], 40);
  sql("WITH RECURSIVE g(i) AS (SELECT 41 UNION ALL SELECT i + 1 FROM g WHERE i < 50) "
      "INSERT INTO products SELECT i, 'product ' || i, i, '2024-03-01' FROM g;");
  auto second = ingest(inc);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second.value()["rows"], 10);
  EXPECT_EQ(value("SELECT count(*) FROM inc"), "50");

  auto objects = service_->source_tables("sqlite:" + db_path_.string());
  ASSERT_TRUE(objects.ok());
  EXPECT_EQ(objects->size(), 3U);
  auto missing = request("sqlite:" + (dir_ / "nope.db").string(), "t");
  missing.source_tables = {"x"};
  auto m = ingest(missing);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, ErrorCode::unavailable);
}

TEST_F(SqliteIngest, AttachListsTablesUnderTheSourceName) {
  AddSourceRequest add;
  add.name = "shop";
  add.uri = "sqlite:" + db_path_.string();
  ASSERT_TRUE(service_->add_source(add).ok());
  auto a = service_->attach_source("shop");
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(value("SELECT count(*) FROM shop.products"), "40");
  EXPECT_FALSE(exec("DELETE FROM shop.products").ok());
  EXPECT_EQ(value("SELECT count(*) FROM shop.products"), "40");
  AddSourceRequest files;
  files.name = "csvs";
  files.uri = (dir_ / "*.csv").string();
  ASSERT_TRUE(service_->add_source(files).ok());
  EXPECT_EQ(service_->attach_source("csvs").error().code, ErrorCode::invalid_argument);
}

}  // namespace
}  // namespace pluto::ingest
