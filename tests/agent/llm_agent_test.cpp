// Agent runs driven by a scripted model behind the real OpenAI / Anthropic streaming protocols, on
// the real stack (warehouse with the sample shop, query service, guard, jobs, events, store).
#include <gtest/gtest.h>

#include <thread>

#include "agent/scripted_llm.hpp"
#include "agent/stack.hpp"
#include "pluto/core/log.hpp"

namespace pluto {
namespace {

using nlohmann::json;
using testing::ScriptedLlmServer;
using testing::Stack;

constexpr const char* kStackKey = "sk-stack-7d1c0e55aa42-secret";

json query_call(const std::string& sql) {
  return json{{"sql", sql}};
}

std::string dump_events(const std::vector<events::Event>& events) {
  std::string out;
  for (const auto& e : events) out += e.envelope().dump() + "\n";
  return out;
}

class LlmAgent : public ::testing::Test {
 protected:
  std::unique_ptr<Stack> stack(const std::string& provider, agent::AgentOptions o = {}) {
    if (o.provider != provider) o = testing::test_agent_options(provider, server_.base_url());
    return std::make_unique<Stack>(dir_.path(), std::move(o));
  }
  testing::TempDir dir_;
  ScriptedLlmServer server_;
};

TEST_F(LlmAgent, FailingSqlThenCorrectSqlRetriesOnceAndAnswers) {
  auto s = stack("openai");
  server_.push(
      testing::openai_tool_call("query_run", query_call("SELECT count(nonexistent) FROM customers"), "call_1"));
  server_.push(testing::openai_tool_call("query_run", query_call("SELECT count(*) AS n FROM customers"), "call_2",
                                         "Fixed the column."));
  server_.push(testing::openai_text({"There are ", "500", " customers."}));
  auto v = s->ask("How many customers are there?");
  ASSERT_EQ(v.status, "succeeded") << v.to_json().dump(2);
  const auto j = v.to_json();
  EXPECT_EQ(j["answer"], "There are 500 customers.");
  EXPECT_EQ(j["sql"], "SELECT count(*) AS n FROM customers");
  EXPECT_EQ(j["result"]["rows"], json::parse("[[500]]"));
  ASSERT_EQ(j["attempts"].size(), 2U);
  EXPECT_EQ(j["attempts"][0]["outcome"], "error");
  EXPECT_EQ(j["attempts"][1]["outcome"], "ok");
  EXPECT_EQ(v.provider, "openai");
  EXPECT_EQ(v.model, "scripted-model");

  const auto events = s->events(v.run_id);
  const auto retries = Stack::of_type(events, "agent.retry");
  ASSERT_EQ(retries.size(), 1U) << dump_events(events);
  EXPECT_NE(retries[0]["reason"].get<std::string>().find("nonexistent"), std::string::npos);
  EXPECT_EQ(Stack::of_type(events, "agent.sql").size(), 2U);
  std::string streamed;
  for (const auto& d : Stack::of_type(events, "agent.answer_delta")) streamed += d["text"].get<std::string>();
  EXPECT_EQ(streamed, "There are 500 customers.");

  // The model saw DuckDB's error as the result of its own tool call, and was asked to answer without tools.
  const auto reqs = server_.requests();
  ASSERT_EQ(reqs.size(), 3U);
  const auto& second = reqs[1].body["messages"];
  const auto& feedback = second[second.size() - 1];
  EXPECT_EQ(feedback["role"], "tool");
  EXPECT_EQ(feedback["tool_call_id"], "call_1");
  EXPECT_NE(feedback["content"].get<std::string>().find("nonexistent"), std::string::npos);
  EXPECT_NE(reqs[0].body["messages"][0]["content"].get<std::string>().find("customers"), std::string::npos);
  EXPECT_EQ(reqs[2].body["tool_choice"], "none");
  const auto& third = reqs[2].body["messages"];
  EXPECT_EQ(third[third.size() - 2]["tool_call_id"], "call_2");
  EXPECT_NE(third[third.size() - 2]["content"].get<std::string>().find("500"), std::string::npos);
}

TEST_F(LlmAgent, AModelThatKeepsFailingEndsCleanlyAtTheRetryLimit) {
  auto s = stack("openai");
  for (int i = 1; i <= 3; ++i) {
    server_.push(testing::openai_tool_call(
        "query_run", query_call("SELECT count(*) FROM customers WHERE bogus_" + std::to_string(i) + " > 0"),
        "call_" + std::to_string(i)));
  }
  auto v = s->ask("How many customers are there?");
  EXPECT_EQ(v.status, "failed");
  ASSERT_TRUE(v.error.has_value());
  EXPECT_EQ(v.error->code, ErrorCode::sql_error);
  EXPECT_NE(v.error->message.find("no working SQL after 3 attempts"), std::string::npos) << v.error->message;
  EXPECT_NE(v.error->message.find("bogus_3"), std::string::npos);
  const auto events = s->events(v.run_id);
  EXPECT_EQ(Stack::of_type(events, "agent.retry").size(), 2U);
  EXPECT_EQ(Stack::of_type(events, "agent.error").size(), 1U);
  EXPECT_TRUE(Stack::of_type(events, "agent.answer").empty());
  EXPECT_EQ(events.back().type, "agent.failed");
  EXPECT_TRUE(s->bus().read("agent/" + v.run_id, 0).closed);
  EXPECT_EQ(server_.request_count(), 3U);  // no answer was asked for
  EXPECT_EQ(v.checkpoints.back().node, "give_up");
}

TEST_F(LlmAgent, GuardRefusalGoesBackToTheModel) {
  auto s = stack("openai");
  server_.push(testing::openai_tool_call("query_run", query_call("SELECT * FROM read_csv('/etc/passwd')"), "c1"));
  server_.push(testing::openai_tool_call("query_run", query_call("SELECT count(*) AS n FROM orders"), "c2"));
  server_.push(testing::openai_text({"There are 2000 orders."}));
  auto v = s->ask("How many orders are there?");
  ASSERT_EQ(v.status, "succeeded") << v.to_json().dump(2);
  const auto j = v.to_json();
  EXPECT_EQ(j["attempts"][0]["outcome"], "refused");
  EXPECT_NE(j["attempts"][0]["reason"].get<std::string>().find("read_csv"), std::string::npos);
  // The refused query never ran: its history record is a failure with the guard's reason.
  auto q = s->queries().get(j["attempts"][0]["query_run_id"].get<std::string>());
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->status, "failed");
  ASSERT_TRUE(q->error.has_value());
  EXPECT_EQ(q->error->code, ErrorCode::permission_denied);
  const auto reqs = server_.requests();
  const auto& msgs = reqs[1].body["messages"];
  EXPECT_NE(msgs[msgs.size() - 1]["content"].get<std::string>().find("SQL guard refused"), std::string::npos);
}

TEST_F(LlmAgent, AnthropicRunUsesCatalogToolsAndStreamsTheAnswer) {
  auto s = stack("anthropic");
  server_.push(
      testing::anthropic_tool_use("table_describe", {{"table", "payments"}}, "toolu_1", "Looking at payments."));
  server_.push(testing::anthropic_tool_use(
      "query_run", query_call("SELECT payment_method, count(*) AS n FROM payments GROUP BY 1 ORDER BY 2 DESC"),
      "toolu_2"));
  server_.push(testing::anthropic_text({"Card is the most ", "common payment method."}));
  auto v = s->ask("Which payment methods are used most?");
  ASSERT_EQ(v.status, "succeeded") << v.to_json().dump(2);
  const auto j = v.to_json();
  EXPECT_EQ(j["answer"], "Card is the most common payment method.");
  EXPECT_EQ(j["chart"], json({{"type", "bar"}, {"x", "payment_method"}, {"y", "n"}}));
  const auto events = s->events(v.run_id);
  const auto calls = Stack::of_type(events, "agent.tool_call");
  ASSERT_EQ(calls.size(), 1U);
  EXPECT_EQ(calls[0]["name"], "table.describe");
  EXPECT_EQ(Stack::of_type(events, "agent.tool_result").at(0)["ok"], true);

  const auto reqs = server_.requests();
  ASSERT_EQ(reqs.size(), 3U);
  // The catalog's read-only entries are the model's tools (one code path).
  std::vector<std::string> tools;
  for (const auto& t : reqs[0].body["tools"]) tools.push_back(t["name"]);
  EXPECT_NE(std::find(tools.begin(), tools.end(), "query_run"), tools.end());
  EXPECT_NE(std::find(tools.begin(), tools.end(), "table_describe"), tools.end());
  EXPECT_NE(std::find(tools.begin(), tools.end(), "table_list"), tools.end());
  EXPECT_EQ(std::find(tools.begin(), tools.end(), "query_cancel"), tools.end());
  // table.describe's real answer went back as the tool_result.
  const auto& msgs = reqs[1].body["messages"];
  const auto& result = msgs[msgs.size() - 1]["content"][0];
  EXPECT_EQ(result["type"], "tool_result");
  EXPECT_EQ(result["tool_use_id"], "toolu_1");
  EXPECT_NE(result["content"].get<std::string>().find("payment_method"), std::string::npos);
  EXPECT_EQ(reqs[2].body["tool_choice"]["type"], "none");
}

TEST_F(LlmAgent, ProviderFailuresEndTheRunWithoutLeakingTheKey) {
  testing::TempDir logs;
  ASSERT_TRUE(log::init({logs.path() / "agent.log", log::Level::debug, log::Level::off}).ok());
  auto s = stack("openai");
  server_.push(testing::http_error(
      401, json{{"error", {{"message", std::string("Incorrect API key provided: ") + kStackKey}}}}.dump()));
  auto v = s->ask("How many customers are there?");
  EXPECT_EQ(v.status, "failed");
  ASSERT_TRUE(v.error.has_value());
  EXPECT_EQ(v.error->code, ErrorCode::unauthenticated);
  const auto events = s->events(v.run_id);
  ASSERT_EQ(Stack::of_type(events, "agent.error").size(), 1U);
  const auto everything = dump_events(events) + v.to_json().dump() + v.error->message + v.error->hint;
  EXPECT_NE(everything.find("401"), std::string::npos);
  EXPECT_EQ(everything.find(kStackKey), std::string::npos);
  EXPECT_EQ(server_.requests().at(0).headers.at("authorization"), std::string("Bearer ") + kStackKey);
  s.reset();
  log::shutdown();
  const auto logged = testing::read_file(logs.path() / "agent.log");
  EXPECT_NE(logged.find("llm request"), std::string::npos);
  EXPECT_EQ(logged.find(kStackKey), std::string::npos);
  // Nor in the store (events, jobs, checkpoints).
  EXPECT_EQ(testing::read_file(dir_.path() / "pluto.sqlite").find(kStackKey), std::string::npos);
}

TEST_F(LlmAgent, RateLimitedRequestsWaitForRetryAfter) {
  auto s = stack("openai");
  server_.push(testing::http_error(429, R"({"error":{"message":"Rate limit reached"}})", {{"retry-after", "1"}}));
  server_.push(testing::openai_tool_call("query_run", query_call("SELECT count(*) AS n FROM products")));
  server_.push(testing::openai_text({"60 products."}));
  auto v = s->ask("How many products are there?");
  ASSERT_EQ(v.status, "succeeded") << v.to_json().dump(2);
  const auto retries = Stack::of_type(s->events(v.run_id), "agent.llm_retry");
  ASSERT_EQ(retries.size(), 1U);
  EXPECT_EQ(retries[0]["wait_ms"], 1000);
  EXPECT_EQ(retries[0]["provider"], "openai");
  EXPECT_EQ(server_.request_count(), 3U);
}

TEST_F(LlmAgent, ImplausibleEmptyResultIsQuestionedThenConfirmed) {
  auto s = stack("openai");
  const std::string sql = "SELECT * FROM customers WHERE country = 'Atlantis'";
  server_.push(testing::openai_tool_call("query_run", query_call(sql), "c1"));
  server_.push(testing::openai_tool_call("query_run", query_call(sql + "\n"), "c2"));
  server_.push(testing::openai_text({"No customers are in Atlantis."}));
  auto v = s->ask("List the customers in Atlantis");
  ASSERT_EQ(v.status, "succeeded") << v.to_json().dump(2);
  const auto j = v.to_json();
  EXPECT_EQ(j["attempts"][0]["outcome"], "implausible");
  EXPECT_NE(j["attempts"][0]["reason"].get<std::string>().find("no rows"), std::string::npos);
  EXPECT_EQ(j["attempts"][1]["outcome"], "ok");
  EXPECT_EQ(j["answer"], "No customers are in Atlantis.");
}

TEST_F(LlmAgent, SqlInAFencedBlockAndAnswersWithoutSqlWork) {
  auto s = stack("openai");
  server_.push(testing::openai_text({"Here it is:\n```sql\nSELECT count(*) AS n FROM payments\n```\n"}));
  server_.push(testing::openai_text({"There are 2000 payments."}));
  auto v = s->ask("How many payments are there?");
  ASSERT_EQ(v.status, "succeeded") << v.to_json().dump(2);
  EXPECT_EQ(v.to_json()["sql"], "SELECT count(*) AS n FROM payments\n");
  EXPECT_EQ(v.to_json()["answer"], "There are 2000 payments.");

  server_.push(testing::openai_text({"The warehouse has no weather data, so I cannot answer that."}));
  auto w = s->ask("Will it rain tomorrow?");
  ASSERT_EQ(w.status, "succeeded");
  EXPECT_EQ(w.to_json()["answer"], "The warehouse has no weather data, so I cannot answer that.");
  EXPECT_TRUE(w.to_json()["sql"].is_null());
  EXPECT_EQ(Stack::of_type(s->events(w.run_id), "agent.answer").at(0)["answered"], false);
}

TEST_F(LlmAgent, FollowUpQuestionsCarryTheConversation) {
  auto s = stack("openai");
  server_.push(testing::openai_tool_call("query_run", query_call("SELECT count(*) AS n FROM customers")));
  server_.push(testing::openai_text({"There are 500 customers."}));
  auto first = s->ask("How many customers are there?");
  ASSERT_EQ(first.status, "succeeded");
  server_.push(
      testing::openai_tool_call("query_run", query_call("SELECT country, count(*) AS n FROM customers GROUP BY 1")));
  server_.push(testing::openai_text({"Per country: …"}));
  auto second = s->ask("And per country?", first.conversation_id);
  ASSERT_EQ(second.status, "succeeded");
  const auto reqs = server_.requests();
  ASSERT_EQ(reqs.size(), 4U);
  const auto& msgs = reqs[2].body["messages"];  // system, earlier question, earlier answer + SQL, new question
  ASSERT_EQ(msgs.size(), 4U);
  EXPECT_EQ(msgs[1]["content"], "How many customers are there?");
  EXPECT_NE(msgs[2]["content"].get<std::string>().find("There are 500 customers."), std::string::npos);
  EXPECT_NE(msgs[2]["content"].get<std::string>().find("SELECT count(*) AS n FROM customers"), std::string::npos);
  EXPECT_EQ(msgs[3]["content"], "And per country?");
}

TEST_F(LlmAgent, CancellingARunStopsItAndItsRunningQuery) {
  auto s = stack("openai");
  // Allowed by the guard (range is a harmless table function), and slow enough to still be running.
  server_.push(testing::openai_tool_call(
      "query_run", query_call("SELECT sum(a.range * b.range) AS s FROM range(1000000000) a, range(1000) b")));
  agent::AgentRequest r;
  r.question = "What is the big sum?";
  auto info = s->agent().submit(r);
  ASSERT_TRUE(info.ok());
  ASSERT_TRUE(s->wait_for_event(info->run_id, "agent.query"));
  const auto qid = Stack::of_type(s->events(info->run_id), "agent.query").at(0)["query_run_id"].get<std::string>();
  std::string status;
  for (int i = 0; i < 6000 && status != "running"; ++i) {
    if (auto q = s->queries().get(qid); q.ok()) status = q->status;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(status, "running") << dump_events(s->events(info->run_id));
  // Cancelled at once: even when the interrupt lands before DuckDB starts the statement (DuckDB drops
  // those), the query service interrupts again until the query ends.
  ASSERT_TRUE(s->agent().cancel(info->run_id).ok());
  auto v = s->finish(info->run_id);
  EXPECT_EQ(v.status, "cancelled");
  auto q = s->queries().wait(qid, std::chrono::seconds(60));
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->status, "cancelled");
  EXPECT_EQ(s->events(info->run_id).back().type, "agent.cancelled");
  EXPECT_EQ(s->agent().cancel(info->run_id).error().code, ErrorCode::conflict);
}

TEST_F(LlmAgent, CancellingWhileTheModelIsThinkingStopsTheRun) {
  auto s = stack("anthropic");
  auto hanging = testing::anthropic_text({"Thinking"});
  hanging.chunks.resize(3);
  hanging.hang = true;
  server_.push(hanging);
  agent::AgentRequest r;
  r.question = "How many orders are there?";
  auto info = s->agent().submit(r);
  ASSERT_TRUE(info.ok());
  while (server_.request_count() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(s->agent().cancel(info->run_id).ok());
  auto v = s->finish(info->run_id);
  EXPECT_EQ(v.status, "cancelled");
  // Checkpoints up to the step that was interrupted remain readable.
  ASSERT_GE(v.checkpoints.size(), 2U);
  EXPECT_EQ(v.checkpoints[1].node, "explore_schema");
}

TEST_F(LlmAgent, AStoppedRunResumesFromItsLastCheckpoint) {
  auto s = stack("openai");
  for (int i = 0; i < 3; ++i) server_.push(testing::http_error(502, R"({"error":{"message":"bad gateway"}})"));
  agent::AgentRequest r;
  r.question = "How many orders are there?";
  auto info = s->agent().submit(r);
  ASSERT_TRUE(info.ok());
  auto failed = s->finish(info->run_id);
  ASSERT_EQ(failed.status, "failed");
  ASSERT_EQ(failed.checkpoints.back().node, "generate_sql");  // the model failed there…
  ASSERT_EQ(failed.checkpoints.back().next, "generate_sql");  // …so that is where a resume starts
  server_.push(testing::openai_tool_call("query_run", query_call("SELECT count(*) AS n FROM orders")));
  server_.push(testing::openai_text({"2000 orders."}));
  auto resumed = s->agent().resume(info->run_id);
  ASSERT_TRUE(resumed.ok()) << resumed.error().message;
  EXPECT_EQ(resumed->conversation_id, info->conversation_id);
  auto v = s->finish(resumed->run_id);
  ASSERT_EQ(v.status, "succeeded") << v.to_json().dump(2);
  EXPECT_EQ(v.resumed_from, info->run_id);
  EXPECT_EQ(v.to_json()["answer"], "2000 orders.");
  // It continued at generate_sql: no new plan or schema step.
  EXPECT_EQ(v.checkpoints.front().node, "generate_sql");
  EXPECT_EQ(v.checkpoints.front().step, failed.checkpoints.back().step + 1);
  EXPECT_TRUE(Stack::of_type(s->events(v.run_id), "agent.plan").empty());
  EXPECT_EQ(Stack::of_type(s->events(v.run_id), "agent.resumed").size(), 1U);
  EXPECT_EQ(s->agent().resume(resumed->run_id).error().code, ErrorCode::conflict);
}

}  // namespace
}  // namespace pluto
