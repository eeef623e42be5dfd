#include "pluto/api/routes.hpp"
#include "pluto/transform/dbt_service.hpp"

namespace pluto::api {

void register_dbt_routes(Router& r, Services& s, const ServerOptions& /*o*/) {
  auto& dbt = *s.dbt;
  r.post("/api/v1/dbt/run",
         {"Run dbt (run|test|build|seed) as a job with exclusive warehouse access; 202 with job id and events",
          {{"type", "object"},
           {"properties",
            {{"command", {{"type", "string"}, {"enum", {"run", "test", "build", "seed"}}}},
             {"select", {{"type", {"string", "array"}}}},
             {"exclude", {{"type", {"string", "array"}}}},
             {"vars", {{"type", {"string", "object"}}}},
             {"full_refresh", {{"type", "boolean"}}},
             {"wait", {{"type", "boolean"}}}}}},
          nlohmann::json::array(),
          {202, 400, 409, 503}},
         [&dbt](const httplib::Request& req, httplib::Response& res) {
           auto body = json_body(req);
           if (!body.ok()) return send_error(res, body.error());
           auto request = transform::DbtRequest::from_json(body.value());
           if (!request.ok()) return send_error(res, request.error());
           request.value().origin = "api";
           auto sub = dbt.submit(std::move(request).value());
           if (!sub.ok()) return send_error(res, sub.error());
           send_json(res, sub->to_json(), 202);
         });
  r.get("/api/v1/dbt/runs", {"dbt runs, newest first"}, [&dbt](const httplib::Request& req, httplib::Response& res) {
    auto limit = query_int(req, "limit");
    if (!limit.ok()) return send_error(res, limit.error());
    auto runs = dbt.list_runs(limit.value().value_or(20));
    if (!runs.ok()) return send_error(res, runs.error());
    auto list = nlohmann::json::array();
    for (const auto& run : runs.value()) list.push_back(run.to_json());
    send_json(res, {{"runs", list}});
  });
  r.get("/api/v1/dbt/runs/{id}", {"A dbt run with per-node results", nullptr, nlohmann::json::array(), {200, 404}},
        [&dbt](const httplib::Request& req, httplib::Response& res) {
          auto run = dbt.get_run(req.matches[1].str());
          if (!run.ok()) return send_error(res, run.error());
          send_json(res, run->to_json());
        });
  r.post("/api/v1/dbt/runs/{id}/cancel", {"Stop a running dbt run", nullptr, nlohmann::json::array(), {202, 404, 409}},
         [&dbt](const httplib::Request& req, httplib::Response& res) {
           auto st = dbt.cancel(req.matches[1].str());
           if (!st.ok()) return send_error(res, st.error());
           send_json(res, {{"run_id", req.matches[1].str()}, {"status", "cancelling"}}, 202);
         });
  r.get("/api/v1/dbt/manifest",
        {"Models, seeds, sources and tests of the project, with last status",
         nullptr,
         nlohmann::json::array(),
         {200, 404}},
        [&dbt](const httplib::Request&, httplib::Response& res) {
          auto m = dbt.manifest();
          if (!m.ok()) return send_error(res, m.error());
          send_json(res, m.value());
        });
  r.get("/api/v1/dbt/models", {"Models (filter with ?q= and ?resource_type=)"},
        [&dbt](const httplib::Request& req, httplib::Response& res) {
          auto m = dbt.models(req.get_param_value("q"), req.get_param_value("resource_type"));
          if (!m.ok()) return send_error(res, m.error());
          send_json(res, m.value());
        });
  r.get("/api/v1/dbt/lineage/{node}",
        {"Parents and children of a model (?depth=, 0: all)", nullptr, nlohmann::json::array(), {200, 404}},
        [&dbt](const httplib::Request& req, httplib::Response& res) {
          auto depth = query_int(req, "depth");
          if (!depth.ok()) return send_error(res, depth.error());
          auto l = dbt.lineage(req.matches[1].str(), static_cast<int>(depth.value().value_or(0)));
          if (!l.ok()) return send_error(res, l.error());
          send_json(res, l.value());
        });
}

}  // namespace pluto::api
