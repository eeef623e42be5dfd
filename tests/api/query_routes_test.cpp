// Health, actions and query routes over real HTTP: shapes, bad input, history, paging, downloads,
// timeout and cancel.

#include "api_harness.hpp"

namespace pluto::api_test {
namespace {

class QueryRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_.start();
    cli_ = h_.client();
  }
  json post_query(const json& body, int status = 200) {
    return expect_json(cli_->Post("/api/v1/query", body.dump(), "application/json"), status);
  }
  httplib::Result post_raw(const std::string& body) { return cli_->Post("/api/v1/query", body, "application/json"); }

  ApiHarness h_;
  std::unique_ptr<httplib::Client> cli_;
};

// ---- health and actions ----

TEST_F(QueryRoutesTest, HealthAnswersVersions) {
  json j = expect_json(cli_->Get("/api/v1/health"));
  EXPECT_EQ(j["status"], "ok");
  EXPECT_TRUE(j["version"].is_string() && !j["version"].get<std::string>().empty());
  EXPECT_EQ(j["duckdb"], warehouse::Warehouse::duckdb_version());
  EXPECT_EQ(j["warehouse"], "open");
}

TEST_F(QueryRoutesTest, ActionsListsTheQueryAndTableActionsWithSchemas) {
  json j = expect_json(cli_->Get("/api/v1/actions"));
  ASSERT_TRUE(j["actions"].is_array());
  std::map<std::string, json> by_name;
  for (const auto& a : j["actions"]) by_name[a["name"].get<std::string>()] = a;
  for (const char* name : {"query.run", "query.cancel", "table.list", "table.describe", "table.sample"}) {
    SCOPED_TRACE(name);
    ASSERT_EQ(by_name.count(name), 1U);
    json& a = by_name[name];
    EXPECT_TRUE(a["description"].is_string() && a["description"].get<std::string>().size() > 10);
    EXPECT_EQ(a["params_schema"]["type"], "object");
    EXPECT_TRUE(a["params_schema"].contains("properties"));
    EXPECT_TRUE(a["result_schema"].is_object() && a["result_schema"].contains("type"));
    EXPECT_TRUE(a["read_only"].is_boolean());
  }
  EXPECT_EQ(by_name["query.run"]["params_schema"]["required"], json({"sql"}));
  EXPECT_EQ(by_name["table.describe"]["params_schema"]["required"], json({"table"}));
  EXPECT_EQ(by_name["query.cancel"]["params_schema"]["required"], json({"run_id"}));
}

TEST_F(QueryRoutesTest, InvokingActionsRunsThemAndValidatesParameters) {
  h_.exec("CREATE TABLE pets (name VARCHAR, legs INTEGER)");
  h_.exec("INSERT INTO pets VALUES ('cat', 4), ('bird', 2)");
  json run = expect_json(
      cli_->Post("/api/v1/actions/query.run", R"({"sql":"SELECT name FROM pets ORDER BY legs"})", "application/json"));
  EXPECT_EQ(run["status"], "succeeded");
  EXPECT_EQ(run["rows"], json::parse(R"([["bird"],["cat"]])"));
  json list = expect_json(cli_->Post("/api/v1/actions/table.list", "{}", "application/json"));
  ASSERT_EQ(list["tables"].size(), 1U);
  EXPECT_EQ(list["tables"][0]["name"], "pets");
  EXPECT_EQ(list["tables"][0]["row_count"], 2);
  // No body means no parameters.
  EXPECT_EQ(expect_json(cli_->Post("/api/v1/actions/table.list", "", "application/json"))["tables"].size(), 1U);
  json desc = expect_json(cli_->Post("/api/v1/actions/table.describe", R"({"table":"pets"})", "application/json"));
  ASSERT_EQ(desc["columns"].size(), 2U);
  EXPECT_EQ(desc["columns"][1]["name"], "legs");
  EXPECT_EQ(desc["columns"][1]["type"], "INTEGER");
  json sample =
      expect_json(cli_->Post("/api/v1/actions/table.sample", R"({"table":"pets","limit":1})", "application/json"));
  EXPECT_EQ(sample["rows"].size(), 1U);
  json status = expect_json(
      cli_->Post("/api/v1/actions/query.status", json({{"run_id", run["run_id"]}}).dump(), "application/json"));
  EXPECT_EQ(status["status"], "succeeded");

  expect_error(cli_->Post("/api/v1/actions/no.such", "{}", "application/json"), 404, "not_found", "no.such");
  expect_error(cli_->Post("/api/v1/actions/query.run", "{}", "application/json"), 400, "invalid_argument",
               "params.sql is required");
  expect_error(cli_->Post("/api/v1/actions/query.run", R"({"sql":42})", "application/json"), 400, "invalid_argument",
               "params.sql must be string");
  expect_error(cli_->Post("/api/v1/actions/query.run", R"({"sql":"SELECT 1","bogus":true})", "application/json"), 400,
               "invalid_argument", "unknown field params.bogus");
  expect_error(cli_->Post("/api/v1/actions/query.run", R"({"sql":"SELECT 1","max_rows":-1})", "application/json"), 400,
               "invalid_argument", "params.max_rows must be at least");
  expect_error(cli_->Post("/api/v1/actions/query.run", R"({"sql":"SELECT 1","mode":"yolo"})", "application/json"), 400,
               "invalid_argument", "params.mode must be one of");
  expect_error(cli_->Post("/api/v1/actions/table.sample", R"({"table":"pets","limit":5000})", "application/json"), 400,
               "invalid_argument", "params.limit must be at most");
  expect_error(cli_->Post("/api/v1/actions/table.list", "[1]", "application/json"), 400, "invalid_argument");
  expect_error(cli_->Post("/api/v1/actions/table.list", "{not json", "application/json"), 400, "invalid_argument",
               "not valid JSON");
  expect_error(cli_->Post("/api/v1/actions/table.describe", R"({"table":"nope"})", "application/json"), 404,
               "not_found", "nope");
  expect_error(cli_->Post("/api/v1/actions/query.cancel", R"({"run_id":"nope"})", "application/json"), 404, "not_found",
               "nope");
}

