#include "pluto/agent/nodes.hpp"

#include <algorithm>
#include <cctype>
#include <thread>

#include "pluto/agent/planner.hpp"
#include "pluto/agent/schema_explorer.hpp"
#include "pluto/agent/text.hpp"
#include "pluto/core/clock.hpp"
#include "pluto/jobs/warehouse_gate.hpp"
#include "pluto/query/query_service.hpp"
#include "pluto/query/sql_guard.hpp"
#include "pluto/warehouse/warehouse.hpp"

namespace pluto::agent {
namespace {

using nlohmann::json;

constexpr size_t kEventRows = 20;

void emit(RunContext& ctx, const std::string& type, json data) {
  if (ctx.emit) ctx.emit(type, std::move(data));
}

// Whitespace-insensitive comparison of two statements (a model confirming its SQL may reformat it).
std::string normalized(const std::string& sql) {
  std::string out;
  bool space = false;
  for (char c : sql) {
    if (std::isspace(static_cast<unsigned char>(c)) != 0) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  while (!out.empty() && out.back() == ';') out.pop_back();
  return out;
}

json preview_rows(const json& rows, size_t n) {
  json out = json::array();
  for (size_t i = 0; i < rows.size() && i < n; ++i) out.push_back(rows[i]);
  return out;
}

Status plan_node(AgentState& s, RunContext& ctx) {
  s.plan = make_plan(s.question, s.history);
  emit(ctx, "agent.plan",
       {{"question", s.question},
        {"intent", s.plan.intent},
        {"steps", s.plan.steps},
        {"keywords", s.plan.keywords},
        {"follow_up", s.plan.follow_up},
        {"provider", s.provider},
        {"model", s.model}});
  return {};
}

Status explore_node(AgentState& s, GraphDeps& d) {
  // Shared warehouse access like any query: an exclusive job (dbt) waits for this, and the other way round.
  PLUTO_ASSIGN_OR_RETURN(auto grant, d.gate.acquire(jobs::Access::shared, d.ctx.cancel, [&](const std::string& why) {
    emit(d.ctx, "agent.waiting", {{"reason", why}});
  }));
  auto lease = d.warehouse.pool().acquire_for(std::chrono::milliseconds(0));
  while (!lease.ok() && lease.error().code == ErrorCode::timed_out) {
    if (d.ctx.cancel && d.ctx.cancel->cancelled()) return Error(ErrorCode::cancelled, "the run was cancelled");
    lease = d.warehouse.pool().acquire_for(std::chrono::milliseconds(100));
  }
  if (!lease.ok()) return lease.take_error();
  std::vector<std::string> context;
  for (const auto& t : s.history) {
    for (auto& w : words(t.question)) context.push_back(std::move(w));
  }
  ExploreOptions eo;
  eo.max_tables = d.ctx.options->max_tables;
  PLUTO_ASSIGN_OR_RETURN(s.schema,
                         explore_schema(lease.value().connection(), words(s.question), context, eo, d.ctx.cancel));
  json tables = json::array();
  for (const auto& t : s.schema) {
    json cols = json::array();
    for (const auto& c : t.columns) {
      json col{{"name", c.name}, {"type", c.type}};
      if (!c.comment.empty()) col["comment"] = c.comment;
      cols.push_back(col);
    }
    tables.push_back({{"name", t.sql_name},
                      {"kind", t.kind},
                      {"row_count", t.row_count ? json(*t.row_count) : json()},
                      {"score", t.score},
                      {"columns", cols}});
  }
  emit(d.ctx, "agent.schema", {{"tables", tables}});
  return {};
}

Status generate_node(AgentState& s, GraphDeps& d) {
  PLUTO_ASSIGN_OR_RETURN(auto proposal, d.brain.propose(s, d.ctx));
  if (proposal.sql.empty()) {
    s.answer = proposal.direct_answer;
    s.answered_without_sql = true;
    return {};
  }
  Attempt a;
  a.number = static_cast<int>(s.attempts.size()) + 1;
  a.sql = proposal.sql;
  a.explanation = proposal.explanation;
  a.tool_call_id = proposal.tool_call_id;
  a.outcome = "pending";
  s.attempts.push_back(a);
  emit(d.ctx, "agent.sql", {{"attempt", a.number}, {"sql", a.sql}, {"explanation", a.explanation}});
  return {};
}

// Why a successful result still looks wrong, or empty when it is plausible.
std::string implausible(const AgentState& s, const ResultPreview& r) {
  if (r.columns.empty()) return "the statement returned no columns; write a SELECT that returns the answer";
  if (r.row_count == 0) {
    return "the query returned no rows; check filter values (spelling, case) and join keys against the schema";
  }
  if (s.plan.expects_single_value && r.row_count > 1) {
    return "the question asks for a single value but the query returned " + std::to_string(r.row_count) +
           " rows; aggregate them into one";
  }
  if (s.plan.expects_single_value && r.row_count == 1 && !r.rows.empty() && r.rows[0].is_array() &&
      std::all_of(r.rows[0].begin(), r.rows[0].end(), [](const json& v) { return v.is_null(); })) {
    return "the query returned NULL; check the filters and the column aggregated";
  }
  return {};
}

Status execute_node(AgentState& s, GraphDeps& d) {
  Attempt& a = s.attempts.back();
  const auto& o = *d.ctx.options;
  a.query_run_id = new_id();
  query::QueryRequest req;
  req.sql = a.sql;
  req.run_id = a.query_run_id;
  req.origin = "agent";
  req.timeout_ms = o.query_timeout_ms;
  req.max_rows = o.max_rows;
  req.max_bytes = o.max_result_bytes;
  req.validator = query::sql_guard_validator();
  emit(d.ctx, "agent.query",
       {{"attempt", a.number},
        {"query_run_id", a.query_run_id},
        {"events_url", "/api/v1/query/" + a.query_run_id + "/events"}});

  query::QueryResultView view;
  auto submitted = d.queries.submit(req);
  if (!submitted.ok()) {
    view.status = "failed";
    view.error = submitted.error();
  } else {
    // Cancelling the run cancels its query (DuckDB is interrupted).
    CancelScope scope(d.ctx.cancel, [&d, id = a.query_run_id] { (void)d.queries.cancel(id); });
    auto waited = d.queries.wait(a.query_run_id);
    if (!waited.ok()) return waited.take_error();
    view = std::move(waited).value();
  }
  if (d.ctx.cancel && d.ctx.cancel->cancelled()) return Error(ErrorCode::cancelled, "the run was cancelled");

  const Attempt* before = s.attempts.size() >= 2 ? &s.attempts[s.attempts.size() - 2] : nullptr;
  if (view.status == "succeeded") {
    ResultPreview r;
    r.query_run_id = a.query_run_id;
    r.columns = json::array();
    for (const auto& c : view.columns) r.columns.push_back({{"name", c.name}, {"type", c.type}});
    r.rows = json::parse(view.rows_json, nullptr, false);
    if (r.rows.is_discarded()) r.rows = json::array();
    r.row_count = view.row_count.value_or(static_cast<int64_t>(r.rows.size()));
    r.truncated = view.truncated;
    a.row_count = r.row_count;
    auto why = implausible(s, r);
    // The generator may confirm a result it was told looked wrong by proposing the same SQL again.
    if (!why.empty() && before != nullptr && before->outcome == "implausible" &&
        normalized(before->sql) == normalized(a.sql)) {
      why.clear();
    }
    emit(d.ctx, "agent.result",
         {{"attempt", a.number},
          {"query_run_id", a.query_run_id},
          {"columns", r.columns},
          {"rows", preview_rows(r.rows, kEventRows)},
          {"row_count", r.row_count},
          {"truncated", r.truncated}});
    if (why.empty()) {
      a.outcome = "ok";
      s.result = std::move(r);
      return {};
    }
    a.outcome = "implausible";
    a.reason = why;
    s.result = std::move(r);  // kept: the generator (and a final answer) may still use it
  } else {
    const Error err = view.error.value_or(Error(ErrorCode::internal, "the query ended as " + view.status));
    a.outcome = err.code == ErrorCode::permission_denied ? "refused" : "error";
    if (view.status == "timed_out") {
      a.reason = "the query ran longer than " + std::to_string(o.query_timeout_ms / 1000) +
                 " s (agent.query_timeout_seconds); write a cheaper query";
    } else {
      a.reason = err.message + (err.hint.empty() ? "" : " (" + err.hint + ")");
    }
  }
  if (static_cast<int>(s.attempts.size()) < o.max_sql_attempts) {
    emit(d.ctx, "agent.retry",
         {{"attempt", a.number}, {"outcome", a.outcome}, {"reason", a.reason}, {"next_attempt", a.number + 1}});
  }
  return {};
}

Status answer_node(AgentState& s, GraphDeps& d) {
  PLUTO_ASSIGN_OR_RETURN(s.answer, d.brain.answer(s, d.ctx));
  s.answered = true;
  if (s.result) s.chart = suggest_chart(*s.result);
  const auto* a = s.last_attempt();
  json chart = s.chart ? json{{"type", s.chart->type}, {"x", s.chart->x}, {"y", s.chart->y}} : json();
  emit(d.ctx, "agent.answer",
       {{"answer", s.answer},
        {"sql", a != nullptr ? json(a->sql) : json()},
        {"chart", chart},
        {"row_count", s.result ? json(s.result->row_count) : json()},
        {"query_run_id", a != nullptr ? json(a->query_run_id) : json()},
        {"attempts", s.attempts.size()},
        {"answered", true}});
  return {};
}

Status answer_directly_node(AgentState& s, GraphDeps& d) {
  s.answered = true;
  emit(d.ctx, "agent.answer_delta", {{"text", s.answer}});
  emit(d.ctx, "agent.answer",
       {{"answer", s.answer}, {"sql", nullptr}, {"chart", nullptr}, {"row_count", nullptr}, {"answered", false}});
  return {};
}

Status give_up_node(AgentState& s, GraphDeps& d) {
  const auto* a = s.last_attempt();
  const std::string last = a != nullptr ? a->reason : std::string("no SQL was proposed");
  s.failure = Error(ErrorCode::sql_error,
                    "no working SQL after " + std::to_string(s.attempts.size()) + " attempts; the last one " +
                        (a != nullptr && a->outcome == "refused" ? "was refused" : "failed") + ": " + last,
                    "rephrase the question or name the table and columns, or raise agent.max_sql_attempts");
  emit(d.ctx, "agent.error", error_json(*s.failure));
  return {};
}

}  // namespace

std::optional<Chart> suggest_chart(const ResultPreview& r) {
  if (r.row_count < 2 || r.columns.size() < 2) return std::nullopt;
  int label = -1;
  int time = -1;
  int value = -1;
  for (size_t i = 0; i < r.columns.size(); ++i) {
    const auto type = r.columns[i].value("type", std::string());
    const auto name = r.columns[i].value("name", std::string());
    const auto w = words(name);
    const bool id = !w.empty() && (w.back() == "id" || w.back() == "key");
    if (is_temporal_type(type) && time < 0) time = static_cast<int>(i);
    if (is_text_type(type) && label < 0) label = static_cast<int>(i);
    if (is_numeric_type(type) && !id) value = static_cast<int>(i);
  }
  if (value < 0) return std::nullopt;
  const auto name = [&](int i) { return r.columns[static_cast<size_t>(i)].value("name", std::string()); };
  if (time >= 0) return Chart{"line", name(time), name(value)};
  if (label >= 0 && r.row_count <= 50) return Chart{"bar", name(label), name(value)};
  return std::nullopt;
}

Graph<AgentState> build_agent_graph(GraphDeps deps) {
  auto d = std::make_shared<GraphDeps>(deps);
  Graph<AgentState> g;
  g.add_node("plan", [d](AgentState& s) { return plan_node(s, d->ctx); });
  g.add_node("explore_schema", [d](AgentState& s) { return explore_node(s, *d); });
  g.add_node("generate_sql", [d](AgentState& s) { return generate_node(s, *d); });
  g.add_node("execute_sql", [d](AgentState& s) { return execute_node(s, *d); });
  g.add_node("answer", [d](AgentState& s) { return answer_node(s, *d); });
  g.add_node("answer_directly", [d](AgentState& s) { return answer_directly_node(s, *d); });
  g.add_node("give_up", [d](AgentState& s) { return give_up_node(s, *d); });
  g.set_entry("plan");
  g.add_edge("plan", "explore_schema");
  g.add_edge("explore_schema", "generate_sql");
  g.add_conditional_edge("generate_sql",
                         [](const AgentState& s) { return s.answered_without_sql ? "answer_directly" : "execute_sql"; },
                         {"answer_directly", "execute_sql"});
  const int max_attempts = deps.ctx.options->max_sql_attempts;
  g.add_conditional_edge("execute_sql",
                         [max_attempts](const AgentState& s) -> std::string {
                           const auto* a = s.last_attempt();
                           if (a != nullptr && a->outcome == "ok") return "answer";
                           return static_cast<int>(s.attempts.size()) < max_attempts ? "generate_sql" : "give_up";
                         },
                         {"answer", "generate_sql", "give_up"});
  g.add_edge("answer", kEnd);
  g.add_edge("answer_directly", kEnd);
  g.add_edge("give_up", kEnd);
  return g;
}

}  // namespace pluto::agent
