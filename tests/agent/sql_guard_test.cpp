// The SQL guard on a real DuckDB warehouse file holding the sample shop: it refuses every way of
// reaching files, settings, the network or state, wherever it hides in the tree, and accepts
// ordinary analytical SELECTs (which then run and give the right numbers).
#include "pluto/query/sql_guard.hpp"

#include <gtest/gtest.h>

#include <memory>

#include "agent/sample_data.hpp"
#include "pluto/warehouse/writers.hpp"
#include "test_util.hpp"

namespace pluto {
namespace {

class SqlGuard : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<testing::TempDir>();
    // A canary file: its content must never show up in a refusal (the guard never binds).
    testing::write_file(dir_->path() / "canary.csv", "secret_column\ncanary-5f1e-content\n");
    // A second DuckDB file, attached read-only like a source.
    {
      warehouse::OpenOptions o;
      o.path = (dir_->path() / "source.duckdb").string();
      auto src = warehouse::Database::open(o);
      ASSERT_TRUE(src.ok()) << src.error().message;
      auto c = src.value().connect();
      ASSERT_TRUE(c.ok());
      ASSERT_TRUE(c.value().run("CREATE TABLE visits AS SELECT range AS id, range % 7 AS day FROM range(70)").ok());
    }
    auto wh = warehouse::Warehouse::open(testing::warehouse_options_for((dir_->path() / "warehouse.duckdb").string()));
    ASSERT_TRUE(wh.ok()) << wh.error().message;
    warehouse_ = std::move(wh).value();
    auto lease = warehouse_->pool().acquire();
    ASSERT_TRUE(lease.ok());
    auto& conn = lease.value().connection();
    ASSERT_TRUE(testing::load_sample_shop(conn).ok());
    ASSERT_TRUE(conn.run("CREATE VIEW delivered_orders AS SELECT * FROM orders WHERE status = 'delivered'").ok());
    ASSERT_TRUE(conn.run("CREATE MACRO leak() AS (SELECT count(*) FROM glob('/etc/*'))").ok());
    ASSERT_TRUE(conn.run("CREATE SEQUENCE seq").ok());
    ASSERT_TRUE(conn.run("ATTACH " + warehouse::quote_literal((dir_->path() / "source.duckdb").string()) +
                         " AS src (READ_ONLY)")
                    .ok());
  }
  static void TearDownTestSuite() {
    warehouse_.reset();
    dir_.reset();
  }

  Result<query::SqlGuardReport> check(const std::string& sql) {
    auto lease = warehouse_->pool().acquire();
    if (!lease.ok()) return lease.take_error();
    return query::check_sql(lease.value().connection(), sql);
  }

  // Runs accepted SQL and returns its rows as JSON arrays.
  std::string run(const std::string& sql) {
    auto lease = warehouse_->pool().acquire();
    auto r = lease.value().connection().execute(sql);
    if (!r.ok()) return "error: " + r.error().message;
    std::string out;
    warehouse::WriteOptions wo;
    wo.format = warehouse::OutputFormat::json_arrays;
    (void)warehouse::write_result(r.value(), wo, warehouse::string_sink(out));
    return out;
  }

  static std::string canary() { return (dir_->path() / "canary.csv").string(); }

  static std::unique_ptr<testing::TempDir> dir_;
  static std::unique_ptr<warehouse::Warehouse> warehouse_;
};
std::unique_ptr<testing::TempDir> SqlGuard::dir_;
std::unique_ptr<warehouse::Warehouse> SqlGuard::warehouse_;

struct Refused {
  std::string sql;
  std::string names;  // the refusal must name this
};

void expect_refused(const Result<query::SqlGuardReport>& r, const Refused& c) {
  ASSERT_FALSE(r.ok()) << "accepted: " << c.sql;
  EXPECT_EQ(r.error().code, ErrorCode::permission_denied) << c.sql << ": " << r.error().message;
  EXPECT_NE(r.error().message.find(c.names), std::string::npos)
      << c.sql << "\nmessage: " << r.error().message << "\nexpected it to name: " << c.names;
  EXPECT_EQ(r.error().message.find("canary-5f1e-content"), std::string::npos) << r.error().message;
  EXPECT_FALSE(r.error().hint.empty());
}

