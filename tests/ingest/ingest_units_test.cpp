// Small pieces of ingestion: SOURCE parsing and redaction, the path policy, secrets and scrubbing,
// type compatibility for drift checks.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "pluto/ingest/loader.hpp"
#include "pluto/ingest/path_policy.hpp"
#include "pluto/ingest/secrets.hpp"
#include "pluto/ingest/source.hpp"
#include "test_util.hpp"

namespace pluto::ingest {
namespace {
namespace fs = std::filesystem;
using pluto::testing::TempDir;

TEST(IngestSource, PostgresUriSplitsOffThePassword) {
  std::string pw;
  auto t =
      parse_postgres_uri("postgresql://al%40ice:p%3Ass@db.example:6543/sales?sslmode=require&password=ignored", &pw);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->user, "al@ice");
  EXPECT_EQ(t->host, "db.example");
  EXPECT_EQ(t->port, "6543");
  EXPECT_EQ(t->database, "sales");
  EXPECT_EQ(pw, "ignored");  // a password parameter wins, as in libpq
  EXPECT_EQ(t->uri(), "postgresql://al%40ice@db.example:6543/sales?sslmode=require");
  EXPECT_EQ(t->keyword_string(7),
            "host='db.example' port='6543' user='al@ice' dbname='sales' sslmode='require' connect_timeout='7'");
  auto quoted = parse_postgres_uri("postgres://u:x@h/d%27b?application_name=a%5Cb", nullptr);
  ASSERT_TRUE(quoted.ok());
  EXPECT_EQ(quoted->keyword_string(0), "host='h' user='u' dbname='d\\'b' application_name='a\\\\b'");
  auto v6 = parse_postgres_uri("postgresql://u@[::1]:5433/d", nullptr);
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, "5433");
  EXPECT_FALSE(parse_postgres_uri("postgresql://u@h:port/d", nullptr).ok());
}

TEST(IngestSource, ParseSourceClassifiesAndRedacts) {
  auto pg = parse_source("postgresql://me:s3cret-pw@localhost/db");
  ASSERT_TRUE(pg.ok());
  EXPECT_EQ(pg->kind, SourceKind::postgres);
  EXPECT_EQ(pg->password, "s3cret-pw");
  EXPECT_EQ(pg->location.find("s3cret"), std::string::npos);
  EXPECT_EQ(pg->display(), "postgresql://me@localhost/db");
  EXPECT_EQ(redact_source("postgres://me:s3cret-pw@localhost/db"), "postgresql://me@localhost/db");
  EXPECT_EQ(redact_source("postgres://me:s3cret-pw@localhost:bad/db").find("s3cret"), std::string::npos);
  auto lite = parse_source("sqlite:/tmp/x.db");
  ASSERT_TRUE(lite.ok());
  EXPECT_EQ(lite->kind, SourceKind::sqlite);
  EXPECT_EQ(lite->location, "/tmp/x.db");
  TempDir dir;
  pluto::testing::write_file(dir / "real.sqlite", std::string("SQLite format 3\0rest", 20));
  auto sniffed = parse_source((dir / "real.sqlite").string());
  ASSERT_TRUE(sniffed.ok());
  EXPECT_EQ(sniffed->kind, SourceKind::sqlite);
  auto file = parse_source((dir / "x" / ".." / "data.csv").string());
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->kind, SourceKind::files);
  EXPECT_EQ(file->location, (dir / "data.csv").string());
  EXPECT_FALSE(parse_source("").ok());
}

TEST(IngestSource, SourceNamesAreIdentifiers) {
  EXPECT_TRUE(check_source_name("crm").ok());
  EXPECT_TRUE(check_source_name("shop_db2").ok());
  for (const char* bad : {"", "2x", "a-b", "a.b", "a b", "x\"y", "memory", "TEMP", "main"}) {
    EXPECT_FALSE(check_source_name(bad).ok()) << bad;
  }
}

