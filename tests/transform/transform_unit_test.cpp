// Pieces of the transform component that need no dbt: the child-process runner (with real
// processes), dbt log translation, requests, the profile, the starter project copy and the
// manifest reader.
#include <gtest/gtest.h>

#include <csignal>
#include <nlohmann/json.hpp>
#include <thread>

#include "pluto/transform/catalog.hpp"
#include "pluto/transform/dbt_log.hpp"
#include "pluto/transform/dbt_service.hpp"
#include "pluto/transform/process.hpp"
#include "test_util.hpp"

namespace pluto::transform {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

// ---- process ------------------------------------------------------------------------------

struct Captured {
  std::vector<std::string> out;
  std::vector<std::string> err;
};

LineFn capture_into(Captured& c, const std::function<void(const std::string&)>& on_out = {}) {
  return [&c, on_out](OutputStream which, std::string_view line) {
    (which == OutputStream::out ? c.out : c.err).emplace_back(line);
    if (which == OutputStream::out && on_out) on_out(std::string(line));
  };
}

TEST(Process, StreamsLinesOfBothStreamsAndReportsTheExitCode) {
  Captured c;
  ProcessSpec spec;
  spec.argv = {"sh", "-c", "echo one; echo two >&2; echo three; printf tail; exit 4"};
  auto r = run_process(spec, capture_into(c), nullptr, milliseconds(500));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->exit_code, 4);
  EXPECT_FALSE(r->stop_requested);
  EXPECT_EQ(c.out, (std::vector<std::string>{"one", "three", "tail"}));
  EXPECT_EQ(c.err, (std::vector<std::string>{"two"}));
}

TEST(Process, RunsInTheGivenDirectoryWithTheGivenEnvironment) {
  testing::TempDir dir;
  Captured c;
  ProcessSpec spec;
  spec.argv = {"sh", "-c", "pwd; echo \"$PLUTO_T1-${PLUTO_T2:-unset}\""};
  spec.cwd = dir.path();
  spec.env_set = {{"PLUTO_T1", "set"}};
  spec.env_unset = {"PLUTO_T2"};
  ::setenv("PLUTO_T2", "inherited", 1);
  auto r = run_process(spec, capture_into(c), nullptr, milliseconds(500));
  ::unsetenv("PLUTO_T2");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(c.out.size(), 2U);
  EXPECT_EQ(fs::canonical(c.out[0]), fs::canonical(dir.path()));
  EXPECT_EQ(c.out[1], "set-unset");
}

TEST(Process, MissingProgramIsUnavailable) {
  ProcessSpec spec;
  spec.argv = {"/nonexistent/dbt"};
  auto r = run_process(spec, {}, nullptr, milliseconds(100));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::unavailable);
  EXPECT_FALSE(find_executable("/nonexistent/dbt").has_value());
  EXPECT_TRUE(find_executable("sh").has_value());
}

// Runs `script` and cancels once it printed "ready"; returns the outcome.
ProcessOutcome stop_after_ready(const std::string& script, milliseconds grace, Captured& c) {
  auto token = CancelToken::create();
  ProcessSpec spec;
  spec.argv = {"sh", "-c", script};
  auto r = run_process(spec,
                       capture_into(c,
                                    [&](const std::string& line) {
                                      if (line == "ready") token->cancel();
                                    }),
                       token, grace);
  EXPECT_TRUE(r.ok());
  return r.ok() ? r.value() : ProcessOutcome{};
}

TEST(Process, StopSendsSigintFirst) {
  Captured c;
  auto o = stop_after_ready("trap 'echo got-int; exit 7' INT; echo ready; while :; do sleep 0.05; done",
                            milliseconds(5000), c);
  EXPECT_TRUE(o.stop_requested);
  EXPECT_EQ(o.exit_code, 7);
  EXPECT_EQ(o.signals_sent, (std::vector<std::string>{"SIGINT"}));
  EXPECT_NE(std::find(c.out.begin(), c.out.end(), "got-int"), c.out.end());
}

TEST(Process, StopEscalatesToSigtermWhenSigintIsIgnored) {
  Captured c;
  auto o = stop_after_ready("trap '' INT; echo ready; while :; do sleep 0.05; done", milliseconds(200), c);
  EXPECT_EQ(o.term_signal, SIGTERM);
  EXPECT_EQ(o.signals_sent, (std::vector<std::string>{"SIGINT", "SIGTERM"}));
}

