#include "pluto/core/config.hpp"

#include <gtest/gtest.h>

#include "test_util.hpp"

namespace pluto {
namespace {

using testing::TempDir;

struct FakeEnv {
  std::map<std::string, std::string> vars;
  ConfigLoadOptions options(const std::filesystem::path& data_dir) {
    ConfigLoadOptions o;
    o.data_dir = data_dir;
    o.getenv = [this](const std::string& k) -> std::optional<std::string> {
      auto it = vars.find(k);
      if (it == vars.end()) return std::nullopt;
      return it->second;
    };
    o.env_names = [this] {
      std::vector<std::string> out;
      for (const auto& [k, v] : vars) {
        if (k.rfind("PLUTODUCK_", 0) == 0) out.push_back(k);
      }
      return out;
    };
    return o;
  }
};

TEST(Config, DefaultsAndLayout) {
  TempDir dir;
  FakeEnv env;
  auto cfg = Config::load(env.options(dir.path() / "data"));
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  EXPECT_EQ(cfg->get("warehouse.path"), (dir.path() / "data" / "warehouse.duckdb").string());
  EXPECT_EQ(cfg->get_int("query.timeout_seconds"), 30);
  EXPECT_EQ(cfg->get_int("query.max_rows"), 10000);
  EXPECT_EQ(cfg->get("server.host"), "127.0.0.1");
  EXPECT_EQ(cfg->get_int("server.port"), 8123);
  EXPECT_EQ(cfg->get("server.api_token"), "");
  EXPECT_EQ(cfg->get("log.level"), "info");
  EXPECT_EQ(cfg->setting("query.max_rows").source, SettingSource::default_value);
  for (const char* sub : {"logs", "dbt", "results", "imports", "secrets"}) {
    EXPECT_TRUE(std::filesystem::is_directory(dir.path() / "data" / sub)) << sub;
  }
  const auto perms = std::filesystem::status(dir.path() / "data" / "secrets").permissions();
  EXPECT_EQ(perms & std::filesystem::perms::all, std::filesystem::perms::owner_all);
}

TEST(Config, PrecedenceFlagOverEnvOverFileOverDefault) {
  TempDir dir;
  std::filesystem::create_directories(dir.path());
  testing::write_file(dir / "config.toml",
                      "[query]\ntimeout_seconds = 11\nmax_rows = 22\n[server]\nport = 9001\nhost = \"0.0.0.0\"\n");
  FakeEnv env;
  env.vars["PLUTODUCK_QUERY__TIMEOUT_SECONDS"] = "12";
  env.vars["PLUTODUCK_QUERY__MAX_ROWS"] = "23";
  auto opts = env.options(dir.path());
  opts.flag_overrides["query.timeout_seconds"] = "13";
  opts.flag_origins["query.timeout_seconds"] = "--timeout";
  auto cfg = Config::load(opts);
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  EXPECT_EQ(cfg->get_int("query.timeout_seconds"), 13);  // flag wins
  EXPECT_EQ(cfg->setting("query.timeout_seconds").origin, "--timeout");
  EXPECT_EQ(cfg->get_int("query.max_rows"), 23);  // env beats file
  EXPECT_EQ(cfg->setting("query.max_rows").source, SettingSource::env);
  EXPECT_EQ(cfg->setting("query.max_rows").origin, "PLUTODUCK_QUERY__MAX_ROWS");
  EXPECT_EQ(cfg->get_int("server.port"), 9001);  // file beats default
  EXPECT_EQ(cfg->setting("server.port").source, SettingSource::file);
  EXPECT_EQ(cfg->get("server.host"), "0.0.0.0");
  EXPECT_EQ(cfg->setting("log.level").source, SettingSource::default_value);
}

TEST(Config, DataDirFromEnvAndFlag) {
  TempDir dir;
  FakeEnv env;
  env.vars["PLUTODUCK_DATA_DIR"] = (dir.path() / "from-env").string();
  auto opts = env.options(dir.path());
  opts.data_dir.reset();
  EXPECT_EQ(resolve_data_dir(opts), dir.path() / "from-env");
  opts.data_dir = dir.path() / "from-flag";
  EXPECT_EQ(resolve_data_dir(opts), dir.path() / "from-flag");
  opts.data_dir.reset();
  env.vars.erase("PLUTODUCK_DATA_DIR");
  env.vars["HOME"] = "/home/someone";
  EXPECT_EQ(resolve_data_dir(opts), std::filesystem::path("/home/someone/.pluto-duck"));
}

TEST(Config, InvalidValueNamesKeyValueAndAllowed) {
  TempDir dir;
  FakeEnv env;
  env.vars["PLUTODUCK_QUERY__TIMEOUT_SECONDS"] = "soon";
  auto cfg = Config::load(env.options(dir.path()));
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.error().code, ErrorCode::invalid_config);
  EXPECT_NE(cfg.error().message.find("query.timeout_seconds"), std::string::npos);
  EXPECT_NE(cfg.error().message.find("soon"), std::string::npos);
  EXPECT_NE(cfg.error().message.find("PLUTODUCK_QUERY__TIMEOUT_SECONDS"), std::string::npos);
  EXPECT_NE(cfg.error().hint.find("whole number"), std::string::npos);
}

TEST(Config, OutOfRangeAndBadChoiceAndBadMemory) {
  TempDir dir;
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{{"server.port", "70000"},
                                                                                   {"log.level", "loud"},
                                                                                   {"warehouse.memory_limit", "lots"},
                                                                                   {"query.max_rows", "0"}}) {
    FakeEnv env;
    auto opts = env.options(dir.path());
    opts.flag_overrides[key] = value;
    auto cfg = Config::load(opts);
    ASSERT_FALSE(cfg.ok()) << key;
    EXPECT_NE(cfg.error().message.find(key), std::string::npos) << cfg.error().message;
  }
  FakeEnv env;
  auto opts = env.options(dir.path());
  opts.flag_overrides["warehouse.memory_limit"] = "1.5GB";
  opts.flag_overrides["log.level"] = "DEBUG";
  auto cfg = Config::load(opts);
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  EXPECT_EQ(cfg->get("log.level"), "debug");
}

