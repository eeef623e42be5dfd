#pragma once
// The HTTP adapter: routes per resource, SSE, auth, Host/Origin checks, error -> status mapping,
// OpenAPI, static web assets. Routes stay thin: parse the request, call a service, map the result.
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "pluto/core/error.hpp"

namespace pluto::query {
class QueryService;
}
namespace pluto::jobs {
class JobRunner;
}
namespace pluto::events {
class EventBus;
}
namespace pluto::warehouse {
class Warehouse;
}
namespace pluto::actions {
class Catalog;
}
namespace pluto::ingest {
class IngestService;
}
namespace pluto::transform {
class DbtService;
}
namespace pluto::agent {
class AgentService;
}

namespace pluto::api {

class Router;

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8123;        // 0: any free port (tests)
  std::string api_token;  // empty: no auth (then only loopback is allowed)
  size_t max_body_bytes = 16u << 20U;
  std::string web_root;  // static files served at /
  int sse_heartbeat_seconds = 15;
  int threads = 64;  // SSE clients each hold one while connected
};

struct Services {
  query::QueryService& queries;
  jobs::JobRunner& jobs;
  events::EventBus& events;
  warehouse::Warehouse& warehouse;
  actions::Catalog& actions;
  // Optional services: their routes exist only when they are built in (null: not offered).
  ingest::IngestService* ingest = nullptr;
  transform::DbtService* dbt = nullptr;
  agent::AgentService* agent = nullptr;
  std::filesystem::path imports_dir = {};  // uploads land here (<data_dir>/imports)
};

// True for 127.0.0.0/8, ::1 and localhost.
bool is_loopback_host(const std::string& host);

class Server {
 public:
  // Refuses (invalid_config) a non-loopback host without an API token.
  static Result<std::unique_ptr<Server>> create(ServerOptions options, Services services);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds (unavailable if the port is taken); returns the bound port.
  Result<int> bind();
  // Serves until stop(); call after bind().
  Status serve();
  void stop();
  int port() const;
  std::string url() const;

 private:
  Server() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pluto::api
