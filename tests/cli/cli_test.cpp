// Runs the real pluto-duck binary and checks output and exit codes.
#include <duckdb.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>

#include "test_util.hpp"
#include "warehouse/arrow_reader.hpp"

namespace pluto {
namespace {

using testing::ProcessResult;
using testing::RunOptions;
using testing::TempDir;

class Cli : public ::testing::Test {
 protected:
  ProcessResult run(std::vector<std::string> args, RunOptions opts = {}) {
    args.insert(args.begin(), {PLUTO_BINARY, "--data-dir", dir_.str()});
    return testing::run_process(args, opts);
  }
  ProcessResult run_raw(std::vector<std::string> args, RunOptions opts = {}) {
    args.insert(args.begin(), PLUTO_BINARY);
    return testing::run_process(args, opts);
  }
  TempDir dir_;
};

TEST_F(Cli, VersionNamesDuckDb) {
  auto r = run({"version"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("pluto-duck 0.1.0 (DuckDB v1.4.4)"), std::string::npos) << r.out;
  auto j = run({"--json", "version"});
  EXPECT_EQ(j.out, "{\"version\":\"0.1.0\",\"duckdb\":\"v1.4.4\"}\n");
}

TEST_F(Cli, QueryJsonPrintsRowObjects) {
  auto r = run({"query", "select 42 as answer", "--format", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "[{\"answer\":42}]\n");
}

TEST_F(Cli, QueryTableCsvAndStdin) {
  auto t = run({"query", "select 1 as a, 'x' as b"});
  EXPECT_EQ(t.exit_code, 0);
  EXPECT_EQ(t.out, "a | b\n--+--\n1 | x\n(1 row)\n");
  auto c =
      run({"query", "-", "--format", "csv"}, RunOptions{{}, {}, "select 1 as a union all select 2 order by 1", {}});
  EXPECT_EQ(c.exit_code, 0) << c.err;
  EXPECT_EQ(c.out, "a\n1\n2\n");
}

TEST_F(Cli, WarehousePathFromEnvCreatesThatFile) {
  const auto path = dir_ / "elsewhere.duckdb";
  RunOptions o;
  o.env["PLUTODUCK_WAREHOUSE__PATH"] = path.string();
  auto r = run({"query", "create table t as select 1 as a"}, o);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "warehouse.duckdb"));
  auto q = run({"query", "select a from t", "--format", "json"}, o);
  EXPECT_EQ(q.out, "[{\"a\":1}]\n");
}

TEST_F(Cli, DataDirFlagAndEnvRelocateEverything) {
  TempDir other;
  RunOptions o;
  o.env["PLUTODUCK_DATA_DIR"] = (other / "d").string();
  auto r = run_raw({"query", "create table t as select 1 as a"}, o);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* f : {"warehouse.duckdb", "pluto.sqlite", "logs/pluto-duck.log", "secrets", "dbt"}) {
    EXPECT_TRUE(std::filesystem::exists(other / "d" / f)) << f;
  }
  auto flag = run({"query", "select 1"});
  ASSERT_EQ(flag.exit_code, 0);
  EXPECT_TRUE(std::filesystem::exists(dir_ / "warehouse.duckdb"));
  EXPECT_TRUE(std::filesystem::exists(dir_ / "pluto.sqlite"));
}

TEST_F(Cli, BadSqlExitsOneWithDuckDbMessageAndWritesNothing) {
  ASSERT_EQ(run({"query", "create table t as select 1 as a"}).exit_code, 0);
  auto r = run({"query", "insert into t values (2); selec oops"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("Parser Error"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("oops"), std::string::npos) << r.err;
  // Statements are checked before any runs, so the INSERT did not happen.
  auto c = run({"query", "select count(*) as n from t", "--format", "json"});
  EXPECT_EQ(c.out, "[{\"n\":1}]\n");
  auto missing = run({"query", "select * from nope"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("nope"), std::string::npos);
}

TEST_F(Cli, InvalidConfigExitsTwoNamingKey) {
  RunOptions o;
  o.env["PLUTODUCK_QUERY__MAX_ROWS"] = "many";
  auto r = run({"query", "select 1"}, o);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("query.max_rows"), std::string::npos) << r.err;
  testing::write_file(dir_ / "config.toml", "[log]\nlevel = \"chatty\"\n");
  auto f = run({"tables"});
  EXPECT_EQ(f.exit_code, 2);
  EXPECT_NE(f.err.find("log.level"), std::string::npos) << f.err;
}

TEST_F(Cli, UnwritableWarehousePathExitsThreeNamingIt) {
  testing::write_file(dir_ / "plain-file", "x");
  RunOptions o;
  o.env["PLUTODUCK_WAREHOUSE__PATH"] = (dir_ / "plain-file" / "w.duckdb").string();
  auto r = run({"query", "select 1"}, o);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("plain-file"), std::string::npos) << r.err;
  auto d = run_raw({"--data-dir", (dir_ / "plain-file" / "data").string(), "tables"});
  EXPECT_EQ(d.exit_code, 3);
  EXPECT_NE(d.err.find("plain-file/data"), std::string::npos) << d.err;
}

TEST_F(Cli, LockedWarehouseExitsThreeNamingFile) {
  ASSERT_EQ(run({"query", "select 1"}).exit_code, 0);
  // Hold the file open in this process: DuckDB takes an exclusive lock on it.
  duckdb_database db = nullptr;
  const auto path = (dir_ / "warehouse.duckdb").string();
  ASSERT_EQ(duckdb_open(path.c_str(), &db), DuckDBSuccess);
  auto r = run({"tables"});
  duckdb_close(&db);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find(path), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("locked by another process"), std::string::npos) << r.err;
}

TEST_F(Cli, TimeoutEndsQueryAsTimedOut) {
  auto r = run({"query", "select count(*) from range(10000000000)", "--timeout", "1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("timed out after 1 s"), std::string::npos) << r.err;
  auto h = run({"--json", "history", "--status", "timed_out"});
  EXPECT_NE(h.out.find("range(10000000000)"), std::string::npos) << h.out;
}

TEST_F(Cli, CtrlCInterruptsAndExits130) {
  RunOptions o;
  o.sigint_after = std::chrono::milliseconds(700);
  auto r = run({"query", "select count(*) from range(10000000000)"}, o);
  EXPECT_EQ(r.exit_code, 130) << r.err;
  EXPECT_NE(r.err.find("interrupted"), std::string::npos) << r.err;
  auto h = run({"--json", "history", "--status", "cancelled"});
  EXPECT_NE(h.out.find("range(10000000000)"), std::string::npos) << h.out;
}

TEST_F(Cli, TablesAndDescribe) {
  ASSERT_EQ(run({"query",
                 "create table customers (id integer not null, name varchar); "
                 "insert into customers values (1, 'Ada'), (2, 'Linus')"})
                .exit_code,
            0);
  auto t = run({"tables"});
  EXPECT_EQ(t.exit_code, 0);
  EXPECT_NE(t.out.find("customers"), std::string::npos);
  auto tj = run({"--json", "tables"});
  EXPECT_NE(tj.out.find("\"name\":\"customers\",\"kind\":\"table\",\"row_count\":2"), std::string::npos) << tj.out;
  auto d = run({"describe", "customers"});
  EXPECT_EQ(d.exit_code, 0);
  EXPECT_NE(d.out.find("(2 rows)"), std::string::npos) << d.out;
  EXPECT_NE(d.out.find("INTEGER"), std::string::npos);
  auto dj = run({"--json", "describe", "customers"});
  EXPECT_NE(dj.out.find("{\"name\":\"id\",\"type\":\"INTEGER\",\"nullable\":false"), std::string::npos) << dj.out;
  auto missing = run({"describe", "nope"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("nope"), std::string::npos);
}

TEST_F(Cli, OutputFilesCsvAndParquet) {
  auto c = run({"query", "select range as n from range(3)", "--format", "csv", "--output", (dir_ / "o.csv").string()});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_EQ(testing::read_file(dir_ / "o.csv"), "n\n0\n1\n2\n");
  auto p = run({"query", "select range as n from range(1000)", "--format", "parquet", "--output",
                (dir_ / "o.parquet").string()});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  auto back = run(
      {"query", "select count(*) as n, sum(n) as s from '" + (dir_ / "o.parquet").string() + "'", "--format", "json"});
  EXPECT_EQ(back.out, "[{\"n\":1000,\"s\":499500}]\n") << back.err;
  auto no_out = run({"query", "select 1", "--format", "parquet"});
  EXPECT_EQ(no_out.exit_code, 2);
}

// `query --format arrow` writes an Arrow IPC stream (to --output, or through a server); apache-arrow
// reads it back with the same rows.
TEST_F(Cli, ArrowOutputLocallyAndThroughAServer) {
  const std::string sql = "SELECT range AS id, 'row ' || range AS label FROM range(3000)";
  const auto file = dir_ / "out.arrows";
  auto local = run({"query", sql, "--format", "arrow", "--output", file.string()});
  ASSERT_EQ(local.exit_code, 0) << local.err;
  auto t = testing_arrow::read_arrow_stream(testing::read_file(file));
  ASSERT_TRUE(t.is_object());
  ASSERT_EQ(t["rows"].size(), 3000U);
  EXPECT_EQ(t["rows"][2999], nlohmann::json::parse(R"(["2999", "row 2999"])")) << t["rows"][2999];
  EXPECT_EQ(t["fields"][1]["name"], "label");

  TempDir server_dir;
  testing::BackgroundProcess server({PLUTO_BINARY, "--data-dir", server_dir.str(), "--json", "serve", "--port", "0"});
  const auto line = server.first_line();
  ASSERT_NE(line.find("\"url\":\"http://127.0.0.1:"), std::string::npos) << line;
  const auto url = line.substr(line.find("http://"), line.rfind('/') - line.find("http://"));
  auto remote = run({"query", sql, "--server", url, "--format", "arrow"});
  ASSERT_EQ(remote.exit_code, 0) << remote.err;
  EXPECT_EQ(testing_arrow::read_arrow_stream(remote.out)["rows"], t["rows"]);
  // A failing query leaves no half-written file behind.
  auto bad = run({"query", "SELECT * FROM nope", "--format", "arrow", "--output", (dir_ / "bad.arrows").string()});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "bad.arrows"));
}

TEST_F(Cli, ConfigShowMasksSecretsAndNamesSources) {
  RunOptions o;
  o.env["PLUTODUCK_SERVER__API_TOKEN"] = "supersecret-token";
  o.env["PLUTODUCK_QUERY__TIMEOUT_SECONDS"] = "45";
  auto r = run({"config", "show"}, o);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("supersecret-token"), std::string::npos);
  EXPECT_NE(r.out.find("********"), std::string::npos);
  EXPECT_NE(r.out.find("env (PLUTODUCK_QUERY__TIMEOUT_SECONDS)"), std::string::npos) << r.out;
  auto j = run({"--json", "config", "show"}, o);
  EXPECT_EQ(j.out.find("supersecret-token"), std::string::npos);
  EXPECT_NE(j.out.find("\"key\":\"query.timeout_seconds\",\"value\":\"45\",\"source\":\"env\""), std::string::npos);
  auto s = run({"--set", "query.max_rows=7", "config", "show"});
  EXPECT_NE(s.out.find("flag (--set query.max_rows)"), std::string::npos) << s.out;
  // Nor does the secret reach the log file.
  EXPECT_EQ(testing::read_file(dir_ / "logs" / "pluto-duck.log").find("supersecret-token"), std::string::npos);
}

TEST_F(Cli, DoctorPasses) {
  auto r = run({"doctor"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("warehouse"), std::string::npos);
  EXPECT_NE(r.out.find("DuckDB v1.4.4"), std::string::npos);
  EXPECT_NE(r.out.find("postgres and sqlite load"), std::string::npos) << r.out;
  auto j = run({"--json", "doctor"});
  EXPECT_EQ(j.out.rfind("{\"ok\":true", 0), 0U) << j.out;
}

TEST_F(Cli, HistoryRecordsCliQueries) {
  ASSERT_EQ(run({"query", "select 'needle' as x"}).exit_code, 0);
  ASSERT_EQ(run({"query", "select 2"}).exit_code, 0);
  auto h = run({"--json", "history", "--search", "NEEDLE"});
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_NE(h.out.find("\"status\":\"succeeded\",\"origin\":\"cli\""), std::string::npos) << h.out;
  EXPECT_EQ(h.out.find("select 2"), std::string::npos);
}

TEST_F(Cli, QueryThroughARunningServer) {
  TempDir server_dir;
  testing::BackgroundProcess server({PLUTO_BINARY, "--data-dir", server_dir.str(), "--json", "serve", "--port", "0"});
  const auto line = server.first_line();
  ASSERT_NE(line.find("\"url\":\"http://127.0.0.1:"), std::string::npos) << line;
  const auto url = line.substr(line.find("http://"), line.rfind('/') - line.find("http://"));
  auto r = run({"query", "select 42 as answer", "--server", url, "--format", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "[{\"answer\":42}]\n");
  auto t = run({"query", "select 1 as a, 'x' as b", "--server", url});
  EXPECT_EQ(t.out, "a  b\n-  -\n1  x\n(1 row)\n");
  auto bad = run({"query", "select * from nope", "--server", url});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("nope"), std::string::npos);
  EXPECT_EQ(bad.out, "");
  auto timeout = run({"query", "select count(*) from range(10000000000)", "--server", url, "--timeout", "1"});
  EXPECT_EQ(timeout.exit_code, 1);
  EXPECT_NE(timeout.err.find("timed out"), std::string::npos) << timeout.err;
  // The server recorded the runs, not the client's data dir.
  auto h = run_raw({"--data-dir", server_dir.str(), "--json", "history"});
  EXPECT_NE(h.out.find("select 42 as answer"), std::string::npos);
  EXPECT_NE(h.out.find("\"origin\":\"api\""), std::string::npos);
  // SIGTERM stops the server cleanly.
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait(), 0);
  auto down = run({"query", "select 1", "--server", url});
  EXPECT_EQ(down.exit_code, 3);
}

TEST_F(Cli, SafeModeRefusesFileReadsAndRunsPlainSelects) {
  ASSERT_EQ(run({"query", "create table t as select 1 as a"}).exit_code, 0);
  auto ok = run({"query", "--safe", "select a from t", "--format", "json"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out, "[{\"a\":1}]\n");
  for (const std::string sql : {"select * from read_csv('/etc/passwd')", "select (select count(*) from glob('/*'))",
                                "copy t to '/tmp/x.csv'", "select 1; select 2"}) {
    auto r = run({"query", "--safe", sql});
    EXPECT_NE(r.exit_code, 0) << sql;
    EXPECT_EQ(r.out, "") << sql;
    EXPECT_FALSE(r.err.empty()) << sql;
  }
  auto remote = run({"query", "--safe", "select 1", "--server", "http://127.0.0.1:1"});
  EXPECT_EQ(remote.exit_code, 2);
}

TEST_F(Cli, UsageErrorsExitTwo) {
  EXPECT_EQ(run({"frobnicate"}).exit_code, 2);
  EXPECT_EQ(run({"query", "select 1", "--format", "xml"}).exit_code, 2);
  EXPECT_EQ(run({"describe"}).exit_code, 2);
  auto help = run({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("query"), std::string::npos);
  for (const char* command : {"serve", "query", "tables", "describe", "history", "ingest", "sources", "dbt", "ask",
                              "doctor", "logs", "version"}) {
    EXPECT_NE(help.out.find(std::string("\n  ") + command), std::string::npos) << command << " missing: " << help.out;
  }
  EXPECT_EQ(run({"logs", "--level", "loud"}).exit_code, 2);
}

TEST_F(Cli, LogsShowsTailsFiltersAndFollowsTheServerLog) {
  testing::BackgroundProcess server({PLUTO_BINARY, "--data-dir", dir_.str(), "--json", "serve", "--port", "0"});
  ASSERT_NE(server.first_line().find("\"url\""), std::string::npos);

  // Readable by default, the stored JSON lines with --json.
  auto text = run({"logs"});
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find(" info  server listening url=http://127.0.0.1:"), std::string::npos) << text.out;
  auto json_lines = run({"--json", "logs", "-n", "1", "--grep", "server listening"});
  EXPECT_EQ(json_lines.exit_code, 0) << json_lines.err;
  EXPECT_EQ(std::count(json_lines.out.begin(), json_lines.out.end(), '\n'), 1) << json_lines.out;
  EXPECT_EQ(json_lines.out.rfind("{\"ts\":\"", 0), 0U) << json_lines.out;
  EXPECT_NE(json_lines.out.find("\"msg\":\"server listening\""), std::string::npos) << json_lines.out;
  // --level keeps that level and above only.
  auto warnings = run({"logs", "--level", "warn"});
  EXPECT_EQ(warnings.exit_code, 0);
  EXPECT_EQ(warnings.out.find("server listening"), std::string::npos) << warnings.out;

  // --follow: the first line is the current last one (so it is reading), then what the server
  // writes afterwards; Ctrl-C ends it with 130.
  testing::BackgroundProcess follow({PLUTO_BINARY, "--data-dir", dir_.str(), "logs", "--follow", "-n", "1"});
  EXPECT_FALSE(follow.first_line().empty());
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait(), 0);
  bool saw_stop = false;
  for (int i = 0; i < 20 && !saw_stop; ++i) {
    const auto line = follow.first_line();
    if (line.empty()) break;
    saw_stop = line.find("stopping on signal") != std::string::npos;
  }
  EXPECT_TRUE(saw_stop);
  follow.signal(SIGINT);
  EXPECT_EQ(follow.wait(), 130);
}

}  // namespace
}  // namespace pluto
