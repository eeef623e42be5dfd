#include "pluto/warehouse/value_format.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>
#include <utility>
#include <vector>

#include "pluto/core/json_escape.hpp"

namespace pluto::warehouse {

// GCC/Clang builtin 128-bit integers; __extension__ keeps -Wpedantic quiet.
__extension__ typedef __int128 Int128;            // NOLINT(modernize-use-using)
__extension__ typedef unsigned __int128 UInt128;  // NOLINT(modernize-use-using)

struct ColumnFormatter::Node {
  enum class Kind : uint8_t {
    sql_null,
    boolean,
    int8,
    int16,
    int32,
    int64,
    uint8,
    uint16,
    uint32,
    uint64,
    int128,
    uint128,
    float32,
    float64,
    decimal,
    date,
    time,
    time_ns,
    time_tz,
    timestamp_s,
    timestamp_ms,
    timestamp_us,
    timestamp_ns,
    timestamp_tz,
    interval,
    uuid,
    varchar,
    blob,
    bit,
    enumeration,
    list,
    array,
    structure,
    map,
    union_type,
  };
  // How a MAP key becomes a JSON object key.
  enum class KeyMode : uint8_t {
    varchar,      // escape the raw string
    enumeration,  // use the pre-escaped label
    plain,        // text form never needs escaping: wrap it in quotes
    escaped,      // text form may need escaping: build it in `scratch`, then escape
  };

  Kind kind = Kind::sql_null;
  Kind storage = Kind::int64;                   // DECIMAL / ENUM physical representation
  uint8_t scale = 0;                            // DECIMAL
  bool unnamed = false;                         // STRUCT without field names -> JSON array
  KeyMode key_mode = KeyMode::plain;            // MAP
  idx_t array_size = 0;                         // ARRAY
  std::vector<std::string> labels;              // ENUM labels (raw)
  std::vector<std::string> json_labels;         // ENUM labels as JSON strings; STRUCT keys as `"name":`
  std::vector<std::unique_ptr<Node>> children;  // LIST/ARRAY: 1; MAP: key, value; STRUCT/UNION: members

