// Jobs and catalog routes over real HTTP.
#include "api_harness.hpp"

namespace pluto::api_test {
namespace {

class JobsCatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_.start();
    cli_ = h_.client();
  }
  ApiHarness h_;
  std::unique_ptr<httplib::Client> cli_;
};

json job_get(httplib::Client& cli, const std::string& id) {
  return expect_json(cli.Get("/api/v1/jobs/" + id));
}

TEST_F(JobsCatalogTest, JobsListsQueriesAndOtherJobsNewestFirst) {
  json q1 = expect_json(cli_->Post("/api/v1/query", R"({"sql":"SELECT 1"})", "application/json"));
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  json q2 = expect_json(cli_->Post("/api/v1/query", R"({"sql":"SELECT nope"})", "application/json"));
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ControlledJob job(h_.jobs());
  ASSERT_TRUE(job.wait_started());

  json all = expect_json(cli_->Get("/api/v1/jobs"));
  ASSERT_TRUE(all["jobs"].is_array());
  ASSERT_EQ(all["jobs"].size(), 3U) << all.dump();
  EXPECT_EQ(all["jobs"][0]["id"], job.id());
  EXPECT_EQ(all["jobs"][0]["kind"], "testjob");
  EXPECT_EQ(all["jobs"][0]["status"], "running");
  EXPECT_EQ(all["jobs"][1]["id"], q2["run_id"]);
  EXPECT_EQ(all["jobs"][1]["status"], "failed");
  EXPECT_EQ(all["jobs"][2]["id"], q1["run_id"]);
  EXPECT_EQ(all["jobs"][2]["status"], "succeeded");

  json queries = expect_json(cli_->Get("/api/v1/jobs?kind=query"));
  ASSERT_EQ(queries["jobs"].size(), 2U);
  for (const auto& j : queries["jobs"]) EXPECT_EQ(j["kind"], "query");
  json one = expect_json(cli_->Get("/api/v1/jobs?limit=1"));
  ASSERT_EQ(one["jobs"].size(), 1U);
  EXPECT_EQ(one["jobs"][0]["id"], job.id());
  EXPECT_EQ(expect_json(cli_->Get("/api/v1/jobs?kind=dbt"))["jobs"], json::array());
  expect_error(cli_->Get("/api/v1/jobs?limit=many"), 400, "invalid_argument", "limit");
  expect_error(cli_->Get("/api/v1/jobs?limit=0"), 400, "invalid_argument", "limit");
  expect_error(cli_->Get("/api/v1/jobs?limit=-1"), 400, "invalid_argument", "limit");
  expect_error(cli_->Get("/api/v1/jobs?limit=1001"), 400, "invalid_argument", "limit");
  job.release();
}

TEST_F(JobsCatalogTest, OneJobStatusAndItsErrors) {
  json q = expect_json(cli_->Post("/api/v1/query", R"({"sql":"SELECT 1 AS x"})", "application/json"));
  const std::string id = q["run_id"];
  json j = job_get(*cli_, id);
  EXPECT_EQ(j["id"], id);
  EXPECT_EQ(j["kind"], "query");
  EXPECT_EQ(j["status"], "succeeded");
  EXPECT_EQ(j["origin"], "api");
  EXPECT_EQ(j["stream"], "query/" + id);
  EXPECT_EQ(j["events_url"], "/api/v1/jobs/" + id + "/events");
  EXPECT_EQ(j["params"]["sql"], "SELECT 1 AS x");
  EXPECT_EQ(j["result"]["row_count"], 1);
  EXPECT_TRUE(j["created_at"].is_string());
  EXPECT_TRUE(j["started_at"].is_string());
  EXPECT_TRUE(j["finished_at"].is_string());
  EXPECT_TRUE(j["error"].is_null());

  json f = expect_json(cli_->Post("/api/v1/query", R"({"sql":"SELECT nope"})", "application/json"));
  json fj = job_get(*cli_, f["run_id"]);
  EXPECT_EQ(fj["status"], "failed");
  EXPECT_EQ(fj["error"]["code"], "sql_error");
  EXPECT_TRUE(fj["error"]["message"].is_string());
  EXPECT_TRUE(fj["error"]["hint"].is_string());

  expect_error(cli_->Get("/api/v1/jobs/nope"), 404, "not_found", "nope");
  expect_error(cli_->Post("/api/v1/jobs/nope/cancel", "", "application/json"), 404, "not_found", "nope");
}

