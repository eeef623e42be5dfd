#pragma once
// Result writers: stream a DuckDB result, chunk by chunk, as JSON, CSV, an aligned text table or an
// Arrow IPC stream (arrow_ipc.hpp). Parquet (and anything else DuckDB's COPY writes) goes through
// export_query() in warehouse.hpp.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pluto/core/error.hpp"
#include "pluto/warehouse/duckdb_api.hpp"

namespace pluto::warehouse {

// Receives output in blocks of up to ~64 KiB. Returning an error stops the writer.
using Sink = std::function<Status(std::string_view)>;

enum class OutputFormat { table, csv, json, ndjson, json_arrays, arrow };
Result<OutputFormat> parse_output_format(std::string_view name);

struct WriteOptions {
  OutputFormat format = OutputFormat::json;
  uint64_t max_rows = UINT64_MAX;  // rows written at most; the rest is counted, not written
  uint64_t skip_rows = 0;          // rows skipped before writing (paging)
  char csv_delimiter = ',';
  bool csv_header = true;
  const std::function<bool()>* should_stop = nullptr;  // cooperative cancel between chunks
};

struct WriteSummary {
  std::vector<ColumnInfo> columns;
  uint64_t rows_written = 0;
  uint64_t rows_total = 0;  // rows the result had (counted even past max_rows)
  bool truncated = false;
};

// Streams `result` to `sink`. For the table format, rows are buffered to align columns.
// JSON writes an array of row objects: [{"a":1}]. json_arrays writes an array of row arrays.
// arrow writes the Arrow IPC streaming format (binary; no paging), see arrow_ipc.hpp.
Result<WriteSummary> write_result(QueryResult& result, const WriteOptions& options, const Sink& sink);

// A sink into a std::string (for tests and small results).
Sink string_sink(std::string& out);
// A sink into a FILE* (stdout or a file opened by the caller).
Sink file_sink(std::FILE* file);

}  // namespace pluto::warehouse
