// /openapi.json: its shape, that it lists exactly the routes this suite covers, and that every
// documented route is served and answers with a documented status and content type.
#include "api_harness.hpp"

namespace pluto::api_test {
namespace {

class OpenApiTest : public ::testing::Test {
 protected:
  void SetUp() override { h_.start(); }
  ApiHarness h_;
};

json get_openapi(ApiHarness& h) {
  auto cli = h.client();
  return expect_json(cli->Get("/openapi.json"));
}

TEST_F(OpenApiTest, IsAnOpenApi3Document) {
  json doc = get_openapi(h_);
  ASSERT_TRUE(doc.is_object());
  ASSERT_TRUE(doc.contains("openapi") && doc["openapi"].is_string());
  EXPECT_EQ(doc["openapi"].get<std::string>().substr(0, 2), "3.");
  ASSERT_TRUE(doc.contains("info") && doc["info"].is_object());
  EXPECT_TRUE(doc["info"].contains("title") && doc["info"]["title"].is_string());
  EXPECT_TRUE(doc["info"].contains("version") && doc["info"]["version"].is_string());
  ASSERT_TRUE(doc.contains("paths") && doc["paths"].is_object());
  ASSERT_FALSE(doc["paths"].empty());

  static const std::set<std::string> methods = {"get", "post", "put", "delete", "patch", "options", "head"};
  std::set<std::string> operation_ids;
  for (const auto& [path, item] : doc["paths"].items()) {
    EXPECT_EQ(path.front(), '/') << path;
    ASSERT_TRUE(item.is_object()) << path;
    for (const auto& [method, op] : item.items()) {
      SCOPED_TRACE(method + " " + path);
      EXPECT_TRUE(methods.count(method) == 1) << method;
      ASSERT_TRUE(op.is_object());
      EXPECT_TRUE(op.contains("summary") && op["summary"].is_string() && !op["summary"].get<std::string>().empty());
      ASSERT_TRUE(op.contains("operationId") && op["operationId"].is_string());
      EXPECT_TRUE(operation_ids.insert(op["operationId"].get<std::string>()).second) << "duplicate operationId";
      ASSERT_TRUE(op.contains("responses") && op["responses"].is_object() && !op["responses"].empty());
      for (const auto& [code, resp] : op["responses"].items()) {
        EXPECT_TRUE(code == "default" || (code.size() == 3 && code[0] >= '1' && code[0] <= '5' &&
                                          std::isdigit(static_cast<unsigned char>(code[1])) != 0 &&
                                          std::isdigit(static_cast<unsigned char>(code[2])) != 0))
            << code;
        EXPECT_TRUE(resp.contains("description") && resp["description"].is_string()) << code;
      }
      // Every {param} of the path is declared as a required path parameter.
      std::set<std::string> declared;
      for (const auto& p : op.value("parameters", json::array())) {
        ASSERT_TRUE(p.contains("name") && p.contains("in") && p.contains("schema")) << p.dump();
        EXPECT_TRUE(p["in"] == "path" || p["in"] == "query" || p["in"] == "header") << p.dump();
        if (p["in"] == "path") {
          EXPECT_EQ(p["required"], true) << p.dump();
          declared.insert(p["name"].get<std::string>());
        }
      }
      std::set<std::string> in_path;
      for (size_t open = path.find('{'); open != std::string::npos; open = path.find('{', open + 1)) {
        in_path.insert(path.substr(open + 1, path.find('}', open) - open - 1));
      }
      EXPECT_EQ(declared, in_path);
      if (op.contains("requestBody")) {
        EXPECT_TRUE(op["requestBody"]["content"]["application/json"].contains("schema"));
      }
    }
  }
  // The error body is described once and referenced.
  ASSERT_TRUE(doc["components"]["schemas"].contains("Error"));
  EXPECT_EQ(doc["components"]["schemas"]["Error"]["properties"]["error"]["required"],
            json({"code", "message", "hint"}));
  // The query body documents its fields.
  const auto& qbody = doc["paths"]["/api/v1/query"]["post"]["requestBody"]["content"]["application/json"]["schema"];
  EXPECT_EQ(qbody["required"], json({"sql"}));
  for (const char* f : {"sql", "timeout_ms", "max_rows", "async"}) EXPECT_TRUE(qbody["properties"].contains(f)) << f;
}

TEST_F(OpenApiTest, DocumentedRoutesEqualTheRoutesThisSuiteCovers) {
  json doc = get_openapi(h_);
  std::set<std::string> documented;
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const auto& [method, op] : item.items()) {
      std::string m = method;
      for (auto& c : m) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      documented.insert(m + " " + path);
    }
  }
  std::vector<std::string> untested;
  std::set_difference(documented.begin(), documented.end(), covered_routes().begin(), covered_routes().end(),
                      std::back_inserter(untested));
  std::vector<std::string> undocumented;
  std::set_difference(covered_routes().begin(), covered_routes().end(), documented.begin(), documented.end(),
                      std::back_inserter(undocumented));
  EXPECT_TRUE(untested.empty()) << "routes in /openapi.json without contract tests (add them to covered_routes() "
                                   "and test them): "
                                << json(untested).dump();
  EXPECT_TRUE(undocumented.empty()) << "routes the suite covers that /openapi.json does not describe: "
                                    << json(undocumented).dump();
}

