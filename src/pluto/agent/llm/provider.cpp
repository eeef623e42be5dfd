#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <random>
#include <thread>

#include "pluto/agent/llm/driver.hpp"
#include "pluto/core/log.hpp"

namespace pluto::agent::llm {

using nlohmann::json;

namespace {

std::string_view role_name(Role r) {
  switch (r) {
    case Role::user: return "user";
    case Role::assistant: return "assistant";
    case Role::tool: return "tool";
  }
  return "user";
}

Role parse_role(const std::string& s) {
  if (s == "assistant") return Role::assistant;
  if (s == "tool") return Role::tool;
  return Role::user;
}

// Sleeps `ms`, waking early (false) when the token is cancelled.
bool sleep_unless_cancelled(int64_t ms, const std::shared_ptr<CancelToken>& cancel) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < until) {
    if (cancel && cancel->cancelled()) return false;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        std::chrono::milliseconds(20), until - std::chrono::steady_clock::now()));
  }
  return !(cancel && cancel->cancelled());
}

int64_t backoff_ms(const ProviderOptions& o, int attempt) {
  static thread_local std::mt19937 rng{std::random_device{}()};
  const int64_t base = o.retry_backoff.count() << std::min(attempt - 1, 16);
  // Up to 20% jitter so that many clients do not retry in lockstep.
  std::uniform_int_distribution<int64_t> jitter(0, std::max<int64_t>(0, base / 5));
  return base + jitter(rng);
}

std::string shorten(std::string s, size_t n = 400) {
  if (s.size() > n) s = s.substr(0, n) + "…";
  return s;
}

struct Failure {
  Error error;
  bool retryable = false;
  int64_t wait_ms = -1;  // from retry-after
  std::string reason;    // short, for the retry notice
};

}  // namespace

json Message::to_json() const {
  json j{{"role", role_name(role)}, {"text", text}};
  if (!tool_calls.empty()) {
    json calls = json::array();
    for (const auto& c : tool_calls) calls.push_back({{"id", c.id}, {"name", c.name}, {"arguments", c.arguments}});
    j["tool_calls"] = calls;
  }
  if (!tool_call_id.empty()) j["tool_call_id"] = tool_call_id;
  if (is_error) j["is_error"] = true;
  return j;
}

Message Message::from_json(const json& j) {
  Message m;
  m.role = parse_role(j.value("role", std::string("user")));
  m.text = j.value("text", std::string());
  if (j.contains("tool_calls") && j["tool_calls"].is_array()) {
    for (const auto& c : j["tool_calls"]) {
      m.tool_calls.push_back({c.value("id", std::string()), c.value("name", std::string()),
                              c.contains("arguments") ? c["arguments"] : json::object()});
    }
  }
  m.tool_call_id = j.value("tool_call_id", std::string());
  m.is_error = j.value("is_error", false);
  return m;
}

std::string default_model(std::string_view provider) {
  if (provider == "anthropic") return "claude-sonnet-4-5";
  return "gpt-4o-mini";
}

std::string default_base_url(std::string_view provider) {
  if (provider == "anthropic") return "https://api.anthropic.com";
  return "https://api.openai.com/v1";
}

std::string default_api_key_env(std::string_view provider) {
  if (provider == "anthropic") return "ANTHROPIC_API_KEY";
  return "OPENAI_API_KEY";
}

std::string wire_tool_name(std::string_view name) {
  std::string out;
  for (char c : name) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
    out += ok ? c : '_';
  }
  return out.substr(0, 64);
}

std::map<std::string, std::string> wire_names(const std::vector<ToolSpec>& tools) {
  std::map<std::string, std::string> m;
  for (const auto& t : tools) m[wire_tool_name(t.name)] = t.name;
  return m;
}

Result<std::unique_ptr<Provider>> make_provider(const ProviderOptions& options) {
  if (options.provider != "openai" && options.provider != "anthropic") {
    return Error(ErrorCode::invalid_config, "unknown LLM provider '" + options.provider + "'",
                 "use offline (the default, no network), openai (any OpenAI-compatible server) or anthropic");
  }
  const std::string env = options.api_key_env.empty() ? default_api_key_env(options.provider) : options.api_key_env;
  std::optional<std::string> key;
  if (options.getenv) {
    key = options.getenv(env);
  } else if (const char* v = std::getenv(env.c_str()); v != nullptr) {
    key = std::string(v);
  }
  const bool public_endpoint = options.base_url.empty() || options.base_url == default_base_url(options.provider);
  if ((!key || key->empty()) && public_endpoint) {
    return Error(
        ErrorCode::unauthenticated,
        "no API key for the " + options.provider + " provider: the environment variable " + env + " is not set",
        "export " + env +
            "=… (or name another variable with llm.api_key_env), point llm.base_url at a "
            "local server, or use --provider offline");
  }
  if (options.provider == "anthropic") return make_anthropic(options, key.value_or(""));
  return make_openai(options, key.value_or(""));
}

