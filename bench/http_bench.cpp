// HTTP benchmarks (issue 3):
//  (a) round trip of a tiny query over HTTP with keep-alive, p50/p99 and requests/s at 1 and 16
//      concurrent clients, against the same query through QueryService::run in the same process;
//  (b) fetching a 1,000,000-row, 10-column result as JSON, CSV and Parquet over HTTP, as a ratio to
//      DuckDB writing the same result to a local file in the same process.
// Prints a markdown table. Usage: http_bench [--rows N] [--requests N]
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "pluto/actions/builtin.hpp"
#include "pluto/api/server.hpp"
#include "pluto/events/event_bus.hpp"
#include "pluto/jobs/job_runner.hpp"
#include "pluto/query/query_service.hpp"
#include "pluto/warehouse/warehouse.hpp"
#include "test_util.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using pluto::testing::TempDir;

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

struct Stats {
  double p50 = 0, p99 = 0, rps = 0;
};

Stats summarize(std::vector<double> lat, double wall_ms) {
  std::sort(lat.begin(), lat.end());
  Stats s;
  s.p50 = lat[lat.size() / 2];
  s.p99 = lat[std::min(lat.size() - 1, lat.size() * 99 / 100)];
  s.rps = static_cast<double>(lat.size()) / (wall_ms / 1000.0);
  return s;
}

// Latencies of `per_client` calls from each of `clients` threads, and the wall time they took.
struct Sample {
  std::vector<double> lat;
  double wall_ms = 0;
};

template <typename F>
Sample sample(int clients, int per_client, F make_call) {
  std::vector<std::vector<double>> lat(static_cast<size_t>(clients));
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      auto call = make_call();
      for (int i = 0; i < per_client; ++i) {
        const auto t = Clock::now();
        call();
        lat[static_cast<size_t>(c)].push_back(ms_since(t));
      }
    });
  }
  for (auto& t : threads) t.join();
  Sample out;
  out.wall_ms = ms_since(start);
  for (auto& l : lat) out.lat.insert(out.lat.end(), l.begin(), l.end());
  return out;
}

