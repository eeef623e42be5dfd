// ColumnFormatter against real DuckDB vectors. Where text output is meant to match DuckDB's own
// display, each value is also cast to VARCHAR in the same query and the two are compared, so the
// tests prove fidelity rather than restate the implementation. Every JSON output is also checked
// with DuckDB's json_valid().
#include "pluto/warehouse/value_format.hpp"

#include <duckdb.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pluto::warehouse {
namespace {

struct Cell {
  std::string json;
  std::string text;
  bool null = false;
};
using Row = std::vector<Cell>;

class ValueFormatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(duckdb_open(nullptr, &db_), DuckDBSuccess);
    ASSERT_EQ(duckdb_connect(db_, &con_), DuckDBSuccess);
    // TIMESTAMPTZ casts to VARCHAR in the session time zone; the formatter always uses UTC.
    exec("SET TimeZone = 'UTC'");
    ASSERT_EQ(duckdb_prepare(con_, "SELECT json_valid($1)", &json_valid_), DuckDBSuccess);
  }

  void TearDown() override {
    duckdb_destroy_prepare(&json_valid_);
    duckdb_disconnect(&con_);
    duckdb_close(&db_);
  }

  void exec(const std::string& sql) {
    duckdb_result res;
    const bool ok = duckdb_query(con_, sql.c_str(), &res) == DuckDBSuccess;
    EXPECT_TRUE(ok) << sql << ": " << duckdb_result_error(&res);
    duckdb_destroy_result(&res);
  }

  bool is_valid_json(const std::string& s) {
    duckdb_bind_varchar_length(json_valid_, 1, s.data(), s.size());
    duckdb_result res;
    if (duckdb_execute_prepared(json_valid_, &res) != DuckDBSuccess) {
      duckdb_destroy_result(&res);
      return false;
    }
    const bool valid = duckdb_value_boolean(&res, 0, 0);
    duckdb_destroy_result(&res);
    return valid;
  }

  // Runs `sql` and formats every cell, chunk by chunk, the way the result writers do.
  std::vector<Row> run(const std::string& sql) {
    std::vector<Row> rows;
    duckdb_result res;
    if (duckdb_query(con_, sql.c_str(), &res) != DuckDBSuccess) {
      ADD_FAILURE() << sql << ": " << duckdb_result_error(&res);
      duckdb_destroy_result(&res);
      return rows;
    }
    const idx_t columns = duckdb_column_count(&res);
    std::vector<ColumnFormatter> formatters;
    for (idx_t c = 0; c < columns; ++c) {
      duckdb_logical_type type = duckdb_column_logical_type(&res, c);
      auto formatter = ColumnFormatter::create(type);
      duckdb_destroy_logical_type(&type);
      if (!formatter.ok()) {
        ADD_FAILURE() << sql << ": " << formatter.error().message;
        duckdb_destroy_result(&res);
        return rows;
      }
      formatters.push_back(std::move(formatter).value());
    }
    for (;;) {
      duckdb_data_chunk chunk = duckdb_fetch_chunk(res);
      if (chunk == nullptr) break;
      for (idx_t c = 0; c < columns; ++c) formatters[c].bind(duckdb_data_chunk_get_vector(chunk, c));
      const idx_t size = duckdb_data_chunk_get_size(chunk);
      for (idx_t r = 0; r < size; ++r) {
        Row row;
        for (idx_t c = 0; c < columns; ++c) {
          Cell cell;
          cell.null = formatters[c].is_null(r);
          formatters[c].append_json(cell.json, r);
          formatters[c].append_text(cell.text, r);
          row.push_back(std::move(cell));
        }
        rows.push_back(std::move(row));
      }
      duckdb_destroy_data_chunk(&chunk);
    }
    duckdb_destroy_result(&res);
    return rows;
  }

  struct Column {
    std::vector<std::string> json;
    std::vector<std::string> text;
  };

  // Formats each SQL expression cast to `type`, one row each, in order. With `vs_duckdb`, also
  // expects the text form to equal DuckDB's own CAST(... AS VARCHAR) of the same value.
  Column values(const std::string& type, const std::vector<std::string>& exprs, bool vs_duckdb = true) {
    std::string sql = "SELECT v, v::VARCHAR FROM (VALUES ";
    for (size_t i = 0; i < exprs.size(); ++i) {
      if (i != 0) sql += ", ";
      sql += '(';
      sql += std::to_string(i);
      sql += ", (";
      sql += exprs[i];
      sql += ")::";
      sql += type;
      sql += ')';
    }
    sql += ") t(i, v) ORDER BY i";
    Column out;
    const auto rows = run(sql);
    EXPECT_EQ(rows.size(), exprs.size()) << sql;
    for (const auto& row : rows) {
      const Cell& cell = row[0];
      EXPECT_TRUE(is_valid_json(cell.json)) << cell.json;
      if (vs_duckdb) {
        EXPECT_EQ(cell.text, row[1].text) << "text differs from DuckDB's VARCHAR cast for " << type;
      }
      EXPECT_EQ(cell.null, row[1].null);
      out.json.push_back(cell.json);
      out.text.push_back(cell.text);
    }
    return out;
  }

  // The single cell of a one-row, one-column query.
  Cell one(const std::string& sql) {
    const auto rows = run(sql);
    if (rows.size() != 1 || rows[0].size() != 1) {
      ADD_FAILURE() << sql << ": expected exactly one cell";
      return {};
    }
    EXPECT_TRUE(is_valid_json(rows[0][0].json)) << rows[0][0].json;
    return rows[0][0];
  }

  using Strings = std::vector<std::string>;

  duckdb_database db_ = nullptr;
  duckdb_connection con_ = nullptr;
  duckdb_prepared_statement json_valid_ = nullptr;
};

