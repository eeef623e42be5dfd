#pragma once
// Route registration shared by route files: each route is declared once with its OpenAPI
// description, so /openapi.json is generated from the same table that serves requests.
#include <httplib.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "pluto/core/error.hpp"

namespace pluto::api {

struct RouteDoc {
  RouteDoc(std::string s, nlohmann::json body = nullptr, nlohmann::json params = nlohmann::json::array(),
           std::vector<int> codes = {200}, std::string content_type = "application/json")
      : summary(std::move(s)),
        request_body(std::move(body)),
        parameters(std::move(params)),
        statuses(std::move(codes)),
        produces(std::move(content_type)) {}
  std::string summary;
  nlohmann::json request_body;  // JSON Schema of the body, or null
  nlohmann::json parameters;    // OpenAPI parameter objects (query/header)
  std::vector<int> statuses;
  std::string produces;
};

struct Route {
  std::string method;  // GET, POST, DELETE
  std::string path;    // OpenAPI style: /api/v1/query/{run_id}
  RouteDoc doc;
};

using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

class Router {
 public:
  explicit Router(httplib::Server& server) : server_(server) {}
  void get(const std::string& path, RouteDoc doc, Handler h) { add("GET", path, std::move(doc), std::move(h)); }
  void post(const std::string& path, RouteDoc doc, Handler h) { add("POST", path, std::move(doc), std::move(h)); }
  void del(const std::string& path, RouteDoc doc, Handler h) { add("DELETE", path, std::move(doc), std::move(h)); }
  const std::vector<Route>& routes() const { return routes_; }
  nlohmann::json openapi(const std::string& version) const;
  // The methods routed for this concrete path ("GET, POST"), empty when none (for 405 + Allow).
  std::string allowed_methods(const std::string& path) const;
  // Runs the route of a request whose body is empty by definition (no Content-Length, no chunks:
  // `curl -X POST URL`), which httplib would otherwise wait on until its read timeout. False when no
  // route matches.
  bool dispatch_without_body(const httplib::Request& req, httplib::Response& res) const;

 private:
  void add(const std::string& method, const std::string& path, RouteDoc doc, Handler h);
  httplib::Server& server_;
  std::vector<Route> routes_;
  std::vector<std::regex> patterns_;  // one per route
  std::vector<Handler> handlers_;     // one per route
};

// ---- helpers for route files ----
int http_status(ErrorCode code);
// {"error":{"code","message","hint"}} with the mapped status.
void send_error(httplib::Response& res, const Error& e);
void send_json(httplib::Response& res, const nlohmann::json& body, int status = 200);
void send_raw_json(httplib::Response& res, const std::string& body, int status = 200);
// Parses the body as a JSON object (400 with a clear message otherwise).
Result<nlohmann::json> json_body(const httplib::Request& req);
// Typed access to optional body fields, with errors naming the field.
Result<std::optional<std::string>> opt_string(const nlohmann::json& body, const std::string& key);
Result<std::optional<int64_t>> opt_int(const nlohmann::json& body, const std::string& key);
Result<std::optional<bool>> opt_bool(const nlohmann::json& body, const std::string& key);
Result<std::optional<int64_t>> query_int(const httplib::Request& req, const std::string& key);
// Streams an event stream as SSE (Last-Event-ID header or ?last_event_id resumes after that id).
class SseSource;

}  // namespace pluto::api
