#pragma once
// Test helpers for Arrow IPC streams: read one back with the apache-arrow npm package (an
// independent reader, run by node on tests/warehouse/arrow_dump.mjs), and walk its message framing.
// Header-only; used by the warehouse and API tests. Needs PLUTO_SOURCE_DIR (set by pluto_add_test).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace testing_arrow {

constexpr int kSchema = 1;
constexpr int kDictionaryBatch = 2;
constexpr int kRecordBatch = 3;

// {"batches", "batch_rows", "fields": [{name, type, nullable, metadata, dictionary?}], "rows"}; see
// arrow_dump.mjs for how values are printed. Fails the test (and returns null) if node cannot read it.
inline nlohmann::json read_arrow_stream(const std::string& bytes) {
  namespace fs = std::filesystem;
  static std::atomic<int> counter{0};
  const std::string source = PLUTO_SOURCE_DIR;
  const std::string module = source + "/tests/js/node_modules/apache-arrow/Arrow.node.mjs";
  if (!fs::exists(module)) {
    ADD_FAILURE() << module << " is missing: run scripts/setup (it installs tests/js)";
    return nullptr;
  }
  const fs::path file = fs::temp_directory_path() / ("pluto-arrow-" + std::to_string(::getpid()) + "-" +
                                                     std::to_string(counter.fetch_add(1)) + ".arrows");
  std::ofstream(file, std::ios::binary) << bytes;
  const std::string cmd =
      "node '" + source + "/tests/warehouse/arrow_dump.mjs' '" + module + "' '" + file.string() + "' 2>&1";
  std::string out;
  if (std::FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[65536];
    size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    const int status = ::pclose(p);
    std::error_code ec;
    fs::remove(file, ec);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      ADD_FAILURE() << "apache-arrow could not read the stream: " << out.substr(0, 4000);
      return nullptr;
    }
  } else {
    ADD_FAILURE() << "cannot run node";
    return nullptr;
  }
  auto j = nlohmann::json::parse(out, nullptr, false);
  if (j.is_discarded()) ADD_FAILURE() << "arrow_dump.mjs printed no JSON: " << out.substr(0, 4000);
  return j;
}

// The header type of every message of the stream, checking the framing on the way: each message is
// 0xFFFFFFFF, an int32 metadata length (a multiple of 8), a flatbuffer Message of version V5 and a
// body whose length is a multiple of 8; the stream ends with 0xFFFFFFFF 0x00000000 and nothing after.
inline std::vector<int> message_types(const std::string& s) {
  std::vector<int> out;
  auto u32 = [&](size_t at) {
    uint32_t v = 0;
    if (at + 4 <= s.size()) std::memcpy(&v, s.data() + at, 4);
    return v;
  };
  auto u16 = [&](size_t at) {
    uint16_t v = 0;
    if (at + 2 <= s.size()) std::memcpy(&v, s.data() + at, 2);
    return v;
  };
  size_t pos = 0;
  while (true) {
    if (pos + 8 > s.size()) {
      ADD_FAILURE() << "stream ends without the end-of-stream marker at " << pos;
      return out;
    }
    EXPECT_EQ(u32(pos), 0xFFFFFFFFU) << "continuation marker at " << pos;
    const uint32_t len = u32(pos + 4);
    pos += 8;
    if (len == 0) break;
    EXPECT_EQ(len % 8, 0U) << "metadata length at " << pos;
    const size_t fb = pos;
    const size_t table = fb + u32(fb);
    const size_t vtable = table - static_cast<int32_t>(u32(table));
    const uint16_t vsize = u16(vtable);
    auto field = [&](int slot) -> size_t {
      const size_t at = 4 + 2 * static_cast<size_t>(slot);
      const uint16_t off = at < vsize ? u16(vtable + at) : 0;
      return off == 0 ? 0 : table + off;
    };
    EXPECT_NE(field(0), 0U);
    EXPECT_EQ(u16(field(0)), 4U) << "metadata version V5";
    const int type = field(1) != 0 ? static_cast<unsigned char>(s[field(1)]) : 0;
    int64_t body = 0;
    if (field(3) != 0) std::memcpy(&body, s.data() + field(3), 8);
    EXPECT_EQ(body % 8, 0) << "body length at " << pos;
    out.push_back(type);
    pos += len + static_cast<size_t>(body);
  }
  EXPECT_EQ(pos, s.size()) << "bytes after the end-of-stream marker";
  return out;
}

}  // namespace testing_arrow
