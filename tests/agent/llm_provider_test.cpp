// The openai and anthropic providers against local servers speaking each real streaming protocol:
// text deltas and tool calls, 401, 429 with retry-after, 5xx, malformed and truncated streams,
// cancellation, and keys that never leak into errors or logs.
#include <gtest/gtest.h>

#include <chrono>

#include "agent/scripted_llm.hpp"
#include "pluto/agent/llm/http.hpp"
#include "pluto/agent/llm/provider.hpp"
#include "pluto/core/log.hpp"
#include "test_util.hpp"

namespace pluto {
namespace {

using agent::llm::ChatHooks;
using agent::llm::ChatRequest;
using agent::llm::Message;
using agent::llm::Role;
using nlohmann::json;
using testing::ScriptedLlmServer;

constexpr const char* kKey = "sk-test-5e3f9a71c2d84b06-secret";

agent::llm::ProviderOptions options_for(const std::string& provider, const ScriptedLlmServer& server) {
  agent::llm::ProviderOptions o;
  o.provider = provider;
  o.model = "scripted-model";
  o.base_url = server.base_url();
  o.max_retries = 2;
  o.retry_backoff = std::chrono::milliseconds(10);
  o.getenv = [](const std::string& name) -> std::optional<std::string> {
    if (name == "OPENAI_API_KEY" || name == "ANTHROPIC_API_KEY") return std::string(kKey);
    return std::nullopt;
  };
  return o;
}

ChatRequest simple_request() {
  ChatRequest r;
  r.system = "You write SQL.";
  r.messages.push_back(Message{Role::user, "how many customers?", {}, "", false});
  r.tools.push_back(
      {"query.run", "Run one SELECT.", {{"type", "object"}, {"properties", {{"sql", {{"type", "string"}}}}}}});
  r.tools.push_back({"table.describe", "Describe a table.", {{"type", "object"}}});
  return r;
}

std::unique_ptr<agent::llm::Provider> make(const agent::llm::ProviderOptions& o) {
  auto p = agent::llm::make_provider(o);
  EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().message);
  return std::move(p).value();
}

TEST(SseParser, SameEventsWhateverTheChunking) {
  const std::string stream =
      ": keep-alive\r\nevent: first\r\ndata: {\"a\":1}\r\n\r\ndata: line one\ndata: line two\n\nevent: x\ndata:\n\n";
  auto parse_in = [&](size_t step) {
    agent::llm::SseParser p;
    std::vector<agent::llm::SseEvent> all;
    for (size_t i = 0; i < stream.size(); i += step) {
      for (auto& e : p.feed(std::string_view(stream).substr(i, step))) all.push_back(e);
    }
    return all;
  };
  for (size_t step : {size_t{1}, size_t{2}, size_t{7}, stream.size()}) {
    SCOPED_TRACE(step);
    const auto events = parse_in(step);
    ASSERT_EQ(events.size(), 3U);
    EXPECT_EQ(events[0].event, "first");
    EXPECT_EQ(events[0].data, "{\"a\":1}");
    EXPECT_EQ(events[1].event, "");
    EXPECT_EQ(events[1].data, "line one\nline two");
    EXPECT_EQ(events[2].event, "x");
    EXPECT_EQ(events[2].data, "");
  }
  agent::llm::SseParser partial;
  (void)partial.feed("data: {\"unfinished\":");
  EXPECT_TRUE(partial.has_partial());
}

TEST(RetryAfter, SecondsMillisecondsAndDates) {
  EXPECT_EQ(agent::llm::retry_after_ms({{"retry-after", "2"}}), 2000);
  EXPECT_EQ(agent::llm::retry_after_ms({{"retry-after-ms", "250"}, {"retry-after", "9"}}), 250);
  EXPECT_EQ(agent::llm::retry_after_ms({}), -1);
  EXPECT_EQ(agent::llm::retry_after_ms({{"retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"}}), 0);  // in the past
  EXPECT_EQ(agent::llm::redact(std::string("key ") + kKey + " and " + kKey, kKey), "key [redacted] and [redacted]");
}

TEST(OpenAiProvider, StreamsTextAndToolCallsOverTheRealProtocol) {
  ScriptedLlmServer server;
  server.push(testing::openai_tool_call("query_run", {{"sql", "SELECT count(*) FROM customers"}}, "call_abc",
                                        "Counting customers."));
  server.push(testing::openai_text({"There are ", "500", " customers."}));
  auto provider = make(options_for("openai", server));
  EXPECT_EQ(provider->name(), "openai");
  EXPECT_EQ(provider->model(), "scripted-model");

  std::string streamed;
  ChatHooks hooks;
  hooks.on_text = [&](std::string_view d) { streamed += d; };
  auto first = provider->chat(simple_request(), hooks, nullptr);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->text, "Counting customers.");
  ASSERT_EQ(first->tool_calls.size(), 1U);
  EXPECT_EQ(first->tool_calls[0].id, "call_abc");
  EXPECT_EQ(first->tool_calls[0].name, "query.run");  // mapped back from the wire name
  EXPECT_EQ(first->tool_calls[0].arguments["sql"], "SELECT count(*) FROM customers");
  EXPECT_EQ(first->stop_reason, "tool_calls");

