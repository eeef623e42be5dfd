// The `anthropic` provider: the Messages API with streaming (message_start, content_block_start,
// content_block_delta with text_delta / input_json_delta, content_block_stop, message_delta,
// message_stop) and tool use.
#include <map>

#include "pluto/agent/llm/driver.hpp"

namespace pluto::agent::llm {
namespace {

using nlohmann::json;

constexpr const char* kApiVersion = "2023-06-01";

Error malformed(const std::string& what) {
  return Error(ErrorCode::unavailable, "the anthropic server sent a malformed reply: " + what,
               "check that llm.base_url points at the Anthropic Messages API");
}

class AnthropicDecoder final : public StreamDecoder {
 public:
  AnthropicDecoder(const ChatHooks& hooks, std::map<std::string, std::string> names)
      : hooks_(hooks), names_(std::move(names)) {}

  Status on_event(const SseEvent& ev) override {
    json e = json::parse(ev.data, nullptr, /*allow_exceptions=*/false);
    if (e.is_discarded() || !e.is_object()) return malformed("an event's data is not JSON");
    const auto type = e.value("type", ev.event);
    if (type == "ping") return {};
    if (type == "error") {
      const json& err = e.contains("error") ? e["error"] : json::object();
      const auto kind = err.is_object() ? err.value("type", std::string("error")) : std::string("error");
      const auto msg = err.is_object() ? err.value("message", err.dump()) : err.dump();
      return Error(ErrorCode::unavailable, "anthropic reported " + kind + " mid-stream: " + msg);
    }
    if (type == "message_start") {
      started_ = true;
      if (e.contains("message") && e["message"].contains("usage")) {
        reply_.input_tokens = e["message"]["usage"].value("input_tokens", int64_t{0});
      }
      return {};
    }
    if (!started_) return malformed("the stream did not begin with message_start");
    if (type == "content_block_start") {
      const int index = e.value("index", -1);
      const json& block = e.contains("content_block") ? e["content_block"] : json::object();
      if (index < 0 || !block.is_object()) return malformed("content_block_start without index or block");
      auto& b = blocks_[index];
      b.type = block.value("type", std::string());
      if (b.type == "text") {
        const auto text = block.value("text", std::string());
        reply_.text += text;
        emit_text(hooks_, text);
      } else if (b.type == "tool_use") {
        b.id = block.value("id", std::string());
        b.name = block.value("name", std::string());
        // Input arrives as input_json_delta; a non-empty object here is the complete input.
        if (block.contains("input") && block["input"].is_object() && !block["input"].empty()) {
          b.json = block["input"].dump();
        }
      }
      return {};
    }
    if (type == "content_block_delta") {
      const int index = e.value("index", -1);
      auto it = blocks_.find(index);
      if (it == blocks_.end()) return malformed("content_block_delta for a block that was not started");
      const json& delta = e.contains("delta") ? e["delta"] : json::object();
      const auto dtype = delta.value("type", std::string());
      if (dtype == "text_delta") {
        const auto text = delta.value("text", std::string());
        reply_.text += text;
        emit_text(hooks_, text);
      } else if (dtype == "input_json_delta") {
        it->second.json += delta.value("partial_json", std::string());
      }
      return {};  // thinking_delta, signature_delta, citations: not used
    }
    if (type == "content_block_stop") {
      const int index = e.value("index", -1);
      auto it = blocks_.find(index);
      if (it == blocks_.end()) return malformed("content_block_stop for a block that was not started");
      it->second.stopped = true;
      return {};
    }
    if (type == "message_delta") {
      if (e.contains("delta") && e["delta"].is_object() && e["delta"].contains("stop_reason") &&
          e["delta"]["stop_reason"].is_string()) {
        reply_.stop_reason = e["delta"]["stop_reason"].get<std::string>();
      }
      if (e.contains("usage") && e["usage"].is_object()) {
        reply_.output_tokens = e["usage"].value("output_tokens", int64_t{0});
      }
      return {};
    }
    if (type == "message_stop") {
      stopped_ = true;
      return {};
    }
    return {};  // event types added later are ignored, as the API asks
  }

  Result<ChatReply> finish(const std::string& raw, size_t events_seen) override {
    if (events_seen == 0) return from_plain_json(raw);
    if (!stopped_) return malformed("the stream ended before message_stop");
    if (reply_.stop_reason == "max_tokens") {
      return Error(ErrorCode::invalid_config, "the model's reply was cut off at its token limit",
                   "raise llm.max_tokens, or ask a narrower question");
    }
    for (auto& [index, b] : blocks_) {
      if (b.type != "tool_use") continue;
      if (!b.stopped) return malformed("tool_use block " + std::to_string(index) + " was not closed");
      ToolCall call;
      call.id = b.id;
      auto it = names_.find(b.name);
      call.name = it != names_.end() ? it->second : b.name;
      call.arguments = b.json.empty() ? json::object() : json::parse(b.json, nullptr, false);
      if (call.arguments.is_discarded()) return malformed("the input of tool_use " + b.name + " is not JSON");
      reply_.tool_calls.push_back(std::move(call));
    }
    return reply_;
  }

