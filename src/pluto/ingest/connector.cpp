#include "pluto/ingest/connector.hpp"

#include "pluto/ingest/connectors/files/files_connector.hpp"
#include "pluto/ingest/connectors/postgres/postgres_connector.hpp"
#include "pluto/ingest/connectors/sqlite/sqlite_connector.hpp"

namespace pluto::ingest {

namespace {
bool contains(const std::string& s, std::string_view needle) {
  return s.find(needle) != std::string::npos;
}
}  // namespace

nlohmann::json SourceObject::to_json() const {
  nlohmann::json j{{"name", name}, {"kind", kind}};
  j["schema"] = schema.empty() ? nlohmann::json() : nlohmann::json(schema);
  j["bytes"] = bytes ? nlohmann::json(*bytes) : nlohmann::json();
  return j;
}

Status Connector::attach(warehouse::Connection& /*conn*/, const SourceRef& source, const std::string& /*alias*/,
                         const ConnectorSettings& /*settings*/) const {
  return Error(ErrorCode::invalid_argument, std::string(to_string(source.kind)) + " sources cannot be attached",
               "attach works for PostgreSQL and SQLite sources; load files with `pluto-duck ingest`");
}

Status Connector::detach(warehouse::Connection& conn, const std::string& alias) const {
  return conn.run("DETACH DATABASE IF EXISTS " + warehouse::quote_identifier(alias));
}

ConnectorRegistry ConnectorRegistry::with_builtin() {
  ConnectorRegistry r;
  r.add(make_files_connector());
  r.add(make_postgres_connector());
  r.add(make_sqlite_connector());
  return r;
}

void ConnectorRegistry::add(std::unique_ptr<Connector> connector) {
  connectors_.push_back(std::move(connector));
}

const Connector* ConnectorRegistry::find(SourceKind kind) const {
  for (const auto& c : connectors_) {
    if (c->kind() == kind) return c.get();
  }
  return nullptr;
}

Error classify_source_error(Error error, SourceKind kind, const std::string& what) {
  // Only DuckDB's generic failures need a closer look; anything else is classified already.
  if (error.code != ErrorCode::sql_error) return error;
  const std::string& m = error.message;
  if (kind == SourceKind::postgres) {
    if (contains(m, "password authentication failed") || contains(m, "no password supplied") ||
        contains(m, "authentication failed") || contains(m, "fe_sendauth")) {
      return Error(ErrorCode::unauthenticated, "PostgreSQL rejected the credentials for " + what + ": " + m,
                   "check the user and password; save them with `pluto-duck sources add NAME URI --password-env "
                   "VAR` or put the password in the URI");
    }
    if (contains(m, "timeout expired")) {
      return Error(ErrorCode::unavailable, "cannot reach PostgreSQL at " + what + " (connect timeout): " + m,
                   "check the host and port and that the server accepts TCP connections; the limit is "
                   "ingest.connect_timeout_seconds");
    }
    if (contains(m, "Unable to connect to Postgres") || contains(m, "Connection refused") ||
        contains(m, "could not translate host name") || contains(m, "No route to host") ||
        contains(m, "Network is unreachable") || contains(m, "server closed the connection")) {
      if (contains(m, "does not exist")) {
        return Error(ErrorCode::not_found, "PostgreSQL at " + what + " answered, but: " + m,
                     "check the database name in the URI");
      }
      return Error(ErrorCode::unavailable, "cannot reach PostgreSQL at " + what + ": " + m,
                   "check the host and port and that the server is running and accepts TCP connections");
    }
  }
  if (kind == SourceKind::sqlite && (contains(m, "unable to open database") || contains(m, "file is not a database"))) {
    return Error(ErrorCode::unavailable, "cannot open SQLite database " + what + ": " + m,
                 "check that the file is a SQLite database you can read");
  }
  if (contains(m, "IO Error") && (contains(m, "No such file") || contains(m, "No files found"))) {
    return Error(ErrorCode::unavailable, "cannot read " + what + ": " + m, "check the path");
  }
  if (contains(m, "Permission denied")) {
    return Error(ErrorCode::unavailable, "cannot read " + what + ": " + m, "check the file's permissions");
  }
  return error;
}

Status load_extension(warehouse::Connection& conn, const std::string& extension) {
  auto st = conn.run("LOAD " + warehouse::quote_identifier(extension));
  if (!st.ok()) {
    return Error(ErrorCode::unavailable, "cannot load DuckDB's " + extension + " extension: " + st.error().message,
                 "run scripts/setup (it puts the pinned extensions in third_party/duckdb/extensions) or point "
                 "warehouse.extension_directory at a directory holding them");
  }
  return {};
}

}  // namespace pluto::ingest
