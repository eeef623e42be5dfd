// The `openai` provider: OpenAI-compatible chat completions (OpenAI, Ollama, llama.cpp's server,
// vLLM, LM Studio) with streaming ("data: {chunk}" … "data: [DONE]") and function tool calls.
#include <map>

#include "pluto/agent/llm/driver.hpp"

namespace pluto::agent::llm {
namespace {

using nlohmann::json;

Error malformed(const std::string& what) {
  return Error(ErrorCode::unavailable, "the openai-compatible server sent a malformed reply: " + what,
               "check that llm.base_url points at an OpenAI-compatible /v1 endpoint");
}

class OpenAiDecoder final : public StreamDecoder {
 public:
  OpenAiDecoder(const ChatHooks& hooks, std::map<std::string, std::string> names)
      : hooks_(hooks), names_(std::move(names)) {}

  Status on_event(const SseEvent& ev) override {
    if (done_) return {};
    if (ev.data == "[DONE]") {
      done_ = true;
      return {};
    }
    json chunk = json::parse(ev.data, nullptr, /*allow_exceptions=*/false);
    if (chunk.is_discarded() || !chunk.is_object()) return malformed("a stream chunk is not JSON");
    if (chunk.contains("error")) {
      const auto& e = chunk["error"];
      return Error(ErrorCode::unavailable, "the openai-compatible server reported an error mid-stream: " +
                                               (e.is_object() ? e.value("message", e.dump()) : e.dump()));
    }
    if (chunk.contains("usage") && chunk["usage"].is_object()) {
      reply_.input_tokens = chunk["usage"].value("prompt_tokens", int64_t{0});
      reply_.output_tokens = chunk["usage"].value("completion_tokens", int64_t{0});
    }
    if (!chunk.contains("choices") || !chunk["choices"].is_array()) return {};
    for (const auto& choice : chunk["choices"]) {
      if (!choice.is_object()) return malformed("a choice is not an object");
      const json& delta = choice.contains("delta") ? choice["delta"] : json::object();
      if (delta.contains("content") && delta["content"].is_string()) {
        const auto text = delta["content"].get<std::string>();
        reply_.text += text;
        emit_text(hooks_, text);
      }
      if (delta.contains("tool_calls") && delta["tool_calls"].is_array()) {
        for (const auto& tc : delta["tool_calls"]) {
          const int index = tc.value("index", static_cast<int>(calls_.size()));
          auto& call = calls_[index];
          if (tc.contains("id") && tc["id"].is_string()) call.id = tc["id"].get<std::string>();
          if (tc.contains("function") && tc["function"].is_object()) {
            const auto& fn = tc["function"];
            if (fn.contains("name") && fn["name"].is_string()) call.name += fn["name"].get<std::string>();
            if (fn.contains("arguments") && fn["arguments"].is_string()) {
              call.arguments += fn["arguments"].get<std::string>();
            } else if (fn.contains("arguments") && fn["arguments"].is_object()) {
              call.arguments += fn["arguments"].dump();  // some servers send an object
            }
          }
        }
      }
      if (choice.contains("finish_reason") && choice["finish_reason"].is_string()) {
        reply_.stop_reason = choice["finish_reason"].get<std::string>();
      }
    }
    return {};
  }

  Result<ChatReply> finish(const std::string& raw, size_t events_seen) override {
    if (events_seen == 0) return from_plain_json(raw);
    if (!done_ && reply_.stop_reason.empty()) {
      return malformed("the stream ended before the reply was complete (no finish_reason, no [DONE])");
    }
    if (reply_.stop_reason == "length") {
      return Error(ErrorCode::invalid_config, "the model's reply was cut off at its token limit",
                   "raise llm.max_tokens, or ask a narrower question");
    }
    for (auto& [index, call] : calls_) {
      ToolCall out;
      out.id = call.id.empty() ? "call_" + std::to_string(index) : call.id;
      auto it = names_.find(call.name);
      out.name = it != names_.end() ? it->second : call.name;
      if (call.arguments.empty()) {
        out.arguments = json::object();
      } else {
        out.arguments = json::parse(call.arguments, nullptr, false);
        if (out.arguments.is_discarded()) return malformed("the arguments of tool call " + call.name + " are not JSON");
      }
      reply_.tool_calls.push_back(std::move(out));
    }
    return reply_;
  }

