#pragma once
// The Subject×Action catalog: every operation the product offers (query.run, table.describe,
// source.ingest, dbt.run…) as a named entry with a description, JSON Schemas for its parameters and
// result, and a handler that calls a service. HTTP routes, CLI commands and the agent's tools use the
// same entries: one code path.
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pluto/core/cancel.hpp"
#include "pluto/core/error.hpp"

namespace pluto::actions {

struct ActionContext {
  std::string origin = "api";           // api, cli, agent
  std::shared_ptr<CancelToken> cancel;  // may be null
  std::string conversation_id;          // agent calls
};

using Handler = std::function<Result<nlohmann::json>(const nlohmann::json& params, ActionContext& ctx)>;

struct Action {
  std::string name;                                         // "<subject>.<action>", e.g. "query.run"
  std::string description;                                  // one or two sentences, written for a human and for a model
  nlohmann::json params_schema = nlohmann::json::object();  // JSON Schema (type object)
  nlohmann::json result_schema = nlohmann::json::object();  // JSON Schema
  Handler handler;
  bool read_only = true;  // false when it changes data (ingest, dbt.run)
};

class Catalog {
 public:
  // Adds or replaces an entry.
  void add(Action action);
  const Action* find(const std::string& name) const;
  std::vector<const Action*> list() const;
  // Validates `params` against the entry's schema (required properties, types, enums, no unknown
  // properties when additionalProperties is false), then calls the handler.
  Result<nlohmann::json> invoke(const std::string& name, const nlohmann::json& params, ActionContext& ctx) const;
  // {"actions":[{"name","description","params_schema","result_schema","read_only"}]}
  nlohmann::json describe() const;

 private:
  std::map<std::string, Action> actions_;
};

// Checks a JSON value against the subset of JSON Schema the catalog uses (type, properties, required,
// additionalProperties, enum, items, minimum, maximum). Returns invalid_argument naming the path.
Status validate(const nlohmann::json& schema, const nlohmann::json& value, const std::string& path = "params");

}  // namespace pluto::actions
