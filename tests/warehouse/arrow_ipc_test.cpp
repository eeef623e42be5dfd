// The Arrow IPC stream writer, read back by an independent reader: the apache-arrow npm package
// (tests/js, installed by scripts/setup) through tests/warehouse/arrow_dump.mjs.
#include "pluto/warehouse/arrow_ipc.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "arrow_reader.hpp"
#include "pluto/warehouse/arrow_c_data.hpp"
#include "pluto/warehouse/warehouse.hpp"
#include "pluto/warehouse/writers.hpp"

namespace pluto::warehouse {
namespace {

using nlohmann::json;

class ArrowIpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto w = Warehouse::open(WarehouseOptions{});
    ASSERT_TRUE(w.ok());
    wh_ = std::move(w).value();
  }
  // The result of `sql` (the last statement's) as an Arrow stream.
  Result<std::string> arrow(const std::string& sql, WriteOptions o = {}) {
    auto lease = wh_->pool().acquire();
    auto r = lease.value()->execute(sql, true);
    if (!r.ok()) return r.take_error();
    o.format = OutputFormat::arrow;
    std::string out;
    auto s = write_result(r.value(), o, string_sink(out));
    if (!s.ok()) {
      EXPECT_EQ(out, "") << "bytes were written before the error";
      return s.take_error();
    }
    EXPECT_EQ(s.value().rows_written, s.value().rows_total);
    return out;
  }
  // Writes and reads back; fails the test on any error.
  json round_trip(const std::string& sql) {
    auto bytes = arrow(sql);
    if (!bytes.ok()) {
      ADD_FAILURE() << bytes.error().message;
      return json();
    }
    return testing_arrow::read_arrow_stream(bytes.value());
  }
  static json types(const json& table) {
    json out = json::array();
    for (const auto& f : table["fields"]) out.push_back({f["name"], f["type"]});
    return out;
  }
  std::unique_ptr<Warehouse> wh_;
};

