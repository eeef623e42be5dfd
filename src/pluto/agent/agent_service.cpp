#include "pluto/agent/agent_service.hpp"

#include <chrono>

#include "pluto/agent/nodes.hpp"
#include "pluto/core/clock.hpp"
#include "pluto/core/log.hpp"
#include "pluto/events/event_bus.hpp"
#include "pluto/jobs/job_runner.hpp"
#include "pluto/query/query_service.hpp"
#include "pluto/store/store.hpp"
#include "pluto/warehouse/warehouse.hpp"

namespace pluto::agent {
namespace {

using nlohmann::json;

constexpr size_t kHistoryTurns = 6;
constexpr size_t kMaxQuestion = 4000;

std::string normalize_provider(std::string p) {
  for (auto& c : p) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (p.empty() || p == "mock") return "offline";
  return p;
}

Status check_provider(const std::string& p) {
  if (p == "offline" || p == "openai" || p == "anthropic") return {};
  return Error(ErrorCode::invalid_argument, "unknown provider '" + p + "'",
               "use offline (alias mock), openai (any OpenAI-compatible server) or anthropic");
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

}  // namespace

AgentOptions AgentOptions::from_config(const Config& c) {
  AgentOptions o;
  o.provider = normalize_provider(c.get("llm.provider"));
  o.llm.provider = o.provider;
  o.llm.model = c.get("llm.model");
  o.llm.base_url = c.get("llm.base_url");
  o.llm.api_key_env = c.get("llm.api_key_env");
  o.llm.connect_timeout = std::chrono::seconds(c.get_int("llm.connect_timeout_seconds"));
  o.llm.request_timeout = std::chrono::seconds(c.get_int("llm.timeout_seconds"));
  o.llm.idle_timeout = std::chrono::seconds(c.get_int("llm.idle_timeout_seconds"));
  o.llm.max_retries = static_cast<int>(c.get_int("llm.max_retries"));
  o.llm.retry_backoff = std::chrono::milliseconds(c.get_int("llm.retry_backoff_ms"));
  o.llm.max_retry_wait = std::chrono::seconds(c.get_int("llm.max_retry_wait_seconds"));
  o.llm.max_tokens = c.get_int("llm.max_tokens");
  o.max_steps = static_cast<int>(c.get_int("agent.max_steps"));
  o.max_sql_attempts = static_cast<int>(c.get_int("agent.max_sql_attempts"));
  o.max_rows = c.get_int("agent.max_rows");
  o.max_result_bytes = c.get_int("agent.max_result_kb") << 10U;
  o.query_timeout_ms = c.get_int("agent.query_timeout_seconds") * 1000;
  o.run_timeout_ms = c.get_int("agent.run_timeout_seconds") * 1000;
  o.llm_data_rows = c.get_int("agent.llm_data_rows");
  o.llm_sample_values = c.get_bool("agent.llm_sample_values");
  o.max_tool_calls = static_cast<int>(c.get_int("agent.max_tool_calls"));
  o.max_tables = static_cast<size_t>(c.get_int("agent.max_tables"));
  return o;
}

Result<AgentRequest> AgentRequest::from_json(const json& body) {
  if (!body.is_object()) return Error(ErrorCode::invalid_argument, "the request body must be a JSON object");
  AgentRequest r;
  for (auto it = body.begin(); it != body.end(); ++it) {
    const auto& k = it.key();
    if (k != "question" && k != "conversation_id" && k != "provider" && k != "model" && k != "base_url") {
      return Error(ErrorCode::invalid_argument, "unknown field '" + k + "'",
                   "send question and optionally conversation_id, provider, model, base_url");
    }
    if (!it->is_string() && !(it->is_null() && k != "question")) {
      return Error(ErrorCode::invalid_argument, "field '" + k + "' must be a string");
    }
  }
  if (!body.contains("question")) {
    return Error(ErrorCode::invalid_argument, "missing field 'question'", "send {\"question\": \"how many …?\"}");
  }
  r.question = body["question"].get<std::string>();
  auto opt = [&](const char* k) -> std::optional<std::string> {
    if (!body.contains(k) || body[k].is_null()) return std::nullopt;
    return body[k].get<std::string>();
  };
  r.conversation_id = opt("conversation_id").value_or("");
  r.provider = opt("provider");
  r.model = opt("model");
  r.base_url = opt("base_url");
  return r;
}

json AgentRunInfo::to_json() const {
  return {{"run_id", run_id}, {"conversation_id", conversation_id}, {"events_url", events_url}};
}

json AgentRunView::to_json() const {
  json j{{"run_id", run_id},
         {"conversation_id", conversation_id},
         {"status", status},
         {"question", question},
         {"provider", provider},
         {"model", model},
         {"created_at", created_at},
         {"started_at", started_at ? json(*started_at) : json()},
         {"finished_at", finished_at ? json(*finished_at) : json()},
         {"resumed_from", resumed_from.empty() ? json() : json(resumed_from)},
         {"events_url", "/api/v1/agent/" + run_id + "/events"},
         {"error", error ? error_json(*error) : json()}};
  j["answer"] = nullptr;
  j["sql"] = nullptr;
  j["chart"] = nullptr;
  j["result"] = nullptr;
  j["attempts"] = json::array();
  if (state.is_object()) {
    if (state.value("answered", false)) j["answer"] = state.value("answer", std::string());
    std::string sql;
    for (const auto& a : state.value("attempts", json::array())) {
      j["attempts"].push_back({{"number", a.value("number", 0)},
                               {"sql", a.value("sql", std::string())},
                               {"outcome", a.value("outcome", std::string())},
                               {"reason", a.value("reason", std::string())},
                               {"query_run_id", a.value("query_run_id", std::string())},
                               {"row_count", a.contains("row_count") ? a["row_count"] : json()}});
      if (a.value("outcome", std::string()) == "ok") sql = a.value("sql", std::string());
    }
    if (!sql.empty()) j["sql"] = sql;
    if (state.contains("chart")) j["chart"] = state["chart"];
    if (state.contains("result") && state["result"].is_object() && !sql.empty()) j["result"] = state["result"];
    if (state.contains("plan")) j["plan"] = state["plan"];
  }
  json steps = json::array();
  for (const auto& c : checkpoints) {
    steps.push_back({{"step", c.step}, {"node", c.node}, {"next", c.next}, {"at", c.created_at}});
  }
  j["steps"] = steps;
  return j;
}

AgentService::AgentService(AgentOptions options, store::Store& store, warehouse::Warehouse& warehouse,
                           query::QueryService& queries, jobs::JobRunner& jobs, events::EventBus& bus,
                           const actions::Catalog* catalog)
    : options_(std::move(options)),
      store_(store),
      warehouse_(warehouse),
      queries_(queries),
      jobs_(jobs),
      bus_(bus),
      catalog_(catalog),
      records_(store) {}

Result<std::unique_ptr<AgentService>> AgentService::create(const Config& config, store::Store& store,
                                                           warehouse::Warehouse& warehouse,
                                                           query::QueryService& queries, jobs::JobRunner& jobs,
                                                           events::EventBus& bus, const actions::Catalog* catalog) {
  PLUTO_TRY(Records::migrate(store));
  return std::make_unique<AgentService>(AgentOptions::from_config(config), store, warehouse, queries, jobs, bus,
                                        catalog);
}

AgentService::~AgentService() {
  // Runs reference this service: stop the ones still going before it disappears.
  std::set<std::string> live;
  {
    std::lock_guard lock(live_mu_);
    live = live_;
  }
  for (const auto& id : live) {
    (void)jobs_.cancel(id);
    (void)jobs_.wait(id, std::chrono::seconds(30));
  }
}

Result<AgentRunInfo> AgentService::submit(AgentRequest request) {
  const std::string question = trim(request.question);
  if (question.empty()) {
    return Error(ErrorCode::invalid_argument, "the question is empty",
                 "ask something, e.g. \"how many orders are there?\"");
  }
  if (question.size() > kMaxQuestion) {
    return Error(ErrorCode::invalid_argument, "the question is too long (" + std::to_string(question.size()) +
                                                  " characters, at most " + std::to_string(kMaxQuestion) + ")");
  }
  if (request.provider) {
    request.provider = normalize_provider(*request.provider);
    PLUTO_TRY(check_provider(*request.provider));
  }
  std::vector<Turn> history;
  std::string conversation_id = request.conversation_id;
  if (!conversation_id.empty()) {
    PLUTO_ASSIGN_OR_RETURN(auto c, records_.conversation(conversation_id, /*with_messages=*/false));
    if (!c) {
      return Error(ErrorCode::not_found, "no conversation with id '" + conversation_id + "'",
                   "omit conversation_id to start a new conversation");
    }
    PLUTO_ASSIGN_OR_RETURN(history, records_.turns(conversation_id, kHistoryTurns));
  }
  Started st;
  st.state.run_id = new_id();
  st.state.question = question;
  st.state.history = std::move(history);
  st.state.conversation_id = conversation_id;
  return start(std::move(st), request.origin, request.provider, request.model, request.base_url, "");
}

Result<AgentRunInfo> AgentService::start(Started st, const std::string& origin, std::optional<std::string> provider,
                                         std::optional<std::string> model, std::optional<std::string> base_url,
                                         const std::string& resumed_from) {
  auto opts = std::make_shared<AgentOptions>(options_);
  if (provider) opts->provider = *provider;
  PLUTO_TRY(check_provider(opts->provider));
  opts->llm.provider = opts->provider;
  if (model) opts->llm.model = *model;
  if (base_url) opts->llm.base_url = *base_url;

  std::shared_ptr<Brain> brain;
  if (opts->provider == "offline") {
    brain = make_offline_brain();
  } else {
    PLUTO_ASSIGN_OR_RETURN(auto p, llm::make_provider(opts->llm));
    brain = make_llm_brain(std::move(p));
  }
  AgentState& state = st.state;
  state.provider = brain->name();
  state.model = brain->model();
  if (state.conversation_id.empty()) {
    const std::string title = state.question.size() > 120 ? state.question.substr(0, 117) + "..." : state.question;
    PLUTO_ASSIGN_OR_RETURN(state.conversation_id, records_.create_conversation(title));
  }
  if (resumed_from.empty()) {
    MessageRecord m;
    m.role = "user";
    m.run_id = state.run_id;
    m.content = state.question;
    PLUTO_TRY(records_.add_message(state.conversation_id, m));
  }
  PLUTO_TRY(records_.save_run(
      {state.run_id, state.conversation_id, state.question, state.provider, state.model, now_rfc3339(), resumed_from}));

  AgentRunInfo info;
  info.run_id = state.run_id;
  info.conversation_id = state.conversation_id;
  info.stream = "agent/" + state.run_id;
  info.events_url = "/api/v1/agent/" + state.run_id + "/events";

  jobs::JobSpec spec;
  spec.id = state.run_id;
  spec.kind = "agent";
  spec.stream = info.stream;
  spec.origin = origin;
  spec.access = jobs::Access::none;  // its queries take shared access themselves
  spec.timeout = std::chrono::milliseconds(opts->run_timeout_ms);
  spec.params = {{"question", state.question},
                 {"conversation_id", state.conversation_id},
                 {"provider", state.provider},
                 {"model", state.model}};
  if (!resumed_from.empty()) spec.params["resumed_from"] = resumed_from;

  auto started = std::make_shared<Started>(std::move(st));
  {
    std::lock_guard lock(live_mu_);
    live_.insert(info.run_id);
  }
  jobs_.submit(std::move(spec), [this, brain, opts, started, resumed_from](jobs::JobContext& jc) -> Result<json> {
    struct Done {
      AgentService& self;
      std::string id;
      ~Done() {
        std::lock_guard lock(self.live_mu_);
        self.live_.erase(id);
      }
    } done{*this, started->state.run_id};
    AgentState s = started->state;
    RunContext rc;
    rc.emit = [&jc](const std::string& type, json data) { jc.emit(type, std::move(data)); };
    rc.cancel = jc.cancel_token();
    rc.catalog = catalog_;
    rc.options = opts.get();
    if (!resumed_from.empty()) {
      rc.emit("agent.resumed",
              {{"from_run_id", resumed_from}, {"from_step", started->first_step - 1}, {"node", started->start_node}});
    }
    auto graph = build_agent_graph({*brain, queries_, warehouse_, jobs_.gate(), rc});
    Graph<AgentState>::RunOptions ro;
    ro.start = started->start_node;
    ro.first_step = started->first_step;
    ro.max_steps = opts->max_steps;
    ro.cancel = rc.cancel;
    ro.checkpoint = [this](const Graph<AgentState>::Step& step, const AgentState& at) {
      return records_.save_checkpoint(at.run_id, step.index, step.node, step.next, at.to_json());
    };
    auto outcome = graph.run(s, ro);
    if (!outcome.ok()) {
      Error e = outcome.take_error();
      if (!rc.cancel->cancelled() && e.code != ErrorCode::cancelled) rc.emit("agent.error", error_json(e));
      log::info("agent run failed", {{"run_id", s.run_id}, {"code", std::string(to_string(e.code))}});
      return e;
    }
    if (s.failure) return *s.failure;
    MessageRecord m;
    m.role = "assistant";
    m.run_id = s.run_id;
    m.content = s.answer;
    m.sql = s.final_sql();
    m.data = {{"answered", !s.answered_without_sql},
              {"chart", s.chart ? json{{"type", s.chart->type}, {"x", s.chart->x}, {"y", s.chart->y}} : json()},
              {"row_count", s.result ? json(s.result->row_count) : json()}};
    if (auto saved = records_.add_message(s.conversation_id, m); !saved.ok()) return saved.take_error();
    return json{{"conversation_id", s.conversation_id},
                {"answer", s.answer},
                {"sql", m.sql.empty() ? json() : json(m.sql)},
                {"chart", m.data["chart"]},
                {"row_count", m.data["row_count"]},
                {"attempts", s.attempts.size()},
                {"answered", !s.answered_without_sql}};
  });
  return info;
}

Result<AgentRunView> AgentService::get(const std::string& run_id) {
  auto job = jobs_.get(run_id);
  if (!job.ok() || job->kind != "agent") {
    return Error(ErrorCode::not_found, "no agent run with id '" + run_id + "'",
                 "start one with POST /api/v1/agent/run or `pluto-duck ask`");
  }
  AgentRunView v;
  v.run_id = run_id;
  v.status = std::string(jobs::to_string(job->status));
  v.created_at = job->created_at;
  v.started_at = job->started_at;
  v.finished_at = job->finished_at;
  v.error = job->error;
  PLUTO_ASSIGN_OR_RETURN(auto run, records_.run(run_id));
  if (run) {
    v.conversation_id = run->conversation_id;
    v.question = run->question;
    v.provider = run->provider;
    v.model = run->model;
    v.resumed_from = run->resumed_from;
  }
  PLUTO_ASSIGN_OR_RETURN(v.checkpoints, records_.checkpoints(run_id, /*with_state=*/false));
  PLUTO_ASSIGN_OR_RETURN(auto last, records_.last_checkpoint(run_id));
  v.state = last ? last->state : json();
  return v;
}

Status AgentService::cancel(const std::string& run_id) {
  auto job = jobs_.get(run_id);
  if (!job.ok() || job->kind != "agent") {
    return Error(ErrorCode::not_found, "no agent run with id '" + run_id + "'");
  }
  return jobs_.cancel(run_id);
}

Result<AgentRunInfo> AgentService::resume(const std::string& run_id, const std::string& origin,
                                          std::optional<std::string> base_url) {
  PLUTO_ASSIGN_OR_RETURN(auto view, get(run_id));
  if (view.status == "queued" || view.status == "running") {
    return Error(ErrorCode::conflict, "agent run " + run_id + " is still " + view.status,
                 "wait for it to finish or cancel it first");
  }
  if (view.status == "succeeded") {
    return Error(ErrorCode::conflict, "agent run " + run_id + " already succeeded", "ask a follow-up question instead");
  }
  PLUTO_ASSIGN_OR_RETURN(auto last, records_.last_checkpoint(run_id));
  if (!last) {
    return Error(ErrorCode::conflict, "agent run " + run_id + " stopped before its first step",
                 "ask the question again");
  }
  if (last->next == kEnd) {
    return Error(ErrorCode::conflict, "agent run " + run_id + " reached the end of its graph",
                 "ask the question again to start over");
  }
  PLUTO_ASSIGN_OR_RETURN(auto state, AgentState::from_json(last->state));
  Started st;
  st.state = std::move(state);
  st.state.run_id = new_id();
  st.state.failure.reset();
  st.start_node = last->next;
  st.first_step = last->step + 1;
  std::optional<std::string> model;
  if (view.provider != "offline") model = view.model;
  return start(std::move(st), origin, view.provider.empty() ? std::nullopt : std::optional<std::string>(view.provider),
               model, std::move(base_url), run_id);
}

Result<ConversationRecord> AgentService::conversation(const std::string& conversation_id) {
  PLUTO_ASSIGN_OR_RETURN(auto c, records_.conversation(conversation_id));
  if (!c) return Error(ErrorCode::not_found, "no conversation with id '" + conversation_id + "'");
  return *c;
}

}  // namespace pluto::agent
