// `pluto-duck dbt run|test|build|seed|ls`: runs dbt on the project as a job (exclusive warehouse
// access) and shows its progress live, from the job's event stream.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>

#include "pluto/cli/context.hpp"
#include "pluto/cli/sigint.hpp"
#include "pluto/events/event_bus.hpp"
#include "pluto/jobs/job_runner.hpp"
#include "pluto/transform/dbt_log.hpp"
#include "pluto/transform/dbt_service.hpp"

namespace pluto::cli {
namespace {

struct DbtCliOptions {
  std::string command;
  std::vector<std::string> select;
  std::vector<std::string> exclude;
  std::string vars;
  bool full_refresh = false;
};

std::string text(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// "view model", "seed", "test"…
std::string kind_of(const nlohmann::json& d) {
  const auto type = text(d, "resource_type");
  const auto mat = text(d, "materialized");
  return type == "model" && !mat.empty() ? mat + " model" : type;
}

std::string position(const nlohmann::json& d) {
  if (!d.contains("index") || !d.contains("total") || !d["index"].is_number_integer() ||
      !d["total"].is_number_integer()) {
    return "       ";
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%3lld/%-3lld", static_cast<long long>(d["index"].get<int64_t>()),
                static_cast<long long>(d["total"].get<int64_t>()));
  return buf;
}

std::string status_word(const std::string& s) {
  if (s == "success") return "OK";
  if (s == "skipped") return "SKIP";
  std::string up = s;
  for (auto& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return up;
}

// One readable line per event worth showing; progress on stdout, dbt's warnings on stderr.
void print_event(const events::Event& e, int verbosity) {
  const auto& d = e.data;
  if (e.type == "dbt.waiting") {
    std::printf("waiting: %s\n", text(d, "reason").c_str());
  } else if (e.type == "dbt.invocation") {
    std::printf("dbt %s in %s\n", text(d, "command").c_str(), text(d, "project_dir").c_str());
  } else if (e.type == "dbt.node_started") {
    std::printf("%s START  %s %s\n", position(d).c_str(), kind_of(d).c_str(), text(d, "name").c_str());
  } else if (e.type == "dbt.node_finished") {
    std::string detail;
    if (!text(d, "message").empty()) detail = text(d, "message") + " ";
    if (d.contains("execution_time")) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "in %.2fs", d["execution_time"].get<double>());
      detail += buf;
    }
    std::printf("%s %-6s %s %s%s\n", position(d).c_str(), status_word(text(d, "status")).c_str(), kind_of(d).c_str(),
                text(d, "name").c_str(), detail.empty() ? "" : (" [" + detail + "]").c_str());
  } else if (e.type == "dbt.list_item") {
    std::printf("%-10s %-40s %s\n", text(d, "resource_type").c_str(), text(d, "unique_id").c_str(),
                text(d, "original_file_path").c_str());
  } else if (e.type == "dbt.log") {
    const auto level = text(d, "level");
    const auto name = text(d, "name");
    if (level == "warn" || level == "error") {
      // dbt's fatal error comes back as the run's error (printed once, at the end).
      const bool shown_later = name == "MainEncounteredError" || name == "stderr";
      if (!shown_later || verbosity > 0) std::fprintf(stderr, "dbt %s: %s\n", level.c_str(), text(d, "msg").c_str());
    } else if (verbosity > 0 || name == "FoundStats" || name == "FinishedRunningStats") {
      std::printf("%s\n", text(d, "msg").c_str());
    }
  }
  std::fflush(stdout);
}

int run_dbt(Context& ctx, const DbtCliOptions& o) {
  nlohmann::json body{{"command", o.command}, {"select", o.select}, {"exclude", o.exclude}};
  if (!o.vars.empty()) body["vars"] = o.vars;
  if (o.full_refresh) body["full_refresh"] = true;
  auto req = transform::DbtRequest::from_json(
      body, {transform::DbtCommand::run, transform::DbtCommand::test, transform::DbtCommand::build,
             transform::DbtCommand::seed, transform::DbtCommand::ls});
  if (!req.ok()) return ctx.fail(req.error());
  req->origin = "cli";

  auto rt = ctx.runtime();
  if (!rt.ok()) return ctx.fail(rt.error());
  auto svc_r = rt.value()->dbt();
  if (!svc_r.ok()) return ctx.fail(svc_r.error());
  transform::DbtService& svc = *svc_r.value();
  auto bus_r = rt.value()->events();
  if (!bus_r.ok()) return ctx.fail(bus_r.error());
  events::EventBus& bus = *bus_r.value();

  SigintGuard sigint;
  auto sub = svc.submit(std::move(req).value());
  if (!sub.ok()) return ctx.fail(sub.error());
  const std::string run_id = sub->run_id;

  int64_t last = 0;
  bool cancel_sent = false;
  while (true) {
    auto r = bus.wait(sub->stream, last, std::chrono::milliseconds(200));
    for (const auto& e : r.events) {
      last = e.id;
      if (!ctx.json()) print_event(e, ctx.global().verbosity);
    }
    if (r.closed) break;
    if (SigintGuard::raised() && !cancel_sent) {
      cancel_sent = true;
      if (!ctx.json()) std::fprintf(stderr, "cancelling dbt (Ctrl-C again does not hurry it)…\n");
      (void)svc.cancel(run_id);
    }
  }

  auto run = svc.get_run(run_id);
  if (!run.ok()) return ctx.fail(run.error());
  const transform::DbtRun& done = run.value();
  if (ctx.json()) {
    auto j = done.to_json();
    if (auto jobs = rt.value()->jobs(); jobs.ok()) {
      if (auto info = jobs.value()->get(run_id);
          info.ok() && info->result.is_object() && info->result.contains("items")) {
        j["items"] = info->result["items"];
      }
    }
    std::printf("%s\n", j.dump().c_str());
  } else {
    const auto& s = done.stats;
    auto count = [&](const char* k) { return s.contains(k) && s[k].is_number() ? s[k].get<int64_t>() : int64_t{0}; };
    const double secs = static_cast<double>(done.duration_ms.value_or(0)) / 1000.0;
    if (s.contains("total")) {
      std::printf("Done in %.1f s: %lld passed, %lld warned, %lld errors, %lld skipped (%lld nodes)\n", secs,
                  static_cast<long long>(count("pass")), static_cast<long long>(count("warn")),
                  static_cast<long long>(count("error")), static_cast<long long>(count("skip")),
                  static_cast<long long>(count("total")));
    } else if (done.command == "ls") {
      std::printf("%lld nodes listed\n", static_cast<long long>(count("listed")));
    }
    std::fflush(stdout);
  }
  if (done.status == "succeeded") return kExitOk;
  if (done.status == "cancelled") {
    if (!ctx.json()) std::fprintf(stderr, "dbt %s cancelled; the warehouse is open again\n", done.command.c_str());
    return kExitInterrupted;
  }
  if (!done.error) return kExitFailed;
  if (done.error->code != ErrorCode::sql_error || ctx.json()) return ctx.fail(*done.error);
  // Failed nodes: each with dbt's error and where its compiled SQL is, then one line to sum up.
  std::vector<std::string> names;
  for (const auto& n : done.nodes) {
    if (!transform::is_failure_status(n.status)) continue;
    names.push_back(n.resource_type + " " + n.name);
    std::fprintf(stderr, "\n%s %s %s:\n%s\n", status_word(n.status).c_str(), n.resource_type.c_str(), n.name.c_str(),
                 n.message.c_str());
    if (!n.compiled_path.empty()) std::fprintf(stderr, "compiled SQL: %s\n", n.compiled_path.c_str());
  }
  std::string list;
  for (size_t i = 0; i < names.size() && i < 5; ++i) list += (i > 0 ? ", " : "") + names[i];
  if (names.size() > 5) list += ", …";
  return ctx.fail(Error(
      ErrorCode::sql_error,
      "dbt " + done.command + " failed: " + std::to_string(names.size()) + " of " + std::to_string(done.nodes.size()) +
          " nodes (" + list + ")",
      "every node's result: pluto-duck --json dbt " + done.command + " …, or GET /api/v1/dbt/runs/" + done.run_id));
}

}  // namespace

void setup_dbt(CLI::App& app, Context& ctx, Runner& run) {
  auto opts = std::make_shared<DbtCliOptions>();
  auto* sub = app.add_subcommand("dbt", "run dbt on the project (the starter project unless dbt.project_dir is set)");
  sub->add_option("command", opts->command, "run, test, build, seed or ls")
      ->required()
      ->check(CLI::IsMember({"run", "test", "build", "seed", "ls"}));
  sub->add_option("-s,--select", opts->select, "dbt node selection (e.g. marts +fct_orders)")->type_name("SELECTOR");
  sub->add_option("--exclude", opts->exclude, "dbt nodes to leave out")->type_name("SELECTOR");
  sub->add_option("--vars", opts->vars, "dbt variables as YAML or JSON, e.g. '{start: 2024-01-01}'")->type_name("YAML");
  sub->add_flag("--full-refresh", opts->full_refresh, "rebuild incremental models and seeds from scratch");
  sub->footer(
      "Exit codes: 0 all nodes passed, 1 a node failed, 2 bad project or options, 3 dbt not installed or the "
      "warehouse cannot be opened, 130 cancelled.");
  sub->callback([&ctx, &run, opts] { run = [&ctx, opts] { return run_dbt(ctx, *opts); }; });
}

}  // namespace pluto::cli
