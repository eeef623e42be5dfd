#include "pluto/ingest/request.hpp"

#include <set>

#include "pluto/ingest/source.hpp"

namespace pluto::ingest {

std::string_view to_string(LoadMode mode) {
  switch (mode) {
    case LoadMode::replace: return "replace";
    case LoadMode::append: return "append";
    case LoadMode::incremental: return "incremental";
    case LoadMode::merge: return "merge";
  }
  return "replace";
}

Result<LoadMode> parse_load_mode(std::string_view name) {
  for (auto m : {LoadMode::replace, LoadMode::append, LoadMode::incremental, LoadMode::merge}) {
    if (to_string(m) == name) return m;
  }
  return Error(ErrorCode::invalid_argument, "unknown load mode '" + std::string(name) + "'",
               "use replace, append, incremental or merge");
}

std::string_view to_string(FileFormat format) {
  switch (format) {
    case FileFormat::auto_detect: return "auto";
    case FileFormat::csv: return "csv";
    case FileFormat::parquet: return "parquet";
    case FileFormat::json: return "json";
  }
  return "auto";
}

Result<FileFormat> parse_file_format(std::string_view name) {
  if (name == "tsv") return FileFormat::csv;
  if (name == "ndjson" || name == "jsonl") return FileFormat::json;
  for (auto f : {FileFormat::auto_detect, FileFormat::csv, FileFormat::parquet, FileFormat::json}) {
    if (to_string(f) == name) return f;
  }
  return Error(ErrorCode::invalid_argument, "unknown file format '" + std::string(name) + "'",
               "use auto, csv, tsv, parquet, json or ndjson");
}

nlohmann::json FileOptions::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  if (format != FileFormat::auto_detect) j["format"] = to_string(format);
  if (delimiter) j["delimiter"] = *delimiter;
  if (quote) j["quote"] = *quote;
  if (escape) j["escape"] = *escape;
  if (header) j["header"] = *header;
  if (!column_types.empty()) j["column_types"] = column_types;
  if (date_format) j["date_format"] = *date_format;
  if (timestamp_format) j["timestamp_format"] = *timestamp_format;
  if (null_string) j["null_string"] = *null_string;
  if (compression) j["compression"] = *compression;
  if (skip_lines) j["skip_lines"] = *skip_lines;
  if (all_text) j["all_text"] = true;
  if (!quoted_nulls) j["quoted_nulls"] = false;
  if (skip_bad_rows) j["skip_bad_rows"] = true;
  return j;
}

