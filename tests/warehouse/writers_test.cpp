#include "pluto/warehouse/writers.hpp"

#include <gtest/gtest.h>

#include "pluto/warehouse/warehouse.hpp"

namespace pluto::warehouse {
namespace {

class WritersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WarehouseOptions o;
    auto w = Warehouse::open(o);
    ASSERT_TRUE(w.ok());
    wh_ = std::move(w).value();
  }
  std::string write(const std::string& sql, WriteOptions opts, WriteSummary* summary = nullptr) {
    auto lease = wh_->pool().acquire();
    auto r = lease.value()->execute(sql, true);
    EXPECT_TRUE(r.ok()) << r.error().message;
    std::string out;
    auto s = write_result(r.value(), opts, string_sink(out));
    EXPECT_TRUE(s.ok()) << s.error().message;
    if (summary != nullptr && s.ok()) *summary = s.value();
    return out;
  }
  std::unique_ptr<Warehouse> wh_;
};

TEST_F(WritersTest, JsonArrayOfObjects) {
  WriteOptions o;
  o.format = OutputFormat::json;
  EXPECT_EQ(write("SELECT 42 AS answer", o), "[{\"answer\":42}]\n");
  EXPECT_EQ(write("SELECT 1 AS a, 'x' AS b UNION ALL SELECT 2, NULL ORDER BY a", o),
            "[{\"a\":1,\"b\":\"x\"},{\"a\":2,\"b\":null}]\n");
  EXPECT_EQ(write("SELECT 1 AS a WHERE false", o), "[]\n");
}

TEST_F(WritersTest, NdjsonAndArrays) {
  WriteOptions o;
  o.format = OutputFormat::ndjson;
  EXPECT_EQ(write("SELECT range AS n FROM range(2)", o), "{\"n\":0}\n{\"n\":1}\n");
  o.format = OutputFormat::json_arrays;
  EXPECT_EQ(write("SELECT range AS n, 'a' AS s FROM range(2)", o), "[[0,\"a\"],[1,\"a\"]]");
}

TEST_F(WritersTest, CsvQuotingAndNulls) {
  WriteOptions o;
  o.format = OutputFormat::csv;
  EXPECT_EQ(write("SELECT 'a,b' AS x, 'say \"hi\"' AS y, NULL AS z, 'multi\nline' AS w", o),
            "x,y,z,w\n\"a,b\",\"say \"\"hi\"\"\",,\"multi\nline\"\n");
}

TEST_F(WritersTest, PagingAndTruncation) {
  WriteOptions o;
  o.format = OutputFormat::json_arrays;
  o.skip_rows = 3000;  // crosses DuckDB's 2048-row chunks
  o.max_rows = 3;
  WriteSummary s;
  EXPECT_EQ(write("SELECT range FROM range(5000)", o, &s), "[[3000],[3001],[3002]]");
  EXPECT_EQ(s.rows_written, 3U);
  EXPECT_EQ(s.rows_total, 5000U);
  EXPECT_TRUE(s.truncated);
}

TEST_F(WritersTest, TableAligned) {
  WriteOptions o;
  o.format = OutputFormat::table;
  const auto out = write("SELECT 1 AS id, 'Zoë' AS name UNION ALL SELECT 22, NULL ORDER BY id", o);
  EXPECT_EQ(out, "id | name\n---+-----\n1  | Zoë\n22 | NULL\n(2 rows)\n");
}

TEST_F(WritersTest, StopsCooperatively) {
  WriteOptions o;
  o.format = OutputFormat::csv;
  std::function<bool()> stop = [] { return true; };
  o.should_stop = &stop;
  auto lease = wh_->pool().acquire();
  auto r = lease.value()->execute("SELECT range FROM range(100000)", true);
  ASSERT_TRUE(r.ok());
  std::string out;
  auto s = write_result(r.value(), o, string_sink(out));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::cancelled);
}

}  // namespace
}  // namespace pluto::warehouse
