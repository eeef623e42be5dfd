// `pluto-duck ingest` and `pluto-duck sources` through the real binary, against real files, a real
// PostgreSQL server and real SQLite files. Includes a load killed with SIGKILL half-way.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "support/postgres_server.hpp"
#include "test_util.hpp"

namespace pluto {
namespace {

namespace fs = std::filesystem;
using testing::ProcessResult;
using testing::RunOptions;
using testing::TempDir;

class IngestCli : public ::testing::Test {
 protected:
  ProcessResult run(std::vector<std::string> args, RunOptions opts = {}) {
    args.insert(args.begin(), {PLUTO_BINARY, "--data-dir", data_dir().string()});
    return testing::run_process(args, opts);
  }
  fs::path data_dir() const { return dir_ / "data"; }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  // The single value of a one-row, one-column query.
  std::string value(const std::string& sql) {
    auto r = run({"query", sql, "--format", "csv"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const auto nl = r.out.find('\n');
    std::string v = nl == std::string::npos ? "" : r.out.substr(nl + 1);
    while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.pop_back();
    return v;
  }
  std::string log_text() { return testing::read_file(data_dir() / "logs" / "pluto-duck.log"); }

  TempDir dir_;
};

TEST_F(IngestCli, CsvLoadPrintsProgressLinesAndSummary) {
  testing::write_file(dir_ / "orders.csv", "id,amount\n1,10\n2,20\n3,30\n");
  auto r = run({"ingest", path("orders.csv"), "--table", "orders"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("loading " + path("orders.csv") + " into main.orders (replace)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("main.orders: 3 rows (new table)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("loaded 3 rows"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("\033["), std::string::npos) << "no terminal codes when stdout is not a terminal";
  EXPECT_EQ(value("SELECT sum(amount) FROM orders"), "60");

  auto j = run({"--json", "ingest", path("orders.csv"), "--table", "orders", "--mode", "append"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  auto summary = nlohmann::json::parse(j.out);
  EXPECT_EQ(summary["rows"], 3);
  EXPECT_EQ(summary["mode"], "append");
  EXPECT_EQ(value("SELECT count(*) FROM orders"), "6");

  auto runs = run({"--json", "ingest", "--runs", "--table", "orders"});
  ASSERT_EQ(runs.exit_code, 0) << runs.err;
  auto list = nlohmann::json::parse(runs.out);
  ASSERT_EQ(list.size(), 2U);
  EXPECT_EQ(list[0]["mode"], "append");
  EXPECT_EQ(list[0]["status"], "succeeded");
  EXPECT_EQ(list[1]["mode"], "replace");
}

TEST_F(IngestCli, CsvOptionsParquetAndHostileNames) {
  testing::write_file(dir_ / "semi.txt", "a|b\n1|x\n2|y\n");
  auto r = run({"ingest", path("semi.txt"), "--table", "x\"; DROP TABLE keep; --", "--delimiter", "|", "--no-header"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(run({"query", "CREATE TABLE keep AS SELECT 1 AS k"}).exit_code, 0);
  ASSERT_EQ(run({"ingest", path("semi.txt"), "--table", "x\"; DROP TABLE keep; --", "--delimiter", "|"}).exit_code, 0);
  EXPECT_EQ(value("SELECT count(*) FROM keep"), "1");
  EXPECT_EQ(value("SELECT string_agg(b, '') FROM \"x\"\"; DROP TABLE keep; --\""), "xy");
  auto bad = run({"ingest", path("semi.txt"), "--table", "bad\nname"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  ASSERT_EQ(run({"query", "COPY (SELECT range AS n FROM range(10)) TO '" + path("n.parquet") + "' (FORMAT parquet)"})
                .exit_code,
            0);
  auto p = run({"ingest", path("n.parquet"), "--table", "n"});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_EQ(value("SELECT sum(n) FROM n"), "45");
  auto wrong = run({"ingest", path("n.parquet"), "--table", "n", "--delimiter", ";"});
  EXPECT_EQ(wrong.exit_code, 2) << wrong.err;
}

TEST_F(IngestCli, MalformedCsvAndMissingPath) {
  std::string s = "id,name\n";
  for (int i = 1; i < 3000; ++i) s += std::to_string(i) + (i == 2500 ? ",x,extra\n" : ",n\n");
  testing::write_file(dir_ / "bad.csv", s);
  auto r = run({"ingest", path("bad.csv"), "--table", "bad"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find(path("bad.csv") + " line 2501"), std::string::npos) << r.err;
  auto skip = run({"ingest", path("bad.csv"), "--table", "bad", "--skip-bad-rows"});
  ASSERT_EQ(skip.exit_code, 0) << skip.err;
  EXPECT_NE(skip.out.find("skipped 1 bad rows"), std::string::npos) << skip.out;
  EXPECT_NE(skip.out.find("line 2501"), std::string::npos) << skip.out;
  EXPECT_EQ(value("SELECT count(*) FROM bad"), "2998");

  auto missing = run({"ingest", path("nothing.csv"), "--table", "x"});
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_NE(missing.err.find(path("nothing.csv")), std::string::npos) << missing.err;
  auto json = run({"--json", "ingest", path("nothing.csv"), "--table", "x"});
  EXPECT_EQ(nlohmann::json::parse(json.err)["error"]["code"], "unavailable");
  auto no_table = run({"ingest", path("bad.csv")});
  EXPECT_EQ(no_table.exit_code, 2);
}

TEST_F(IngestCli, TypeDriftOnAppendFailsNamingTheColumnUnlessEvolving) {
  testing::write_file(dir_ / "a.csv", "id,qty\n1,5\n");
  testing::write_file(dir_ / "b.csv", "id,qty\n2,many\n");
  ASSERT_EQ(run({"ingest", path("a.csv"), "--table", "t"}).exit_code, 0);
  auto drift = run({"ingest", path("b.csv"), "--table", "t", "--mode", "append"});
  EXPECT_EQ(drift.exit_code, 1);
  EXPECT_NE(drift.err.find("column \"qty\" is BIGINT in the table but VARCHAR in the source"), std::string::npos)
      << drift.err;
  auto evolve = run({"ingest", path("b.csv"), "--table", "t", "--mode", "append", "--evolve"});
  ASSERT_EQ(evolve.exit_code, 0) << evolve.err;
  EXPECT_NE(evolve.out.find("schema evolved"), std::string::npos) << evolve.out;
  EXPECT_EQ(value("SELECT string_agg(qty, '|' ORDER BY id) FROM t"), "5|many");
}

// Starts pluto-duck with stdout on a pipe; returns the pid and the read end.
std::pair<pid_t, int> spawn_reading(const std::vector<std::string>& argv) {
  int out[2];
  if (::pipe(out) != 0) return {-1, -1};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addclose(&fa, out[0]);
  posix_spawn_file_actions_addclose(&fa, out[1]);
  std::vector<std::string> args = argv;
  std::vector<char*> cargv;
  for (auto& a : args) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, cargv[0], &fa, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(out[1]);
  if (rc != 0) {
    ::close(out[0]);
    return {-1, -1};
  }
  return {pid, out[0]};
}

TEST_F(IngestCli, KilledReplaceLeavesTheOldTableAndTheRunShowsInterrupted) {
  testing::write_file(dir_ / "old.csv", "id,v\n1,a\n2,b\n3,c\n");
  ASSERT_EQ(run({"ingest", path("old.csv"), "--table", "t"}).exit_code, 0);
  ASSERT_EQ(run({"query",
                 "COPY (SELECT i AS id, md5(i::VARCHAR) AS v, i * 3 AS w FROM range(12000000) t(i)) TO '" +
                     path("big.csv") + "' (FORMAT csv, HEADER)",
                 "--timeout", "3600"})
                .exit_code,
            0);
  auto [pid, fd] =
      spawn_reading({PLUTO_BINARY, "--data-dir", data_dir().string(), "ingest", path("big.csv"), "--table", "t"});
  ASSERT_GT(pid, 0);
  // Kill it once it reports progress: the load is then inside its transaction, half-way.
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
  while (out.find("progress main.t") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) > 0) {
      char buf[4096];
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(fd);
  ASSERT_NE(out.find("progress main.t"), std::string::npos) << out;
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(out.find("loaded"), std::string::npos) << "the load finished before the kill: " << out;

  // After restart the table is exactly as before.
  auto q = run({"query", "SELECT id, v FROM t ORDER BY id", "--format", "csv"});
  ASSERT_EQ(q.exit_code, 0) << q.err;
  EXPECT_EQ(q.out, "id,v\n1,a\n2,b\n3,c\n");
  auto runs = run({"--json", "ingest", "--runs", "--table", "t"});
  ASSERT_EQ(runs.exit_code, 0) << runs.err;
  auto list = nlohmann::json::parse(runs.out);
  ASSERT_EQ(list.size(), 2U) << runs.out;
  EXPECT_EQ(list[0]["status"], "interrupted") << runs.out;
  EXPECT_EQ(list[1]["status"], "succeeded");
}

// ---- databases ------------------------------------------------------------------------------------

class IngestCliPostgres : public IngestCli {
 protected:
  static void SetUpTestSuite() {
    pg_ = new testing::PostgresServer();
    if (pg_->ok()) {
      setup_ = pg_->psql(
          "CREATE TABLE customers (id serial PRIMARY KEY, name text, updated_at timestamptz DEFAULT now());"
          "INSERT INTO customers (name) SELECT 'c' || g FROM generate_series(1, 200) g;"
          "CREATE TABLE prices (sku text PRIMARY KEY, price numeric(10,2));"
          "INSERT INTO prices VALUES ('a', 1.50), ('b', 2.25);");
    }
  }
  static void TearDownTestSuite() {
    delete pg_;
    pg_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(pg_->ok()) << pg_->error();
    ASSERT_EQ(setup_.exit_code, 0) << setup_.err;
  }
  // Everything the product wrote where a secret must never appear.
  void expect_no_secret(const std::string& secret, const std::vector<std::string>& outputs) {
    for (const auto& o : outputs) EXPECT_EQ(o.find(secret), std::string::npos) << o;
    EXPECT_EQ(log_text().find(secret), std::string::npos) << "the log holds the password";
    auto show = run({"config", "show"});
    EXPECT_EQ(show.out.find(secret), std::string::npos);
    auto jobs = run({"query",
                     "SELECT string_agg(params || coalesce(error_message, '') || coalesce(result, ''), ' ') FROM "
                     "sqlite_scan('" +
                         (data_dir() / "pluto.sqlite").string() + "', 'jobs')",
                     "--format", "csv"});
    EXPECT_EQ(jobs.out.find(secret), std::string::npos) << "the jobs table holds the password";
    auto runs = run({"query",
                     "SELECT string_agg(source || request_json || coalesce(error, ''), ' ') FROM "
                     "sqlite_scan('" +
                         (data_dir() / "pluto.sqlite").string() + "', 'ingest_runs')",
                     "--format", "csv"});
    EXPECT_EQ(runs.out.find(secret), std::string::npos) << "the ingestion runs hold the password";
    auto events = run({"query",
                       "SELECT count(*) || ' ' || string_agg(data, ' ') FROM sqlite_scan('" +
                           (data_dir() / "pluto.sqlite").string() + "', 'events')",
                       "--format", "csv"});
    EXPECT_EQ(events.exit_code, 0) << events.err;
    EXPECT_EQ(events.out.find(secret), std::string::npos) << "an event holds the password";
  }

  static testing::PostgresServer* pg_;
  static ProcessResult setup_;
};
testing::PostgresServer* IngestCliPostgres::pg_ = nullptr;
ProcessResult IngestCliPostgres::setup_;

TEST_F(IngestCliPostgres, UriLoadIncrementalAndMerge) {
  auto r = run({"ingest", pg_->uri(), "--source-table", "customers", "--table", "customers", "--mode", "incremental",
                "--cursor", "id"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("main.customers: 200 rows (new table), high-water mark 200"), std::string::npos) << r.out;
  ASSERT_EQ(pg_->psql("INSERT INTO customers (name) SELECT 'n' || g FROM generate_series(1, 10) g").exit_code, 0);
  auto again = run({"--json", "ingest", pg_->uri(), "--source-table", "customers", "--table", "customers", "--mode",
                    "incremental", "--cursor", "id"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(nlohmann::json::parse(again.out)["rows"], 10);
  EXPECT_EQ(value("SELECT count(*) || '/' || count(DISTINCT id) FROM customers"), "210/210");

  ASSERT_EQ(
      run({"ingest", pg_->uri(), "--source-table", "prices", "--table", "prices", "--mode", "merge", "--key", "sku"})
          .exit_code,
      0);
  ASSERT_EQ(pg_->psql("UPDATE prices SET price = 9.99 WHERE sku = 'a'; INSERT INTO prices VALUES ('c', 3)").exit_code,
            0);
  auto merged =
      run({"ingest", pg_->uri(), "--source-table", "prices", "--table", "prices", "--mode", "merge", "--key", "sku"});
  ASSERT_EQ(merged.exit_code, 0) << merged.err;
  EXPECT_EQ(value("SELECT string_agg(sku || '=' || price, ' ' ORDER BY sku) FROM prices"), "a=9.99 b=2.25 c=3.00");
  auto q = run({"ingest", pg_->uri(), "--query", "SELECT count(*) AS n FROM customers", "--table", "n"});
  ASSERT_EQ(q.exit_code, 0) << q.err;
  EXPECT_EQ(value("SELECT n FROM n"), "210");
  expect_no_secret(pg_->password(), {r.out, r.err, again.out, merged.out, q.out});
}

TEST_F(IngestCliPostgres, SavedSourcesLifecycleNeverShowsThePassword) {
  auto add = run({"sources", "add", "crm", pg_->uri()});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  EXPECT_NE(add.out.find("saved source crm"), std::string::npos) << add.out;
  const fs::path secret = data_dir() / "secrets" / "source-crm.password";
  struct stat st {};
  ASSERT_EQ(::stat(secret.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777U, 0600U);
  ASSERT_EQ(::stat((data_dir() / "secrets").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777U, 0700U);

  auto list = run({"sources", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find(pg_->uri_without_password()), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("stored"), std::string::npos);
  auto list_json = run({"--json", "sources", "list"});
  EXPECT_EQ(nlohmann::json::parse(list_json.out)[0]["name"], "crm");
  auto test = run({"sources", "test", "crm"});
  ASSERT_EQ(test.exit_code, 0) << test.err;
  EXPECT_NE(test.out.find("ok: connected to PostgreSQL"), std::string::npos) << test.out;
  auto tables = run({"sources", "tables", "crm"});
  ASSERT_EQ(tables.exit_code, 0) << tables.err;
  EXPECT_NE(tables.out.find("customers"), std::string::npos) << tables.out;
  auto load = run({"ingest", "crm", "--source-table", "prices", "--table", "crm_prices"});
  ASSERT_EQ(load.exit_code, 0) << load.err;
  EXPECT_EQ(value("SELECT count(*) FROM crm_prices") + "\n", pg_->psql("SELECT count(*) FROM prices").out);

  auto attach = run({"sources", "attach", "crm"});
  ASSERT_EQ(attach.exit_code, 0) << attach.err;
  EXPECT_NE(attach.out.find("crm.public.customers"), std::string::npos) << attach.out;
  auto listed = run({"--json", "sources", "list"});
  EXPECT_EQ(nlohmann::json::parse(listed.out)[0]["attached"], true);
  // Later one-shot commands see the attached source too.
  auto live = run({"query", "SELECT count(*) FROM crm.public.customers", "--format", "csv"});
  ASSERT_EQ(live.exit_code, 0) << live.err;
  EXPECT_EQ(live.out, "count_star()\n" + pg_->psql("SELECT count(*) FROM customers").out) << live.out;
  auto listed_tables = run({"tables"});
  EXPECT_NE(listed_tables.out.find("crm"), std::string::npos) << listed_tables.out;

  // A password given through the environment only.
  RunOptions env;
  env.env["CRM_PW"] = pg_->password();
  auto add_env = run({"sources", "add", "crm_env", pg_->uri_without_password(), "--password-env", "CRM_PW"});
  ASSERT_EQ(add_env.exit_code, 0) << add_env.err;
  EXPECT_FALSE(fs::exists(data_dir() / "secrets" / "source-crm_env.password"));
  auto no_env = run({"sources", "test", "crm_env"});
  EXPECT_EQ(no_env.exit_code, 3);
  EXPECT_NE(no_env.err.find("CRM_PW"), std::string::npos) << no_env.err;
  auto with_env = run({"sources", "test", "crm_env"}, env);
  EXPECT_EQ(with_env.exit_code, 0) << with_env.err;
  // And through stdin.
  RunOptions in;
  in.stdin_data = pg_->password() + "\n";
  auto add_stdin = run({"sources", "add", "crm_in", pg_->uri_without_password(), "--password-stdin"}, in);
  ASSERT_EQ(add_stdin.exit_code, 0) << add_stdin.err;
  EXPECT_EQ(run({"sources", "test", "crm_in"}).exit_code, 0);

  expect_no_secret(pg_->password(), {add.out, add.err, list.out, list_json.out, test.out, tables.out, load.out,
                                     load.err, attach.out, listed.out, add_env.out, with_env.out, add_stdin.out});
  auto remove = run({"sources", "remove", "crm"});
  ASSERT_EQ(remove.exit_code, 0) << remove.err;
  EXPECT_FALSE(fs::exists(secret));
  EXPECT_EQ(run({"sources", "test", "crm"}).exit_code, 1);  // not found
}

TEST_F(IngestCliPostgres, WrongPasswordAndUnreachableHost) {
  const std::string wrong = "Not-The-Pa55word";
  const std::string uri = "postgresql://postgres:" + wrong + "@127.0.0.1:" + std::to_string(pg_->port()) + "/postgres";
  auto r = run({"ingest", uri, "--source-table", "customers", "--table", "t"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("password authentication failed"), std::string::npos) << r.err;
  auto added = run({"sources", "add", "bad", uri});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  auto t = run({"--json", "sources", "test", "bad"});
  EXPECT_EQ(t.exit_code, 3);
  EXPECT_EQ(nlohmann::json::parse(t.err)["error"]["code"], "unauthenticated") << t.err;
  expect_no_secret(wrong, {r.out, r.err, t.out, t.err, added.out});

  const int closed = testing::free_local_port();
  auto unreachable = run({"ingest", "postgresql://postgres:x@127.0.0.1:" + std::to_string(closed) + "/postgres",
                          "--source-table", "customers", "--table", "t"});
  EXPECT_EQ(unreachable.exit_code, 3) << unreachable.err;
  EXPECT_NE(unreachable.err.find("cannot reach PostgreSQL"), std::string::npos) << unreachable.err;
}

TEST_F(IngestCli, SqliteSource) {
  const fs::path db = dir_ / "app.db";
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(
          h,
          "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT); INSERT INTO users VALUES (1, 'a@x'), (2, 'b@x');",
          nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(h);
  auto r = run({"ingest", "sqlite:" + db.string(), "--source-table", "users", "--table", "users"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(value("SELECT string_agg(email, ' ' ORDER BY id) FROM users"), "a@x b@x");
  auto tables = run({"sources", "tables", "sqlite:" + db.string()});
  EXPECT_NE(tables.out.find("users"), std::string::npos) << tables.out;
}

}  // namespace
}  // namespace pluto