// ---- POST /api/v1/query ----

TEST_F(QueryRoutesTest, SyncQueryAnswersTheResultShape) {
  json j = post_query({{"sql", "SELECT 42 AS answer, 'duck' AS name, NULL::DOUBLE AS nothing"}});
  for (const char* k : {"run_id", "status", "columns", "rows", "row_count", "truncated", "duration_ms"}) {
    EXPECT_TRUE(j.contains(k)) << k << " missing: " << j.dump();
  }
  EXPECT_TRUE(j["run_id"].is_string() && !j["run_id"].get<std::string>().empty());
  EXPECT_EQ(j["status"], "succeeded");
  EXPECT_EQ(j["columns"], json::parse(R"([{"name":"answer","type":"INTEGER"},{"name":"name","type":"VARCHAR"},
                                           {"name":"nothing","type":"DOUBLE"}])"));
  EXPECT_EQ(j["rows"], json::parse(R"([[42,"duck",null]])"));
  EXPECT_EQ(j["row_count"], 1);
  EXPECT_EQ(j["truncated"], false);
  EXPECT_TRUE(j["duration_ms"].is_number_integer() && j["duration_ms"].get<int64_t>() >= 0);
  EXPECT_TRUE(j["error"].is_null());
}

TEST_F(QueryRoutesTest, MaxRowsTruncatesTheInlineRows) {
  json j = post_query({{"sql", "SELECT range AS n FROM range(25)"}, {"max_rows", 10}});
  EXPECT_EQ(j["status"], "succeeded");
  ASSERT_EQ(j["rows"].size(), 10U);
  EXPECT_EQ(j["rows"][9], json({9}));
  EXPECT_EQ(j["row_count"], 25);
  EXPECT_EQ(j["truncated"], true);

  j = post_query({{"sql", "SELECT range AS n FROM range(25)"}, {"max_rows", 25}});
  EXPECT_EQ(j["rows"].size(), 25U);
  EXPECT_EQ(j["truncated"], false);

  j = post_query({{"sql", "SELECT range AS n FROM range(25)"}, {"max_rows", 0}});
  EXPECT_EQ(j["rows"], json::array());
  EXPECT_EQ(j["row_count"], 25);
  EXPECT_EQ(j["truncated"], true);

  // Without max_rows the service default (1000 in this harness) applies.
  j = post_query({{"sql", "SELECT range AS n FROM range(1500)"}});
  EXPECT_EQ(j["rows"].size(), 1000U);
  EXPECT_EQ(j["row_count"], 1500);
  EXPECT_EQ(j["truncated"], true);
}

TEST_F(QueryRoutesTest, AsyncQueryAnswers202AndRunsToTheEnd) {
  json j = post_query({{"sql", "SELECT range AS n FROM range(5)"}, {"async", true}}, 202);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j.size(), 3U) << j.dump();
  const std::string id = j["run_id"];
  EXPECT_FALSE(id.empty());
  EXPECT_EQ(j["status"], "queued");
  EXPECT_EQ(j["events_url"], "/api/v1/query/" + id + "/events");
  json done = poll_run(*cli_, id, is_final_status);
  EXPECT_EQ(done["status"], "succeeded");
  EXPECT_EQ(done["row_count"], 5);
  EXPECT_EQ(done["rows"], json::parse("[[0],[1],[2],[3],[4]]"));
  EXPECT_EQ(done["columns"], json::parse(R"([{"name":"n","type":"BIGINT"}])"));
  EXPECT_EQ(done["sql"], "SELECT range AS n FROM range(5)");
  EXPECT_EQ(done["origin"], "api");
  EXPECT_FALSE(done.contains("async"));  // no stray fields from the request
  // async: false is the synchronous answer.
  EXPECT_EQ(post_query({{"sql", "SELECT 1"}, {"async", false}})["status"], "succeeded");
}