// One request to every documented route, with real ids: it must reach a handler (not the
// "no route" 404) and answer with a status and content type the document lists for it.
TEST_F(OpenApiTest, EveryDocumentedRouteAnswersAsDocumented) {
  json doc = get_openapi(h_);
  h_.exec("CREATE TABLE items AS SELECT range AS id FROM range(3)");
  auto cli = h_.client();
  json run = expect_json(cli->Post("/api/v1/query", R"({"sql":"SELECT 1 AS one"})", "application/json"));
  const std::string run_id = run["run_id"];
  ControlledJob job(h_.jobs());
  ASSERT_TRUE(job.wait_started());

  // Concrete requests per route; the SSE routes are read to their end (finished streams).
  struct Call {
    std::string method;
    std::string path;
    std::string body;
  };
  const std::map<std::string, Call> calls = {
      {"GET /api/v1/health", {"GET", "/api/v1/health", ""}},
      {"GET /api/v1/actions", {"GET", "/api/v1/actions", ""}},
      {"POST /api/v1/actions/{name}", {"POST", "/api/v1/actions/table.list", "{}"}},
      {"POST /api/v1/query", {"POST", "/api/v1/query", R"({"sql":"SELECT 2"})"}},
      {"GET /api/v1/query", {"GET", "/api/v1/query", ""}},
      {"GET /api/v1/query/{run_id}", {"GET", "/api/v1/query/" + run_id, ""}},
      {"GET /api/v1/query/{run_id}/events", {"GET", "/api/v1/query/" + run_id + "/events", ""}},
      {"POST /api/v1/query/{run_id}/cancel", {"POST", "/api/v1/query/" + run_id + "/cancel", ""}},
      {"GET /api/v1/jobs", {"GET", "/api/v1/jobs", ""}},
      {"GET /api/v1/jobs/{id}", {"GET", "/api/v1/jobs/" + job.id(), ""}},
      {"GET /api/v1/jobs/{id}/events", {"GET", "/api/v1/jobs/" + run_id + "/events", ""}},
      {"POST /api/v1/jobs/{id}/cancel", {"POST", "/api/v1/jobs/" + job.id() + "/cancel", ""}},
      {"GET /api/v1/catalog/tables", {"GET", "/api/v1/catalog/tables", ""}},
      {"GET /api/v1/catalog/tables/{name}", {"GET", "/api/v1/catalog/tables/items", ""}},
      {"GET /openapi.json", {"GET", "/openapi.json", ""}},
  };
  for (const auto& route : covered_routes()) {
    SCOPED_TRACE(route);
    ASSERT_EQ(calls.count(route), 1U) << "no request defined for this route";
    const Call& c = calls.at(route);
    const auto space = route.find(' ');
    const std::string path = route.substr(space + 1);
    std::string method = route.substr(0, space);
    for (auto& ch : method) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    ASSERT_TRUE(doc["paths"].contains(path) && doc["paths"][path].contains(method));
    json& responses = doc["paths"][path][method]["responses"];
    auto r = c.method == "GET" ? cli->Get(c.path) : cli->Post(c.path, c.body, "application/json");
    ASSERT_TRUE(r) << httplib::to_string(r.error());
    EXPECT_TRUE(responses.contains(std::to_string(r->status)))
        << "answered " << r->status << ", documented: " << responses.dump() << "; body: " << r->body.substr(0, 300);
    if (r->status == 404) {
      EXPECT_EQ(r->body.find("no route for"), std::string::npos) << "route not served: " << r->body;
    }
    if (responses.contains(std::to_string(r->status))) {
      json& content = responses[std::to_string(r->status)]["content"];
      ASSERT_EQ(content.size(), 1U);
      EXPECT_EQ(r->get_header_value("Content-Type"), content.begin().key()) << r->body.substr(0, 300);
    }
  }
  job.release();
}

TEST_F(OpenApiTest, UnknownPathsAndMethodsGetTheErrorBody) {
  auto cli = h_.client();
  expect_error(cli->Get("/api/v1/nope"), 404, "not_found", "no route for GET /api/v1/nope");
  expect_error(cli->Get("/api/v1/query/abc/def"), 404, "not_found");
  // A known path with another method: 405 and the methods it has.
  const std::vector<std::function<httplib::Result()>> wrong_methods = {
      [&] { return cli->Delete("/api/v1/query"); }, [&] { return cli->Put("/api/v1/query", "{}", "application/json"); },
      [&] { return cli->Options("/api/v1/query"); }};
  for (const auto& send : wrong_methods) {
    auto r = send();
    expect_error(r, 405, "method_not_allowed", "is not allowed on /api/v1/query");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->get_header_value("Allow"), "POST, GET");
  }
  auto r = cli->Post("/api/v1/query/some-run", "{}", "application/json");
  expect_error(r, 405, "method_not_allowed");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->get_header_value("Allow"), "GET");
}

}  // namespace
}  // namespace pluto::api_test
