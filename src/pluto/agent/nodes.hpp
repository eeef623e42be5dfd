#pragma once
// The agent's graph: plan → explore_schema → generate_sql → execute_sql → answer, with execute_sql
// routing back to generate_sql (with the reason) on an error, a guard refusal or an implausible
// result until agent.max_sql_attempts, then to give_up; generate_sql routes to answer_directly when
// the generator answers without SQL.
#include <optional>

#include "pluto/agent/brain.hpp"
#include "pluto/agent/graph.hpp"
#include "pluto/agent/state.hpp"

namespace pluto::query {
class QueryService;
}
namespace pluto::warehouse {
class Warehouse;
}
namespace pluto::jobs {
class WarehouseGate;
}

namespace pluto::agent {

struct GraphDeps {
  Brain& brain;
  query::QueryService& queries;
  warehouse::Warehouse& warehouse;
  jobs::WarehouseGate& gate;
  RunContext& ctx;
};

Graph<AgentState> build_agent_graph(GraphDeps deps);

// A chart that fits the result's shape (category + number: bar; time + number: line), if any.
std::optional<Chart> suggest_chart(const ResultPreview& result);

}  // namespace pluto::agent
