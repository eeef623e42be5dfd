// Ingestion benchmark (not a test): loads through IngestService compared with the same work done
// directly, in the same process and run:
//   - CSV and Parquet files of N rows x 10 columns vs DuckDB's own
//     CREATE TABLE … AS SELECT * FROM read_csv(…) / read_parquet(…), as a ratio;
//   - PostgreSQL -> warehouse for pgbench_accounts (pgbench -i -s S: S x 100,000 rows) in rows/s, vs
//     `psql -c "COPY pgbench_accounts TO STDOUT"` into /dev/null from the same server.
// Prints a markdown table. Run it with bench/run_ingest.sh BUILD_DIR (which passes --run).
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "pluto/core/config.hpp"
#include "pluto/events/event_bus.hpp"
#include "pluto/ingest/ingest_service.hpp"
#include "pluto/jobs/job_runner.hpp"
#include "pluto/store/store.hpp"
#include "pluto/warehouse/warehouse.hpp"
#include "support/postgres_server.hpp"

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

struct Args {
  bool run = false;
  int64_t rows = 5'000'000;
  int pg_scale = 10;
  int repeat = 3;
  bool skip_postgres = false;
};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "ingest_bench: %s\n", what.c_str());
  std::exit(1);
}

template <typename T>
T check(pluto::Result<T> r, const char* what) {
  if (!r.ok()) die(std::string(what) + ": " + r.error().message);
  return std::move(r).value();
}
void check(const pluto::Status& s, const char* what) {
  if (!s.ok()) die(std::string(what) + ": " + s.error().message);
}

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

// Runs a program with stdout to /dev/null; returns its exit code.
int run_to_devnull(const std::vector<std::string>& argv) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  std::vector<std::string> args = argv;
  std::vector<char*> cargv;
  for (auto& a : args) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, cargv[0], &fa, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return -1;
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

class Bench {
 public:
  explicit Bench(const Args& args) : args_(args) {
    pluto::ConfigLoadOptions o;
    o.data_dir = dir_.path() / "data";
    o.getenv = [](const std::string&) { return std::optional<std::string>(); };
    o.env_names = [] { return std::vector<std::string>(); };
    config_ = check(pluto::Config::load(o), "config");
    store_ = check(pluto::store::Store::open(config_->data_dir() / "pluto.sqlite"), "store");
    pluto::warehouse::WarehouseOptions wo;
    wo.path = config_->get("warehouse.path");
    wo.extension_directory = config_->get("warehouse.extension_directory");
    wo.home_directory = config_->data_dir().string();
    wo.pool_size = 2;
    warehouse_ = check(pluto::warehouse::Warehouse::open(wo), "warehouse");
    check(pluto::events::EventBus::migrate(*store_), "events");
    bus_ = std::make_unique<pluto::events::EventBus>(store_.get());
    check(pluto::jobs::JobRunner::migrate(*store_), "jobs");
    runner_ = std::make_unique<pluto::jobs::JobRunner>(store_.get(), *bus_);
    service_ = check(pluto::ingest::IngestService::create(*warehouse_, *store_,
                                                          pluto::ingest::IngestSettings::from_config(*config_)),
                     "ingest service");
  }
  ~Bench() {
    runner_->shutdown();
    service_.reset();
    runner_.reset();
  }
  Bench(const Bench&) = delete;
  Bench& operator=(const Bench&) = delete;

  void sql(const std::string& s) {
    auto lease = check(warehouse_->pool().acquire(), "connection");
    check(lease.connection().run(s), s.c_str());
  }

  double timed_sql(const std::string& s) {
    const auto t = Clock::now();
    sql(s);
    return seconds_since(t);
  }

