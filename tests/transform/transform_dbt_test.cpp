// The transform component with the real dbt CLI (installed by scripts/setup into .venv): the
// starter project built through `pluto-duck dbt`, then a failing model, a cancelled run, queries
// and a second run waiting for the warehouse. dbt takes seconds per run, so each test makes
// as few dbt invocations as it can.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "pluto/events/event_bus.hpp"
#include "pluto/jobs/job_runner.hpp"
#include "pluto/query/query_service.hpp"
#include "pluto/store/store.hpp"
#include "pluto/transform/dbt_service.hpp"
#include "pluto/warehouse/warehouse.hpp"
#include "test_util.hpp"

namespace pluto::transform {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Generous bound to catch hangs; never a performance assertion.
constexpr auto kHang = seconds(240);

std::string must_have_dbt() {
  DbtOptions o;
  auto exe = locate_dbt(o);
  return exe.ok() ? std::string() : exe.error().message + " — " + exe.error().hint;
}

// The in-process service stack on one data dir, as the app builds it.
class DbtStack {
 public:
  explicit DbtStack(const fs::path& data_dir, const fs::path& project_dir = {}) : dir_(data_dir) {
    auto s = store::Store::open(dir_ / "pluto.sqlite");
    EXPECT_TRUE(s.ok());
    store_ = std::move(s).value();
    EXPECT_TRUE(events::EventBus::migrate(*store_).ok());
    EXPECT_TRUE(jobs::JobRunner::migrate(*store_).ok());
    warehouse::WarehouseOptions wo;
    wo.path = (dir_ / "warehouse.duckdb").string();
    wo.pool_size = 2;
    auto w = warehouse::Warehouse::open(wo);
    EXPECT_TRUE(w.ok()) << w.error().message;
    wh_ = std::move(w).value();
    bus_ = std::make_unique<events::EventBus>(store_.get());
    runner_ = std::make_unique<jobs::JobRunner>(store_.get(), *bus_);
    query::ServiceOptions qo;
    qo.results_dir = dir_ / "results";
    queries_ = std::make_unique<query::QueryService>(qo, *store_, *wh_, *runner_);
    DbtOptions o;
    o.data_dir = dir_;
    o.default_project_dir = dir_ / "dbt";
    o.project_dir = project_dir.empty() ? o.default_project_dir : project_dir;
    o.starter_dir = DbtOptions::default_starter_dir();
    o.artifacts_dir = dir_ / "dbt" / "target";
    o.warehouse_path = wo.path;
    o.threads = 2;
    o.grace = seconds(3);
    auto d = DbtService::create(o, *store_, *wh_, *runner_);
    EXPECT_TRUE(d.ok()) << d.error().message;
    dbt_ = std::move(d).value();
  }
  ~DbtStack() {
    runner_->shutdown();
    dbt_.reset();
    queries_.reset();
    runner_.reset();
    bus_.reset();
    wh_.reset();
    store_.reset();
  }
  DbtStack(const DbtStack&) = delete;
  DbtStack& operator=(const DbtStack&) = delete;

  DbtService& dbt() { return *dbt_; }
  query::QueryService& queries() { return *queries_; }
  jobs::JobRunner& runner() { return *runner_; }
  events::EventBus& bus() { return *bus_; }
  warehouse::Warehouse& wh() { return *wh_; }

  // Waits for an event of `type` (with data matching `pred`) on `stream`; false after kHang.
  bool wait_for_event(const std::string& stream, const std::string& type,
                      const std::function<bool(const nlohmann::json&)>& pred = {}) {
    const auto deadline = std::chrono::steady_clock::now() + kHang;
    int64_t last = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = bus_->wait(stream, last, milliseconds(200));
      for (const auto& e : r.events) {
        last = e.id;
        if (e.type == type && (!pred || pred(e.data))) return true;
      }
      if (r.closed) return false;
    }
    return false;
  }
  std::vector<std::string> event_types(const std::string& stream) {
    std::vector<std::string> out;
    for (const auto& e : bus_->read(stream, 0).events) out.push_back(e.type);
    return out;
  }
  std::string query_json(const std::string& sql) {
    query::QueryRequest r;
    r.sql = sql;
    auto v = queries_->run(r);
    if (!v.ok()) return "error: " + v.error().message;
    if (v->status != "succeeded") return "status " + v->status + (v->error ? ": " + v->error->message : "");
    return v->rows_json;
  }