TEST_F(ArrowIpcTest, ScalarTypesReadBackExactly) {
  const auto t = round_trip(R"sql(
    SET TimeZone = 'Asia/Tokyo';
    CREATE TABLE t(id INT, b BOOLEAN, i8 TINYINT, i16 SMALLINT, i32 INTEGER, i64 BIGINT, u8 UTINYINT,
      u16 USMALLINT, u32 UINTEGER, u64 UBIGINT, f32 FLOAT, f64 DOUBLE, s VARCHAR, bin BLOB, d DATE, tm TIME,
      ts TIMESTAMP, tstz TIMESTAMPTZ, ts_s TIMESTAMP_S, ts_ms TIMESTAMP_MS, ts_ns TIMESTAMP_NS,
      dec4 DECIMAL(4,1), dec18 DECIMAL(18,3), dec38 DECIMAL(38,10), hi HUGEINT, iv INTERVAL, uid UUID);
    INSERT INTO t VALUES
      (1, true, -128, -32768, -2147483648, -9223372036854775808, 255, 65535, 4294967295,
       18446744073709551615, -1.5, -0.1, 'Zoë 🦆 "q"' || chr(10), '\x00\xFFA'::BLOB, '1969-12-31',
       '23:59:59.999999', '1969-12-31 23:59:59.999999', '2024-01-31 13:45:00+02', '2024-01-31 13:45:07',
       '2024-01-31 13:45:07.123', '2024-01-31 13:45:07.123456789', -123.4, -123456789012345.678,
       -1234567890123456789012345678.0123456789, -12345678901234567890123,
       INTERVAL '1 year 2 months 3 days 04:05:06.5', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
      (2, false, 127, 32767, 2147483647, 9223372036854775807, 0, 0, 0, 0, 'inf', 'nan', '', ''::BLOB,
       '2024-02-29', '00:00:00', '2024-02-29 00:00:00', '1970-01-01 00:00:00+00', '1970-01-01', '1970-01-01',
       '1970-01-01', 0.0, 0.001, 0.0000000001, 0, INTERVAL '-1 day -1 second',
       '00000000-0000-0000-0000-000000000000'),
      (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    SELECT * FROM t ORDER BY id)sql");
  EXPECT_EQ(types(t), json::parse(R"([["id","Int32"],["b","Bool"],["i8","Int8"],["i16","Int16"],["i32","Int32"],
    ["i64","Int64"],["u8","Uint8"],["u16","Uint16"],["u32","Uint32"],["u64","Uint64"],["f32","Float32"],
    ["f64","Float64"],["s","Utf8"],["bin","Binary"],["d","Date32<DAY>"],["tm","Time64<MICROSECOND>"],
    ["ts","Timestamp<MICROSECOND>"],["tstz","Timestamp<MICROSECOND, Asia/Tokyo>"],["ts_s","Timestamp<SECOND>"],
    ["ts_ms","Timestamp<MILLISECOND>"],["ts_ns","Timestamp<NANOSECOND>"],["dec4","Decimal[4e+1]"],
    ["dec18","Decimal[18e+3]"],["dec38","Decimal[38e+10]"],["hi","Decimal[38e0]"],
    ["iv","Interval<MONTH_DAY_NANO>"],["uid","Utf8"]])"));
  for (const auto& f : t["fields"]) EXPECT_TRUE(f["nullable"].get<bool>()) << f["name"];
  EXPECT_EQ(t["batches"], 1);
  EXPECT_EQ(t["rows"][0], json::parse(R"([1, true, -128, -32768, -2147483648, "-9223372036854775808", 255, 65535,
    4294967295, "18446744073709551615", -1.5, -0.1, "Zoë 🦆 \"q\"\n", "00ff41", "-1", "86399999999", "-1",
    "1706701500000000", "1706708707", "1706708707123", "1706708707123456789", "-123.4", "-123456789012345.678",
    "-1234567890123456789012345678.0123456789", "-12345678901234567890123", [14, 3, "14706500000000"],
    "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"])"));
  EXPECT_EQ(t["rows"][1], json::parse(R"([2, false, 127, 32767, 2147483647, "9223372036854775807", 0, 0, 0, "0",
    "Infinity", "NaN", "", "", "19782", "0", "1709164800000000", "0", "0", "0", "0", "0.0", "0.001",
    "0.0000000001", "0", [0, -1, "-1000000000"], "00000000-0000-0000-0000-000000000000"])"));
  json nulls = json::array({3});
  for (int i = 1; i < 27; ++i) nulls.push_back(nullptr);
  EXPECT_EQ(t["rows"][2], nulls);
}

TEST_F(ArrowIpcTest, FloatSpecialsAndOtherExports) {
  const auto t = round_trip(
      "SELECT '-0.0'::DOUBLE AS nz, '-inf'::FLOAT AS ninf, 'nan'::FLOAT AS nan, 1e308::DOUBLE AS big, "
      "NULL AS untyped, '{\"a\": [1]}'::JSON AS js, '0101'::BIT AS bits, TIMETZ '12:00:00+02' AS ttz, "
      "1::UHUGEINT AS uh");
  EXPECT_EQ(types(t), json::parse(R"([["nz","Float64"],["ninf","Float32"],["nan","Float32"],["big","Float64"],
    ["untyped","Int32"],["js","Utf8"],["bits","Binary"],["ttz","Time64<MICROSECOND>"],["uh","FixedSizeBinary[16]"]])"));
  EXPECT_EQ(t["rows"], json::parse(R"([["-0", "-Infinity", "NaN", 1e308, null, "{\"a\": [1]}", "04f5",
    "43200000000", "01000000000000000000000000000000"]])"));
  // Extension types keep DuckDB's metadata.
  EXPECT_EQ(t["fields"][8]["metadata"], json::parse(R"({"ARROW:extension:name":"arrow.opaque",
                            "ARROW:extension:metadata":"{\"type_name\":\"uhugeint\",\"vendor_name\":\"DuckDB\"}"})"));
}

TEST_F(ArrowIpcTest, NestedTypes) {
  const auto t = round_trip(R"sql(
    CREATE TABLE n(id INT, l INT[], a INT[2], st STRUCT(a INT, b VARCHAR), m MAP(VARCHAR, INT),
      u UNION(n INT, s VARCHAR), deep STRUCT(xs VARCHAR[], "inner" STRUCT(d DATE))[]);
    INSERT INTO n VALUES
      (1, [1, NULL, -3], [1, 2], {'a': -1, 'b': 'x'}, MAP {'k': 1, 'j': NULL}, union_value(n := -7),
       [{'xs': ['p', NULL, ''], 'inner': {'d': DATE '1970-01-02'}}, NULL]),
      (2, [], [NULL, 4], {'a': NULL, 'b': NULL}, MAP {}, union_value(s := 'hi'), []),
      (3, NULL, NULL, NULL, NULL, NULL, NULL);
    SELECT * FROM n ORDER BY id)sql");
  EXPECT_EQ(types(t), json::parse(R"([["id","Int32"],["l","List<Int32>"],["a","FixedSizeList[2]<Int32>"],
    ["st","Struct<{a:Int32, b:Utf8}>"],["m","Map<{key:Utf8, value:Int32}>"],["u","Union<Int32 | Utf8>"],
    ["deep","List<Struct<{xs:List<Utf8>, inner:Struct<{d:Date32<DAY>}>}>>"]])"));
  EXPECT_EQ(t["rows"], json::parse(R"([
    [1, [1, null, -3], [1, 2], {"a": -1, "b": "x"}, [["k", 1], ["j", null]], -7,
     [{"xs": ["p", null, ""], "inner": {"d": "1"}}, null]],
    [2, [], [null, 4], {"a": null, "b": null}, [], "hi", []],
    [3, null, null, null, null, null, null]])"));
}

TEST_F(ArrowIpcTest, ManyBatchesWithNullsNegativesAndUnicode) {
  const auto t = round_trip(
      "SELECT range AS n, CASE WHEN range % 7 = 0 THEN NULL ELSE -range END AS neg, "
      "repeat('é', (range % 5)::INT) AS s, range % 3 = 0 AS b FROM range(5000)");
  ASSERT_GE(t["batches"].get<int>(), 3);  // DuckDB chunks of 2048 rows
  int64_t sum = 0;
  for (const auto& n : t["batch_rows"]) sum += n.get<int64_t>();
  EXPECT_EQ(sum, 5000);
  ASSERT_EQ(t["rows"].size(), 5000U);
  for (int64_t i = 0; i < 5000; ++i) {
    std::string s;
    for (int64_t k = 0; k < i % 5; ++k) s += "é";
    const json want = {std::to_string(i), i % 7 == 0 ? json() : json(std::to_string(-i)), s, i % 3 == 0};
    ASSERT_EQ(t["rows"][static_cast<size_t>(i)], want) << "row " << i;
  }
}

TEST_F(ArrowIpcTest, EnumIsADictionarySentOnce) {
  auto bytes = arrow(
      "SELECT range AS n, (['red', 'green', 'blue'])[range % 3 + 1]::ENUM('red', 'green', 'blue') AS c, "
      "CASE WHEN range % 4 = 0 THEN NULL ELSE 'x'::ENUM('x', 'y') END AS maybe FROM range(5000)");
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  const auto t = testing_arrow::read_arrow_stream(bytes.value());
  EXPECT_EQ(t["fields"][1]["dictionary"], json::parse(R"({"id":0,"indices":"Uint8","values":"Utf8","ordered":false})"));
  EXPECT_EQ(t["fields"][2]["dictionary"]["id"], 1);
  ASSERT_EQ(t["rows"].size(), 5000U);
  const char* colors[] = {"red", "green", "blue"};
  for (size_t i = 0; i < 5000; ++i) {
    ASSERT_EQ(t["rows"][i][1], colors[i % 3]) << i;
    ASSERT_EQ(t["rows"][i][2], i % 4 == 0 ? json() : json("x")) << i;
  }
  // Schema, both dictionaries once, then one record batch per chunk.
  const auto msgs = testing_arrow::message_types(bytes.value());
  ASSERT_GE(msgs.size(), 5U);
  EXPECT_EQ(msgs[0], testing_arrow::kSchema);
  EXPECT_EQ(msgs[1], testing_arrow::kDictionaryBatch);
  EXPECT_EQ(msgs[2], testing_arrow::kDictionaryBatch);
  for (size_t i = 3; i < msgs.size(); ++i) EXPECT_EQ(msgs[i], testing_arrow::kRecordBatch) << i;
  EXPECT_EQ(msgs.size() - 3, t["batches"].get<size_t>());
}

TEST_F(ArrowIpcTest, ZeroRowsKeepTheSchema) {
  auto bytes = arrow("SELECT 1::BIGINT AS a, 'x' AS b, [1.5] AS c WHERE false");
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  const auto t = testing_arrow::read_arrow_stream(bytes.value());
  EXPECT_EQ(t["batches"], 0);
  EXPECT_EQ(t["rows"], json::array());
  EXPECT_EQ(types(t), json::parse(R"([["a","Int64"],["b","Utf8"],["c","List<Decimal[2e+1]>"]])"));
  EXPECT_EQ(testing_arrow::message_types(bytes.value()), std::vector<int>{testing_arrow::kSchema});
}

TEST_F(ArrowIpcTest, StringViewsAreWrittenAsPlainStrings) {
  // With these settings DuckDB hands out utf8/binary views (16-byte views and data buffers).
  const auto t = round_trip(
      "SET produce_arrow_string_view = true; SET arrow_output_version = '1.5'; "
      "SELECT s, encode(s) AS bin, [s, NULL] AS l FROM (VALUES ('short'), (NULL), (''), "
      "('a string longer than twelve bytes, ünïcode')) v(s)");
  EXPECT_EQ(types(t), json::parse(R"([["s","Utf8"],["bin","Binary"],["l","List<Utf8>"]])"));
  EXPECT_EQ(t["rows"], json::parse(R"([["short", "73686f7274", ["short", null]], [null, null, [null, null]],
    ["", "", ["", null]], ["a string longer than twelve bytes, ünïcode",
    "6120737472696e67206c6f6e676572207468616e207477656c76652062797465732c20c3bc6ec3af636f6465",
    ["a string longer than twelve bytes, ünïcode", null]]])"));
}

TEST_F(ArrowIpcTest, LargeBuffersAndLosslessExports) {
  const auto t = round_trip(
      "SET arrow_large_buffer_size = true; SET arrow_lossless_conversion = true; "
      "SELECT 'x' AS s, 'x'::BLOB AS b, [1] AS l, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::UUID AS u");
  EXPECT_EQ(types(t), json::parse(R"([["s","LargeUtf8"],["b","LargeBinary"],["l","LargeList<Int32>"],
    ["u","FixedSizeBinary[16]"]])"));
  EXPECT_EQ(t["rows"], json::parse(R"([["x", "78", [1], "a0eebc999c0b4ef8bb6d6bb9bd380a11"]])"));
  EXPECT_EQ(t["fields"][3]["metadata"]["ARROW:extension:name"], "arrow.uuid");
}

TEST_F(ArrowIpcTest, StreamFraming) {
  auto bytes = arrow("SELECT range AS n, range::VARCHAR AS s FROM range(3000)");
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  // message_types checks continuation markers, 8-byte alignment, version V5 and the end marker.
  const auto msgs = testing_arrow::message_types(bytes.value());
  EXPECT_EQ(msgs, (std::vector<int>{testing_arrow::kSchema, testing_arrow::kRecordBatch, testing_arrow::kRecordBatch}));
  const std::string eos("\xFF\xFF\xFF\xFF\0\0\0\0", 8);
  EXPECT_EQ(bytes.value().substr(bytes.value().size() - 8), eos);
}

TEST_F(ArrowIpcTest, UnsupportedTypesAreRefusedBeforeAnyByte) {
  auto r = arrow("SELECT 1 AS ok, TIME_NS '12:00:00' AS tns");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(r.error().message.find("column \"tns\" of type TIME_NS"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().hint.find("CAST(\"tns\" AS VARCHAR)"), std::string::npos) << r.error().hint;

  // The same check without fetching rows (the HTTP download runs it before answering).
  auto lease = wh_->pool().acquire();
  auto q = lease.value()->execute("SELECT TIME_NS '12:00:00' AS tns LIMIT 0", true);
  ASSERT_TRUE(q.ok());
  auto st = check_arrow_columns(q.value());
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("TIME_NS"), std::string::npos);
  q = lease.value()->execute("SELECT 1 AS a, [{'x': 'y'::ENUM('y')}] AS b LIMIT 0", true);
  ASSERT_TRUE(q.ok());
  st = check_arrow_columns(q.value());
  EXPECT_TRUE(st.ok()) << st.error().message;

  // List views (a setting away in DuckDB) are refused with a hint to turn them off.
  r = arrow("SET arrow_output_version = '1.5'; SET arrow_output_list_view = true; SELECT [1, 2] AS xs");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("column \"xs\" of type INTEGER[]"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("'+vl'"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().hint.find("arrow_output_list_view"), std::string::npos) << r.error().hint;
}

TEST_F(ArrowIpcTest, StopsCooperativelyAndRefusesPaging) {
  WriteOptions o;
  std::function<bool()> stop = [] { return true; };
  o.should_stop = &stop;
  auto r = arrow("SELECT range FROM range(100000)", o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::cancelled);
  WriteOptions paged;
  paged.max_rows = 10;
  r = arrow("SELECT 1", paged);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
}

// ---- hand-made C Data Interface arrays: offsets and layouts DuckDB does not produce --------------

struct Node {
  std::string format;
  std::string name;
  std::vector<std::unique_ptr<Node>> children;
  std::unique_ptr<Node> dictionary;
  std::vector<const void*> buffers;
  int64_t length = 0;
  int64_t offset = 0;
  int64_t null_count = 0;
  ArrowSchema schema{};
  ArrowArray array{};
  std::vector<ArrowSchema*> schema_children;
  std::vector<ArrowArray*> array_children;

  Node* add(std::unique_ptr<Node> c) {
    children.push_back(std::move(c));
    return children.back().get();
  }
  // Fills the C structs (release stays null: the test owns everything).
  void wire() {
    for (auto& c : children) {
      c->wire();
      schema_children.push_back(&c->schema);
      array_children.push_back(&c->array);
    }
    if (dictionary) dictionary->wire();
    schema = ArrowSchema{format.c_str(),
                         name.c_str(),
                         nullptr,
                         ARROW_FLAG_NULLABLE,
                         static_cast<int64_t>(children.size()),
                         schema_children.data(),
                         dictionary ? &dictionary->schema : nullptr,
                         nullptr,
                         nullptr};
    array = ArrowArray{length,
                       null_count,
                       offset,
                       static_cast<int64_t>(buffers.size()),
                       static_cast<int64_t>(children.size()),
                       buffers.data(),
                       array_children.data(),
                       dictionary ? &dictionary->array : nullptr,
                       nullptr,
                       nullptr};
  }
};

std::unique_ptr<Node> node(std::string format, std::string name, std::vector<const void*> buffers, int64_t length,
                           int64_t offset = 0, int64_t null_count = 0) {
  auto n = std::make_unique<Node>();
  n->format = std::move(format);
  n->name = std::move(name);
  n->buffers = std::move(buffers);
  n->length = length;
  n->offset = offset;
  n->null_count = null_count;
  return n;
}

TEST(ArrowIpcEncoder, SlicedArraysAndDenseUnions) {
  // Each column has 5 values stored and offset 1 (4 visible), except where noted.
  static const uint8_t valid_but_3[] = {0xF7};               // all valid but index 3
  static const int32_t str_offsets[] = {0, 4, 5, 5, 5, 10};  // "ünï" is 5 bytes
  static const char str_data[] = "skipaünï";
  static const uint8_t bools[] = {0x4D, 0x03};  // 1,0,1,1,0,0,1,0,1,1
  static const int32_t list_offsets[] = {0, 1, 3, 3, 3, 4};
  static const int32_t list_values[] = {9, 1, 2, 3};
  static const int32_t ints[] = {7, 8, -1, -2, -3, -4};
  static const int8_t union_types[] = {0, 1, 0, 1, 1};
  static const int32_t union_offsets[] = {0, 0, 1, 1, 0};
  static const int32_t union_ints[] = {10, 20};
  static const int32_t union_str_offsets[] = {0, 1, 2};
  static const char union_str_data[] = "xy";
  static const int32_t struct_ints[] = {5, 6, 7, 8, 9};
  static const int8_t fixed_values[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  static const int8_t dict_indices[] = {0, 1, 0, 2, 1};
  static const int32_t dict_offsets[] = {0, 1, 2, 3};
  static const char dict_data[] = "pqr";

  auto root = node("+s", "", {nullptr}, 4);
  root->add(node("u", "s", {valid_but_3, str_offsets, str_data}, 4, 1, 1));
  root->add(node("b", "b", {nullptr, bools}, 4, 3));
  root->add(node("+l", "l", {valid_but_3, list_offsets}, 4, 1, 1))->add(node("i", "item", {nullptr, list_values}, 4));
  root->add(node("i", "i", {nullptr, ints}, 4, 2));
  auto* du = root->add(node("+ud:0,1", "du", {union_types, union_offsets}, 4, 1));
  du->add(node("i", "n", {nullptr, union_ints}, 2));
  du->add(node("u", "s", {nullptr, union_str_offsets, union_str_data}, 2));
  root->add(node("+s", "st", {nullptr}, 4, 1))->add(node("i", "i", {nullptr, struct_ints}, 5));
  root->add(node("+w:2", "fl", {nullptr}, 4, 1))->add(node("c", "item", {nullptr, fixed_values}, 10));
  auto* dc = root->add(node("c", "dc", {nullptr, dict_indices}, 4, 1));
  dc->dictionary = node("u", "", {nullptr, dict_offsets, dict_data}, 3);
  root->wire();
  // A second batch: the same columns seen through the root's own offset (rows 1..3).
  ArrowArray shifted = root->array;
  shifted.offset = 1;
  shifted.length = 3;

  std::string bytes;
  auto st = write_arrow_ipc(root->schema, {&root->array, &shifted}, string_sink(bytes));
  ASSERT_TRUE(st.ok()) << st.error().message;
  const auto t = testing_arrow::read_arrow_stream(bytes);
  json names = json::array();
  for (const auto& f : t["fields"]) names.push_back(f["type"]);
  EXPECT_EQ(names, json::parse(R"(["Utf8","Bool","List<Int32>","Int32","Union<Int32 | Utf8>","Struct<{i:Int32}>",
    "FixedSizeList[2]<Int8>","Dictionary<Int8, Utf8>"])"));
  EXPECT_EQ(t["batch_rows"], json::parse("[4, 3]"));
  EXPECT_EQ(t["rows"], json::parse(R"([
    ["a", true, [1, 2], -1, "x", {"i": 6}, [2, 3], "q"],
    ["", false, [], -2, 20, {"i": 7}, [4, 5], "p"],
    [null, false, null, -3, "y", {"i": 8}, [6, 7], "r"],
    ["ünï", true, [3], -4, "x", {"i": 9}, [8, 9], "q"],
    ["", false, [], -2, 20, {"i": 7}, [4, 5], "p"],
    [null, false, null, -3, "y", {"i": 8}, [6, 7], "r"],
    ["ünï", true, [3], -4, "x", {"i": 9}, [8, 9], "q"]])"));
  // The dictionary is the same in both batches: sent once.
  EXPECT_EQ(testing_arrow::message_types(bytes),
            (std::vector<int>{testing_arrow::kSchema, testing_arrow::kDictionaryBatch, testing_arrow::kRecordBatch,
                              testing_arrow::kRecordBatch}));
}

}  // namespace
}  // namespace pluto::warehouse
