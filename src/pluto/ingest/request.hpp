#pragma once
// What an ingestion is asked to do: the request a route handler, the CLI or an action builds, in
// one struct, with its JSON form ({"source","table","mode"?,"options"?}).
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pluto/core/error.hpp"

namespace pluto::ingest {

// replace: the new table appears whole, in one commit. append: rows are added. incremental: only
// rows whose cursor column is beyond the stored high-water mark. merge: rows replace those with the
// same key, others are added.
enum class LoadMode { replace, append, incremental, merge };
std::string_view to_string(LoadMode mode);
Result<LoadMode> parse_load_mode(std::string_view name);

enum class FileFormat { auto_detect, csv, parquet, json };
std::string_view to_string(FileFormat format);
Result<FileFormat> parse_file_format(std::string_view name);

// Overrides for DuckDB's CSV sniffer and file readers; unset fields are detected.
struct FileOptions {
  FileFormat format = FileFormat::auto_detect;
  std::optional<std::string> delimiter;             // e.g. "," ";" "\t" "|"
  std::optional<std::string> quote;                 // e.g. "\"" or "'"
  std::optional<std::string> escape;                // e.g. "\"" or "\\"
  std::optional<bool> header;                       // first line holds column names
  std::map<std::string, std::string> column_types;  // column -> DuckDB type ("amount" -> "DECIMAL(12,2)")
  std::optional<std::string> date_format;           // strptime format, e.g. "%d/%m/%Y"
  std::optional<std::string> timestamp_format;      // e.g. "%d/%m/%Y %H:%M"
  std::optional<std::string> null_string;           // text read as NULL (default: empty)
  std::optional<std::string> compression;           // auto (default), gzip, zstd, none
  std::optional<int64_t> skip_lines;                // lines skipped at the top of each file
  bool all_text = false;                            // every column VARCHAR (no type detection)
  bool quoted_nulls = true;                         // a quoted empty value ("") is NULL, as DuckDB does by default
  bool skip_bad_rows = false;                       // rows that do not parse are skipped and counted instead of failing

  nlohmann::json to_json() const;
};

struct IngestRequest {
  std::string source;  // path, glob, directory, postgres:// URI, sqlite:PATH, or a saved source name
  std::string table;   // target table; a name prefix when several source tables are loaded
  std::string schema;  // target schema; empty: main
  LoadMode mode = LoadMode::replace;
  std::string cursor;                      // incremental: the column that only grows (id, updated_at…)
  std::vector<std::string> keys;           // merge: the key column(s)
  std::vector<std::string> source_tables;  // database sources: tables ("schema.table" or "table"); "*" for all
  std::string source_schema;               // PostgreSQL: every table of this schema
  std::string query;                       // database sources: a query in the source's own SQL
  FileOptions file;
  bool evolve = false;  // append/incremental/merge: add new columns and widen changed types
  // Set by the HTTP surface: file paths must lie under ingest.allowed_dirs.
  bool restrict_paths = false;
  std::string origin = "api";  // api, cli, agent: who asked (recorded with the run)

  // {"source","table","mode"?,"options"?{…}}: options hold every other field, in snake_case
  // ("cursor","key" (string or array),"source_table" (string or array),"source_schema","query","schema",
  // "evolve","format","delimiter","quote","escape","header","column_types","date_format",
  // "timestamp_format","null_string","compression","skip_lines","all_text","quoted_nulls",
  // "skip_bad_rows"). Unknown options are an error naming them.
  static Result<IngestRequest> from_json(const nlohmann::json& body);
  // The request as JSON, with any password in `source` removed (safe for job params and logs).
  nlohmann::json to_json() const;
};

}  // namespace pluto::ingest
