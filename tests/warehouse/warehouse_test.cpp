#include "pluto/warehouse/warehouse.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "test_util.hpp"

namespace pluto::warehouse {
namespace {

std::unique_ptr<Warehouse> open_memory(int64_t pool = 2) {
  WarehouseOptions o;
  o.pool_size = pool;
  auto w = Warehouse::open(o);
  EXPECT_TRUE(w.ok()) << w.error().message;
  return std::move(w).value();
}

TEST(Warehouse, OpensFileAndPersists) {
  testing::TempDir dir;
  WarehouseOptions o;
  o.path = (dir / "w.duckdb").string();
  {
    auto w = Warehouse::open(o);
    ASSERT_TRUE(w.ok()) << w.error().message;
    auto lease = w.value()->pool().acquire();
    ASSERT_TRUE(lease.ok());
    ASSERT_TRUE(lease.value()->run("CREATE TABLE t AS SELECT 1 AS a").ok());
  }
  auto w = Warehouse::open(o);
  ASSERT_TRUE(w.ok());
  auto lease = w.value()->pool().acquire();
  auto tables = list_tables(lease.value().connection());
  ASSERT_TRUE(tables.ok());
  ASSERT_EQ(tables.value().size(), 1U);
  EXPECT_EQ(tables.value()[0].name, "t");
  EXPECT_EQ(tables.value()[0].row_count, 1);
}

TEST(Warehouse, AutoinstallIsOff) {
  auto w = open_memory();
  auto lease = w->pool().acquire();
  auto r = lease.value()->execute("SELECT current_setting('autoinstall_known_extensions')::VARCHAR");
  ASSERT_TRUE(r.ok());
  char* v = duckdb_value_varchar(r.value().raw(), 0, 0);
  EXPECT_STREQ(v, "false");
  duckdb_free(v);
}

TEST(Warehouse, MissingDirectoryIsUnavailableAndNamesPath) {
  WarehouseOptions o;
  o.path = "/nonexistent-dir-for-pluto/w.duckdb";
  auto w = Warehouse::open(o);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().code, ErrorCode::unavailable);
  EXPECT_NE(w.error().message.find("/nonexistent-dir-for-pluto"), std::string::npos);
}

TEST(Warehouse, BadSqlKeepsDuckDbMessage) {
  auto w = open_memory();
  auto lease = w->pool().acquire();
  auto r = lease.value()->execute("SELEC 1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::sql_error);
  EXPECT_NE(r.error().message.find("syntax error"), std::string::npos) << r.error().message;
}

// Several statements in one call are all or nothing; inside a transaction the caller opened they
// join it (no BEGIN of their own, whose failure would abort the caller's transaction).
TEST(Warehouse, MultiStatementCallsAreAtomicAndJoinTheCallersTransaction) {
  auto w = open_memory();
  auto lease = w->pool().acquire();
  auto& c = lease.value().connection();
  ASSERT_TRUE(c.run("CREATE TABLE t(a INTEGER)").ok());
  EXPECT_FALSE(c.run("INSERT INTO t VALUES (1); INSERT INTO nope VALUES (2)").ok());
  auto count = [&] {
    auto r = c.execute("SELECT count(*) FROM t");
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? duckdb_value_int64(r.value().raw(), 0, 0) : -1;
  };
  EXPECT_EQ(count(), 0);

  ASSERT_TRUE(c.run("BEGIN TRANSACTION").ok());
  ASSERT_TRUE(c.run("INSERT INTO t VALUES (1); INSERT INTO t VALUES (2)").ok());
  ASSERT_TRUE(c.run("INSERT INTO t VALUES (3)").ok()) << "the caller's transaction must still be usable";
  EXPECT_EQ(count(), 3);
  ASSERT_TRUE(c.run("ROLLBACK").ok());
  EXPECT_EQ(count(), 0);
  // Back in auto-commit mode, a multi-statement call is its own transaction again.
  ASSERT_TRUE(c.run("INSERT INTO t VALUES (4); INSERT INTO t VALUES (5)").ok());
  EXPECT_EQ(count(), 2);
}

TEST(Classify, StatementTypesAndReadOnly) {
  auto w = open_memory();
  auto lease = w->pool().acquire();
  auto& c = lease.value().connection();
  ASSERT_TRUE(c.run("CREATE TABLE t (a INT)").ok());
  auto r = classify(c,
                    "SELECT 1; INSERT INTO t VALUES (1); CREATE TABLE u (b INT); EXPLAIN SELECT 1; "
                    "UPDATE t SET a = 2; DELETE FROM t; DROP TABLE t; SET threads = 2; PRAGMA version; "
                    "COPY (SELECT 1) TO '/tmp/x.csv'; BEGIN; ATTACH ':memory:' AS m");
  ASSERT_TRUE(r.ok()) << r.error().message;
  std::vector<std::string> types;
  for (const auto& s : r.value()) types.push_back(s.type);
  EXPECT_EQ(types, (std::vector<std::string>{"SELECT", "INSERT", "CREATE", "EXPLAIN", "UPDATE", "DELETE", "DROP", "SET",
                                             "SELECT", "COPY", "TRANSACTION", "ATTACH"}));
  EXPECT_TRUE(r.value()[0].read_only);
  EXPECT_FALSE(r.value()[1].read_only);
  EXPECT_TRUE(r.value()[3].read_only);
  EXPECT_TRUE(r.value()[8].read_only);  // DuckDB rewrites PRAGMA version to a SELECT
  EXPECT_FALSE(r.value()[9].read_only);
}

TEST(Classify, ParseErrorIsSqlError) {
  auto w = open_memory();
  auto lease = w->pool().acquire();
  auto r = classify(lease.value().connection(), "SELECT FROM WHERE");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::sql_error);
}

TEST(Interrupt, FromAnotherThreadStopsALongQuery) {
  auto w = open_memory();
  auto lease = w->pool().acquire();
  auto& c = lease.value().connection();
  std::atomic<bool> finished{false};
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    c.interrupt();
  });
  const auto start = std::chrono::steady_clock::now();
  auto r = c.execute("SELECT count(*) FROM range(10000000000) a");
  finished = true;
  t.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::cancelled) << r.error().message;
  // It stopped long before the query could have finished (minutes); no tight timing assertion.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(60));
  // The connection is usable afterwards.
  EXPECT_TRUE(c.run("SELECT 1").ok());
}

