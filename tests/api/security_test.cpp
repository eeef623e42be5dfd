// Security defaults over real HTTP: Host and Origin checks (DNS rebinding, cross-site requests), no
// CORS grants, bearer-token auth on the API, static files without a token.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "api_harness.hpp"

namespace pluto::api_test {
namespace {

constexpr const char* kToken = "t0ken-for-contract-tests-7f3a";

// Sends raw bytes and reads the answer until the server closes (requests send Connection: close).
std::string raw_request(int port, const std::string& bytes) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    ADD_FAILURE() << "cannot connect to port " << port;
    return {};
  }
  EXPECT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
  std::string out;
  char buf[4096];
  while (true) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

int status_of(const std::string& raw_response) {
  // "HTTP/1.1 403 Forbidden"
  if (raw_response.size() < 12) return 0;
  return std::stoi(raw_response.substr(9, 3));
}

class SecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_.start();
    cli_ = h_.client();
  }
  std::string self() const { return "127.0.0.1:" + std::to_string(h_.port()); }
  ApiHarness h_{HarnessOptions().with_web_root(std::string(PLUTO_SOURCE_DIR) + "/web")};
  std::unique_ptr<httplib::Client> cli_;
};

TEST_F(SecurityTest, HostHeaderMustNameThisServer) {
  const std::string port = std::to_string(h_.port());
  for (const std::string& host :
       std::vector<std::string>{"evil.example", "evil.example:" + port, "127.0.0.1:" + std::to_string(h_.port() + 1),
                                "localhost.evil.example:" + port, "10.0.0.1:" + port, "0.0.0.0:" + port}) {
    SCOPED_TRACE("Host: " + host);
    expect_error(cli_->Get("/api/v1/health", {{"Host", host}}), 403, "permission_denied", host);
    // Static files and the OpenAPI document are protected the same way.
    expect_error(cli_->Get("/", {{"Host", host}}), 403, "permission_denied");
    expect_error(cli_->Get("/openapi.json", {{"Host", host}}), 403, "permission_denied");
  }
  // A rebinding page cannot run SQL: the query is refused before it runs.
  expect_error(cli_->Post("/api/v1/query", {{"Host", "evil.example:" + port}},
                          R"j({"sql":"CREATE TABLE pwned (x INT)"})j", "application/json"),
               403, "permission_denied");
  EXPECT_EQ(expect_json(cli_->Get("/api/v1/query"))["queries"], json::array());
  EXPECT_EQ(expect_json(cli_->Get("/api/v1/catalog/tables"))["tables"], json::array());

  for (const std::string& host : std::vector<std::string>{"127.0.0.1:" + port, "localhost:" + port, "LOCALHOST:" + port,
                                                          "[::1]:" + port, "127.0.0.1"}) {
    SCOPED_TRACE("Host: " + host);
    EXPECT_EQ(expect_json(cli_->Get("/api/v1/health", {{"Host", host}}))["status"], "ok");
  }
}