  // The dialogue continues with the tool result.
  auto req = simple_request();
  req.messages.push_back(Message{Role::assistant, "Counting customers.", first->tool_calls, "", false});
  req.messages.push_back(Message{Role::tool, "[[500]]", {}, "call_abc", false});
  streamed.clear();
  auto second = provider->chat(req, hooks, nullptr);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->text, "There are 500 customers.");
  EXPECT_EQ(streamed, "There are 500 customers.");

  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2U);
  EXPECT_EQ(reqs[0].path, "/v1/chat/completions");
  EXPECT_EQ(reqs[0].headers.at("authorization"), std::string("Bearer ") + kKey);
  EXPECT_EQ(reqs[0].body["model"], "scripted-model");
  EXPECT_EQ(reqs[0].body["stream"], true);
  EXPECT_EQ(reqs[0].body["messages"][0]["role"], "system");
  EXPECT_EQ(reqs[0].body["tools"][0]["function"]["name"], "query_run");
  EXPECT_EQ(reqs[0].body["tools"][1]["function"]["name"], "table_describe");
  const auto& msgs = reqs[1].body["messages"];
  ASSERT_EQ(msgs.size(), 4U);
  EXPECT_EQ(msgs[2]["tool_calls"][0]["function"]["name"], "query_run");
  EXPECT_EQ(json::parse(msgs[2]["tool_calls"][0]["function"]["arguments"].get<std::string>())["sql"],
            "SELECT count(*) FROM customers");
  EXPECT_EQ(msgs[3]["role"], "tool");
  EXPECT_EQ(msgs[3]["tool_call_id"], "call_abc");
}

TEST(OpenAiProvider, AcceptsAPlainJsonCompletion) {
  ScriptedLlmServer server;
  server.push(testing::http_error(
      200, R"({"choices":[{"index":0,"message":{"role":"assistant","content":"hello"},"finish_reason":"stop"}]})"));
  auto r = make(options_for("openai", server))->chat(simple_request(), {}, nullptr);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->text, "hello");
}

TEST(AnthropicProvider, StreamsTextAndToolUseOverTheRealProtocol) {
  ScriptedLlmServer server;
  server.push(testing::anthropic_tool_use("query_run", {{"sql", "SELECT 1"}}, "toolu_9", "Let me check."));
  server.push(testing::anthropic_text({"The answer ", "is 1."}));
  auto provider = make(options_for("anthropic", server));
  auto first = provider->chat(simple_request(), {}, nullptr);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->text, "Let me check.");
  ASSERT_EQ(first->tool_calls.size(), 1U);
  EXPECT_EQ(first->tool_calls[0].id, "toolu_9");
  EXPECT_EQ(first->tool_calls[0].name, "query.run");
  EXPECT_EQ(first->tool_calls[0].arguments, json({{"sql", "SELECT 1"}}));
  EXPECT_EQ(first->stop_reason, "tool_use");

  auto req = simple_request();
  req.messages.push_back(Message{Role::assistant, "Let me check.", first->tool_calls, "", false});
  req.messages.push_back(Message{Role::tool, "[[1]]", {}, "toolu_9", false});
  req.messages.push_back(Message{Role::user, "Answer briefly.", {}, "", false});
  std::string streamed;
  ChatHooks hooks;
  hooks.on_text = [&](std::string_view d) { streamed += d; };
  auto second = provider->chat(req, hooks, nullptr);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->text, "The answer is 1.");
  EXPECT_EQ(streamed, "The answer is 1.");

  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2U);
  EXPECT_EQ(reqs[0].path, "/v1/messages");
  EXPECT_EQ(reqs[0].headers.at("x-api-key"), kKey);
  EXPECT_EQ(reqs[0].headers.at("anthropic-version"), "2023-06-01");
  EXPECT_EQ(reqs[0].body["system"], "You write SQL.");
  EXPECT_EQ(reqs[0].body["tools"][0]["name"], "query_run");
  EXPECT_TRUE(reqs[0].body["tools"][0].contains("input_schema"));
  // assistant tool_use, then one user message: the tool_result first, then the text.
  const auto& msgs = reqs[1].body["messages"];
  ASSERT_EQ(msgs.size(), 3U);
  EXPECT_EQ(msgs[1]["content"][1]["type"], "tool_use");
  EXPECT_EQ(msgs[1]["content"][1]["input"]["sql"], "SELECT 1");
  EXPECT_EQ(msgs[2]["role"], "user");
  EXPECT_EQ(msgs[2]["content"][0]["type"], "tool_result");
  EXPECT_EQ(msgs[2]["content"][0]["tool_use_id"], "toolu_9");
  EXPECT_EQ(msgs[2]["content"][1]["text"], "Answer briefly.");
}

