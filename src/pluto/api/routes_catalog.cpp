#include "pluto/actions/catalog.hpp"
#include "pluto/api/routes.hpp"
#ifdef PLUTO_HAS_INGEST
#include "pluto/ingest/ingest_service.hpp"
#endif
#ifdef PLUTO_HAS_TRANSFORM
#include "pluto/transform/dbt_service.hpp"
#endif

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
         nullptr,
         nlohmann::json::array(),
         {200, 404}},
        [&s](const httplib::Request& req, httplib::Response& res) {
          const std::string name = req.matches[1].str();
          actions::ActionContext ctx;
          auto d = s.actions.invoke("table.describe", {{"table", name}}, ctx);
          if (!d.ok()) return send_error(res, d.error());
          nlohmann::json out = d.value();
          auto sample = s.actions.invoke("table.sample", {{"table", name}, {"limit", 10}}, ctx);
          out["sample"] = sample.ok() ? sample.value() : nlohmann::json();
          // What ingestion (origin, last load, high-water mark) and dbt (model, tests, lineage) know.
          out["ingestion"] = nullptr;
#ifdef PLUTO_HAS_INGEST
          if (s.ingest != nullptr) {
            auto lineage = s.ingest->table_lineage(out.value("name", name));
            if (lineage.ok()) out["ingestion"] = lineage.value();
          }
#endif
          out["dbt"] = nullptr;
#ifdef PLUTO_HAS_TRANSFORM
          if (s.dbt != nullptr) {
            auto info = s.dbt->table_info(out.value("name", name));
            if (info.ok() && info.value()) out["dbt"] = *info.value();
          }
#endif
          send_json(res, out);
        });
}

}  // namespace pluto::api