 private:
  Result<ChatReply> from_plain_json(const std::string& raw) {
    json body = json::parse(raw, nullptr, false);
    if (body.is_discarded() || !body.is_object() || !body.contains("content") || !body["content"].is_array()) {
      return malformed(raw.empty() ? "the reply was empty" : "the reply is neither an event stream nor a message");
    }
    int index = 0;
    for (const auto& block : body["content"]) {
      auto& b = blocks_[index++];
      b.type = block.value("type", std::string());
      b.stopped = true;
      if (b.type == "text") {
        const auto text = block.value("text", std::string());
        reply_.text += text;
        emit_text(hooks_, text);
      } else if (b.type == "tool_use") {
        b.id = block.value("id", std::string());
        b.name = block.value("name", std::string());
        b.json = block.contains("input") ? block["input"].dump() : "{}";
      }
    }
    reply_.stop_reason = body.value("stop_reason", std::string("end_turn"));
    started_ = stopped_ = true;
    return finish("", 1);
  }

  struct Block {
    std::string type;
    std::string id;
    std::string name;
    std::string json;
    bool stopped = false;
  };
  const ChatHooks& hooks_;
  std::map<std::string, std::string> names_;
  ChatReply reply_;
  std::map<int, Block> blocks_;
  bool started_ = false;
  bool stopped_ = false;
};

// Messages alternate user/assistant; tool results are user content blocks. Consecutive messages of
// the same side are merged into one.
json to_wire_messages(const std::vector<Message>& messages) {
  json out = json::array();
  for (const auto& m : messages) {
    const std::string role = m.role == Role::assistant ? "assistant" : "user";
    json blocks = json::array();
    if (m.role == Role::tool) {
      blocks.push_back({{"type", "tool_result"},
                        {"tool_use_id", m.tool_call_id},
                        {"content", m.text.empty() ? std::string("(empty)") : m.text},
                        {"is_error", m.is_error}});
    } else {
      if (!m.text.empty()) blocks.push_back({{"type", "text"}, {"text", m.text}});
      for (const auto& c : m.tool_calls) {
        blocks.push_back(
            {{"type", "tool_use"}, {"id", c.id}, {"name", wire_tool_name(c.name)}, {"input", c.arguments}});
      }
    }
    if (blocks.empty()) continue;
    if (!out.empty() && out.back()["role"] == role) {
      auto& content = out.back()["content"];
      // Tool results must come first in a user message.
      if (m.role == Role::tool) {
        size_t pos = 0;
        while (pos < content.size() && content[pos]["type"] == "tool_result") ++pos;
        content.insert(content.begin() + static_cast<std::ptrdiff_t>(pos), blocks[0]);
      } else {
        for (auto& b : blocks) content.push_back(std::move(b));
      }
    } else {
      out.push_back({{"role", role}, {"content", blocks}});
    }
  }
  return out;
}

std::string endpoint(const std::string& base) {
  std::string url = base;
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (url.size() >= 9 && url.compare(url.size() - 9, 9, "/messages") == 0) return url;
  if (url.size() >= 3 && url.compare(url.size() - 3, 3, "/v1") == 0) return url + "/messages";
  return url + "/v1/messages";
}

class AnthropicProvider final : public Provider {
 public:
  AnthropicProvider(ProviderOptions options, std::string key) : options_(std::move(options)), key_(std::move(key)) {
    if (options_.model.empty()) options_.model = default_model("anthropic");
    if (options_.base_url.empty()) options_.base_url = default_base_url("anthropic");
    if (options_.api_key_env.empty()) options_.api_key_env = default_api_key_env("anthropic");
    name_ = "anthropic";
  }
  const std::string& name() const override { return name_; }
  const std::string& model() const override { return options_.model; }

  Result<ChatReply> chat(const ChatRequest& request, const ChatHooks& hooks,
                         const std::shared_ptr<CancelToken>& cancel) override {
    json body{{"model", options_.model},
              {"max_tokens", options_.max_tokens},
              {"messages", to_wire_messages(request.messages)},
              {"stream", true}};
    if (!request.system.empty()) body["system"] = request.system;
    if (!request.tools.empty()) {
      json tools = json::array();
      for (const auto& t : request.tools) {
        tools.push_back(
            {{"name", wire_tool_name(t.name)}, {"description", t.description}, {"input_schema", t.parameters}});
      }
      body["tools"] = tools;
      body["tool_choice"] = {{"type", request.tool_choice == ToolChoice::none ? "none" : "auto"}};
    }
    DriverSpec spec = streaming_spec(options_, name_, key_, endpoint(options_.base_url),
                                     body.dump(-1, ' ', false, json::error_handler_t::replace));
    spec.http.headers.emplace_back("anthropic-version", kApiVersion);
    if (!key_.empty()) spec.http.headers.emplace_back("x-api-key", key_);
    auto names = wire_names(request.tools);
    spec.make_decoder = [&hooks, names] { return std::make_unique<AnthropicDecoder>(hooks, names); };
    spec.error_message = [](const std::string& raw) -> std::string {
      json b = json::parse(raw, nullptr, false);
      if (b.is_discarded() || !b.is_object()) return {};
      if (b.contains("error") && b["error"].is_object()) {
        const auto type = b["error"].value("type", std::string());
        const auto msg = b["error"].value("message", std::string());
        return type.empty() ? msg : type + ": " + msg;
      }
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

std::unique_ptr<Provider> make_anthropic(const ProviderOptions& options, std::string key) {
  return std::make_unique<AnthropicProvider>(options, std::move(key));
}

}  // namespace pluto::agent::llm