  double timed_ingest(const pluto::ingest::IngestRequest& req, int64_t expect_rows) {
    const auto t = Clock::now();
    auto info = check(service_->submit(*runner_, req), "submit");
    auto done = check(runner_->wait(info.id), "wait");
    const double s = seconds_since(t);
    if (done.status != pluto::jobs::JobStatus::succeeded) {
      die("ingestion failed: " + (done.error ? done.error->message : std::string("?")));
    }
    if (done.result["rows"].get<int64_t>() != expect_rows) die("ingestion loaded an unexpected row count");
    return s;
  }

  // Alternates baseline and service runs so neither gets a warmer cache.
  void file_row(const std::string& label, const fs::path& file, const std::string& reader) {
    std::vector<double> base;
    std::vector<double> svc;
    pluto::ingest::IngestRequest req;
    req.source = file.string();
    req.table = "svc_" + reader;
    req.origin = "cli";
    for (int i = 0; i < args_.repeat; ++i) {
      base.push_back(timed_sql("CREATE OR REPLACE TABLE base_" + reader + " AS SELECT * FROM " + reader + "(" +
                               pluto::warehouse::quote_literal(file.string()) + ")"));
      svc.push_back(timed_ingest(req, args_.rows));
    }
    const double b = median(base);
    const double s = median(svc);
    char line[512];
    std::snprintf(line, sizeof line,
                  "| %s | %lld | %.2f s (DuckDB `CREATE TABLE AS SELECT * FROM %s`) | %.2f s | %.3f |", label.c_str(),
                  static_cast<long long>(args_.rows), b, reader.c_str(), s, s / b);
    rows_.emplace_back(line);
  }

  void files() {
    const fs::path csv = dir_.path() / "bench.csv";
    const fs::path parquet = dir_.path() / "bench.parquet";
    const std::string gen =
        "SELECT i AS id, 'customer_' || (i % 100000) AS customer, round(i * 0.37 % 1000, 2) AS amount, "
        "(i % 50)::INTEGER AS qty, DATE '2020-01-01' + (i % 1500)::INTEGER AS day, "
        "TIMESTAMP '2020-01-01 00:00:00' + to_seconds(i) AS ts, ['Berlin', 'Lyon', 'Osaka', 'Lima'][1 + i % 4] AS "
        "city, "
        "i % 3 = 0 AS flag, md5(i::VARCHAR)[1:8] AS code, (i * 7919 % 10007) / 10007.0 AS score FROM range(" +
        std::to_string(args_.rows) + ") t(i)";
    std::fprintf(stderr, "generating %lld rows as CSV and Parquet in %s…\n", static_cast<long long>(args_.rows),
                 dir_.str().c_str());
    sql("COPY (" + gen + ") TO " + pluto::warehouse::quote_literal(csv.string()) + " (FORMAT csv, HEADER)");
    sql("COPY (" + gen + ") TO " + pluto::warehouse::quote_literal(parquet.string()) + " (FORMAT parquet)");
    csv_bytes_ = static_cast<int64_t>(fs::file_size(csv));
    parquet_bytes_ = static_cast<int64_t>(fs::file_size(parquet));
    std::fprintf(stderr, "CSV %lld bytes, Parquet %lld bytes; loading each %d times…\n",
                 static_cast<long long>(csv_bytes_), static_cast<long long>(parquet_bytes_), args_.repeat);
    file_row("CSV, 10 columns", csv, "read_csv");
    file_row("Parquet, 10 columns", parquet, "read_parquet");
    fs::remove(csv);
    fs::remove(parquet);
  }

