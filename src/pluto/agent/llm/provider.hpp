#pragma once
// Chat models behind one interface: streaming text, tool calls, retries. `openai` speaks the
// OpenAI-compatible chat-completions API (OpenAI, Ollama, llama.cpp's server, vLLM, LM Studio);
// `anthropic` speaks the Messages API. Both stream (SSE) and retry 429 (honouring retry-after),
// 5xx and timeouts with backoff. API keys are read from the environment when a request is built and
// never appear in logs, events or errors.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pluto/core/cancel.hpp"
#include "pluto/core/error.hpp"

namespace pluto::agent::llm {

enum class Role { user, assistant, tool };

struct ToolCall {
  std::string id;
  std::string name;  // our name (catalog entry, e.g. "table.describe"); mapped to the wire name by providers
  nlohmann::json arguments = nlohmann::json::object();
};

// One message of a provider-neutral transcript (the system prompt is separate).
struct Message {
  Role role = Role::user;
  std::string text;
  std::vector<ToolCall> tool_calls;  // assistant messages
  std::string tool_call_id;          // tool messages: the call answered
  bool is_error = false;             // tool messages: the call failed

  nlohmann::json to_json() const;
  static Message from_json(const nlohmann::json& j);
};

struct ToolSpec {
  std::string name;  // our name; providers turn dots into underscores on the wire
  std::string description;
  nlohmann::json parameters = nlohmann::json::object();  // JSON Schema of the arguments
};

enum class ToolChoice { automatic, none };

struct ChatRequest {
  std::string system;
  std::vector<Message> messages;
  std::vector<ToolSpec> tools;
  ToolChoice tool_choice = ToolChoice::automatic;
};

struct ChatReply {
  std::string text;
  std::vector<ToolCall> tool_calls;
  std::string stop_reason;  // provider's words: "stop", "tool_calls", "end_turn", "tool_use"…
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
};

struct RetryNotice {
  int attempt = 0;      // the attempt that failed (1-based)
  int64_t wait_ms = 0;  // how long before the next one
  std::string reason;   // "HTTP 429 (rate limited)", "timed out"… (never a key)
};

struct ChatHooks {
  std::function<void(std::string_view delta)> on_text;  // streamed text, in order
  std::function<void(const RetryNotice&)> on_retry;
};

struct ProviderOptions {
  std::string provider;     // "openai" or "anthropic"
  std::string model;        // empty: the provider's default
  std::string base_url;     // empty: the provider's public endpoint
  std::string api_key_env;  // empty: OPENAI_API_KEY / ANTHROPIC_API_KEY
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds request_timeout{120000};  // whole request, streaming included
  std::chrono::milliseconds idle_timeout{60000};      // no bytes for this long: timed out
  int max_retries = 3;
  std::chrono::milliseconds retry_backoff{500};     // first wait; doubles each retry
  std::chrono::milliseconds max_retry_wait{60000};  // a longer retry-after fails instead of waiting
  int64_t max_tokens = 2048;
  // Environment lookup (tests inject); defaults to getenv.
  std::function<std::optional<std::string>(const std::string&)> getenv;
};

class Provider {
 public:
  virtual ~Provider() = default;
  virtual const std::string& name() const = 0;
  virtual const std::string& model() const = 0;
  // One model turn. Text deltas go to hooks.on_text as they arrive. Cancelling the token aborts the
  // request promptly (ErrorCode::cancelled).
  virtual Result<ChatReply> chat(const ChatRequest& request, const ChatHooks& hooks,
                                 const std::shared_ptr<CancelToken>& cancel) = 0;
};

// Builds the `openai` or `anthropic` provider. invalid_config for another name; unauthenticated when
// the public endpoint is used and its key variable is not set.
Result<std::unique_ptr<Provider>> make_provider(const ProviderOptions& options);

std::string default_model(std::string_view provider);
std::string default_base_url(std::string_view provider);
std::string default_api_key_env(std::string_view provider);

// Tool names on the wire: providers allow [A-Za-z0-9_-] only, so "table.describe" -> "table_describe".
std::string wire_tool_name(std::string_view name);

}  // namespace pluto::agent::llm
