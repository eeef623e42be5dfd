#pragma once
// What the CLI needs from the running product. The app component implements it (cli may not depend
// on app: dependencies point one way), and main.cpp hands the factory in.
#include <functional>
#include <memory>

#include "pluto/core/config.hpp"
#include "pluto/core/error.hpp"

namespace pluto::store {
class Store;
}
namespace pluto::warehouse {
class Warehouse;
}
namespace pluto::events {
class EventBus;
}
namespace pluto::jobs {
class JobRunner;
}
namespace pluto::query {
class QueryService;
}
namespace pluto::actions {
class Catalog;
}
// --- more forward declarations below ---
namespace pluto::agent {
class AgentService;
}
namespace pluto::ingest {
class IngestService;
}
namespace pluto::transform {
class DbtService;
}

namespace pluto::cli {

class Runtime {
 public:
  virtual ~Runtime() = default;
  virtual const Config& config() const = 0;
  // Opened on first use, so commands that need neither (version, config show) stay instant.
  virtual Result<store::Store*> store() = 0;
  virtual Result<warehouse::Warehouse*> warehouse() = 0;
  virtual Result<events::EventBus*> events() = 0;
  virtual Result<jobs::JobRunner*> jobs() = 0;
  virtual Result<query::QueryService*> queries() = 0;
  virtual Result<actions::Catalog*> actions() = 0;
  // Starts the HTTP server (server.host/server.port) and blocks until SIGINT/SIGTERM.
  // `on_ready` gets the URL once it listens.
  virtual Status serve(const std::function<void(const std::string& url)>& on_ready) = 0;
  // --- more services below ---
  virtual Result<agent::AgentService*> agent() = 0;
  virtual Result<ingest::IngestService*> ingest() = 0;
  virtual Result<transform::DbtService*> dbt() = 0;
};

using RuntimeFactory = std::function<Result<std::unique_ptr<Runtime>>(Config config)>;

}  // namespace pluto::cli