TEST_F(ValueFormatTest, Booleans) {
  const auto c = values("BOOLEAN", {"true", "false", "NULL"});
  EXPECT_EQ(c.json, (Strings{"true", "false", "null"}));
  EXPECT_EQ(c.text, (Strings{"true", "false", ""}));
}

TEST_F(ValueFormatTest, SmallIntegers) {
  EXPECT_EQ(values("TINYINT", {"-128", "127", "0"}).json, (Strings{"-128", "127", "0"}));
  EXPECT_EQ(values("SMALLINT", {"-32768", "32767"}).json, (Strings{"-32768", "32767"}));
  EXPECT_EQ(values("INTEGER", {"-2147483648", "2147483647", "NULL"}).json,
            (Strings{"-2147483648", "2147483647", "null"}));
  EXPECT_EQ(values("UTINYINT", {"255"}).json, (Strings{"255"}));
  EXPECT_EQ(values("USMALLINT", {"65535"}).json, (Strings{"65535"}));
  EXPECT_EQ(values("UINTEGER", {"4294967295"}).json, (Strings{"4294967295"}));
}

TEST_F(ValueFormatTest, BigIntegersBecomeStringsBeyondTwoToThe53) {
  const auto b = values("BIGINT", {"9007199254740992", "9007199254740993", "-9007199254740992", "-9007199254740993",
                                   "-9223372036854775808", "9223372036854775807"});
  EXPECT_EQ(b.json, (Strings{"9007199254740992", "\"9007199254740993\"", "-9007199254740992", "\"-9007199254740993\"",
                             "\"-9223372036854775808\"", "\"9223372036854775807\""}));
  EXPECT_EQ(b.text[1], "9007199254740993");

  const auto u = values("UBIGINT", {"9007199254740992", "9007199254740993", "18446744073709551615"});
  EXPECT_EQ(u.json, (Strings{"9007199254740992", "\"9007199254740993\"", "\"18446744073709551615\""}));
}

TEST_F(ValueFormatTest, HugeIntegers) {
  const auto h = values(
      "HUGEINT", {"0", "-1", "9007199254740992", "-9007199254740993", "18446744073709551616",
                  "-170141183460469231731687303715884105728", "170141183460469231731687303715884105727", "NULL"});
  EXPECT_EQ(h.json, (Strings{"0", "-1", "9007199254740992", "\"-9007199254740993\"", "\"18446744073709551616\"",
                             "\"-170141183460469231731687303715884105728\"",
                             "\"170141183460469231731687303715884105727\"", "null"}));
  EXPECT_EQ(h.text[6], "170141183460469231731687303715884105727");

  const auto u = values("UHUGEINT", {"42", "9007199254740993", "340282366920938463463374607431768211455"});
  EXPECT_EQ(u.json, (Strings{"42", "\"9007199254740993\"", "\"340282366920938463463374607431768211455\""}));
}