TEST_F(JobsCatalogTest, CancelAJobThroughTheApi) {
  ControlledJob job(h_.jobs());
  ASSERT_TRUE(job.wait_started());
  EXPECT_EQ(job_get(*cli_, job.id())["status"], "running");
  json c = expect_json(cli_->Post("/api/v1/jobs/" + job.id() + "/cancel", "", "application/json"), 202);
  EXPECT_EQ(c, json({{"id", job.id()}, {"status", "cancelling"}}));
  auto done = h_.jobs().wait(job.id(), std::chrono::seconds(10));
  ASSERT_TRUE(done.ok());
  json j = job_get(*cli_, job.id());
  EXPECT_EQ(j["status"], "cancelled");
  EXPECT_EQ(j["error"]["code"], "cancelled");
  expect_error(cli_->Post("/api/v1/jobs/" + job.id() + "/cancel", "", "application/json"), 409, "conflict",
               "already finished as cancelled");
  // Cancelling a query through the jobs route works like the query route.
  json sub = expect_json(
      cli_->Post("/api/v1/query", json({{"sql", kEndlessSql}, {"async", true}}).dump(), "application/json"), 202);
  const std::string id = sub["run_id"];
  wait_executing(*cli_, id);
  expect_json(cli_->Post("/api/v1/jobs/" + id + "/cancel", "", "application/json"), 202);
  EXPECT_EQ(poll_run(*cli_, id, is_final_status)["status"], "cancelled");
  json hist = expect_json(cli_->Get("/api/v1/query?status=cancelled"));
  ASSERT_EQ(hist["queries"].size(), 1U);
  EXPECT_EQ(hist["queries"][0]["run_id"], id);
}

// ---- catalog ----

TEST_F(JobsCatalogTest, CatalogListsTablesAndViews) {
  EXPECT_EQ(expect_json(cli_->Get("/api/v1/catalog/tables"))["tables"], json::array());
  h_.exec("CREATE TABLE orders (id INTEGER NOT NULL, amount DECIMAL(10,2), note VARCHAR)");
  h_.exec("INSERT INTO orders VALUES (1, 9.99, 'first'), (2, 20.00, NULL), (3, 5.50, 'third')");
  h_.exec("CREATE VIEW big_orders AS SELECT * FROM orders WHERE amount > 9");
  h_.exec("CREATE SCHEMA sales");
  h_.exec("CREATE TABLE sales.regions AS SELECT 'north' AS region");
  json j = expect_json(cli_->Get("/api/v1/catalog/tables"));
  ASSERT_EQ(j["tables"].size(), 3U) << j.dump();
  std::map<std::string, json> by_name;
  for (const auto& t : j["tables"]) by_name[t["schema"].get<std::string>() + "." + t["name"].get<std::string>()] = t;
  ASSERT_EQ(by_name.count("main.orders"), 1U);
  EXPECT_EQ(by_name["main.orders"]["kind"], "table");
  EXPECT_EQ(by_name["main.orders"]["row_count"], 3);
  EXPECT_EQ(by_name["main.orders"]["column_count"], 3);
  ASSERT_EQ(by_name.count("main.big_orders"), 1U);
  EXPECT_EQ(by_name["main.big_orders"]["kind"], "view");
  ASSERT_EQ(by_name.count("sales.regions"), 1U);
  EXPECT_EQ(by_name["sales.regions"]["row_count"], 1);
}

