#pragma once
// Arrow IPC streaming format (https://arrow.apache.org/docs/format/Columnar.html#ipc-streaming-format):
// a Schema message, then for each DuckDB chunk the DictionaryBatch messages it needs and one
// RecordBatch message, then the end-of-stream marker. DuckDB converts schema and chunks to the Arrow
// C Data Interface (duckdb_to_arrow_schema / duckdb_data_chunk_to_arrow, with the result's arrow
// options); this file encodes those as IPC itself (no Arrow library), flatbuffers by flatbuffer.hpp.
//
// Written as DuckDB gives them, including custom metadata (extension types such as arrow.opaque):
// null, bool, (u)int8..64, float16/32/64, decimal128/256, (large) utf8/binary, fixed-size binary,
// date32/64, time32/64, timestamp (+ time zone), duration, interval (all units), (large) list,
// fixed-size list, struct, map, sparse/dense union, dictionary (ENUM). String/binary views (DuckDB's
// produce_arrow_string_view) are rewritten as plain utf8/binary. List views and run-end encoding are
// refused, as are DuckDB types DuckDB cannot export (TIME_NS…): the error names the column and its type
// and says to CAST it. All checks happen before the first byte is written.
#include <vector>

#include "pluto/core/error.hpp"
#include "pluto/warehouse/duckdb_api.hpp"
#include "pluto/warehouse/writers.hpp"

struct ArrowSchema;  // the Arrow C Data Interface (arrow_c_data.hpp)
struct ArrowArray;

namespace pluto::warehouse {

// Streams `result` to `sink` as an Arrow IPC stream, one record batch per DuckDB chunk. Honours
// `options.should_stop`; paging (skip_rows/max_rows) is refused.
Result<WriteSummary> write_arrow_stream(QueryResult& result, const WriteOptions& options, const Sink& sink);

// Checks that every column of `result` can be written as Arrow, without fetching rows.
Status check_arrow_columns(QueryResult& result);

// The encoder on its own: a stream of `schema` (a struct, one child per column) and `batches` (struct
// arrays of that schema), which may have offsets. The caller keeps ownership of both. For tests.
Status write_arrow_ipc(const ArrowSchema& schema, const std::vector<const ArrowArray*>& batches, const Sink& sink);

}  // namespace pluto::warehouse