TEST(Process, StopEscalatesToSigkillWhenEverythingIsIgnored) {
  Captured c;
  auto o = stop_after_ready("trap '' INT TERM; echo ready; while :; do sleep 0.05; done", milliseconds(200), c);
  EXPECT_EQ(o.term_signal, SIGKILL);
  EXPECT_EQ(o.signals_sent, (std::vector<std::string>{"SIGINT", "SIGTERM", "SIGKILL"}));
}

TEST(Process, CaptureOutputFailsOnNonZeroExitWithStderr) {
  ProcessSpec ok;
  ok.argv = {"sh", "-c", "echo hello"};
  auto r = capture_output(ok, milliseconds(10000));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), "hello\n");
  ProcessSpec bad;
  bad.argv = {"sh", "-c", "echo broken >&2; exit 3"};
  auto b = capture_output(bad, milliseconds(10000));
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message.find("broken"), std::string::npos) << b.error().message;
}

// ---- dbt log lines --------------------------------------------------------------------------

// Real lines printed by dbt-core 1.11 with --log-format json (shortened where noted).
const char* kStartLine =
    R"J({"data": {"description": "sql view model main.stg_orders", "index": 7, "node_info": {"materialized": "view", "meta": {}, "node_checksum": "x", "node_finished_at": "", "node_name": "stg_orders", "node_path": "staging/stg_orders.sql", "node_relation": {"alias": "stg_orders", "database": "warehouse", "relation_name": "\"warehouse\".\"main\".\"stg_orders\"", "schema": "main"}, "node_started_at": "2026-11-24T06:16:45.164465", "node_status": "started", "resource_type": "model", "unique_id": "model.pluto_core.stg_orders"}, "total": 45}, "info": {"category": "", "code": "Q011", "extra": {}, "invocation_id": "b81032c2", "level": "info", "msg": "7 of 45 START sql view model main.stg_orders", "name": "LogStartLine", "pid": 1, "thread": "Thread-2 (worker)", "ts": "2026-11-24T06:16:45.165Z"}})J";
const char* kModelError =
    R"J({"data": {"description": "sql table model main.broken_model", "execution_time": 0.15596652, "index": 32, "node_info": {"materialized": "table", "meta": {}, "node_checksum": "x", "node_finished_at": "2026-11-24T06:17:00.852474", "node_name": "broken_model", "node_path": "marts/broken_model.sql", "node_relation": {"alias": "broken_model", "database": "wh", "relation_name": "\"wh\".\"main\".\"broken_model\"", "schema": "main"}, "node_started_at": "2026-11-24T06:17:00.684068", "node_status": "error", "resource_type": "model", "unique_id": "model.pluto_core.broken_model"}, "status": "error", "total": 46}, "info": {"category": "", "code": "Q012", "extra": {}, "invocation_id": "d96e3477", "level": "error", "msg": "32 of 46 ERROR creating sql table model main.broken_model", "name": "LogModelResult", "pid": 1, "thread": "Thread-2 (worker)", "ts": "2026-11-24T06:17:00.852896Z"}})J";
const char* kTestPass =
    R"J({"data": {"attached_node": "model.pluto_core.stg_customers", "execution_time": 0.09912491, "index": 11, "name": "accepted_values_x", "node_info": {"materialized": "test", "meta": {}, "node_checksum": "", "node_finished_at": "2026-11-24T06:16:45.485178", "node_name": "accepted_values_x", "node_path": "accepted_values_x.sql", "node_relation": {"alias": "accepted_values_x", "database": "wh", "relation_name": "", "schema": "main_dbt_test__audit"}, "node_started_at": "2026-11-24T06:16:45.382977", "node_status": "pass", "resource_type": "test", "unique_id": "test.pluto_core.accepted_values_x.587925c8f8"}, "num_failures": 0, "num_models": 45, "status": "pass"}, "info": {"category": "", "code": "Q007", "extra": {}, "invocation_id": "b81032c2", "level": "info", "msg": "11 of 45 PASS accepted_values_x", "name": "LogTestResult", "pid": 1, "thread": "Thread-1 (worker)", "ts": "2026-11-24T06:16:45.49Z"}})J";
