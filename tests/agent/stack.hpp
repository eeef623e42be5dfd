#pragma once
// The real services an agent run uses, wired as the app wires them, over a data dir laid out like
// the app's (warehouse.duckdb, pluto.sqlite, results/): store, warehouse, event bus, job runner,
// query service, actions catalog and the agent service.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "agent/sample_data.hpp"
#include "pluto/actions/builtin.hpp"
#include "pluto/actions/catalog.hpp"
#include "pluto/agent/agent_service.hpp"
#include "pluto/events/event_bus.hpp"
#include "pluto/jobs/job_runner.hpp"
#include "pluto/query/query_service.hpp"
#include "pluto/query/sql_guard.hpp"
#include "pluto/store/store.hpp"
#include "test_util.hpp"

namespace pluto::testing {

inline agent::AgentOptions test_agent_options(const std::string& provider = "offline",
                                              const std::string& base_url = "") {
  agent::AgentOptions o;
  o.provider = provider;
  o.llm.provider = provider;
  o.llm.model = provider == "offline" ? "" : "scripted-model";
  o.llm.base_url = base_url;
  o.llm.max_retries = 2;
  o.llm.retry_backoff = std::chrono::milliseconds(10);
  o.llm.getenv = [](const std::string& name) -> std::optional<std::string> {
    if (name == "OPENAI_API_KEY" || name == "ANTHROPIC_API_KEY") return std::string("sk-stack-7d1c0e55aa42-secret");
    return std::nullopt;
  };
  return o;
}

class Stack {
 public:
  // `dir` must outlive the stack. Loads the sample shop unless `load` is false.
  explicit Stack(const std::filesystem::path& dir, agent::AgentOptions options = test_agent_options(),
                 bool load = true) {
    auto st = store::Store::open(dir / "pluto.sqlite");
    EXPECT_TRUE(st.ok()) << st.error().message;
    store_ = std::move(st).value();
    auto wh = warehouse::Warehouse::open(warehouse_options_for((dir / "warehouse.duckdb").string()));
    EXPECT_TRUE(wh.ok()) << wh.error().message;
    warehouse_ = std::move(wh).value();
    if (load) {
      auto lease = warehouse_->pool().acquire();
      EXPECT_TRUE(load_sample_shop(lease.value().connection()).ok());
    }
    EXPECT_TRUE(events::EventBus::migrate(*store_).ok());
    bus_ = std::make_unique<events::EventBus>(store_.get());
    EXPECT_TRUE(jobs::JobRunner::migrate(*store_).ok());
    jobs_ = std::make_unique<jobs::JobRunner>(store_.get(), *bus_);
    query::ServiceOptions qo;
    qo.results_dir = dir / "results";
    queries_ = std::make_unique<query::QueryService>(qo, *store_, *warehouse_, *jobs_);
    actions::register_query_actions(catalog_, *queries_, query::sql_guard_validator());
    EXPECT_TRUE(agent::Records::migrate(*store_).ok());
    agent_ = std::make_unique<agent::AgentService>(std::move(options), *store_, *warehouse_, *queries_, *jobs_, *bus_,
                                                   &catalog_);
  }
  ~Stack() {
    agent_.reset();
    jobs_->shutdown();
    queries_.reset();
    jobs_.reset();
  }
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;

  agent::AgentService& agent() { return *agent_; }
  query::QueryService& queries() { return *queries_; }
  jobs::JobRunner& jobs() { return *jobs_; }
  events::EventBus& bus() { return *bus_; }
  warehouse::Warehouse& warehouse() { return *warehouse_; }
  store::Store& store() { return *store_; }

  // Waits (generously: only to catch hangs) for a run to finish and returns its view.
  agent::AgentRunView finish(const std::string& run_id) {
    auto info = jobs_->wait(run_id, std::chrono::seconds(120));
    EXPECT_TRUE(info.ok());
    EXPECT_TRUE(jobs::is_final(info->status)) << "run " << run_id << " did not finish";
    auto v = agent_->get(run_id);
    EXPECT_TRUE(v.ok()) << v.error().message;
    return v.value();
  }
  agent::AgentRunView ask(const std::string& question, const std::string& conversation_id = "") {
    agent::AgentRequest r;
    r.question = question;
    r.conversation_id = conversation_id;
    auto info = agent_->submit(r);
    EXPECT_TRUE(info.ok()) << info.error().message;
    return finish(info->run_id);
  }
  std::vector<events::Event> events(const std::string& run_id) {
    return bus_->read("agent/" + run_id, 0, 100000).events;
  }
  static std::vector<nlohmann::json> of_type(const std::vector<events::Event>& all, const std::string& type) {
    std::vector<nlohmann::json> out;
    for (const auto& e : all) {
      if (e.type == type) out.push_back(e.data);
    }
    return out;
  }
  // Waits until the run's stream has an event of `type` (or the generous bound passes).
  bool wait_for_event(const std::string& run_id, const std::string& type) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < until) {
      if (!of_type(events(run_id), type).empty()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  // One number from the warehouse, for expected answers.
  int64_t scalar(const std::string& sql) {
    auto lease = warehouse_->pool().acquire();
    auto r = lease.value().connection().execute(sql);
    EXPECT_TRUE(r.ok()) << sql;
    return duckdb_value_int64(r.value().raw(), 0, 0);
  }
  std::string text(const std::string& sql) {
    auto lease = warehouse_->pool().acquire();
    auto r = lease.value().connection().execute(sql);
    EXPECT_TRUE(r.ok()) << sql;
    char* v = duckdb_value_varchar(r.value().raw(), 0, 0);
    std::string out = v != nullptr ? v : "";
    duckdb_free(v);
    return out;
  }

 private:
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<warehouse::Warehouse> warehouse_;
  std::unique_ptr<events::EventBus> bus_;
  std::unique_ptr<jobs::JobRunner> jobs_;
  std::unique_ptr<query::QueryService> queries_;
  actions::Catalog catalog_;
  std::unique_ptr<agent::AgentService> agent_;
};

}  // namespace pluto::testing
