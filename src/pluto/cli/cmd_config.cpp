// `pluto-duck config show`: effective settings and where each came from, secrets masked.
#include <cstdio>

#include "pluto/cli/context.hpp"
#include "pluto/cli/table_printer.hpp"

namespace pluto::cli {
namespace {

std::string shown_value(const std::string& key, const std::string& value) {
  if (Config::is_secret(key) && !value.empty()) return "********";
  return value;
}

int run_config_show(Context& ctx) {
  auto cfg_r = ctx.config();
  if (!cfg_r.ok()) return ctx.fail(cfg_r.error());
  const Config& cfg = *cfg_r.value();
  if (ctx.json()) {
    std::string out = "{\"data_dir\":" + json_quote(cfg.data_dir().string()) + ",\"settings\":[";
    bool first = true;
    for (const auto& info : Config::settings()) {
      const auto& s = cfg.setting(info.key);
      if (!first) out += ',';
      first = false;
      out += "{\"key\":" + json_quote(info.key) + ",\"value\":" + json_quote(shown_value(info.key, s.value)) +
             ",\"source\":" + json_quote(to_string(s.source)) + ",\"origin\":" + json_quote(s.origin) +
             ",\"env\":" + json_quote(Config::env_name(info.key)) + "}";
    }
    out += "],\"warnings\":[";
    for (size_t i = 0; i < cfg.warnings().size(); ++i) out += (i > 0 ? "," : "") + json_quote(cfg.warnings()[i]);
    out += "]}\n";
    std::fputs(out.c_str(), stdout);
    return kExitOk;
  }
  std::printf("data dir: %s\nconfig file: %s\n\n", cfg.data_dir().c_str(), cfg.config_file().c_str());
  TablePrinter p({"setting", "value", "source"});
  for (const auto& info : Config::settings()) {
    const auto& s = cfg.setting(info.key);
    std::string source(to_string(s.source));
    if (s.source != SettingSource::default_value) source += " (" + s.origin + ")";
    p.add({info.key, shown_value(info.key, s.value), source});
  }
  std::fputs(p.render().c_str(), stdout);
  return kExitOk;
}

}  // namespace

void setup_config(CLI::App& app, Context& ctx, Runner& run) {
  auto* sub = app.add_subcommand("config", "inspect settings");
  sub->require_subcommand(1);
  auto* show = sub->add_subcommand("show", "print the effective settings and where each came from");
  show->callback([&ctx, &run] { run = [&ctx] { return run_config_show(ctx); }; });
}

}  // namespace pluto::cli