 private:
  // A server that ignored "stream": true answers with one chat.completion object.
  Result<ChatReply> from_plain_json(const std::string& raw) {
    json body = json::parse(raw, nullptr, false);
    if (body.is_discarded() || !body.is_object() || !body.contains("choices") || !body["choices"].is_array() ||
        body["choices"].empty()) {
      return malformed(raw.empty() ? "the reply was empty" : "the reply is neither an event stream nor a completion");
    }
    const auto& choice = body["choices"][0];
    const json& msg = choice.contains("message") ? choice["message"] : json::object();
    if (msg.contains("content") && msg["content"].is_string()) {
      reply_.text = msg["content"].get<std::string>();
      emit_text(hooks_, reply_.text);
    }
    if (msg.contains("tool_calls") && msg["tool_calls"].is_array()) {
      int index = 0;
      for (const auto& tc : msg["tool_calls"]) {
        auto& call = calls_[index++];
        call.id = tc.value("id", std::string());
        if (tc.contains("function")) {
          call.name = tc["function"].value("name", std::string());
          const auto& args = tc["function"]["arguments"];
          call.arguments = args.is_string() ? args.get<std::string>() : args.dump();
        }
      }
    }
    reply_.stop_reason = choice.value("finish_reason", std::string("stop"));
    done_ = true;
    return finish("", 1);
  }

  struct PartialCall {
    std::string id;
    std::string name;
    std::string arguments;
  };
  const ChatHooks& hooks_;
  std::map<std::string, std::string> names_;
  ChatReply reply_;
  std::map<int, PartialCall> calls_;
  bool done_ = false;
};

json to_wire(const Message& m) {
  switch (m.role) {
    case Role::user: return {{"role", "user"}, {"content", m.text}};
    case Role::tool: return {{"role", "tool"}, {"tool_call_id", m.tool_call_id}, {"content", m.text}};
    case Role::assistant: {
      json j{{"role", "assistant"}, {"content", m.text.empty() ? json() : json(m.text)}};
      if (!m.tool_calls.empty()) {
        json calls = json::array();
        for (const auto& c : m.tool_calls) {
          calls.push_back({{"id", c.id},
                           {"type", "function"},
                           {"function", {{"name", wire_tool_name(c.name)}, {"arguments", c.arguments.dump()}}}});
        }
        j["tool_calls"] = calls;
      }
      return j;
    }
  }
  return json::object();
}

std::string endpoint(const std::string& base) {
  std::string url = base;
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (url.size() >= 17 && url.compare(url.size() - 17, 17, "/chat/completions") == 0) return url;
  return url + "/chat/completions";
}

class OpenAiProvider final : public Provider {
 public:
  OpenAiProvider(ProviderOptions options, std::string key) : options_(std::move(options)), key_(std::move(key)) {
    if (options_.model.empty()) options_.model = default_model("openai");
    if (options_.base_url.empty()) options_.base_url = default_base_url("openai");
    if (options_.api_key_env.empty()) options_.api_key_env = default_api_key_env("openai");
    name_ = "openai";
  }
  const std::string& name() const override { return name_; }
  const std::string& model() const override { return options_.model; }

  Result<ChatReply> chat(const ChatRequest& request, const ChatHooks& hooks,
                         const std::shared_ptr<CancelToken>& cancel) override {
    json messages = json::array();
    if (!request.system.empty()) messages.push_back({{"role", "system"}, {"content", request.system}});
    for (const auto& m : request.messages) messages.push_back(to_wire(m));
    json body{{"model", options_.model}, {"messages", messages}, {"stream", true}, {"max_tokens", options_.max_tokens}};
    if (!request.tools.empty()) {
      json tools = json::array();
      for (const auto& t : request.tools) {
        tools.push_back(
            {{"type", "function"},
             {"function",
              {{"name", wire_tool_name(t.name)}, {"description", t.description}, {"parameters", t.parameters}}}});
      }
      body["tools"] = tools;
      body["tool_choice"] = request.tool_choice == ToolChoice::none ? "none" : "auto";
    }
    DriverSpec spec = streaming_spec(options_, name_, key_, endpoint(options_.base_url),
                                     body.dump(-1, ' ', false, json::error_handler_t::replace));
    if (!key_.empty()) spec.http.headers.emplace_back("Authorization", "Bearer " + key_);
    auto names = wire_names(request.tools);
    spec.make_decoder = [&hooks, names] { return std::make_unique<OpenAiDecoder>(hooks, names); };
    spec.error_message = [](const std::string& raw) -> std::string {
      json b = json::parse(raw, nullptr, false);
      if (b.is_discarded() || !b.is_object()) return {};
      if (b.contains("error") && b["error"].is_object()) return b["error"].value("message", std::string());
      if (b.contains("error") && b["error"].is_string()) return b["error"].get<std::string>();
      return b.value("message", std::string());
    };
    return run_chat(options_, spec, hooks, cancel);
  }

 private:
  ProviderOptions options_;
  std::string key_;
  std::string name_;
};

}  // namespace

std::unique_ptr<Provider> make_openai(const ProviderOptions& options, std::string key) {
  return std::make_unique<OpenAiProvider>(options, std::move(key));
}

}  // namespace pluto::agent::llm
