// `pluto-duck doctor`: checks the installation and data dir, each check pass/warn/fail with a fix.
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "pluto/cli/context.hpp"
#include "pluto/store/store.hpp"
#include "pluto/transform/dbt_service.hpp"
#include "pluto/warehouse/warehouse.hpp"

namespace pluto::cli {
namespace {

struct Check {
  std::string name;
  std::string status;  // pass, warn, fail
  std::string detail;
  std::string fix;
};

Check check_disk(const std::filesystem::path& dir) {
  struct statvfs s {};
  if (::statvfs(dir.c_str(), &s) != 0) return {"free disk", "warn", "cannot read free space of " + dir.string(), ""};
  const double gib = static_cast<double>(s.f_bavail) * static_cast<double>(s.f_frsize) / (1024.0 * 1024.0 * 1024.0);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f GiB free", gib);
  if (gib < 1.0) return {"free disk", "warn", buf, "free some space: DuckDB spills to disk for large queries"};
  return {"free disk", "pass", buf, ""};
}

Check check_extensions(const Config& cfg) {
  const std::string dir = cfg.get("warehouse.extension_directory");
  warehouse::OpenOptions o;
  o.extension_directory = dir;
  auto db = warehouse::Database::open(o);
  if (!db.ok()) return {"extensions", "fail", db.error().message, ""};
  auto conn = db.value().connect();
  if (!conn.ok()) return {"extensions", "fail", conn.error().message, ""};
  for (const char* ext : {"postgres", "sqlite"}) {
    auto st = conn.value().run(std::string("LOAD ") + ext);
    if (!st.ok()) {
      return {"extensions", "warn", std::string(ext) + " extension does not load from " + dir,
              "run scripts/setup (it installs the pinned duckdb-ext-* packages), or set "
              "warehouse.extension_directory"};
    }
  }
  return {"extensions", "pass", "postgres and sqlite load from " + dir, ""};
}

// dbt (scripts/setup installs it into .venv): the dbt-core and adapter versions, or how to install.
Check check_dbt(const Config& cfg) {
  auto exe = transform::locate_dbt(transform::DbtOptions::from_config(cfg));
  if (!exe.ok()) return {"dbt", "warn", exe.error().message, exe.error().hint};
  auto v = transform::probe_versions(exe.value());
  if (!v.ok()) return {"dbt", "warn", v.error().message, v.error().hint};
  const auto pinned = transform::pinned_versions();
  const std::string detail =
      "dbt-core " + v->dbt_core + ", dbt-duckdb " + (v->dbt_duckdb.empty() ? std::string("missing") : v->dbt_duckdb) +
      (v->duckdb.empty() ? std::string() : ", duckdb " + v->duckdb) + " (" + exe.value().string() + ")";
  const std::string pip = "pip install dbt-core==" + pinned.dbt_core + " dbt-duckdb==" + pinned.dbt_duckdb +
                          " duckdb==" + pinned.duckdb + " next to that dbt, or run scripts/setup";
  if (v->dbt_duckdb.empty()) return {"dbt", "warn", detail, "the duckdb adapter is missing: " + pip};
  if (!v->duckdb.empty() && v->duckdb != pinned.duckdb) {
    return {"dbt", "warn", detail + "; the warehouse uses DuckDB " + pinned.duckdb,
            "use the same DuckDB version so both read and write the same file format: " + pip};
  }
  return {"dbt", "pass", detail, ""};
}

int run_doctor(Context& ctx) {
  std::vector<Check> checks;
  auto cfg_r = ctx.config();
  if (!cfg_r.ok()) {
    checks.push_back({"config", "fail", cfg_r.error().message, cfg_r.error().hint});
  } else {
    const Config& cfg = *cfg_r.value();
    checks.push_back({"data dir", ::access(cfg.data_dir().c_str(), W_OK) == 0 ? "pass" : "fail",
                      cfg.data_dir().string() + " is writable", "choose another with --data-dir"});
    checks.push_back({"config", cfg.warnings().empty() ? "pass" : "warn",
                      cfg.warnings().empty() ? "valid" : cfg.warnings().front(),
                      cfg.warnings().empty() ? "" : "remove or rename the setting"});
    checks.push_back(check_disk(cfg.data_dir()));
    auto rt = ctx.runtime();
    if (!rt.ok()) {
      checks.push_back({"warehouse", "fail", rt.error().message, rt.error().hint});
    } else {
      auto wh = rt.value()->warehouse();
      if (wh.ok()) {
        checks.push_back({"warehouse", "pass",
                          cfg.get("warehouse.path") + " opens (DuckDB " + warehouse::Warehouse::duckdb_version() + ")",
                          ""});
      } else {
        checks.push_back({"warehouse", "fail", wh.error().message, wh.error().hint});
      }
      auto st = rt.value()->store();
      if (st.ok()) {
        checks.push_back({"metadata store", "pass",
                          (cfg.data_dir() / "pluto.sqlite").string() + " (schema " +
                              std::to_string(st.value()->schema_version()) + ")",
                          ""});
      } else {
        checks.push_back({"metadata store", "fail", st.error().message, st.error().hint});
      }
    }
    checks.push_back(check_extensions(cfg));
    checks.push_back(check_dbt(cfg));
  }

  bool failed = false;
  for (const auto& c : checks) failed = failed || c.status == "fail";
  if (ctx.json()) {
    std::string out = std::string("{\"ok\":") + (failed ? "false" : "true") + ",\"checks\":[";
    for (size_t i = 0; i < checks.size(); ++i) {
      const auto& c = checks[i];
      out += (i > 0 ? "," : "") + std::string("{\"name\":") + json_quote(c.name) +
             ",\"status\":" + json_quote(c.status) + ",\"detail\":" + json_quote(c.detail) +
             ",\"fix\":" + json_quote(c.fix) + "}";
    }
    out += "]}\n";
    std::fputs(out.c_str(), stdout);
  } else {
    for (const auto& c : checks) {
      std::printf("%-5s %-15s %s\n", c.status.c_str(), c.name.c_str(), c.detail.c_str());
      if (!c.fix.empty() && c.status != "pass") std::printf("      %-15s fix: %s\n", "", c.fix.c_str());
    }
    std::printf("%s\n", failed ? "Some checks failed." : "All checks passed.");
  }
  return failed ? kExitFailed : kExitOk;
}

}  // namespace

void setup_doctor(CLI::App& app, Context& ctx, Runner& run) {
  auto* sub = app.add_subcommand("doctor", "check the installation, data dir, warehouse and extensions");
  sub->callback([&ctx, &run] { run = [&ctx] { return run_doctor(ctx); }; });
}

}  // namespace pluto::cli