TEST(Interrupt, StreamingResultReportsInterrupt) {
  auto w = open_memory();
  auto lease = w->pool().acquire();
  auto& c = lease.value().connection();
  auto r = c.execute("SELECT a.range * 2 FROM range(1000000000) a", /*streaming=*/true);
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto first = r.value().next_chunk();
  ASSERT_TRUE(first.has_value());
  c.interrupt();
  while (r.value().next_chunk()) {
  }
  auto err = r.value().stream_error();
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->code, ErrorCode::cancelled);
}

TEST(Pool, FifoAndTimeout) {
  auto w = open_memory(1);
  auto& pool = w->pool();
  auto held = pool.acquire();
  ASSERT_TRUE(held.ok());
  auto timed = pool.acquire_for(std::chrono::milliseconds(50));
  ASSERT_FALSE(timed.ok());
  EXPECT_EQ(timed.error().code, ErrorCode::timed_out);

  std::vector<int> order;
  std::mutex mu;
  std::vector<std::thread> waiters;
  for (int i = 0; i < 3; ++i) {
    waiters.emplace_back([&, i] {
      auto l = pool.acquire();
      ASSERT_TRUE(l.ok());
      std::lock_guard lock(mu);
      order.push_back(i);
    });
    // Let each waiter take its ticket before the next arrives.
    while (true) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      break;
    }
  }
  held = Error(ErrorCode::internal, "released");  // drops the lease
  for (auto& t : waiters) t.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
}

TEST(Pool, CloseWaitsForLeasesAndReopenWorks) {
  testing::TempDir dir;
  WarehouseOptions o;
  o.path = (dir / "w.duckdb").string();
  auto w = Warehouse::open(o);
  ASSERT_TRUE(w.ok());
  std::atomic<bool> released{false};
  std::thread holder;
  {
    auto lease = w.value()->pool().acquire();
    ASSERT_TRUE(lease.ok());
    holder = std::thread([l = std::move(lease).value(), &released]() mutable {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      released = true;
      (void)l;
    });
  }
  w.value()->close();
  EXPECT_TRUE(released.load());
  holder.join();
  EXPECT_FALSE(w.value()->is_open());
  EXPECT_FALSE(w.value()->pool().acquire().ok());
  ASSERT_TRUE(w.value()->reopen().ok());
  EXPECT_TRUE(w.value()->pool().acquire().ok());
}

