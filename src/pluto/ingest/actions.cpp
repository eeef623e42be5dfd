#include "pluto/ingest/actions.hpp"

#include "pluto/ingest/ingest_service.hpp"
#include "pluto/jobs/job_runner.hpp"

namespace pluto::ingest {
using nlohmann::json;

namespace {

json string_schema(const std::string& description) {
  return {{"type", "string"}, {"description", description}};
}

json source_schema() {
  return {{"type", "object"},
          {"properties",
           {{"name", string_schema("saved source name")},
            {"kind", {{"type", "string"}, {"enum", {"files", "postgres", "sqlite"}}}},
            {"location", string_schema("path, glob, sqlite file or PostgreSQL URI without password")},
            {"password", string_schema("where the password comes from: none, stored or env:VAR (never the value)")},
            {"attached", {{"type", "boolean"}}},
            {"created_at", string_schema("RFC 3339")},
            {"updated_at", string_schema("RFC 3339")}}}};
}

json ingest_params_schema() {
  const json str_or_list = {{"oneOf", {{{"type", "string"}}, {{"type", "array"}, {"items", {{"type", "string"}}}}}}};
  json options = {
      {"cursor", string_schema("incremental: column that only grows")},
      {"key", str_or_list},
      {"source_table", str_or_list},
      {"source_schema", string_schema("PostgreSQL: every table of this schema")},
      {"query", string_schema("database sources: a query in the source's SQL")},
      {"schema", string_schema("target schema (default main)")},
      {"evolve", {{"type", "boolean"}}},
      {"format", {{"type", "string"}, {"enum", {"auto", "csv", "tsv", "parquet", "json", "ndjson"}}}},
      {"delimiter", {{"type", "string"}}},
      {"quote", {{"type", "string"}}},
      {"escape", {{"type", "string"}}},
      {"header", {{"type", "boolean"}}},
      {"column_types", {{"type", "object"}, {"additionalProperties", {{"type", "string"}}}}},
      {"date_format", {{"type", "string"}}},
      {"timestamp_format", {{"type", "string"}}},
      {"null_string", {{"type", "string"}}},
      {"compression", {{"type", "string"}, {"enum", {"auto", "gzip", "zstd", "none"}}}},
      {"skip_lines", {{"type", "integer"}, {"minimum", 0}}},
      {"all_text", {{"type", "boolean"}}},
      {"quoted_nulls", {{"type", "boolean"}}},
      {"skip_bad_rows", {{"type", "boolean"}}},
  };
  return {{"type", "object"},
          {"required", {"source"}},
          {"additionalProperties", false},
          {"properties",
           {{"source", string_schema("path, glob, directory, postgresql:// URI, sqlite:PATH or saved source name")},
            {"table", string_schema("target table (a prefix when several tables are loaded)")},
            {"mode", {{"type", "string"}, {"enum", {"replace", "append", "incremental", "merge"}}}},
            {"options", {{"type", "object"}, {"additionalProperties", false}, {"properties", options}}}}}};
}

}  // namespace

std::vector<ActionSpec> action_specs() {
  return {
      {"source.list",
       "List the saved data sources (files, PostgreSQL, SQLite); never shows passwords.",
       {{"type", "object"}, {"properties", json::object()}, {"additionalProperties", false}},
       {{"type", "object"}, {"properties", {{"sources", {{"type", "array"}, {"items", source_schema()}}}}}}},
      {"source.tables",
       "List the tables and views of a saved source (or the files a path or glob matches).",
       {{"type", "object"},
        {"required", {"source"}},
        {"additionalProperties", false},
        {"properties", {{"source", string_schema("saved source name, URI, sqlite:PATH or path")}}}},
       {{"type", "object"},
        {"properties",
         {{"source", {{"type", "string"}}},
          {"tables",
           {{"type", "array"},
            {"items",
             {{"type", "object"},
              {"properties",
               {{"schema", {{"type", {"string", "null"}}}},
                {"name", {{"type", "string"}}},
                {"kind", {{"type", "string"}, {"enum", {"table", "view", "file"}}}},
                {"bytes", {{"type", {"integer", "null"}}}}}}}}}}}}}},
      {"source.ingest",
       "Load a source into a warehouse table (replace, append, incremental or merge) as a background job.",
       ingest_params_schema(),
       {{"type", "object"},
        {"properties",
         {{"job_id", {{"type", "string"}}},
          {"status", {{"type", "string"}}},
          {"stream", {{"type", "string"}}},
          {"events_url", {{"type", "string"}}}}}}},
  };
}

Result<json> source_list(IngestService& service, const json& params) {
  if (!params.is_null() && (!params.is_object() || !params.empty())) {
    return Error(ErrorCode::invalid_argument, "source.list takes no parameters", "call it with {}");
  }
  PLUTO_ASSIGN_OR_RETURN(auto sources, service.list_sources());
  json out = json::array();
  for (const auto& s : sources) out.push_back(s.to_json());
  return json{{"sources", out}};
}

Result<json> source_tables(IngestService& service, const json& params) {
  if (!params.is_object() || !params.contains("source") || !params["source"].is_string()) {
    return Error(ErrorCode::invalid_argument, "source.tables needs {\"source\": NAME}",
                 "pass a saved source name (see source.list)");
  }
  const std::string source = params["source"].get<std::string>();
  PLUTO_ASSIGN_OR_RETURN(auto objects, service.source_tables(source));
  json tables = json::array();
  for (const auto& o : objects) tables.push_back(o.to_json());
  return json{{"source", redact_source(source)}, {"tables", tables}};
}

Result<json> source_ingest(IngestService& service, jobs::JobRunner& runner, const json& params,
                           const std::string& origin, bool restrict_paths) {
  PLUTO_ASSIGN_OR_RETURN(IngestRequest request, IngestRequest::from_json(params));
  request.origin = origin;
  request.restrict_paths = restrict_paths;
  PLUTO_ASSIGN_OR_RETURN(jobs::JobInfo info, service.submit(runner, request));
  return json{{"job_id", info.id},
              {"status", jobs::to_string(info.status)},
              {"stream", info.stream},
              {"events_url", "/api/v1/jobs/" + info.id + "/events"}};
}

}  // namespace pluto::ingest