// The two paths measured in alternating rounds, so that drift (a growing history, caches, other
// load) weighs on both alike instead of on whichever runs second.
template <typename A, typename B>
std::pair<Stats, Stats> compare(int clients, int per_client, A make_a, B make_b, int rounds = 10) {
  Sample a;
  Sample b;
  const int per_round = std::max(1, per_client / rounds);
  for (int r = 0; r < rounds; ++r) {
    auto sa = sample(clients, per_round, make_a);
    a.lat.insert(a.lat.end(), sa.lat.begin(), sa.lat.end());
    a.wall_ms += sa.wall_ms;
    auto sb = sample(clients, per_round, make_b);
    b.lat.insert(b.lat.end(), sb.lat.begin(), sb.lat.end());
    b.wall_ms += sb.wall_ms;
  }
  return {summarize(std::move(a.lat), a.wall_ms), summarize(std::move(b.lat), b.wall_ms)};
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress shows up line by line
  int64_t rows = 1000000;
  int requests = 400;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--rows") == 0) rows = std::stoll(argv[i + 1]);
    if (std::strcmp(argv[i], "--requests") == 0) requests = std::stoi(argv[i + 1]);
  }
  TempDir dir;
  auto store = pluto::store::Store::open(dir / "pluto.sqlite");
  (void)pluto::events::EventBus::migrate(*store.value());
  (void)pluto::jobs::JobRunner::migrate(*store.value());
  pluto::warehouse::WarehouseOptions wo;
  wo.path = (dir / "warehouse.duckdb").string();
  wo.pool_size = 16;
  auto wh = pluto::warehouse::Warehouse::open(wo);
  if (!wh.ok()) {
    std::fprintf(stderr, "%s\n", wh.error().message.c_str());
    return 1;
  }
  pluto::events::EventBus bus(store.value().get());
  pluto::jobs::RunnerOptions ro;
  ro.workers = 32;
  pluto::jobs::JobRunner runner(store.value().get(), bus, ro);
  pluto::query::ServiceOptions so;
  so.results_dir = dir / "results";
  pluto::query::QueryService queries(so, *store.value(), *wh.value(), runner);
  pluto::actions::Catalog catalog;
  pluto::actions::register_query_actions(catalog, queries, {});
  pluto::api::ServerOptions opts;
  opts.port = 0;
  auto server = pluto::api::Server::create(opts, {queries, runner, bus, *wh.value(), catalog});
  const int port = server.value()->bind().value();
  std::thread serving([&] { (void)server.value()->serve(); });

  const std::string tiny = R"({"sql":"SELECT 42 AS answer"})";
  std::printf("## HTTP round trip of a tiny query (SELECT 42), %d requests per row\n\n", requests);
  std::printf("| path | clients | p50 ms | p99 ms | requests/s |\n|---|---|---|---|---|\n");
  for (int clients : {1, 16}) {
    const int per = std::max(1, requests / clients);
    auto [direct, http] = compare(
        clients, per,
        [&] {
          return [&] {
            pluto::query::QueryRequest r;
            r.sql = "SELECT 42 AS answer";
            (void)queries.run(std::move(r));
          };
        },
        [&] {
          auto cli = std::make_shared<httplib::Client>("127.0.0.1", port);
          cli->set_keep_alive(true);
          cli->set_tcp_nodelay(true);
          return [cli, &tiny] {
            auto res = cli->Post("/api/v1/query", tiny, "application/json");
            if (!res || res->status != 200) std::abort();
          };
        });
    std::printf("| QueryService::run (in process) | %d | %.3f | %.3f | %.0f |\n", clients, direct.p50, direct.p99,
                direct.rps);
    std::printf("| POST /api/v1/query (keep-alive) | %d | %.3f | %.3f | %.0f |\n", clients, http.p50, http.p99,
                http.rps);
    std::printf("| HTTP overhead | %d | %.3f | | |\n", clients, http.p50 - direct.p50);
  }

  // (b) large result downloads.
  const std::string big_sql =
      "SELECT range AS id, range % 1000 AS k, range * 0.5 AS v, 'name-' || range AS s, "
      "range % 7 = 0 AS b, DATE '2024-01-01' + (range % 365)::INT AS d, range * 3 AS c7, "
      "hash(range) AS h, (range % 100)::DOUBLE / 3 AS r, 'x' AS x FROM range(" +
      std::to_string(rows) + ")";
  pluto::query::QueryRequest r;
  r.sql = big_sql;
  r.timeout_ms = 600000;
  auto run = queries.run(std::move(r));
  if (!run.ok() || run->status != "succeeded") {
    std::fprintf(stderr, "big query failed\n");
    return 1;
  }
  std::printf("\n## Downloading a %lld-row, 10-column result\n\n", static_cast<long long>(rows));
  std::printf("| format | local DuckDB write ms | HTTP download ms | bytes | ratio |\n|---|---|---|---|---|\n");
  for (const char* fmt : {"csv", "parquet", "json", "arrow"}) {
    // Baseline: DuckDB writes the same rows to a local file in this process. DuckDB has no Arrow IPC
    // writer, so arrow is measured against its Parquet COPY (the other columnar binary format).
    const std::string copy_fmt = std::string(fmt) == "arrow" ? "parquet" : fmt;
    auto lease = wh.value()->pool().acquire();
    (void)lease.value()->run("CREATE OR REPLACE TEMP TABLE big AS " + big_sql);
    const auto local_path = dir / ("local." + copy_fmt);
    const auto t0 = Clock::now();
    const std::string opt = copy_fmt == "json" ? "FORMAT json, ARRAY true" : "FORMAT " + copy_fmt;
    auto st = lease.value()->run("COPY big TO '" + local_path.string() + "' (" + opt + ")");
    const double local_ms = ms_since(t0);
    if (!st.ok()) std::fprintf(stderr, "%s\n", st.error().message.c_str());
    lease = pluto::Error(pluto::ErrorCode::internal, "released");
    httplib::Client cli("127.0.0.1", port);
    cli.set_read_timeout(600, 0);
    size_t bytes = 0;
    const auto t1 = Clock::now();
    auto res = cli.Get("/api/v1/query/" + run->run_id + "?format=" + fmt, [&](const char*, size_t n) {
      bytes += n;
      return true;
    });
    const double http_ms = ms_since(t1);
    if (!res || res->status != 200) {
      std::fprintf(stderr, "download %s failed\n", fmt);
      return 1;
    }
    const std::string label = copy_fmt == fmt ? std::string(fmt) : std::string(fmt) + " (vs " + copy_fmt + " COPY)";
    std::printf("| %s | %.0f | %.0f | %zu | %.2f |\n", label.c_str(), local_ms, http_ms, bytes, http_ms / local_ms);
  }
  server.value()->stop();
  serving.join();
  return 0;
}