TEST_F(SqlGuard, RefusesReadCsvWhereverItHides) {
  const std::string f = "read_csv('/etc/passwd')";
  const std::vector<Refused> cases = {
      {"SELECT * FROM " + f, "read_csv"},
      {"SELECT " + f, "read_csv"},
      {"SELECT " + f + " FROM customers", "the select list"},
      {"SELECT * FROM customers WHERE email IN (SELECT * FROM " + f + ")", "a subquery"},
      {"SELECT (SELECT count(*) FROM " + f + ") AS n", "read_csv"},
      {"WITH x AS (SELECT * FROM " + f + ") SELECT * FROM x", "CTE x"},
      {"WITH a AS (SELECT 1 AS one), b AS (SELECT * FROM a, " + f + ") SELECT * FROM b", "CTE b"},
      {"SELECT upper(" + f + ") FROM customers", "an argument of upper()"},
      {"SELECT coalesce(NULL, length((SELECT min(column0) FROM " + f + "))) AS x", "read_csv"},
      {"SELECT c.* FROM customers c JOIN " + f + " p ON true", "a JOIN"},
      {"SELECT country FROM customers GROUP BY country HAVING count(*) > (SELECT count(*) FROM " + f + ")", "HAVING"},
      {"SELECT * FROM customers ORDER BY (SELECT count(*) FROM " + f + ")", "ORDER BY"},
      {"SELECT * FROM customers LIMIT (SELECT count(*) FROM " + f + ")", "LIMIT"},
      {"SELECT 1 UNION ALL SELECT count(*) FROM " + f, "UNION branch"},
      {"SELECT row_number() OVER (PARTITION BY (SELECT 1 FROM " + f + ")) FROM customers", "window"},
      {"SELECT * FROM customers QUALIFY row_number() OVER () < (SELECT count(*) FROM " + f + ")", "QUALIFY"},
      {"SELECT list_transform([1], x -> (SELECT count(*) FROM " + f + ")) AS l", "lambda"},
      {"WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r, " + f + " WHERE n < 3) SELECT * FROM r",
       "read_csv"},
      {"SELECT count(*) FILTER (WHERE (SELECT true FROM " + f + ")) FROM customers", "FILTER"},
      {"SELECT * FROM read_csv_auto('" + canary() + "')", "read_csv_auto"},
      {"SELECT * FROM read_parquet('x.parquet')", "reads files"},
      {"SELECT * FROM read_json('x.json')", "reads files"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.sql);
    expect_refused(check(c.sql), c);
  }
}

TEST_F(SqlGuard, RefusesFileEnvironmentAndSettingFunctions) {
  const std::vector<Refused> cases = {
      {"SELECT * FROM read_text('/etc/passwd')", "read_text"},
      {"SELECT content FROM read_blob('/etc/passwd')", "read_blob"},
      {"SELECT * FROM glob('/etc/*')", "glob"},
      {"SELECT getenv('HOME')", "getenv"},
      {"SELECT current_setting('threads')", "current_setting"},
      {"SELECT current_setting('memory_limit') AS m FROM customers", "reads settings"},
      {"SELECT getvariable('x')", "getvariable"},
      {"SELECT * FROM duckdb_settings()", "duckdb_settings"},
      {"SELECT * FROM query('SELECT 1')", "runs arbitrary SQL"},
      {"SELECT * FROM sniff_csv('" + canary() + "')", "sniff_csv"},
      {"SELECT nextval('seq')", "nextval"},
      {"SELECT write_log('x')", "write_log"},
      {"SELECT leak()", "defined in the warehouse"},
      {"SELECT * FROM parquet_metadata('x.parquet')", "parquet_metadata"},
      {"SELECT * FROM sqlite_scan('x.db', 't')", "sqlite_scan"},
      {"SELECT * FROM postgres_query('db', 'SELECT 1')", "postgres_query"},
      {"SELECT * FROM pragma_table_info('customers')", "pragma_table_info"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.sql);
    expect_refused(check(c.sql), c);
  }
}