const char* kRunResultError =
    R"J({"data": {"msg": "Runtime Error in model broken_model (models/marts/broken_model.sql)\n  Binder Error: Referenced column \"no_such_column\" not found", "node_info": {"materialized": "table", "meta": {}, "node_checksum": "x", "node_finished_at": "", "node_name": "broken_model", "node_path": "marts/broken_model.sql", "node_relation": {"alias": "broken_model", "database": "wh", "relation_name": "\"wh\".\"main\".\"broken_model\"", "schema": "main"}, "node_started_at": "", "node_status": "None", "resource_type": "model", "unique_id": "model.pluto_core.broken_model"}}, "info": {"category": "", "code": "Z024", "extra": {}, "invocation_id": "d96e3477", "level": "error", "msg": "  Runtime Error in model broken_model", "name": "RunResultError", "pid": 1, "thread": "MainThread", "ts": "2026-11-24T06:17:01.407727Z"}})J";
const char* kCompiledPath =
    R"J({"data": {"node_info": {"materialized": "table", "meta": {}, "node_checksum": "x", "node_finished_at": "", "node_name": "broken_model", "node_path": "marts/broken_model.sql", "node_relation": {"alias": "broken_model", "database": "wh", "relation_name": "", "schema": "main"}, "node_started_at": "", "node_status": "None", "resource_type": "model", "unique_id": "model.pluto_core.broken_model"}, "path": "/tmp/runs/2/compiled/pluto_core/models/marts/broken_model.sql"}, "info": {"category": "", "code": "Z026", "extra": {}, "invocation_id": "d96e3477", "level": "info", "msg": "  compiled code at /tmp/runs/2/compiled/pluto_core/models/marts/broken_model.sql", "name": "SQLCompiledPath", "pid": 1, "thread": "MainThread", "ts": "2026-11-24T06:17:01.408344Z"}})J";
const char* kVersion =
    R"J({"data": {"log_version": 3, "version": "=1.11.16"}, "info": {"category": "", "code": "A001", "extra": {}, "invocation_id": "b81032c2", "level": "info", "msg": "Running with dbt=1.11.16", "name": "MainReportVersion", "pid": 1, "thread": "MainThread", "ts": "2026-11-24T06:16:42.691336Z"}})J";
const char* kMainError =
    R"J({"data": {"exc": "Parsing Error\n  Error reading pluto_core: marts/_marts.yml - Runtime Error\n    Syntax error near line 70"}, "info": {"category": "", "code": "Z002", "extra": {}, "invocation_id": "b12ef1fb", "level": "error", "msg": "Encountered an error:\nParsing Error", "name": "MainEncounteredError", "pid": 1, "thread": "MainThread", "ts": "2026-11-24T06:16:36.536843Z"}})J";
const char* kListItem =
    R"J({"data": {"msg": "{\"name\": \"daily_revenue\", \"resource_type\": \"model\", \"unique_id\": \"model.pluto_core.daily_revenue\", \"original_file_path\": \"models/marts/daily_revenue.sql\"}"}, "info": {"category": "", "code": "Z052", "extra": {}, "invocation_id": "bf4d65f7", "level": "info", "msg": "{}", "name": "PrintEvent", "pid": 1, "thread": "MainThread", "ts": "2026-11-24T06:17:11.703506Z"}})J";
const char* kStats =
    R"J({"data": {"stats": {"error": 1, "noop": 0, "pass": 45, "skip": 0, "total": 46, "warn": 0}}, "info": {"category": "", "code": "Z023", "extra": {}, "invocation_id": "d96e3477", "level": "info", "msg": "Done. PASS=45 WARN=0 ERROR=1 SKIP=0 NO-OP=0 TOTAL=46", "name": "StatsLine", "pid": 1, "thread": "MainThread", "ts": "2026-11-24T06:17:01.409073Z"}})J";

TEST(DbtLog, NodeStartAndFinishBecomeNodeEventsWithStatusAndTiming) {
  LogTranslator t;
  auto start = t.on_stdout(kStartLine);
  ASSERT_TRUE(start);
  EXPECT_EQ(start->type, "dbt.node_started");
  EXPECT_EQ(start->data["unique_id"], "model.pluto_core.stg_orders");
  EXPECT_EQ(start->data["name"], "stg_orders");
  EXPECT_EQ(start->data["materialized"], "view");
  EXPECT_EQ(start->data["index"], 7);
  EXPECT_EQ(start->data["total"], 45);

  auto err = t.on_stdout(kModelError);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->type, "dbt.node_finished");
  EXPECT_EQ(err->data["status"], "error");
  EXPECT_DOUBLE_EQ(err->data["execution_time"].get<double>(), 0.15596652);
  EXPECT_EQ(err->data["relation_name"], "\"wh\".\"main\".\"broken_model\"");

  auto pass = t.on_stdout(kTestPass);
  ASSERT_TRUE(pass);
  EXPECT_EQ(pass->data["status"], "pass");
  EXPECT_EQ(pass->data["failures"], 0);
  EXPECT_EQ(pass->data["index"], 11);
  EXPECT_EQ(pass->data["total"], 45);
  EXPECT_EQ(t.summary().nodes_finished, 2);
  EXPECT_EQ(t.summary().nodes_failed, 1);
}

