#include "pluto/agent/agent_service.hpp"
#include "pluto/api/routes.hpp"
#include "pluto/api/sse.hpp"

namespace pluto::api {

void register_agent_routes(Router& r, Services& s, const ServerOptions& o) {
  auto& agent = *s.agent;
  r.post("/api/v1/agent/run",
         {"Ask a question in plain language; 202 {run_id, conversation_id, events_url}",
          {{"type", "object"},
           {"required", {"question"}},
           {"properties",
            {{"question", {{"type", "string"}}},
             {"conversation_id", {{"type", "string"}}},
             {"provider", {{"type", "string"}}},
             {"model", {{"type", "string"}}}}}},
          nlohmann::json::array(),
          {202, 400, 404}},
         [&agent](const httplib::Request& req, httplib::Response& res) {
           auto body = json_body(req);
           if (!body.ok()) return send_error(res, body.error());
           auto request = agent::AgentRequest::from_json(body.value());
           if (!request.ok()) return send_error(res, request.error());
           auto info = agent.submit(std::move(request).value());
           if (!info.ok()) return send_error(res, info.error());
           send_json(res, info->to_json(), 202);
         });
  r.get("/api/v1/agent/{run_id}",
        {"An agent run: status, plan, SQL, answer, checkpoints", nullptr, nlohmann::json::array(), {200, 404}},
        [&agent](const httplib::Request& req, httplib::Response& res) {
          auto v = agent.get(req.matches[1].str());
          if (!v.ok()) return send_error(res, v.error());
          send_json(res, v->to_json());
        });
  r.get("/api/v1/agent/{run_id}/events",
        {"Server-Sent Events of an agent run (Last-Event-ID resumes)",
         nullptr,
         nlohmann::json::array(),
         {200, 404},
         "text/event-stream"},
        [&s, &agent, heartbeat = o.sse_heartbeat_seconds](const httplib::Request& req, httplib::Response& res) {
          const std::string id = req.matches[1].str();
          auto v = agent.get(id);
          if (!v.ok()) return send_error(res, v.error());
          serve_sse(req, res, s.events, "agent/" + id, heartbeat);
        });
  r.post("/api/v1/agent/{run_id}/cancel",
         {"Stop an agent run and its running query", nullptr, nlohmann::json::array(), {202, 404, 409}},
         [&agent](const httplib::Request& req, httplib::Response& res) {
           auto st = agent.cancel(req.matches[1].str());
           if (!st.ok()) return send_error(res, st.error());
           send_json(res, {{"run_id", req.matches[1].str()}, {"status", "cancelling"}}, 202);
         });
  r.post("/api/v1/agent/{run_id}/resume",
         {"Continue a run that did not finish (interrupted, cancelled, failed) from its last checkpoint; 202 with "
          "the new run",
          nullptr,
          nlohmann::json::array(),
          {202, 404, 409}},
         [&agent](const httplib::Request& req, httplib::Response& res) {
           auto info = agent.resume(req.matches[1].str(), "api");
           if (!info.ok()) return send_error(res, info.error());
           send_json(res, info->to_json(), 202);
         });
  r.get("/api/v1/agent/conversations/{id}",
        {"A conversation: its questions, SQL and answers", nullptr, nlohmann::json::array(), {200, 404}},
        [&agent](const httplib::Request& req, httplib::Response& res) {
          auto c = agent.conversation(req.matches[1].str());
          if (!c.ok()) return send_error(res, c.error());
          send_json(res, c->to_json());
        });
}

}  // namespace pluto::api
