#pragma once
// What the graph asks of a "model": propose SQL for the question (seeing earlier attempts and why
// they failed) and answer from the result. The offline planner and the LLM providers implement it,
// so both run through the same graph, guard and events.
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "pluto/agent/llm/provider.hpp"
#include "pluto/agent/state.hpp"
#include "pluto/core/cancel.hpp"
#include "pluto/core/config.hpp"
#include "pluto/core/error.hpp"

namespace pluto::actions {
class Catalog;
}

namespace pluto::agent {

struct AgentOptions {
  std::string provider = "offline";  // offline (alias mock), openai, anthropic
  llm::ProviderOptions llm;          // model, base_url, key variable, timeouts, retries
  int max_steps = 40;
  int max_sql_attempts = 3;
  int64_t max_rows = 200;  // rows kept from a result
  int64_t max_result_bytes = 256 << 10;
  int64_t query_timeout_ms = 30000;
  int64_t run_timeout_ms = 600000;
  int64_t llm_data_rows = 20;     // rows of data a remote model may see (results, samples); 0: none
  bool llm_sample_values = true;  // show sampled column values to a remote model
  int max_tool_calls = 8;         // catalog tool calls per SQL proposal
  size_t max_tables = 8;          // candidate tables explored and described

  static AgentOptions from_config(const Config& config);
};

// What a node may do besides changing the state: emit events, see the cancel token, call tools.
struct RunContext {
  std::function<void(const std::string& type, nlohmann::json data)> emit;
  std::shared_ptr<CancelToken> cancel;
  const actions::Catalog* catalog = nullptr;  // may be null (no tools)
  const AgentOptions* options = nullptr;
};

struct Proposal {
  std::string sql;
  std::string explanation;
  std::string tool_call_id;   // the model's query.run call, answered later with the result
  std::string direct_answer;  // set instead of sql: answered without SQL (out of scope, clarification)
};

class Brain {
 public:
  virtual ~Brain() = default;
  virtual std::string name() const = 0;
  virtual std::string model() const = 0;
  // Next SQL for the question. state.attempts holds earlier tries with their outcome and reason.
  virtual Result<Proposal> propose(AgentState& state, RunContext& ctx) = 0;
  // A short answer grounded in state.result; text may also stream as agent.answer_delta events.
  virtual Result<std::string> answer(AgentState& state, RunContext& ctx) = 0;
};

std::unique_ptr<Brain> make_offline_brain();
std::unique_ptr<Brain> make_llm_brain(std::unique_ptr<llm::Provider> provider);

}  // namespace pluto::agent