TEST_F(ValueFormatTest, Doubles) {
  const auto d = values("DOUBLE", {"0.1", "1.0", "'-0.0'", "1e15", "1e16", "0.0001", "0.00001", "1.5e300",
                                   "123456789.125", "'nan'", "'inf'", "'-inf'", "5e-324", "NULL"});
  EXPECT_EQ(d.json, (Strings{"0.1", "1.0", "-0.0", "1000000000000000.0", "1e+16", "0.0001", "1e-05", "1.5e+300",
                             "123456789.125", "\"NaN\"", "\"Infinity\"", "\"-Infinity\"", "5e-324", "null"}));
  EXPECT_EQ(d.text[9], "nan");
  EXPECT_EQ(d.text[10], "inf");
  EXPECT_EQ(d.text[11], "-inf");
}

TEST_F(ValueFormatTest, FloatsUseShortestFloatDigits) {
  const auto f = values("FLOAT", {"0.1", "1.0/3", "16777216", "1e16", "3.4028235e38", "'nan'", "'-inf'"});
  EXPECT_EQ(f.json, (Strings{"0.1", "0.33333334", "16777216.0", "1e+16", "3.4028235e+38", "\"NaN\"", "\"-Infinity\""}));
}

TEST_F(ValueFormatTest, DecimalsOfEveryWidth) {
  // DECIMAL(4,2) is stored as int16, (9,3) int32, (18,4) int64, (38,10) hugeint.
  const auto d16 = values("DECIMAL(4,2)", {"-0.05", "12.30", "-99.99", "0"});
  EXPECT_EQ(d16.json, (Strings{"-0.05", "12.30", "-99.99", "0.00"}));
  const auto d32 = values("DECIMAL(9,3)", {"-123456.789", "0.001", "-0.001"});
  EXPECT_EQ(d32.json, (Strings{"-123456.789", "0.001", "-0.001"}));
  const auto d64 = values("DECIMAL(18,4)", {"-12345678901234.5678", "123456789.0123", "-1"});
  EXPECT_EQ(d64.json, (Strings{"\"-12345678901234.5678\"", "123456789.0123", "-1.0000"}));
  const auto d128 = values("DECIMAL(38,10)", {"-1234567890123456789012345678.0123456789", "1.5", "-0.0000000001"});
  EXPECT_EQ(d128.json, (Strings{"\"-1234567890123456789012345678.0123456789\"", "1.5000000000", "-0.0000000001"}));
  EXPECT_EQ(d128.text[0], "-1234567890123456789012345678.0123456789");
  const auto scale0 = values("DECIMAL(18,0)", {"-123456789012345678", "42", "NULL"});
  EXPECT_EQ(scale0.json, (Strings{"\"-123456789012345678\"", "42", "null"}));
  // 15 significant digits stay a number, 16 become a string.
  const auto edge = values("DECIMAL(16,2)", {"1234567890123.45", "12345678901234.56"});
  EXPECT_EQ(edge.json, (Strings{"1234567890123.45", "\"12345678901234.56\""}));
}

TEST_F(ValueFormatTest, Dates) {
  const auto d = values("DATE", {"'2024-01-31'", "'1969-12-31'", "'0001-01-01'", "DATE '0001-01-01' - 1",
                                 "'0044-03-15 (BC)'", "'9999-12-31'", "'10000-01-01'", "'5881580-07-10'",
                                 "'5877642-06-25 (BC)'", "'infinity'", "'-infinity'", "NULL"});
  // JSON: ISO 8601 astronomical years (1 BC = 0000), expanded "+/-YYYYYY" outside 0000..9999.
  EXPECT_EQ(d.json, (Strings{"\"2024-01-31\"", "\"1969-12-31\"", "\"0001-01-01\"", "\"0000-12-31\"",
                             "\"-000043-03-15\"", "\"9999-12-31\"", "\"+010000-01-01\"", "\"+5881580-07-10\"",
                             "\"-5877641-06-25\"", "\"infinity\"", "\"-infinity\"", "null"}));
  // Text: DuckDB's own form (checked against the VARCHAR cast by values()).
  EXPECT_EQ(d.text[3], "0001-12-31 (BC)");
  EXPECT_EQ(d.text[6], "10000-01-01");
}

