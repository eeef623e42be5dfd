#pragma once
// Files: CSV/TSV (DuckDB's sniffer, with overrides), Parquet, JSON and NDJSON; a path, a glob or a
// directory; gzip and zstd compressed. DuckDB's read_csv / read_parquet / read_json do the reading.
#include <memory>
#include <string_view>

#include "pluto/ingest/connector.hpp"

namespace pluto::ingest {

std::unique_ptr<Connector> make_files_connector();

// The format a file name implies (compression suffixes .gz/.zst ignored); auto_detect when unknown.
FileFormat format_from_name(std::string_view path);

}  // namespace pluto::ingest
