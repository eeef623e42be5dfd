// File ingestion through the real IngestService, job runner and DuckDB warehouse: formats,
// compression, globs and directories, CSV overrides, load modes, schema drift, bad input.
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

#include "ingest_fixture.hpp"
#include "pluto/ingest/catalog.hpp"

namespace pluto::ingest {
namespace {

namespace fs = std::filesystem;
using pluto::testing::write_file;
using testing::IngestFixture;

class IngestFiles : public IngestFixture {
 protected:
  std::string path(const std::string& name) { return (dir_ / name).string(); }
};

TEST_F(IngestFiles, CsvReplaceLoadsTypedColumnsAndRecordsTheRun) {
  write_file(dir_ / "orders.csv", "id,customer,amount,day\n1,ann,10.5,2024-01-02\n2,bob,20.25,2024-01-03\n");
  auto r = ingest(request(path("orders.csv"), "orders"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value()["rows"], 2);
  EXPECT_EQ(r.value()["tables"][0]["table"], "main.orders");
  EXPECT_EQ(r.value()["tables"][0]["created"], true);
  EXPECT_EQ(rows("SELECT typeof(id), typeof(amount), typeof(day) FROM orders LIMIT 1"),
            (std::vector<std::vector<std::string>>{{"BIGINT", "DOUBLE", "DATE"}}));
  EXPECT_EQ(value("SELECT sum(amount) FROM orders"), "30.75");

  auto run = service_->get_run(last_job_);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->status, "succeeded");
  EXPECT_EQ(run->rows, 2);
  EXPECT_EQ(run->bytes, static_cast<int64_t>(fs::file_size(dir_ / "orders.csv")));
  EXPECT_EQ(run->mode, "replace");
  EXPECT_EQ(run->origin, "cli");
  EXPECT_EQ(run->schema["main.orders"][2]["name"], "amount");
  EXPECT_EQ(run->schema["main.orders"][2]["type"], "DOUBLE");

  // Events: loading, progress may or may not appear for a tiny file, finished with the row count.
  bool loading = false;
  bool finished = false;
  for (const auto& e : job_events()) {
    loading = loading || e.type == "ingest.loading";
    if (e.type == "ingest.finished") {
      finished = true;
      EXPECT_EQ(e.data["rows"], 2);
      EXPECT_EQ(e.data["status"], "succeeded");
    }
  }
  EXPECT_TRUE(loading);
  EXPECT_TRUE(finished);

  auto lineage = service_->table_lineage("orders");
  ASSERT_TRUE(lineage.ok()) << lineage.error().message;
  EXPECT_EQ(lineage.value()["table"]["source"], path("orders.csv"));
  EXPECT_EQ(lineage.value()["table"]["source_kind"], "files");
  EXPECT_EQ(lineage.value()["table"]["last_rows"], 2);
  EXPECT_EQ(lineage.value()["runs"].size(), 1U);
  EXPECT_EQ(service_->table_lineage("nope").error().code, ErrorCode::not_found);
}

TEST_F(IngestFiles, ReplaceSwapsTheWholeTable) {
  write_file(dir_ / "a.csv", "x,y\n1,a\n2,b\n3,c\n");
  ASSERT_TRUE(ingest(request(path("a.csv"), "t")).ok());
  write_file(dir_ / "b.csv", "x,z\n7,q\n");
  auto r = ingest(request(path("b.csv"), "t"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(rows("SELECT * FROM t"), (std::vector<std::vector<std::string>>{{"7", "q"}}));
  EXPECT_EQ(value("SELECT count(*) FROM duckdb_columns() WHERE table_name = 't' AND column_name = 'y'"), "0");
}

TEST_F(IngestFiles, CsvOverridesDelimiterHeaderTypesAndDateFormat) {
  write_file(dir_ / "eu.txt", "1;01/02/2024;007;x\n2;15/03/2024;010;y\n");
  auto req = request(path("eu.txt"), "eu");
  req.file.delimiter = ";";
  req.file.header = false;
  req.file.date_format = "%d/%m/%Y";
  req.file.column_types = {{"column2", "VARCHAR"}};
  auto r = ingest(req);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(
      rows("SELECT column0, column1, typeof(column1), column2 FROM eu ORDER BY 1"),
      (std::vector<std::vector<std::string>>{{"1", "2024-02-01", "DATE", "007"}, {"2", "2024-03-15", "DATE", "010"}}));
}

TEST_F(IngestFiles, EveryFormatAndCompressionLoadsTheSameRows) {
  const std::string data = "SELECT i AS id, 'name ' || i AS name, i * 0.5 AS score FROM range(1, 1001) t(i)";
  copy_to(data, dir_ / "d.csv", "FORMAT csv, HEADER");
  copy_to(data, dir_ / "d.tsv", "FORMAT csv, HEADER, DELIMITER '\t'");
  copy_to(data, dir_ / "d.csv.gz", "FORMAT csv, HEADER, COMPRESSION gzip");
  copy_to(data, dir_ / "d.csv.zst", "FORMAT csv, HEADER, COMPRESSION zstd");
  copy_to(data, dir_ / "d.parquet", "FORMAT parquet");
  copy_to(data, dir_ / "d.ndjson", "FORMAT json");
  copy_to(data, dir_ / "d.json", "FORMAT json, ARRAY true");
  copy_to(data, dir_ / "d.json.gz", "FORMAT json, COMPRESSION gzip");
  int n = 0;
  for (const char* f : {"d.csv", "d.tsv", "d.csv.gz", "d.csv.zst", "d.parquet", "d.ndjson", "d.json", "d.json.gz"}) {
    const std::string table = "t" + std::to_string(n++);
    auto r = ingest(request(path(f), table));
    ASSERT_TRUE(r.ok()) << f << ": " << r.error().message;
    EXPECT_EQ(r.value()["rows"], 1000) << f;
    EXPECT_EQ(value("SELECT count(*) || ' ' || sum(id) || ' ' || sum(score) || ' ' || max(name) FROM " + table),
              "1000 500500 250250.0 name 999")
        << f;
  }
}

TEST_F(IngestFiles, GlobAndDirectoryLoadEveryMatchingFile) {
  fs::create_directories(dir_ / "parts" / "sub");
  write_file(dir_ / "parts" / "p1.csv", "id,v\n1,a\n2,b\n");
  write_file(dir_ / "parts" / "p2.csv", "id,v\n3,c\n");
  write_file(dir_ / "parts" / "sub" / "p3.csv", "id,v\n4,d\n");
  write_file(dir_ / "parts" / "notes.md", "not data");
  auto g = ingest(request(path("parts") + "/*.csv", "globbed"));
  ASSERT_TRUE(g.ok()) << g.error().message;
  EXPECT_EQ(value("SELECT string_agg(v, '' ORDER BY id) FROM globbed"), "abc");
  auto d = ingest(request(path("parts"), "whole_dir"));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(value("SELECT string_agg(v, '' ORDER BY id) FROM whole_dir"), "abcd");
  auto none = ingest(request(path("parts") + "/*.parquet", "x"));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode::unavailable);
  EXPECT_NE(none.error().message.find("no files match"), std::string::npos) << none.error().message;
}

// A CSV with a bad line far beyond the sniffer's sample.
void write_malformed(const fs::path& p, int bad_line_no) {
  std::string s = "id,name,amount\n";
  for (int i = 1; i < 3000; ++i) {
    if (i + 1 == bad_line_no) {
      s += std::to_string(i) + ",x,1,extra\n";
    } else {
      s += std::to_string(i) + ",n" + std::to_string(i) + "," + std::to_string(i) + ".5\n";
    }
  }
  write_file(p, s);
}

TEST_F(IngestFiles, MalformedCsvNamesFileAndLineAndSkipsWhenAsked) {
  write_malformed(dir_ / "bad.csv", 2701);
  auto r = ingest(request(path("bad.csv"), "bad"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find(path("bad.csv")), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("line 2701"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().hint.find("--skip-bad-rows"), std::string::npos);
  EXPECT_EQ(value("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'bad'"), "0");
  EXPECT_EQ(service_->get_run(last_job_)->status, "failed");

  auto req = request(path("bad.csv"), "bad");
  req.file.skip_bad_rows = true;
  auto ok = ingest(req);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok.value()["rows"], 2998);
  EXPECT_EQ(ok.value()["skipped_rows"], 1);
  EXPECT_EQ(ok.value()["tables"][0]["bad_rows"][0]["line"], 2701);
  EXPECT_EQ(value("SELECT count(*) FROM bad WHERE id = 2700"), "0");
  EXPECT_EQ(service_->get_run(last_job_)->skipped_rows, 1);
}

TEST_F(IngestFiles, ConversionErrorNamesLineAndColumn) {
  std::string s = "id,amount\n";
  for (int i = 1; i <= 30000; ++i) s += std::to_string(i) + "," + (i == 25000 ? "oops" : std::to_string(i)) + "\n";
  write_file(dir_ / "late.csv", s);
  auto r = ingest(request(path("late.csv"), "late"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("line 25001"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("\"amount\""), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(path("late.csv")), std::string::npos) << r.error().message;
}

TEST_F(IngestFiles, MissingPathIsUnavailableAndNamesIt) {
  auto r = ingest(request(path("missing.csv"), "m"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::unavailable);
  EXPECT_NE(r.error().message.find(path("missing.csv")), std::string::npos) << r.error().message;
  fs::create_directories(dir_ / "empty");
  auto e = ingest(request(path("empty"), "m"));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code, ErrorCode::unavailable);
  EXPECT_NE(e.error().message.find("no data files"), std::string::npos) << e.error().message;
}

TEST_F(IngestFiles, UnreadableFileIsUnavailable) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads every file; permissions cannot be tested as root";
  write_file(dir_ / "secret.csv", "a\n1\n");
  ::chmod((dir_ / "secret.csv").c_str(), 0);
  auto r = ingest(request(path("secret.csv"), "s"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::unavailable);
  EXPECT_NE(r.error().message.find("permission denied"), std::string::npos) << r.error().message;
}

TEST_F(IngestFiles, HostileTableNamesAreQuotedOrRefused) {
  write_file(dir_ / "v.csv", "a\n1\n");
  ASSERT_TRUE(ingest(request(path("v.csv"), "keep")).ok());
  for (const std::string name : {"we\"ird", "with space", "dotted.name", "x\"; DROP TABLE keep; --", "Ünï'cödé"}) {
    auto r = ingest(request(path("v.csv"), name));
    ASSERT_TRUE(r.ok()) << name << ": " << r.error().message;
    EXPECT_EQ(value("SELECT count(*) FROM main." + warehouse::quote_identifier(name)), "1") << name;
    EXPECT_EQ(value("SELECT count(*) FROM duckdb_tables() WHERE table_name = " + warehouse::quote_literal(name)), "1");
  }
  EXPECT_EQ(value("SELECT count(*) FROM keep"), "1");  // not dropped by the name that tried
  for (const std::string& name : {std::string(""), std::string("tab\there"), std::string("new\nline"),
                                  std::string("__pluto_stage_x"), std::string(300, 'a')}) {
    auto r = service_->submit(*runner_, request(path("v.csv"), name));
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_EQ(r.error().code, ErrorCode::invalid_argument) << name;
  }
  // A hostile schema name is quoted too.
  auto req = request(path("v.csv"), "t");
  req.schema = "s\"; DROP TABLE keep; --";
  ASSERT_TRUE(ingest(req).ok());
  EXPECT_EQ(value("SELECT count(*) FROM " + warehouse::quote_identifier(req.schema) + ".t"), "1");
  EXPECT_EQ(value("SELECT count(*) FROM keep"), "1");
}

TEST_F(IngestFiles, RestrictedPathsStayInsideAllowedDirectories) {
  write_file(dir_ / "outside.csv", "a\n1\n");
  write_file(data_dir_ / "imports" / "inside.csv", "a\n1\n");
  fs::create_symlink(dir_ / "outside.csv", data_dir_ / "imports" / "link.csv");
  auto restricted = [&](const std::string& source) {
    auto r = request(source, "t");
    r.restrict_paths = true;
    return r;
  };
  for (const std::string& p : {path("outside.csv"), (data_dir_ / "imports" / "link.csv").string(),
                               (data_dir_ / "imports" / ".." / ".." / "outside.csv").string(), path("*.csv")}) {
    auto r = service_->submit(*runner_, restricted(p));
    ASSERT_FALSE(r.ok()) << p;
    EXPECT_EQ(r.error().code, ErrorCode::permission_denied) << p << ": " << r.error().message;
  }
  auto ok = ingest(restricted((data_dir_ / "imports" / "inside.csv").string()));
  EXPECT_TRUE(ok.ok()) << ok.error().message;
  // A glob inside imports must not reach a file outside through a symlink.
  auto glob = ingest(restricted((data_dir_ / "imports").string() + "/*.csv"));
  ASSERT_FALSE(glob.ok());
  EXPECT_EQ(glob.error().code, ErrorCode::permission_denied) << glob.error().message;
  // Without the restriction (the CLI), the user's own files are fine.
  EXPECT_TRUE(ingest(request(path("outside.csv"), "t")).ok());
}

TEST_F(IngestFiles, AppendAddsRowsAndRejectsTypeDriftNamingTheColumn) {
  write_file(dir_ / "a.csv", "id,amount\n1,10\n2,20\n");
  ASSERT_TRUE(ingest(request(path("a.csv"), "t")).ok());
  write_file(dir_ / "b.csv", "id,amount\n3,30\n");
  auto more = ingest(request(path("b.csv"), "t", LoadMode::append));
  ASSERT_TRUE(more.ok()) << more.error().message;
  EXPECT_EQ(value("SELECT count(*) || ' ' || sum(amount) FROM t"), "3 60");

  write_file(dir_ / "drift.csv", "id,amount\n4,forty\n");
  auto drift = ingest(request(path("drift.csv"), "t", LoadMode::append));
  ASSERT_FALSE(drift.ok());
  EXPECT_EQ(drift.error().code, ErrorCode::conflict);
  EXPECT_NE(drift.error().message.find("\"amount\""), std::string::npos) << drift.error().message;
  EXPECT_NE(drift.error().message.find("BIGINT"), std::string::npos) << drift.error().message;
  EXPECT_NE(drift.error().message.find("VARCHAR"), std::string::npos) << drift.error().message;
  EXPECT_EQ(value("SELECT count(*) FROM t"), "3");

  write_file(dir_ / "newcol.csv", "id,amount,note\n5,50,hi\n");
  auto newcol = ingest(request(path("newcol.csv"), "t", LoadMode::append));
  ASSERT_FALSE(newcol.ok());
  EXPECT_NE(newcol.error().message.find("\"note\""), std::string::npos) << newcol.error().message;

  // Narrower types fit (INTEGER-ish into DOUBLE is fine); --evolve widens and adds.
  auto evolve = request(path("drift.csv"), "t", LoadMode::append);
  evolve.evolve = true;
  auto ev = ingest(evolve);
  ASSERT_TRUE(ev.ok()) << ev.error().message;
  EXPECT_EQ(value("SELECT typeof(amount) FROM t LIMIT 1"), "VARCHAR");
  EXPECT_EQ(value("SELECT amount FROM t WHERE id = 4"), "forty");
  auto evolve2 = request(path("newcol.csv"), "t", LoadMode::append);
  evolve2.evolve = true;
  ASSERT_TRUE(ingest(evolve2).ok());
  EXPECT_EQ(value("SELECT note FROM t WHERE id = 5"), "hi");
  EXPECT_EQ(value("SELECT count(*) FROM t WHERE note IS NULL"), "4");
}

TEST_F(IngestFiles, IncrementalLoadsOnlyRowsBeyondTheHighWaterMark) {
  std::string s = "id,v\n";
  for (int i = 1; i <= 100; ++i) s += std::to_string(i) + ",v" + std::to_string(i) + "\n";
  write_file(dir_ / "inc.csv", s);
  auto req = request(path("inc.csv"), "inc", LoadMode::incremental);
  req.cursor = "id";
  auto first = ingest(req);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first.value()["rows"], 100);
  EXPECT_EQ(first.value()["tables"][0]["high_water_mark"], "100");
  for (int i = 101; i <= 110; ++i) s += std::to_string(i) + ",v" + std::to_string(i) + "\n";
  write_file(dir_ / "inc.csv", s);
  auto second = ingest(req);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second.value()["rows"], 10);
  EXPECT_EQ(value("SELECT count(*) || ' ' || count(DISTINCT id) FROM inc"), "110 110");
  auto lineage = service_->table_lineage("inc");
  EXPECT_EQ(lineage.value()["table"]["high_water_mark"], "110");
  EXPECT_EQ(lineage.value()["table"]["cursor_column"], "id");
  auto again = ingest(req);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.value()["rows"], 0);

  auto no_cursor = request(path("inc.csv"), "inc", LoadMode::incremental);
  auto bad = service_->submit(*runner_, no_cursor);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::invalid_argument);
  no_cursor.cursor = "nope";
  auto missing = ingest(no_cursor);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("\"nope\""), std::string::npos);
}

TEST_F(IngestFiles, MergeUpdatesMatchingKeysAndInsertsTheRest) {
  write_file(dir_ / "m1.csv", "id,name,qty\n1,a,1\n2,b,2\n3,c,3\n");
  ASSERT_TRUE(ingest(request(path("m1.csv"), "m")).ok());
  write_file(dir_ / "m2.csv", "id,name,qty\n2,B,20\n4,d,4\n");
  auto req = request(path("m2.csv"), "m", LoadMode::merge);
  req.keys = {"id"};
  auto r = ingest(req);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value()["rows"], 2);
  EXPECT_EQ(
      rows("SELECT id, name, qty FROM m ORDER BY id"),
      (std::vector<std::vector<std::string>>{{"1", "a", "1"}, {"2", "B", "20"}, {"3", "c", "3"}, {"4", "d", "4"}}));
  write_file(dir_ / "dup.csv", "id,name,qty\n5,e,5\n5,f,6\n");
  auto dup = request(path("dup.csv"), "m", LoadMode::merge);
  dup.keys = {"id"};
  auto d = ingest(dup);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().message.find("not unique"), std::string::npos) << d.error().message;
  EXPECT_EQ(value("SELECT count(*) FROM m"), "4");
}

