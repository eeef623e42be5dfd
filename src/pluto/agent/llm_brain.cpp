// SQL generation and answers by a language model (the openai / anthropic providers). The model sees
// the question, earlier turns, the candidate schema, and the actions catalog's read-only entries as
// tools; it proposes SQL by calling the `query.run` tool (or, without tool support, in a ```sql
// block). Failures come back to it as that call's result, so a retry continues the same dialogue.
#include <algorithm>

#include "pluto/actions/catalog.hpp"
#include "pluto/agent/brain.hpp"
#include "pluto/agent/schema_explorer.hpp"
#include "pluto/agent/text.hpp"

namespace pluto::agent {
namespace {

using nlohmann::json;

constexpr size_t kMaxToolResultChars = 8000;
constexpr const char* kQueryTool = "query.run";

constexpr const char* kSystem =
    "You are the data agent of Pluto-Duck, a local analytics studio. You answer questions about the user's data "
    "in a DuckDB warehouse by writing DuckDB SQL.\n"
    "Rules:\n"
    "- Write exactly one read-only SELECT (WITH ... SELECT is fine). A guard refuses anything else: no files, "
    "URLs, settings, COPY, ATTACH, PRAGMA or table functions other than range, generate_series and unnest.\n"
    "- Use only the tables and columns listed below, or found with the table tools. Quote identifiers that need "
    "it with double quotes.\n"
    "- Aggregate in SQL; give result columns clear names; add ORDER BY for rankings and LIMIT for long lists.\n"
    "- When your SQL is ready, call the tool query_run with {\"sql\": \"...\"}. If you cannot call tools, reply "
    "with the SQL in a ```sql block.\n"
    "- If the result or an error comes back, fix the SQL and call query_run again; if a result is correct as it "
    "is, call query_run again with the same SQL to confirm it.\n"
    "- If the question cannot be answered from this data, say so in one or two sentences without SQL.";

std::string truncate(std::string s, size_t n) {
  if (s.size() > n) s = s.substr(0, n) + "… (truncated)";
  return s;
}

llm::Message message_of(const json& j) {
  return llm::Message::from_json(j);
}

std::vector<llm::Message> transcript_of(const AgentState& state) {
  std::vector<llm::Message> out;
  for (const auto& j : state.transcript) out.push_back(message_of(j));
  return out;
}

// Text to SQL: a ```sql block, any ``` block that starts with a query, or text that is a query.
std::string extract_sql(const std::string& text) {
  size_t pos = 0;
  while ((pos = text.find("```", pos)) != std::string::npos) {
    const size_t body = text.find('\n', pos);
    if (body == std::string::npos) break;
    const size_t end = text.find("```", body);
    if (end == std::string::npos) break;
    std::string block = text.substr(body + 1, end - body - 1);
    const auto w = words(block);
    if (!w.empty() && (w[0] == "select" || w[0] == "with" || w[0] == "from")) return block;
    pos = end + 3;
  }
  const auto w = words(text);
  if (!w.empty() && (w[0] == "select" || w[0] == "with") && text.find(';') == text.rfind(';')) return text;
  return {};
}

std::string schema_context(const AgentState& state, const AgentOptions& o) {
  std::string out = "Tables and views (most relevant first):\n";
  for (const auto& t : state.schema) {
    out += "- " + t.sql_name + " (" + t.kind;
    if (t.row_count) out += ", " + std::to_string(*t.row_count) + " rows";
    out += ")";
    if (!t.comment.empty()) out += ": " + t.comment;
    out += "\n";
    for (const auto& c : t.columns) {
      out += "    " + c.name + " " + c.type;
      if (!c.comment.empty()) out += " -- " + c.comment;
      // Only small, complete value sets (categories, statuses): names and e-mails stay local.
      if (o.llm_sample_values && c.values_complete && !c.values.empty() && c.values.size() <= 50) {
        std::vector<std::string> shown(c.values.begin(), c.values.begin() + std::min<size_t>(c.values.size(), 12));
        out += " (values: " + join(shown, ", ") + (c.values.size() > shown.size() ? ", …" : "") + ")";
      }
      out += "\n";
    }
  }
  if (state.schema.empty()) out += "(the warehouse has no tables)\n";
  return out;
}

class LlmBrain final : public Brain {
 public:
  explicit LlmBrain(std::unique_ptr<llm::Provider> provider) : provider_(std::move(provider)) {}
  std::string name() const override { return provider_->name(); }
  std::string model() const override { return provider_->model(); }