TEST_F(SecurityTest, RequestsWithoutAHostHeaderAre403) {
  const std::string answer = raw_request(h_.port(), "GET /api/v1/health HTTP/1.1\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(status_of(answer), 403) << answer;
  EXPECT_NE(answer.find("\"permission_denied\""), std::string::npos) << answer;
  const std::string ok =
      raw_request(h_.port(), "GET /api/v1/health HTTP/1.1\r\nHost: " + self() + "\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(status_of(ok), 200) << ok;
}

TEST_F(SecurityTest, OriginMustBeThisServer) {
  const std::string port = std::to_string(h_.port());
  for (const std::string& origin : std::vector<std::string>{
           "http://evil.example", "https://evil.example", "null", "http://127.0.0.1:" + std::to_string(h_.port() + 1),
           "http://localhost", "file://", "http://evil.example:" + port}) {
    SCOPED_TRACE("Origin: " + origin);
    expect_error(cli_->Get("/api/v1/health", {{"Origin", origin}}), 403, "permission_denied", "origin");
  }
  expect_error(
      cli_->Post("/api/v1/query", {{"Origin", "http://evil.example"}}, R"({"sql":"SELECT 1"})", "application/json"),
      403, "permission_denied", "http://evil.example");
  EXPECT_EQ(expect_json(cli_->Get("/api/v1/query"))["queries"], json::array()) << "a cross-site query ran";
  // The server's own pages are same-origin.
  for (const std::string& origin : std::vector<std::string>{"http://127.0.0.1:" + port, "http://localhost:" + port}) {
    SCOPED_TRACE("Origin: " + origin);
    json j = expect_json(
        cli_->Post("/api/v1/query", {{"Origin", origin}}, R"({"sql":"SELECT 1 AS one"})", "application/json"));
    EXPECT_EQ(j["status"], "succeeded");
  }
}

TEST_F(SecurityTest, NoCorsGrantsEver) {
  const std::string port = std::to_string(h_.port());
  // A cross-site preflight is refused and grants nothing.
  auto pre = cli_->Options("/api/v1/query", {{"Origin", "http://evil.example"},
                                             {"Access-Control-Request-Method", "POST"},
                                             {"Access-Control-Request-Headers", "content-type"}});
  expect_error(pre, 403, "permission_denied");
  EXPECT_FALSE(pre->has_header("Access-Control-Allow-Methods"));
  EXPECT_FALSE(pre->has_header("Access-Control-Allow-Headers"));
  EXPECT_FALSE(pre->has_header("Access-Control-Allow-Credentials"));
  // A same-origin preflight has no handler (same-origin requests need none) and grants nothing.
  auto same = cli_->Options("/api/v1/query",
                            {{"Origin", "http://127.0.0.1:" + port}, {"Access-Control-Request-Method", "POST"}});
  ASSERT_TRUE(same);
  EXPECT_FALSE(same->has_header("Access-Control-Allow-Origin"));
  EXPECT_FALSE(same->has_header("Access-Control-Allow-Methods"));
  EXPECT_GE(same->status, 400);
  // Ordinary answers, with or without an Origin, carry no CORS header.
  for (const auto& headers : {httplib::Headers{}, httplib::Headers{{"Origin", "http://127.0.0.1:" + port}}}) {
    auto r = cli_->Get("/api/v1/health", headers);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    for (const auto& [k, v] : r->headers) {
      std::string lk = k;
      for (auto& c : lk) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      EXPECT_NE(lk.rfind("access-control-", 0), 0U) << k << ": " << v;
    }
  }
}

TEST_F(SecurityTest, WithoutATokenStaticFilesAndApiAreOpenOnLoopback) {
  auto index = cli_->Get("/");
  ASSERT_TRUE(index);
  EXPECT_EQ(index->status, 200);
  EXPECT_EQ(index->get_header_value("Content-Type"), "text/html");
  EXPECT_EQ(index->body, testing::read_file(std::string(PLUTO_SOURCE_DIR) + "/web/index.html"));
  expect_json(cli_->Get("/api/v1/health"));
}

// ---- token ----

class TokenTest : public ::testing::Test {
 protected:
  void SetUp() override { h_.start(); }
  std::unique_ptr<httplib::Client> anonymous() const { return make_client(h_.port()); }
  ApiHarness h_{HarnessOptions().with_token(kToken).with_web_root(std::string(PLUTO_SOURCE_DIR) + "/web")};
};

void expect_401(const httplib::Result& r) {
  expect_error(r, 401, "unauthenticated", "API token");
  if (r) {
    EXPECT_EQ(r->get_header_value("WWW-Authenticate"), "Bearer");
  }
}

TEST_F(TokenTest, ApiRequestsNeedTheBearerToken) {
  auto cli = anonymous();
  const std::string token = kToken;
  const std::vector<std::string> wrong = {"",
                                          "Bearer",
                                          "Bearer ",
                                          "Bearer wrong",
                                          "Bearer " + token.substr(0, token.size() - 1),
                                          "Bearer " + token + "x",
                                          "Bearer  " + token,
                                          "Basic " + token,
                                          token};
  for (const auto& auth : wrong) {
    SCOPED_TRACE("Authorization: " + auth);
    httplib::Headers h;
    if (!auth.empty()) h.emplace("Authorization", auth);
    expect_401(cli->Get("/api/v1/health", h));
    expect_401(cli->Post("/api/v1/query", h, R"j({"sql":"CREATE TABLE t (x INT)"})j", "application/json"));
    expect_401(cli->Get("/api/v1/query/some-run/events", h));
    expect_401(cli->Get("/api/v1/catalog/tables", h));
    expect_401(cli->Get("/openapi.json", h));
  }
  // Nothing ran.
  const httplib::Headers ok{{"Authorization", "Bearer " + token}};
  EXPECT_EQ(expect_json(cli->Get("/api/v1/query", ok))["queries"], json::array());
  EXPECT_EQ(expect_json(cli->Get("/api/v1/health", ok))["status"], "ok");
  json run = expect_json(cli->Post("/api/v1/query", ok, R"({"sql":"SELECT 5 AS five"})", "application/json"));
  EXPECT_EQ(run["rows"], json::parse("[[5]]"));
  expect_json(cli->Get("/openapi.json", ok));
  const SseRead events = read_sse(h_.port(), "/api/v1/query/" + run["run_id"].get<std::string>() + "/events", ok);
  EXPECT_EQ(events.status, 200);
  EXPECT_TRUE(events.ended_by_server);
  EXPECT_EQ(check_frames(events, "query/" + run["run_id"].get<std::string>()).back()["type"], "query.succeeded");
  // The Host check still applies with the right token.
  httplib::Headers rebinding = ok;
  rebinding.emplace("Host", "evil.example:" + std::to_string(h_.port()));
  expect_error(cli->Get("/api/v1/health", rebinding), 403, "permission_denied");
}

TEST_F(TokenTest, StaticFilesNeedNoToken) {
  auto cli = anonymous();
  for (const std::string& file : std::vector<std::string>{"index.html", "app.js", "app.css"}) {
    SCOPED_TRACE(file);
    auto r = cli->Get(file == "index.html" ? "/" : "/" + file);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, testing::read_file(std::string(PLUTO_SOURCE_DIR) + "/web/" + file));
  }
}

TEST_F(TokenTest, ARefusedRequestLeavesTheConnectionUsable) {
  // The same keep-alive connection: a refused POST (its body unread by any handler) must not be
  // taken for the start of the next request.
  auto cli = anonymous();
  cli->set_keep_alive(true);
  auto refused = cli->Post("/api/v1/query", R"({"sql":"SELECT 1"})", "application/json");
  expect_401(refused);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->get_header_value("Connection"), "close");
  const httplib::Headers ok{{"Authorization", std::string("Bearer ") + kToken}};
  json j = expect_json(cli->Post("/api/v1/query", ok, R"({"sql":"SELECT 2 AS two"})", "application/json"));
  EXPECT_EQ(j["rows"], json::parse("[[2]]"));
  expect_error(
      cli->Post("/api/v1/query", {{"Origin", "http://evil.example"}}, R"({"sql":"SELECT 3"})", "application/json"), 403,
      "permission_denied");
  EXPECT_EQ(expect_json(cli->Get("/api/v1/health", ok))["status"], "ok");
}