TEST(DbtLog, CollectsVersionErrorsCompiledPathsStatsAndListItems) {
  LogTranslator t;
  EXPECT_EQ(t.on_stdout(kVersion)->type, "dbt.log");
  auto ne = t.on_stdout(kRunResultError);
  ASSERT_TRUE(ne);
  EXPECT_EQ(ne->type, "dbt.node_error");
  EXPECT_FALSE(t.on_stdout(kCompiledPath).has_value());
  (void)t.on_stdout(kStats);
  auto item = t.on_stdout(kListItem);
  ASSERT_TRUE(item);
  EXPECT_EQ(item->type, "dbt.list_item");
  (void)t.on_stdout(kMainError);
  (void)t.on_stderr("Traceback (most recent call last):");
  (void)t.on_stdout("not json at all");

  const auto& s = t.summary();
  EXPECT_EQ(s.dbt_version, "1.11.16");
  EXPECT_NE(s.node_errors.at("model.pluto_core.broken_model").find("Binder Error"), std::string::npos);
  EXPECT_EQ(s.compiled_paths.at("model.pluto_core.broken_model"),
            "/tmp/runs/2/compiled/pluto_core/models/marts/broken_model.sql");
  EXPECT_EQ(s.stats["error"], 1);
  ASSERT_EQ(s.list_items.size(), 1U);
  EXPECT_EQ(s.list_items[0]["unique_id"], "model.pluto_core.daily_revenue");
  EXPECT_NE(s.main_error.find("Syntax error near line 70"), std::string::npos);
  ASSERT_EQ(s.stderr_tail.size(), 1U);
}

TEST(DbtLog, StatusesAreNormalized) {
  EXPECT_EQ(normalize_status("OK"), "success");
  EXPECT_EQ(normalize_status("runtime error"), "error");
  EXPECT_TRUE(is_failure_status("fail"));
  EXPECT_TRUE(is_failure_status("ERROR"));
  EXPECT_FALSE(is_failure_status("warn"));
  EXPECT_FALSE(is_failure_status("pass"));
}

// ---- requests -------------------------------------------------------------------------------