  Result<Proposal> propose(AgentState& state, RunContext& ctx) override {
    const auto& o = *ctx.options;
    if (state.transcript.empty()) start_dialogue(state);
    add_feedback(state);
    const auto tools = tool_specs(ctx);
    for (int round = 0; round <= o.max_tool_calls; ++round) {
      llm::ChatRequest req;
      req.system = std::string(kSystem) + "\n\n" + schema_context(state, o);
      req.messages = transcript_of(state);
      req.tools = tools;
      PLUTO_ASSIGN_OR_RETURN(auto reply, provider_->chat(req, hooks(ctx), ctx.cancel));
      llm::Message said;
      said.role = llm::Role::assistant;
      said.text = reply.text;
      said.tool_calls = reply.tool_calls;
      state.transcript.push_back(said.to_json());

      if (reply.tool_calls.empty()) {
        Proposal p;
        p.sql = extract_sql(reply.text);
        if (p.sql.empty()) {
          if (reply.text.find_first_not_of(" \t\r\n") == std::string::npos) {
            return Error(ErrorCode::unavailable, "the model " + model() + " replied with neither SQL nor an answer",
                         "try again, or try another model (--model)");
          }
          p.direct_answer = reply.text;
        } else {
          p.explanation = reply.text;
        }
        return p;
      }
      // Catalog tools first (their results go back now); the query.run call is answered by the executor.
      const llm::ToolCall* query_call = nullptr;
      for (const auto& call : reply.tool_calls) {
        if (call.name == kQueryTool && query_call == nullptr) {
          query_call = &call;
          continue;
        }
        llm::Message result;
        result.role = llm::Role::tool;
        result.tool_call_id = call.id;
        if (call.name == kQueryTool) {
          result.text = "ignored: propose one query at a time";
          result.is_error = true;
        } else {
          auto r = invoke_tool(call, state, ctx);
          result.is_error = !r.ok();
          result.text =
              r.ok() ? truncate(r.value().dump(), kMaxToolResultChars) : json{{"error", error_json(r.error())}}.dump();
        }
        state.transcript.push_back(result.to_json());
      }
      if (query_call != nullptr) {
        const auto& args = query_call->arguments;
        if (args.is_object() && args.contains("sql") && args["sql"].is_string() &&
            args["sql"].get<std::string>().find_first_not_of(" \t\r\n;") != std::string::npos) {
          return Proposal{args["sql"].get<std::string>(), reply.text, query_call->id, ""};
        }
        llm::Message bad;
        bad.role = llm::Role::tool;
        bad.tool_call_id = query_call->id;
        bad.is_error = true;
        bad.text = R"({"error":"query_run needs {\"sql\": \"<one SELECT>\"}"})";
        state.transcript.push_back(bad.to_json());
      }
    }
    return Error(ErrorCode::too_large,
                 "the model used tools " + std::to_string(o.max_tool_calls) + " times without proposing SQL",
                 "raise agent.max_tool_calls, or ask a more specific question");
  }

  Result<std::string> answer(AgentState& state, RunContext& ctx) override {
    const auto& o = *ctx.options;
    if (!state.result) return Error(ErrorCode::internal, "no result to answer from");
    const auto* a = state.last_attempt();
    json rows = json::array();
    for (size_t i = 0; i < state.result->rows.size() && static_cast<int64_t>(i) < o.llm_data_rows; ++i) {
      rows.push_back(state.result->rows[i]);
    }
    json result{{"status", "succeeded"},
                {"columns", state.result->columns},
                {"row_count", state.result->row_count},
                {"rows", rows},
                {"rows_shown", rows.size()}};
    if (o.llm_data_rows == 0) result["note"] = "rows are not shared with the model (agent.llm_data_rows = 0)";
    const bool answered_call = !state.transcript.empty() && state.transcript.back().value("role", "") == "tool";
    if (a != nullptr && !a->tool_call_id.empty() && !answered_call) {
      llm::Message m;
      m.role = llm::Role::tool;
      m.tool_call_id = a->tool_call_id;
      m.text = truncate(result.dump(), kMaxToolResultChars * 2);
      state.transcript.push_back(m.to_json());
      state.transcript.push_back(llm::Message{llm::Role::user, answer_instruction(), {}, "", false}.to_json());
    } else if (state.transcript.empty() || state.transcript.back().value("role", "") != "user") {
      state.transcript.push_back(llm::Message{
          llm::Role::user,
          "Result of the SQL:\n" + truncate(result.dump(), kMaxToolResultChars * 2) + "\n\n" + answer_instruction(),
          {},
          "",
          false}
                                     .to_json());
    }
    llm::ChatRequest req;
    req.system = std::string(kSystem) + "\n\n" + schema_context(state, o);
    req.messages = transcript_of(state);
    req.tools = tool_specs(ctx);  // some APIs require the tools when the dialogue contains tool calls
    req.tool_choice = llm::ToolChoice::none;
    auto h = hooks(ctx);
    h.on_text = [&ctx](std::string_view delta) {
      if (ctx.emit) ctx.emit("agent.answer_delta", {{"text", std::string(delta)}});
    };
    PLUTO_ASSIGN_OR_RETURN(auto reply, provider_->chat(req, h, ctx.cancel));
    state.transcript.push_back(llm::Message{llm::Role::assistant, reply.text, {}, "", false}.to_json());
    std::string text = reply.text;
    const auto b = text.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) {
      return Error(ErrorCode::unavailable, "the model " + model() + " returned an empty answer",
                   "try again, or try another model (--model)");
    }
    text = text.substr(b, text.find_last_not_of(" \t\r\n") - b + 1);
    return text;
  }

