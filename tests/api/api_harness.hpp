#pragma once
// Contract-test harness: the real services (store, warehouse, events, jobs, queries, actions) and the
// real api::Server on 127.0.0.1 with a free port, plus an HTTP client, an SSE reader that parses the
// raw stream, and the list of routes this suite exercises.
#include <gtest/gtest.h>
#include <httplib.h>

#include <array>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "pluto/actions/builtin.hpp"
#include "pluto/actions/catalog.hpp"
#include "pluto/api/server.hpp"
#include "pluto/events/event_bus.hpp"
#include "pluto/jobs/job_runner.hpp"
#include "pluto/query/query_service.hpp"
#include "pluto/query/sql_guard.hpp"
#include "pluto/store/store.hpp"
#include "pluto/warehouse/warehouse.hpp"
#include "test_util.hpp"

namespace pluto::api_test {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// Every route of the API as "METHOD path" (OpenAPI spelling). The suite sends at least one request
// to each (RoutesTest.EveryDocumentedRouteAnswersAsDocumented does it for all of them in one
// place); OpenApiTest.DocumentedRoutesEqualTheRoutesThisSuiteCovers fails when /openapi.json lists
// a route that is not here (a new route without tests) or misses one that is (a route without docs).
inline const std::set<std::string>& covered_routes() {
  static const std::set<std::string> routes = {
      "GET /api/v1/health",
      "GET /api/v1/actions",
      "POST /api/v1/actions/{name}",
      "POST /api/v1/query",
      "GET /api/v1/query",
      "GET /api/v1/query/{run_id}",
      "GET /api/v1/query/{run_id}/events",
      "POST /api/v1/query/{run_id}/cancel",
      "GET /api/v1/jobs",
      "GET /api/v1/jobs/{id}",
      "GET /api/v1/jobs/{id}/events",
      "POST /api/v1/jobs/{id}/cancel",
      "GET /api/v1/catalog/tables",
      "GET /api/v1/catalog/tables/{name}",
      "GET /openapi.json",
  };
  return routes;
}

// A query that runs until it is interrupted (DuckDB would need minutes to count that far).
inline constexpr const char* kEndlessSql = "SELECT count(*) FROM range(10000000000)";

// Percent-encodes everything but RFC 3986 unreserved characters.
inline std::string url_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((std::isalnum(c) != 0) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4U];
      out += hex[c & 15U];
    }
  }
  return out;
}

inline json parse_json(const std::string& body) {
  auto j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded()) << "not JSON: " << body.substr(0, 500);
  return j;
}

// The start of a body, for failure messages.
inline std::string brief(const std::string& body) {
  return body.size() > 400 ? body.substr(0, 400) + "…" : body;
}

// Asserts the error body {"error":{"code","message","hint"}} (nothing else) with this code.
inline void expect_error(const httplib::Result& r, int status, const std::string& code,
                         const std::string& message_part = "") {
  ASSERT_TRUE(r) << "no HTTP answer: " << httplib::to_string(r.error());
  EXPECT_EQ(r->status, status) << brief(r->body);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  const json j = parse_json(r->body);
  ASSERT_TRUE(j.is_object()) << brief(r->body);
  ASSERT_EQ(j.size(), 1U) << brief(r->body);
  ASSERT_TRUE(j.contains("error") && j["error"].is_object()) << brief(r->body);
  const auto& e = j["error"];
  EXPECT_EQ(e.size(), 3U) << brief(r->body);
  ASSERT_TRUE(e.contains("code") && e["code"].is_string()) << brief(r->body);
  ASSERT_TRUE(e.contains("message") && e["message"].is_string()) << brief(r->body);
  ASSERT_TRUE(e.contains("hint") && e["hint"].is_string()) << brief(r->body);
  EXPECT_EQ(e["code"], code) << brief(r->body);
  EXPECT_FALSE(e["message"].get<std::string>().empty()) << brief(r->body);
  if (!message_part.empty()) {
    EXPECT_NE(e["message"].get<std::string>().find(message_part), std::string::npos)
        << "message should mention '" << message_part << "': " << brief(r->body);
  }
  // Never a wildcard (or any) CORS grant.
  EXPECT_FALSE(r->has_header("Access-Control-Allow-Origin"));
}

