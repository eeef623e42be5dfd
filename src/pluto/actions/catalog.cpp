#include "pluto/actions/catalog.hpp"

namespace pluto::actions {

void Catalog::add(Action action) {
  actions_[action.name] = std::move(action);
}

const Action* Catalog::find(const std::string& name) const {
  auto it = actions_.find(name);
  return it == actions_.end() ? nullptr : &it->second;
}

std::vector<const Action*> Catalog::list() const {
  std::vector<const Action*> out;
  for (const auto& [name, a] : actions_) out.push_back(&a);
  return out;
}

namespace {
bool type_matches(const std::string& type, const nlohmann::json& v) {
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "string") return v.is_string();
  if (type == "integer") return v.is_number_integer();
  if (type == "number") return v.is_number();
  if (type == "boolean") return v.is_boolean();
  if (type == "null") return v.is_null();
  return true;
}
}  // namespace

Status validate(const nlohmann::json& schema, const nlohmann::json& value, const std::string& path) {
  if (!schema.is_object()) return {};
  if (schema.contains("type")) {
    const auto& t = schema["type"];
    bool ok = false;
    std::string names;
    if (t.is_array()) {
      for (const auto& x : t) {
        ok = ok || type_matches(x.get<std::string>(), value);
        names += (names.empty() ? "" : " or ") + x.get<std::string>();
      }
    } else {
      ok = type_matches(t.get<std::string>(), value);
      names = t.get<std::string>();
    }
    if (!ok) return Error(ErrorCode::invalid_argument, path + " must be " + names + ", got " + value.dump());
  }
  if (schema.contains("enum") &&
      std::find(schema["enum"].begin(), schema["enum"].end(), value) == schema["enum"].end()) {
    return Error(ErrorCode::invalid_argument,
                 path + " must be one of " + schema["enum"].dump() + ", got " + value.dump());
  }
  if (value.is_number()) {
    if (schema.contains("minimum") && value.get<double>() < schema["minimum"].get<double>()) {
      return Error(ErrorCode::invalid_argument, path + " must be at least " + schema["minimum"].dump());
    }
    if (schema.contains("maximum") && value.get<double>() > schema["maximum"].get<double>()) {
      return Error(ErrorCode::invalid_argument, path + " must be at most " + schema["maximum"].dump());
    }
  }
  if (value.is_object()) {
    if (schema.contains("required")) {
      for (const auto& r : schema["required"]) {
        if (!value.contains(r.get<std::string>())) {
          return Error(ErrorCode::invalid_argument, path + "." + r.get<std::string>() + " is required");
        }
      }
    }
    const auto props = schema.value("properties", nlohmann::json::object());
    const bool closed = schema.contains("additionalProperties") && schema["additionalProperties"] == false;
    for (const auto& [k, v] : value.items()) {
      if (props.contains(k)) {
        PLUTO_TRY(validate(props[k], v, path + "." + k));
      } else if (closed) {
        return Error(
            ErrorCode::invalid_argument, "unknown field " + path + "." + k, "known fields: " + [&] {
              std::string n;
              for (const auto& [pk, pv] : props.items()) n += (n.empty() ? "" : ", ") + pk;
              return n;
            }());
      }
    }
  }
  if (value.is_array() && schema.contains("items")) {
    for (size_t i = 0; i < value.size(); ++i)
      PLUTO_TRY(validate(schema["items"], value[i], path + "[" + std::to_string(i) + "]"));
  }
  return {};
}

Result<nlohmann::json> Catalog::invoke(const std::string& name, const nlohmann::json& params,
                                       ActionContext& ctx) const {
  const Action* a = find(name);
  if (a == nullptr) {
    return Error(ErrorCode::not_found, "no action named '" + name + "'", "GET /api/v1/actions lists them");
  }
  const nlohmann::json p = params.is_null() ? nlohmann::json::object() : params;
  PLUTO_TRY(validate(a->params_schema, p));
  try {
    return a->handler(p, ctx);
  } catch (const nlohmann::json::exception& e) {
    return Error(ErrorCode::invalid_argument, std::string("bad parameters for ") + name + ": " + e.what());
  }
}

nlohmann::json Catalog::describe() const {
  auto list = nlohmann::json::array();
  for (const auto& [name, a] : actions_) {
    list.push_back({{"name", a.name},
                    {"description", a.description},
                    {"params_schema", a.params_schema},
                    {"result_schema", a.result_schema},
                    {"read_only", a.read_only}});
  }
  return {{"actions", list}};
}

}  // namespace pluto::actions
