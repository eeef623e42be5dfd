#pragma once
// The Connector interface and registry. A connector knows one kind of source (files, postgres,
// sqlite): it opens a SourceSession on a warehouse connection (loading its DuckDB extension and
// attaching the database), which names the relations to load as SELECTs DuckDB runs itself, so
// data streams from the source into the warehouse without passing through our code.
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pluto/core/error.hpp"
#include "pluto/ingest/request.hpp"
#include "pluto/ingest/source.hpp"
#include "pluto/warehouse/duckdb_api.hpp"

namespace pluto::ingest {

struct ConnectorSettings {
  int connect_timeout_seconds = 10;
  bool restrict_paths = false;  // files must lie under allowed_dirs
  std::vector<std::filesystem::path> allowed_dirs;
  std::string session_id;  // unique, identifier-safe; names the session's temporary objects
};

// Which part of the source to read.
struct ReadSpec {
  std::vector<std::string> tables;  // "schema.table" or "table"; "*" for all
  std::string schema;               // every table of this schema
  std::string query;                // in the source's own SQL
  FileOptions file;
};

// One relation to load: a SELECT over the source, runnable on the session's connection.
struct Relation {
  std::string object;        // what it reads: "public.orders", "query", a file path or glob
  std::string default_name;  // target name when several relations are loaded ("orders")
  std::string select_sql;
  std::optional<int64_t> bytes;          // size of what is read, when known
  std::optional<int64_t> rows_estimate;  // rows it holds (exact or estimated), for progress
  std::string rejects_table;             // CSV with skip_bad_rows: temporary table of rejected lines
};

struct SourceObject {
  std::string schema;  // empty for files
  std::string name;
  std::string kind;  // table, view, file
  std::optional<int64_t> bytes;
  nlohmann::json to_json() const;
};

class SourceSession {
 public:
  virtual ~SourceSession() = default;
  // The relations `spec` asks for; an unknown table is ErrorCode::not_found naming it.
  virtual Result<std::vector<Relation>> relations(const ReadSpec& spec) = 0;
  virtual Result<std::vector<SourceObject>> list_objects() = 0;
  // A quick check that the source answers; returns a one-line description.
  virtual Result<std::string> test() = 0;
  // Rewrites a load error into one naming the file and line, when the connector can tell.
  virtual Error explain(const Relation& relation, Error error) {
    (void)relation;
    return error;
  }
};

class Connector {
 public:
  virtual ~Connector() = default;
  virtual SourceKind kind() const = 0;
  // Opens `source` on `conn`. The session uses `conn` until it is destroyed (and then detaches
  // what it attached), so it must not outlive the connection's lease.
  virtual Result<std::unique_ptr<SourceSession>> open(warehouse::Connection& conn, const SourceRef& source,
                                                      const ConnectorSettings& settings) const = 0;
  // Live federation: attaches `source` read-only as database `alias` until detach(). Files cannot.
  virtual Status attach(warehouse::Connection& conn, const SourceRef& source, const std::string& alias,
                        const ConnectorSettings& settings) const;
  virtual Status detach(warehouse::Connection& conn, const std::string& alias) const;
};

class ConnectorRegistry {
 public:
  // files, postgres and sqlite.
  static ConnectorRegistry with_builtin();
  void add(std::unique_ptr<Connector> connector);
  const Connector* find(SourceKind kind) const;

 private:
  std::vector<std::unique_ptr<Connector>> connectors_;
};

// Maps DuckDB/libpq failure text to an error code and a hint: authentication failures become
// unauthenticated, unreachable servers unavailable. `what` names the source in the message.
Error classify_source_error(Error error, SourceKind kind, const std::string& what);

// LOAD of a pinned extension (postgres, sqlite) from warehouse.extension_directory.
Status load_extension(warehouse::Connection& conn, const std::string& extension);

}  // namespace pluto::ingest