TEST(Providers, UnauthorizedIsClearAndNeverShowsTheKey) {
  testing::TempDir dir;
  ASSERT_TRUE(log::init({dir.path() / "test.log", log::Level::debug, log::Level::off}).ok());
  for (const std::string provider : {"openai", "anthropic"}) {
    SCOPED_TRACE(provider);
    ScriptedLlmServer server;
    // Servers sometimes echo the key back; it must not travel further.
    server.push(testing::http_error(
        401, json{{"error", {{"type", "authentication_error"}, {"message", std::string("invalid x-api-key ") + kKey}}}}
                 .dump()));
    auto r = make(options_for(provider, server))->chat(simple_request(), {}, nullptr);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::unauthenticated);
    EXPECT_NE(r.error().message.find("401"), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.find(kKey), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().hint.find(kKey), std::string::npos);
    EXPECT_NE(r.error().hint.find(provider == "openai" ? "OPENAI_API_KEY" : "ANTHROPIC_API_KEY"), std::string::npos);
    EXPECT_EQ(server.request_count(), 1U);  // not retried
  }
  log::shutdown();
  const auto logged = testing::read_file(dir.path() / "test.log");
  EXPECT_NE(logged.find("llm request"), std::string::npos);
  EXPECT_EQ(logged.find(kKey), std::string::npos);
}

TEST(Providers, MissingKeyForThePublicEndpointFailsBeforeAnyRequest) {
  agent::llm::ProviderOptions o;
  o.provider = "anthropic";
  o.getenv = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  auto p = agent::llm::make_provider(o);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code, ErrorCode::unauthenticated);
  EXPECT_NE(p.error().message.find("ANTHROPIC_API_KEY"), std::string::npos);
  o.provider = "gemini";
  EXPECT_EQ(agent::llm::make_provider(o).error().code, ErrorCode::invalid_config);
}

TEST(Providers, RateLimitHonoursRetryAfter) {
  for (const std::string provider : {"openai", "anthropic"}) {
    SCOPED_TRACE(provider);
    ScriptedLlmServer server;
    server.push(testing::http_error(429, R"({"error":{"message":"slow down"}})", {{"retry-after", "1"}}));
    server.push(provider == "openai" ? testing::openai_text({"ok"}) : testing::anthropic_text({"ok"}));
    std::vector<agent::llm::RetryNotice> notices;
    ChatHooks hooks;
    hooks.on_retry = [&](const agent::llm::RetryNotice& n) { notices.push_back(n); };
    auto r = make(options_for(provider, server))->chat(simple_request(), hooks, nullptr);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->text, "ok");
    ASSERT_EQ(notices.size(), 1U);
    EXPECT_EQ(notices[0].wait_ms, 1000);  // the server's retry-after, not our backoff
    EXPECT_NE(notices[0].reason.find("429"), std::string::npos);
    EXPECT_EQ(server.request_count(), 2U);
  }
}

TEST(Providers, RetryAfterLongerThanTheLimitFailsAtOnce) {
  ScriptedLlmServer server;
  server.push(testing::http_error(429, R"({"error":{"message":"quota"}})", {{"retry-after", "3600"}}));
  auto r = make(options_for("openai", server))->chat(simple_request(), {}, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::unavailable);
  EXPECT_NE(r.error().message.find("3600 s"), std::string::npos) << r.error().message;
  EXPECT_EQ(server.request_count(), 1U);
}

