#pragma once
// SQLite through DuckDB's sqlite extension: ATTACH (TYPE sqlite, READ_ONLY), then a table, all
// tables, or a query (sqlite_query).
#include <memory>

#include "pluto/ingest/connector.hpp"

namespace pluto::ingest {

std::unique_ptr<Connector> make_sqlite_connector();

}  // namespace pluto::ingest