TEST(Config, UnknownKeysAreWarningsNamingThem) {
  TempDir dir;
  testing::write_file(dir / "config.toml", "[query]\ntimeout_secnds = 5\n");
  FakeEnv env;
  env.vars["PLUTODUCK_SERVER__PROT"] = "1";
  auto cfg = Config::load(env.options(dir.path()));
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  ASSERT_EQ(cfg->warnings().size(), 2U);
  std::string all = cfg->warnings()[0] + cfg->warnings()[1];
  EXPECT_NE(all.find("query.timeout_secnds"), std::string::npos);
  EXPECT_NE(all.find("PLUTODUCK_SERVER__PROT"), std::string::npos);
}

TEST(Config, UnknownFlagKeyIsAnError) {
  TempDir dir;
  FakeEnv env;
  auto opts = env.options(dir.path());
  opts.flag_overrides["query.nope"] = "1";
  auto cfg = Config::load(opts);
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.error().message.find("query.nope"), std::string::npos);
}

TEST(Config, TomlSyntaxErrorNamesFileAndLine) {
  TempDir dir;
  testing::write_file(dir / "config.toml", "[query]\ntimeout_seconds = = 5\n");
  FakeEnv env;
  auto cfg = Config::load(env.options(dir.path()));
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.error().code, ErrorCode::invalid_config);
  EXPECT_NE(cfg.error().message.find("config.toml"), std::string::npos);
  EXPECT_NE(cfg.error().message.find("line 2"), std::string::npos);
}

TEST(Config, UnwritableDataDirIsUnavailable) {
  if (geteuid() == 0) {
    // root ignores permission bits; use a path under a regular file instead.
    TempDir dir;
    testing::write_file(dir / "file", "x");
    FakeEnv env;
    auto cfg = Config::load(env.options(dir / "file" / "data"));
    ASSERT_FALSE(cfg.ok());
    EXPECT_EQ(cfg.error().code, ErrorCode::unavailable);
    EXPECT_NE(cfg.error().message.find((dir / "file" / "data").string()), std::string::npos);
    return;
  }
  FakeEnv env;
  auto cfg = Config::load(env.options("/proc/pluto-nope"));
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.error().code, ErrorCode::unavailable);
}

TEST(Config, EnvNames) {
  EXPECT_EQ(Config::env_name("warehouse.path"), "PLUTODUCK_WAREHOUSE__PATH");
  EXPECT_EQ(Config::env_name("query.timeout_seconds"), "PLUTODUCK_QUERY__TIMEOUT_SECONDS");
  EXPECT_TRUE(Config::is_secret("server.api_token"));
  EXPECT_FALSE(Config::is_secret("server.host"));
}

}  // namespace
}  // namespace pluto
