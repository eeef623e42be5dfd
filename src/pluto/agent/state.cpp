#include "pluto/agent/state.hpp"

namespace pluto::agent {

using nlohmann::json;

namespace {

json opt_int(const std::optional<int64_t>& v) {
  return v ? json(*v) : json();
}
std::optional<int64_t> get_opt_int(const json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_number_integer()) return std::nullopt;
  return j[key].get<int64_t>();
}
std::vector<std::string> strings(const json& j, const char* key) {
  std::vector<std::string> out;
  if (!j.contains(key) || !j[key].is_array()) return out;
  for (const auto& s : j[key]) {
    if (s.is_string()) out.push_back(s.get<std::string>());
  }
  return out;
}

}  // namespace

json error_json(const Error& e) {
  return {{"code", to_string(e.code)}, {"message", e.message}, {"hint", e.hint}};
}

Error error_from_json(const json& j) {
  ErrorCode code = ErrorCode::internal;
  const auto name = j.value("code", std::string("internal"));
  for (int i = 0; i <= static_cast<int>(ErrorCode::internal); ++i) {
    if (to_string(static_cast<ErrorCode>(i)) == name) code = static_cast<ErrorCode>(i);
  }
  return Error(code, j.value("message", std::string()), j.value("hint", std::string()));
}

std::string AgentState::final_sql() const {
  for (auto it = attempts.rbegin(); it != attempts.rend(); ++it) {
    if (it->outcome == "ok") return it->sql;
  }
  return {};
}

json AgentState::to_json() const {
  json h = json::array();
  for (const auto& t : history) h.push_back({{"question", t.question}, {"sql", t.sql}, {"answer", t.answer}});
  json tables = json::array();
  for (const auto& t : schema) {
    json cols = json::array();
    for (const auto& c : t.columns) {
      cols.push_back({{"name", c.name},
                      {"type", c.type},
                      {"comment", c.comment},
                      {"values", c.values},
                      {"values_complete", c.values_complete},
                      {"score", c.score}});
    }
    tables.push_back({{"sql_name", t.sql_name},
                      {"name", t.name},
                      {"database", t.database},
                      {"schema", t.schema},
                      {"kind", t.kind},
                      {"comment", t.comment},
                      {"row_count", opt_int(t.row_count)},
                      {"columns", cols},
                      {"score", t.score}});
  }
  json att = json::array();
  for (const auto& a : attempts) {
    att.push_back({{"number", a.number},
                   {"sql", a.sql},
                   {"explanation", a.explanation},
                   {"tool_call_id", a.tool_call_id},
                   {"outcome", a.outcome},
                   {"reason", a.reason},
                   {"query_run_id", a.query_run_id},
                   {"row_count", opt_int(a.row_count)}});
  }
  json j{{"run_id", run_id},
         {"conversation_id", conversation_id},
         {"question", question},
         {"provider", provider},
         {"model", model},
         {"history", h},
         {"plan",
          {{"intent", plan.intent},
           {"steps", plan.steps},
           {"keywords", plan.keywords},
           {"expects_single_value", plan.expects_single_value},
           {"follow_up", plan.follow_up}}},
         {"schema", tables},
         {"attempts", att},
         {"answer", answer},
         {"answered", answered},
         {"answered_without_sql", answered_without_sql},
         {"transcript", transcript}};
  if (result) {
    j["result"] = {{"query_run_id", result->query_run_id},
                   {"columns", result->columns},
                   {"rows", result->rows},
                   {"row_count", result->row_count},
                   {"truncated", result->truncated}};
  } else {
    j["result"] = nullptr;
  }
  j["chart"] = chart ? json{{"type", chart->type}, {"x", chart->x}, {"y", chart->y}} : json();
  j["failure"] = failure ? error_json(*failure) : json();
  return j;
}

Result<AgentState> AgentState::from_json(const json& j) {
  if (!j.is_object()) return Error(ErrorCode::invalid_argument, "an agent checkpoint is not a JSON object");
  try {
    AgentState s;
    s.run_id = j.value("run_id", std::string());
    s.conversation_id = j.value("conversation_id", std::string());
    s.question = j.value("question", std::string());
    s.provider = j.value("provider", std::string());
    s.model = j.value("model", std::string());
    for (const auto& t : j.value("history", json::array())) {
      s.history.push_back(
          {t.value("question", std::string()), t.value("sql", std::string()), t.value("answer", std::string())});
    }
    const json plan = j.value("plan", json::object());
    s.plan.intent = plan.value("intent", std::string());
    s.plan.steps = strings(plan, "steps");
    s.plan.keywords = strings(plan, "keywords");
    s.plan.expects_single_value = plan.value("expects_single_value", false);
    s.plan.follow_up = plan.value("follow_up", false);
    for (const auto& t : j.value("schema", json::array())) {
      TableCandidate c;
      c.sql_name = t.value("sql_name", std::string());
      c.name = t.value("name", std::string());
      c.database = t.value("database", std::string());
      c.schema = t.value("schema", std::string());
      c.kind = t.value("kind", std::string());
      c.comment = t.value("comment", std::string());
      c.row_count = get_opt_int(t, "row_count");
      c.score = t.value("score", 0.0);
      for (const auto& col : t.value("columns", json::array())) {
        ColumnCandidate cc;
        cc.name = col.value("name", std::string());
        cc.type = col.value("type", std::string());
        cc.comment = col.value("comment", std::string());
        cc.values = strings(col, "values");
        cc.values_complete = col.value("values_complete", false);
        cc.score = col.value("score", 0.0);
        c.columns.push_back(std::move(cc));
      }
      s.schema.push_back(std::move(c));
    }
    for (const auto& a : j.value("attempts", json::array())) {
      Attempt at;
      at.number = a.value("number", 0);
      at.sql = a.value("sql", std::string());
      at.explanation = a.value("explanation", std::string());
      at.tool_call_id = a.value("tool_call_id", std::string());
      at.outcome = a.value("outcome", std::string());
      at.reason = a.value("reason", std::string());
      at.query_run_id = a.value("query_run_id", std::string());
      at.row_count = get_opt_int(a, "row_count");
      s.attempts.push_back(std::move(at));
    }
    if (j.contains("result") && j["result"].is_object()) {
      const auto& r = j["result"];
      ResultPreview p;
      p.query_run_id = r.value("query_run_id", std::string());
      p.columns = r.value("columns", json::array());
      p.rows = r.value("rows", json::array());
      p.row_count = r.value("row_count", int64_t{0});
      p.truncated = r.value("truncated", false);
      s.result = std::move(p);
    }
    s.answer = j.value("answer", std::string());
    s.answered = j.value("answered", false);
    s.answered_without_sql = j.value("answered_without_sql", false);
    if (j.contains("chart") && j["chart"].is_object()) {
      s.chart = Chart{j["chart"].value("type", std::string()), j["chart"].value("x", std::string()),
                      j["chart"].value("y", std::string())};
    }
    s.transcript = j.value("transcript", json::array());
    if (j.contains("failure") && j["failure"].is_object()) s.failure = error_from_json(j["failure"]);
    return s;
  } catch (const nlohmann::json::exception& e) {
    return Error(ErrorCode::invalid_argument, std::string("an agent checkpoint does not match the state: ") + e.what());
  }
}

}  // namespace pluto::agent
