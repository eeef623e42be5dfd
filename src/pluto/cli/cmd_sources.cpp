// `pluto-duck sources add|list|test|tables|remove|attach|detach`: saved data sources. Passwords go
// to <data_dir>/secrets/ (or stay in an environment variable) and are never printed.
#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>

#include "pluto/cli/context.hpp"
#include "pluto/cli/table_printer.hpp"
#include "pluto/ingest/ingest_service.hpp"

namespace pluto::cli {
namespace {

struct SourcesCliOptions {
  std::string name;
  std::string uri;
  std::string password_env;
  bool password_stdin = false;
};

Result<ingest::IngestService*> service(Context& ctx) {
  PLUTO_ASSIGN_OR_RETURN(Runtime * rt, ctx.runtime());
  return rt->ingest();
}

void print_json(const nlohmann::json& j) {
  std::printf("%s\n", j.dump().c_str());
  std::fflush(stdout);
}

int run_add(Context& ctx, const SourcesCliOptions& o) {
  auto svc = service(ctx);
  if (!svc.ok()) return ctx.fail(svc.error());
  ingest::AddSourceRequest req;
  req.name = o.name;
  req.uri = o.uri;
  req.password_env = o.password_env;
  if (o.password_stdin) {
    std::getline(std::cin, req.password);
    if (req.password.empty()) {
      return ctx.fail(Error(ErrorCode::invalid_argument, "--password-stdin read an empty password",
                            "pipe the password in, e.g. printf %s \"$PW\" | pluto-duck sources add …"));
    }
  }
  auto rec = svc.value()->add_source(req);
  if (!rec.ok()) return ctx.fail(rec.error());
  if (ctx.json()) {
    print_json(rec->to_json());
  } else {
    std::printf("saved source %s (%s, %s; password: %s)\n", rec->name.c_str(),
                std::string(ingest::to_string(rec->kind)).c_str(), rec->location.c_str(),
                rec->to_json()["password"].get<std::string>().c_str());
  }
  return kExitOk;
}

int run_list(Context& ctx) {
  auto svc = service(ctx);
  if (!svc.ok()) return ctx.fail(svc.error());
  auto list = svc.value()->list_sources();
  if (!list.ok()) return ctx.fail(list.error());
  if (ctx.json()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& s : list.value()) out.push_back(s.to_json());
    print_json(out);
    return kExitOk;
  }
  TablePrinter p({"name", "kind", "location", "password", "attached"});
  for (const auto& s : list.value()) {
    p.add({s.name, std::string(ingest::to_string(s.kind)), s.location, s.to_json()["password"].get<std::string>(),
           s.attached ? "yes" : "no"});
  }
  std::fputs(p.render().c_str(), stdout);
  return kExitOk;
}

int run_test(Context& ctx, const SourcesCliOptions& o) {
  auto svc = service(ctx);
  if (!svc.ok()) return ctx.fail(svc.error());
  auto r = svc.value()->test_source(o.name);
  if (!r.ok()) return ctx.fail(r.error());
  if (ctx.json()) {
    print_json(r.value());
  } else {
    std::printf("ok: %s\n", r.value()["detail"].get<std::string>().c_str());
  }
  return kExitOk;
}

int run_tables(Context& ctx, const SourcesCliOptions& o) {
  auto svc = service(ctx);
  if (!svc.ok()) return ctx.fail(svc.error());
  auto r = svc.value()->source_tables(o.name);
  if (!r.ok()) return ctx.fail(r.error());
  if (ctx.json()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& t : r.value()) out.push_back(t.to_json());
    print_json(out);
    return kExitOk;
  }
  TablePrinter p({"schema", "name", "kind", "bytes"});
  for (const auto& t : r.value()) p.add({t.schema, t.name, t.kind, t.bytes ? std::to_string(*t.bytes) : ""});
  std::fputs(p.render().c_str(), stdout);
  return kExitOk;
}

int run_remove(Context& ctx, const SourcesCliOptions& o) {
  auto svc = service(ctx);
  if (!svc.ok()) return ctx.fail(svc.error());
  if (auto st = svc.value()->remove_source(o.name); !st.ok()) return ctx.fail(st.error());
  if (ctx.json()) {
    print_json({{"removed", o.name}});
  } else {
    std::printf("removed source %s\n", o.name.c_str());
  }
  return kExitOk;
}

