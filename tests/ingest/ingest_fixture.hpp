#pragma once
// A real stack for ingestion tests: a DuckDB warehouse file, the SQLite store, the event bus and the
// job runner, and an IngestService over them. Loads go through the runner like in the product.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pluto/events/event_bus.hpp"
#include "pluto/ingest/ingest_service.hpp"
#include "pluto/ingest/sql_util.hpp"
#include "pluto/jobs/job_runner.hpp"
#include "pluto/store/store.hpp"
#include "pluto/warehouse/warehouse.hpp"
#include "test_util.hpp"

namespace pluto::ingest::testing {

class IngestFixture : public ::testing::Test {
 protected:
  void SetUp() override { open_all(); }
  void TearDown() override { close_all(); }

  void open_all() {
    data_dir_ = dir_ / "data";
    std::filesystem::create_directories(data_dir_ / "imports");
    std::filesystem::create_directories(data_dir_ / "secrets");
    auto st = store::Store::open(data_dir_ / "pluto.sqlite");
    ASSERT_TRUE(st.ok()) << st.error().message;
    store_ = std::move(st).value();
    warehouse::WarehouseOptions o;
    o.path = (data_dir_ / "warehouse.duckdb").string();
    o.extension_directory = PLUTO_SOURCE_DIR "/third_party/duckdb/extensions";
    o.home_directory = data_dir_.string();
    o.pool_size = 4;
    auto wh = warehouse::Warehouse::open(o);
    ASSERT_TRUE(wh.ok()) << wh.error().message;
    warehouse_ = std::move(wh).value();
    ASSERT_TRUE(events::EventBus::migrate(*store_).ok());
    bus_ = std::make_unique<events::EventBus>(store_.get());
    ASSERT_TRUE(jobs::JobRunner::migrate(*store_).ok());
    runner_ = std::make_unique<jobs::JobRunner>(store_.get(), *bus_);
    IngestSettings s;
    s.data_dir = data_dir_;
    s.allowed_dirs = {data_dir_ / "imports"};
    s.connect_timeout_seconds = 5;
    auto svc = IngestService::create(*warehouse_, *store_, s);
    ASSERT_TRUE(svc.ok()) << svc.error().message;
    service_ = std::move(svc).value();
  }

  void close_all() {
    if (runner_) runner_->shutdown();
    service_.reset();
    runner_.reset();
    bus_.reset();
    warehouse_.reset();
    store_.reset();
  }

  // Submits through the job runner and waits; the job's error or its result.
  Result<nlohmann::json> ingest(IngestRequest r) {
    auto info = service_->submit(*runner_, r);
    if (!info.ok()) return info.take_error();
    last_job_ = info->id;
    auto done = runner_->wait(info->id, std::chrono::minutes(5));
    if (!done.ok()) return done.take_error();
    if (done->status != jobs::JobStatus::succeeded) {
      return done->error ? *done->error
                         : Error(ErrorCode::internal, "job ended " + std::string(to_string(done->status)));
    }
    return done->result;
  }

  static IngestRequest request(const std::string& source, const std::string& table, LoadMode mode = LoadMode::replace) {
    IngestRequest r;
    r.source = source;
    r.table = table;
    r.mode = mode;
    r.origin = "cli";
    return r;
  }

  // Rows of a warehouse query as text (NULL as "NULL").
  std::vector<std::vector<std::string>> rows(const std::string& sql) {
    auto lease = warehouse_->pool().acquire();
    EXPECT_TRUE(lease.ok());
    auto r = query_rows(lease.value().connection(), sql);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message) << "\n" << sql;
    std::vector<std::vector<std::string>> out;
    if (!r.ok()) return out;
    for (const auto& row : r.value()) {
      std::vector<std::string> cells;
      for (const auto& c : row) cells.push_back(c.value_or("NULL"));
      out.push_back(std::move(cells));
    }
    return out;
  }
  std::string value(const std::string& sql) {
    auto r = rows(sql);
    return r.empty() || r.front().empty() ? std::string("<no rows>") : r.front().front();
  }
  Status exec(const std::string& sql) {
    auto lease = warehouse_->pool().acquire();
    if (!lease.ok()) return lease.take_error();
    return lease.value().connection().run(sql);
  }

  // Writes a file through DuckDB's COPY (any format DuckDB writes: csv, parquet, json…).
  void copy_to(const std::string& select, const std::filesystem::path& path, const std::string& options) {
    ASSERT_TRUE(
        exec("COPY (" + select + ") TO " + warehouse::quote_literal(path.string()) + " (" + options + ")").ok());
  }

  std::vector<events::Event> job_events() { return bus_->read("ingest/" + last_job_, 0, 10000).events; }

  pluto::testing::TempDir dir_;
  std::filesystem::path data_dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<warehouse::Warehouse> warehouse_;
  std::unique_ptr<events::EventBus> bus_;
  std::unique_ptr<jobs::JobRunner> runner_;
  std::unique_ptr<IngestService> service_;
  std::string last_job_;
};

}  // namespace pluto::ingest::testing