// Asserts a 2xx JSON answer and returns the parsed body.
inline json expect_json(const httplib::Result& r, int status = 200) {
  EXPECT_TRUE(r) << "no HTTP answer: " << httplib::to_string(r.error());
  if (!r) return json();
  EXPECT_EQ(r->status, status) << brief(r->body);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  EXPECT_FALSE(r->has_header("Access-Control-Allow-Origin"));
  return parse_json(r->body);
}

// One parsed SSE frame.
struct SseEvent {
  std::string id;
  std::string event;
  std::string data;
};

// What an SSE read saw: frames in order, comment lines (heartbeats), and how it ended.
struct SseRead {
  int status = 0;
  std::string content_type;
  std::vector<SseEvent> events;
  std::vector<std::string> comments;
  std::string raw;
  bool ended_by_server = false;  // the server closed the stream (vs. we stopped reading)
  httplib::Error error = httplib::Error::Success;
  std::string body;  // the body when the answer is not an event stream (errors)
};

// Parses an SSE byte stream incrementally (frames end with a blank line; "\n" line ends, as the
// server writes them).
class SseParser {
 public:
  // Returns false when `on_frame` asks to stop.
  bool feed(const char* data, size_t n, SseRead& out, const std::function<bool(const SseRead&)>& on_frame) {
    buf_.append(data, n);
    size_t pos = 0;
    while (true) {
      const size_t nl = buf_.find('\n', pos);
      if (nl == std::string::npos) break;
      std::string line = buf_.substr(pos, nl - pos);
      pos = nl + 1;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) {
        if (has_fields_) {
          out.events.push_back(current_);
          current_ = {};
          has_fields_ = false;
          if (on_frame && !on_frame(out)) {
            buf_.erase(0, pos);
            return false;
          }
        }
        continue;
      }
      if (line.front() == ':') {
        out.comments.push_back(line.substr(1));
        if (on_frame && !on_frame(out)) {
          buf_.erase(0, pos);
          return false;
        }
        continue;
      }
      const auto colon = line.find(':');
      std::string field = line.substr(0, colon);
      std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
      if (!value.empty() && value.front() == ' ') value.erase(0, 1);
      has_fields_ = true;
      if (field == "id") {
        current_.id = value;
      } else if (field == "event") {
        current_.event = value;
      } else if (field == "data") {
        current_.data += (current_.data.empty() ? "" : "\n") + value;
      } else {
        ADD_FAILURE() << "unexpected SSE field: " << line;
      }
    }
    buf_.erase(0, pos);
    return true;
  }
  const std::string& pending() const { return buf_; }

 private:
  std::string buf_;
  SseEvent current_;
  bool has_fields_ = false;
};

inline std::unique_ptr<httplib::Client> make_client(int port) {
  auto c = std::make_unique<httplib::Client>("127.0.0.1", port);
  c->set_connection_timeout(std::chrono::seconds(5));
  // Generous: a request that takes this long is a hang, not a slow answer.
  c->set_read_timeout(std::chrono::seconds(20));
  c->set_write_timeout(std::chrono::seconds(10));
  return c;
}

