#pragma once
// The one stand-in of the agent tests: a local HTTP server on 127.0.0.1 (random port) that speaks a
// model provider's real streaming protocol (OpenAI chat completions or the Anthropic Messages API)
// and answers each request with the next scripted reply. It records every request it receives.
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace pluto::testing {

struct ScriptedReply {
  int status = 200;
  std::map<std::string, std::string> headers;
  std::string body;                 // a plain body (errors, non-streaming answers)
  std::vector<std::string> chunks;  // SSE text, streamed chunk by chunk
  bool drop = false;                // close the connection after the chunks (no end of stream)
  bool hang = false;                // after the chunks, send nothing until the server stops
};

struct RecordedRequest {
  std::string path;
  std::map<std::string, std::string> headers;  // lower-case names
  nlohmann::json body;
};

class ScriptedLlmServer {
 public:
  ScriptedLlmServer() {
    auto handler = [this](const httplib::Request& req, httplib::Response& res) { handle(req, res); };
    server_.Post("/v1/chat/completions", handler);
    server_.Post("/v1/messages", handler);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~ScriptedLlmServer() { stop(); }
  ScriptedLlmServer(const ScriptedLlmServer&) = delete;
  ScriptedLlmServer& operator=(const ScriptedLlmServer&) = delete;

  void stop() {
    stopping_ = true;
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

  void push(ScriptedReply reply) {
    std::lock_guard lock(mu_);
    script_.push_back(std::move(reply));
  }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }
  std::vector<RecordedRequest> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }
  size_t request_count() {
    std::lock_guard lock(mu_);
    return requests_.size();
  }

 private:
  void handle(const httplib::Request& req, httplib::Response& res) {
    ScriptedReply reply;
    {
      std::lock_guard lock(mu_);
      RecordedRequest r;
      r.path = req.path;
      for (const auto& [k, v] : req.headers) {
        std::string key = k;
        for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        r.headers[key] = v;
      }
      r.body = nlohmann::json::parse(req.body, nullptr, false);
      requests_.push_back(std::move(r));
      if (script_.empty()) {
        reply.status = 500;
        reply.body = R"({"error":{"message":"the test script has no more replies"}})";
      } else {
        reply = std::move(script_.front());
        script_.pop_front();
      }
    }
    res.status = reply.status;
    for (const auto& [k, v] : reply.headers) res.set_header(k, v);
    if (reply.chunks.empty() && !reply.hang) {
      res.set_content(reply.body, "application/json");
      return;
    }
    auto chunks = std::make_shared<std::vector<std::string>>(std::move(reply.chunks));
    const bool drop = reply.drop;
    const bool hang = reply.hang;
    res.set_chunked_content_provider("text/event-stream", [this, chunks, drop, hang](size_t, httplib::DataSink& sink) {
      for (const auto& c : *chunks) {
        if (!sink.write(c.data(), c.size())) return false;
      }
      if (hang) {
        while (!stopping_.load()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        return false;
      }
      if (drop) return false;
      sink.done();
      return true;
    });
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::deque<ScriptedReply> script_;
  std::vector<RecordedRequest> requests_;
};

// ---- OpenAI chat-completions streams ------------------------------------------------------------

inline std::string sse_data(const nlohmann::json& j) {
  return "data: " + j.dump() + "\n\n";
}

inline nlohmann::json openai_chunk(const nlohmann::json& delta, const nlohmann::json& finish = nullptr) {
  return {{"id", "chatcmpl-test"},
          {"object", "chat.completion.chunk"},
          {"created", 1700000000},
          {"model", "scripted"},
          {"choices", {{{"index", 0}, {"delta", delta}, {"finish_reason", finish}}}}};
}

// A text reply, streamed in pieces.
inline ScriptedReply openai_text(const std::vector<std::string>& pieces) {
  ScriptedReply r;
  r.chunks.push_back(sse_data(openai_chunk({{"role", "assistant"}, {"content", ""}})));
  for (const auto& p : pieces) r.chunks.push_back(sse_data(openai_chunk({{"content", p}})));
  r.chunks.push_back(sse_data(openai_chunk(nlohmann::json::object(), "stop")));
  r.chunks.push_back("data: [DONE]\n\n");
  return r;
}

// A tool call (name as on the wire, e.g. "query_run"), its arguments streamed in three pieces.
inline ScriptedReply openai_tool_call(const std::string& name, const nlohmann::json& args,
                                      const std::string& id = "call_1", const std::string& text = "") {
  ScriptedReply r;
  r.chunks.push_back(sse_data(
      openai_chunk({{"role", "assistant"}, {"content", text.empty() ? nlohmann::json() : nlohmann::json(text)}})));
  const std::string a = args.dump();
  const size_t third = a.size() / 3;
  r.chunks.push_back(sse_data(openai_chunk(
      {{"tool_calls",
        {{{"index", 0}, {"id", id}, {"type", "function"}, {"function", {{"name", name}, {"arguments", ""}}}}}}})));
  for (const auto& part : {a.substr(0, third), a.substr(third, third), a.substr(2 * third)}) {
    r.chunks.push_back(sse_data(openai_chunk({{"tool_calls", {{{"index", 0}, {"function", {{"arguments", part}}}}}}})));
  }
  r.chunks.push_back(sse_data(openai_chunk(nlohmann::json::object(), "tool_calls")));
  r.chunks.push_back("data: [DONE]\n\n");
  return r;
}

inline ScriptedReply http_error(int status, const std::string& body, std::map<std::string, std::string> headers = {}) {
  ScriptedReply r;
  r.status = status;
  r.body = body;
  r.headers = std::move(headers);
  return r;
}

// ---- Anthropic Messages streams -----------------------------------------------------------------

inline std::string anthropic_event(const std::string& type, const nlohmann::json& data) {
  return "event: " + type + "\ndata: " + data.dump() + "\n\n";
}

inline std::string anthropic_start() {
  return anthropic_event("message_start", {{"type", "message_start"},
                                           {"message",
                                            {{"id", "msg_test"},
                                             {"type", "message"},
                                             {"role", "assistant"},
                                             {"content", nlohmann::json::array()},
                                             {"model", "scripted"},
                                             {"stop_reason", nullptr},
                                             {"usage", {{"input_tokens", 10}, {"output_tokens", 1}}}}}});
}

inline std::string anthropic_stop(const std::string& reason) {
  return anthropic_event("message_delta", {{"type", "message_delta"},
                                           {"delta", {{"stop_reason", reason}, {"stop_sequence", nullptr}}},
                                           {"usage", {{"output_tokens", 12}}}}) +
         anthropic_event("message_stop", {{"type", "message_stop"}});
}

inline ScriptedReply anthropic_text(const std::vector<std::string>& pieces) {
  ScriptedReply r;
  r.chunks.push_back(anthropic_start());
  r.chunks.push_back(anthropic_event(
      "content_block_start",
      {{"type", "content_block_start"}, {"index", 0}, {"content_block", {{"type", "text"}, {"text", ""}}}}));
  r.chunks.push_back(anthropic_event("ping", {{"type", "ping"}}));
  for (const auto& p : pieces) {
    r.chunks.push_back(anthropic_event(
        "content_block_delta",
        {{"type", "content_block_delta"}, {"index", 0}, {"delta", {{"type", "text_delta"}, {"text", p}}}}));
  }
  r.chunks.push_back(anthropic_event("content_block_stop", {{"type", "content_block_stop"}, {"index", 0}}));
  r.chunks.push_back(anthropic_stop("end_turn"));
  return r;
}

inline ScriptedReply anthropic_tool_use(const std::string& name, const nlohmann::json& input,
                                        const std::string& id = "toolu_1", const std::string& text = "") {
  ScriptedReply r;
  r.chunks.push_back(anthropic_start());
  int index = 0;
  if (!text.empty()) {
    r.chunks.push_back(anthropic_event(
        "content_block_start",
        {{"type", "content_block_start"}, {"index", 0}, {"content_block", {{"type", "text"}, {"text", ""}}}}));
    r.chunks.push_back(anthropic_event(
        "content_block_delta",
        {{"type", "content_block_delta"}, {"index", 0}, {"delta", {{"type", "text_delta"}, {"text", text}}}}));
    r.chunks.push_back(anthropic_event("content_block_stop", {{"type", "content_block_stop"}, {"index", 0}}));
    index = 1;
  }
  r.chunks.push_back(anthropic_event(
      "content_block_start",
      {{"type", "content_block_start"},
       {"index", index},
       {"content_block", {{"type", "tool_use"}, {"id", id}, {"name", name}, {"input", nlohmann::json::object()}}}}));
  const std::string a = input.dump();
  const size_t half = a.size() / 2;
  for (const auto& part : {a.substr(0, half), a.substr(half)}) {
    r.chunks.push_back(
        anthropic_event("content_block_delta", {{"type", "content_block_delta"},
                                                {"index", index},
                                                {"delta", {{"type", "input_json_delta"}, {"partial_json", part}}}}));
  }
  r.chunks.push_back(anthropic_event("content_block_stop", {{"type", "content_block_stop"}, {"index", index}}));
  r.chunks.push_back(anthropic_stop("tool_use"));
  return r;
}

}  // namespace pluto::testing