TEST_F(JobsCatalogTest, OneTableWithColumnsAndSample) {
  h_.exec("CREATE TABLE orders (id INTEGER NOT NULL, amount DECIMAL(10,2), note VARCHAR)");
  h_.exec("INSERT INTO orders SELECT range, range * 1.5, 'n' || range FROM range(25)");
  json t = expect_json(cli_->Get("/api/v1/catalog/tables/orders"));
  EXPECT_EQ(t["name"], "orders");
  EXPECT_EQ(t["schema"], "main");
  EXPECT_EQ(t["kind"], "table");
  EXPECT_EQ(t["row_count"], 25);
  ASSERT_EQ(t["columns"].size(), 3U) << t.dump();
  EXPECT_EQ(t["columns"][0]["name"], "id");
  EXPECT_EQ(t["columns"][0]["type"], "INTEGER");
  EXPECT_EQ(t["columns"][0]["nullable"], false);
  EXPECT_EQ(t["columns"][1]["type"], "DECIMAL(10,2)");
  EXPECT_EQ(t["columns"][1]["nullable"], true);
  EXPECT_EQ(t["columns"][2]["name"], "note");
  EXPECT_NE(t["definition"].get<std::string>().find("CREATE TABLE"), std::string::npos);
  ASSERT_TRUE(t["sample"].is_object()) << t.dump();
  EXPECT_EQ(t["sample"]["columns"].size(), 3U);
  ASSERT_EQ(t["sample"]["rows"].size(), 10U);
  EXPECT_EQ(t["sample"]["rows"][0][2], "n0");
  EXPECT_EQ(t["sample"]["rows"][1], json::parse(R"([1, 1.50, "n1"])")) << t["sample"].dump();
  EXPECT_EQ(t["sample"]["columns"][1], json::parse(R"j({"name": "amount", "type": "DECIMAL(10,2)"})j"));
  // Browsing the catalog is not querying: nothing lands in the query history.
  const json history = expect_json(cli_->Get("/api/v1/query"));
  ASSERT_TRUE(history.contains("queries") && history["queries"].is_array()) << history.dump();
  EXPECT_TRUE(history["queries"].empty()) << history.dump();
  // Qualified names resolve too.
  EXPECT_EQ(expect_json(cli_->Get("/api/v1/catalog/tables/main.orders"))["row_count"], 25);
  expect_error(cli_->Get("/api/v1/catalog/tables/missing_table"), 404, "not_found", "missing_table");
  expect_error(cli_->Get("/api/v1/catalog/tables/main.missing_table"), 404, "not_found");
}

TEST_F(JobsCatalogTest, TableNamesWithQuotesAndSpacesAreUrlEncoded) {
  const std::string name = "my \"odd\" table; DROP TABLE x";
  h_.exec("CREATE TABLE x (keep INTEGER)");
  h_.exec("CREATE TABLE " + warehouse::quote_identifier(name) + " (\"a b\" INTEGER)");
  h_.exec("INSERT INTO " + warehouse::quote_identifier(name) + " VALUES (1), (2)");
  json t = expect_json(cli_->Get("/api/v1/catalog/tables/" + url_encode(name)));
  EXPECT_EQ(t["name"], name);
  EXPECT_EQ(t["row_count"], 2);
  ASSERT_EQ(t["columns"].size(), 1U);
  EXPECT_EQ(t["columns"][0]["name"], "a b");
  EXPECT_EQ(t["sample"]["rows"], json::parse("[[1],[2]]"));
  // The name was never pasted into SQL: table x is still there.
  json list = expect_json(cli_->Get("/api/v1/catalog/tables"));
  EXPECT_EQ(list["tables"].size(), 2U);
  expect_error(cli_->Get("/api/v1/catalog/tables/" + url_encode("no \"such\" table")), 404, "not_found");
}

}  // namespace
}  // namespace pluto::api_test
