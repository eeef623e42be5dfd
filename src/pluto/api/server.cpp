#include "pluto/api/server.hpp"

#include <arpa/inet.h>
#include <openssl/crypto.h>

#include <atomic>

#include "pluto/api/routes.hpp"
#include "pluto/core/log.hpp"
#include "pluto/events/event_bus.hpp"

namespace pluto::api {
namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Splits "host:port" / "[::1]:port" into host and port ("" when absent).
std::pair<std::string, std::string> split_host_port(const std::string& hp) {
  if (!hp.empty() && hp.front() == '[') {
    const auto close = hp.find(']');
    if (close == std::string::npos) return {hp, ""};
    const std::string host = hp.substr(1, close - 1);
    const std::string port = close + 2 <= hp.size() && hp[close + 1] == ':' ? hp.substr(close + 2) : "";
    return {host, port};
  }
  const auto colon = hp.rfind(':');
  if (colon == std::string::npos || hp.find(':') != colon) return {hp, ""};
  return {hp.substr(0, colon), hp.substr(colon + 1)};
}

bool tokens_equal(const std::string& a, const std::string& b) {
  // Constant time: compare equal-length digests of both, never the raw prefix.
  if (a.size() != b.size()) {
    (void)CRYPTO_memcmp(a.data(), a.data(), a.size());
    return false;
  }
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

bool is_loopback_host(const std::string& host) {
  const std::string h = lower(host);
  if (h == "localhost" || h == "::1" || h == "[::1]") return true;
  in_addr addr{};
  if (inet_pton(AF_INET, h.c_str(), &addr) == 1) return (ntohl(addr.s_addr) >> 24U) == 127U;
  return false;
}

struct Server::Impl {
  ServerOptions options;
  Services services;
  httplib::Server http;
  std::unique_ptr<Router> router;
  int bound_port = 0;
  socket_t listen_socket = INVALID_SOCKET;
  std::atomic<bool> stopped{false};

  Impl(ServerOptions o, Services s) : options(std::move(o)), services(std::move(s)) {}

  // Host must name this server (DNS-rebinding protection); Origin, when sent, must be this server.
  bool host_allowed(const std::string& host_header) const {
    auto [host, port] = split_host_port(host_header);
    if (!port.empty() && port != std::to_string(bound_port)) return false;
    if (is_loopback_host(host)) return true;
    // Off loopback (a token is then required) the configured host name is accepted too.
    return !is_loopback_host(options.host) &&
           (lower(host) == lower(options.host) || options.host == "0.0.0.0" || options.host == "::");
  }
  bool origin_allowed(const std::string& origin) const {
    for (const auto& [scheme, default_port] : {std::pair{"http://", "80"}, std::pair{"https://", "443"}}) {
      if (origin.rfind(scheme, 0) != 0) continue;
      const std::string authority = origin.substr(std::string(scheme).size());
      // An Origin without a port means the scheme's default one: http://localhost is another site than
      // http://localhost:8123. (Off loopback a token guards the API and a proxy may front it.)
      const auto [host, port] = split_host_port(authority);
      return host_allowed(port.empty() && is_loopback_host(host) ? authority + ":" + default_port : authority);
    }
    return false;
  }

  // Refused before the body is read: close the connection so the unread body is never parsed as
  // the next request on it.
  static httplib::Server::HandlerResponse refuse(httplib::Response& res, const Error& e) {
    res.set_header("Connection", "close");
    send_error(res, e);
    return httplib::Server::HandlerResponse::Handled;
  }

  httplib::Server::HandlerResponse guard(const httplib::Request& req, httplib::Response& res) {
    const std::string host = req.get_header_value("Host");
    if (host.empty() || !host_allowed(host)) {
      return refuse(res, Error(ErrorCode::permission_denied, "requests for host '" + host + "' are not served here",
                               "use http://127.0.0.1:" + std::to_string(bound_port) + "/ (DNS-rebinding protection)"));
    }
    if (req.has_header("Origin") && !origin_allowed(req.get_header_value("Origin"))) {
      return refuse(res, Error(ErrorCode::permission_denied,
                               "cross-site request from origin '" + req.get_header_value("Origin") + "' refused",
                               "the API only answers pages served by this server"));
    }
    // Only the web UI's static files are served without the token (the OpenAPI document needs it).
    const bool static_file =
        (req.method == "GET" || req.method == "HEAD") && req.path.rfind("/api/", 0) != 0 && req.path != "/openapi.json";
    if (!options.api_token.empty() && !static_file) {
      const std::string auth = req.get_header_value("Authorization");
      const std::string prefix = "Bearer ";
      if (auth.rfind(prefix, 0) != 0 || !tokens_equal(auth.substr(prefix.size()), options.api_token)) {
        res.set_header("WWW-Authenticate", "Bearer");
        return refuse(res, Error(ErrorCode::unauthenticated, "missing or wrong API token",
                                 "send the header Authorization: Bearer <server.api_token>"));
      }
    }
    return httplib::Server::HandlerResponse::Unhandled;
  }
};

Result<std::unique_ptr<Server>> Server::create(ServerOptions options, Services services) {
  if (!is_loopback_host(options.host) && options.api_token.empty()) {
    return Error(ErrorCode::invalid_config,
                 "refusing to listen on " + options.host + " without an API token: anyone on the network could run SQL",
                 "set server.api_token (PLUTODUCK_SERVER__API_TOKEN), or listen on 127.0.0.1");
  }
  std::unique_ptr<Server> s(new Server());
  s->impl_ = std::make_unique<Impl>(std::move(options), std::move(services));
  auto& impl = *s->impl_;
  auto& http = impl.http;
  const int threads = impl.options.threads;
  http.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  http.set_payload_max_length(impl.options.max_body_bytes);
  http.set_keep_alive_max_count(10000);
  http.set_tcp_nodelay(true);  // small JSON answers must not wait for delayed ACKs
  // On every answer: no MIME sniffing, never framed by another page (clickjacking), no referrer, and
  // the web UI's content policy (scripts, styles and requests only from this server).
  http.set_default_headers(
      {{"X-Content-Type-Options", "nosniff"},
       {"X-Frame-Options", "DENY"},
       {"Referrer-Policy", "no-referrer"},
       {"Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src "
        "'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"}});
  // Remember the listening socket: bind() widens its accept queue.
  http.set_socket_options([&impl](socket_t sock) {
    httplib::default_socket_options(sock);
    impl.listen_socket = sock;
  });
  http.set_pre_routing_handler([&impl](const httplib::Request& req, httplib::Response& res) {
    const auto verdict = impl.guard(req, res);
    if (verdict == httplib::Server::HandlerResponse::Handled) return verdict;
    // A POST with no Content-Length and no chunks has an empty body (RFC 9112 §6.3).
    if ((req.method == "POST" || req.method == "DELETE") && !req.has_header("Content-Length") &&
        !req.has_header("Transfer-Encoding") && impl.router && impl.router->dispatch_without_body(req, res)) {
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  http.set_error_handler([&impl](const httplib::Request& req, httplib::Response& res) {
    // Turn httplib's own errors (404 for unknown paths, 413, 400) into our error body.
    if (!res.body.empty() && res.get_header_value("Content-Type") == "application/json") return;
    // A known path asked with another method: 405 with the methods it has.
    if ((res.status == 404 || res.status == 400) && impl.router) {
      if (const auto allow = impl.router->allowed_methods(req.path);
          !allow.empty() && allow.find(req.method) == std::string::npos) {
        nlohmann::json body{{"error",
                             {{"code", "method_not_allowed"},
                              {"message", req.method + " is not allowed on " + req.path},
                              {"hint", "use " + allow + " (GET /openapi.json lists the API)"}}}};
        send_json(res, body, 405);
        res.set_header("Allow", allow);
        return;
      }
    }
    switch (res.status) {
      case 404:
        send_error(res, Error(ErrorCode::not_found, "no route for " + req.method + " " + req.path,
                              "GET /openapi.json lists the API"));
        break;
      case 413:
        send_error(res, Error(ErrorCode::too_large, "request body over the limit of " +
                                                        std::to_string(impl.options.max_body_bytes) + " bytes"));
        break;
      default:
        send_error(res, Error(res.status >= 500 ? ErrorCode::internal : ErrorCode::invalid_argument,
                              "request failed with HTTP " + std::to_string(res.status)));
    }
  });
  http.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    log::debug("http", {{"method", req.method}, {"path", req.path}, {"status", res.status}});
  });

  impl.router = std::make_unique<Router>(http);
  auto& router = *impl.router;
  register_system_routes(router, impl.services, impl.options);
  register_query_routes(router, impl.services, impl.options);
  register_job_routes(router, impl.services, impl.options);
  register_catalog_routes(router, impl.services, impl.options);
#ifdef PLUTO_HAS_INGEST
  if (impl.services.ingest != nullptr) register_ingest_routes(router, impl.services, impl.options);
#endif
#ifdef PLUTO_HAS_TRANSFORM
  if (impl.services.dbt != nullptr) register_dbt_routes(router, impl.services, impl.options);
#endif
#ifdef PLUTO_HAS_AGENT
  if (impl.services.agent != nullptr) register_agent_routes(router, impl.services, impl.options);
#endif
  router.get("/openapi.json", {"This document"}, [&router](const httplib::Request&, httplib::Response& res) {
    send_json(res, router.openapi(PLUTO_VERSION));
  });
  if (!impl.options.web_root.empty()) {
    if (!http.set_mount_point("/", impl.options.web_root)) {
      log::warn("web UI folder not found; the API works without it", {{"path", impl.options.web_root}});
    }
  }
  return s;
}

Server::~Server() {
  stop();
}

Result<int> Server::bind() {
  auto& impl = *impl_;
  const int port = impl.options.port == 0
                       ? impl.http.bind_to_any_port(impl.options.host)
                       : (impl.http.bind_to_port(impl.options.host, impl.options.port) ? impl.options.port : -1);
  if (port < 0) {
    return Error(ErrorCode::unavailable,
                 "cannot listen on " + impl.options.host + ":" + std::to_string(impl.options.port) +
                     " (the port is in use or the address is not on this machine)",
                 "stop the other process or choose another port with --port / server.port");
  }
  impl.bound_port = port;
  // httplib listens with a backlog of 5: a burst of new connections (a browser opening a page, several
  // clients at once) overflows it, and each dropped SYN costs the client a 1 s retransmit.
  if (impl.listen_socket != INVALID_SOCKET) ::listen(impl.listen_socket, SOMAXCONN);
  return port;
}

Status Server::serve() {
  if (!impl_->http.listen_after_bind() && !impl_->stopped.load()) {
    return Error(ErrorCode::unavailable, "the HTTP server stopped unexpectedly");
  }
  return {};
}

void Server::stop() {
  if (!impl_ || impl_->stopped.exchange(true)) return;
  // Wake SSE readers so their threads return, then stop accepting.
  impl_->services.events.shutdown();
  impl_->http.stop();
}

int Server::port() const {
  return impl_->bound_port;
}

std::string Server::url() const {
  const std::string& h = impl_->options.host;
  const std::string shown = h == "0.0.0.0" ? "127.0.0.1" : (h.find(':') != std::string::npos ? "[" + h + "]" : h);
  return "http://" + shown + ":" + std::to_string(impl_->bound_port) + "/";
}

}  // namespace pluto::api