// Reads an SSE endpoint until the server ends the stream, or until `on_frame` returns false (then
// the client hangs up mid-stream).
// A stream still open after `limit` is a hang: the read stops and the test fails.
inline SseRead read_sse(int port, const std::string& path, httplib::Headers headers = {},
                        const std::function<bool(const SseRead&)>& on_frame = nullptr,
                        std::chrono::seconds limit = std::chrono::seconds(30)) {
  SseRead out;
  SseParser parser;
  auto cli = make_client(port);
  bool stopped = false;
  const auto deadline = Clock::now() + limit;
  headers.emplace("Accept", "text/event-stream");
  auto res = cli->Get(
      path, headers,
      [&](const httplib::Response& r) {
        out.status = r.status;
        out.content_type = r.get_header_value("Content-Type");
        EXPECT_FALSE(r.has_header("Access-Control-Allow-Origin"));
        return true;
      },
      [&](const char* data, size_t n) {
        if (out.content_type.rfind("text/event-stream", 0) != 0) {
          out.body.append(data, n);
          return true;
        }
        out.raw.append(data, n);
        if (!parser.feed(data, n, out, on_frame)) {
          stopped = true;
          return false;
        }
        if (Clock::now() > deadline) {
          ADD_FAILURE() << "SSE stream " << path << " still open after " << limit.count() << " s: " << brief(out.raw);
          return false;
        }
        return true;
      });
  if (res) {
    out.ended_by_server = true;
    EXPECT_TRUE(parser.pending().empty()) << "stream ended inside a frame: " << parser.pending();
    if (out.status == 0) out.status = res->status;
  } else {
    out.error = res.error();
    // Only our own hang-up (Canceled) is expected; anything else is a failure of the server.
    EXPECT_TRUE(stopped && res.error() == httplib::Error::Canceled)
        << "SSE read of " << path << " failed: " << httplib::to_string(res.error());
  }
  return out;
}

// Checks the frames against the contract: ids 1.. rising by 1 from `first_id`, `event:` equal to the
// envelope type, `data:` the envelope {"id","stream","type","ts","data"} of `stream`. Returns the
// envelopes.
inline std::vector<json> check_frames(const SseRead& r, const std::string& stream, int64_t first_id = 1) {
  std::vector<json> out;
  int64_t expect_id = first_id;
  for (const auto& f : r.events) {
    EXPECT_EQ(f.id, std::to_string(expect_id)) << r.raw;
    json env = parse_json(f.data);
    EXPECT_TRUE(env.is_object()) << f.data;
    if (!env.is_object()) return out;
    std::set<std::string> keys;
    for (const auto& [k, v] : env.items()) keys.insert(k);
    EXPECT_EQ(keys, (std::set<std::string>{"id", "stream", "type", "ts", "data"})) << f.data;
    EXPECT_EQ(env["id"], expect_id) << f.data;
    EXPECT_EQ(env["stream"], stream) << f.data;
    EXPECT_EQ(env["type"], f.event) << f.data;
    EXPECT_TRUE(env["ts"].is_string() && env["ts"].get<std::string>().size() >= 20) << f.data;
    EXPECT_TRUE(env["data"].is_object()) << f.data;
    out.push_back(std::move(env));
    ++expect_id;
  }
  return out;
}

struct HarnessOptions {
  std::string api_token;
  size_t max_body_bytes = 1U << 20U;
  int threads = 16;
  std::string web_root;
  bool sql_guard = false;              // wire the SQL guard as the safe-mode validator
  query::SqlValidator safe_validator;  // or this one

  HarnessOptions& with_token(std::string t) {
    api_token = std::move(t);
    return *this;
  }
  HarnessOptions& with_max_body_bytes(size_t n) {
    max_body_bytes = n;
    return *this;
  }
  HarnessOptions& with_threads(int n) {
    threads = n;
    return *this;
  }
  HarnessOptions& with_web_root(std::string dir) {
    web_root = std::move(dir);
    return *this;
  }
  HarnessOptions& with_sql_guard() {
    sql_guard = true;
    return *this;
  }
  HarnessOptions& with_safe_validator(query::SqlValidator v) {
    safe_validator = std::move(v);
    return *this;
  }
};

