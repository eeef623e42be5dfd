#include "pluto/ingest/connectors/postgres/postgres_connector.hpp"

#include <charconv>
#include <sstream>

#include "pluto/ingest/sql_util.hpp"

namespace pluto::ingest {
using warehouse::quote_identifier;
using warehouse::quote_literal;

namespace {

std::string secret_name(const std::string& alias) {
  return "__pluto_secret_" + alias;
}

// Loads the extension, registers the password as a temporary secret and attaches read-only.
Status attach_postgres(warehouse::Connection& conn, const SourceRef& source, const std::string& alias,
                       const ConnectorSettings& settings) {
  PLUTO_TRY(load_extension(conn, "postgres"));
  PLUTO_ASSIGN_OR_RETURN(PostgresTarget target, parse_postgres_uri(source.location, nullptr));
  std::string options = "TYPE postgres, READ_ONLY";
  if (!source.password.empty()) {
    PLUTO_TRY(conn.run("CREATE OR REPLACE TEMPORARY SECRET " + quote_identifier(secret_name(alias)) +
                       " (TYPE postgres, PASSWORD " + quote_literal(source.password) + ")"));
    options += ", SECRET " + quote_identifier(secret_name(alias));
  }
  auto st = conn.run("ATTACH " + quote_literal(target.keyword_string(settings.connect_timeout_seconds)) + " AS " +
                     quote_identifier(alias) + " (" + options + ")");
  if (!st.ok()) {
    (void)conn.run("DROP TEMPORARY SECRET IF EXISTS " + quote_identifier(secret_name(alias)));
    return classify_source_error(st.take_error(), SourceKind::postgres, source.display());
  }
  return {};
}

void detach_postgres(warehouse::Connection& conn, const std::string& alias) {
  (void)conn.run("DETACH DATABASE IF EXISTS " + quote_identifier(alias));
  (void)conn.run("DROP TEMPORARY SECRET IF EXISTS " + quote_identifier(secret_name(alias)));
}

// Splits "schema.table" (a table name without a dot is in `default_schema`).
std::pair<std::string, std::string> split_table(const std::string& name, const std::string& default_schema) {
  const auto dot = name.find('.');
  if (dot == std::string::npos) return {default_schema, name};
  return {name.substr(0, dot), name.substr(dot + 1)};
}

// Tables, partitioned tables, foreign tables, views and materialized views outside the system
// schemas (partitions are read through their parent), with size and the planner's row estimate.
constexpr const char* kObjectsPgSql =
    "SELECT n.nspname, c.relname, CASE WHEN c.relkind IN ('v', 'm') THEN 'view' ELSE 'table' END AS kind, "
    "CASE WHEN c.relkind IN ('r', 'p', 'm') THEN pg_table_size(c.oid) END AS bytes, "
    "CASE WHEN c.relkind IN ('r', 'm') AND c.reltuples >= 0 THEN c.reltuples::bigint END AS rows "
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition "
    "AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%' "
    "ORDER BY 1, 2";

std::optional<int64_t> to_int(const std::optional<std::string>& v) {
  int64_t out = 0;
  if (!v || std::from_chars(v->data(), v->data() + v->size(), out).ec != std::errc{}) return std::nullopt;
  return out;
}

class PostgresSession final : public SourceSession {
 public:
  PostgresSession(warehouse::Connection& conn, SourceRef source, std::string alias)
      : conn_(conn), source_(std::move(source)), alias_(std::move(alias)) {}
  ~PostgresSession() override { detach_postgres(conn_, alias_); }
  PostgresSession(const PostgresSession&) = delete;
  PostgresSession& operator=(const PostgresSession&) = delete;

