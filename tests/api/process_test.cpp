// The real `pluto-duck serve`: refusal to start off loopback without a token, token auth end to end,
// and a SIGKILL during a long query followed by a restart.
#include "api_harness.hpp"
#include "server_process.hpp"

namespace pluto::api_test {
namespace {

constexpr auto kStartLimit = std::chrono::seconds(30);
constexpr auto kExitLimit = std::chrono::seconds(20);

class ApiProcessTest : public ::testing::Test {
 protected:
  std::vector<std::string> serve_args(std::vector<std::string> extra = {}) const {
    std::vector<std::string> args{"--data-dir", data_.str(), "--json", "serve", "--port", "0"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  testing::TempDir data_;
  testing::TempDir logs_;
};

TEST_F(ApiProcessTest, RefusesANonLoopbackHostWithoutAToken) {
  for (const auto& [args, env] : std::vector<std::pair<std::vector<std::string>, std::map<std::string, std::string>>>{
           {{"--data-dir", data_.str(), "serve", "--host", "0.0.0.0", "--port", "0"}, {}},
           {{"--data-dir", data_.str(), "serve", "--port", "0"}, {{"PLUTODUCK_SERVER__HOST", "0.0.0.0"}}},
           {{"--data-dir", data_.str(), "run", "--host", "192.0.2.10", "--port", "0"}, {}}}) {
    SCOPED_TRACE(json(args).dump());
    ServerProcess p;
    ASSERT_TRUE(p.spawn(args, logs_.path(), env));
    const auto code = p.wait_exit(kExitLimit);
    ASSERT_TRUE(code.has_value()) << "the server started instead of refusing";
    EXPECT_EQ(*code, 2) << p.err();
    EXPECT_EQ(p.out(), "");
    const std::string err = p.err();
    EXPECT_NE(err.find("refusing to listen on"), std::string::npos) << err;
    EXPECT_NE(err.find("without an API token"), std::string::npos) << err;
    EXPECT_NE(err.find("server.api_token"), std::string::npos) << err;
    EXPECT_NE(err.find("127.0.0.1"), std::string::npos) << err;
  }
  // --json makes the refusal the error body.
  ServerProcess p;
  ASSERT_TRUE(p.spawn(serve_args({"--host", "0.0.0.0"}), logs_.path()));
  ASSERT_EQ(p.wait_exit(kExitLimit), std::optional<int>(2));
  json e = json::parse(p.err().substr(0, p.err().find('\n')), nullptr, false);
  ASSERT_FALSE(e.is_discarded()) << p.err();
  EXPECT_EQ(e["error"]["code"], "invalid_config");
  EXPECT_NE(e["error"]["hint"].get<std::string>().find("PLUTODUCK_SERVER__API_TOKEN"), std::string::npos);
}

TEST_F(ApiProcessTest, TokenAuthEndToEnd) {
  const std::string token = "process-test-token-0b9c2e";
  ServerProcess p;
  ASSERT_TRUE(p.spawn(serve_args(), logs_.path(), {{"PLUTODUCK_SERVER__API_TOKEN", token}}));
  const int port = p.wait_for_url(kStartLimit);
  ASSERT_GT(port, 0);
  auto cli = make_client(port);
  for (const std::string& auth : std::vector<std::string>{"", "Bearer nope", "Bearer " + token + "0"}) {
    SCOPED_TRACE(auth);
    httplib::Headers h;
    if (!auth.empty()) h.emplace("Authorization", auth);
    auto r = cli->Get("/api/v1/health", h);
    expect_error(r, 401, "unauthenticated");
    if (r) {
      EXPECT_EQ(r->get_header_value("WWW-Authenticate"), "Bearer");
    }
    expect_error(cli->Post("/api/v1/query", h, R"j({"sql":"CREATE TABLE t (x INT)"})j", "application/json"), 401,
                 "unauthenticated");
  }
  const httplib::Headers ok{{"Authorization", "Bearer " + token}};
  EXPECT_EQ(expect_json(cli->Get("/api/v1/health", ok))["status"], "ok");
  json run = expect_json(cli->Post("/api/v1/query", ok, R"({"sql":"SELECT 40 + 2 AS answer"})", "application/json"));
  EXPECT_EQ(run["rows"], json::parse("[[42]]"));
  json hist = expect_json(cli->Get("/api/v1/query", ok));
  ASSERT_EQ(hist["queries"].size(), 1U) << "a refused request ran";
  EXPECT_EQ(hist["queries"][0]["run_id"], run["run_id"]);
  // The web UI's static files need no token.
  auto index = cli->Get("/");
  ASSERT_TRUE(index);
  EXPECT_EQ(index->status, 200);
  EXPECT_EQ(index->get_header_value("Content-Type"), "text/html");

  // The binary serves every route this suite covers; the others it documents belong to the optional
  // components (ingestion, dbt, agent), whose own suites test them.
  json doc = expect_json(cli->Get("/openapi.json", ok));
  std::set<std::string> served;
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const auto& [method, op] : item.items()) {
      std::string m = method;
      for (auto& c : m) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      served.insert(m + " " + path);
    }
  }
  for (const auto& route : covered_routes()) EXPECT_EQ(served.count(route), 1U) << route;
  for (const auto& route : served) {
    if (covered_routes().count(route) == 1) continue;
    const std::string path = route.substr(route.find(' ') + 1);
    bool optional_component = false;
    for (const char* prefix :
         {"/api/v1/ingest", "/api/v1/sources", "/api/v1/imports/", "/api/v1/dbt/", "/api/v1/agent/"}) {
      optional_component = optional_component || path.rfind(prefix, 0) == 0;
    }
    EXPECT_TRUE(optional_component) << route << " is served without a contract test in tests/api";
  }

