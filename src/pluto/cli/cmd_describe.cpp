// `pluto-duck describe TABLE`: columns, types and row count of one table or view.
#include <cstdio>

#include "pluto/cli/context.hpp"
#include "pluto/cli/table_printer.hpp"
#include "pluto/warehouse/warehouse.hpp"

namespace pluto::cli {
namespace {

int run_describe(Context& ctx, const std::string& name) {
  auto rt = ctx.runtime();
  if (!rt.ok()) return ctx.fail(rt.error());
  auto wh = rt.value()->warehouse();
  if (!wh.ok()) return ctx.fail(wh.error());
  auto lease = wh.value()->pool().acquire();
  if (!lease.ok()) return ctx.fail(lease.error());
  auto d = warehouse::describe_table(lease.value().connection(), name);
  if (!d.ok()) return ctx.fail(d.error());
  const auto& t = d.value().table;

  if (ctx.json()) {
    std::string out = "{\"database\":" + json_quote(t.database) + ",\"schema\":" + json_quote(t.schema) +
                      ",\"name\":" + json_quote(t.name) + ",\"kind\":" + json_quote(t.kind) +
                      ",\"row_count\":" + (t.row_count ? std::to_string(*t.row_count) : "null") +
                      ",\"comment\":" + json_quote(t.comment) + ",\"columns\":[";
    bool first = true;
    for (const auto& c : d.value().columns) {
      if (!first) out += ',';
      first = false;
      out += "{\"name\":" + json_quote(c.name) + ",\"type\":" + json_quote(c.type) +
             ",\"nullable\":" + (c.nullable ? "true" : "false") +
             ",\"default\":" + (c.default_value.empty() ? "null" : json_quote(c.default_value)) +
             ",\"comment\":" + json_quote(c.comment) + "}";
    }
    out += "],\"definition\":" + json_quote(d.value().definition) + "}\n";
    std::fputs(out.c_str(), stdout);
    return kExitOk;
  }
  std::printf("%s %s", t.kind.c_str(), t.qualified_name().c_str());
  if (t.row_count) std::printf(" (%lld rows)", static_cast<long long>(*t.row_count));
  std::printf("\n");
  if (!t.comment.empty()) std::printf("%s\n", t.comment.c_str());
  std::printf("\n");
  TablePrinter p({"column", "type", "nullable", "default", "comment"});
  for (const auto& c : d.value().columns)
    p.add({c.name, c.type, c.nullable ? "yes" : "no", c.default_value, c.comment});
  std::fputs(p.render().c_str(), stdout);
  return kExitOk;
}

}  // namespace

void setup_describe(CLI::App& app, Context& ctx, Runner& run) {
  auto name = std::make_shared<std::string>();
  auto* sub = app.add_subcommand("describe", "show the columns of a table or view");
  sub->add_option("table", *name, "table, schema.table or database.schema.table")->required();
  sub->callback([&ctx, &run, name] { run = [&ctx, name] { return run_describe(ctx, *name); }; });
}

}  // namespace pluto::cli