 private:
  fs::path dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<warehouse::Warehouse> wh_;
  std::unique_ptr<events::EventBus> bus_;
  std::unique_ptr<jobs::JobRunner> runner_;
  std::unique_ptr<query::QueryService> queries_;
  std::unique_ptr<DbtService> dbt_;
};

// A small dbt project of our own (the starter project takes longer to build).
fs::path write_project(const fs::path& dir, const std::map<std::string, std::string>& models) {
  fs::create_directories(dir / "models");
  testing::write_file(dir / "dbt_project.yml",
                      "name: mini\nversion: \"1.0.0\"\nconfig-version: 2\nprofile: anything\n"
                      "models:\n  mini:\n    +materialized: table\n");
  for (const auto& [name, sql] : models) testing::write_file(dir / "models" / (name + ".sql"), sql);
  return dir;
}

testing::ProcessResult pluto(const testing::TempDir& dir, std::vector<std::string> args) {
  args.insert(args.begin(), {PLUTO_BINARY, "--data-dir", dir.str()});
  return testing::run_process(args);
}

const nlohmann::json* find_by(const nlohmann::json& arr, const char* key, const std::string& value) {
  for (const auto& x : arr) {
    if (x.contains(key) && x[key] == value) return &x;
  }
  return nullptr;
}

// No process may still run dbt for this run (its command line names the run's target path).
bool dbt_process_alive(const std::string& run_dir) {
  for (const auto& p : fs::directory_iterator("/proc")) {
    const auto name = p.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmd = testing::read_file(p.path() / "cmdline");
    for (auto& c : cmd) {
      if (c == '\0') c = ' ';
    }
    if (cmd.find("dbt") != std::string::npos && cmd.find(run_dir) != std::string::npos) return true;
  }
  return false;
}

class DbtReal : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto missing = must_have_dbt();
    ASSERT_TRUE(missing.empty()) << "these tests need the real dbt CLI: " << missing;
  }
  testing::TempDir dir_;
};