TEST_F(ValueFormatTest, Times) {
  const auto t =
      values("TIME", {"'13:45:00'", "'13:45:00.5'", "'00:00:00.000001'", "'23:59:59.999999'", "'24:00:00'", "NULL"});
  EXPECT_EQ(t.json, (Strings{"\"13:45:00\"", "\"13:45:00.5\"", "\"00:00:00.000001\"", "\"23:59:59.999999\"",
                             "\"24:00:00\"", "null"}));
}

TEST_F(ValueFormatTest, TimeNsIsNotExposedByTheCApi) {
  // DuckDB 1.4's C API reports TIME_NS columns as DUCKDB_TYPE_INVALID, so the formatter cannot
  // tell them apart from other unknown types and asks for a CAST instead of guessing.
  duckdb_result res;
  ASSERT_EQ(duckdb_query(con_, "SELECT '13:45:00.123456789'::TIME_NS", &res), DuckDBSuccess);
  duckdb_logical_type type = duckdb_column_logical_type(&res, 0);
  auto formatter = ColumnFormatter::create(type);
  duckdb_destroy_logical_type(&type);
  duckdb_destroy_result(&res);
  ASSERT_FALSE(formatter.ok());
  EXPECT_NE(formatter.error().message.find("INVALID"), std::string::npos) << formatter.error().message;
  EXPECT_NE(formatter.error().hint.find("VARCHAR"), std::string::npos);
  // The cast the hint suggests keeps every digit.
  EXPECT_EQ(one("SELECT '13:45:00.123456789'::TIME_NS::VARCHAR").json, "\"13:45:00.123456789\"");
}

TEST_F(ValueFormatTest, TimesWithTimeZone) {
  const auto t = values("TIMETZ", {"'13:45:00+02'", "'13:45:00.5-05:30'", "'12:00:00+00'", "'00:00:00-15:59:59'",
                                   "'23:59:59.999999+15:59:59'", "'08:00:00+01:30:30'"});
  EXPECT_EQ(t.json, (Strings{"\"13:45:00+02:00\"", "\"13:45:00.5-05:30\"", "\"12:00:00+00:00\"",
                             "\"00:00:00-15:59:59\"", "\"23:59:59.999999+15:59:59\"", "\"08:00:00+01:30:30\""}));
  EXPECT_EQ(t.text, (Strings{"13:45:00+02", "13:45:00.5-05:30", "12:00:00+00", "00:00:00-15:59:59",
                             "23:59:59.999999+15:59:59", "08:00:00+01:30:30"}));
  // DuckDB renders an offset of 30 seconds as "+00:30", which reads as 30 minutes (the two values
  // compare unequal in DuckDB); the formatter keeps the minutes: "+00:00:30".
  const auto seconds = values("TIMETZ", {"'08:00:00+00:00:30'", "'08:00:00-01:00:05'"}, false);
  EXPECT_EQ(seconds.json, (Strings{"\"08:00:00+00:00:30\"", "\"08:00:00-01:00:05\""}));
  EXPECT_EQ(seconds.text, (Strings{"08:00:00+00:00:30", "08:00:00-01:00:05"}));
}

