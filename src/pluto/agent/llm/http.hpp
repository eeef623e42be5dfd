#pragma once
// HTTP for the LLM providers (libcurl): a streaming POST that hands the body to a callback as it
// arrives, with connect / total / idle timeouts and prompt cancellation; and a Server-Sent Events
// parser. Internal to agent/llm.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pluto/core/cancel.hpp"
#include "pluto/core/error.hpp"

namespace pluto::agent::llm {

struct HttpRequest {
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds total_timeout{120000};
  std::chrono::milliseconds idle_timeout{60000};
};

enum class TransportFailure { none, connect, timeout, broken, cancelled, aborted };

struct HttpResponse {
  long status = 0;                             // 0 when no response arrived
  std::map<std::string, std::string> headers;  // names lower case
  std::string error_body;                      // body of a non-2xx answer (capped)
  TransportFailure failure = TransportFailure::none;
  std::string failure_text;  // curl's words for a transport failure
  bool delivered = false;    // some 2xx body bytes reached the callback
};

// POSTs `request`. While the status is 2xx, body bytes go to `on_body` as they arrive; returning
// false from it aborts the transfer (failure = aborted). Never fails as a Result: transport
// problems are described in the response so callers can decide whether to retry.
HttpResponse http_post_stream(const HttpRequest& request, const std::function<bool(std::string_view)>& on_body,
                              const std::shared_ptr<CancelToken>& cancel);

struct SseEvent {
  std::string event;  // "event:" field; empty when absent
  std::string data;   // "data:" lines joined by '\n'
};

// Incremental SSE parser (https://html.spec.whatwg.org/multipage/server-sent-events.html): feed
// bytes in any chunking; complete events are returned in order.
class SseParser {
 public:
  std::vector<SseEvent> feed(std::string_view bytes);
  // Bytes of an unfinished event at the end of the stream (a truncated stream leaves some).
  bool has_partial() const;
  size_t events_seen() const { return events_seen_; }

 private:
  void line(std::string_view l, std::vector<SseEvent>& out);
  std::string buffer_;
  SseEvent current_;
  bool has_data_ = false;
  size_t events_seen_ = 0;
};

// Replaces every occurrence of `secret` in `text` (keys echoed back by a server never leak).
std::string redact(std::string text, const std::string& secret);

// Parses Retry-After (seconds or an HTTP date) / retry-after-ms into milliseconds; -1 if absent.
int64_t retry_after_ms(const std::map<std::string, std::string>& headers);

}  // namespace pluto::agent::llm
