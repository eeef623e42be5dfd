#include "pluto/api/client.hpp"

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <thread>

namespace pluto::api {
namespace {

Error http_error(const std::string& what, const httplib::Result& res) {
  if (!res) {
    return Error(ErrorCode::unavailable, what + ": " + httplib::to_string(res.error()),
                 "is `pluto-duck serve` running at that URL?");
  }
  auto body = nlohmann::json::parse(res->body, nullptr, false);
  std::string message = what + ": HTTP " + std::to_string(res->status);
  std::string hint;
  if (body.is_object() && body.contains("error")) {
    message = body["error"].value("message", message);
    hint = body["error"].value("hint", "");
  }
  switch (res->status) {
    case 401:
      return Error(ErrorCode::unauthenticated, message, hint.empty() ? "set PLUTODUCK_SERVER__API_TOKEN" : hint);
    case 403: return Error(ErrorCode::permission_denied, message, hint);
    case 404: return Error(ErrorCode::not_found, message, hint);
    case 400: return Error(ErrorCode::invalid_argument, message, hint);
    default: return Error(ErrorCode::unavailable, message, hint);
  }
}

}  // namespace

Result<RemoteOutcome> run_remote_query(const RemoteQuery& q, const std::function<Status(std::string_view)>& sink) {
  httplib::Client cli(q.url);
  if (!cli.is_valid()) {
    return Error(ErrorCode::invalid_argument, "invalid server URL '" + q.url + "'", "use e.g. http://127.0.0.1:8123");
  }
  cli.set_connection_timeout(5, 0);
  cli.set_tcp_nodelay(true);
  cli.set_read_timeout(3600, 0);
  httplib::Headers headers;
  if (!q.token.empty()) headers.emplace("Authorization", "Bearer " + q.token);

  nlohmann::json body{{"sql", q.sql}, {"async", true}};
  if (q.timeout_ms) body["timeout_ms"] = *q.timeout_ms;
  auto submitted = cli.Post("/api/v1/query", headers, body.dump(), "application/json");
  if (!submitted || submitted->status != 202) return http_error("cannot submit the query", submitted);
  const auto sub = nlohmann::json::parse(submitted->body, nullptr, false);
  RemoteOutcome out;
  out.run_id = sub.value("run_id", "");

  // Poll the run (cheap, and simpler than holding an SSE stream); cancel on interrupt.
  bool cancel_sent = false;
  nlohmann::json view;
  while (true) {
    if (q.interrupt != nullptr && q.interrupt->load() && !cancel_sent) {
      (void)cli.Post("/api/v1/query/" + out.run_id + "/cancel", headers, "", "application/json");
      cancel_sent = true;
    }
    auto st = cli.Get("/api/v1/query/" + out.run_id, headers);
    if (!st || st->status != 200) return http_error("cannot read the run", st);
    view = nlohmann::json::parse(st->body, nullptr, false);
    const std::string status = view.value("status", "");
    if (status != "queued" && status != "running") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  out.status = view.value("status", "");
  if (view.contains("error") && view["error"].is_object()) {
    out.error_code = view["error"].value("code", "");
    out.error_message = view["error"].value("message", "");
  }
  if (out.status != "succeeded") return out;
  if (!view.value("spooled", false)) {
    // Not a stored SELECT result (DDL, INSERT…): the inline rows are the whole answer.
    PLUTO_TRY(sink(view["rows"].dump()));
    return out;
  }
  Status sink_status;
  auto dl = cli.Get("/api/v1/query/" + out.run_id + "?format=" + q.format, headers, [&](const char* data, size_t n) {
    sink_status = sink(std::string_view(data, n));
    return sink_status.ok();
  });
  if (!sink_status.ok()) return sink_status.take_error();
  if (!dl || dl->status != 200) return http_error("cannot download the result", dl);
  return out;
}

}  // namespace pluto::api
