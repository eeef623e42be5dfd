#include "pluto/agent/llm/http.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <ctime>
#include <mutex>

namespace pluto::agent::llm {
namespace {

constexpr size_t kMaxErrorBody = 64 * 1024;

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Transfer {
  const std::function<bool(std::string_view)>* on_body = nullptr;
  CURL* easy = nullptr;
  HttpResponse* response = nullptr;
  bool aborted = false;
};

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  std::string_view line(data, n);
  if (line.rfind("HTTP/", 0) == 0) {
    t->response->headers.clear();  // a new response (e.g. after 100 Continue)
    return n;
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
    value.remove_suffix(1);
  t->response->headers[name] = std::string(value);
  return n;
}

size_t on_write(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  long status = 0;
  curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
  t->response->status = status;
  if (status < 200 || status >= 300) {
    auto& body = t->response->error_body;
    body.append(data, std::min(n, kMaxErrorBody - std::min(kMaxErrorBody, body.size())));
    return n;
  }
  t->response->delivered = true;
  if (!(*t->on_body)(std::string_view(data, n))) {
    t->aborted = true;
    return 0;  // makes curl stop with CURLE_WRITE_ERROR
  }
  return n;
}

bool is_loopback_url(const std::string& url) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) return false;
  const auto host = url.substr(scheme + 3, url.find_first_of(":/", scheme + 3) - (scheme + 3));
  return host == "127.0.0.1" || host == "localhost" || host == "[::1]";
}

}  // namespace

HttpResponse http_post_stream(const HttpRequest& request, const std::function<bool(std::string_view)>& on_body,
                              const std::shared_ptr<CancelToken>& cancel) {
  global_init();
  HttpResponse response;
  CURL* easy = curl_easy_init();
  CURLM* multi = curl_multi_init();
  if (easy == nullptr || multi == nullptr) {
    if (easy != nullptr) curl_easy_cleanup(easy);
    if (multi != nullptr) curl_multi_cleanup(multi);
    response.failure = TransportFailure::connect;
    response.failure_text = "cannot initialise libcurl";
    return response;
  }
  Transfer t{&on_body, easy, &response};
  curl_slist* headers = nullptr;
  for (const auto& [k, v] : request.headers) headers = curl_slist_append(headers, (k + ": " + v).c_str());

  curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(easy, CURLOPT_POST, 1L);
  curl_easy_setopt(easy, CURLOPT_POSTFIELDS, request.body.data());
  curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connect_timeout.count()));
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(request.total_timeout.count()));
  // "Idle": fewer than 1 byte/s for idle_timeout seconds.
  curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME,
                   std::max(1L, static_cast<long>((request.idle_timeout.count() + 999) / 1000)));
  curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
  // A local model server is reached directly even when a proxy is configured for the internet.
  if (is_loopback_url(request.url)) curl_easy_setopt(easy, CURLOPT_NOPROXY, "*");
  curl_multi_add_handle(multi, easy);

  int running = 1;
  bool cancelled = false;
  while (running != 0) {
    if (curl_multi_perform(multi, &running) != CURLM_OK) break;
    if (running == 0) break;
    if (cancel && cancel->cancelled()) {
      cancelled = true;
      break;
    }
    // Wakes at least every 100 ms so a cancel is noticed promptly.
    curl_multi_poll(multi, nullptr, 0, 100, nullptr);
  }
  CURLcode code = CURLE_OK;
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
    if (msg->msg == CURLMSG_DONE) code = msg->data.result;
  }
  long status = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  if (status != 0) response.status = status;
  curl_multi_remove_handle(multi, easy);
  curl_easy_cleanup(easy);
  curl_multi_cleanup(multi);
  curl_slist_free_all(headers);

  if (cancelled) {
    response.failure = TransportFailure::cancelled;
    response.failure_text = "cancelled";
  } else if (t.aborted) {
    response.failure = TransportFailure::aborted;
    response.failure_text = "stopped reading the reply";
  } else if (code != CURLE_OK) {
    response.failure_text = curl_easy_strerror(code);
    switch (code) {
      case CURLE_COULDNT_CONNECT:
      case CURLE_COULDNT_RESOLVE_HOST:
      case CURLE_COULDNT_RESOLVE_PROXY:
      case CURLE_SSL_CONNECT_ERROR: response.failure = TransportFailure::connect; break;
      case CURLE_OPERATION_TIMEDOUT: response.failure = TransportFailure::timeout; break;
      default: response.failure = TransportFailure::broken; break;
    }
  }
  return response;
}

std::vector<SseEvent> SseParser::feed(std::string_view bytes) {
  std::vector<SseEvent> out;
  buffer_.append(bytes);
  size_t start = 0;
  while (true) {
    const auto nl = buffer_.find_first_of("\r\n", start);
    if (nl == std::string::npos) break;
    // A CR at the very end may be the first half of CRLF: wait for the next byte.
    if (buffer_[nl] == '\r' && nl + 1 == buffer_.size()) break;
    line(std::string_view(buffer_).substr(start, nl - start), out);
    start = nl + ((buffer_[nl] == '\r' && buffer_[nl + 1] == '\n') ? 2 : 1);
  }
  buffer_.erase(0, start);
  return out;
}

void SseParser::line(std::string_view l, std::vector<SseEvent>& out) {
  if (l.empty()) {
    if (has_data_) {
      ++events_seen_;
      out.push_back(std::move(current_));
    }
    current_ = SseEvent{};
    has_data_ = false;
    return;
  }
  if (l.front() == ':') return;  // comment / keep-alive
  const auto colon = l.find(':');
  std::string_view field = l.substr(0, colon);
  std::string_view value = colon == std::string_view::npos ? std::string_view() : l.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (field == "event") {
    current_.event = std::string(value);
  } else if (field == "data") {
    if (has_data_) current_.data += '\n';
    current_.data.append(value);
    has_data_ = true;
  }
}

bool SseParser::has_partial() const {
  return has_data_ || buffer_.find_first_not_of(" \t\r\n") != std::string::npos;
}

std::string redact(std::string text, const std::string& secret) {
  if (secret.size() < 4) return text;  // too short to be a real key; replacing would garble text
  size_t pos = 0;
  while ((pos = text.find(secret, pos)) != std::string::npos) {
    text.replace(pos, secret.size(), "[redacted]");
    pos += 10;
  }
  return text;
}

int64_t retry_after_ms(const std::map<std::string, std::string>& headers) {
  if (auto it = headers.find("retry-after-ms"); it != headers.end()) {
    char* end = nullptr;
    const double v = std::strtod(it->second.c_str(), &end);
    if (end != it->second.c_str() && v >= 0) return static_cast<int64_t>(v);
  }
  auto it = headers.find("retry-after");
  if (it == headers.end()) return -1;
  char* end = nullptr;
  const double seconds = std::strtod(it->second.c_str(), &end);
  if (end != it->second.c_str() && *end == '\0' && seconds >= 0) return static_cast<int64_t>(seconds * 1000);
  const time_t when = curl_getdate(it->second.c_str(), nullptr);
  if (when < 0) return -1;
  const time_t now = std::time(nullptr);
  return when > now ? static_cast<int64_t>(when - now) * 1000 : 0;
}

}  // namespace pluto::agent::llm