TEST_F(QueryRoutesTest, BadRequestsGet400WithTheErrorBody) {
  expect_error(post_raw(R"({"sql": "SELECT 1")"), 400, "invalid_argument", "not valid JSON");
  expect_error(post_raw(""), 400, "invalid_argument", "empty");
  expect_error(post_raw(R"(["SELECT 1"])"), 400, "invalid_argument", "JSON object");
  expect_error(post_raw(R"({})"), 400, "invalid_argument", "\"sql\" is required");
  expect_error(post_raw(R"({"timeout_ms": 10})"), 400, "invalid_argument", "\"sql\" is required");
  expect_error(post_raw(R"({"sql": 42})"), 400, "invalid_argument", "\"sql\"");
  expect_error(post_raw(R"({"sql": null})"), 400, "invalid_argument", "\"sql\"");
  expect_error(post_raw(R"({"sql": "SELECT 1", "timeout_ms": "1000"})"), 400, "invalid_argument", "\"timeout_ms\"");
  expect_error(post_raw(R"({"sql": "SELECT 1", "timeout_ms": 1.5})"), 400, "invalid_argument", "\"timeout_ms\"");
  expect_error(post_raw(R"({"sql": "SELECT 1", "max_rows": "10"})"), 400, "invalid_argument", "\"max_rows\"");
  expect_error(post_raw(R"({"sql": "SELECT 1", "async": "yes"})"), 400, "invalid_argument", "\"async\"");
  expect_error(post_raw(R"({"sql": "SELECT 1", "async": 1})"), 400, "invalid_argument", "\"async\"");
  expect_error(post_raw(R"({"sql": "SELECT 1", "mode": 3})"), 400, "invalid_argument", "\"mode\"");
  expect_error(post_raw(R"({"sql": "SELECT 1", "mode": "fast"})"), 400, "invalid_argument", "\"mode\"");
  expect_error(post_raw(R"({"sql": "SELECT 1", "limit": 5})"), 400, "invalid_argument", "unknown field \"limit\"");
  expect_error(post_raw(R"({"sql": "   ;  "})"), 400, "invalid_argument", "empty");
  expect_error(post_raw(R"({"sql": "SELECT 1", "timeout_ms": 0})"), 400, "invalid_argument", "timeout_ms");
  expect_error(post_raw(R"({"sql": "SELECT 1", "max_rows": -1})"), 400, "invalid_argument", "max_rows");
  // None of them reached the history, and the server still runs queries.
  json hist = expect_json(cli_->Get("/api/v1/query"));
  EXPECT_EQ(hist["queries"].size(), 0U) << hist.dump();
  EXPECT_EQ(post_query({{"sql", "SELECT 1 AS ok"}})["rows"], json::parse("[[1]]"));
}

TEST_F(QueryRoutesTest, FailingSqlIs200WithStatusFailed) {
  json j = post_query({{"sql", "SELECT * FROM no_such_table"}});
  EXPECT_EQ(j["status"], "failed");
  ASSERT_TRUE(j["error"].is_object()) << j.dump();
  EXPECT_EQ(j["error"]["code"], "sql_error");
  EXPECT_NE(j["error"]["message"].get<std::string>().find("no_such_table"), std::string::npos) << j.dump();
  EXPECT_TRUE(j["error"]["hint"].is_string());
  EXPECT_EQ(j["rows"], json::array());
  EXPECT_TRUE(j["row_count"].is_null());
  // Its status stays failed, and it has no result to page or download.
  const std::string id = j["run_id"];
  json again = expect_json(cli_->Get("/api/v1/query/" + id));
  EXPECT_EQ(again["status"], "failed");
  EXPECT_EQ(again["error"]["code"], "sql_error");
  expect_error(cli_->Get("/api/v1/query/" + id + "?format=csv"), 409, "conflict", "no stored result");
  expect_error(cli_->Get("/api/v1/query/" + id + "?offset=0&limit=5"), 409, "conflict", "no result to page");
  // A run-time failure (not a bind error) is failed too.
  json cast = post_query({{"sql", "SELECT 'abc'::INTEGER"}});
  EXPECT_EQ(cast["status"], "failed");
  EXPECT_EQ(cast["error"]["code"], "sql_error");
}

TEST_F(QueryRoutesTest, StatementsWithoutRowsSucceedAndHaveNothingToDownload) {
  json j = post_query({{"sql", "CREATE TABLE t AS SELECT range AS id FROM range(7)"}});
  EXPECT_EQ(j["status"], "succeeded") << j.dump();
  const std::string id = j["run_id"];
  j = post_query({{"sql", "SELECT count(*) AS n FROM t"}});
  EXPECT_EQ(j["rows"], json::parse("[[7]]"));
  expect_error(cli_->Get("/api/v1/query/" + id + "?format=json"), 409, "conflict", "no stored result");
  expect_error(cli_->Get("/api/v1/query/" + id + "?offset=0&limit=5"), 409, "conflict");
}

TEST_F(QueryRoutesTest, BodyOverTheLimitIs413) {
  ApiHarness small(HarnessOptions().with_max_body_bytes(1024));
  small.start();
  auto cli = small.client();
  cli->set_keep_alive(true);
  const std::string big = json({{"sql", "SELECT '" + std::string(4000, 'x') + "' AS s"}}).dump();
  expect_error(cli->Post("/api/v1/query", big, "application/json"), 413, "too_large", "1024");
  // The connection and the server are fine afterwards, and a body under the limit runs.
  json ok = expect_json(cli->Post("/api/v1/query", R"({"sql":"SELECT 'small' AS s"})", "application/json"));
  EXPECT_EQ(ok["rows"], json::parse(R"([["small"]])"));
  auto other = small.client();
  expect_error(other->Post("/api/v1/actions/query.run", big, "application/json"), 413, "too_large");
  json hist = expect_json(cli->Get("/api/v1/query"));
  EXPECT_EQ(hist["queries"].size(), 1U);
}

