#include "pluto/actions/catalog.hpp"
#include "pluto/api/routes.hpp"
#include "pluto/warehouse/warehouse.hpp"

namespace pluto::api {

void register_system_routes(Router& r, Services& s, const ServerOptions& /*o*/) {
  r.get("/api/v1/health", {"Liveness and versions"}, [&s](const httplib::Request&, httplib::Response& res) {
    send_json(res, {{"status", "ok"},
                    {"version", PLUTO_VERSION},
                    {"duckdb", warehouse::Warehouse::duckdb_version()},
                    {"warehouse", s.warehouse.is_open() ? "open" : "closed for an exclusive job"}});
  });
  r.get("/api/v1/actions", {"The actions catalog: names, descriptions, JSON Schemas"},
        [&s](const httplib::Request&, httplib::Response& res) { send_json(res, s.actions.describe()); });
  r.post("/api/v1/actions/{name}",
         {"Invoke an action with its parameters (body: the params object)", {{"type", "object"}}, {}, {200, 400, 404}},
         [&s](const httplib::Request& req, httplib::Response& res) {
           nlohmann::json params = nlohmann::json::object();
           if (!req.body.empty()) {
             auto b = json_body(req);
             if (!b.ok()) return send_error(res, b.error());
             params = b.value();
           }
           actions::ActionContext ctx;
           ctx.origin = "api";
           auto out = s.actions.invoke(req.matches[1].str(), params, ctx);
           if (!out.ok()) return send_error(res, out.error());
           send_json(res, out.value());
         });
}

}  // namespace pluto::api