TEST(Catalog, ListAndDescribeWithAwkwardNames) {
  auto w = open_memory();
  auto lease = w->pool().acquire();
  auto& c = lease.value().connection();
  ASSERT_TRUE(c.run("CREATE TABLE orders (id INTEGER NOT NULL, amount DECIMAL(10,2) DEFAULT 0, note VARCHAR);"
                    "COMMENT ON TABLE orders IS 'one row per order';"
                    "COMMENT ON COLUMN orders.amount IS 'in EUR';"
                    "INSERT INTO orders VALUES (1, 9.5, 'a'), (2, 3, NULL);"
                    "CREATE SCHEMA sales; CREATE TABLE sales.\"odd \"\"name\" (v INT);"
                    "CREATE TABLE sales.\"weird; DROP TABLE orders\" (v INT);"
                    "CREATE VIEW big_orders AS SELECT * FROM orders WHERE amount > 5")
                  .ok());
  auto tables = list_tables(c);
  ASSERT_TRUE(tables.ok()) << tables.error().message;
  ASSERT_EQ(tables.value().size(), 4U);
  EXPECT_EQ(tables.value()[2].name, "odd \"name");
  EXPECT_EQ(tables.value()[2].qualified_name(), "memory.sales.\"odd \"\"name\"");
  EXPECT_EQ(tables.value()[0].name, "big_orders");
  EXPECT_EQ(tables.value()[0].kind, "view");
  EXPECT_FALSE(tables.value()[0].row_count.has_value());
  EXPECT_EQ(tables.value()[1].name, "orders");
  EXPECT_EQ(tables.value()[1].row_count, 2);
  EXPECT_EQ(tables.value()[1].comment, "one row per order");

  auto d = describe_table(c, "orders");
  ASSERT_TRUE(d.ok()) << d.error().message;
  ASSERT_EQ(d.value().columns.size(), 3U);
  EXPECT_EQ(d.value().columns[0].name, "id");
  EXPECT_EQ(d.value().columns[0].type, "INTEGER");
  EXPECT_FALSE(d.value().columns[0].nullable);
  EXPECT_EQ(d.value().columns[1].type, "DECIMAL(10,2)");
  EXPECT_EQ(d.value().columns[1].comment, "in EUR");
  EXPECT_EQ(d.value().table.row_count, 2);
  EXPECT_NE(d.value().definition.find("CREATE TABLE"), std::string::npos);

  auto injected = describe_table(c, "weird; DROP TABLE orders");
  ASSERT_TRUE(injected.ok()) << injected.error().message;
  EXPECT_EQ(injected.value().table.schema, "sales");
  EXPECT_TRUE(describe_table(c, "orders").ok());  // still there

  auto qualified = describe_table(c, "main.orders");
  ASSERT_TRUE(qualified.ok());
  auto view = describe_table(c, "big_orders");
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view.value().table.kind, "view");

  auto missing = describe_table(c, "nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::not_found);
  EXPECT_NE(missing.error().message.find("nope"), std::string::npos);
}

TEST(Export, ParquetThroughCopyWithQuotedPath) {
  testing::TempDir dir;
  auto w = open_memory();
  auto lease = w->pool().acquire();
  auto& c = lease.value().connection();
  const auto path = dir / "it's here.parquet";
  ASSERT_TRUE(export_query(c, "SELECT range AS n FROM range(1000)", path, "parquet").ok());
  auto r = c.prepare("SELECT count(*), sum(n) FROM read_parquet($1)");
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r.value().bind(1, std::string_view(path.string())).ok());
  auto res = r.value().execute();
  ASSERT_TRUE(res.ok()) << res.error().message;
  EXPECT_EQ(duckdb_value_int64(res.value().raw(), 0, 0), 1000);
  EXPECT_EQ(duckdb_value_int64(res.value().raw(), 1, 0), 499500);
  EXPECT_FALSE(export_query(c, "SELECT 1", dir / "x.xlsx", "xlsx").ok());
}

TEST(Quote, IdentifiersAndLiterals) {
  EXPECT_EQ(quote_identifier("a\"b"), "\"a\"\"b\"");
  EXPECT_EQ(quote_literal("it's"), "'it''s'");
}

}  // namespace
}  // namespace pluto::warehouse