// ---- history ----

TEST_F(QueryRoutesTest, HistoryFiltersByTextAndStatusAndPages) {
  std::vector<std::string> ids;
  for (const std::string& sql :
       std::vector<std::string>{"SELECT 'alpha' AS w", "SELECT 'Beta' AS w", "SELECT * FROM missing_alpha",
                                "SELECT 'gamma' AS w", "SELECT 'ALPHA beta' AS w"}) {
    ids.push_back(post_query({{"sql", sql}})["run_id"]);
    // Newest first is by submission time; keep submissions apart so the order is certain.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  auto ids_of = [](json page) {
    std::vector<std::string> out;
    for (const auto& q : page["queries"]) out.push_back(q["run_id"]);
    return out;
  };
  json all = expect_json(cli_->Get("/api/v1/query"));
  EXPECT_EQ(all["limit"], 50);
  EXPECT_EQ(all["offset"], 0);
  EXPECT_EQ(ids_of(all), (std::vector<std::string>{ids[4], ids[3], ids[2], ids[1], ids[0]}));
  json& newest = all["queries"][0];
  EXPECT_EQ(newest["sql"], "SELECT 'ALPHA beta' AS w");
  EXPECT_EQ(newest["status"], "succeeded");
  EXPECT_EQ(newest["origin"], "api");
  EXPECT_EQ(newest["row_count"], 1);
  EXPECT_TRUE(newest["submitted_at"].is_string());
  EXPECT_TRUE(newest["started_at"].is_string());
  EXPECT_TRUE(newest["finished_at"].is_string());
  EXPECT_TRUE(newest["duration_ms"].is_number_integer());
  EXPECT_TRUE(newest["error"].is_null());

  // Text search is case-insensitive.
  EXPECT_EQ(ids_of(expect_json(cli_->Get("/api/v1/query?q=alpha"))),
            (std::vector<std::string>{ids[4], ids[2], ids[0]}));
  EXPECT_EQ(ids_of(expect_json(cli_->Get("/api/v1/query?q=" + url_encode("'beta'")))),
            (std::vector<std::string>{ids[1]}));
  json failed = expect_json(cli_->Get("/api/v1/query?status=failed"));
  EXPECT_EQ(ids_of(failed), (std::vector<std::string>{ids[2]}));
  EXPECT_EQ(failed["queries"][0]["status"], "failed");
  EXPECT_NE(failed["queries"][0]["error"].get<std::string>().find("missing_alpha"), std::string::npos);
  EXPECT_EQ(ids_of(expect_json(cli_->Get("/api/v1/query?q=alpha&status=succeeded"))),
            (std::vector<std::string>{ids[4], ids[0]}));
  EXPECT_EQ(ids_of(expect_json(cli_->Get("/api/v1/query?q=zeta"))), std::vector<std::string>{});
  // limit and offset page through newest first.
  json page = expect_json(cli_->Get("/api/v1/query?limit=2&offset=1"));
  EXPECT_EQ(page["limit"], 2);
  EXPECT_EQ(page["offset"], 1);
  EXPECT_EQ(ids_of(page), (std::vector<std::string>{ids[3], ids[2]}));
  EXPECT_EQ(ids_of(expect_json(cli_->Get("/api/v1/query?limit=2&offset=4"))), (std::vector<std::string>{ids[0]}));
  EXPECT_EQ(ids_of(expect_json(cli_->Get("/api/v1/query?offset=5"))), std::vector<std::string>{});

  expect_error(cli_->Get("/api/v1/query?limit=0"), 400, "invalid_argument", "limit");
  expect_error(cli_->Get("/api/v1/query?limit=1001"), 400, "invalid_argument", "limit");
  expect_error(cli_->Get("/api/v1/query?limit=ten"), 400, "invalid_argument", "limit");
  expect_error(cli_->Get("/api/v1/query?offset=-1"), 400, "invalid_argument", "offset");
  expect_error(cli_->Get("/api/v1/query?offset=1x"), 400, "invalid_argument", "offset");
}

TEST_F(QueryRoutesTest, HistoryAndResultsSurviveARestart) {
  json ok = post_query({{"sql", "SELECT range AS n FROM range(3000)"}, {"max_rows", 5}});
  json bad = post_query({{"sql", "SELECT nope"}});
  h_.restart();
  cli_ = h_.client();
  json hist = expect_json(cli_->Get("/api/v1/query"));
  ASSERT_EQ(hist["queries"].size(), 2U);
  EXPECT_EQ(hist["queries"][0]["run_id"], bad["run_id"]);
  EXPECT_EQ(hist["queries"][0]["status"], "failed");
  EXPECT_EQ(hist["queries"][1]["run_id"], ok["run_id"]);
  EXPECT_EQ(hist["queries"][1]["status"], "succeeded");
  const std::string id = ok["run_id"];
  json status = expect_json(cli_->Get("/api/v1/query/" + id));
  EXPECT_EQ(status["status"], "succeeded");
  EXPECT_EQ(status["row_count"], 3000);
  EXPECT_EQ(status["columns"], json::parse(R"([{"name":"n","type":"BIGINT"}])"));
  json page = expect_json(cli_->Get("/api/v1/query/" + id + "?offset=2999&limit=10"));
  EXPECT_EQ(page["rows"], json::parse("[[2999]]"));
  json failed = expect_json(cli_->Get("/api/v1/query/" + bad["run_id"].get<std::string>()));
  EXPECT_EQ(failed["status"], "failed");
  EXPECT_TRUE(failed["error"].is_object());
}