Result<ChatReply> run_chat(const ProviderOptions& options, const DriverSpec& spec, const ChatHooks& hooks,
                           const std::shared_ptr<CancelToken>& cancel) {
  const int attempts = std::max(0, options.max_retries) + 1;
  const std::string where = spec.provider + " at " + redact(spec.http.url, spec.key);
  for (int attempt = 1;; ++attempt) {
    auto decoder = spec.make_decoder();
    SseParser parser;
    std::string raw;  // kept for servers that answer with plain JSON instead of SSE
    std::optional<Error> stream_error;
    const auto started = std::chrono::steady_clock::now();
    HttpResponse resp = http_post_stream(
        spec.http,
        [&](std::string_view bytes) {
          if (raw.size() < (8U << 20U)) raw.append(bytes);
          for (const auto& ev : parser.feed(bytes)) {
            if (auto st = decoder->on_event(ev); !st.ok()) {
              stream_error = st.take_error();
              return false;
            }
          }
          return true;
        },
        cancel);
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
    log::info("llm request", {{"provider", spec.provider},
                              {"model", options.model},
                              {"attempt", attempt},
                              {"status", static_cast<int64_t>(resp.status)},
                              {"duration_ms", static_cast<int64_t>(ms)}});
    if (resp.failure == TransportFailure::cancelled || (cancel && cancel->cancelled())) {
      return Error(ErrorCode::cancelled, "the request to " + where + " was cancelled");
    }

    Failure f;
    if (resp.status == 0) {
      const auto text = redact(resp.failure_text, spec.key);
      if (resp.failure == TransportFailure::timeout) {
        f = {Error(ErrorCode::timed_out, "the request to " + where + " timed out (" + text + ")",
                   "raise llm.timeout_seconds, or check that the server is responding"),
             true, -1, "timed out"};
      } else {
        f = {Error(ErrorCode::unavailable, "cannot reach " + where + ": " + text,
                   "check llm.base_url and that the server is running"),
             true, -1, "cannot connect"};
      }
    } else if (resp.status < 200 || resp.status >= 300) {
      std::string msg = spec.error_message ? spec.error_message(resp.error_body) : std::string();
      if (msg.empty()) msg = shorten(resp.error_body);
      msg = redact(msg, spec.key);
      const std::string status = "HTTP " + std::to_string(resp.status);
      if (resp.status == 401 || resp.status == 403) {
        f = {Error(ErrorCode::unauthenticated, spec.provider + " rejected the request (" + status + "): " + msg,
                   "check the API key in the environment variable " + spec.key_env + " (llm.api_key_env)"),
             false, -1, status};
      } else if (resp.status == 429) {
        f = {Error(ErrorCode::unavailable, spec.provider + " is rate limiting requests (" + status + "): " + msg,
                   "wait and ask again, or raise the provider's limits"),
             true, retry_after_ms(resp.headers), status + " (rate limited)"};
      } else if (resp.status == 408 || resp.status >= 500) {
        f = {Error(ErrorCode::unavailable, spec.provider + " failed to answer (" + status + "): " + msg,
                   "the provider has a problem; try again later"),
             true, retry_after_ms(resp.headers), status};
      } else if (resp.status == 404) {
        f = {Error(ErrorCode::invalid_config,
                   spec.provider + " does not know this model or endpoint (" + status + "): " + msg,
                   "check llm.model (--model) and llm.base_url (--base-url)"),
             false, -1, status};
      } else {
        f = {Error(ErrorCode::invalid_config, spec.provider + " refused the request (" + status + "): " + msg,
                   "check llm.model and llm.base_url; the server may not support tool calls or streaming"),
             false, -1, status};
      }
    } else if (stream_error) {
      stream_error->message = redact(stream_error->message, spec.key);
      f = {*stream_error, !decoder->emitted_text(), -1, "malformed reply"};
    } else if (resp.failure != TransportFailure::none) {
      f = {Error(ErrorCode::unavailable,
                 "the reply from " + where + " broke off (" + redact(resp.failure_text, spec.key) + ")",
                 "try again; check the server's logs if it keeps happening"),
           !decoder->emitted_text(), -1, "reply broke off"};
    } else {
      if (parser.has_partial()) {
        for (const auto& ev : parser.feed("\n\n")) {
          if (auto st = decoder->on_event(ev); !st.ok()) stream_error = st.take_error();
        }
      }
      auto reply = stream_error ? Result<ChatReply>(*stream_error) : decoder->finish(raw, parser.events_seen());
      if (reply.ok()) return reply;
      Error e = reply.take_error();
      e.message = redact(e.message, spec.key);
      // Incomplete or malformed output: worth another try unless text already went out.
      f = {e, !decoder->emitted_text() && e.code == ErrorCode::unavailable, -1, "incomplete reply"};
    }

    if (!f.retryable || attempt >= attempts) {
      if (attempt > 1) f.error.message += " (after " + std::to_string(attempt) + " attempts)";
      return f.error;
    }
    int64_t wait = f.wait_ms >= 0 ? f.wait_ms : backoff_ms(options, attempt);
    if (wait > options.max_retry_wait.count()) {
      f.error.message +=
          "; it asks to wait " + std::to_string((wait + 999) / 1000) + " s, more than llm.max_retry_wait_seconds";
      return f.error;
    }
    if (hooks.on_retry) hooks.on_retry(RetryNotice{attempt, wait, f.reason});
    log::warn("llm request failed, retrying",
              {{"provider", spec.provider}, {"attempt", attempt}, {"wait_ms", wait}, {"reason", f.reason}});
    if (!sleep_unless_cancelled(wait, cancel)) {
      return Error(ErrorCode::cancelled, "the request to " + where + " was cancelled");
    }
  }
}

}  // namespace pluto::agent::llm