  // Safe mode as the binary wires it: either the guard is not wired yet and safe mode says so (503),
  // or the guard refuses reading files (403). Nothing else is acceptable.
  testing::write_file(data_ / "private.csv", "secret\n1\n");
  const std::string file_sql =
      "SELECT * FROM read_csv(" + warehouse::quote_literal((data_ / "private.csv").string()) + ")";
  auto safe = cli->Post("/api/v1/query", ok, json({{"sql", file_sql}, {"mode", "safe"}}).dump(), "application/json");
  ASSERT_TRUE(safe);
  if (safe->status == 503) {
    expect_error(safe, 503, "unavailable", "safe mode is not available");
  } else {
    expect_error(safe, 403, "permission_denied");
  }

  p.signal(SIGINT);
  const auto code = p.wait_exit(kExitLimit);
  ASSERT_TRUE(code.has_value()) << "the server did not stop on SIGINT";
  EXPECT_EQ(*code, 0) << p.err();
  // The token never reaches the output or the log.
  EXPECT_EQ(p.out().find(token), std::string::npos);
  EXPECT_EQ(p.err().find(token), std::string::npos);
  EXPECT_EQ(testing::read_file(data_ / "logs" / "pluto-duck.log").find(token), std::string::npos);
}

TEST_F(ApiProcessTest, SigkillDuringALongQueryLeavesItInterruptedAndEverythingElseIntact) {
  std::string done_id;
  std::string failed_id;
  std::string long_id;
  json done_page;
  std::vector<json> done_events;
  {
    ServerProcess p;
    ASSERT_TRUE(p.spawn(serve_args(), logs_.path()));
    const int port = p.wait_for_url(kStartLimit);
    ASSERT_GT(port, 0);
    auto cli = make_client(port);
    expect_json(cli->Post("/api/v1/query", R"j({"sql":"CREATE TABLE kept AS SELECT range AS id FROM range(4000)"})j",
                          "application/json"));
    json done = expect_json(cli->Post("/api/v1/query",
                                      R"({"sql":"SELECT id, id * 2 AS twice FROM kept ORDER BY id","max_rows":5})",
                                      "application/json"));
    ASSERT_EQ(done["status"], "succeeded");
    done_id = done["run_id"];
    done_page = expect_json(cli->Get("/api/v1/query/" + done_id + "?offset=2045&limit=10"));
    done_events = check_frames(read_sse(port, "/api/v1/query/" + done_id + "/events"), "query/" + done_id);
    ASSERT_GE(done_events.size(), 3U);
    failed_id = expect_json(cli->Post("/api/v1/query", R"({"sql":"SELECT nope"})", "application/json"))["run_id"];

    json sub = expect_json(
        cli->Post("/api/v1/query", json({{"sql", kEndlessSql}, {"async", true}, {"timeout_ms", 600000}}).dump(),
                  "application/json"),
        202);
    long_id = sub["run_id"];
    wait_executing(*cli, long_id);
    p.signal(SIGKILL);
    ASSERT_EQ(p.wait_exit(kExitLimit), std::optional<int>(128 + SIGKILL));
  }

  ServerProcess p;
  ASSERT_TRUE(p.spawn(serve_args(), logs_.path()));
  const int port = p.wait_for_url(kStartLimit);
  ASSERT_GT(port, 0);
  auto cli = make_client(port);

  // The killed run is interrupted everywhere: its status, the history, its job, its event stream.
  json status = expect_json(cli->Get("/api/v1/query/" + long_id));
  EXPECT_EQ(status["status"], "interrupted") << status.dump();
  EXPECT_TRUE(status["finished_at"].is_string()) << status.dump();
  json interrupted = expect_json(cli->Get("/api/v1/query?status=interrupted"));
  ASSERT_EQ(interrupted["queries"].size(), 1U) << interrupted.dump();
  EXPECT_EQ(interrupted["queries"][0]["run_id"], long_id);
  EXPECT_EQ(interrupted["queries"][0]["sql"], kEndlessSql);
  EXPECT_TRUE(interrupted["queries"][0]["error"].is_string());
  EXPECT_EQ(expect_json(cli->Get("/api/v1/query?status=running"))["queries"], json::array());
  EXPECT_EQ(expect_json(cli->Get("/api/v1/jobs/" + long_id))["status"], "interrupted");
  const SseRead events = read_sse(port, "/api/v1/query/" + long_id + "/events");
  EXPECT_TRUE(events.ended_by_server) << "the stream of an interrupted run must end";
  const auto env = check_frames(events, "query/" + long_id);
  ASSERT_GE(env.size(), 3U) << events.raw;
  EXPECT_EQ(env[0]["type"], "query.queued");
  EXPECT_EQ(env[1]["type"], "query.started");
  EXPECT_EQ(env.back()["type"], "query.interrupted");
  expect_error(cli->Post("/api/v1/query/" + long_id + "/cancel", "", "application/json"), 409, "conflict");

  // Everything else is intact: the history, the earlier results, their events, the warehouse.
  json hist = expect_json(cli->Get("/api/v1/query"));
  ASSERT_EQ(hist["queries"].size(), 4U) << hist.dump();
  std::map<std::string, std::string> statuses;
  for (const auto& q : hist["queries"]) statuses[q["run_id"]] = q["status"];
  EXPECT_EQ(statuses[done_id], "succeeded");
  EXPECT_EQ(statuses[failed_id], "failed");
  EXPECT_EQ(statuses[long_id], "interrupted");
  json done = expect_json(cli->Get("/api/v1/query/" + done_id));
  EXPECT_EQ(done["status"], "succeeded");
  EXPECT_EQ(done["row_count"], 4000);
  EXPECT_EQ(done["rows"][0], json::parse("[0,0]"));
  EXPECT_EQ(expect_json(cli->Get("/api/v1/query/" + done_id + "?offset=2045&limit=10"))["rows"], done_page["rows"]);
  EXPECT_EQ(done_page["rows"][0], json::parse("[2045,4090]"));
  auto csv = cli->Get("/api/v1/query/" + done_id + "?format=csv");
  ASSERT_TRUE(csv);
  EXPECT_EQ(csv->status, 200);
  EXPECT_EQ(std::count(csv->body.begin(), csv->body.end(), '\n'), 4001);
  EXPECT_EQ(check_frames(read_sse(port, "/api/v1/query/" + done_id + "/events"), "query/" + done_id), done_events);
  EXPECT_EQ(expect_json(cli->Get("/api/v1/query/" + failed_id))["status"], "failed");
  json kept = expect_json(cli->Get("/api/v1/catalog/tables/kept"));
  EXPECT_EQ(kept["row_count"], 4000);
  // And the restarted server runs queries.
  json again = expect_json(cli->Post("/api/v1/query", R"({"sql":"SELECT sum(id) FROM kept"})", "application/json"));
  EXPECT_EQ(again["rows"], json::parse("[[7998000]]"));

  p.signal(SIGINT);
  EXPECT_EQ(p.wait_exit(kExitLimit), std::optional<int>(0)) << p.err();
}

}  // namespace
}  // namespace pluto::api_test