  // Bound to the current chunk by bind().
  const void* data = nullptr;
  uint64_t* validity = nullptr;
  const uint8_t* union_tags = nullptr;
  mutable std::string scratch;  // reused buffer for MAP keys of KeyMode::escaped
};

namespace {

using Node = ColumnFormatter::Node;
using Kind = Node::Kind;

constexpr int64_t kMaxSafeInteger = int64_t{1} << 53;  // largest integer a double holds exactly
constexpr int32_t kDateInfinity = std::numeric_limits<int32_t>::max();
constexpr int64_t kTimestampInfinity = std::numeric_limits<int64_t>::max();
constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kSecondsPerDay = 86'400;

enum class Style : uint8_t { json, text };

// ---------------------------------------------------------------------------------------------
// Type tree construction

struct OwnedType {
  duckdb_logical_type t = nullptr;
  explicit OwnedType(duckdb_logical_type type) : t(type) {}
  ~OwnedType() {
    if (t != nullptr) duckdb_destroy_logical_type(&t);
  }
  OwnedType(const OwnedType&) = delete;
  OwnedType& operator=(const OwnedType&) = delete;
};

// Takes ownership of a duckdb_free()-able C string.
std::string take_string(char* s) {
  if (s == nullptr) return {};
  std::string copy(s);
  duckdb_free(s);
  return copy;
}

std::string unsupported_type_name(duckdb_logical_type type, duckdb_type id) {
  std::string name;
  switch (id) {
    case DUCKDB_TYPE_BIGNUM: name = "BIGNUM (VARINT)"; break;
    case DUCKDB_TYPE_ANY: name = "ANY"; break;
    // The C API reports types it does not map (TIME_NS in DuckDB 1.4) as INVALID.
    case DUCKDB_TYPE_INVALID: name = "INVALID (not exposed by the DuckDB C API, e.g. TIME_NS)"; break;
    case DUCKDB_TYPE_STRING_LITERAL: name = "STRING_LITERAL"; break;
    case DUCKDB_TYPE_INTEGER_LITERAL: name = "INTEGER_LITERAL"; break;
    default: name = "type id " + std::to_string(static_cast<int>(id)); break;
  }
  const std::string alias = take_string(duckdb_logical_type_get_alias(type));
  if (!alias.empty()) name = alias + " (" + name + ")";
  return name;
}

Error unsupported(duckdb_logical_type type, duckdb_type id) {
  return Error(ErrorCode::invalid_argument,
               "column type " + unsupported_type_name(type, id) + " has no faithful JSON/text conversion",
               "CAST the column to VARCHAR in the query, e.g. SELECT col::VARCHAR");
}

bool is_plain_kind(Kind kind) {
  switch (kind) {
    case Kind::varchar:
    case Kind::blob:
    case Kind::enumeration:
    case Kind::list:
    case Kind::array:
    case Kind::structure:
    case Kind::map:
    case Kind::union_type:
    case Kind::sql_null: return false;
    default: return true;
  }
}

Kind simple_kind(duckdb_type id, bool& ok) {
  ok = true;
  switch (id) {
    case DUCKDB_TYPE_BOOLEAN: return Kind::boolean;
    case DUCKDB_TYPE_TINYINT: return Kind::int8;
    case DUCKDB_TYPE_SMALLINT: return Kind::int16;
    case DUCKDB_TYPE_INTEGER: return Kind::int32;
    case DUCKDB_TYPE_BIGINT: return Kind::int64;
    case DUCKDB_TYPE_UTINYINT: return Kind::uint8;
    case DUCKDB_TYPE_USMALLINT: return Kind::uint16;
    case DUCKDB_TYPE_UINTEGER: return Kind::uint32;
    case DUCKDB_TYPE_UBIGINT: return Kind::uint64;
    case DUCKDB_TYPE_HUGEINT: return Kind::int128;
    case DUCKDB_TYPE_UHUGEINT: return Kind::uint128;
    case DUCKDB_TYPE_FLOAT: return Kind::float32;
    case DUCKDB_TYPE_DOUBLE: return Kind::float64;
    case DUCKDB_TYPE_DATE: return Kind::date;
    case DUCKDB_TYPE_TIME: return Kind::time;
    case DUCKDB_TYPE_TIME_NS: return Kind::time_ns;
    case DUCKDB_TYPE_TIME_TZ: return Kind::time_tz;
    case DUCKDB_TYPE_TIMESTAMP_S: return Kind::timestamp_s;
    case DUCKDB_TYPE_TIMESTAMP_MS: return Kind::timestamp_ms;
    case DUCKDB_TYPE_TIMESTAMP: return Kind::timestamp_us;
    case DUCKDB_TYPE_TIMESTAMP_NS: return Kind::timestamp_ns;
    case DUCKDB_TYPE_TIMESTAMP_TZ: return Kind::timestamp_tz;
    case DUCKDB_TYPE_INTERVAL: return Kind::interval;
    case DUCKDB_TYPE_UUID: return Kind::uuid;
    case DUCKDB_TYPE_VARCHAR: return Kind::varchar;
    case DUCKDB_TYPE_BLOB: return Kind::blob;
    case DUCKDB_TYPE_BIT: return Kind::bit;
    case DUCKDB_TYPE_SQLNULL: return Kind::sql_null;
    default: ok = false; return Kind::sql_null;
  }
}

Result<std::unique_ptr<Node>> build_node(duckdb_logical_type type);

// Builds the child node for a logical type obtained from DuckDB, destroying that type.
Status add_child(Node& parent, duckdb_logical_type owned_child) {
  const OwnedType child(owned_child);
  auto built = build_node(child.t);
  if (!built.ok()) return built.take_error();
  parent.children.push_back(std::move(built).value());
  return {};
}

std::string json_key(std::string_view name) {
  std::string key;
  append_json_string(key, name);
  key += ':';
  return key;
}

Result<std::unique_ptr<Node>> build_node(duckdb_logical_type type) {
  auto node = std::make_unique<Node>();
  const duckdb_type id = duckdb_get_type_id(type);
  bool simple = false;
  node->kind = simple_kind(id, simple);
  if (simple) return node;

  switch (id) {
    case DUCKDB_TYPE_DECIMAL: {
      node->kind = Kind::decimal;
      node->scale = duckdb_decimal_scale(type);
      switch (duckdb_decimal_internal_type(type)) {
        case DUCKDB_TYPE_SMALLINT: node->storage = Kind::int16; break;
        case DUCKDB_TYPE_INTEGER: node->storage = Kind::int32; break;
        case DUCKDB_TYPE_BIGINT: node->storage = Kind::int64; break;
        case DUCKDB_TYPE_HUGEINT: node->storage = Kind::int128; break;
        default: return unsupported(type, id);
      }
      return node;
    }
    case DUCKDB_TYPE_ENUM: {
      node->kind = Kind::enumeration;
      switch (duckdb_enum_internal_type(type)) {
        case DUCKDB_TYPE_UTINYINT: node->storage = Kind::uint8; break;
        case DUCKDB_TYPE_USMALLINT: node->storage = Kind::uint16; break;
        case DUCKDB_TYPE_UINTEGER: node->storage = Kind::uint32; break;
        default: return unsupported(type, id);
      }
      const uint32_t size = duckdb_enum_dictionary_size(type);
      node->labels.reserve(size);
      node->json_labels.reserve(size);
      for (uint32_t i = 0; i < size; ++i) {
        node->labels.push_back(take_string(duckdb_enum_dictionary_value(type, i)));
        std::string quoted;
        append_json_string(quoted, node->labels.back());
        node->json_labels.push_back(std::move(quoted));
      }
      return node;
    }
    case DUCKDB_TYPE_LIST: {
      node->kind = Kind::list;
      PLUTO_TRY(add_child(*node, duckdb_list_type_child_type(type)));
      return node;
    }
    case DUCKDB_TYPE_ARRAY: {
      node->kind = Kind::array;
      node->array_size = duckdb_array_type_array_size(type);
      PLUTO_TRY(add_child(*node, duckdb_array_type_child_type(type)));
      return node;
    }
    case DUCKDB_TYPE_MAP: {
      node->kind = Kind::map;
      PLUTO_TRY(add_child(*node, duckdb_map_type_key_type(type)));
      PLUTO_TRY(add_child(*node, duckdb_map_type_value_type(type)));
      const Kind key = node->children[0]->kind;
      if (key == Kind::varchar) {
        node->key_mode = Node::KeyMode::varchar;
      } else if (key == Kind::enumeration) {
        node->key_mode = Node::KeyMode::enumeration;
      } else if (is_plain_kind(key)) {
        node->key_mode = Node::KeyMode::plain;
      } else {
        node->key_mode = Node::KeyMode::escaped;
      }
      return node;
    }
    case DUCKDB_TYPE_STRUCT: {
      node->kind = Kind::structure;
      const idx_t count = duckdb_struct_type_child_count(type);
      bool any_name = false;
      for (idx_t i = 0; i < count; ++i) {
        const std::string name = take_string(duckdb_struct_type_child_name(type, i));
        any_name = any_name || !name.empty();
        node->json_labels.push_back(json_key(name));
        PLUTO_TRY(add_child(*node, duckdb_struct_type_child_type(type, i)));
      }
      // row(1, 2) yields STRUCT(INTEGER, INTEGER) with empty names; an array reads better than
      // an object with duplicate "" keys.
      node->unnamed = count > 0 && !any_name;
      return node;
    }
    case DUCKDB_TYPE_UNION: {
      node->kind = Kind::union_type;
      const idx_t count = duckdb_union_type_member_count(type);
      for (idx_t i = 0; i < count; ++i) {
        PLUTO_TRY(add_child(*node, duckdb_union_type_member_type(type, i)));
      }
      return node;
    }
    default: return unsupported(type, id);
  }
}

// ---------------------------------------------------------------------------------------------
// Binding

void bind_node(Node& node, duckdb_vector vector) {
  node.data = duckdb_vector_get_data(vector);
  node.validity = duckdb_vector_get_validity(vector);
  switch (node.kind) {
    case Kind::list: bind_node(*node.children[0], duckdb_list_vector_get_child(vector)); break;
    case Kind::array: bind_node(*node.children[0], duckdb_array_vector_get_child(vector)); break;
    case Kind::map: {
      // A MAP vector is a LIST of STRUCT(key, value).
      duckdb_vector entries = duckdb_list_vector_get_child(vector);
      bind_node(*node.children[0], duckdb_struct_vector_get_child(entries, 0));
      bind_node(*node.children[1], duckdb_struct_vector_get_child(entries, 1));
      break;
    }
    case Kind::structure:
      for (idx_t i = 0; i < node.children.size(); ++i) {
        bind_node(*node.children[i], duckdb_struct_vector_get_child(vector, i));
      }
      break;
    case Kind::union_type:
      // A UNION vector is a STRUCT: child 0 holds the uint8 tag, children 1.. the members.
      node.union_tags = static_cast<const uint8_t*>(duckdb_vector_get_data(duckdb_struct_vector_get_child(vector, 0)));
      for (idx_t i = 0; i < node.children.size(); ++i) {
        bind_node(*node.children[i], duckdb_struct_vector_get_child(vector, i + 1));
      }
      break;
    default: break;
  }
}

// ---------------------------------------------------------------------------------------------
// Scalar helpers (all write straight into `out`, using only stack buffers)

bool is_valid(const Node& node, idx_t row) {
  if (node.kind == Kind::sql_null) return false;
  return node.validity == nullptr || duckdb_validity_row_is_valid(node.validity, row);
}

template <typename T>
T value_at(const Node& node, idx_t row) {
  return static_cast<const T*>(node.data)[row];
}

std::string_view string_at(const Node& node, idx_t row) {
  const auto& s = static_cast<const duckdb_string_t*>(node.data)[row];
  const uint32_t length = s.value.inlined.length;
  const char* chars = length <= sizeof(s.value.inlined.inlined) ? s.value.inlined.inlined : s.value.pointer.ptr;
  return {chars, length};
}

void append_range(std::string& out, const char* first, const char* last) {
  out.append(first, static_cast<size_t>(last - first));
}

template <typename T>
void append_integer(std::string& out, T v) {
  std::array<char, 24> buf{};
  const auto res = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  append_range(out, buf.data(), res.ptr);
}

void append_padded(std::string& out, uint64_t v, size_t width) {
  std::array<char, 24> buf{};
  const auto res = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  const auto n = static_cast<size_t>(res.ptr - buf.data());
  if (n < width) out.append(width - n, '0');
  out.append(buf.data(), n);
}

// Writes the decimal digits of `v` so they end at `end`; returns the first digit.
char* write_digits(char* end, UInt128 v) {
  constexpr uint64_t kChunk = 10'000'000'000'000'000'000ULL;  // 10^19, so chunks fit uint64
  while (v > std::numeric_limits<uint64_t>::max()) {
    auto part = static_cast<uint64_t>(v % kChunk);
    v /= kChunk;
    for (int i = 0; i < 19; ++i) {
      *--end = static_cast<char>('0' + part % 10);
      part /= 10;
    }
  }
  auto low = static_cast<uint64_t>(v);
  do {
    *--end = static_cast<char>('0' + low % 10);
    low /= 10;
  } while (low != 0);
  return end;
}

Int128 to_int128(duckdb_hugeint h) {
  const UInt128 bits = (static_cast<UInt128>(static_cast<uint64_t>(h.upper)) << 64U) | h.lower;
  return static_cast<Int128>(bits);
}

UInt128 to_uint128(duckdb_uhugeint h) {
  return (static_cast<UInt128>(h.upper) << 64U) | h.lower;
}

UInt128 magnitude(Int128 v) {
  return v < 0 ? UInt128{0} - static_cast<UInt128>(v) : static_cast<UInt128>(v);
}

// Integers beyond 2^53 become JSON strings so JavaScript-style parsers keep every digit.
void append_int128(std::string& out, Int128 v, Style style) {
  std::array<char, 48> buf{};
  char* end = buf.data() + buf.size();
  char* first = write_digits(end, magnitude(v));
  if (v < 0) *--first = '-';
  const bool quote = style == Style::json && magnitude(v) > static_cast<UInt128>(kMaxSafeInteger);
  if (quote) out += '"';
  append_range(out, first, end);
  if (quote) out += '"';
}

void append_uint128(std::string& out, UInt128 v, Style style) {
  std::array<char, 48> buf{};
  char* end = buf.data() + buf.size();
  const char* first = write_digits(end, v);
  const bool quote = style == Style::json && v > static_cast<UInt128>(kMaxSafeInteger);
  if (quote) out += '"';
  append_range(out, first, end);
  if (quote) out += '"';
}

void append_int64(std::string& out, int64_t v, Style style) {
  const bool quote = style == Style::json && (v > kMaxSafeInteger || v < -kMaxSafeInteger);
  if (quote) out += '"';
  append_integer(out, v);
  if (quote) out += '"';
}

void append_uint64(std::string& out, uint64_t v, Style style) {
  const bool quote = style == Style::json && v > static_cast<uint64_t>(kMaxSafeInteger);
  if (quote) out += '"';
  append_integer(out, v);
  if (quote) out += '"';
}

// Exact digits with `scale` fractional digits, as DuckDB prints them ("1.50", "-0.05").
// JSON: a number up to 15 significant digits (a double keeps them all), else a string.
void append_decimal(std::string& out, Int128 v, size_t scale, Style style) {
  std::array<char, 48> buf{};
  char* end = buf.data() + buf.size();
  const char* digits = write_digits(end, magnitude(v));
  const auto n = static_cast<size_t>(end - digits);
  const bool quote = style == Style::json && n > 15;
  if (quote) out += '"';
  if (v < 0) out += '-';
  if (scale == 0) {
    out.append(digits, n);
  } else if (n <= scale) {
    out += "0.";
    out.append(scale - n, '0');
    out.append(digits, n);
  } else {
    out.append(digits, n - scale);
    out += '.';
    out.append(digits + (n - scale), scale);
  }
  if (quote) out += '"';
}

Int128 decimal_at(const Node& node, idx_t row) {
  switch (node.storage) {
    case Kind::int16: return value_at<int16_t>(node, row);
    case Kind::int32: return value_at<int32_t>(node, row);
    case Kind::int64: return value_at<int64_t>(node, row);
    default: return to_int128(value_at<duckdb_hugeint>(node, row));
  }
}

// Shortest round-trip digits laid out like DuckDB (and Python's repr): fixed notation for
// decimal exponents in [-4, 16) with at least one fractional digit ("1.0"), else "1e+16".
template <typename F>
void append_float(std::string& out, F v, Style style) {
  const bool json = style == Style::json;
  if (std::isnan(v)) {
    out += json ? "\"NaN\"" : "nan";
    return;
  }
  if (std::isinf(v)) {
    if (v > 0) {
      out += json ? "\"Infinity\"" : "inf";
    } else {
      out += json ? "\"-Infinity\"" : "-inf";
    }
    return;
  }
  std::array<char, 64> buf{};
  const auto res = std::to_chars(buf.data(), buf.data() + buf.size(), v, std::chars_format::scientific);
  const char* p = buf.data();
  const char* end = res.ptr;
  const char* e = p;
  while (e < end && *e != 'e') ++e;
  // Exponent: "e+16" / "e-05".
  int exp = 0;
  const bool exp_negative = e + 1 < end && e[1] == '-';
  std::from_chars(e + 2, end, exp);
  if (exp_negative) exp = -exp;
  if (exp < -4 || exp >= 16) {
    append_range(out, p, end);
    return;
  }
  if (*p == '-') {
    out += '-';
    ++p;
  }
  std::array<char, 40> digits{};
  size_t n = 0;
  for (const char* q = p; q < e; ++q) {
    if (*q != '.') digits[n++] = *q;
  }
  if (exp >= 0) {
    const auto int_len = static_cast<size_t>(exp) + 1;
    if (n <= int_len) {
      out.append(digits.data(), n);
      out.append(int_len - n, '0');
      out += ".0";
    } else {
      out.append(digits.data(), int_len);
      out += '.';
      out.append(digits.data() + int_len, n - int_len);
    }
  } else {
    out += "0.";
    out.append(static_cast<size_t>(-exp - 1), '0');
    out.append(digits.data(), n);
  }
}

// Appends `.fraction` with `digits` places, trailing zeros trimmed; nothing when zero.
void append_fraction(std::string& out, uint64_t fraction, size_t digits) {
  if (fraction == 0) return;
  std::array<char, 24> buf{};
  size_t n = digits;
  for (size_t i = digits; i-- > 0;) {
    buf[i] = static_cast<char>('0' + fraction % 10);
    fraction /= 10;
  }
  while (n > 0 && buf[n - 1] == '0') --n;
  out += '.';
  out.append(buf.data(), n);
}

struct CivilDate {
  int64_t year;
  unsigned month;
  unsigned day;
};

// Proleptic Gregorian date from days since 1970-01-01 (H. Hinnant's civil_from_days).
CivilDate civil_from_days(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned day = doy - (153 * mp + 2) / 5 + 1;
  const unsigned month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = static_cast<int64_t>(yoe) + era * 400 + (month <= 2 ? 1 : 0);
  return {year, month, day};
}

// JSON: ISO 8601 with astronomical years; years outside 0000..9999 use the expanded form
// "+YYYYYY" / "-YYYYYY" (at least 6 digits, as ECMAScript does). Text: DuckDB's form, with
// "(BC)" after the date for years <= 0 ("0001-12-31 (BC)" is astronomical year 0).
void append_date_part(std::string& out, int64_t days, Style style) {
  const CivilDate c = civil_from_days(days);
  if (style == Style::json) {
    if (c.year >= 0 && c.year <= 9999) {
      append_padded(out, static_cast<uint64_t>(c.year), 4);
    } else {
      out += c.year < 0 ? '-' : '+';
      append_padded(out, static_cast<uint64_t>(c.year < 0 ? -c.year : c.year), 6);
    }
  } else {
    append_padded(out, static_cast<uint64_t>(c.year > 0 ? c.year : 1 - c.year), 4);
  }
  out += '-';
  append_padded(out, c.month, 2);
  out += '-';
  append_padded(out, c.day, 2);
  if (style == Style::text && c.year <= 0) out += " (BC)";
}

// hh:mm:ss[.fraction] from ticks since midnight (hours may exceed 23 for intervals).
void append_clock(std::string& out, uint64_t ticks, uint64_t ticks_per_second, size_t digits) {
  const uint64_t seconds = ticks / ticks_per_second;
  append_padded(out, seconds / 3600, 2);
  out += ':';
  append_padded(out, seconds / 60 % 60, 2);
  out += ':';
  append_padded(out, seconds % 60, 2);
  append_fraction(out, ticks % ticks_per_second, digits);
}

void append_date(std::string& out, int32_t days, Style style) {
  const bool json = style == Style::json;
  if (json) out += '"';
  if (days == kDateInfinity || days == -kDateInfinity) {
    out += days > 0 ? "infinity" : "-infinity";
  } else {
    append_date_part(out, days, style);
  }
  if (json) out += '"';
}

// `value` counts ticks since 1970-01-01 00:00:00 (UTC for TIMESTAMPTZ).
void append_timestamp(std::string& out, int64_t value, int64_t ticks_per_second, size_t digits, bool utc, Style style) {
  const bool json = style == Style::json;
  if (json) out += '"';
  if (value == kTimestampInfinity || value == -kTimestampInfinity) {
    out += value > 0 ? "infinity" : "-infinity";
  } else {
    const int64_t ticks_per_day = kSecondsPerDay * ticks_per_second;
    int64_t days = value / ticks_per_day;
    int64_t rest = value % ticks_per_day;
    if (rest < 0) {
      rest += ticks_per_day;
      --days;
    }
    append_date_part(out, days, style);
    out += json ? 'T' : ' ';
    append_clock(out, static_cast<uint64_t>(rest), static_cast<uint64_t>(ticks_per_second), digits);
    if (utc) out += json ? "Z" : "+00";
  }
  if (json) out += '"';
}

// JSON: ISO 8601 "+02:00" (":ss" only when needed). Text: DuckDB's "+02", "-05:30", "+15:59:59".
void append_utc_offset(std::string& out, int32_t offset_seconds, Style style) {
  out += offset_seconds < 0 ? '-' : '+';
  const auto mag = static_cast<uint32_t>(offset_seconds < 0 ? -offset_seconds : offset_seconds);
  const uint32_t hours = mag / 3600;
  const uint32_t minutes = mag / 60 % 60;
  const uint32_t seconds = mag % 60;
  append_padded(out, hours, 2);
  if (style == Style::json || minutes != 0 || seconds != 0) {
    out += ':';
    append_padded(out, minutes, 2);
  }
  if (seconds != 0) {
    out += ':';
    append_padded(out, seconds, 2);
  }
}

void append_time_tz(std::string& out, duckdb_time_tz value, Style style) {
  const duckdb_time_tz_struct t = duckdb_from_time_tz(value);
  const auto micros = static_cast<uint64_t>(
      ((int64_t{t.time.hour} * 60 + t.time.min) * 60 + t.time.sec) * kMicrosPerSecond + t.time.micros);
  append_clock(out, micros, kMicrosPerSecond, 6);
  append_utc_offset(out, t.offset, style);
}

void append_signed_component(std::string& out, int64_t v, char unit) {
  append_integer(out, v);
  out += unit;
}

// ISO 8601 duration. DuckDB intervals keep months, days and micros apart and each may have its
// own sign, so every component carries its sign (as java.time does): "P1M-3D", "PT-1H-30M".
void append_interval_iso(std::string& out, duckdb_interval v) {
  if (v.months == 0 && v.days == 0 && v.micros == 0) {
    out += "PT0S";
    return;
  }
  out += 'P';
  const int32_t years = v.months / 12;
  const int32_t months = v.months % 12;
  if (years != 0) append_signed_component(out, years, 'Y');
  if (months != 0) append_signed_component(out, months, 'M');
  if (v.days != 0) append_signed_component(out, v.days, 'D');
  if (v.micros == 0) return;
  out += 'T';
  const bool negative = v.micros < 0;
  const uint64_t mag = negative ? uint64_t{0} - static_cast<uint64_t>(v.micros) : static_cast<uint64_t>(v.micros);
  const uint64_t seconds = mag / kMicrosPerSecond;
  const uint64_t fraction = mag % kMicrosPerSecond;
  const uint64_t hours = seconds / 3600;
  const uint64_t minutes = seconds / 60 % 60;
  const uint64_t secs = seconds % 60;
  if (hours != 0) {
    if (negative) out += '-';
    append_integer(out, hours);
    out += 'H';
  }
  if (minutes != 0) {
    if (negative) out += '-';
    append_integer(out, minutes);
    out += 'M';
  }
  if (secs != 0 || fraction != 0) {
    if (negative) out += '-';
    append_integer(out, secs);
    append_fraction(out, fraction, 6);
    out += 'S';
  }
}

void append_interval_unit(std::string& out, int64_t v, std::string_view unit) {
  append_integer(out, v);
  out += ' ';
  out += unit;
  if (v != 1 && v != -1) out += 's';
}

// DuckDB's text form: "1 year 2 months 3 days 04:05:06.5", "-01:30:00", "00:00:00".
void append_interval_text(std::string& out, duckdb_interval v) {
  bool first = true;
  const auto part = [&](int64_t n, std::string_view unit) {
    if (n == 0) return;
    if (!first) out += ' ';
    first = false;
    append_interval_unit(out, n, unit);
  };
  part(v.months / 12, "year");
  part(v.months % 12, "month");
  part(v.days, "day");
  if (v.micros != 0) {
    if (!first) out += ' ';
    const bool negative = v.micros < 0;
    if (negative) out += '-';
    const uint64_t mag = negative ? uint64_t{0} - static_cast<uint64_t>(v.micros) : static_cast<uint64_t>(v.micros);
    append_clock(out, mag, kMicrosPerSecond, 6);
  } else if (first) {
    out += "00:00:00";
  }
}

// DuckDB stores a UUID as a HUGEINT with the top bit flipped (so signed order = byte order).
void append_uuid(std::string& out, duckdb_hugeint v) {
  static constexpr char kHex[] = "0123456789abcdef";
  const uint64_t hi = static_cast<uint64_t>(v.upper) ^ (uint64_t{1} << 63U);
  const uint64_t lo = v.lower;
  std::array<char, 36> buf{};
  size_t pos = 0;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) buf[pos++] = '-';
    const uint64_t word = i < 16 ? hi : lo;
    const auto shift = static_cast<unsigned>(60 - 4 * (i % 16));
    buf[pos++] = kHex[(word >> shift) & 0xFU];
  }
  out.append(buf.data(), buf.size());
}

