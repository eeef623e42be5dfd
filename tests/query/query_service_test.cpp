#include "pluto/query/query_service.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "pluto/events/event_bus.hpp"
#include "pluto/jobs/job_runner.hpp"
#include "pluto/warehouse/warehouse.hpp"
#include "test_util.hpp"

namespace pluto::query {
namespace {

class QueryServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }
  void open() {
    auto s = store::Store::open(dir_ / "pluto.sqlite");
    ASSERT_TRUE(s.ok());
    store_ = std::move(s).value();
    ASSERT_TRUE(events::EventBus::migrate(*store_).ok());
    ASSERT_TRUE(jobs::JobRunner::migrate(*store_).ok());
    warehouse::WarehouseOptions wo;
    wo.path = (dir_ / "warehouse.duckdb").string();
    wo.pool_size = 2;
    auto w = warehouse::Warehouse::open(wo);
    ASSERT_TRUE(w.ok()) << w.error().message;
    wh_ = std::move(w).value();
    bus_ = std::make_unique<events::EventBus>(store_.get());
    runner_ = std::make_unique<jobs::JobRunner>(store_.get(), *bus_);
    ServiceOptions o;
    o.results_dir = dir_ / "results";
    o.default_max_rows = 100;
    svc_ = std::make_unique<QueryService>(o, *store_, *wh_, *runner_);
  }
  void close() {
    svc_.reset();
    runner_.reset();
    bus_.reset();
    wh_.reset();
    store_.reset();
  }
  void TearDown() override { close(); }

  QueryRequest req(std::string sql) {
    QueryRequest r;
    r.sql = std::move(sql);
    return r;
  }
  std::vector<std::string> event_types(const std::string& run_id) {
    std::vector<std::string> out;
    for (const auto& e : bus_->read("query/" + run_id, 0).events) out.push_back(e.type);
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<warehouse::Warehouse> wh_;
  std::unique_ptr<events::EventBus> bus_;
  std::unique_ptr<jobs::JobRunner> runner_;
  std::unique_ptr<QueryService> svc_;
};

TEST_F(QueryServiceTest, SelectRunsInlineAndSpooled) {
  auto r = svc_->run(req("SELECT range AS n, 'x' || range AS s FROM range(250)"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, "succeeded");
  EXPECT_EQ(r->row_count, 250);
  EXPECT_TRUE(r->truncated);  // default_max_rows = 100
  EXPECT_TRUE(r->spooled);
  ASSERT_EQ(r->columns.size(), 2U);
  EXPECT_EQ(r->columns[0].type, "BIGINT");
  auto rows = nlohmann::json::parse(r->rows_json);
  ASSERT_EQ(rows.size(), 100U);
  EXPECT_EQ(rows[99][1], "x99");
  auto j = nlohmann::json::parse(r->to_json());
  EXPECT_EQ(j["run_id"], r->run_id);
  EXPECT_EQ(j["columns"][1]["name"], "s");
  EXPECT_EQ(event_types(r->run_id).back(), "query.succeeded");
  // Nothing of the result lands in the warehouse.
  auto lease = wh_->pool().acquire();
  EXPECT_TRUE(warehouse::list_tables(lease.value().connection()).value().empty());
}

TEST_F(QueryServiceTest, PagingAndDownloadsComeFromTheSpoolWithoutRerunning) {
  auto lease = wh_->pool().acquire();
  ASSERT_TRUE(lease.value()->run("CREATE TABLE t AS SELECT range AS id, range * 1.5 AS v FROM range(5000)").ok());
  lease = Error(ErrorCode::internal, "released");
  auto r = svc_->run(req("SELECT id, v FROM t ORDER BY id"));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, "succeeded") << (r->error ? r->error->message : "");
  // Changing the source afterwards does not change the stored result.
  auto l2 = wh_->pool().acquire();
  ASSERT_TRUE(l2.value()->run("DELETE FROM t").ok());
  l2 = Error(ErrorCode::internal, "released");
  auto p = svc_->page(r->run_id, 4998, 10);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->rows_json, "[[4998,7497.0],[4999,7498.5]]");
  EXPECT_FALSE(p->truncated);
  std::string csv;
  ASSERT_TRUE(svc_->download(r->run_id, DownloadFormat::csv, warehouse::string_sink(csv)).ok());
  EXPECT_EQ(csv.substr(0, 15), "id,v\n0,0.0\n1,1.");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 5001);
  std::string json;
  ASSERT_TRUE(svc_->download(r->run_id, DownloadFormat::json, warehouse::string_sink(json)).ok());
  EXPECT_EQ(nlohmann::json::parse(json).size(), 5000U);
  std::string parquet;
  ASSERT_TRUE(svc_->download(r->run_id, DownloadFormat::parquet, warehouse::string_sink(parquet)).ok());
  EXPECT_EQ(parquet.substr(0, 4), "PAR1");
  testing::write_file(dir_ / "back.parquet", parquet);
  auto l3 = wh_->pool().acquire();
  auto back =
      l3.value()->execute("SELECT count(*), sum(id) FROM read_parquet('" + (dir_ / "back.parquet").string() + "')");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(duckdb_value_int64(back.value().raw(), 0, 0), 5000);
  EXPECT_EQ(duckdb_value_int64(back.value().raw(), 1, 0), 12497500);
}