// `pluto-duck dbt build` on the starter project passes, its models answer `pluto-duck query`,
// `dbt ls` selects, and the catalog knows lineage, descriptions, compiled SQL and test results.
TEST_F(DbtReal, StarterBuildIsQueryableAndFeedsTheCatalog) {
  auto build = pluto(dir_, {"dbt", "build"});
  ASSERT_EQ(build.exit_code, 0) << build.out << build.err;
  EXPECT_NE(build.out.find("OK     table model fct_orders"), std::string::npos) << build.out;
  EXPECT_NE(build.out.find("OK     incremental model daily_revenue"), std::string::npos) << build.out;
  EXPECT_NE(build.out.find("PASS   test assert_payments_match_order_totals"), std::string::npos) << build.out;
  EXPECT_NE(build.out.find("START  seed raw_orders"), std::string::npos) << build.out;
  EXPECT_NE(build.out.find(" 0 errors"), std::string::npos) << build.out;
  // The starter project was copied into the data dir, seeds as files.
  EXPECT_TRUE(fs::is_regular_file(dir_ / "dbt" / "dbt_project.yml"));
  EXPECT_FALSE(fs::is_symlink(dir_ / "dbt" / "seeds" / "raw_orders.csv"));

  auto q = pluto(dir_, {"query",
                        "select (select count(*) from fct_orders) as orders, (select count(*) from "
                        "dim_customers) as customers, (select count(*) from daily_revenue) > 300 as days",
                        "--format", "json"});
  ASSERT_EQ(q.exit_code, 0) << q.err;
  EXPECT_EQ(q.out, "[{\"orders\":2000,\"customers\":500,\"days\":true}]\n");

  auto ls = pluto(dir_, {"--json", "dbt", "ls", "--select", "marts", "--exclude", "resource_type:test"});
  ASSERT_EQ(ls.exit_code, 0) << ls.out << ls.err;
  auto lsj = nlohmann::json::parse(ls.out, nullptr, false);
  ASSERT_FALSE(lsj.is_discarded()) << ls.out;
  EXPECT_EQ(lsj["status"], "succeeded");
  std::set<std::string> listed;
  for (const auto& item : lsj["items"]) listed.insert(item["name"].get<std::string>());
  EXPECT_EQ(listed, (std::set<std::string>{"fct_orders", "dim_customers", "daily_revenue"}));

  DbtStack stack(dir_.path());
  auto& dbt = stack.dbt();
  auto runs = dbt.list_runs(10);
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 2U);
  auto built = dbt.get_run(runs->back().run_id);
  ASSERT_TRUE(built.ok());
  EXPECT_EQ(built->command, "build");
  EXPECT_EQ(built->status, "succeeded");
  EXPECT_EQ(built->nodes.size(), 45U);  // 5 seeds, 8 models, 32 tests
  EXPECT_TRUE(fs::exists(fs::path(built->artifacts_dir) / "run_results.json"));
  EXPECT_TRUE(fs::exists(fs::path(built->artifacts_dir) / "manifest.json"));
  EXPECT_EQ(built->stats["error"], 0);

  // Lineage of a mart: its staging parents and the tests on its columns, with their results.
  auto lin = dbt.lineage("fct_orders");
  ASSERT_TRUE(lin.ok()) << lin.error().message;
  std::set<std::string> parents;
  for (const auto& p : (*lin)["node"]["parents"]) parents.insert(p.get<std::string>());
  EXPECT_EQ(parents, (std::set<std::string>{"model.pluto_core.stg_order_items", "model.pluto_core.stg_orders",
                                            "model.pluto_core.stg_payments"}));
  const auto* seed = find_by((*lin)["nodes"], "unique_id", "seed.pluto_core.raw_orders");
  ASSERT_NE(seed, nullptr);
  EXPECT_EQ((*seed)["direction"], "upstream");
  EXPECT_EQ((*seed)["distance"], -2);
  const auto* dim = find_by((*lin)["nodes"], "unique_id", "model.pluto_core.dim_customers");
  ASSERT_NE(dim, nullptr);
  EXPECT_EQ((*dim)["direction"], "downstream");
  bool unique_order_id = false;
  for (const auto& t : (*lin)["tests"]) {
    EXPECT_EQ(t["last_result"]["status"], "pass") << t.dump();
    if (t["test_name"] == "unique" && t["column_name"] == "order_id") unique_order_id = true;
  }
  EXPECT_TRUE(unique_order_id) << (*lin)["tests"].dump();

  // What the table catalog merges: descriptions, column tests, compiled SQL (the latest manifest
  // comes from `ls`, which compiles nothing: the SQL is the build's), last run.
  auto info = dbt.table_info("fct_orders");
  ASSERT_TRUE(info.ok());
  ASSERT_TRUE(info->has_value());
  const auto& t = **info;
  EXPECT_NE(t["description"].get<std::string>().find("One row per order"), std::string::npos);
  EXPECT_EQ(t["materialized"], "table");
  EXPECT_EQ(t["last_result"]["status"], "success");
  EXPECT_NE(t["compiled_code"].get<std::string>().find("\"stg_order_items\""), std::string::npos) << t.dump();
  const auto* order_id = find_by(t["columns"], "name", "order_id");
  ASSERT_NE(order_id, nullptr);
  EXPECT_EQ((*order_id)["description"], "Order key.");
  EXPECT_EQ((*order_id)["tests"].size(), 2U);  // unique, not_null
  for (const auto& c : t["columns"]) EXPECT_FALSE(c["description"].get<std::string>().empty()) << c.dump();
  auto none = dbt.table_info("no_such_table");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());

  auto m = dbt.manifest();
  ASSERT_TRUE(m.ok());
  EXPECT_EQ((*m)["project_name"], "pluto_core");
  EXPECT_EQ((*m)["counts"]["model"], 8);
  EXPECT_EQ((*m)["counts"]["seed"], 5);
  EXPECT_EQ((*m)["counts"]["test"], 32);
  for (const auto& n : (*m)["nodes"]) {
    if (n["resource_type"] == "model") {
      EXPECT_FALSE(n["description"].get<std::string>().empty()) << n["name"];
    }
  }
  auto models = dbt.models("daily");
  ASSERT_TRUE(models.ok());
  ASSERT_EQ((*models)["models"].size(), 1U);
  EXPECT_EQ((*models)["models"][0]["materialized"], "incremental");

  // The actions the catalog registers answer the same.
  auto actions = dbt_actions(dbt);
  ASSERT_EQ(actions.size(), 3U);
  auto lineage_action = std::find_if(actions.begin(), actions.end(), [](auto& a) { return a.name == "dbt.lineage"; });
  auto via_action = lineage_action->handler({{"node", "dim_customers"}, {"depth", 1}}, "agent", nullptr);
  ASSERT_TRUE(via_action.ok());
  EXPECT_EQ((*via_action)["node"]["unique_id"], "model.pluto_core.dim_customers");
}