// ---- one run: status, paging, downloads ----

TEST_F(QueryRoutesTest, StatusOfARunAndUnknownRunIds) {
  json j = post_query({{"sql", "SELECT 7 AS seven"}});
  const std::string id = j["run_id"];
  json s = expect_json(cli_->Get("/api/v1/query/" + id));
  EXPECT_EQ(s["run_id"], id);
  EXPECT_EQ(s["status"], "succeeded");
  EXPECT_EQ(s["rows"], json::parse("[[7]]"));
  EXPECT_EQ(s["row_count"], 1);
  EXPECT_EQ(s["events_url"], "/api/v1/query/" + id + "/events");

  expect_error(cli_->Get("/api/v1/query/no-such-run"), 404, "not_found", "no-such-run");
  expect_error(cli_->Get("/api/v1/query/no-such-run?offset=0&limit=10"), 404, "not_found", "no-such-run");
  expect_error(cli_->Get("/api/v1/query/no-such-run?format=csv"), 404, "not_found", "no-such-run");
  expect_error(cli_->Get("/api/v1/query/no-such-run/events"), 404, "not_found", "no-such-run");
  expect_error(cli_->Post("/api/v1/query/no-such-run/cancel", "", "application/json"), 404, "not_found", "no-such-run");
}

TEST_F(QueryRoutesTest, PagingCrossesDuckDbChunks) {
  json j = post_query({{"sql", "SELECT range AS n, 'r' || range AS s FROM range(5000) ORDER BY n"}, {"max_rows", 10}});
  ASSERT_EQ(j["status"], "succeeded");
  EXPECT_EQ(j["row_count"], 5000);
  const std::string id = j["run_id"];
  auto page = [&](int64_t offset, int64_t limit) {
    return expect_json(
        cli_->Get("/api/v1/query/" + id + "?offset=" + std::to_string(offset) + "&limit=" + std::to_string(limit)));
  };
  auto expect_rows = [](json p, int64_t from, int64_t count) {
    ASSERT_EQ(p["rows"].size(), static_cast<size_t>(count)) << p.dump().substr(0, 300);
    for (int64_t i = 0; i < count; ++i) {
      EXPECT_EQ(p["rows"][i], json({from + i, "r" + std::to_string(from + i)}));
    }
  };
  // Pages across the 2048-row chunk boundaries.
  json p = page(2040, 20);
  expect_rows(p, 2040, 20);
  EXPECT_EQ(p["truncated"], true);
  EXPECT_EQ(p["row_count"], 5000);
  EXPECT_EQ(p["columns"], json::parse(R"([{"name":"n","type":"BIGINT"},{"name":"s","type":"VARCHAR"}])"));
  expect_rows(page(4090, 100), 4090, 100);
  expect_rows(page(0, 3000), 0, 3000);
  p = page(4995, 10);
  expect_rows(p, 4995, 5);
  EXPECT_EQ(p["truncated"], false);
  p = page(5000, 10);
  EXPECT_EQ(p["rows"], json::array());
  EXPECT_EQ(p["truncated"], false);
  expect_rows(page(100, 0), 100, 0);
  // Only one of offset/limit: the other takes its default (offset 0, limit 100).
  expect_rows(expect_json(cli_->Get("/api/v1/query/" + id + "?offset=10")), 10, 100);
  expect_rows(expect_json(cli_->Get("/api/v1/query/" + id + "?limit=3")), 0, 3);
  expect_error(cli_->Get("/api/v1/query/" + id + "?offset=-1&limit=5"), 400, "invalid_argument", "offset");
  expect_error(cli_->Get("/api/v1/query/" + id + "?offset=0&limit=x"), 400, "invalid_argument", "limit");
}