TEST_F(IngestFiles, CancelledReplaceLeavesTheOldTableAndRecordsCancelled) {
  write_file(dir_ / "small.csv", "id\n1\n2\n");
  ASSERT_TRUE(ingest(request(path("small.csv"), "t")).ok());
  copy_to("SELECT i AS id, md5(i::VARCHAR) AS h, i * 2 AS d FROM range(8000000) t(i)", dir_ / "big.csv",
          "FORMAT csv, HEADER");
  auto info = service_->submit(*runner_, request(path("big.csv"), "t"));
  ASSERT_TRUE(info.ok());
  // Cancel once the load reports progress (it is inside its transaction by then).
  bool progressed = false;
  for (int i = 0; i < 600 && !progressed; ++i) {
    for (const auto& e : bus_->read(info->stream, 0, 1000).events)
      progressed = progressed || e.type == "ingest.progress";
    if (!progressed) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(progressed);
  ASSERT_TRUE(runner_->cancel(info->id).ok());
  auto done = runner_->wait(info->id, std::chrono::minutes(2));
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->status, jobs::JobStatus::cancelled);
  EXPECT_EQ(rows("SELECT id FROM t ORDER BY id"), (std::vector<std::vector<std::string>>{{"1"}, {"2"}}));
  EXPECT_EQ(service_->get_run(info->id)->status, "cancelled");
}

