// `pluto-duck history`: recent queries from the metadata store, searchable by text and status.
#include <cstdio>

#include "pluto/cli/context.hpp"
#include "pluto/cli/table_printer.hpp"
#include "pluto/store/store.hpp"

namespace pluto::cli {
namespace {

std::string one_line(const std::string& s, size_t max) {
  std::string out;
  for (char c : s) out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  if (out.size() > max) out = out.substr(0, max - 1) + "…";
  return out;
}

int run_history(Context& ctx, const store::QueryFilter& filter) {
  auto rt = ctx.runtime();
  if (!rt.ok()) return ctx.fail(rt.error());
  auto st = rt.value()->store();
  if (!st.ok()) return ctx.fail(st.error());
  auto rows = st.value()->list_queries(filter);
  if (!rows.ok()) return ctx.fail(rows.error());
  if (ctx.json()) {
    std::string out = "[";
    for (const auto& r : rows.value()) {
      if (out.size() > 1) out += ',';
      out += "{\"run_id\":" + json_quote(r.run_id) + ",\"sql\":" + json_quote(r.sql) +
             ",\"status\":" + json_quote(r.status) + ",\"origin\":" + json_quote(r.origin) +
             ",\"submitted_at\":" + json_quote(r.submitted_at) +
             ",\"duration_ms\":" + (r.duration_ms ? std::to_string(*r.duration_ms) : "null") +
             ",\"row_count\":" + (r.row_count ? std::to_string(*r.row_count) : "null") +
             ",\"error\":" + (r.error ? json_quote(*r.error) : "null") + "}";
    }
    out += "]\n";
    std::fputs(out.c_str(), stdout);
    return kExitOk;
  }
  TablePrinter p({"submitted", "status", "origin", "ms", "rows", "sql"});
  for (const auto& r : rows.value()) {
    p.add({r.submitted_at, r.status, r.origin, r.duration_ms ? std::to_string(*r.duration_ms) : "",
           r.row_count ? std::to_string(*r.row_count) : "", one_line(r.sql, 70)});
  }
  std::fputs(p.render().c_str(), stdout);
  return kExitOk;
}

}  // namespace

void setup_history(CLI::App& app, Context& ctx, Runner& run) {
  auto filter = std::make_shared<store::QueryFilter>();
  auto* sub = app.add_subcommand("history", "list recent queries");
  sub->add_option("-s,--search", filter->text, "only queries whose SQL contains TEXT")->type_name("TEXT");
  sub->add_option("--status", filter->status, "only queries with this status")
      ->check(CLI::IsMember({"queued", "running", "succeeded", "failed", "cancelled", "timed_out", "interrupted"}));
  sub->add_option("-n,--limit", filter->limit, "how many (default 50)")->check(CLI::Range(1, 10000));
  sub->callback([&ctx, &run, filter] { run = [&ctx, filter] { return run_history(ctx, *filter); }; });
}

}  // namespace pluto::cli