TEST_F(QueryServiceTest, FailedSqlIsAFailedRunNotAnError) {
  auto r = svc_->run(req("SELECT * FROM missing_table"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, "failed");
  ASSERT_TRUE(r->error.has_value());
  EXPECT_NE(r->error->message.find("missing_table"), std::string::npos);
  auto h = svc_->history({"missing_table", "failed", 10, 0});
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 1U);
  EXPECT_EQ(h->at(0).origin, "api");
  auto empty = svc_->submit(req("  ;  "));
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, ErrorCode::invalid_argument);
}

TEST_F(QueryServiceTest, TimeoutInterruptsDuckDb) {
  auto q = req("SELECT count(*) FROM range(10000000000)");
  q.timeout_ms = 300;
  auto r = svc_->run(q);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, "timed_out");
  EXPECT_EQ(r->error->code, ErrorCode::timed_out);
  auto h = svc_->history({"", "timed_out", 10, 0});
  EXPECT_EQ(h->size(), 1U);
  EXPECT_EQ(event_types(r->run_id).back(), "query.timed_out");
}

TEST_F(QueryServiceTest, CancelStopsARunningQuery) {
  auto s = svc_->submit(req("SELECT count(*) FROM range(10000000000)"));
  ASSERT_TRUE(s.ok());
  while (svc_->get(s->run_id)->status != "running") std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(svc_->cancel(s->run_id).ok());
  auto r = svc_->wait(s->run_id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, "cancelled");
  auto again = svc_->cancel(s->run_id);
  EXPECT_EQ(again.error().code, ErrorCode::conflict);
  EXPECT_EQ(svc_->cancel("no-such-run").error().code, ErrorCode::not_found);
}

TEST_F(QueryServiceTest, NonSelectStatementsAndValidator) {
  auto c = svc_->run(req("CREATE TABLE x (a INT); INSERT INTO x VALUES (1), (2)"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->status, "succeeded");
  EXPECT_FALSE(c->spooled);
  EXPECT_EQ(c->row_count, 2);
  auto q = req("SELECT * FROM x");
  q.validator = [](warehouse::Connection&, const std::string& sql) -> Status {
    return Error(ErrorCode::permission_denied, "refused: " + sql);
  };
  auto v = svc_->run(q);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->status, "failed");
  EXPECT_EQ(v->error->code, ErrorCode::permission_denied);
}

TEST_F(QueryServiceTest, ManyConcurrentQueriesShareABoundedPool) {
  std::vector<std::string> ids;
  for (int i = 0; i < 8; ++i) {
    auto s = svc_->submit(req("SELECT sum(range)::HUGEINT * 10000 FROM range(2000000)"));
    ASSERT_TRUE(s.ok());
    ids.push_back(s->run_id);
  }
  for (const auto& id : ids) {
    auto r = svc_->wait(id);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, "succeeded");
    EXPECT_EQ(r->rows_json, "[[\"19999990000000000\"]]");  // beyond 2^53: a string
  }
}

TEST_F(QueryServiceTest, ResultsSurviveRestartAndHistoryToo) {
  auto r = svc_->run(req("SELECT 42 AS answer"));
  ASSERT_TRUE(r.ok());
  const auto id = r->run_id;
  close();
  open();
  auto g = svc_->get(id);
  ASSERT_TRUE(g.ok()) << g.error().message;
  EXPECT_EQ(g->status, "succeeded");
  EXPECT_EQ(g->rows_json, "[[42]]");
  EXPECT_EQ(g->columns[0].name, "answer");
  EXPECT_EQ(svc_->get("nope").error().code, ErrorCode::not_found);
}

TEST_F(QueryServiceTest, PruneRemovesOldSpools) {
  auto r = svc_->run(req("SELECT 1"));
  ASSERT_TRUE(r.ok());
  const auto spool = dir_ / "results" / (r->run_id + ".duckdb");
  ASSERT_TRUE(std::filesystem::exists(spool));
  std::filesystem::last_write_time(spool, std::filesystem::file_time_type::clock::now() - std::chrono::hours(48));
  svc_->prune_results();
  EXPECT_FALSE(std::filesystem::exists(spool));
  auto p = svc_->page(r->run_id, 0, 10);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code, ErrorCode::not_found);
}

}  // namespace
}  // namespace pluto::query
