#pragma once
// Builds every service from the config and owns their lifetime (start/stop order).
#include <memory>

#include "pluto/actions/catalog.hpp"
#include "pluto/cli/runtime.hpp"
#include "pluto/core/config.hpp"
#include "pluto/events/event_bus.hpp"
#include "pluto/jobs/job_runner.hpp"
#include "pluto/query/query_service.hpp"
#include "pluto/store/store.hpp"
#include "pluto/warehouse/warehouse.hpp"
// --- more includes below ---
#include "pluto/agent/agent_service.hpp"
#include "pluto/ingest/actions.hpp"
#include "pluto/ingest/ingest_service.hpp"
#include "pluto/query/sql_guard.hpp"
#include "pluto/transform/dbt_service.hpp"

namespace pluto::app {

class App final : public cli::Runtime {
 public:
  explicit App(Config config) : config_(std::move(config)) {}
  ~App() override;
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  const Config& config() const override { return config_; }
  Result<store::Store*> store() override;
  Result<warehouse::Warehouse*> warehouse() override;
  Result<events::EventBus*> events() override;
  Result<jobs::JobRunner*> jobs() override;
  Result<query::QueryService*> queries() override;
  Result<actions::Catalog*> actions() override;
  Status serve(const std::function<void(const std::string& url)>& on_ready) override;
  // --- more services below ---
  Result<agent::AgentService*> agent() override;
  Result<ingest::IngestService*> ingest() override;
  Result<transform::DbtService*> dbt() override;

  static warehouse::WarehouseOptions warehouse_options(const Config& config);

 private:
  Status add_ingest_actions(actions::Catalog& catalog);
  Status add_dbt_actions(actions::Catalog& catalog);

  Config config_;
  // Declaration order is construction order; members are destroyed in reverse (services first).
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<warehouse::Warehouse> warehouse_;
  std::unique_ptr<events::EventBus> events_;
  std::unique_ptr<jobs::JobRunner> jobs_;
  std::unique_ptr<query::QueryService> queries_;
  std::unique_ptr<actions::Catalog> actions_;
  // --- more service members below ---
  std::unique_ptr<agent::AgentService> agent_;
  std::unique_ptr<ingest::IngestService> ingest_;
  std::unique_ptr<transform::DbtService> dbt_;
};

// The factory main.cpp hands to the CLI.
cli::RuntimeFactory runtime_factory();

}  // namespace pluto::app