TEST(DbtRequestTest, ParsesTheApiBodyIntoDbtArguments) {
  auto r = DbtRequest::from_json(nlohmann::json::parse(
      R"({"command":"build","select":"marts +fct_orders","exclude":["tag:slow"],"vars":{"day":"2024-01-01"},"full_refresh":true,"wait":false})"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->command, DbtCommand::build);
  EXPECT_FALSE(r->wait);
  EXPECT_EQ(r->dbt_args(),
            (std::vector<std::string>{"build", "--select", "marts", "+fct_orders", "--exclude", "tag:slow", "--vars",
                                      R"({"day":"2024-01-01"})", "--full-refresh"}));
  auto ls = DbtRequest::from_json({{"command", "ls"}}, {DbtCommand::ls});
  ASSERT_TRUE(ls.ok());
  EXPECT_EQ(ls->dbt_args(), (std::vector<std::string>{"ls", "--output", "json"}));
}

TEST(DbtRequestTest, RejectsBadInputNamingTheField) {
  auto expect_bad = [](const std::string& body, const std::string& needle) {
    auto r = DbtRequest::from_json(nlohmann::json::parse(body));
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
    EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
  };
  expect_bad(R"({"command":"docs"})", "docs");
  expect_bad(R"({"command":"ls"})", "ls");  // the API allows run, test, build, seed
  expect_bad(R"({})", "command");
  expect_bad(R"({"command":"run","select":"--profiles-dir /etc"})", "--profiles-dir");
  expect_bad(R"({"command":"run","select":[1]})", "select");
  expect_bad(R"({"command":"run","colour":"red"})", "colour");
  expect_bad(R"({"command":"test","full_refresh":true})", "full_refresh");
  expect_bad(R"({"command":"run","wait":"yes"})", "wait");
}

// ---- profile and project --------------------------------------------------------------------

DbtOptions options_in(const testing::TempDir& dir) {
  DbtOptions o;
  o.data_dir = dir.path();
  o.default_project_dir = dir.path() / "dbt";
  o.project_dir = o.default_project_dir;
  o.starter_dir = DbtOptions::default_starter_dir();
  o.artifacts_dir = dir.path() / "dbt" / "target";
  o.warehouse_path = (dir.path() / "my \"odd\": dir" / "warehouse.duckdb").string();
  o.extension_directory = "/opt/ext";
  return o;
}

TEST(DbtProfile, PointsAtTheWarehouseWithQuotedPathsAndNoDownloads) {
  testing::TempDir dir;
  auto o = options_in(dir);
  o.threads = 3;
  o.memory_limit = "2GB";
  const auto y = render_profile(o);
  EXPECT_NE(y.find("pluto_duck:\n  target: warehouse\n"), std::string::npos) << y;
  EXPECT_NE(y.find("type: duckdb"), std::string::npos);
  EXPECT_NE(y.find("path: " + nlohmann::json(o.warehouse_path).dump() + "\n"), std::string::npos) << y;
  EXPECT_NE(y.find("threads: 3"), std::string::npos);
  EXPECT_NE(y.find("autoinstall_known_extensions: false"), std::string::npos);
  EXPECT_NE(y.find("extension_directory: \"/opt/ext\""), std::string::npos);
  EXPECT_NE(y.find("memory_limit: \"2GB\""), std::string::npos);
}

TEST(DbtProject, StarterIsCopiedOnceAndUserEditsAreKept) {
  testing::TempDir dir;
  auto o = options_in(dir);
  auto p = prepare_project(o);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p.value(), o.project_dir);
  const auto model = o.project_dir / "models" / "marts" / "fct_orders.sql";
  ASSERT_TRUE(fs::exists(model));
  // Seeds arrive as files (the source tree links them to data/sample/shop).
  const auto seed = o.project_dir / "seeds" / "raw_orders.csv";
  ASSERT_TRUE(fs::exists(seed));
  EXPECT_FALSE(fs::is_symlink(seed));
  EXPECT_EQ(testing::read_file(seed).substr(0, 8), "order_id");

  testing::write_file(model, "select 1 as edited");
  fs::remove(o.project_dir / "models" / "marts" / "dim_customers.sql");
  ASSERT_TRUE(prepare_project(o).ok());
  EXPECT_EQ(testing::read_file(model), "select 1 as edited");
  EXPECT_FALSE(fs::exists(o.project_dir / "models" / "marts" / "dim_customers.sql"));
}

TEST(DbtProject, AnotherProjectDirMustHoldAProject) {
  testing::TempDir dir;
  auto o = options_in(dir);
  o.project_dir = dir.path() / "elsewhere";
  auto p = prepare_project(o);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code, ErrorCode::invalid_config);
  EXPECT_NE(p.error().message.find("elsewhere"), std::string::npos);
  EXPECT_FALSE(fs::exists(o.project_dir / "dbt_project.yml"));
}

TEST(DbtInstall, MissingExecutableSaysHowToInstall) {
  testing::TempDir dir;
  auto o = options_in(dir);
  o.executable = (dir.path() / "no-dbt-here").string();
  auto r = locate_dbt(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::unavailable);
  EXPECT_NE(r.error().message.find("no-dbt-here"), std::string::npos);
  EXPECT_NE(r.error().hint.find("scripts/setup"), std::string::npos);
  EXPECT_NE(r.error().hint.find("dbt-duckdb==" + pinned_versions().dbt_duckdb), std::string::npos);
  EXPECT_FALSE(pinned_versions().dbt_core.empty());
  EXPECT_EQ(pinned_versions().duckdb, "1.4.4");
}

// ---- manifest -------------------------------------------------------------------------------