TEST(IngestPathPolicy, ResolvesSymlinksAndDotDotBeforeChecking) {
  TempDir dir;
  const fs::path allowed = dir / "imports";
  fs::create_directories(allowed / "sub");
  fs::create_directories(dir / "elsewhere");
  pluto::testing::write_file(dir / "elsewhere" / "x.csv", "a\n");
  pluto::testing::write_file(allowed / "sub" / "ok.csv", "a\n");
  fs::create_symlink(dir / "elsewhere", allowed / "escape");
  fs::create_directories(dir / "imports2");
  const std::vector<fs::path> dirs{allowed};

  auto ok = check_allowed_path(allowed / "sub" / "ok.csv", dirs);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok.value(), fs::canonical(allowed / "sub" / "ok.csv"));
  EXPECT_TRUE(check_allowed_path("sub/ok.csv", dirs).ok());                 // relative to the first dir
  EXPECT_TRUE(check_allowed_path(allowed / "sub" / "new.csv", dirs).ok());  // need not exist
  for (const fs::path& p :
       {dir / "elsewhere" / "x.csv", allowed / "escape" / "x.csv", allowed / ".." / "elsewhere" / "x.csv",
        fs::path("../elsewhere/x.csv"), dir / "imports2" / "y.csv", fs::path("/etc/passwd")}) {
    auto r = check_allowed_path(p, dirs);
    ASSERT_FALSE(r.ok()) << p;
    EXPECT_EQ(r.error().code, ErrorCode::permission_denied) << p;
    EXPECT_NE(r.error().message.find(p.string()), std::string::npos);
  }
  EXPECT_FALSE(check_allowed_path(allowed / "sub" / "ok.csv", {}).ok());
}

TEST(IngestPathPolicy, ParsesTheSetting) {
  const char* home = std::getenv("HOME");
  auto dirs = parse_allowed_dirs("/data/imports:~:~/x::");
  ASSERT_EQ(dirs.size(), home != nullptr ? 3U : 1U);
  EXPECT_EQ(dirs[0], "/data/imports");
  if (home != nullptr) {
    EXPECT_EQ(dirs[1], fs::path(home));
    EXPECT_EQ(dirs[2], fs::path(std::string(home) + "/x"));
  }
}

TEST(IngestSecrets, FilesArePrivateAndScrubRemovesEveryForm) {
  TempDir dir;
  SecretStore secrets(dir / "secrets");
  ASSERT_TRUE(secrets.put("crm", "p@ss'w\\rd").ok());
  struct stat st {};
  ASSERT_EQ(::stat((dir / "secrets").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777U, 0700U);
  ASSERT_EQ(::stat(secrets.file_for("crm").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777U, 0600U);
  EXPECT_EQ(secrets.get("crm").value(), std::optional<std::string>("p@ss'w\\rd"));
  EXPECT_EQ(secrets.get("other").value(), std::nullopt);
  ASSERT_TRUE(secrets.remove("crm").ok());
  EXPECT_FALSE(fs::exists(secrets.file_for("crm")));

  const std::string pw = "p@ss'w\\rd";
  const std::string text = "a p@ss'w\\rd b p%40ss%27w%5Crd c 'p@ss''w\\rd' d p@ss\\'w\\\\rd e";
  const std::string clean = scrub(text, {pw});
  EXPECT_EQ(clean.find("ss'w"), std::string::npos) << clean;
  EXPECT_EQ(clean.find("ss%27"), std::string::npos) << clean;
  EXPECT_EQ(clean.find("ss''w"), std::string::npos) << clean;
  EXPECT_EQ(clean.find("ss\\'w"), std::string::npos) << clean;
  Error e = scrub(Error(ErrorCode::unauthenticated, "bad p@ss'w\\rd", "try p@ss'w\\rd"), {pw});
  EXPECT_EQ(e.message, "bad ***");
  EXPECT_EQ(e.hint, "try ***");
}

TEST(IngestTypes, FitsOnlyWithoutLoss) {
  EXPECT_TRUE(type_fits("INTEGER", "BIGINT"));
  EXPECT_TRUE(type_fits("BIGINT", "BIGINT"));
  EXPECT_TRUE(type_fits("UINTEGER", "BIGINT"));
  EXPECT_TRUE(type_fits("BIGINT", "DOUBLE"));
  EXPECT_TRUE(type_fits("INTEGER", "DECIMAL(18,3)"));
  EXPECT_TRUE(type_fits("DECIMAL(9,2)", "DECIMAL(18,3)"));
  EXPECT_TRUE(type_fits("DATE", "TIMESTAMP"));
  EXPECT_TRUE(type_fits("DOUBLE", "VARCHAR"));
  EXPECT_FALSE(type_fits("BIGINT", "INTEGER"));
  EXPECT_FALSE(type_fits("VARCHAR", "BIGINT"));
  EXPECT_FALSE(type_fits("DOUBLE", "BIGINT"));
  EXPECT_FALSE(type_fits("BIGINT", "DECIMAL(10,2)"));
  EXPECT_FALSE(type_fits("DECIMAL(18,3)", "DECIMAL(9,2)"));
  EXPECT_FALSE(type_fits("UBIGINT", "BIGINT"));
  EXPECT_FALSE(type_fits("TIMESTAMP", "DATE"));
}

}  // namespace
}  // namespace pluto::ingest
