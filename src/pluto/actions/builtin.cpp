#include "pluto/actions/builtin.hpp"

#include "pluto/warehouse/warehouse.hpp"
#include "pluto/warehouse/writers.hpp"

namespace pluto::actions {
namespace {

using nlohmann::json;

json view_json(const query::QueryResultView& v) {
  return json::parse(v.to_json());
}

json table_info_json(const warehouse::TableInfo& t) {
  return {{"database", t.database},
          {"schema", t.schema},
          {"name", t.name},
          {"kind", t.kind},
          {"row_count", t.row_count ? json(*t.row_count) : json()},
          {"column_count", t.column_count},
          {"comment", t.comment}};
}

}  // namespace

void register_query_actions(Catalog& catalog, query::QueryService& queries, const query::SqlValidator& safe_validator) {
  const json run_view_schema = {
      {"type", "object"},
      {"properties",
       {{"run_id", {{"type", "string"}}},
        {"status",
         {{"type", "string"},
          {"enum", {"queued", "running", "succeeded", "failed", "cancelled", "timed_out", "interrupted"}}}},
        {"columns", {{"type", "array"}}},
        {"rows", {{"type", "array"}}},
        {"row_count", {{"type", {"integer", "null"}}}},
        {"truncated", {{"type", "boolean"}}},
        {"duration_ms", {{"type", {"integer", "null"}}}},
        {"error", {{"type", {"object", "null"}}}}}}};

  catalog.add({"query.run",
               "Run SQL against the warehouse and return the first rows. mode \"safe\" refuses anything but one "
               "read-only SELECT over catalog tables (no files, network or settings).",
               {{"type", "object"},
                {"required", {"sql"}},
                {"additionalProperties", false},
                {"properties",
                 {{"sql", {{"type", "string"}, {"description", "the SQL to run"}}},
                  {"timeout_ms", {{"type", "integer"}, {"minimum", 1}}},
                  {"max_rows", {{"type", "integer"}, {"minimum", 0}}},
                  {"mode", {{"type", "string"}, {"enum", {"default", "safe"}}}}}}},
               run_view_schema,
               [&queries, safe_validator](const json& p, ActionContext& ctx) -> Result<json> {
                 query::QueryRequest r;
                 r.sql = p["sql"].get<std::string>();
                 if (p.contains("timeout_ms")) r.timeout_ms = p["timeout_ms"].get<int64_t>();
                 if (p.contains("max_rows")) r.max_rows = p["max_rows"].get<int64_t>();
                 r.origin = ctx.origin;
                 if (p.value("mode", "default") == "safe" || ctx.origin == "agent") {
                   if (!safe_validator) {
                     return Error(ErrorCode::unavailable, "safe mode is not available in this build");
                   }
                   r.validator = safe_validator;
                 }
                 PLUTO_ASSIGN_OR_RETURN(auto submitted, queries.submit(std::move(r)));
                 // Cancelling the caller (e.g. an agent run) cancels the query.
                 CancelScope scope(ctx.cancel, [&queries, id = submitted.run_id] { (void)queries.cancel(id); });
                 PLUTO_ASSIGN_OR_RETURN(auto v, queries.wait(submitted.run_id));
                 return view_json(v);
               },
               /*read_only=*/false});

  catalog.add({"query.cancel",
               "Cancel a queued or running query.",
               {{"type", "object"},
                {"required", {"run_id"}},
                {"additionalProperties", false},
                {"properties", {{"run_id", {{"type", "string"}}}}}},
               {{"type", "object"}, {"properties", {{"cancelled", {{"type", "boolean"}}}}}},
               [&queries](const json& p, ActionContext&) -> Result<json> {
                 PLUTO_TRY(queries.cancel(p["run_id"].get<std::string>()));
                 return json{{"cancelled", true}};
               }});

  catalog.add({"query.status",
               "Status, timings and first rows of a query run.",
               {{"type", "object"},
                {"required", {"run_id"}},
                {"additionalProperties", false},
                {"properties", {{"run_id", {{"type", "string"}}}}}},
               run_view_schema,
               [&queries](const json& p, ActionContext&) -> Result<json> {
                 PLUTO_ASSIGN_OR_RETURN(auto v, queries.get(p["run_id"].get<std::string>()));
                 return view_json(v);
               }});

  catalog.add({"table.list",
               "List the tables and views of the warehouse (and attached sources) with row counts.",
               {{"type", "object"}, {"additionalProperties", false}, {"properties", json::object()}},
               {{"type", "object"}, {"properties", {{"tables", {{"type", "array"}}}}}},
               [&queries](const json&, ActionContext& ctx) -> Result<json> {
                 std::vector<warehouse::TableInfo> tables;
                 PLUTO_TRY(queries.with_connection(
                     [&](warehouse::Connection& c) -> Status {
                       PLUTO_ASSIGN_OR_RETURN(tables, warehouse::list_tables(c));
                       return {};
                     },
                     ctx.cancel));
                 json out = json::array();
                 for (const auto& t : tables) out.push_back(table_info_json(t));
                 return json{{"tables", out}};
               }});

  catalog.add(
      {"table.describe",
       "Columns (name, type, nullable, comment), row count and definition of one table or view.",
       {{"type", "object"},
        {"required", {"table"}},
        {"additionalProperties", false},
        {"properties", {{"table", {{"type", "string"}, {"description", "table, schema.table or db.schema.table"}}}}}},
       {{"type", "object"}},
       [&queries](const json& p, ActionContext& ctx) -> Result<json> {
         warehouse::TableDetail d;
         PLUTO_TRY(queries.with_connection(
             [&](warehouse::Connection& c) -> Status {
               PLUTO_ASSIGN_OR_RETURN(d, warehouse::describe_table(c, p["table"].get<std::string>()));
               return {};
             },
             ctx.cancel));
         json cols = json::array();
         for (const auto& c : d.columns) {
           cols.push_back({{"name", c.name},
                           {"type", c.type},
                           {"nullable", c.nullable},
                           {"default", c.default_value.empty() ? json() : json(c.default_value)},
                           {"comment", c.comment}});
         }
         json out = table_info_json(d.table);
         out["columns"] = cols;
         out["definition"] = d.definition;
         return out;
       }});

  catalog.add(
      {"table.sample",
       "A few rows of a table or view (default 10, at most 1000).",
       {{"type", "object"},
        {"required", {"table"}},
        {"additionalProperties", false},
        {"properties",
         {{"table", {{"type", "string"}}}, {"limit", {{"type", "integer"}, {"minimum", 1}, {"maximum", 1000}}}}}},
       {{"type", "object"}, {"properties", {{"columns", {{"type", "array"}}}, {"rows", {{"type", "array"}}}}}},
       // Read on a pooled connection, not as a query run: browsing the catalog leaves no history
       // entries, jobs or stored results behind.
       [&queries](const json& p, ActionContext& ctx) -> Result<json> {
         json out;
         PLUTO_TRY(queries.with_connection(
             [&](warehouse::Connection& c) -> Status {
               PLUTO_ASSIGN_OR_RETURN(auto d, warehouse::describe_table(c, p["table"].get<std::string>()));
               // Resolved through the catalog and quoted part by part: the name cannot carry SQL.
               const std::string sql = "SELECT * FROM " + warehouse::quote_identifier(d.table.database) + "." +
                                       warehouse::quote_identifier(d.table.schema) + "." +
                                       warehouse::quote_identifier(d.table.name) + " LIMIT " +
                                       std::to_string(p.value("limit", 10));
               CancelScope interrupt(ctx.cancel, [&c] { c.interrupt(); });
               PLUTO_ASSIGN_OR_RETURN(auto result, c.execute(sql));
               std::string rows;
               warehouse::WriteOptions wo;
               wo.format = warehouse::OutputFormat::json_arrays;
               PLUTO_ASSIGN_OR_RETURN(auto summary, warehouse::write_result(result, wo, warehouse::string_sink(rows)));
               json columns = json::array();
               for (const auto& col : summary.columns) columns.push_back({{"name", col.name}, {"type", col.type}});
               out = {{"columns", std::move(columns)}, {"rows", json::parse(rows)}};
               return {};
             },
             ctx.cancel));
         return out;
       }});
}

}  // namespace pluto::actions
