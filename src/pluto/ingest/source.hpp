#pragma once
// Where data comes from: a SOURCE string (path, glob, directory, postgres:// URI, sqlite:PATH) parsed
// into a SourceRef. A password found in a URI is split off into SourceRef::password, which is never
// logged, stored in a run record or returned; everything else about a source is safe to show.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pluto/core/error.hpp"

namespace pluto::ingest {

enum class SourceKind { files, postgres, sqlite };
std::string_view to_string(SourceKind kind);
Result<SourceKind> parse_source_kind(std::string_view name);

struct SourceRef {
  SourceKind kind = SourceKind::files;
  // files: the path, glob or directory; postgres: the URI without its password; sqlite: the file path.
  std::string location;
  std::string password;    // postgres only; never shown
  std::string saved_name;  // set when the source is a saved one
  // What to show in logs, runs and answers: "location" or "name (location)".
  std::string display() const;
};

// A PostgreSQL connection without its password, as libpq keywords.
struct PostgresTarget {
  std::string host;
  std::string port;
  std::string user;
  std::string database;
  std::vector<std::pair<std::string, std::string>> params;  // sslmode, application_name…
  // postgresql://user@host:port/db?params (no password).
  std::string uri() const;
  // "host='…' port='…' user='…' dbname='…' …" for libpq, with `connect_timeout` appended when > 0.
  std::string keyword_string(int connect_timeout_seconds) const;
};

// Parses postgres:// and postgresql:// URIs (percent-decoding user, password, database and
// parameters; a `password` parameter counts as the password).
Result<PostgresTarget> parse_postgres_uri(std::string_view uri, std::string* password);

bool is_postgres_uri(std::string_view source);
bool is_sqlite_source(std::string_view source);  // "sqlite:PATH"

// Classifies a SOURCE string (saved source names are resolved by the service, not here): a
// postgres:// URI, sqlite:PATH, a file that starts with SQLite's header, else files.
Result<SourceRef> parse_source(std::string_view source);

// The SOURCE string with any password removed, for job params, logs and run records.
std::string redact_source(std::string_view source);
// RFC 3986 percent-encoding of everything but unreserved characters (URI user names, databases…).
std::string percent_encode(std::string_view s);

// Saved source names: a letter, then letters, digits or '_' (at most 63); they double as the
// database name when the source is attached, so they must not clash with DuckDB's own.
Status check_source_name(std::string_view name);

}  // namespace pluto::ingest