  void postgres() {
    std::fprintf(stderr, "starting PostgreSQL and running pgbench -i -s %d…\n", args_.pg_scale);
    pluto::testing::PostgresServer pg;
    if (!pg.ok()) die("PostgreSQL: " + pg.error());
    auto init = pg.client("pgbench", {"-i", "-q", "-s", std::to_string(args_.pg_scale), "postgres"});
    if (init.exit_code != 0) die("pgbench -i failed: " + init.err);
    (void)pg.psql("VACUUM ANALYZE pgbench_accounts");
    const int64_t rows = static_cast<int64_t>(args_.pg_scale) * 100000;
    ::setenv("PGPASSWORD", pg.password().c_str(), 1);
    std::vector<double> copy;
    std::vector<double> svc;
    pluto::ingest::IngestRequest req;
    req.source = pg.uri();
    req.table = "accounts";
    req.source_tables = {"pgbench_accounts"};
    req.origin = "cli";
    for (int i = 0; i < args_.repeat; ++i) {
      const auto t = Clock::now();
      const int rc = run_to_devnull({(pg.bin_dir() / "psql").string(), "-X", "-q", "-h", pg.host(), "-p",
                                     std::to_string(pg.port()), "-U", pg.user(), "-d", "postgres", "-c",
                                     "COPY pgbench_accounts TO STDOUT"});
      copy.push_back(seconds_since(t));
      if (rc != 0) die("psql COPY failed");
      svc.push_back(timed_ingest(req, rows));
    }
    ::unsetenv("PGPASSWORD");
    const double c = median(copy);
    const double s = median(svc);
    char line[512];
    std::snprintf(line, sizeof line,
                  "| PostgreSQL `pgbench_accounts` -> warehouse | %lld | %.2f s = %.0f rows/s (`COPY … TO STDOUT` "
                  "to /dev/null) | %.2f s = %.0f rows/s | %.3f |",
                  static_cast<long long>(rows), c, static_cast<double>(rows) / c, s, static_cast<double>(rows) / s,
                  s / c);
    rows_.emplace_back(line);
  }

  void print() const {
    std::printf("DuckDB %s, %u cores, median of %d runs each (baseline and Pluto-Duck alternate).\n\n",
                pluto::warehouse::Warehouse::duckdb_version().c_str(), std::thread::hardware_concurrency(),
                args_.repeat);
    std::printf("| load | rows | baseline | IngestService | ratio (lower is better, 1.00 = same) |\n");
    std::printf("|---|---|---|---|---|\n");
    for (const auto& r : rows_) std::printf("%s\n", r.c_str());
    std::printf("\nFile sizes: CSV %.1f MB, Parquet %.1f MB.\n", static_cast<double>(csv_bytes_) / 1e6,
                static_cast<double>(parquet_bytes_) / 1e6);
  }

 private:
  Args args_;
  pluto::testing::TempDir dir_;
  std::optional<pluto::Config> config_;
  std::unique_ptr<pluto::store::Store> store_;
  std::unique_ptr<pluto::warehouse::Warehouse> warehouse_;
  std::unique_ptr<pluto::events::EventBus> bus_;
  std::unique_ptr<pluto::jobs::JobRunner> runner_;
  std::unique_ptr<pluto::ingest::IngestService> service_;
  std::vector<std::string> rows_;
  int64_t csv_bytes_ = 0;
  int64_t parquet_bytes_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value after " + a);
      return argv[++i];
    };
    if (a == "--run") {
      args.run = true;
    } else if (a == "--rows") {
      args.rows = std::atoll(next().c_str());
    } else if (a == "--pg-scale") {
      args.pg_scale = std::atoi(next().c_str());
    } else if (a == "--repeat") {
      args.repeat = std::max(1, std::atoi(next().c_str()));
    } else if (a == "--no-postgres") {
      args.skip_postgres = true;
    } else {
      die("unknown argument " + a + " (use --run [--rows N] [--pg-scale S] [--repeat R] [--no-postgres])");
    }
  }
  if (!args.run) {
    // scripts/bench runs every *_bench binary bare and every run_*.sh; this one runs from run_ingest.sh.
    std::printf("ingest_bench: run by bench/run_ingest.sh (pass --run to run it directly).\n");
    return 0;
  }
  Bench bench(args);
  bench.files();
  if (!args.skip_postgres) bench.postgres();
  bench.print();
  return 0;
}