TEST_F(ValueFormatTest, Timestamps) {
  const auto us =
      values("TIMESTAMP", {"'2024-01-31 13:45:00'", "'2024-01-31 13:45:00.123456'", "'2024-01-31 13:45:00.5'",
                           "'1969-12-31 23:59:59.999999'", "'0044-03-15 (BC) 12:00:00'",
                           "'294247-01-10 04:00:54.775806'", "'infinity'", "'-infinity'", "NULL"});
  EXPECT_EQ(us.json, (Strings{"\"2024-01-31T13:45:00\"", "\"2024-01-31T13:45:00.123456\"", "\"2024-01-31T13:45:00.5\"",
                              "\"1969-12-31T23:59:59.999999\"", "\"-000043-03-15T12:00:00\"",
                              "\"+294247-01-10T04:00:54.775806\"", "\"infinity\"", "\"-infinity\"", "null"}));
  EXPECT_EQ(us.text[0], "2024-01-31 13:45:00");

  const auto s = values("TIMESTAMP_S", {"'2024-01-31 13:45:07'", "'1960-01-01 00:00:01'", "'infinity'", "'-infinity'"});
  EXPECT_EQ(s.json, (Strings{"\"2024-01-31T13:45:07\"", "\"1960-01-01T00:00:01\"", "\"infinity\"", "\"-infinity\""}));

  const auto ms = values("TIMESTAMP_MS", {"'2024-01-31 13:45:00.123'", "'2024-01-31 13:45:00.100'",
                                          "'1969-12-31 23:59:59.999'", "'infinity'"});
  EXPECT_EQ(ms.json, (Strings{"\"2024-01-31T13:45:00.123\"", "\"2024-01-31T13:45:00.1\"", "\"1969-12-31T23:59:59.999\"",
                              "\"infinity\""}));

  const auto ns = values("TIMESTAMP_NS", {"'2024-01-31 13:45:00.123456789'", "'2024-01-31 13:45:00.000000001'",
                                          "'2024-01-31 13:45:00.120'", "'1677-09-22 00:00:00'",
                                          "'1969-12-31 23:59:59.999999999'", "'infinity'", "'-infinity'"});
  EXPECT_EQ(ns.json, (Strings{"\"2024-01-31T13:45:00.123456789\"", "\"2024-01-31T13:45:00.000000001\"",
                              "\"2024-01-31T13:45:00.12\"", "\"1677-09-22T00:00:00\"",
                              "\"1969-12-31T23:59:59.999999999\"", "\"infinity\"", "\"-infinity\""}));
}

TEST_F(ValueFormatTest, TimestampsWithTimeZoneAreUtc) {
  const auto tz = values("TIMESTAMPTZ", {"'2024-01-31 13:45:00+02'", "'2024-01-31 13:45:00.25Z'",
                                         "'0001-01-01 00:00:00+00'", "'infinity'", "'-infinity'", "NULL"});
  EXPECT_EQ(tz.json, (Strings{"\"2024-01-31T11:45:00Z\"", "\"2024-01-31T13:45:00.25Z\"", "\"0001-01-01T00:00:00Z\"",
                              "\"infinity\"", "\"-infinity\"", "null"}));
  EXPECT_EQ(tz.text, (Strings{"2024-01-31 11:45:00+00", "2024-01-31 13:45:00.25+00", "0001-01-01 00:00:00+00",
                              "infinity", "-infinity", ""}));
}

TEST_F(ValueFormatTest, Intervals) {
  const auto i =
      values("INTERVAL", {"INTERVAL '1 year 2 months 3 days 4 hours 5 minutes 6.5 seconds'", "INTERVAL '0 seconds'",
                          "INTERVAL '-1 day'", "INTERVAL '1 month -3 days'", "INTERVAL '-90 minutes'",
                          "INTERVAL '14 months'", "INTERVAL '-0.5 seconds'", "INTERVAL '100 hours'",
                          "INTERVAL '1 microsecond'", "INTERVAL '-2 years 3 months'", "NULL"});
  EXPECT_EQ(i.json, (Strings{"\"P1Y2M3DT4H5M6.5S\"", "\"PT0S\"", "\"P-1D\"", "\"P1M-3D\"", "\"PT-1H-30M\"", "\"P1Y2M\"",
                             "\"PT-0.5S\"", "\"PT100H\"", "\"PT0.000001S\"", "\"P-1Y-9M\"", "null"}));
  EXPECT_EQ(i.text[0], "1 year 2 months 3 days 04:05:06.5");
  EXPECT_EQ(i.text[1], "00:00:00");
}