// DuckDB's BLOB text: printable ASCII as is, except \ ' " which are escaped like other bytes.
void append_blob_text(std::string& out, std::string_view bytes) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 32 && c <= 126 && c != '\\' && c != '\'' && c != '"') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4U];
      out += kHex[c & 0xFU];
    }
  }
}

// BIT: byte 0 holds the number of padding bits, which fill the high end of byte 1.
void append_bits(std::string& out, std::string_view bytes) {
  if (bytes.empty()) return;
  const auto padding = static_cast<unsigned char>(bytes[0]);
  const size_t total = (bytes.size() - 1) * 8;
  for (size_t i = padding; i < total; ++i) {
    const auto byte = static_cast<unsigned char>(bytes[1 + i / 8]);
    out += ((byte >> (7 - i % 8)) & 1U) != 0 ? '1' : '0';
  }
}

uint32_t enum_index(const Node& node, idx_t row) {
  switch (node.storage) {
    case Kind::uint8: return value_at<uint8_t>(node, row);
    case Kind::uint16: return value_at<uint16_t>(node, row);
    default: return value_at<uint32_t>(node, row);
  }
}

void append_json_value(const Node& node, std::string& out, idx_t row);
void append_text_value(const Node& node, std::string& out, idx_t row);

// Types whose text and JSON forms differ only in quoting or number/string choices.
void append_scalar(const Node& node, std::string& out, idx_t row, Style style) {
  const bool json = style == Style::json;
  switch (node.kind) {
    case Kind::boolean: out += value_at<bool>(node, row) ? "true" : "false"; return;
    case Kind::int8: append_integer(out, value_at<int8_t>(node, row)); return;
    case Kind::int16: append_integer(out, value_at<int16_t>(node, row)); return;
    case Kind::int32: append_integer(out, value_at<int32_t>(node, row)); return;
    case Kind::int64: append_int64(out, value_at<int64_t>(node, row), style); return;
    case Kind::uint8: append_integer(out, value_at<uint8_t>(node, row)); return;
    case Kind::uint16: append_integer(out, value_at<uint16_t>(node, row)); return;
    case Kind::uint32: append_integer(out, value_at<uint32_t>(node, row)); return;
    case Kind::uint64: append_uint64(out, value_at<uint64_t>(node, row), style); return;
    case Kind::int128: append_int128(out, to_int128(value_at<duckdb_hugeint>(node, row)), style); return;
    case Kind::uint128: append_uint128(out, to_uint128(value_at<duckdb_uhugeint>(node, row)), style); return;
    case Kind::float32: append_float(out, value_at<float>(node, row), style); return;
    case Kind::float64: append_float(out, value_at<double>(node, row), style); return;
    case Kind::decimal: append_decimal(out, decimal_at(node, row), node.scale, style); return;
    case Kind::date: append_date(out, value_at<duckdb_date>(node, row).days, style); return;
    case Kind::timestamp_s: append_timestamp(out, value_at<int64_t>(node, row), 1, 0, false, style); return;
    case Kind::timestamp_ms: append_timestamp(out, value_at<int64_t>(node, row), 1'000, 3, false, style); return;
    case Kind::timestamp_us:
      append_timestamp(out, value_at<int64_t>(node, row), kMicrosPerSecond, 6, false, style);
      return;
    case Kind::timestamp_ns:
      append_timestamp(out, value_at<int64_t>(node, row), 1'000'000'000, 9, false, style);
      return;
    case Kind::timestamp_tz:
      append_timestamp(out, value_at<int64_t>(node, row), kMicrosPerSecond, 6, true, style);
      return;
    default: break;
  }
  // The rest are strings in JSON.
  if (json) out += '"';
  switch (node.kind) {
    case Kind::time: append_clock(out, static_cast<uint64_t>(value_at<int64_t>(node, row)), kMicrosPerSecond, 6); break;
    case Kind::time_ns: append_clock(out, static_cast<uint64_t>(value_at<int64_t>(node, row)), 1'000'000'000, 9); break;
    case Kind::time_tz: append_time_tz(out, value_at<duckdb_time_tz>(node, row), style); break;
    case Kind::interval:
      if (json) {
        append_interval_iso(out, value_at<duckdb_interval>(node, row));
      } else {
        append_interval_text(out, value_at<duckdb_interval>(node, row));
      }
      break;
    case Kind::uuid: append_uuid(out, value_at<duckdb_hugeint>(node, row)); break;
    case Kind::bit: append_bits(out, string_at(node, row)); break;
    default: break;
  }
  if (json) out += '"';
}

void append_map_key(const Node& map, std::string& out, idx_t row) {
  const Node& key = *map.children[0];
  switch (map.key_mode) {
    case Node::KeyMode::varchar: append_json_string(out, string_at(key, row)); return;
    case Node::KeyMode::enumeration: {
      const uint32_t index = enum_index(key, row);
      if (index < key.json_labels.size()) {
        out += key.json_labels[index];
      } else {
        out += "\"\"";
      }
      return;
    }
    case Node::KeyMode::plain:
      out += '"';
      append_text_value(key, out, row);
      out += '"';
      return;
    case Node::KeyMode::escaped:
      key.scratch.clear();
      append_text_value(key, key.scratch, row);
      append_json_string(out, key.scratch);
      return;
  }
}

void append_json_value(const Node& node, std::string& out, idx_t row) {
  if (!is_valid(node, row)) {
    out += "null";
    return;
  }
  switch (node.kind) {
    case Kind::varchar: append_json_string(out, string_at(node, row)); return;
    case Kind::blob:
      out += '"';
      append_base64(out, string_at(node, row));
      out += '"';
      return;
    case Kind::enumeration: {
      const uint32_t index = enum_index(node, row);
      if (index < node.json_labels.size()) {
        out += node.json_labels[index];
      } else {
        out += "null";
      }
      return;
    }
    case Kind::list: {
      const auto entry = value_at<duckdb_list_entry>(node, row);
      out += '[';
      for (idx_t i = 0; i < entry.length; ++i) {
        if (i != 0) out += ',';
        append_json_value(*node.children[0], out, entry.offset + i);
      }
      out += ']';
      return;
    }
    case Kind::array: {
      const idx_t first = row * node.array_size;
      out += '[';
      for (idx_t i = 0; i < node.array_size; ++i) {
        if (i != 0) out += ',';
        append_json_value(*node.children[0], out, first + i);
      }
      out += ']';
      return;
    }
    case Kind::structure: {
      out += node.unnamed ? '[' : '{';
      for (size_t i = 0; i < node.children.size(); ++i) {
        if (i != 0) out += ',';
        if (!node.unnamed) out += node.json_labels[i];
        append_json_value(*node.children[i], out, row);
      }
      out += node.unnamed ? ']' : '}';
      return;
    }
    case Kind::map: {
      const auto entry = value_at<duckdb_list_entry>(node, row);
      out += '{';
      for (idx_t i = 0; i < entry.length; ++i) {
        if (i != 0) out += ',';
        append_map_key(node, out, entry.offset + i);
        out += ':';
        append_json_value(*node.children[1], out, entry.offset + i);
      }
      out += '}';
      return;
    }
    case Kind::union_type: {
      const uint8_t tag = node.union_tags[row];
      if (tag >= node.children.size()) {
        out += "null";
        return;
      }
      append_json_value(*node.children[tag], out, row);
      return;
    }
    default: append_scalar(node, out, row, Style::json); return;
  }
}

void append_text_value(const Node& node, std::string& out, idx_t row) {
  if (!is_valid(node, row)) return;
  switch (node.kind) {
    case Kind::varchar: out += string_at(node, row); return;
    case Kind::blob: append_blob_text(out, string_at(node, row)); return;
    case Kind::enumeration: {
      const uint32_t index = enum_index(node, row);
      if (index < node.labels.size()) out += node.labels[index];
      return;
    }
    case Kind::union_type: {
      // Like DuckDB: a union displays as its active member.
      const uint8_t tag = node.union_tags[row];
      if (tag < node.children.size()) append_text_value(*node.children[tag], out, row);
      return;
    }
    case Kind::list:
    case Kind::array:
    case Kind::structure:
    case Kind::map: append_json_value(node, out, row); return;
    default: append_scalar(node, out, row, Style::text); return;
  }
}

}  // namespace

Result<ColumnFormatter> ColumnFormatter::create(duckdb_logical_type type) {
  if (type == nullptr) return Error(ErrorCode::invalid_argument, "column type is missing");
  auto root = build_node(type);
  if (!root.ok()) return root.take_error();
  return ColumnFormatter(std::move(root).value());
}

ColumnFormatter::ColumnFormatter(std::unique_ptr<Node> root) : root_(std::move(root)) {}
ColumnFormatter::ColumnFormatter(ColumnFormatter&&) noexcept = default;
ColumnFormatter& ColumnFormatter::operator=(ColumnFormatter&&) noexcept = default;
ColumnFormatter::~ColumnFormatter() = default;

void ColumnFormatter::bind(duckdb_vector vector) {
  bind_node(*root_, vector);
}

bool ColumnFormatter::is_null(idx_t row) const {
  return !is_valid(*root_, row);
}

void ColumnFormatter::append_json(std::string& out, idx_t row) const {
  append_json_value(*root_, out, row);
}

void ColumnFormatter::append_text(std::string& out, idx_t row) const {
  append_text_value(*root_, out, row);
}

}  // namespace pluto::warehouse
