// `pluto-duck version`: the product and DuckDB versions.
#include <cstdio>

#include "pluto/cli/context.hpp"
#include "pluto/warehouse/warehouse.hpp"

namespace pluto::cli {

void setup_version(CLI::App& app, Context& ctx, Runner& run) {
  auto* sub = app.add_subcommand("version", "print the pluto-duck and DuckDB versions");
  sub->callback([&ctx, &run] {
    run = [&ctx] {
      const std::string duck = warehouse::Warehouse::duckdb_version();
      if (ctx.json()) {
        std::printf("{\"version\":%s,\"duckdb\":%s}\n", json_quote(PLUTO_VERSION).c_str(), json_quote(duck).c_str());
      } else {
        std::printf("pluto-duck %s (DuckDB %s)\n", PLUTO_VERSION, duck.c_str());
      }
      return kExitOk;
    };
  });
}

}  // namespace pluto::cli