// Every answer carries the browser protections: no sniffing, no framing, no referrer, a content policy.
TEST(SecurityHeaders, EveryAnswerForbidsFramingAndSniffing) {
  testing::TempDir web;
  testing::write_file(web / "index.html", "<!doctype html><title>ui</title>");
  ApiHarness h(HarnessOptions{}.with_web_root(web.str()));
  h.start();
  auto cli = h.client();
  for (const char* path : {"/", "/api/v1/health", "/api/v1/nope"}) {
    auto r = cli->Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff") << path;
    EXPECT_EQ(r->get_header_value("X-Frame-Options"), "DENY") << path;
    EXPECT_EQ(r->get_header_value("Referrer-Policy"), "no-referrer") << path;
    EXPECT_NE(r->get_header_value("Content-Security-Policy").find("frame-ancestors 'none'"), std::string::npos) << path;
  }
}

// `curl -X POST URL` sends no Content-Length: the body is empty (RFC 9112), the route answers at once.
TEST(SecurityHeaders, PostWithoutALengthHasAnEmptyBody) {
  ApiHarness h;
  h.start();
  ControlledJob job(h.jobs());
  ASSERT_TRUE(job.wait_started());
  const std::string head = "HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(h.port()) + "\r\nConnection: close\r\n\r\n";
  const std::string answer = raw_request(h.port(), "POST /api/v1/jobs/" + job.id() + "/cancel " + head);
  EXPECT_EQ(answer.rfind("HTTP/1.1 202", 0), 0U) << answer;
  EXPECT_EQ(h.jobs().wait(job.id(), std::chrono::seconds(20))->status, jobs::JobStatus::cancelled);
  EXPECT_EQ(raw_request(h.port(), "POST /api/v1/jobs/nope/cancel " + head).rfind("HTTP/1.1 404", 0), 0U);
  // A route that needs a body says so.
  const std::string query = raw_request(h.port(), "POST /api/v1/query " + head);
  EXPECT_EQ(query.rfind("HTTP/1.1 400", 0), 0U) << query;
}

}  // namespace
}  // namespace pluto::api_test
