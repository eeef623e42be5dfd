#pragma once
// Faithful conversion of DuckDB vector values to JSON and to display text. A ColumnFormatter is
// built once per result column from its logical type, then bound to each chunk's vector.
//
// JSON mapping (documented in docs/types.md):
//   NULL -> null; BOOLEAN -> true/false; integers -> numbers, as strings when |v| > 2^53;
//   DECIMAL -> exact digits, a number when it has at most 15 significant digits, else a string;
//   FLOAT/DOUBLE -> shortest round-trip number, "NaN" / "Infinity" / "-Infinity" as strings;
//   DATE "2024-01-31"; TIME "13:45:00.5"; TIME_TZ "13:45:00+02:00";
//   TIMESTAMP(_S/_MS/_NS) "2024-01-31T13:45:00.123456"; TIMESTAMPTZ "…Z" (UTC);
//   infinite dates/timestamps "infinity" / "-infinity"; INTERVAL ISO 8601 duration "P1Y2M3DT4H5M6.5S";
//   UUID "xxxxxxxx-xxxx-…"; BLOB base64; ENUM its label; BIT "0101"; LIST/ARRAY -> array;
//   STRUCT -> object; MAP -> object keyed by the key's text; UNION -> the active member's value.
#include <duckdb.h>

#include <memory>
#include <string>

#include "pluto/core/error.hpp"

namespace pluto::warehouse {

class ColumnFormatter {
 public:
  // Fails (ErrorCode::invalid_argument) for a type with no faithful conversion, naming it.
  static Result<ColumnFormatter> create(duckdb_logical_type type);

  ColumnFormatter(ColumnFormatter&&) noexcept;
  ColumnFormatter& operator=(ColumnFormatter&&) noexcept;
  ~ColumnFormatter();

  // Points the formatter at this chunk's vector for the column. Call once per chunk.
  void bind(duckdb_vector vector);
  bool is_null(idx_t row) const;
  // Appends the JSON value of `row` (null for NULL).
  void append_json(std::string& out, idx_t row) const;
  // Appends display text: strings raw, dates with a space before the time ("2024-01-31 13:45:00"),
  // BLOB as \xNN escapes like DuckDB, nested values as JSON. NULL appends nothing.
  void append_text(std::string& out, idx_t row) const;

  struct Node;  // type tree, defined in value_format.cpp

 private:
  explicit ColumnFormatter(std::unique_ptr<Node> root);
  std::unique_ptr<Node> root_;
};

}  // namespace pluto::warehouse