// The services and the server, built the way App::serve wires them, on a temp data dir.
class ApiHarness {
 public:
  explicit ApiHarness(HarnessOptions options = {}) : options_(std::move(options)) {}
  ~ApiHarness() { stop(); }
  ApiHarness(const ApiHarness&) = delete;
  ApiHarness& operator=(const ApiHarness&) = delete;

  // Builds every service on the data dir (reusing what an earlier start left there) and serves.
  void start() {
    auto s = store::Store::open(dir_ / "pluto.sqlite");
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(s).value();
    ASSERT_TRUE(events::EventBus::migrate(*store_).ok());
    ASSERT_TRUE(jobs::JobRunner::migrate(*store_).ok());
    warehouse::WarehouseOptions wo;
    wo.path = (dir_ / "warehouse.duckdb").string();
    wo.pool_size = 4;
    wo.threads = 2;
    wo.home_directory = dir_.str();
    auto w = warehouse::Warehouse::open(wo);
    ASSERT_TRUE(w.ok()) << w.error().message;
    wh_ = std::move(w).value();
    bus_ = std::make_unique<events::EventBus>(store_.get());
    runner_ = std::make_unique<jobs::JobRunner>(store_.get(), *bus_);
    query::ServiceOptions qo;
    qo.results_dir = dir_ / "results";
    qo.default_timeout_ms = 60000;
    qo.default_max_rows = 1000;
    queries_ = std::make_unique<query::QueryService>(qo, *store_, *wh_, *runner_);
    catalog_ = std::make_unique<actions::Catalog>();
    query::SqlValidator safe;
    if (options_.sql_guard) safe = query::sql_guard_validator();
    if (options_.safe_validator) safe = options_.safe_validator;
    actions::register_query_actions(*catalog_, *queries_, safe);

    api::ServerOptions so;
    so.host = "127.0.0.1";
    so.port = 0;
    so.api_token = options_.api_token;
    so.max_body_bytes = options_.max_body_bytes;
    so.sse_heartbeat_seconds = 1;
    so.threads = options_.threads;
    so.web_root = options_.web_root;
    // Ingestion, dbt and agent are left out: their routes are not registered (their suites cover them).
    api::Services services{*queries_, *runner_, *bus_, *wh_, *catalog_};
    auto srv = api::Server::create(so, std::move(services));
    ASSERT_TRUE(srv.ok()) << srv.error().message;
    server_ = std::move(srv).value();
    auto port = server_->bind();
    ASSERT_TRUE(port.ok()) << port.error().message;
    port_ = port.value();
    thread_ = std::thread([this] { serve_status_ = server_->serve(); });
    // listen_after_bind() starts accepting right away; wait until a request is answered.
    auto cli = client();
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (Clock::now() < deadline) {
      httplib::Headers h;
      if (!options_.api_token.empty()) h.emplace("Authorization", "Bearer " + options_.api_token);
      if (auto r = cli->Get("/api/v1/health", h); r && r->status == 200) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    FAIL() << "the server did not answer on port " << port_;
  }

  void stop() {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
    if (server_) {
      EXPECT_TRUE(serve_status_.ok()) << serve_status_.error().message;
    }
    server_.reset();
    if (runner_) runner_->shutdown();
    catalog_.reset();
    queries_.reset();
    runner_.reset();
    bus_.reset();
    wh_.reset();
    store_.reset();
  }

  // Stops everything and starts again on the same data dir (a restart of the process).
  void restart() {
    stop();
    start();
  }

  int port() const { return port_; }
  std::unique_ptr<httplib::Client> client() const {
    auto c = make_client(port_);
    if (!options_.api_token.empty()) c->set_bearer_token_auth(options_.api_token.c_str());
    return c;
  }
  const testing::TempDir& dir() const { return dir_; }
  store::Store& store() { return *store_; }
  warehouse::Warehouse& warehouse() { return *wh_; }
  events::EventBus& bus() { return *bus_; }
  jobs::JobRunner& jobs() { return *runner_; }
  query::QueryService& queries() { return *queries_; }

  // Runs SQL straight on the warehouse (test setup).
  void exec(const std::string& sql) {
    auto lease = wh_->pool().acquire();
    ASSERT_TRUE(lease.ok()) << lease.error().message;
    auto st = lease.value()->run(sql);
    ASSERT_TRUE(st.ok()) << sql << ": " << st.error().message;
  }

 private:
  HarnessOptions options_;
  testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<warehouse::Warehouse> wh_;
  std::unique_ptr<events::EventBus> bus_;
  std::unique_ptr<jobs::JobRunner> runner_;
  std::unique_ptr<query::QueryService> queries_;
  std::unique_ptr<actions::Catalog> catalog_;
  std::unique_ptr<api::Server> server_;
  std::thread thread_;
  Status serve_status_;
  int port_ = 0;
};

// A job whose pace the test controls: it emits "<kind>.tick" events when told, and ends when
// released (or cancelled). It never emits on its own, so its stream stays idle in between.
class ControlledJob {
 public:
  explicit ControlledJob(jobs::JobRunner& runner, std::string kind = "testjob") {
    jobs::JobSpec spec;
    spec.kind = std::move(kind);
    spec.origin = "api";
    spec.access = jobs::Access::none;
    spec.params = {{"purpose", "contract test"}};
    auto state = state_;
    const std::string tick_type = spec.kind + ".tick";
    info_ = runner.submit(std::move(spec), [state, tick_type](jobs::JobContext& ctx) -> Result<nlohmann::json> {
      std::unique_lock lock(state->mu);
      state->started = true;
      state->cv.notify_all();
      int emitted = 0;
      while (true) {
        state->cv.wait_for(lock, std::chrono::milliseconds(5),
                           [&] { return state->ticks > emitted || state->released || ctx.cancelled(); });
        while (state->ticks > emitted) {
          ++emitted;
          lock.unlock();
          ctx.emit(tick_type, {{"n", emitted}});
          lock.lock();
        }
        if (ctx.cancelled()) return Error(ErrorCode::cancelled, "test job cancelled");
        if (state->released) return nlohmann::json{{"ticks", emitted}};
      }
    });
  }
  const jobs::JobInfo& info() const { return info_; }
  const std::string& id() const { return info_.id; }
  void tick(int n = 1) {
    std::lock_guard lock(state_->mu);
    state_->ticks += n;
    state_->cv.notify_all();
  }
  void release() {
    std::lock_guard lock(state_->mu);
    state_->released = true;
    state_->cv.notify_all();
  }
  bool wait_started(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(state_->mu);
    return state_->cv.wait_for(lock, timeout, [&] { return state_->started; });
  }

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    int ticks = 0;
    bool released = false;
    bool started = false;
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
  jobs::JobInfo info_;
};

// Polls GET /api/v1/query/{id} until `pred` holds for the status (hang bound: `limit`).
inline json poll_run(httplib::Client& cli, const std::string& run_id,
                     const std::function<bool(const std::string&)>& pred,
                     std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  const auto deadline = Clock::now() + limit;
  json last;
  while (Clock::now() < deadline) {
    auto r = cli.Get("/api/v1/query/" + run_id);
    if (r && r->status == 200) {
      last = json::parse(r->body);
      if (pred(last["status"].get<std::string>())) return last;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ADD_FAILURE() << "run " << run_id << " did not reach the expected status; last: " << last.dump();
  return last;
}

inline bool is_final_status(const std::string& s) {
  return s != "queued" && s != "running";
}

// Waits until the run is running, then a little longer so that DuckDB is executing its statement
// (the run shows `running` a few milliseconds before DuckDB starts; the service reports no finer
// state, and DuckDB's progress is only reported after a while, if at all).
inline json wait_executing(httplib::Client& cli, const std::string& run_id) {
  json j = poll_run(cli, run_id, [](const std::string& s) { return s != "queued"; });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  return j;
}

}  // namespace pluto::api_test