nlohmann::json small_manifest() {
  return nlohmann::json::parse(R"({
    "metadata": {"project_name": "shop", "dbt_version": "1.11.16", "generated_at": "2026-01-01T00:00:00Z"},
    "nodes": {
      "seed.shop.raw_orders": {"unique_id": "seed.shop.raw_orders", "name": "raw_orders", "resource_type": "seed",
        "database": "warehouse", "schema": "main", "alias": "raw_orders", "description": "raw", "columns": {},
        "config": {"materialized": "seed"}, "depends_on": {"nodes": []}},
      "model.shop.stg_orders": {"unique_id": "model.shop.stg_orders", "name": "stg_orders", "resource_type": "model",
        "database": "warehouse", "schema": "main", "alias": "stg_orders", "description": "Orders.",
        "columns": {"order_id": {"name": "order_id", "description": "Key.", "data_type": null}},
        "config": {"materialized": "view"}, "compiled_code": null, "depends_on": {"nodes": ["seed.shop.raw_orders"]}},
      "model.shop.fct_orders": {"unique_id": "model.shop.fct_orders", "name": "fct_orders", "resource_type": "model",
        "database": "warehouse", "schema": "marts", "alias": "fct_orders", "description": "Facts.",
        "relation_name": "\"warehouse\".\"marts\".\"fct_orders\"", "columns": {},
        "config": {"materialized": "table"}, "depends_on": {"nodes": ["model.shop.stg_orders"]}},
      "test.shop.unique_stg_orders_order_id.1": {"unique_id": "test.shop.unique_stg_orders_order_id.1",
        "name": "unique_stg_orders_order_id", "resource_type": "test", "column_name": "order_id",
        "attached_node": "model.shop.stg_orders", "test_metadata": {"name": "unique"},
        "config": {"materialized": "test"}, "depends_on": {"nodes": ["model.shop.stg_orders"]}},
      "test.shop.rel.2": {"unique_id": "test.shop.rel.2", "name": "rel", "resource_type": "test",
        "column_name": "order_id", "attached_node": "model.shop.fct_orders", "test_metadata": {"name": "relationships"},
        "config": {"materialized": "test"}, "depends_on": {"nodes": ["model.shop.stg_orders", "model.shop.fct_orders"]}}
    },
    "sources": {
      "source.shop.crm.people": {"unique_id": "source.shop.crm.people", "name": "people", "source_name": "crm",
        "resource_type": "source", "database": "warehouse", "schema": "crm", "identifier": "people", "columns": {}}
    }
  })");
}

TEST(Catalog, FindsNodesByIdNameAndRelationAndKnowsTheGraph) {
  auto c = ProjectCatalog::from_json(small_manifest());
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->project_name(), "shop");
  ASSERT_NE(c->find("model.shop.fct_orders"), nullptr);
  EXPECT_EQ(c->find("FCT_ORDERS")->unique_id, "model.shop.fct_orders");
  EXPECT_EQ(c->find_relation("marts.fct_orders")->unique_id, "model.shop.fct_orders");
  EXPECT_EQ(c->find_relation("\"warehouse\".\"marts\".\"fct_orders\"")->unique_id, "model.shop.fct_orders");
  EXPECT_EQ(c->find_relation("main.fct_orders"), nullptr);
  EXPECT_EQ(c->find_relation("crm.people")->unique_id, "source.shop.crm.people");
  EXPECT_EQ(c->find("crm.people")->resource_type, "source");
  EXPECT_EQ(c->find_relation("nothing"), nullptr);
  // Without parent_map/child_map (a `dbt ls` manifest) the graph comes from depends_on.
  EXPECT_EQ(c->parents("model.shop.fct_orders"), (std::vector<std::string>{"model.shop.stg_orders"}));
  EXPECT_EQ(c->parents("model.shop.stg_orders"), (std::vector<std::string>{"seed.shop.raw_orders"}));
  const auto tests = c->tests_of("model.shop.stg_orders");
  ASSERT_EQ(tests.size(), 1U);  // the relationships test belongs to fct_orders, where it is attached
  EXPECT_EQ(tests[0]->test_name, "unique");
  EXPECT_EQ(c->tests_of("model.shop.fct_orders").size(), 1U);
  const auto& stg = *c->find("stg_orders");
  ASSERT_EQ(stg.columns.size(), 1U);
  EXPECT_EQ(stg.columns[0].description, "Key.");
}

TEST(Catalog, RejectsWhatIsNotAManifest) {
  EXPECT_FALSE(ProjectCatalog::from_json(nlohmann::json::parse(R"({"nodes": 3})")).ok());
  testing::TempDir dir;
  testing::write_file(dir / "manifest.json", "{not json");
  auto r = ProjectCatalog::load(dir / "manifest.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("manifest.json"), std::string::npos);
}

}  // namespace
}  // namespace pluto::transform