TEST_F(IngestFiles, OptionsThatDoNotApplyAreRefused) {
  copy_to("SELECT 1 AS a", dir_ / "p.parquet", "FORMAT parquet");
  auto req = request(path("p.parquet"), "p");
  req.file.delimiter = ";";
  auto r = ingest(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(r.error().message.find("--delimiter"), std::string::npos) << r.error().message;
  auto q = request(path("p.parquet"), "p");
  q.query = "select 1";
  EXPECT_EQ(service_->submit(*runner_, q).error().code, ErrorCode::invalid_argument);
}

TEST_F(IngestFiles, RequestFromJsonValidatesFieldsAndRedactsPasswords) {
  auto ok = IngestRequest::from_json(nlohmann::json::parse(
      R"({"source":"postgresql://u:hunter22@h/db","table":"t","mode":"merge","options":{"key":["a","b"],"source_table":"public.x","delimiter":";"}})"));
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->mode, LoadMode::merge);
  EXPECT_EQ(ok->keys, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(ok->source_tables, (std::vector<std::string>{"public.x"}));
  EXPECT_EQ(ok->file.delimiter, ";");
  const std::string shown = ok->to_json().dump();
  EXPECT_EQ(shown.find("hunter22"), std::string::npos) << shown;
  EXPECT_NE(shown.find("postgresql://u@h"), std::string::npos) << shown;
  auto unknown = IngestRequest::from_json(nlohmann::json::parse(R"({"source":"x","options":{"delimeter":";"}})"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("delimeter"), std::string::npos);
  auto bad_mode = IngestRequest::from_json(nlohmann::json::parse(R"({"source":"x","mode":"upsert"})"));
  ASSERT_FALSE(bad_mode.ok());
  EXPECT_NE(bad_mode.error().message.find("upsert"), std::string::npos);
}

TEST_F(IngestFiles, RunsLeftRunningByADeadProcessAreMarkedInterrupted) {
  auto catalog = IngestCatalog::open(*store_);
  ASSERT_TRUE(catalog.ok());
  RunRecord r;
  r.run_id = "dead-run";
  r.source = "x.csv";
  r.source_kind = "files";
  r.target = "main.t";
  r.mode = "replace";
  r.status = "running";
  r.origin = "cli";
  r.started_at = "2024-01-01T00:00:00.000Z";
  ASSERT_TRUE(catalog->begin_run(r).ok());
  // Pretend a process that no longer exists owned it.
  ASSERT_TRUE(store_
                  ->with_db([](store::SqliteDb& db) {
                    return db.exec("UPDATE ingest_runs SET owner = '999999999:1' WHERE run_id = 'dead-run'");
                  })
                  .ok());
  r.run_id = "live-run";
  ASSERT_TRUE(catalog->begin_run(r).ok());  // owned by this (live) process
  auto n = catalog->interrupt_orphaned_runs();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n.value(), 1);
  EXPECT_EQ(catalog->get_run("dead-run").value()->status, "interrupted");
  EXPECT_EQ(catalog->get_run("live-run").value()->status, "running");
}

}  // namespace
}  // namespace pluto::ingest
