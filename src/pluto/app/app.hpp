#pragma once
// Builds every service from the config and owns their lifetime (start/stop order).
#include <memory>

#include "pluto/cli/runtime.hpp"
#include "pluto/core/config.hpp"
#include "pluto/store/store.hpp"
#include "pluto/warehouse/warehouse.hpp"

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

  static warehouse::WarehouseOptions warehouse_options(const Config& config);

 private:
  Config config_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<warehouse::Warehouse> warehouse_;
};

// The factory main.cpp hands to the CLI.
cli::RuntimeFactory runtime_factory();

}  // namespace pluto::app
