#pragma once
// AgentService: ask a question in plain language, get a checked answer. A run is a job (kind
// "agent", stream "agent/<run_id>") through the graph of nodes.hpp; every step emits events
// (agent.plan, agent.schema, agent.sql, agent.result, agent.retry, agent.answer_delta, agent.answer,
// agent.error…) and stores a checkpoint. Conversations are stored so follow-ups see earlier
// questions, SQL and answers. Routes and CLI commands are thin: request in, service call, JSON out.
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "pluto/agent/brain.hpp"
#include "pluto/agent/records.hpp"
#include "pluto/core/config.hpp"
#include "pluto/core/error.hpp"

namespace pluto::store {
class Store;
}
namespace pluto::warehouse {
class Warehouse;
}
namespace pluto::query {
class QueryService;
}
namespace pluto::jobs {
class JobRunner;
}
namespace pluto::events {
class EventBus;
}
namespace pluto::actions {
class Catalog;
}

namespace pluto::agent {

struct AgentRequest {
  std::string question;
  std::string conversation_id;          // empty: a new conversation
  std::optional<std::string> provider;  // overrides llm.provider
  std::optional<std::string> model;     // overrides llm.model
  std::optional<std::string> base_url;  // overrides llm.base_url
  std::string origin = "api";           // api, cli

  // {"question","conversation_id"?,"provider"?,"model"?,"base_url"?}; invalid_argument names the field.
  static Result<AgentRequest> from_json(const nlohmann::json& body);
};

struct AgentRunInfo {
  std::string run_id;
  std::string conversation_id;
  std::string stream;              // "agent/<run_id>"
  std::string events_url;          // "/api/v1/agent/<run_id>/events"
  nlohmann::json to_json() const;  // {"run_id","conversation_id","events_url"}
};

struct AgentRunView {
  std::string run_id;
  std::string conversation_id;
  std::string question;
  std::string status;  // queued, running, succeeded, failed, cancelled, timed_out, interrupted
  std::string provider;
  std::string model;
  std::string created_at;
  std::optional<std::string> started_at;
  std::optional<std::string> finished_at;
  std::string resumed_from;
  std::optional<Error> error;
  nlohmann::json state;                       // the last checkpoint's state (null before the first step)
  std::vector<CheckpointRecord> checkpoints;  // steps so far (without their states)

  // {"run_id","conversation_id","status","question","answer","sql","chart","result","attempts","steps",…}
  nlohmann::json to_json() const;
};

class AgentService {
 public:
  AgentService(AgentOptions options, store::Store& store, warehouse::Warehouse& warehouse, query::QueryService& queries,
               jobs::JobRunner& jobs, events::EventBus& bus, const actions::Catalog* catalog);
  // Applies the agent's store migrations and builds the service from the config.
  static Result<std::unique_ptr<AgentService>> create(const Config& config, store::Store& store,
                                                      warehouse::Warehouse& warehouse, query::QueryService& queries,
                                                      jobs::JobRunner& jobs, events::EventBus& bus,
                                                      const actions::Catalog* catalog);
  ~AgentService();
  AgentService(const AgentService&) = delete;
  AgentService& operator=(const AgentService&) = delete;

  // Starts a run (a job) and returns at once.
  Result<AgentRunInfo> submit(AgentRequest request);
  Result<AgentRunView> get(const std::string& run_id);
  Status cancel(const std::string& run_id);
  // Starts a new run from the last checkpoint of a run that did not finish (interrupted by a
  // restart, cancelled, failed mid-way): same question, conversation, provider and model, continuing
  // at the next node. `base_url` is not stored with a run: give it again for a local server.
  Result<AgentRunInfo> resume(const std::string& run_id, const std::string& origin = "api",
                              std::optional<std::string> base_url = std::nullopt);
  Result<ConversationRecord> conversation(const std::string& conversation_id);

  const AgentOptions& options() const { return options_; }

 private:
  struct Started {
    AgentState state;
    std::string start_node;
    int first_step = 1;
  };
  Result<AgentRunInfo> start(Started started, const std::string& origin, std::optional<std::string> provider,
                             std::optional<std::string> model, std::optional<std::string> base_url,
                             const std::string& resumed_from);

  AgentOptions options_;
  store::Store& store_;
  warehouse::Warehouse& warehouse_;
  query::QueryService& queries_;
  jobs::JobRunner& jobs_;
  events::EventBus& bus_;
  const actions::Catalog* catalog_;
  Records records_;
  std::mutex live_mu_;
  std::set<std::string> live_;  // runs of this service whose job body has not returned yet
};

}  // namespace pluto::agent