TEST_F(QueryRoutesTest, DownloadsInJsonCsvAndParquet) {
  json j = post_query(
      {{"sql", "SELECT range AS id, range * 0.5 AS half, 'name ' || range AS label FROM range(5000) ORDER BY id"},
       {"max_rows", 3}});
  ASSERT_EQ(j["status"], "succeeded");
  const std::string id = j["run_id"];

  auto r = cli_->Get("/api/v1/query/" + id + "?format=json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(r->get_header_value("Content-Disposition"), "attachment; filename=\"" + id + ".json\"");
  json rows = parse_json(r->body);
  ASSERT_TRUE(rows.is_array());
  ASSERT_EQ(rows.size(), 5000U);
  EXPECT_EQ(rows[0], json::parse(R"({"id":0,"half":0.0,"label":"name 0"})"));
  EXPECT_EQ(rows[4999], json::parse(R"({"id":4999,"half":2499.5,"label":"name 4999"})"));

  r = cli_->Get("/api/v1/query/" + id + "?format=csv");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/csv");
  EXPECT_EQ(r->get_header_value("Content-Disposition"), "attachment; filename=\"" + id + ".csv\"");
  EXPECT_EQ(std::count(r->body.begin(), r->body.end(), '\n'), 5001);
  EXPECT_EQ(r->body.substr(0, r->body.find('\n')), "id,half,label");
  EXPECT_NE(r->body.find("\n4999,2499.5,name 4999\n"), std::string::npos);

  r = cli_->Get("/api/v1/query/" + id + "?format=parquet");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/vnd.apache.parquet");
  ASSERT_GE(r->body.size(), 8U);
  EXPECT_EQ(r->body.substr(0, 4), "PAR1");
  const auto file = h_.dir() / "download.parquet";
  testing::write_file(file, r->body);
  auto lease = h_.warehouse().pool().acquire();
  ASSERT_TRUE(lease.ok());
  auto back = lease.value()->execute("SELECT count(*), sum(id), max(label), sum(half) FROM read_parquet(" +
                                     warehouse::quote_literal(file.string()) + ")");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(duckdb_value_int64(back.value().raw(), 0, 0), 5000);
  EXPECT_EQ(duckdb_value_int64(back.value().raw(), 1, 0), 12497500);
  EXPECT_DOUBLE_EQ(duckdb_value_double(back.value().raw(), 3, 0), 6248750.0);
  auto types =
      lease.value()->execute("DESCRIBE SELECT * FROM read_parquet(" + warehouse::quote_literal(file.string()) + ")");
  ASSERT_TRUE(types.ok());
  char* t0 = duckdb_value_varchar(types.value().raw(), 1, 0);
  EXPECT_STREQ(t0, "BIGINT");
  duckdb_free(t0);

  expect_error(cli_->Get("/api/v1/query/" + id + "?format=xml"), 400, "invalid_argument", "xml");
  // The run's inline answer is unchanged by the downloads.
  EXPECT_EQ(expect_json(cli_->Get("/api/v1/query/" + id))["rows"].size(), 3U);
}

TEST_F(QueryRoutesTest, DownloadOfAnEmptyResult) {
  json j = post_query({{"sql", "SELECT range AS id FROM range(0)"}});
  ASSERT_EQ(j["status"], "succeeded");
  EXPECT_EQ(j["row_count"], 0);
  const std::string id = j["run_id"];
  auto as_json = cli_->Get("/api/v1/query/" + id + "?format=json");
  ASSERT_TRUE(as_json);
  EXPECT_EQ(parse_json(as_json->body), json::array());
  auto as_csv = cli_->Get("/api/v1/query/" + id + "?format=csv");
  ASSERT_TRUE(as_csv);
  EXPECT_EQ(as_csv->body, "id\n");
  EXPECT_EQ(expect_json(cli_->Get("/api/v1/query/" + id + "?offset=0&limit=10"))["rows"], json::array());
}

// ---- timeout and cancel (the acceptance criteria; the bounds detect hangs) ----

TEST_F(QueryRoutesTest, TimeoutEndsTheQueryAsTimedOut) {
  const auto start = Clock::now();
  json j = post_query({{"sql", kEndlessSql}, {"timeout_ms", 1000}});
  const auto elapsed = Clock::now() - start;
  EXPECT_EQ(j["status"], "timed_out") << j.dump();
  ASSERT_TRUE(j["error"].is_object());
  EXPECT_EQ(j["error"]["code"], "timed_out");
  EXPECT_NE(j["error"]["message"].get<std::string>().find("1000 ms"), std::string::npos) << j.dump();
  EXPECT_LT(elapsed, std::chrono::seconds(2))
      << "timed_out after " << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms";
  json hist = expect_json(cli_->Get("/api/v1/query?status=timed_out"));
  ASSERT_EQ(hist["queries"].size(), 1U);
  EXPECT_EQ(hist["queries"][0]["run_id"], j["run_id"]);
  // The server goes on answering queries.
  EXPECT_EQ(post_query({{"sql", "SELECT 1"}})["status"], "succeeded");
}

TEST_F(QueryRoutesTest, CancelThroughTheApiEndsTheQueryAsCancelled) {
  json sub = post_query({{"sql", kEndlessSql}, {"async", true}, {"timeout_ms", 60000}}, 202);
  const std::string id = sub["run_id"];
  wait_executing(*cli_, id);
  const auto cancel_at = Clock::now();
  json c = expect_json(cli_->Post("/api/v1/query/" + id + "/cancel", "", "application/json"), 202);
  EXPECT_EQ(c, json({{"run_id", id}, {"status", "cancelling"}}));
  json done = poll_run(*cli_, id, is_final_status, std::chrono::seconds(20));
  const auto elapsed = Clock::now() - cancel_at;
  EXPECT_EQ(done["status"], "cancelled");
  EXPECT_EQ(done["error"]["code"], "cancelled");
  EXPECT_LT(elapsed, std::chrono::seconds(1))
      << "cancelled after " << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms";
  // A second cancel, and a cancel of a finished run, are conflicts.
  expect_error(cli_->Post("/api/v1/query/" + id + "/cancel", "", "application/json"), 409, "conflict");
  json fin = post_query({{"sql", "SELECT 1"}});
  expect_error(cli_->Post("/api/v1/query/" + fin["run_id"].get<std::string>() + "/cancel", "", "application/json"), 409,
               "conflict", "already finished as succeeded");
  json hist = expect_json(cli_->Get("/api/v1/query?status=cancelled"));
  ASSERT_EQ(hist["queries"].size(), 1U);
  EXPECT_EQ(hist["queries"][0]["run_id"], id);
}

