#pragma once
// PostgreSQL through DuckDB's postgres extension: ATTACH (TYPE postgres, READ_ONLY) with the password
// in a temporary DuckDB secret (so it never appears in duckdb_databases() or in our SQL text), then
// tables, schemas or a query (postgres_query) are read by DuckDB's scanner.
#include <memory>

#include "pluto/ingest/connector.hpp"

namespace pluto::ingest {

std::unique_ptr<Connector> make_postgres_connector();

}  // namespace pluto::ingest