TEST_F(SqlGuard, RefusesStatementsOtherThanOneSelect) {
  const std::string out = (dir_->path() / "out.csv").string();
  const std::vector<Refused> cases = {
      {"COPY customers TO '" + out + "'", "COPY"},
      {"COPY (SELECT * FROM customers) TO '" + out + "' (FORMAT csv)", "COPY"},
      {"EXPORT DATABASE '" + out + "'", "EXPORT"},
      {"ATTACH '" + (dir_->path() / "x.duckdb").string() + "' AS x", "ATTACH"},
      {"DETACH src", "DETACH"},
      {"INSTALL httpfs", "INSTALL"},
      {"LOAD httpfs", "LOAD"},
      {"SET memory_limit = '1GB'", "SET"},
      {"PRAGMA database_list", "PRAGMA"},
      {"CALL duckdb_settings()", "CALL"},
      {"CREATE TABLE t2 AS SELECT 1", "CREATE"},
      {"INSERT INTO customers SELECT * FROM customers", "INSERT"},
      {"DELETE FROM customers", "DELETE"},
      {"UPDATE customers SET city = 'x'", "UPDATE"},
      {"DROP TABLE customers", "DROP"},
      {"EXPLAIN ANALYZE SELECT 1", "EXPLAIN"},
      {"SELECT 1; SELECT 2", "2 statements"},
      {"SELECT count(*) FROM customers; DROP TABLE customers", "DROP"},
      {"SELECT 1; COPY customers TO '" + out + "'", "only a single read-only SELECT"},
      {"", "empty SQL"},
      {"SELEC 1", "does not parse"},
      {"SELECT * FROM customers WHERE", "does not parse"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.sql);
    expect_refused(check(c.sql), c);
  }
  EXPECT_FALSE(std::filesystem::exists(out));
  // Nothing was changed by any of it.
  EXPECT_EQ(run("SELECT count(*) FROM customers"), "[[500]]");
}

TEST_F(SqlGuard, RefusesStringsAndUnknownNamesUsedAsTables) {
  const std::vector<Refused> cases = {
      {"SELECT * FROM '" + canary() + "'", "reads a file"},
      {"SELECT * FROM 'file.csv'", "'file.csv'"},
      {"FROM '/etc/passwd'", "/etc/passwd"},
      {"SELECT * FROM \"" + canary() + "\"", "reads a file"},
      {"SELECT * FROM customers c, 'data.parquet' d", "'data.parquet'"},
      {"SELECT * FROM no_such_table", "not a table or view"},
      {"SELECT * FROM read_csv", "read_csv"},
      {"SELECT * FROM duckdb_tables", "duckdb_tables"},
      {"SELECT * FROM information_schema.tables", "information_schema.tables"},
      // A CTE hides a name only inside its own query, not in the outer FROM.
      {"SELECT * FROM (WITH \"" + canary() + "\" AS (SELECT 1) SELECT * FROM \"" + canary() + "\"), \"" + canary() +
           "\"",
       "reads a file"},
      // A non-recursive CTE cannot hide a file behind its own name.
      {"WITH \"x.csv\" AS (SELECT * FROM \"x.csv\") SELECT * FROM \"x.csv\"", "'x.csv'"},
      {"DESCRIBE customers", "DESCRIBE"},
      {"SUMMARIZE customers", "DESCRIBE/SUMMARIZE"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.sql);
    expect_refused(check(c.sql), c);
  }
}