// A cancel that arrives while the run is `running` but before DuckDB has started its statement must
// not be lost. Safe mode checks the SQL in that stretch; a validator that waits for the test holds
// the run there, so the cancel lands in it every time. The query has a 3 s timeout as a backstop.
TEST(QueryRoutesCancelTest, CancelBeforeTheStatementStartsIsNotLost) {
  std::mutex mu;
  std::condition_variable cv;
  bool in_validator = false;
  bool release = false;
  ApiHarness h(HarnessOptions().with_safe_validator([&](warehouse::Connection&, const std::string&) -> Status {
    std::unique_lock lock(mu);
    in_validator = true;
    cv.notify_all();
    cv.wait_for(lock, std::chrono::seconds(20), [&] { return release; });
    return {};
  }));
  h.start();
  auto cli = h.client();
  std::optional<httplib::Result> answer;
  std::thread runner([&] {
    answer = cli->Post("/api/v1/query", json({{"sql", kEndlessSql}, {"mode", "safe"}, {"timeout_ms", 3000}}).dump(),
                       "application/json");
  });
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(20), [&] { return in_validator; }));
  }
  auto other = h.client();
  json hist = expect_json(other->Get("/api/v1/query?status=running"));
  ASSERT_EQ(hist["queries"].size(), 1U) << hist.dump();
  const std::string id = hist["queries"][0]["run_id"];
  const auto cancel_at = Clock::now();
  EXPECT_EQ(expect_json(other->Post("/api/v1/query/" + id + "/cancel", "", "application/json"), 202)["status"],
            "cancelling");
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  runner.join();
  const auto elapsed = Clock::now() - cancel_at;
  ASSERT_TRUE(answer.has_value());
  json done = expect_json(*answer);
  EXPECT_EQ(done["status"], "cancelled") << "the cancel was lost: " << done.dump();
  EXPECT_LT(elapsed, std::chrono::seconds(1))
      << "ended after " << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms";
  EXPECT_EQ(expect_json(other->Get("/api/v1/query/" + id))["status"], "cancelled");
}

TEST_F(QueryRoutesTest, SecondCancelWhileStillCancellingIsAConflict) {
  json sub = post_query({{"sql", kEndlessSql}, {"async", true}}, 202);
  const std::string id = sub["run_id"];
  wait_executing(*cli_, id);
  auto first = cli_->Post("/api/v1/query/" + id + "/cancel", "", "application/json");
  auto second = cli_->Post("/api/v1/query/" + id + "/cancel", "", "application/json");
  EXPECT_EQ(expect_json(first, 202)["status"], "cancelling");
  expect_error(second, 409, "conflict");
  EXPECT_EQ(poll_run(*cli_, id, is_final_status)["status"], "cancelled");
}

// ---- safe mode ----

// The SQL guard as the product wires it may not be there yet: then safe mode says so (503) rather
// than running unchecked. With the guard, reading files is refused (403) and plain SELECTs run.
// The harness builds the catalog like App::actions (no validator) in one fixture and with the real
// guard in the other; the binary's wiring is checked in ApiProcessTest.SafeModeIsRefusedOrGuarded.
TEST_F(QueryRoutesTest, SafeModeWithoutAGuardIsUnavailable) {
  expect_error(post_raw(R"({"sql":"SELECT 1","mode":"safe"})"), 503, "unavailable", "safe mode is not available");
  expect_error(cli_->Post("/api/v1/actions/query.run", R"({"sql":"SELECT 1","mode":"safe"})", "application/json"), 503,
               "unavailable", "safe mode is not available");
  // Safe mode never runs asynchronously.
  expect_error(post_raw(R"({"sql":"SELECT 1","mode":"safe","async":true})"), 400, "invalid_argument", "safe mode");
  // mode "default" is the ordinary path.
  EXPECT_EQ(post_query({{"sql", "SELECT 1"}, {"mode", "default"}})["status"], "succeeded");
}

TEST(QueryRoutesGuardTest, SafeModeWithTheGuardRefusesFilesAndRunsSelects) {
  ApiHarness h(HarnessOptions().with_sql_guard());
  h.start();
  h.exec("CREATE TABLE animals AS SELECT * FROM (VALUES ('owl', 2), ('fox', 4)) t(name, legs)");
  testing::write_file(h.dir() / "secret.csv", "a\n1\n");
  auto cli = h.client();
  json ok = expect_json(cli->Post("/api/v1/query", R"({"sql":"SELECT name FROM animals ORDER BY legs","mode":"safe"})",
                                  "application/json"));
  EXPECT_EQ(ok["status"], "succeeded");
  EXPECT_EQ(ok["rows"], json::parse(R"([["owl"],["fox"]])"));
  const std::string file_sql =
      "SELECT * FROM read_csv(" + warehouse::quote_literal((h.dir() / "secret.csv").string()) + ")";
  expect_error(cli->Post("/api/v1/query", json({{"sql", file_sql}, {"mode", "safe"}}).dump(), "application/json"), 403,
               "permission_denied", "read_csv");
  expect_error(
      cli->Post("/api/v1/query", json({{"sql", "DROP TABLE animals"}, {"mode", "safe"}}).dump(), "application/json"),
      403, "permission_denied");
  // The table is still there; without safe mode the same file read runs.
  EXPECT_EQ(
      expect_json(cli->Post("/api/v1/query", R"({"sql":"SELECT count(*) FROM animals"})", "application/json"))["rows"],
      json::parse("[[2]]"));
  EXPECT_EQ(expect_json(cli->Post("/api/v1/query", json({{"sql", file_sql}}).dump(), "application/json"))["rows"],
            json::parse("[[1]]"));
}

}  // namespace
}  // namespace pluto::api_test

