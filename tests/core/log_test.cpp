#include "pluto/core/log.hpp"

#include <gtest/gtest.h>

#include "pluto/core/json_escape.hpp"
#include "test_util.hpp"

namespace pluto {
namespace {

TEST(Log, JsonLineHasTypedFieldsAndEscapes) {
  const auto line = log::render_json(log::Level::warn, "query \"x\"\nfailed",
                                     {{"run_id", "abc"}, {"rows", int64_t{42}}, {"ok", false}, {"ratio", 0.5}},
                                     "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(line, R"({"ts":"2026-01-01T00:00:00.000Z","level":"warn","msg":"query \"x\"\nfailed","run_id":"abc",)"
                  R"("rows":42,"ok":false,"ratio":0.5})");
}

TEST(Log, WritesJsonLinesToFileAtConfiguredLevel) {
  testing::TempDir dir;
  log::Options o;
  o.file = dir / "pluto.log";
  o.file_level = log::Level::info;
  o.stderr_level = log::Level::off;
  ASSERT_TRUE(log::init(o).ok());
  log::debug("hidden");
  log::info("shown", {{"n", 1}});
  log::shutdown();
  const auto text = testing::read_file(dir / "pluto.log");
  EXPECT_EQ(text.find("hidden"), std::string::npos);
  EXPECT_NE(text.find(R"("msg":"shown","n":1})"), std::string::npos);
  EXPECT_EQ(text.back(), '\n');
}

TEST(Log, RotatesBySize) {
  testing::TempDir dir;
  log::Options o;
  o.file = dir / "pluto.log";
  o.stderr_level = log::Level::off;
  o.max_file_bytes = 4096;
  o.max_files = 2;
  ASSERT_TRUE(log::init(o).ok());
  for (int i = 0; i < 200; ++i) log::info("a line that fills the log file quickly", {{"i", i}});
  log::shutdown();
  EXPECT_TRUE(std::filesystem::exists(dir / "pluto.1.log"));
  EXPECT_LE(std::filesystem::file_size(dir / "pluto.log"), 4096U);
}

TEST(JsonEscape, ControlCharsAndInvalidUtf8) {
  std::string out;
  append_json_string(out, std::string("a\x01\tb\xff\xc3\xa9", 7));
  EXPECT_EQ(out, "\"a\\u0001\\tb\xEF\xBF\xBD\xC3\xA9\"");
}

TEST(JsonEscape, Base64) {
  for (const auto& [in, want] : std::vector<std::pair<std::string, std::string>>{
           {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}}) {
    std::string out;
    append_base64(out, in);
    EXPECT_EQ(out, want) << in;
  }
}

}  // namespace
}  // namespace pluto
