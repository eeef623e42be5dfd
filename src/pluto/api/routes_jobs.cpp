#include "pluto/api/routes.hpp"
#include "pluto/api/sse.hpp"
#include "pluto/jobs/job_runner.hpp"

namespace pluto::api {

void register_job_routes(Router& r, Services& s, const ServerOptions& o) {
  r.get("/api/v1/jobs",
        {"Recent jobs (queries, ingestion, dbt, agent), newest first",
         nullptr,
         {{{"name", "kind"}, {"in", "query"}, {"required", false}, {"schema", {{"type", "string"}}}},
          {{"name", "limit"}, {"in", "query"}, {"required", false}, {"schema", {{"type", "integer"}}}}}},
        [&s](const httplib::Request& req, httplib::Response& res) {
          auto limit = query_int(req, "limit");
          if (!limit.ok()) return send_error(res, limit.error());
          const int64_t n = limit.value().value_or(50);
          // A negative limit would reach SQLite as "no limit".
          if (n < 1 || n > 1000) return send_error(res, Error(ErrorCode::invalid_argument, "limit must be 1..1000"));
          auto list = nlohmann::json::array();
          for (const auto& j : s.jobs.list(req.get_param_value("kind"), static_cast<size_t>(n))) {
            list.push_back(j.to_json());
          }
          send_json(res, {{"jobs", list}});
        });
  r.get("/api/v1/jobs/{id}", {"A job's status, result or error", nullptr, nlohmann::json::array(), {200, 404}},
        [&s](const httplib::Request& req, httplib::Response& res) {
          auto j = s.jobs.get(req.matches[1].str());
          if (!j.ok()) return send_error(res, j.error());
          send_json(res, j->to_json());
        });
  r.get("/api/v1/jobs/{id}/events",
        {"Server-Sent Events of a job (Last-Event-ID resumes)",
         nullptr,
         nlohmann::json::array(),
         {200, 404},
         "text/event-stream"},
        [&s, heartbeat = o.sse_heartbeat_seconds](const httplib::Request& req, httplib::Response& res) {
          auto j = s.jobs.get(req.matches[1].str());
          if (!j.ok()) return send_error(res, j.error());
          serve_sse(req, res, s.events, j->stream, heartbeat);
        });
  r.post("/api/v1/jobs/{id}/cancel",
         {"Cancel a queued or running job", nullptr, nlohmann::json::array(), {202, 404, 409}},
         [&s](const httplib::Request& req, httplib::Response& res) {
           auto st = s.jobs.cancel(req.matches[1].str());
           if (!st.ok()) return send_error(res, st.error());
           send_json(res, {{"id", req.matches[1].str()}, {"status", "cancelling"}}, 202);
         });
}

}  // namespace pluto::api