TEST_F(ValueFormatTest, Uuids) {
  const auto u = values("UUID", {"'00000000-0000-0000-0000-000000000000'", "'ffffffff-ffff-ffff-ffff-ffffffffffff'",
                                 "'7fffffff-ffff-ffff-ffff-ffffffffffff'", "'80000000-0000-0000-0000-000000000001'",
                                 "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", "gen_random_uuid()", "NULL"});
  EXPECT_EQ(u.json[0], "\"00000000-0000-0000-0000-000000000000\"");
  EXPECT_EQ(u.json[1], "\"ffffffff-ffff-ffff-ffff-ffffffffffff\"");
  EXPECT_EQ(u.json[4], "\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"");
  EXPECT_EQ(u.json[6], "null");
}

TEST_F(ValueFormatTest, Varchars) {
  const auto v =
      values("VARCHAR", {"''", "'short'", "'exactly12chr'", "'a longer string that is not inlined'",
                         "'quote \" backslash \\ tab' || chr(9) || 'nl' || chr(10)", "'héllo 🦆'", "NULL"});
  EXPECT_EQ(v.json, (Strings{"\"\"", "\"short\"", "\"exactly12chr\"", "\"a longer string that is not inlined\"",
                             "\"quote \\\" backslash \\\\ tab\\tnl\\n\"", "\"héllo 🦆\"", "null"}));
  EXPECT_EQ(v.text[4], "quote \" backslash \\ tab\tnl\n");
}

TEST_F(ValueFormatTest, Blobs) {
  const auto b = values(
      "BLOB", {"unhex('5C27220A7E7F2000FF41')", "'abc'", "''", "'\\x00\\x01 twenty bytes of data\\xFE'", "NULL"});
  EXPECT_EQ(b.json,
            (Strings{"\"XCciCn5/IAD/QQ==\"", "\"YWJj\"", "\"\"", "\"AAEgdHdlbnR5IGJ5dGVzIG9mIGRhdGH+\"", "null"}));
  EXPECT_EQ(b.text[0], "\\x5C\\x27\\x22\\x0A~\\x7F \\x00\\xFFA");
}

TEST_F(ValueFormatTest, Enums) {
  exec("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy \"yes\"')");
  const auto m = values("mood", {"'ok'", "'happy \"yes\"'", "'sad'", "NULL"});
  EXPECT_EQ(m.json, (Strings{"\"ok\"", "\"happy \\\"yes\\\"\"", "\"sad\"", "null"}));
  EXPECT_EQ(m.text[1], "happy \"yes\"");

  // More than 255 labels: stored as uint16.
  exec("CREATE TYPE many AS ENUM (SELECT 'label' || i::VARCHAR FROM range(300) t(i))");
  const auto many = values("many", {"'label0'", "'label299'"});
  EXPECT_EQ(many.json, (Strings{"\"label0\"", "\"label299\""}));
}

TEST_F(ValueFormatTest, Bits) {
  const auto b = values("BIT", {"'0101'", "'101010101'", "'1'", "'11110000'", "'0000000011111111000'", "NULL"});
  EXPECT_EQ(b.json, (Strings{"\"0101\"", "\"101010101\"", "\"1\"", "\"11110000\"", "\"0000000011111111000\"", "null"}));
}

TEST_F(ValueFormatTest, ListsWithNulls) {
  const auto l = values("INTEGER[]", {"[1, NULL, 3]", "[]", "NULL", "[NULL]"}, false);
  EXPECT_EQ(l.json, (Strings{"[1,null,3]", "[]", "null", "[null]"}));
  EXPECT_EQ(l.text, (Strings{"[1,null,3]", "[]", "", "[null]"}));
  const auto nested = values("VARCHAR[][]", {"[['a', NULL], NULL, []]"}, false);
  EXPECT_EQ(nested.json, (Strings{"[[\"a\",null],null,[]]"}));
}

TEST_F(ValueFormatTest, FixedSizeArrays) {
  const auto a = values("INTEGER[3]", {"[1, 2, 3]", "[NULL, 5, NULL]", "NULL"}, false);
  EXPECT_EQ(a.json, (Strings{"[1,2,3]", "[null,5,null]", "null"}));
  const auto d = values("DOUBLE[2][2]", {"[[1.5, 2], [NULL, 'nan'::DOUBLE]]"}, false);
  EXPECT_EQ(d.json, (Strings{"[[1.5,2.0],[null,\"NaN\"]]"}));
}

TEST_F(ValueFormatTest, StructsWithNulls) {
  const auto s = values(
      "STRUCT(a INTEGER, \"b \"\"q\"\"\" VARCHAR, c DATE)",
      {"{'a': 1, 'b \"q\"': 'x', 'c': DATE '2024-01-31'}", "{'a': NULL, 'b \"q\"': NULL, 'c': NULL}", "NULL"}, false);
  EXPECT_EQ(s.json, (Strings{"{\"a\":1,\"b \\\"q\\\"\":\"x\",\"c\":\"2024-01-31\"}",
                             "{\"a\":null,\"b \\\"q\\\"\":null,\"c\":null}", "null"}));
  EXPECT_EQ(s.text[0], s.json[0]);
}

TEST_F(ValueFormatTest, UnnamedStructIsAnArray) {
  const Cell c = one("SELECT row(1, 'a', NULL)");
  EXPECT_EQ(c.json, "[1,\"a\",null]");
}

TEST_F(ValueFormatTest, ListOfStructs) {
  const Cell c =
      one("SELECT [{'x': 1, 'y': 'a', 'z': [1.5::DECIMAL(4,1)]}, NULL, {'x': NULL, 'y': 'b\"', 'z': NULL}, "
          "{'x': 3, 'y': NULL, 'z': []}]");
  EXPECT_EQ(c.json,
            "[{\"x\":1,\"y\":\"a\",\"z\":[1.5]},null,{\"x\":null,\"y\":\"b\\\"\",\"z\":null},"
            "{\"x\":3,\"y\":null,\"z\":[]}]");
  EXPECT_EQ(c.text, c.json);
}

TEST_F(ValueFormatTest, Maps) {
  const auto m = values("MAP(VARCHAR, INTEGER)", {"MAP {'k1': 1, 'k\"2': NULL}", "MAP {}", "NULL"}, false);
  EXPECT_EQ(m.json, (Strings{"{\"k1\":1,\"k\\\"2\":null}", "{}", "null"}));

  // Non-string keys use their text form.
  EXPECT_EQ(one("SELECT MAP {1: 'a', -2: 'b'}").json, "{\"1\":\"a\",\"-2\":\"b\"}");
  EXPECT_EQ(one("SELECT MAP {DATE '2024-01-31': [1, 2]}").json, "{\"2024-01-31\":[1,2]}");
  EXPECT_EQ(one("SELECT MAP {TIMESTAMP '2024-01-31 13:45:00': true}").json, "{\"2024-01-31 13:45:00\":true}");
  EXPECT_EQ(one("SELECT MAP {'\\xFF\"'::BLOB: 1}").json, "{\"\\\\xFF\\\\x22\":1}");
  EXPECT_EQ(one("SELECT MAP {[1, 2]: 'list key'}").json, "{\"[1,2]\":\"list key\"}");
  EXPECT_EQ(one("SELECT MAP {{'a': 'x'}: 1}").json, "{\"{\\\"a\\\":\\\"x\\\"}\":1}");
  exec("CREATE TYPE color AS ENUM ('red', 'gr\"een')");
  EXPECT_EQ(one("SELECT MAP {'gr\"een'::color: 1, 'red'::color: 2}").json, "{\"gr\\\"een\":1,\"red\":2}");
}

TEST_F(ValueFormatTest, Unions) {
  const auto u =
      values("UNION(num INTEGER, s VARCHAR, l INTEGER[])",
             {"union_value(num := 2)", "union_value(s := 'hi \"x\"')", "union_value(l := [1, NULL])", "NULL"}, false);
  EXPECT_EQ(u.json, (Strings{"2", "\"hi \\\"x\\\"\"", "[1,null]", "null"}));
  EXPECT_EQ(u.text, (Strings{"2", "hi \"x\"", "[1,null]", ""}));
  // A union displays as its active member, like DuckDB.
  const auto scalar = values("UNION(num INTEGER, s VARCHAR)", {"union_value(num := 7)", "union_value(s := 'x')"});
  EXPECT_EQ(scalar.text, (Strings{"7", "x"}));
}

TEST_F(ValueFormatTest, NullLiterals) {
  // DuckDB types a bare NULL in a result as INTEGER; SQLNULL itself is tested below.
  const auto rows = run("SELECT NULL AS n, [NULL, NULL] AS l, {'a': NULL} AS s");
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_TRUE(rows[0][0].null);
  EXPECT_EQ(rows[0][0].json, "null");
  EXPECT_EQ(rows[0][0].text, "");
  EXPECT_EQ(rows[0][1].json, "[null,null]");
  EXPECT_EQ(rows[0][2].json, "{\"a\":null}");
}

TEST_F(ValueFormatTest, SqlNullTypeDirectly) {
  duckdb_logical_type type = duckdb_create_logical_type(DUCKDB_TYPE_SQLNULL);
  auto formatter = ColumnFormatter::create(type);
  duckdb_destroy_logical_type(&type);
  ASSERT_TRUE(formatter.ok());
  duckdb_logical_type vector_type = duckdb_create_logical_type(DUCKDB_TYPE_INTEGER);
  duckdb_vector vector = duckdb_create_vector(vector_type, 1);
  duckdb_destroy_logical_type(&vector_type);
  formatter->bind(vector);
  std::string json;
  formatter->append_json(json, 0);
  EXPECT_EQ(json, "null");
  EXPECT_TRUE(formatter->is_null(0));
  duckdb_destroy_vector(&vector);
}

TEST_F(ValueFormatTest, ManyChunksRebind) {
  const auto rows =
      run("SELECT i, CASE WHEN i % 7 = 0 THEN NULL ELSE [i, NULL] END, {'s': 'v' || i::VARCHAR}, "
          "i::DECIMAL(38,2) FROM range(5000) t(i) ORDER BY i");
  ASSERT_EQ(rows.size(), 5000U);
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto n = std::to_string(i);
    ASSERT_EQ(rows[i][0].json, n);
    ASSERT_EQ(rows[i][1].json, i % 7 == 0 ? "null" : "[" + n + ",null]");
    ASSERT_EQ(rows[i][2].json, "{\"s\":\"v" + n + "\"}");
    ASSERT_EQ(rows[i][3].text, n + ".00");
  }
}

