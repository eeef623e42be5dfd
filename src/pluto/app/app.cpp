#include "pluto/app/app.hpp"

#include <pthread.h>
#include <signal.h>

#include <thread>

#include "pluto/actions/builtin.hpp"
#include "pluto/api/server.hpp"
#include "pluto/core/log.hpp"

namespace pluto::app {

App::~App() {
  // Stop order: jobs first (they use everything), then the rest in reverse of construction.
  if (jobs_) jobs_->shutdown();
  actions_.reset();
  queries_.reset();
  // --- more shutdown steps below ---
  agent_.reset();
}

warehouse::WarehouseOptions App::warehouse_options(const Config& config) {
  warehouse::WarehouseOptions o;
  o.path = config.get("warehouse.path");
  o.memory_limit = config.get("warehouse.memory_limit");
  o.threads = config.get_int("warehouse.threads");
  o.extension_directory = config.get("warehouse.extension_directory");
  o.home_directory = config.data_dir().string();
  o.pool_size = config.get_int("warehouse.pool_size");
  return o;
}

Result<store::Store*> App::store() {
  if (!store_) {
    PLUTO_ASSIGN_OR_RETURN(store_, store::Store::open(config_.data_dir() / "pluto.sqlite"));
  }
  return store_.get();
}

Result<warehouse::Warehouse*> App::warehouse() {
  if (!warehouse_) {
    PLUTO_ASSIGN_OR_RETURN(warehouse_, warehouse::Warehouse::open(warehouse_options(config_)));
    log::debug("warehouse opened", {{"path", config_.get("warehouse.path")}});
#ifdef PLUTO_HAS_INGEST
    // Live sources attached earlier (`sources attach`) are queryable in every command, and again after
    // a dbt run reopened the warehouse. One that cannot be reached is logged, not fatal.
    PLUTO_ASSIGN_OR_RETURN(ingest::IngestService * ing, ingest());
    (void)ing->restore_attachments();
    warehouse_->on_reopen([ing] { (void)ing->restore_attachments(); });
#endif
  }
  return warehouse_.get();
}

Result<events::EventBus*> App::events() {
  if (!events_) {
    PLUTO_ASSIGN_OR_RETURN(store::Store * st, store());
    PLUTO_TRY(events::EventBus::migrate(*st));
    events_ = std::make_unique<events::EventBus>(st);
  }
  return events_.get();
}

Result<jobs::JobRunner*> App::jobs() {
  if (!jobs_) {
    PLUTO_ASSIGN_OR_RETURN(store::Store * st, store());
    PLUTO_ASSIGN_OR_RETURN(events::EventBus * bus, events());
    PLUTO_TRY(jobs::JobRunner::migrate(*st));
    jobs_ = std::make_unique<jobs::JobRunner>(st, *bus);
  }
  return jobs_.get();
}

Result<query::QueryService*> App::queries() {
  if (!queries_) {
    PLUTO_ASSIGN_OR_RETURN(store::Store * st, store());
    PLUTO_ASSIGN_OR_RETURN(warehouse::Warehouse * wh, warehouse());
    PLUTO_ASSIGN_OR_RETURN(jobs::JobRunner * jr, jobs());
    queries_ = std::make_unique<query::QueryService>(query::ServiceOptions::from_config(config_), *st, *wh, *jr);
  }
  return queries_.get();
}

Result<actions::Catalog*> App::actions() {
  if (!actions_) {
    PLUTO_ASSIGN_OR_RETURN(query::QueryService * q, queries());
    auto catalog = std::make_unique<actions::Catalog>();
    query::SqlValidator safe;
    // --- safe-mode validator below ---
    safe = query::sql_guard_validator();
    actions::register_query_actions(*catalog, *q, safe);
    // --- more actions below ---
#ifdef PLUTO_HAS_INGEST
    PLUTO_TRY(add_ingest_actions(*catalog));
#endif
#ifdef PLUTO_HAS_TRANSFORM
    PLUTO_TRY(add_dbt_actions(*catalog));
#endif
    actions_ = std::move(catalog);
  }
  return actions_.get();
}

Status App::serve(const std::function<void(const std::string& url)>& on_ready) {
  // Block SIGINT/SIGTERM before any service thread starts, so one thread below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  PLUTO_ASSIGN_OR_RETURN(query::QueryService * q, queries());
  PLUTO_ASSIGN_OR_RETURN(actions::Catalog * catalog, actions());
  PLUTO_ASSIGN_OR_RETURN(jobs::JobRunner * jr, jobs());
  PLUTO_ASSIGN_OR_RETURN(events::EventBus * bus, events());
  PLUTO_ASSIGN_OR_RETURN(warehouse::Warehouse * wh, warehouse());
  api::ServerOptions o;
  o.host = config_.get("server.host");
  o.port = static_cast<int>(config_.get_int("server.port"));
  o.api_token = config_.get("server.api_token");
  o.web_root = PLUTO_WEB_ROOT;
  api::Services services{*q, *jr, *bus, *wh, *catalog};
  services.imports_dir = config_.data_dir() / "imports";
#ifdef PLUTO_HAS_INGEST
  PLUTO_ASSIGN_OR_RETURN(services.ingest, ingest());
#endif
#ifdef PLUTO_HAS_TRANSFORM
  PLUTO_ASSIGN_OR_RETURN(services.dbt, dbt());
#endif
  // --- more routes below ---
  PLUTO_ASSIGN_OR_RETURN(services.agent, agent());
  PLUTO_ASSIGN_OR_RETURN(auto server, api::Server::create(o, std::move(services)));
  PLUTO_ASSIGN_OR_RETURN(const int port, server->bind());
  (void)port;
  log::info("server listening", {{"url", server->url()}});
  if (on_ready) on_ready(server->url());

  std::thread waiter([&server, signals] {
    int sig = 0;
    sigwait(&signals, &sig);
    log::info("stopping on signal", {{"signal", sig}});
    server->stop();
  });
  auto st = server->serve();
  // serve() also returns when stopped from elsewhere; make the waiter return too.
  // The waiter sits in sigwait() with SIGTERM blocked: this wakes it, it does not kill the thread.
  pthread_kill(waiter.native_handle(), SIGTERM);  // NOLINT(bugprone-bad-signal-to-kill-thread)
  waiter.join();
  jr->shutdown();
  return st;
}

// --- more service implementations below ---

#ifdef PLUTO_HAS_INGEST
// source.list, source.tables, source.ingest. Files named by an action are held to ingest.allowed_dirs
// unless the call comes from the CLI (the user's own shell).
Status App::add_ingest_actions(actions::Catalog& catalog) {
  PLUTO_ASSIGN_OR_RETURN(ingest::IngestService * ing, ingest());
  PLUTO_ASSIGN_OR_RETURN(jobs::JobRunner * jr, jobs());
  for (auto& spec : ingest::action_specs()) {
    actions::Action a;
    a.name = spec.name;
    a.description = spec.description;
    a.params_schema = spec.params_schema;
    a.result_schema = spec.result_schema;
    a.read_only = spec.name != "source.ingest";
    if (spec.name == "source.list") {
      a.handler = [ing](const nlohmann::json& p, actions::ActionContext&) { return ingest::source_list(*ing, p); };
    } else if (spec.name == "source.tables") {
      a.handler = [ing](const nlohmann::json& p, actions::ActionContext&) { return ingest::source_tables(*ing, p); };
    } else if (spec.name == "source.ingest") {
      a.handler = [ing, jr](const nlohmann::json& p, actions::ActionContext& ctx) {
        return ingest::source_ingest(*ing, *jr, p, ctx.origin, /*restrict_paths=*/ctx.origin != "cli");
      };
    } else {
      return Error(ErrorCode::internal, "no handler for ingestion action " + spec.name);
    }
    catalog.add(std::move(a));
  }
  return {};
}
#endif

#ifdef PLUTO_HAS_TRANSFORM
// dbt.run, dbt.models, dbt.lineage.
Status App::add_dbt_actions(actions::Catalog& catalog) {
  PLUTO_ASSIGN_OR_RETURN(transform::DbtService * dbt_service, dbt());
  for (auto& d : transform::dbt_actions(*dbt_service)) {
    actions::Action a;
    a.name = d.name;
    a.description = d.description;
    a.params_schema = d.params_schema;
    a.result_schema = d.result_schema;
    a.read_only = d.read_only;
    a.handler = [h = d.handler](const nlohmann::json& p, actions::ActionContext& ctx) {
      return h(p, ctx.origin, ctx.cancel);
    };
    catalog.add(std::move(a));
  }
  return {};
}
#endif

Result<agent::AgentService*> App::agent() {
  if (!agent_) {
    PLUTO_ASSIGN_OR_RETURN(store::Store * st, store());
    PLUTO_ASSIGN_OR_RETURN(warehouse::Warehouse * wh, warehouse());
    PLUTO_ASSIGN_OR_RETURN(query::QueryService * q, queries());
    PLUTO_ASSIGN_OR_RETURN(jobs::JobRunner * jr, jobs());
    PLUTO_ASSIGN_OR_RETURN(events::EventBus * bus, events());
    PLUTO_ASSIGN_OR_RETURN(actions::Catalog * catalog, actions());
    PLUTO_ASSIGN_OR_RETURN(agent_, agent::AgentService::create(config_, *st, *wh, *q, *jr, *bus, catalog));
  }
  return agent_.get();
}

Result<ingest::IngestService*> App::ingest() {
  if (!ingest_) {
    PLUTO_ASSIGN_OR_RETURN(store::Store * st, store());
    PLUTO_ASSIGN_OR_RETURN(warehouse::Warehouse * wh, warehouse());
    PLUTO_ASSIGN_OR_RETURN(ingest_,
                           ingest::IngestService::create(*wh, *st, ingest::IngestSettings::from_config(config_)));
  }
  return ingest_.get();
}

Result<transform::DbtService*> App::dbt() {
  if (!dbt_) {
    PLUTO_ASSIGN_OR_RETURN(store::Store * st, store());
    PLUTO_ASSIGN_OR_RETURN(jobs::JobRunner * jr, jobs());
    // The warehouse is opened only for commands that need it (not `dbt ls`, which then works next
    // to a server holding the file).
    PLUTO_ASSIGN_OR_RETURN(dbt_, transform::DbtService::create(
                                     transform::DbtOptions::from_config(config_), *st,
                                     [this]() -> Result<warehouse::Warehouse*> { return warehouse(); }, *jr));
  }
  return dbt_.get();
}

cli::RuntimeFactory runtime_factory() {
  return [](Config config) -> Result<std::unique_ptr<cli::Runtime>> {
    return std::unique_ptr<cli::Runtime>(std::make_unique<App>(std::move(config)));
  };
}

}  // namespace pluto::app