  Result<std::vector<Relation>> relations(const ReadSpec& spec) override {
    std::vector<Relation> out;
    if (!spec.query.empty()) {
      if (!spec.tables.empty() || !spec.schema.empty()) {
        return Error(ErrorCode::invalid_argument, "--query cannot be combined with --source-table or --source-schema",
                     "give either a query or tables");
      }
      Relation r;
      r.object = "query: " + spec.query;
      r.default_name = "query";
      r.select_sql = "SELECT * FROM postgres_query(" + quote_literal(alias_) + ", " + quote_literal(spec.query) + ")";
      out.push_back(std::move(r));
      return out;
    }
    PLUTO_ASSIGN_OR_RETURN(auto objects, fetch_objects());
    std::vector<const PgObject*> wanted;
    const bool all = spec.tables.size() == 1 && spec.tables.front() == "*";
    if (!spec.schema.empty() || all) {
      for (const auto& o : objects) {
        if (o.object.kind != "table") continue;
        if (!spec.schema.empty() && o.object.schema != spec.schema) continue;
        wanted.push_back(&o);
      }
      if (wanted.empty()) {
        return Error(ErrorCode::not_found,
                     spec.schema.empty() ? "no tables in " + source_.display()
                                         : "no tables in schema '" + spec.schema + "' of " + source_.display(),
                     "list what there is with `pluto-duck sources tables NAME`");
      }
    } else if (spec.tables.empty()) {
      return Error(ErrorCode::invalid_argument, "say what to read from " + source_.display(),
                   "pass --source-table TABLE (schema.table, or '*' for all), --source-schema SCHEMA or --query SQL");
    } else {
      for (const auto& t : spec.tables) {
        auto [schema, table] = split_table(t, "public");
        const PgObject* found = nullptr;
        for (const auto& o : objects) {
          if (o.object.schema == schema && o.object.name == table) found = &o;
        }
        if (found == nullptr) {
          return Error(ErrorCode::not_found,
                       "PostgreSQL table " + schema + "." + table + " not found in " + source_.display(),
                       "list the tables with `pluto-duck sources tables NAME`; names are case-sensitive");
        }
        wanted.push_back(found);
      }
    }
    for (const PgObject* o : wanted) {
      const std::string& schema = o->object.schema;
      const std::string& table = o->object.name;
      Relation r;
      r.object = schema + "." + table;
      r.default_name = schema == "public" || !spec.schema.empty() ? table : schema + "_" + table;
      r.select_sql =
          "SELECT * FROM " + quote_identifier(alias_) + "." + quote_identifier(schema) + "." + quote_identifier(table);
      r.bytes = o->object.bytes;
      r.rows_estimate = o->rows;
      out.push_back(std::move(r));
    }
    return out;
  }

  Result<std::vector<SourceObject>> list_objects() override {
    PLUTO_ASSIGN_OR_RETURN(auto objects, fetch_objects());
    std::vector<SourceObject> out;
    for (auto& o : objects) out.push_back(std::move(o.object));
    return out;
  }

  Result<std::string> test() override {
    PLUTO_ASSIGN_OR_RETURN(auto version, query_value(conn_, "SELECT * FROM postgres_query(" + quote_literal(alias_) +
                                                                ", 'SELECT version()')"));
    PLUTO_ASSIGN_OR_RETURN(auto objects, list_objects());
    std::ostringstream o;
    o << "connected to " << version.value_or("PostgreSQL") << "; " << objects.size() << " tables and views";
    return o.str();
  }

 private:
  struct PgObject {
    SourceObject object;
    std::optional<int64_t> rows;
  };

  // Asks PostgreSQL's own catalog (DuckDB's view of it does not tell views from tables).
  Result<std::vector<PgObject>> fetch_objects() {
    PLUTO_ASSIGN_OR_RETURN(auto rows, query_rows(conn_, "SELECT * FROM postgres_query(" + quote_literal(alias_) + ", " +
                                                            quote_literal(kObjectsPgSql) + ")"));
    std::vector<PgObject> out;
    for (auto& r : rows) {
      out.push_back({{r[0].value_or(""), r[1].value_or(""), r[2].value_or("table"), to_int(r[3])}, to_int(r[4])});
    }
    return out;
  }

  warehouse::Connection& conn_;
  SourceRef source_;
  std::string alias_;
};

class PostgresConnector final : public Connector {
 public:
  SourceKind kind() const override { return SourceKind::postgres; }

  Result<std::unique_ptr<SourceSession>> open(warehouse::Connection& conn, const SourceRef& source,
                                              const ConnectorSettings& settings) const override {
    const std::string alias = "__pluto_src_" + settings.session_id;
    PLUTO_TRY(attach_postgres(conn, source, alias, settings));
    return std::unique_ptr<SourceSession>(std::make_unique<PostgresSession>(conn, source, alias));
  }

  Status attach(warehouse::Connection& conn, const SourceRef& source, const std::string& alias,
                const ConnectorSettings& settings) const override {
    return attach_postgres(conn, source, alias, settings);
  }

  Status detach(warehouse::Connection& conn, const std::string& alias) const override {
    PLUTO_TRY(conn.run("DETACH DATABASE IF EXISTS " + quote_identifier(alias)));
    return conn.run("DROP TEMPORARY SECRET IF EXISTS " + quote_identifier(secret_name(alias)));
  }
};

}  // namespace

std::unique_ptr<Connector> make_postgres_connector() {
  return std::make_unique<PostgresConnector>();
}

}  // namespace pluto::ingest
