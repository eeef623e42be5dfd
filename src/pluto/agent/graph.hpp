#pragma once
// A small typed state graph: named nodes that update a State, fixed and conditional edges, a step
// limit, cooperative cancellation, and a checkpoint hook called with the state after every node
// (and the node that runs next), so a run can be inspected step by step and resumed from any
// checkpoint by starting at its `next` node with its state.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "pluto/core/cancel.hpp"
#include "pluto/core/error.hpp"

namespace pluto::agent {

inline constexpr const char* kEnd = "end";

template <typename State>
class Graph {
 public:
  // A node updates the state. An Error stops the run (cancel, an unrecoverable failure); outcomes a
  // later node should react to belong in the state instead, where an edge can route on them.
  using Node = std::function<Status(State&)>;
  // Picks the next node (or kEnd) from the state.
  using Router = std::function<std::string(const State&)>;

  struct Step {
    int index = 0;     // 1-based, continues across resumes
    std::string node;  // the node that just ran
    std::string next;  // the node that runs next, or kEnd (the node itself when it failed)
  };
  using CheckpointFn = std::function<Status(const Step&, const State&)>;

  struct RunOptions {
    std::string start;   // empty: the entry node
    int first_step = 1;  // index of the first step (a resumed run continues the numbering)
    int max_steps = 50;
    std::shared_ptr<CancelToken> cancel;
    CheckpointFn checkpoint;  // optional
  };

  struct Outcome {
    int steps = 0;  // steps run by this call
    std::string last_node;
  };

  Graph& add_node(const std::string& name, Node fn) {
    nodes_[name] = std::move(fn);
    if (entry_.empty()) entry_ = name;
    return *this;
  }
  Graph& add_edge(const std::string& from, const std::string& to) {
    routers_[from] = [to](const State&) { return to; };
    targets_[from] = {to};
    return *this;
  }
  // `targets` lists where `router` may go, so validate() can check the graph before it runs.
  Graph& add_conditional_edge(const std::string& from, Router router, std::vector<std::string> targets) {
    routers_[from] = std::move(router);
    targets_[from] = std::move(targets);
    return *this;
  }
  Graph& set_entry(const std::string& name) {
    entry_ = name;
    return *this;
  }
  const std::string& entry() const { return entry_; }
  bool has_node(const std::string& name) const { return nodes_.count(name) != 0; }

  // Every node has an outgoing edge and every edge leads to a node (or kEnd).
  Status validate() const {
    if (!has_node(entry_)) return Error(ErrorCode::internal, "graph entry '" + entry_ + "' is not a node");
    for (const auto& [name, fn] : nodes_) {
      if (routers_.count(name) == 0)
        return Error(ErrorCode::internal, "graph node '" + name + "' has no outgoing edge");
    }
    for (const auto& [from, targets] : targets_) {
      if (!has_node(from)) return Error(ErrorCode::internal, "graph edge from unknown node '" + from + "'");
      for (const auto& t : targets) {
        if (t != kEnd && !has_node(t)) {
          return Error(ErrorCode::internal, "graph edge from '" + from + "' to unknown node '" + t + "'");
        }
      }
    }
    return {};
  }

  Result<Outcome> run(State& state, const RunOptions& options) const {
    PLUTO_TRY(validate());
    std::string current = options.start.empty() ? entry_ : options.start;
    if (current != kEnd && !has_node(current)) {
      return Error(ErrorCode::invalid_argument, "cannot start at '" + current + "': the graph has no such node");
    }
    Outcome outcome;
    int index = options.first_step;
    while (current != kEnd) {
      if (options.cancel && options.cancel->cancelled()) {
        return Error(ErrorCode::cancelled, "the run was cancelled before step '" + current + "'");
      }
      if (outcome.steps >= options.max_steps) {
        return Error(ErrorCode::too_large,
                     "the run stopped after " + std::to_string(outcome.steps) + " steps without finishing",
                     "raise agent.max_steps if the question needs more work");
      }
      const Status ran = nodes_.at(current)(state);
      ++outcome.steps;
      outcome.last_node = current;
      // A failed step is checkpointed with itself as `next`: resuming retries it.
      const std::string next = ran.ok() ? routers_.at(current)(state) : current;
      if (next != kEnd && !has_node(next)) {
        return Error(ErrorCode::internal, "node '" + current + "' routed to unknown node '" + next + "'");
      }
      if (options.checkpoint) PLUTO_TRY(options.checkpoint(Step{index, current, next}, state));
      if (!ran.ok()) return ran.error();
      ++index;
      current = next;
    }
    return outcome;
  }

 private:
  std::map<std::string, Node> nodes_;
  std::map<std::string, Router> routers_;
  std::map<std::string, std::vector<std::string>> targets_;
  std::string entry_;
};

}  // namespace pluto::agent
