#include "pluto/actions/catalog.hpp"
#include "pluto/api/routes.hpp"

namespace pluto::api {

void register_catalog_routes(Router& r, Services& s, const ServerOptions& /*o*/) {
  r.get("/api/v1/catalog/tables", {"Tables and views of the warehouse and attached sources"},
        [&s](const httplib::Request&, httplib::Response& res) {
          actions::ActionContext ctx;
          auto out = s.actions.invoke("table.list", nlohmann::json::object(), ctx);
          if (!out.ok()) return send_error(res, out.error());
          send_json(res, out.value());
        });
  r.get("/api/v1/catalog/tables/{name}",
        {"One table: columns, row count, definition, a sample, and what other components know (origin, lineage)",
         nullptr, nlohmann::json::array(), {200, 404}},
        [&s](const httplib::Request& req, httplib::Response& res) {
          const std::string name = req.matches[1].str();
          actions::ActionContext ctx;
          auto d = s.actions.invoke("table.describe", {{"table", name}}, ctx);
          if (!d.ok()) return send_error(res, d.error());
          nlohmann::json out = d.value();
          auto sample = s.actions.invoke("table.sample", {{"table", name}, {"limit", 10}}, ctx);
          out["sample"] = sample.ok() ? sample.value() : nlohmann::json();
          // Components that know more about tables (ingestion origin, dbt lineage) add it here.
          for (const auto* a : s.actions.list()) {
            if (a->name.ends_with(".table_info")) {
              auto extra = s.actions.invoke(a->name, {{"table", name}}, ctx);
              if (extra.ok() && !extra.value().is_null()) out[a->name.substr(0, a->name.find('.'))] = extra.value();
            }
          }
          send_json(res, out);
        });
}

}  // namespace pluto::api
