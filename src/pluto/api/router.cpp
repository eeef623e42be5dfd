#include "pluto/api/router.hpp"

#include <regex>

namespace pluto::api {

int http_status(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_argument:
    case ErrorCode::invalid_config:
    case ErrorCode::sql_error: return 400;
    case ErrorCode::unauthenticated: return 401;
    case ErrorCode::permission_denied: return 403;
    case ErrorCode::not_found: return 404;
    case ErrorCode::conflict:
    case ErrorCode::cancelled: return 409;
    case ErrorCode::too_large: return 413;
    case ErrorCode::locked: return 423;
    case ErrorCode::internal: return 500;
    case ErrorCode::unavailable: return 503;
    case ErrorCode::timed_out: return 504;
  }
  return 500;
}

void send_json(httplib::Response& res, const nlohmann::json& body, int status) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

void send_raw_json(httplib::Response& res, const std::string& body, int status) {
  res.status = status;
  res.set_content(body, "application/json");
}

void send_error(httplib::Response& res, const Error& e) {
  send_json(res, {{"error", {{"code", to_string(e.code)}, {"message", e.message}, {"hint", e.hint}}}},
            http_status(e.code));
}

Result<nlohmann::json> json_body(const httplib::Request& req) {
  if (req.body.empty()) {
    return Error(ErrorCode::invalid_argument, "the request body is empty", "send a JSON object");
  }
  auto j = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return Error(ErrorCode::invalid_argument, "the request body is not valid JSON", "send a JSON object");
  }
  if (!j.is_object()) return Error(ErrorCode::invalid_argument, "the request body must be a JSON object");
  return j;
}

Result<std::optional<std::string>> opt_string(const nlohmann::json& body, const std::string& key) {
  if (!body.contains(key) || body[key].is_null()) return std::optional<std::string>();
  if (!body[key].is_string()) return Error(ErrorCode::invalid_argument, "field \"" + key + "\" must be a string");
  return std::optional<std::string>(body[key].get<std::string>());
}

Result<std::optional<int64_t>> opt_int(const nlohmann::json& body, const std::string& key) {
  if (!body.contains(key) || body[key].is_null()) return std::optional<int64_t>();
  if (!body[key].is_number_integer()) {
    return Error(ErrorCode::invalid_argument, "field \"" + key + "\" must be an integer");
  }
  return std::optional<int64_t>(body[key].get<int64_t>());
}

Result<std::optional<bool>> opt_bool(const nlohmann::json& body, const std::string& key) {
  if (!body.contains(key) || body[key].is_null()) return std::optional<bool>();
  if (!body[key].is_boolean()) return Error(ErrorCode::invalid_argument, "field \"" + key + "\" must be true or false");
  return std::optional<bool>(body[key].get<bool>());
}

Result<std::optional<int64_t>> query_int(const httplib::Request& req, const std::string& key) {
  if (!req.has_param(key)) return std::optional<int64_t>();
  const auto v = req.get_param_value(key);
  try {
    size_t used = 0;
    const int64_t n = std::stoll(v, &used);
    if (used != v.size()) throw std::invalid_argument(v);
    return std::optional<int64_t>(n);
  } catch (const std::exception&) {
    return Error(ErrorCode::invalid_argument, "query parameter " + key + " must be an integer, got '" + v + "'");
  }
}

void Router::add(const std::string& method, const std::string& path, RouteDoc doc, Handler h) {
  // /api/v1/query/{run_id} -> ^/api/v1/query/([^/]+)$ ; path parameters become matches[1..].
  static const std::regex param(R"(\{[^}]+\})");
  const std::string pattern = std::regex_replace(path, param, "([^/]+)");
  routes_.push_back({method, path, std::move(doc)});
  patterns_.emplace_back(pattern);
  auto wrapped = [h = std::move(h)](const httplib::Request& req, httplib::Response& res) {
    try {
      h(req, res);
    } catch (const std::exception& e) {
      send_error(res, Error(ErrorCode::internal, std::string("unexpected error: ") + e.what()));
    }
  };
  handlers_.push_back(wrapped);
  if (method == "GET") {
    server_.Get(pattern, wrapped);
  } else if (method == "POST") {
    server_.Post(pattern, wrapped);
  } else if (method == "DELETE") {
    server_.Delete(pattern, wrapped);
  }
}

std::string Router::allowed_methods(const std::string& path) const {
  std::string out;
  for (size_t i = 0; i < routes_.size(); ++i) {
    if (!std::regex_match(path, patterns_[i]) || out.find(routes_[i].method) != std::string::npos) continue;
    out += (out.empty() ? "" : ", ") + routes_[i].method;
  }
  return out;
}

bool Router::dispatch_without_body(const httplib::Request& req, httplib::Response& res) const {
  for (size_t i = 0; i < routes_.size(); ++i) {
    if (routes_[i].method != req.method) continue;
    httplib::Request copy = req;
    if (!std::regex_match(copy.path, copy.matches, patterns_[i])) continue;
    handlers_[i](copy, res);
    return true;
  }
  return false;
}

nlohmann::json Router::openapi(const std::string& version) const {
  nlohmann::json paths = nlohmann::json::object();
  static const std::regex param(R"(\{([^}]+)\})");
  const nlohmann::json error_schema = {{"$ref", "#/components/schemas/Error"}};
  for (const auto& r : routes_) {
    nlohmann::json op{{"summary", r.doc.summary}, {"operationId", r.method + " " + r.path}};
    nlohmann::json params = r.doc.parameters;
    for (std::sregex_iterator it(r.path.begin(), r.path.end(), param), end; it != end; ++it) {
      params.push_back(
          {{"name", (*it)[1].str()}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}});
    }
    if (!params.empty()) op["parameters"] = params;
    if (!r.doc.request_body.is_null()) {
      op["requestBody"] = {{"required", true}, {"content", {{"application/json", {{"schema", r.doc.request_body}}}}}};
    }
    nlohmann::json responses = nlohmann::json::object();
    for (int s : r.doc.statuses) {
      responses[std::to_string(s)] = {{"description", s < 300 ? "success" : "see the error body"},
                                      {"content",
                                       {{s < 300 ? r.doc.produces : "application/json",
                                         {{"schema", s < 300 ? nlohmann::json::object() : error_schema}}}}}};
    }
    responses["default"] = {{"description", "error"}, {"content", {{"application/json", {{"schema", error_schema}}}}}};
    op["responses"] = responses;
    std::string method = r.method;
    for (auto& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    paths[r.path][method] = op;
  }
  return {{"openapi", "3.0.3"},
          {"info", {{"title", "Pluto-Duck API"}, {"version", version}}},
          {"servers", {{{"url", "/"}}}},
          {"paths", paths},
          {"components",
           {{"securitySchemes", {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}}},
            {"schemas",
             {{"Error",
               {{"type", "object"},
                {"required", {"error"}},
                {"properties",
                 {{"error",
                   {{"type", "object"},
                    {"required", {"code", "message", "hint"}},
                    {"properties",
                     {{"code", {{"type", "string"}}},
                      {"message", {{"type", "string"}}},
                      {"hint", {{"type", "string"}}}}}}}}}}}}}}}};
}

}  // namespace pluto::api