namespace {

Error bad_field(const std::string& field, const std::string& expected) {
  return Error(ErrorCode::invalid_argument, "\"" + field + "\" must be " + expected,
               "see the source.ingest action's parameter schema (GET /api/v1/actions)");
}

Result<std::string> get_string(const nlohmann::json& j, const std::string& field) {
  if (!j.is_string()) return bad_field(field, "a string");
  return j.get<std::string>();
}

Result<bool> get_bool(const nlohmann::json& j, const std::string& field) {
  if (!j.is_boolean()) return bad_field(field, "true or false");
  return j.get<bool>();
}

// A string or an array of strings.
Result<std::vector<std::string>> get_strings(const nlohmann::json& j, const std::string& field) {
  std::vector<std::string> out;
  if (j.is_string()) {
    out.push_back(j.get<std::string>());
    return out;
  }
  if (!j.is_array()) return bad_field(field, "a string or an array of strings");
  for (const auto& v : j) {
    if (!v.is_string()) return bad_field(field, "a string or an array of strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

Status apply_option(IngestRequest& r, const std::string& key, const nlohmann::json& v) {
  FileOptions& f = r.file;
  if (key == "cursor") {
    PLUTO_ASSIGN_OR_RETURN(r.cursor, get_string(v, key));
  } else if (key == "key" || key == "keys") {
    PLUTO_ASSIGN_OR_RETURN(r.keys, get_strings(v, key));
  } else if (key == "source_table" || key == "source_tables") {
    PLUTO_ASSIGN_OR_RETURN(r.source_tables, get_strings(v, key));
  } else if (key == "source_schema") {
    PLUTO_ASSIGN_OR_RETURN(r.source_schema, get_string(v, key));
  } else if (key == "query") {
    PLUTO_ASSIGN_OR_RETURN(r.query, get_string(v, key));
  } else if (key == "schema") {
    PLUTO_ASSIGN_OR_RETURN(r.schema, get_string(v, key));
  } else if (key == "evolve") {
    PLUTO_ASSIGN_OR_RETURN(r.evolve, get_bool(v, key));
  } else if (key == "format") {
    PLUTO_ASSIGN_OR_RETURN(std::string s, get_string(v, key));
    PLUTO_ASSIGN_OR_RETURN(f.format, parse_file_format(s));
  } else if (key == "delimiter") {
    PLUTO_ASSIGN_OR_RETURN(f.delimiter, get_string(v, key));
  } else if (key == "quote") {
    PLUTO_ASSIGN_OR_RETURN(f.quote, get_string(v, key));
  } else if (key == "escape") {
    PLUTO_ASSIGN_OR_RETURN(f.escape, get_string(v, key));
  } else if (key == "header") {
    PLUTO_ASSIGN_OR_RETURN(f.header, get_bool(v, key));
  } else if (key == "column_types") {
    if (!v.is_object()) return bad_field(key, "an object of column name to DuckDB type");
    for (const auto& [col, type] : v.items()) {
      if (!type.is_string()) return bad_field(key + "." + col, "a DuckDB type name such as \"BIGINT\"");
      f.column_types[col] = type.get<std::string>();
    }
  } else if (key == "date_format") {
    PLUTO_ASSIGN_OR_RETURN(f.date_format, get_string(v, key));
  } else if (key == "timestamp_format") {
    PLUTO_ASSIGN_OR_RETURN(f.timestamp_format, get_string(v, key));
  } else if (key == "null_string") {
    PLUTO_ASSIGN_OR_RETURN(f.null_string, get_string(v, key));
  } else if (key == "compression") {
    PLUTO_ASSIGN_OR_RETURN(f.compression, get_string(v, key));
  } else if (key == "skip_lines") {
    if (!v.is_number_integer() || v.get<int64_t>() < 0) return bad_field(key, "a whole number >= 0");
    f.skip_lines = v.get<int64_t>();
  } else if (key == "all_text") {
    PLUTO_ASSIGN_OR_RETURN(f.all_text, get_bool(v, key));
  } else if (key == "quoted_nulls") {
    PLUTO_ASSIGN_OR_RETURN(f.quoted_nulls, get_bool(v, key));
  } else if (key == "skip_bad_rows") {
    PLUTO_ASSIGN_OR_RETURN(f.skip_bad_rows, get_bool(v, key));
  } else {
    return Error(ErrorCode::invalid_argument, "unknown ingest option \"" + key + "\"",
                 "known options: cursor, key, source_table, source_schema, query, schema, evolve, format, delimiter, "
                 "quote, escape, header, column_types, date_format, timestamp_format, null_string, compression, "
                 "skip_lines, all_text, quoted_nulls, skip_bad_rows");
  }
  return {};
}

}  // namespace

Result<IngestRequest> IngestRequest::from_json(const nlohmann::json& body) {
  if (!body.is_object()) {
    return Error(ErrorCode::invalid_argument, "the ingest request must be a JSON object",
                 "send {\"source\": \"…\", \"table\": \"…\", \"mode\": \"replace\", \"options\": {…}}");
  }
  static const std::set<std::string> kTop = {"source", "table", "mode", "options"};
  for (const auto& [key, value] : body.items()) {
    if (kTop.count(key) == 0) {
      return Error(ErrorCode::invalid_argument, "unknown field \"" + key + "\" in the ingest request",
                   "top-level fields are source, table, mode and options; everything else goes in options");
    }
  }
  IngestRequest r;
  if (!body.contains("source")) return bad_field("source", "given (a path, glob, URI or saved source name)");
  PLUTO_ASSIGN_OR_RETURN(r.source, get_string(body["source"], "source"));
  if (body.contains("table")) {
    PLUTO_ASSIGN_OR_RETURN(r.table, get_string(body["table"], "table"));
  }
  if (body.contains("mode")) {
    PLUTO_ASSIGN_OR_RETURN(std::string mode, get_string(body["mode"], "mode"));
    PLUTO_ASSIGN_OR_RETURN(r.mode, parse_load_mode(mode));
  }
  if (body.contains("options")) {
    const auto& opts = body["options"];
    if (!opts.is_object()) return bad_field("options", "an object");
    for (const auto& [key, value] : opts.items()) PLUTO_TRY(apply_option(r, key, value));
  }
  return r;
}

nlohmann::json IngestRequest::to_json() const {
  nlohmann::json options = file.to_json();
  if (!cursor.empty()) options["cursor"] = cursor;
  if (!keys.empty()) options["key"] = keys;
  if (!source_tables.empty()) options["source_table"] = source_tables;
  if (!source_schema.empty()) options["source_schema"] = source_schema;
  if (!query.empty()) options["query"] = query;
  if (!schema.empty()) options["schema"] = schema;
  if (evolve) options["evolve"] = true;
  return nlohmann::json{
      {"source", redact_source(source)}, {"table", table}, {"mode", to_string(mode)}, {"options", options}};
}

}  // namespace pluto::ingest
