#include "pluto/store/store.hpp"

#include <gtest/gtest.h>

#include "test_util.hpp"

namespace pluto::store {
namespace {

QueryRecord make(const std::string& id, const std::string& sql, const std::string& status, const std::string& at) {
  QueryRecord r;
  r.run_id = id;
  r.sql = sql;
  r.status = status;
  r.origin = "cli";
  r.submitted_at = at;
  return r;
}

TEST(Store, OpensInWalModeWithMigrations) {
  testing::TempDir dir;
  auto s = Store::open(dir / "pluto.sqlite");
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s.value()->schema_version(), Store::latest_schema_version());
  std::string mode;
  ASSERT_TRUE(s.value()
                  ->with_db([&](SqliteDb& db) -> Status {
                    PLUTO_ASSIGN_OR_RETURN(auto st, db.prepare("PRAGMA journal_mode"));
                    PLUTO_ASSIGN_OR_RETURN(bool row, st.step());
                    if (row) mode = st.text(0);
                    return {};
                  })
                  .ok());
  EXPECT_EQ(mode, "wal");
  // Reopening applies nothing twice.
  s.value().reset();
  auto again = Store::open(dir / "pluto.sqlite");
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again.value()->schema_version(), Store::latest_schema_version());
}

TEST(Store, QueryHistoryRoundTripSearchAndSurvivesReopen) {
  testing::TempDir dir;
  {
    auto s = Store::open(dir / "pluto.sqlite");
    ASSERT_TRUE(s.ok());
    auto& st = *s.value();
    ASSERT_TRUE(st.save_query(make("a", "SELECT 1", "running", "2026-01-01T00:00:01.000Z")).ok());
    auto done = make("a", "SELECT 1", "succeeded", "2026-01-01T00:00:01.000Z");
    done.row_count = 1;
    done.duration_ms = 5;
    ASSERT_TRUE(st.save_query(done).ok());
    auto bad = make("b", "SELECT * FROM Orders", "failed", "2026-01-01T00:00:02.000Z");
    bad.error = "Catalog Error: Table with name Orders does not exist!";
    ASSERT_TRUE(st.save_query(bad).ok());
  }
  auto s = Store::open(dir / "pluto.sqlite");
  ASSERT_TRUE(s.ok());
  auto all = s.value()->list_queries({});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all.value().size(), 2U);
  EXPECT_EQ(all.value()[0].run_id, "b");  // newest first
  EXPECT_EQ(all.value()[1].status, "succeeded");
  EXPECT_EQ(all.value()[1].row_count, 1);

  auto by_text = s.value()->list_queries({"orders", "", 50, 0});
  ASSERT_TRUE(by_text.ok());
  ASSERT_EQ(by_text.value().size(), 1U);
  EXPECT_EQ(by_text.value()[0].run_id, "b");
  auto by_status = s.value()->list_queries({"", "succeeded", 50, 0});
  ASSERT_TRUE(by_status.ok());
  ASSERT_EQ(by_status.value().size(), 1U);
  EXPECT_EQ(by_status.value()[0].run_id, "a");

  auto one = s.value()->get_query("b");
  ASSERT_TRUE(one.ok());
  ASSERT_TRUE(one.value().has_value());
  EXPECT_EQ(*one.value()->error, "Catalog Error: Table with name Orders does not exist!");
  auto none = s.value()->get_query("zzz");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none.value().has_value());
}

TEST(Store, UnfinishedRunsBecomeInterrupted) {
  testing::TempDir dir;
  auto s = Store::open(dir / "pluto.sqlite");
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(s.value()->save_query(make("r", "SELECT 1", "running", "2026-01-01T00:00:00.000Z")).ok());
  ASSERT_TRUE(s.value()->save_query(make("q", "SELECT 2", "queued", "2026-01-01T00:00:00.000Z")).ok());
  ASSERT_TRUE(s.value()->save_query(make("d", "SELECT 3", "succeeded", "2026-01-01T00:00:00.000Z")).ok());
  auto n = s.value()->interrupt_unfinished_queries("2026-01-01T00:00:09.000Z");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n.value(), 2);
  EXPECT_EQ(s.value()->get_query("r").value()->status, "interrupted");
  EXPECT_EQ(s.value()->get_query("d").value()->status, "succeeded");
}

TEST(Store, UnopenablePathIsUnavailable) {
  testing::TempDir dir;
  testing::write_file(dir / "file", "x");
  auto s = Store::open(dir / "file" / "pluto.sqlite");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::unavailable);
}

}  // namespace
}  // namespace pluto::store

namespace pluto::store {
namespace {

constexpr std::array kWidgetMigrations = {
    Migration{1, "widgets", "CREATE TABLE widgets (id INTEGER PRIMARY KEY)"},
    Migration{2, "widget names", "ALTER TABLE widgets ADD COLUMN name TEXT"},
};

TEST(Store, ComponentMigrationsApplyOnceAndInOrder) {
  testing::TempDir dir;
  auto s = Store::open(dir / "pluto.sqlite");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s.value()->component_version("widgets"), 0);
  ASSERT_TRUE(s.value()->migrate("widgets", std::span(kWidgetMigrations).first(1)).ok());
  EXPECT_EQ(s.value()->component_version("widgets"), 1);
  ASSERT_TRUE(s.value()->migrate("widgets", kWidgetMigrations).ok());
  ASSERT_TRUE(s.value()->migrate("widgets", kWidgetMigrations).ok());  // idempotent
  EXPECT_EQ(s.value()->component_version("widgets"), 2);
  EXPECT_TRUE(s.value()->with_db([](SqliteDb& db) { return db.exec("INSERT INTO widgets VALUES (1, 'a')"); }).ok());
  // An older binary meeting a newer schema refuses clearly.
  auto older = s.value()->migrate("widgets", std::span(kWidgetMigrations).first(1));
  ASSERT_FALSE(older.ok());
  EXPECT_NE(older.error().message.find("newer pluto-duck"), std::string::npos);
}

TEST(Store, FailedMigrationRollsBack) {
  testing::TempDir dir;
  auto s = Store::open(dir / "pluto.sqlite");
  ASSERT_TRUE(s.ok());
  constexpr std::array bad = {Migration{1, "ok", "CREATE TABLE a (x INT)"},
                              Migration{2, "broken", "CREATE TABLE b (x INT); SELECT * FROM nowhere"}};
  ASSERT_FALSE(s.value()->migrate("bad", bad).ok());
  EXPECT_EQ(s.value()->component_version("bad"), 0);
  EXPECT_FALSE(s.value()->with_db([](SqliteDb& db) { return db.exec("SELECT * FROM a"); }).ok());
}

}  // namespace
}  // namespace pluto::store