 private:
  static std::string answer_instruction() {
    return "Answer the question in one to three sentences, using only this result. State the key numbers "
           "exactly as they appear. Do not include SQL.";
  }

  void start_dialogue(AgentState& state) const {
    for (const auto& t : state.history) {
      state.transcript.push_back(llm::Message{llm::Role::user, t.question, {}, "", false}.to_json());
      std::string said = t.answer;
      if (!t.sql.empty()) said += "\n\nSQL used:\n```sql\n" + t.sql + "\n```";
      state.transcript.push_back(llm::Message{llm::Role::assistant, said, {}, "", false}.to_json());
    }
    state.transcript.push_back(llm::Message{llm::Role::user, state.question, {}, "", false}.to_json());
  }

  // The reason the last attempt failed goes back to the model, once.
  static void add_feedback(AgentState& state) {
    const auto* a = state.last_attempt();
    if (a == nullptr || a->outcome == "ok" || a->outcome == "pending") return;
    if (state.transcript.empty() || state.transcript.back().value("role", "") == "tool" ||
        state.transcript.back().value("role", "") == "user") {
      return;  // already answered (e.g. after a resume)
    }
    const std::string hint =
        a->outcome == "implausible"
            ? "If this is the right answer, call query_run again with the same SQL; otherwise fix it."
            : "Fix the SQL and call query_run again.";
    if (!a->tool_call_id.empty()) {
      llm::Message m;
      m.role = llm::Role::tool;
      m.tool_call_id = a->tool_call_id;
      m.is_error = true;
      m.text = json{{"status", a->outcome}, {"error", a->reason}, {"hint", hint}}.dump();
      state.transcript.push_back(m.to_json());
    } else {
      state.transcript.push_back(llm::Message{llm::Role::user,
                                              "That SQL " +
                                                  std::string(a->outcome == "implausible" ? "looks wrong" : "failed") +
                                                  ": " + a->reason + "\n" + hint,
                                              {},
                                              "",
                                              false}
                                     .to_json());
    }
  }

  static std::vector<llm::ToolSpec> tool_specs(const RunContext& ctx) {
    std::vector<llm::ToolSpec> out;
    out.push_back({kQueryTool,
                   "Run one read-only DuckDB SELECT against the warehouse (checked by the SQL guard; rows and time are "
                   "capped). Call it with your SQL; the result or the error comes back.",
                   {{"type", "object"},
                    {"required", {"sql"}},
                    {"additionalProperties", false},
                    {"properties", {{"sql", {{"type", "string"}, {"description", "one read-only SELECT"}}}}}}});
    if (ctx.catalog == nullptr) return out;
    const json described = ctx.catalog->describe();
    for (const auto& a : described.value("actions", json::array())) {
      const auto name = a.value("name", std::string());
      if (!a.value("read_only", false) || name.rfind("query.", 0) == 0 || name.rfind("agent.", 0) == 0) continue;
      if (name == "table.sample" && ctx.options->llm_data_rows == 0) continue;  // no rows leave the machine
      out.push_back({name, a.value("description", std::string()), a.value("params_schema", json::object())});
    }
    return out;
  }

  Result<json> invoke_tool(const llm::ToolCall& call, const AgentState& state, RunContext& ctx) {
    const auto specs = tool_specs(ctx);
    const bool offered =
        std::any_of(specs.begin(), specs.end(), [&](const llm::ToolSpec& s) { return s.name == call.name; });
    if (!offered || ctx.catalog == nullptr) {
      return Error(ErrorCode::not_found, "there is no tool named " + call.name,
                   "use query_run or one of the table tools offered");
    }
    json params = call.arguments.is_object() ? call.arguments : json::object();
    if (call.name == "table.sample") {
      params["limit"] = std::min<int64_t>(params.value("limit", int64_t{10}), ctx.options->llm_data_rows);
    }
    if (ctx.emit) ctx.emit("agent.tool_call", {{"name", call.name}, {"arguments", params}});
    actions::ActionContext actx;
    actx.origin = "agent";
    actx.cancel = ctx.cancel;
    actx.conversation_id = state.conversation_id;
    auto r = ctx.catalog->invoke(call.name, params, actx);
    if (ctx.emit) {
      json data{{"name", call.name}, {"ok", r.ok()}};
      if (!r.ok()) data["error"] = error_json(r.error());
      ctx.emit("agent.tool_result", data);
    }
    return r;
  }

  llm::ChatHooks hooks(RunContext& ctx) const {
    llm::ChatHooks h;
    const std::string provider = provider_->name();
    h.on_retry = [&ctx, provider](const llm::RetryNotice& n) {
      if (ctx.emit) {
        ctx.emit("agent.llm_retry",
                 {{"provider", provider}, {"attempt", n.attempt}, {"wait_ms", n.wait_ms}, {"reason", n.reason}});
      }
    };
    return h;
  }

  std::unique_ptr<llm::Provider> provider_;
};

}  // namespace

std::unique_ptr<Brain> make_llm_brain(std::unique_ptr<llm::Provider> provider) {
  return std::make_unique<LlmBrain>(std::move(provider));
}

}  // namespace pluto::agent
