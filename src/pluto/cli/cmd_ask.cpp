// `pluto-duck ask QUESTION`: runs the data agent in-process (a job, like any run) and streams a
// readable account of it — plan, tables, SQL, a preview of the result, the answer — or, with
// --json, every event envelope as one JSON object per line. Ctrl-C cancels the run (exit 130).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "pluto/agent/agent_service.hpp"
#include "pluto/cli/context.hpp"
#include "pluto/cli/sigint.hpp"
#include "pluto/cli/table_printer.hpp"
#include "pluto/events/event_bus.hpp"

namespace pluto::cli {
namespace {

using nlohmann::json;

struct AskOptions {
  std::string question;
  std::string provider;
  std::string model;
  std::string base_url;
  std::string conversation;
  std::string resume;  // run id
};

constexpr size_t kPreviewRows = 10;

std::string cell(const json& v) {
  if (v.is_null()) return "NULL";
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

std::string indent(const std::string& text, const std::string& pad) {
  std::string out = pad;
  for (char c : text) {
    out += c;
    if (c == '\n') out += pad;
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == '\n')) out.pop_back();
  return out;
}

// Prints one event as part of the readable account. Returns true when answer text is mid-line.
void print_event(const events::Event& e, bool& in_answer) {
  const json& d = e.data;
  auto out = [](const std::string& s) { std::fputs(s.c_str(), stdout); };
  if (e.type != "agent.answer_delta" && in_answer) {
    out("\n");
    in_answer = false;
  }
  if (e.type == "agent.plan") {
    out("plan: " + d.value("intent", std::string("?")) + " (" + d.value("provider", std::string()) +
        (d.value("model", std::string()).empty() ? "" : " " + d.value("model", std::string())) + ")\n");
    int i = 0;
    for (const auto& s : d.value("steps", json::array())) out("  " + std::to_string(++i) + ". " + cell(s) + "\n");
  } else if (e.type == "agent.schema") {
    std::string names;
    for (const auto& t : d.value("tables", json::array())) {
      names += (names.empty() ? "" : ", ") + t.value("name", std::string());
    }
    out("tables: " + (names.empty() ? std::string("(none)") : names) + "\n");
  } else if (e.type == "agent.waiting") {
    out("waiting: " + d.value("reason", std::string()) + "\n");
  } else if (e.type == "agent.tool_call") {
    out("tool: " + d.value("name", std::string()) + " " + d.value("arguments", json::object()).dump() + "\n");
  } else if (e.type == "agent.llm_retry") {
    char wait[32];
    std::snprintf(wait, sizeof wait, "%.1f", static_cast<double>(d.value("wait_ms", int64_t{0})) / 1000.0);
    out("model: retrying in " + std::string(wait) + " s (" + d.value("reason", std::string()) + ")\n");
  } else if (e.type == "agent.sql") {
    out("\nSQL (attempt " + std::to_string(d.value("attempt", 0)) + "):\n" +
        indent(d.value("sql", std::string()), "  ") + "\n");
  } else if (e.type == "agent.result") {
    std::vector<std::string> header;
    for (const auto& c : d.value("columns", json::array())) header.push_back(c.value("name", std::string()));
    TablePrinter table(header);
    const auto rows = d.value("rows", json::array());
    for (size_t i = 0; i < rows.size() && i < kPreviewRows; ++i) {
      std::vector<std::string> r;
      for (const auto& v : rows[i]) r.push_back(cell(v));
      table.add(std::move(r));
    }
    const int64_t n = d.value("row_count", int64_t{0});
    out("\n" + indent(table.render(), "  ") + "\n  (" + std::to_string(n) + (n == 1 ? " row" : " rows") +
        (static_cast<size_t>(n) > std::min(rows.size(), kPreviewRows)
             ? ", first " + std::to_string(std::min(rows.size(), kPreviewRows)) + " shown"
             : "") +
        ")\n");
  } else if (e.type == "agent.retry") {
    out("retry: " + d.value("outcome", std::string()) + ": " + d.value("reason", std::string()) + "\n");
  } else if (e.type == "agent.resumed") {
    out("resumed from run " + d.value("from_run_id", std::string()) + " at " + d.value("node", std::string()) + "\n");
  } else if (e.type == "agent.answer_delta") {
    if (!in_answer) out("\nanswer: ");
    in_answer = true;
    out(d.value("text", std::string()));
  } else if (e.type == "agent.answer") {
    const auto& chart = d.contains("chart") ? d["chart"] : json();
    if (chart.is_object()) {
      out("chart: " + chart.value("type", std::string()) + " (x: " + chart.value("x", std::string()) +
          ", y: " + chart.value("y", std::string()) + ")\n");
    }
  }
  std::fflush(stdout);
}

int run_ask(Context& ctx, const AskOptions& o) {
  auto rt = ctx.runtime();
  if (!rt.ok()) return ctx.fail(rt.error());
  auto agent = rt.value()->agent();
  if (!agent.ok()) return ctx.fail(agent.error());
  auto bus = rt.value()->events();
  if (!bus.ok()) return ctx.fail(bus.error());

  agent::AgentRequest req;
  req.question = o.question;
  req.conversation_id = o.conversation;
  req.origin = "cli";
  if (!o.provider.empty()) req.provider = o.provider;
  if (!o.model.empty()) req.model = o.model;
  if (!o.base_url.empty()) req.base_url = o.base_url;
  SigintGuard sigint;
  auto info = o.resume.empty() ? agent.value()->submit(req) : agent.value()->resume(o.resume, "cli", req.base_url);
  if (!info.ok()) return ctx.fail(info.error());
  const std::string run_id = info->run_id;

  bool cancel_sent = false;
  bool in_answer = false;
  int64_t last = 0;
  while (true) {
    if (SigintGuard::raised() && !cancel_sent) {
      cancel_sent = true;
      (void)agent.value()->cancel(run_id);
    }
    auto r = bus.value()->wait(info->stream, last, std::chrono::milliseconds(100));
    for (const auto& e : r.events) {
      last = e.id;
      if (ctx.json()) {
        std::fputs((e.envelope().dump(-1, ' ', false, json::error_handler_t::replace) + "\n").c_str(), stdout);
        std::fflush(stdout);
      } else {
        print_event(e, in_answer);
      }
    }
    if (r.closed) break;
  }
  if (in_answer) std::fputs("\n", stdout);

  auto view = agent.value()->get(run_id);
  if (!view.ok()) return ctx.fail(view.error());
  if (view->status == "succeeded") {
    if (!ctx.json()) std::printf("\nrun %s · conversation %s\n", run_id.c_str(), view->conversation_id.c_str());
    return kExitOk;
  }
  if (view->status == "cancelled") {
    return ctx.fail(view->error.value_or(Error(ErrorCode::cancelled, "the agent run was cancelled")));
  }
  return ctx.fail(view->error.value_or(Error(ErrorCode::internal, "the agent run ended as " + view->status)));
}

}  // namespace

void setup_ask(CLI::App& app, Context& ctx, Runner& run) {
  auto opts = std::make_shared<AskOptions>();
  auto* sub = app.add_subcommand("ask", "ask the data agent a question in plain language");
  auto* question = sub->add_option("question", opts->question, "the question, e.g. \"how many customers are there?\"");
  sub->add_option("--provider", opts->provider,
                  "offline (default, no network), mock, openai or anthropic (llm.provider)")
      ->check(CLI::IsMember({"offline", "mock", "openai", "anthropic"}));
  sub->add_option("--model", opts->model, "model name (llm.model)")->type_name("NAME");
  sub->add_option("--base-url", opts->base_url, "API base URL, e.g. http://127.0.0.1:11434/v1 (llm.base_url)")
      ->type_name("URL");
  sub->add_option("--conversation", opts->conversation, "continue a conversation (its id) with a follow-up")
      ->type_name("ID");
  auto* resume = sub->add_option("--resume", opts->resume,
                                 "continue a run that did not finish (interrupted, cancelled, failed) from its last "
                                 "checkpoint, instead of asking a new question")
                     ->type_name("RUN_ID");
  resume->excludes(question);
  sub->add_flag("--json", ctx.global().json, "print every event envelope as one JSON object per line");
  sub->callback([&ctx, &run, opts, question, resume] {
    if (question->count() == 0 && resume->count() == 0) throw CLI::RequiredError("QUESTION (or --resume RUN_ID)");
    run = [&ctx, opts] { return run_ask(ctx, *opts); };
  });
}

}  // namespace pluto::cli
