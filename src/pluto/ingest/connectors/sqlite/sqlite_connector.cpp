#include "pluto/ingest/connectors/sqlite/sqlite_connector.hpp"

#include <unistd.h>

#include <filesystem>
#include <sstream>

#include "pluto/ingest/path_policy.hpp"
#include "pluto/ingest/sql_util.hpp"

namespace pluto::ingest {
namespace fs = std::filesystem;
using warehouse::quote_identifier;
using warehouse::quote_literal;

namespace {

// Checks the file (and, for HTTP requests, that it lies in an allowed directory); returns its path.
Result<std::string> checked_database(const SourceRef& source, const ConnectorSettings& settings) {
  std::string path = source.location;
  if (settings.restrict_paths) {
    PLUTO_ASSIGN_OR_RETURN(fs::path p, check_allowed_path(path, settings.allowed_dirs));
    path = p.string();
  }
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    return Error(ErrorCode::unavailable, "cannot open SQLite database " + source.location + ": no such file",
                 "check the path (write it as sqlite:/path/to/file.db)");
  }
  if (::access(path.c_str(), R_OK) != 0) {
    return Error(ErrorCode::unavailable, "cannot open SQLite database " + source.location + ": permission denied",
                 "check the file's permissions");
  }
  return path;
}

Status attach_sqlite(warehouse::Connection& conn, const SourceRef& source, const std::string& alias,
                     const ConnectorSettings& settings) {
  PLUTO_ASSIGN_OR_RETURN(std::string path, checked_database(source, settings));
  PLUTO_TRY(load_extension(conn, "sqlite"));
  auto st = conn.run("ATTACH " + quote_literal(path) + " AS " + quote_identifier(alias) + " (TYPE sqlite, READ_ONLY)");
  if (!st.ok()) return classify_source_error(st.take_error(), SourceKind::sqlite, source.display());
  return {};
}

class SqliteSession final : public SourceSession {
 public:
  SqliteSession(warehouse::Connection& conn, SourceRef source, std::string alias)
      : conn_(conn), source_(std::move(source)), alias_(std::move(alias)) {}
  ~SqliteSession() override { (void)conn_.run("DETACH DATABASE IF EXISTS " + quote_identifier(alias_)); }
  SqliteSession(const SqliteSession&) = delete;
  SqliteSession& operator=(const SqliteSession&) = delete;

  Result<std::vector<Relation>> relations(const ReadSpec& spec) override {
    if (!spec.schema.empty()) {
      return Error(ErrorCode::invalid_argument, "SQLite databases have no schemas (--source-schema)",
                   "pass --source-table TABLE, --source-table '*' or --query SQL");
    }
    std::vector<Relation> out;
    if (!spec.query.empty()) {
      if (!spec.tables.empty()) {
        return Error(ErrorCode::invalid_argument, "--query cannot be combined with --source-table",
                     "give either a query or tables");
      }
      Relation r;
      r.object = "query: " + spec.query;
      r.default_name = "query";
      r.select_sql = "SELECT * FROM sqlite_query(" + quote_literal(alias_) + ", " + quote_literal(spec.query) + ")";
      out.push_back(std::move(r));
      return out;
    }
    PLUTO_ASSIGN_OR_RETURN(auto objects, list_objects());
    std::vector<std::string> wanted;
    if (spec.tables.size() == 1 && spec.tables.front() == "*") {
      for (const auto& o : objects) {
        if (o.kind == "table") wanted.push_back(o.name);
      }
      if (wanted.empty()) {
        return Error(ErrorCode::not_found, "no tables in SQLite database " + source_.display(),
                     "check that this is the right file");
      }
    } else if (spec.tables.empty()) {
      return Error(ErrorCode::invalid_argument, "say what to read from " + source_.display(),
                   "pass --source-table TABLE ('*' for all) or --query SQL");
    } else {
      for (const auto& t : spec.tables) {
        bool found = false;
        for (const auto& o : objects) found = found || o.name == t;
        if (!found) {
          return Error(ErrorCode::not_found, "SQLite table '" + t + "' not found in " + source_.display(),
                       "list the tables with `pluto-duck sources tables NAME` or `sqlite3 FILE .tables`");
        }
        wanted.push_back(t);
      }
    }
    for (const auto& t : wanted) {
      Relation r;
      r.object = t;
      r.default_name = t;
      r.select_sql = "SELECT * FROM " + quote_identifier(alias_) + ".main." + quote_identifier(t);
      out.push_back(std::move(r));
    }
    if (out.size() == 1 && wanted.size() == 1) {
      std::error_code ec;
      const auto size = fs::file_size(source_.location, ec);
      if (!ec) out.front().bytes = static_cast<int64_t>(size);
    }
    return out;
  }

  Result<std::vector<SourceObject>> list_objects() override {
    PLUTO_ASSIGN_OR_RETURN(
        auto rows, query_rows(conn_,
                              "SELECT table_name, 'table' FROM duckdb_tables() WHERE database_name = $1 UNION ALL "
                              "SELECT view_name, 'view' FROM duckdb_views() WHERE database_name = $1 AND NOT internal "
                              "ORDER BY 1",
                              {alias_}));
    std::vector<SourceObject> out;
    for (auto& r : rows) out.push_back({"", r[0].value_or(""), r[1].value_or(""), std::nullopt});
    return out;
  }

  Result<std::string> test() override {
    PLUTO_ASSIGN_OR_RETURN(auto version, query_value(conn_, "SELECT * FROM sqlite_query(" + quote_literal(alias_) +
                                                                ", 'SELECT sqlite_version()')"));
    PLUTO_ASSIGN_OR_RETURN(auto objects, list_objects());
    std::ostringstream o;
    o << "opened SQLite " << version.value_or("?") << " database; " << objects.size() << " tables and views";
    return o.str();
  }

 private:
  warehouse::Connection& conn_;
  SourceRef source_;
  std::string alias_;
};

class SqliteConnector final : public Connector {
 public:
  SourceKind kind() const override { return SourceKind::sqlite; }

  Result<std::unique_ptr<SourceSession>> open(warehouse::Connection& conn, const SourceRef& source,
                                              const ConnectorSettings& settings) const override {
    const std::string alias = "__pluto_src_" + settings.session_id;
    PLUTO_TRY(attach_sqlite(conn, source, alias, settings));
    return std::unique_ptr<SourceSession>(std::make_unique<SqliteSession>(conn, source, alias));
  }

  Status attach(warehouse::Connection& conn, const SourceRef& source, const std::string& alias,
                const ConnectorSettings& settings) const override {
    return attach_sqlite(conn, source, alias, settings);
  }
};

}  // namespace

std::unique_ptr<Connector> make_sqlite_connector() {
  return std::make_unique<SqliteConnector>();
}

}  // namespace pluto::ingest
