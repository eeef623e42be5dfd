#include "pluto/app/app.hpp"

#include "pluto/core/log.hpp"

namespace pluto::app {

App::~App() {
  // Stop order: jobs first (they use everything), then the rest in reverse of construction.
  if (jobs_) jobs_->shutdown();
  // --- more shutdown steps below ---
}

warehouse::WarehouseOptions App::warehouse_options(const Config& config) {
  warehouse::WarehouseOptions o;
  o.path = config.get("warehouse.path");
  o.memory_limit = config.get("warehouse.memory_limit");
  o.threads = config.get_int("warehouse.threads");
  o.extension_directory = config.get("warehouse.extension_directory");
  o.home_directory = config.data_dir().string();
  o.pool_size = config.get_int("warehouse.pool_size");
  return o;
}

Result<store::Store*> App::store() {
  if (!store_) {
    PLUTO_ASSIGN_OR_RETURN(store_, store::Store::open(config_.data_dir() / "pluto.sqlite"));
  }
  return store_.get();
}

Result<warehouse::Warehouse*> App::warehouse() {
  if (!warehouse_) {
    PLUTO_ASSIGN_OR_RETURN(warehouse_, warehouse::Warehouse::open(warehouse_options(config_)));
    log::debug("warehouse opened", {{"path", config_.get("warehouse.path")}});
  }
  return warehouse_.get();
}

Result<events::EventBus*> App::events() {
  if (!events_) {
    PLUTO_ASSIGN_OR_RETURN(store::Store * st, store());
    PLUTO_TRY(events::EventBus::migrate(*st));
    events_ = std::make_unique<events::EventBus>(st);
  }
  return events_.get();
}

Result<jobs::JobRunner*> App::jobs() {
  if (!jobs_) {
    PLUTO_ASSIGN_OR_RETURN(store::Store * st, store());
    PLUTO_ASSIGN_OR_RETURN(events::EventBus * bus, events());
    PLUTO_TRY(jobs::JobRunner::migrate(*st));
    jobs_ = std::make_unique<jobs::JobRunner>(st, *bus);
  }
  return jobs_.get();
}

// --- more service implementations below ---

cli::RuntimeFactory runtime_factory() {
  return [](Config config) -> Result<std::unique_ptr<cli::Runtime>> {
    return std::unique_ptr<cli::Runtime>(std::make_unique<App>(std::move(config)));
  };
}

}  // namespace pluto::app
