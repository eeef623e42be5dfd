// `pluto-duck serve` (alias `run`): the HTTP API and web UI on server.host:server.port.
#include <cstdio>

#include "pluto/cli/context.hpp"

namespace pluto::cli {
namespace {

struct ServeOptions {
  std::optional<std::string> host;
  std::optional<int64_t> port;
};

int run_serve(Context& ctx, const ServeOptions& o) {
  if (o.host) ctx.set_flag("server.host", *o.host, "--host");
  if (o.port) ctx.set_flag("server.port", std::to_string(*o.port), "--port");
  auto rt = ctx.runtime();
  if (!rt.ok()) return ctx.fail(rt.error());
  auto st = rt.value()->serve([&ctx](const std::string& url) {
    if (ctx.json()) {
      std::printf("{\"url\":%s}\n", json_quote(url).c_str());
    } else {
      std::printf("Pluto-Duck is running at %s  (API: %sapi/v1, Ctrl-C stops it)\n", url.c_str(), url.c_str());
    }
    std::fflush(stdout);
  });
  if (!st.ok()) return ctx.fail(st.error());
  return kExitOk;
}

}  // namespace

void setup_serve(CLI::App& app, Context& ctx, Runner& run) {
  auto opts = std::make_shared<ServeOptions>();
  auto* sub = app.add_subcommand("serve", "start the HTTP API and web UI");
  sub->alias("run");
  sub->add_option("--host", opts->host, "address to listen on (server.host, default 127.0.0.1)");
  sub->add_option("--port", opts->port, "port to listen on (server.port, default 8123; 0 picks a free one)");
  sub->callback([&ctx, &run, opts] { run = [&ctx, opts] { return run_serve(ctx, *opts); }; });
}

}  // namespace pluto::cli