// ---- Arrow IPC stream downloads, read back with the apache-arrow npm package ----

#include "warehouse/arrow_reader.hpp"

namespace pluto::api_test {
namespace {

TEST_F(QueryRoutesTest, DownloadsAsAnArrowStream) {
  json j = post_query({{"sql",
                        "SELECT range AS id, CASE WHEN range % 5 = 0 THEN NULL ELSE -range END AS neg, "
                        "'ü ' || range AS label, DATE '2024-01-01' + range::INT AS day, range % 3 = 0 AS flag, "
                        "(['r', 'g'])[range % 2 + 1]::ENUM('r', 'g') AS color FROM range(5000) ORDER BY id"},
                       {"max_rows", 3}});
  ASSERT_EQ(j["status"], "succeeded");
  const std::string id = j["run_id"];

  auto r = cli_->Get("/api/v1/query/" + id + "?format=arrow");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body.substr(0, 500);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/vnd.apache.arrow.stream");
  EXPECT_EQ(r->get_header_value("Content-Disposition"), "attachment; filename=\"" + id + ".arrows\"");
  const json t = testing_arrow::read_arrow_stream(r->body);
  ASSERT_TRUE(t.is_object());
  json types = json::array();
  for (const auto& f : t["fields"]) types.push_back({f["name"], f["type"]});
  EXPECT_EQ(types, json::parse(R"([["id","Int64"],["neg","Int64"],["label","Utf8"],["day","Date32<DAY>"],
    ["flag","Bool"],["color","Dictionary<Uint8, Utf8>"]])"));
  EXPECT_GE(t["batches"].get<int>(), 3);
  ASSERT_EQ(t["rows"].size(), 5000U);
  // The same rows as the JSON download (dates as days since 1970-01-01: 2024-01-01 is day 19723).
  const json as_json = parse_json(cli_->Get("/api/v1/query/" + id + "?format=json")->body);
  ASSERT_EQ(as_json.size(), 5000U);
  for (int64_t i = 0; i < 5000; ++i) {
    const auto& row = as_json[static_cast<size_t>(i)];
    const json want = {std::to_string(row["id"].get<int64_t>()),
                       row["neg"].is_null() ? json() : json(std::to_string(row["neg"].get<int64_t>())),
                       row["label"],
                       std::to_string(19723 + i),
                       row["flag"],
                       row["color"]};
    ASSERT_EQ(t["rows"][static_cast<size_t>(i)], want) << "row " << i;
  }
  EXPECT_EQ(t["rows"][4999][2], "ü 4999");
  EXPECT_EQ(t["rows"][4][1], "-4");
  EXPECT_EQ(t["rows"][5][1], json());  // every 5th neg is NULL
}

TEST_F(QueryRoutesTest, ArrowDownloadOfAnEmptyResultHasTheSchema) {
  json j = post_query({{"sql", "SELECT range AS id, 'x' AS s FROM range(0)"}});
  ASSERT_EQ(j["status"], "succeeded");
  const std::string id = j["run_id"];
  auto r = cli_->Get("/api/v1/query/" + id + "?format=arrow");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  const json t = testing_arrow::read_arrow_stream(r->body);
  ASSERT_TRUE(t.is_object());
  EXPECT_EQ(t["batches"], 0);
  EXPECT_EQ(t["rows"], json::array());
  EXPECT_EQ(t["fields"][0]["name"], "id");
  EXPECT_EQ(t["fields"][1]["type"], "Utf8");
  EXPECT_EQ(testing_arrow::message_types(r->body), std::vector<int>{testing_arrow::kSchema});
}

TEST_F(QueryRoutesTest, ArrowDownloadRefusalsAreJsonErrors) {
  expect_error(cli_->Get("/api/v1/query/no-such-run?format=arrow"), 404, "not_found", "no-such-run");
  json j = post_query({{"sql", "CREATE TABLE arrow_t AS SELECT 1 AS a"}});
  ASSERT_EQ(j["status"], "succeeded");
  expect_error(cli_->Get("/api/v1/query/" + j["run_id"].get<std::string>() + "?format=arrow"), 409, "conflict",
               "no stored result");
  auto bad = cli_->Get("/api/v1/query/" + j["run_id"].get<std::string>() + "?format=arrows");
  expect_error(bad, 400, "invalid_argument", "arrows");
  EXPECT_NE(parse_json(bad->body)["error"]["hint"].get<std::string>().find("or arrow"), std::string::npos);
}

}  // namespace
}  // namespace pluto::api_test