TEST(Providers, ServerErrorsAreRetriedThenReported) {
  ScriptedLlmServer server;
  server.push(testing::http_error(503, R"({"error":{"message":"busy"}})"));
  server.push(testing::openai_text({"recovered"}));
  auto ok = make(options_for("openai", server))->chat(simple_request(), {}, nullptr);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->text, "recovered");

  ScriptedLlmServer failing;
  for (int i = 0; i < 3; ++i)
    failing.push(testing::http_error(500, R"({"type":"error","error":{"type":"api_error","message":"boom"}})"));
  auto r = make(options_for("anthropic", failing))->chat(simple_request(), {}, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::unavailable);
  EXPECT_NE(r.error().message.find("HTTP 500"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("boom"), std::string::npos);
  EXPECT_NE(r.error().message.find("after 3 attempts"), std::string::npos);
  EXPECT_EQ(failing.request_count(), 3U);  // first try + llm.max_retries (2)
}

TEST(Providers, MalformedAndTruncatedStreamsEndWithClearErrors) {
  struct Case {
    std::string provider;
    testing::ScriptedReply reply;
    std::string expect;
  };
  auto truncated_openai = testing::openai_text({"partial"});
  truncated_openai.chunks.resize(2);  // no finish_reason, no [DONE]
  auto truncated_anthropic = testing::anthropic_text({"partial"});
  truncated_anthropic.chunks.resize(3);  // no message_stop
  auto dropped = testing::openai_tool_call("query_run", {{"sql", "SELECT 1"}});
  dropped.chunks.resize(3);
  dropped.drop = true;
  testing::ScriptedReply garbage;
  garbage.chunks = {"data: {\"choices\": [oops\n\n"};
  testing::ScriptedReply bad_args = testing::openai_tool_call("query_run", {{"sql", "SELECT 1"}});
  bad_args.chunks[3] = testing::sse_data(
      testing::openai_chunk({{"tool_calls", {{{"index", 0}, {"function", {{"arguments", "}}}"}}}}}}}));
  std::vector<Case> cases = {
      {"openai", truncated_openai, "ended before the reply was complete"},
      {"anthropic", truncated_anthropic, "ended before message_stop"},
      {"openai", dropped, "broke off"},
      {"openai", garbage, "not JSON"},
      {"openai", bad_args, "not JSON"},
  };
  for (auto& c : cases) {
    SCOPED_TRACE(c.expect);
    ScriptedLlmServer server;
    for (int i = 0; i < 3; ++i) server.push(c.reply);
    auto r = make(options_for(c.provider, server))->chat(simple_request(), {}, nullptr);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::unavailable);
    EXPECT_NE(r.error().message.find(c.expect), std::string::npos) << r.error().message;
    EXPECT_LE(server.request_count(), 3U);
  }
}

TEST(Providers, AnthropicErrorEventMidStreamIsRetried) {
  ScriptedLlmServer server;
  testing::ScriptedReply overloaded;
  overloaded.chunks = {
      testing::anthropic_start(),
      testing::anthropic_event(
          "error", {{"type", "error"}, {"error", {{"type", "overloaded_error"}, {"message", "Overloaded"}}}})};
  server.push(overloaded);
  server.push(testing::anthropic_text({"fine"}));
  auto r = make(options_for("anthropic", server))->chat(simple_request(), {}, nullptr);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->text, "fine");
  EXPECT_EQ(server.request_count(), 2U);
}

TEST(Providers, CancelStopsAHangingStream) {
  ScriptedLlmServer server;
  auto hanging = testing::openai_text({"thinking"});
  hanging.chunks.resize(2);
  hanging.hang = true;
  server.push(hanging);
  auto token = CancelToken::create();
  std::thread canceller([&] {
    while (server.request_count() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    token->cancel();
  });
  const auto start = std::chrono::steady_clock::now();
  auto r = make(options_for("openai", server))->chat(simple_request(), {}, token);
  canceller.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::cancelled);
  // Generous bound: only detects a hang (the request itself would wait for llm.timeout_seconds).
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
}

TEST(Providers, UnreachableServerIsUnavailable) {
  std::string url;
  {
    ScriptedLlmServer closed;
    url = closed.base_url();
  }
  agent::llm::ProviderOptions o;
  o.provider = "openai";
  o.base_url = url;
  o.max_retries = 1;
  o.retry_backoff = std::chrono::milliseconds(5);
  o.getenv = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };  // local: no key needed
  auto p = agent::llm::make_provider(o);
  ASSERT_TRUE(p.ok());
  auto r = p.value()->chat(simple_request(), {}, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::unavailable);
  EXPECT_NE(r.error().message.find("cannot reach openai"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace pluto