TEST_F(DbtReal, MissingDbtExitsThreeAndSaysHowToInstall) {
  auto r = pluto(dir_, {"--set", "dbt.executable=/nonexistent/bin/dbt", "dbt", "run"});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("/nonexistent/bin/dbt"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("scripts/setup"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("dbt-duckdb"), std::string::npos) << r.err;
}

// While a server holds the warehouse file, `dbt ls` (which never opens it) works from the CLI, and
// a run that needs the file says that it is locked and by what, before starting dbt.
TEST_F(DbtReal, LsWorksNextToARunningServerAndRunsSayTheFileIsLocked) {
  testing::BackgroundProcess server({PLUTO_BINARY, "--data-dir", dir_.str(), "--json", "serve", "--port", "0"});
  ASSERT_NE(server.first_line().find("\"url\""), std::string::npos);
  auto ls = pluto(dir_, {"--json", "dbt", "ls", "--select", "marts", "--exclude", "resource_type:test"});
  ASSERT_EQ(ls.exit_code, 0) << ls.out << ls.err;
  auto lsj = nlohmann::json::parse(ls.out, nullptr, false);
  ASSERT_FALSE(lsj.is_discarded()) << ls.out;
  std::set<std::string> listed;
  for (const auto& item : lsj["items"]) listed.insert(item["name"].get<std::string>());
  EXPECT_EQ(listed, (std::set<std::string>{"fct_orders", "dim_customers", "daily_revenue"}));
  auto run = pluto(dir_, {"dbt", "run"});
  EXPECT_EQ(run.exit_code, 3) << run.out << run.err;
  EXPECT_NE(run.err.find("warehouse.duckdb"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("lock"), std::string::npos) << run.err;
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait(), 0);
}

TEST_F(DbtReal, InvalidProjectIsReportedWithDbtsMessage) {
  const auto project = dir_ / "broken-project";
  fs::create_directories(project);
  testing::write_file(project / "dbt_project.yml", "name: broken\nversion: [unclosed\nconfig-version: 2\n");
  auto r = pluto(dir_, {"--set", "dbt.project_dir=" + project.string(), "dbt", "run"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("dbt could not run the project at " + project.string()), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Syntax error near line 3"), std::string::npos) << r.err;  // dbt's own words
  EXPECT_EQ(r.err.find("Syntax error"), r.err.rfind("Syntax error")) << r.err;    // said once
  EXPECT_NE(r.err.find("hint: fix the dbt project"), std::string::npos) << r.err;
}

// A broken model fails the run with that model's error and compiled SQL; the other models'
// results are recorded; a query sent meanwhile waits (with an event saying why) and then runs.
TEST_F(DbtReal, BrokenModelFailsTheRunAndQueriesWaitForIt) {
  const auto project = write_project(dir_ / "mini", {{"ok_a", "select 1 as id"},
                                                     {"ok_b", "select id + 1 as id from {{ ref('ok_a') }}"},
                                                     {"broken", "select no_such_column from {{ ref('ok_a') }}"}});
  DbtStack stack(dir_.path(), project);
  ASSERT_EQ(stack.query_json("create table before_dbt as select 42 as x"), "[]");

  DbtRequest req;
  req.command = DbtCommand::run;
  auto sub = stack.dbt().submit(req);
  ASSERT_TRUE(sub.ok()) << sub.error().message;
  ASSERT_TRUE(stack.wait_for_event(sub->stream, "dbt.warehouse"));  // dbt has the warehouse now

  query::QueryRequest q;
  q.sql = "select x from before_dbt";
  auto qv = stack.queries().submit(q);
  ASSERT_TRUE(qv.ok());
  auto run = stack.dbt().wait(sub->run_id, kHang);
  ASSERT_TRUE(run.ok());
  auto qdone = stack.queries().wait(qv->run_id, kHang);
  ASSERT_TRUE(qdone.ok());
  EXPECT_EQ(qdone->status, "succeeded");
  EXPECT_EQ(qdone->rows_json, "[[42]]");
  const auto qtypes = stack.event_types("query/" + qv->run_id);
  EXPECT_NE(std::find(qtypes.begin(), qtypes.end(), "query.waiting"), qtypes.end());
  auto dbt_job = stack.runner().get(sub->run_id);
  auto q_job = stack.runner().get(qv->run_id);
  ASSERT_TRUE(dbt_job.ok() && q_job.ok());
  ASSERT_TRUE(dbt_job->finished_at && q_job->started_at);
  ASSERT_TRUE(run->finished_at);
  EXPECT_GE(*q_job->started_at, *run->finished_at);  // RFC 3339 in UTC sorts as text

  EXPECT_EQ(run->status, "failed");
  ASSERT_TRUE(run->error);
  EXPECT_EQ(run->error->code, ErrorCode::sql_error);
  EXPECT_NE(run->error->message.find("model broken"), std::string::npos) << run->error->message;
  EXPECT_NE(run->error->message.find("no_such_column"), std::string::npos) << run->error->message;
  EXPECT_EQ(dbt_job->status, jobs::JobStatus::failed);
  ASSERT_EQ(run->nodes.size(), 3U);
  std::map<std::string, NodeResult> by_name;
  for (const auto& n : run->nodes) by_name[n.name] = n;
  EXPECT_EQ(by_name["ok_a"].status, "success");
  EXPECT_EQ(by_name["ok_b"].status, "success");
  EXPECT_EQ(by_name["broken"].status, "error");
  EXPECT_NE(by_name["broken"].message.find("no_such_column"), std::string::npos);
  ASSERT_FALSE(by_name["broken"].compiled_path.empty());
  EXPECT_NE(testing::read_file(by_name["broken"].compiled_path).find("no_such_column"), std::string::npos);
  EXPECT_NE(run->error->hint.find(by_name["broken"].compiled_path), std::string::npos);
  // Events told the story as it happened.
  const auto types = stack.event_types(sub->stream);
  EXPECT_EQ(std::count(types.begin(), types.end(), "dbt.node_finished"), 3);
  EXPECT_NE(std::find(types.begin(), types.end(), "dbt.node_error"), types.end());
  // The warehouse is back and has what dbt built.
  EXPECT_EQ(stack.query_json("select id from ok_b"), "[[2]]");
}

// Cancelling a running dbt stops it and gives the warehouse back at once; a query waiting for it
// runs next; a second run asked not to wait is refused, one that waits runs after, in order.
TEST_F(DbtReal, CancelStopsDbtAndTheWarehouseIsUsableAtOnce) {
  const auto project = write_project(
      dir_ / "mini", {{"slow", "select sum(a.range * b.range) as s from range(100000) a, range(1000000) b"},
                      {"quick", "select 7 as n"}});
  DbtStack stack(dir_.path(), project);

  DbtRequest slow;
  slow.command = DbtCommand::run;
  slow.select = {"slow"};
  auto a = stack.dbt().submit(slow);
  ASSERT_TRUE(a.ok()) << a.error().message;
  ASSERT_TRUE(
      stack.wait_for_event(a->stream, "dbt.node_started", [](const nlohmann::json& d) { return d["name"] == "slow"; }));

  DbtRequest no_wait;
  no_wait.command = DbtCommand::run;
  no_wait.select = {"quick"};
  no_wait.wait = false;
  auto refused = stack.dbt().submit(no_wait);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::conflict);
  EXPECT_NE(refused.error().message.find(a->run_id), std::string::npos);

  query::QueryRequest q;
  q.sql = "select 42 as answer";
  auto qv = stack.queries().submit(q);
  ASSERT_TRUE(qv.ok());
  DbtRequest queued = no_wait;
  queued.wait = true;
  auto c = stack.dbt().submit(queued);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(stack.wait_for_event(c->stream, "dbt.waiting"));
  EXPECT_TRUE(stack.wait_for_event("query/" + qv->run_id, "query.waiting"));

  ASSERT_TRUE(stack.dbt().cancel(a->run_id).ok());
  auto qdone = stack.queries().wait(qv->run_id, kHang);
  ASSERT_TRUE(qdone.ok());
  EXPECT_EQ(qdone->status, "succeeded");
  EXPECT_EQ(qdone->rows_json, "[[42]]");
  auto cancelled = stack.dbt().wait(a->run_id, kHang);
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->status, "cancelled");
  EXPECT_FALSE(dbt_process_alive(cancelled->artifacts_dir));
  auto a_types = stack.event_types(a->stream);
  EXPECT_NE(std::find(a_types.begin(), a_types.end(), "dbt.cancelled"), a_types.end());
  EXPECT_NE(std::find(a_types.begin(), a_types.end(), "dbt.warehouse"), a_types.end());

  auto second = stack.dbt().wait(c->run_id, kHang);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->status, "succeeded") << (second->error ? second->error->message : "");
  auto q_job = stack.runner().get(qv->run_id);
  auto c_job = stack.runner().get(c->run_id);
  ASSERT_TRUE(q_job.ok() && c_job.ok() && q_job->started_at && c_job->started_at);
  EXPECT_LE(*q_job->started_at, *c_job->started_at);  // first come, first served
  EXPECT_TRUE(stack.wh().is_open());
  EXPECT_EQ(stack.query_json("select n from quick"), "[[7]]");
}

// Ctrl-C on `pluto-duck dbt` stops dbt (SIGINT to its process group) and the warehouse is free
// for the next command at once.
TEST_F(DbtReal, CtrlCCancelsTheCliRunAndFreesTheWarehouse) {
  const auto project = write_project(
      dir_ / "mini", {{"slow", "select sum(a.range * b.range) as s from range(100000) a, range(1000000) b"}});
  testing::RunOptions o;
  o.sigint_after = milliseconds(6000);
  auto r = testing::run_process({PLUTO_BINARY, "--data-dir", dir_.str(), "--set", "dbt.project_dir=" + project.string(),
                                 "--set", "dbt.cancel_grace_seconds=3", "dbt", "run"},
                                o);
  EXPECT_EQ(r.exit_code, 130) << r.out << r.err;
  EXPECT_NE(r.err.find("dbt run cancelled"), std::string::npos) << r.err;
  EXPECT_FALSE(dbt_process_alive(dir_.str()));
  auto q = pluto(dir_, {"query", "select 1 as ok", "--format", "json"});
  EXPECT_EQ(q.exit_code, 0) << q.err;
  EXPECT_EQ(q.out, "[{\"ok\":1}]\n");
}

}  // namespace
}  // namespace pluto::transform