int run_attach(Context& ctx, const SourcesCliOptions& o) {
  auto svc = service(ctx);
  if (!svc.ok()) return ctx.fail(svc.error());
  auto r = svc.value()->attach_source(o.name);
  if (!r.ok()) return ctx.fail(r.error());
  if (ctx.json()) {
    print_json(r.value());
    return kExitOk;
  }
  const auto& j = r.value();
  std::printf("attached %s read-only as database %s; query it as %s.SCHEMA.TABLE\n",
              j["name"].get<std::string>().c_str(), j["database"].get<std::string>().c_str(),
              j["database"].get<std::string>().c_str());
  TablePrinter p({"table", "kind"});
  for (const auto& t : j["tables"]) {
    p.add({j["database"].get<std::string>() + "." + t["schema"].get<std::string>() + "." + t["name"].get<std::string>(),
           t["kind"].get<std::string>()});
  }
  std::fputs(p.render().c_str(), stdout);
  return kExitOk;
}

int run_detach(Context& ctx, const SourcesCliOptions& o) {
  auto svc = service(ctx);
  if (!svc.ok()) return ctx.fail(svc.error());
  if (auto st = svc.value()->detach_source(o.name); !st.ok()) return ctx.fail(st.error());
  if (ctx.json()) {
    print_json({{"detached", o.name}});
  } else {
    std::printf("detached source %s\n", o.name.c_str());
  }
  return kExitOk;
}

}  // namespace

void setup_sources(CLI::App& app, Context& ctx, Runner& run) {
  auto o = std::make_shared<SourcesCliOptions>();
  auto* sources = app.add_subcommand("sources", "saved data sources: add, list, test, tables, remove, attach, detach");
  sources->require_subcommand(1);

  auto* add = sources->add_subcommand("add", "save a source under a name (its password goes to secrets/)");
  add->add_option("name", o->name, "source name: a letter, then letters, digits or _")->required();
  add->add_option("uri", o->uri, "postgresql://USER[:PASSWORD]@HOST[:PORT]/DB, sqlite:PATH, or a path/glob/directory")
      ->required();
  add->add_option("--password-env", o->password_env, "read the password from this environment variable when used")
      ->type_name("VAR");
  add->add_flag("--password-stdin", o->password_stdin, "read the password from stdin (kept out of shell history)");
  add->callback([&ctx, &run, o] { run = [&ctx, o] { return run_add(ctx, *o); }; });

  auto* list = sources->add_subcommand("list", "list saved sources (never their passwords)");
  list->callback([&ctx, &run] { run = [&ctx] { return run_list(ctx); }; });

  auto* test = sources->add_subcommand("test", "connect to a source and describe it");
  test->add_option("name", o->name, "saved source name (or a URI, sqlite:PATH, path)")->required();
  test->callback([&ctx, &run, o] { run = [&ctx, o] { return run_test(ctx, *o); }; });

  auto* tables = sources->add_subcommand("tables", "list a source's schemas and tables (or a path's files)");
  tables->add_option("name", o->name, "saved source name (or a URI, sqlite:PATH, path)")->required();
  tables->callback([&ctx, &run, o] { run = [&ctx, o] { return run_tables(ctx, *o); }; });

  auto* remove = sources->add_subcommand("remove", "forget a saved source and delete its stored password");
  remove->add_option("name", o->name, "saved source name")->required();
  remove->callback([&ctx, &run, o] { run = [&ctx, o] { return run_remove(ctx, *o); }; });

  auto* attach = sources->add_subcommand(
      "attach", "make a saved database source queryable read-only from the warehouse, without copying");
  attach->add_option("name", o->name, "saved PostgreSQL or SQLite source")->required();
  attach->callback([&ctx, &run, o] { run = [&ctx, o] { return run_attach(ctx, *o); }; });

  auto* detach = sources->add_subcommand("detach", "stop attaching a source");
  detach->add_option("name", o->name, "saved source name")->required();
  detach->callback([&ctx, &run, o] { run = [&ctx, o] { return run_detach(ctx, *o); }; });
}

}  // namespace pluto::cli
