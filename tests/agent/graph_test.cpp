// The state-graph runtime on its own: fixed and conditional edges, the step limit, cancellation,
// checkpoints after every node, and resuming at a checkpoint's next node.
#include "pluto/agent/graph.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pluto {
namespace {

using agent::Graph;
using agent::kEnd;

struct Counter {
  int n = 0;
  std::vector<std::string> trail;
};

Graph<Counter> counting_graph(int until) {
  Graph<Counter> g;
  g.add_node("start", [](Counter& c) {
    c.trail.push_back("start");
    return Status{};
  });
  g.add_node("add", [](Counter& c) {
    ++c.n;
    c.trail.push_back("add");
    return Status{};
  });
  g.add_node("done", [](Counter& c) {
    c.trail.push_back("done");
    return Status{};
  });
  g.set_entry("start");
  g.add_edge("start", "add");
  g.add_conditional_edge("add", [until](const Counter& c) { return c.n < until ? "add" : "done"; }, {"add", "done"});
  g.add_edge("done", kEnd);
  return g;
}

TEST(Graph, FollowsConditionalEdgesAndCheckpointsEveryStep) {
  auto g = counting_graph(3);
  Counter c;
  std::vector<std::string> steps;
  Graph<Counter>::RunOptions o;
  o.checkpoint = [&](const Graph<Counter>::Step& s, const Counter& at) {
    steps.push_back(std::to_string(s.index) + ":" + s.node + "->" + s.next + "@" + std::to_string(at.n));
    return Status{};
  };
  auto r = g.run(c, o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->steps, 5);
  EXPECT_EQ(r->last_node, "done");
  EXPECT_EQ(c.n, 3);
  EXPECT_EQ(steps, (std::vector<std::string>{"1:start->add@0", "2:add->add@1", "3:add->add@2", "4:add->done@3",
                                             "5:done->end@3"}));
}

TEST(Graph, StopsAtTheStepLimit) {
  auto g = counting_graph(1000);
  Counter c;
  Graph<Counter>::RunOptions o;
  o.max_steps = 10;
  auto r = g.run(c, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::too_large);
  EXPECT_NE(r.error().message.find("10 steps"), std::string::npos);
  EXPECT_EQ(c.n, 9);
}

TEST(Graph, ResumesAtACheckpointsNextNode) {
  auto g = counting_graph(4);
  Counter c;
  c.n = 2;  // the state saved after step 3 ("add" -> "add")
  std::vector<int> indexes;
  Graph<Counter>::RunOptions o;
  o.start = "add";
  o.first_step = 4;
  o.checkpoint = [&](const Graph<Counter>::Step& s, const Counter&) {
    indexes.push_back(s.index);
    return Status{};
  };
  auto r = g.run(c, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(c.trail, (std::vector<std::string>{"add", "add", "done"}));
  EXPECT_EQ(indexes, (std::vector<int>{4, 5, 6}));
  o.start = "nowhere";
  EXPECT_EQ(g.run(c, o).error().code, ErrorCode::invalid_argument);
}

TEST(Graph, ANodeErrorStopsTheRunAndIsCheckpointedForARetry) {
  Graph<Counter> g;
  g.add_node("a", [](Counter& c) {
    ++c.n;
    return Status{};
  });
  g.add_node("b", [](Counter&) -> Status { return Error(ErrorCode::unavailable, "model unreachable"); });
  g.add_edge("a", "b");
  g.add_edge("b", kEnd);
  Counter c;
  std::vector<std::string> steps;
  Graph<Counter>::RunOptions o;
  o.checkpoint = [&](const Graph<Counter>::Step& s, const Counter&) {
    steps.push_back(s.node + "->" + s.next);
    return Status{};
  };
  auto r = g.run(c, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "model unreachable");
  EXPECT_EQ(steps, (std::vector<std::string>{"a->b", "b->b"}));
}

TEST(Graph, CancellationStopsBeforeTheNextNode) {
  auto token = CancelToken::create();
  Graph<Counter> g;
  g.add_node("a", [token](Counter& c) {
    ++c.n;
    token->cancel();
    return Status{};
  });
  g.add_node("b", [](Counter& c) {
    c.trail.push_back("b ran");
    return Status{};
  });
  g.add_edge("a", "b");
  g.add_edge("b", kEnd);
  Counter c;
  Graph<Counter>::RunOptions o;
  o.cancel = token;
  auto r = g.run(c, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::cancelled);
  EXPECT_TRUE(c.trail.empty());
}

TEST(Graph, ValidatesEdges) {
  Graph<Counter> g;
  g.add_node("a", [](Counter&) { return Status{}; });
  EXPECT_FALSE(g.validate().ok());  // no outgoing edge
  g.add_edge("a", "missing");
  EXPECT_NE(g.validate().error().message.find("unknown node 'missing'"), std::string::npos);
  g.add_edge("a", kEnd);
  EXPECT_TRUE(g.validate().ok());
  Graph<Counter> routed;
  routed.add_node("x", [](Counter&) { return Status{}; });
  routed.add_conditional_edge("x", [](const Counter&) { return std::string("y"); }, {kEnd});
  Counter c;
  EXPECT_EQ(routed.run(c, {}).error().code, ErrorCode::internal);  // routed outside its declared targets
}

}  // namespace
}  // namespace pluto