TEST_F(SqlGuard, AcceptsAnalyticalSelectsThatThenRunCorrectly) {
  struct Accepted {
    std::string sql;
    std::string rows;  // expected result of running it
  };
  const std::vector<Accepted> cases = {
      {"SELECT count(*) FROM customers", "[[500]]"},
      {"select COUNT(*) as n from CUSTOMERS", "[[500]]"},
      {"SELECT count(*) FROM main.customers", "[[500]]"},
      {"SELECT count(*) FROM warehouse.main.customers", "[[500]]"},
      {"FROM products SELECT count(*)", "[[60]]"},
      {"SELECT count(*) FROM orders o JOIN customers c ON c.customer_id = o.customer_id "
       "JOIN order_items i USING (order_id)",
       "[[5098]]"},
      {"WITH per_customer AS (SELECT customer_id, count(*) AS n FROM orders GROUP BY customer_id) "
       "SELECT count(*) FROM per_customer WHERE n > 0",
       ""},
      {"SELECT count(*) FROM (SELECT order_id, row_number() OVER (PARTITION BY customer_id ORDER BY order_date) AS rn "
       "FROM orders) WHERE rn = 1",
       ""},
      {"SELECT category, sum(unit_price) FILTER (WHERE is_active) AS s, rank() OVER (ORDER BY count(*) DESC) "
       "FROM products GROUP BY category HAVING count(*) > 1 QUALIFY rank() OVER (ORDER BY count(*) DESC) <= 3 ORDER BY "
       "3",
       ""},
      {"WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT sum(n) FROM r", "[[15]]"},
      {"SELECT count(*) FROM range(10) t(x), generate_series(1, 3) g(y)", "[[30]]"},
      {"SELECT sum(x) FROM unnest([1, 2, 3]) u(x)", "[[6]]"},
      {"SELECT unnest([1, 2]) AS x ORDER BY x", "[[1],[2]]"},
      {"SELECT count(*) FROM delivered_orders", ""},
      {"SELECT count(*) FROM src.visits", "[[70]]"},
      {"SELECT count(*) FROM src.main.visits WHERE day = 3", "[[10]]"},
      {"SELECT status FROM orders UNION SELECT payment_method FROM payments EXCEPT SELECT 'x'", ""},
      {"SELECT list_transform([1, 2], x -> x * 2) AS l, strftime(DATE '2024-01-02', '%Y') AS y, "
       "upper('a') || lower('B') AS s, 1::DOUBLE / 3 AS d",
       ""},
      {"SELECT count(*) FROM customers WHERE email LIKE '%example.org' AND signup_date >= DATE '2023-01-01'", ""},
      {"SELECT 'read_csv(''/etc/passwd'')' AS just_text", "[[\"read_csv('/etc/passwd')\"]]"},
      {"SELECT count(*) FROM customers;", "[[500]]"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.sql);
    auto r = check(c.sql);
    ASSERT_TRUE(r.ok()) << r.error().message;
    const auto rows = run(c.sql);
    EXPECT_EQ(rows.rfind("error:", 0), std::string::npos) << rows;
    if (!c.rows.empty()) {
      EXPECT_EQ(rows, c.rows);
    }
  }
}

TEST_F(SqlGuard, ReportsTablesAndFunctionsRead) {
  auto r = check("SELECT c.country, count(*) FROM customers c JOIN orders o USING (customer_id) GROUP BY 1");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().tables, (std::vector<std::string>{"customers", "orders"}));
  EXPECT_EQ(r.value().functions, (std::vector<std::string>{"count_star"}));
}

TEST_F(SqlGuard, ValidatorPlugsIntoQueryRequests) {
  auto validator = query::sql_guard_validator();
  auto lease = warehouse_->pool().acquire();
  auto& conn = lease.value().connection();
  EXPECT_TRUE(validator(conn, "SELECT count(*) FROM orders").ok());
  auto refused = validator(conn, "SELECT * FROM read_csv('/etc/passwd')");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::permission_denied);
}

}  // namespace
}  // namespace pluto
