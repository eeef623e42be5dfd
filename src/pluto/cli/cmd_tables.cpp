// `pluto-duck tables`: the tables and views of the warehouse, with row counts.
#include <cstdio>

#include "pluto/cli/context.hpp"
#include "pluto/cli/table_printer.hpp"
#include "pluto/warehouse/warehouse.hpp"

namespace pluto::cli {
namespace {

int run_tables(Context& ctx) {
  auto rt = ctx.runtime();
  if (!rt.ok()) return ctx.fail(rt.error());
  auto wh = rt.value()->warehouse();
  if (!wh.ok()) return ctx.fail(wh.error());
  auto lease = wh.value()->pool().acquire();
  if (!lease.ok()) return ctx.fail(lease.error());
  auto tables = warehouse::list_tables(lease.value().connection());
  if (!tables.ok()) return ctx.fail(tables.error());

  if (ctx.json()) {
    std::string out = "[";
    for (const auto& t : tables.value()) {
      if (out.size() > 1) out += ',';
      out += "{\"database\":" + json_quote(t.database) + ",\"schema\":" + json_quote(t.schema) +
             ",\"name\":" + json_quote(t.name) + ",\"kind\":" + json_quote(t.kind) +
             ",\"row_count\":" + (t.row_count ? std::to_string(*t.row_count) : "null") +
             ",\"column_count\":" + std::to_string(t.column_count) + "}";
    }
    out += "]\n";
    std::fputs(out.c_str(), stdout);
    return kExitOk;
  }
  if (tables.value().empty()) {
    std::puts("The warehouse has no tables yet. Create one with `pluto-duck query \"CREATE TABLE …\"`.");
    return kExitOk;
  }
  TablePrinter p({"schema", "name", "kind", "rows", "columns"});
  for (const auto& t : tables.value()) {
    const std::string schema = t.database + "." + t.schema;
    p.add({schema, t.name, t.kind, t.row_count ? std::to_string(*t.row_count) : "", std::to_string(t.column_count)});
  }
  std::fputs(p.render().c_str(), stdout);
  return kExitOk;
}

}  // namespace

void setup_tables(CLI::App& app, Context& ctx, Runner& run) {
  auto* sub = app.add_subcommand("tables", "list the warehouse's tables and views");
  sub->callback([&ctx, &run] { run = [&ctx] { return run_tables(ctx); }; });
}

}  // namespace pluto::cli