TEST_F(ValueFormatTest, UnsupportedTypeNamesItAndHintsCast) {
  duckdb_result res;
  ASSERT_EQ(duckdb_query(con_,
                         "SELECT 12345678901234567890123456789012345678901234567890::BIGNUM AS big, "
                         "[1::BIGNUM] AS big_list",
                         &res),
            DuckDBSuccess);
  for (idx_t c = 0; c < 2; ++c) {
    duckdb_logical_type type = duckdb_column_logical_type(&res, c);
    auto formatter = ColumnFormatter::create(type);
    duckdb_destroy_logical_type(&type);
    ASSERT_FALSE(formatter.ok());
    EXPECT_EQ(formatter.error().code, ErrorCode::invalid_argument);
    EXPECT_NE(formatter.error().message.find("BIGNUM"), std::string::npos) << formatter.error().message;
    EXPECT_NE(formatter.error().hint.find("VARCHAR"), std::string::npos) << formatter.error().hint;
  }
  duckdb_destroy_result(&res);

  auto missing = ColumnFormatter::create(nullptr);
  EXPECT_FALSE(missing.ok());
}

TEST_F(ValueFormatTest, FormatterIsMovable) {
  duckdb_logical_type type = duckdb_create_logical_type(DUCKDB_TYPE_INTEGER);
  auto created = ColumnFormatter::create(type);
  duckdb_destroy_logical_type(&type);
  ASSERT_TRUE(created.ok());
  ColumnFormatter a = std::move(created).value();
  ColumnFormatter b = std::move(a);
  duckdb_logical_type vector_type = duckdb_create_logical_type(DUCKDB_TYPE_INTEGER);
  duckdb_vector vector = duckdb_create_vector(vector_type, 2);
  duckdb_destroy_logical_type(&vector_type);
  auto* data = static_cast<int32_t*>(duckdb_vector_get_data(vector));
  data[0] = 42;
  duckdb_vector_ensure_validity_writable(vector);
  duckdb_validity_set_row_invalid(duckdb_vector_get_validity(vector), 1);
  b.bind(vector);
  std::string out;
  b.append_json(out, 0);
  out += ',';
  b.append_json(out, 1);
  EXPECT_EQ(out, "42,null");
  duckdb_destroy_vector(&vector);
}

}  // namespace
}  // namespace pluto::warehouse
