#pragma once
// Internal to agent/llm: the request loop shared by the providers (streaming, classification of
// failures, retries with backoff, redaction of the key) and the per-provider stream decoders.
#include <map>
#include <memory>
#include <string>

#include "pluto/agent/llm/http.hpp"
#include "pluto/agent/llm/provider.hpp"

namespace pluto::agent::llm {

// Turns one provider's SSE stream into a ChatReply.
class StreamDecoder {
 public:
  virtual ~StreamDecoder() = default;
  // One SSE event; an Error means the stream is malformed (or carries an error event).
  virtual Status on_event(const SseEvent& event) = 0;
  // End of stream: the reply, or an error when it is incomplete. `raw` is the body when the
  // server answered without SSE (a plain JSON completion).
  virtual Result<ChatReply> finish(const std::string& raw, size_t events_seen) = 0;
  // True once text went to the caller: from then on a retry would repeat it.
  bool emitted_text() const { return emitted_text_; }

 protected:
  void emit_text(const ChatHooks& hooks, std::string_view delta) {
    if (delta.empty()) return;
    emitted_text_ = true;
    if (hooks.on_text) hooks.on_text(delta);
  }

 private:
  bool emitted_text_ = false;
};

struct DriverSpec {
  std::string provider;  // for messages
  std::string key;       // redacted from every message
  std::string key_env;   // named in hints
  HttpRequest http;
  std::function<std::unique_ptr<StreamDecoder>()> make_decoder;
  // The provider's words for an error body ({"error":{"message"}}…); empty when none.
  std::function<std::string(const std::string& body)> error_message;
};

// What every provider's streaming request shares: the key (redacted, named by its variable), a JSON
// body, SSE accepted, and the timeouts of `options`. The provider adds its auth header and decoder.
inline DriverSpec streaming_spec(const ProviderOptions& options, std::string provider, std::string key, std::string url,
                                 std::string body) {
  DriverSpec spec;
  spec.provider = std::move(provider);
  spec.key = std::move(key);
  spec.key_env = options.api_key_env;
  spec.http.url = std::move(url);
  spec.http.headers = {{"Content-Type", "application/json"}, {"Accept", "text/event-stream"}};
  spec.http.body = std::move(body);
  spec.http.connect_timeout = options.connect_timeout;
  spec.http.total_timeout = options.request_timeout;
  spec.http.idle_timeout = options.idle_timeout;
  return spec;
}

Result<ChatReply> run_chat(const ProviderOptions& options, const DriverSpec& spec, const ChatHooks& hooks,
                           const std::shared_ptr<CancelToken>& cancel);

// Reverse of wire_tool_name for the tools of one request.
std::map<std::string, std::string> wire_names(const std::vector<ToolSpec>& tools);

std::unique_ptr<Provider> make_openai(const ProviderOptions& options, std::string key);
std::unique_ptr<Provider> make_anthropic(const ProviderOptions& options, std::string key);

}  // namespace pluto::agent::llm
