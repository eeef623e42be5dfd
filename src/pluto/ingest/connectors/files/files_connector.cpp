#include "pluto/ingest/connectors/files/files_connector.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "pluto/ingest/path_policy.hpp"
#include "pluto/ingest/sql_util.hpp"

namespace pluto::ingest {
namespace fs = std::filesystem;
using warehouse::quote_literal;

namespace {

struct FileEntry {
  std::string path;
  int64_t size = 0;
};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// The file name without a compression suffix, lower-cased.
std::string base_name(std::string_view path) {
  std::string name = lower(fs::path(std::string(path)).filename().string());
  for (std::string_view suffix : {".gz", ".zst", ".zstd"}) {
    if (ends_with(name, suffix)) return name.substr(0, name.size() - suffix.size());
  }
  return name;
}

bool has_glob(std::string_view p) {
  return p.find_first_of("*?[") != std::string_view::npos;
}

// "\t", "\\t" and "tab" all mean a tab; other escapes as written.
std::string unescape_char_option(const std::string& v) {
  if (v == "\\t" || lower(v) == "tab") return "\t";
  if (v == "\\n") return "\n";
  if (v == "\\\\") return "\\";
  return v;
}

Error not_readable(const std::string& path, const std::string& why) {
  return Error(ErrorCode::unavailable, "cannot read " + path + ": " + why,
               "check the path and its permissions; a glob (data/*.csv) or a directory works too");
}

class FilesSession final : public SourceSession {
 public:
  FilesSession(warehouse::Connection& conn, SourceRef source, ConnectorSettings settings, std::vector<FileEntry> files)
      : conn_(conn), source_(std::move(source)), settings_(std::move(settings)), files_(std::move(files)) {}

  Result<std::vector<Relation>> relations(const ReadSpec& spec) override {
    if (!spec.tables.empty() || !spec.schema.empty() || !spec.query.empty()) {
      return Error(ErrorCode::invalid_argument, "--source-table, --source-schema and --query apply to database sources",
                   "for files, give the path, a glob or a directory as SOURCE");
    }
    PLUTO_ASSIGN_OR_RETURN(FileFormat format, resolve_format(spec.file));
    Relation r;
    r.object = source_.location;
    r.default_name = default_name();
    int64_t bytes = 0;
    for (const auto& f : files_) bytes += f.size;
    r.bytes = bytes;
    PLUTO_ASSIGN_OR_RETURN(r.select_sql, build_select(format, spec.file, &r.rejects_table));
    format_ = format;
    options_ = spec.file;
    r.rows_estimate = estimate_rows(format, bytes);
    return std::vector<Relation>{std::move(r)};
  }

  Result<std::vector<SourceObject>> list_objects() override {
    std::vector<SourceObject> out;
    for (const auto& f : files_) out.push_back({"", f.path, "file", f.size});
    return out;
  }

  Result<std::string> test() override {
    ReadSpec spec;
    PLUTO_ASSIGN_OR_RETURN(auto rels, relations(spec));
    PLUTO_ASSIGN_OR_RETURN(auto cols, select_columns(conn_, rels.front().select_sql));
    std::ostringstream o;
    o << files_.size() << (files_.size() == 1 ? " file" : " files") << " (" << *rels.front().bytes << " bytes, "
      << to_string(format_) << "), " << cols.size() << " columns:";
    for (size_t i = 0; i < cols.size(); ++i) o << (i == 0 ? " " : ", ") << cols[i].name << " " << cols[i].type;
    return o.str();
  }

  Error explain(const Relation& relation, Error error) override {
    if (format_ != FileFormat::csv || error.code == ErrorCode::cancelled) return error;
    const std::string& m = error.message;
    // DuckDB names the line when a value does not convert: "CSV Error on Line: 25001".
    if (const auto at = m.find("CSV Error on Line: "); at != std::string::npos) {
      const std::string line = m.substr(at + 19, m.find_first_not_of("0123456789", at + 19) - (at + 19));
      std::string file = files_.size() == 1 ? files_.front().path : std::string();
      if (const auto f = m.find("\n  file = "); f != std::string::npos) {
        file = m.substr(f + 10, m.find('\n', f + 10) - (f + 10));
      }
      return malformed(file, line, reason_of(m));
    }
    // Otherwise (the sniffer gave up, a row has too many columns…) scan again, collecting rejects.
    (void)relation;
    auto diag = diagnose();
    if (diag.ok() && diag.value()) return *diag.value();
    if (m.find("Error when sniffing file") != std::string::npos || m.find("CSV Error") != std::string::npos) {
      return Error(ErrorCode::sql_error, "malformed CSV in " + source_.location + ": " + first_line(m),
                   "set the dialect with --delimiter, --quote, --header/--no-header, or pass --skip-bad-rows to "
                   "skip rows that do not parse (they are counted)");
    }
    return error;
  }

 private:
  static std::string first_line(const std::string& m) { return m.substr(0, m.find('\n')); }

  static std::string reason_of(const std::string& m) {
    std::istringstream in(m);
    std::string line;
    bool after_original = false;
    while (std::getline(in, line)) {
      if (line.rfind("Original Line:", 0) == 0) {
        after_original = true;
        continue;
      }
      if (after_original && !line.empty()) return line;
    }
    return first_line(m);
  }

  static Error malformed(const std::string& file, const std::string& line, const std::string& reason) {
    return Error(ErrorCode::sql_error, "malformed CSV: " + file + " line " + line + ": " + reason,
                 "fix that line, set the column's type with --type COLUMN=TYPE, or pass --skip-bad-rows to skip "
                 "rows that do not parse (they are counted)");
  }

  // Reads the files once more with DuckDB's reject tables to find the first bad line.
  Result<std::optional<Error>> diagnose() {
    FileOptions opts = options_;
    opts.skip_bad_rows = true;
    std::string rejects;
    diag_counter_++;
    PLUTO_ASSIGN_OR_RETURN(std::string sql,
                           build_select(FileFormat::csv, opts, &rejects, "diag" + std::to_string(diag_counter_)));
    const std::string scans = rejects + "_scans";
    auto cleanup = [&] {
      (void)conn_.run("DROP TABLE IF EXISTS temp." + warehouse::quote_identifier(rejects));
      (void)conn_.run("DROP TABLE IF EXISTS temp." + warehouse::quote_identifier(scans));
    };
    auto count = query_value(conn_, "SELECT count(*) FROM (" + sql + ")");
    if (!count.ok()) {
      cleanup();
      return count.take_error();
    }
    auto rows = query_rows(conn_, "SELECT s.file_path, e.line, e.error_message FROM temp." +
                                      warehouse::quote_identifier(rejects) + " e JOIN temp." +
                                      warehouse::quote_identifier(scans) +
                                      " s ON e.scan_id = s.scan_id AND e.file_id = s.file_id "
                                      "ORDER BY e.scan_id, e.file_id, e.line LIMIT 1");
    cleanup();
    if (!rows.ok()) return rows.take_error();
    if (rows.value().empty()) return std::optional<Error>();
    const auto& row = rows.value().front();
    return std::optional<Error>(
        malformed(row[0].value_or(source_.location), row[1].value_or("?"), row[2].value_or("")));
  }

  // Parquet knows its row count; for plain CSV the first MiB's line length extrapolates well.
  std::optional<int64_t> estimate_rows(FileFormat format, int64_t total_bytes) {
    if (format == FileFormat::parquet) {
      auto n = query_value(conn_, "SELECT sum(num_rows) FROM parquet_file_metadata(" + file_list() + ")");
      int64_t rows = 0;
      if (n.ok() && n.value() &&
          std::from_chars(n.value()->data(), n.value()->data() + n.value()->size(), rows).ec == std::errc{}) {
        return rows;
      }
      return std::nullopt;
    }
    if (format != FileFormat::csv || files_.empty() ||
        base_name(files_.front().path) != lower(fs::path(files_.front().path).filename().string())) {
      return std::nullopt;  // compressed: the sizes say little about rows
    }
    std::ifstream in(files_.front().path, std::ios::binary);
    std::string buf(1U << 20U, '\0');
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto got = static_cast<size_t>(in.gcount());
    const auto lines = std::count(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(got), '\n');
    if (lines < 2) return std::nullopt;
    return static_cast<int64_t>(static_cast<double>(total_bytes) /
                                (static_cast<double>(got) / static_cast<double>(lines)));
  }

  std::string default_name() const {
    if (files_.size() != 1 || has_glob(source_.location)) {
      return fs::path(source_.location).parent_path().filename().string();
    }
    std::string name = fs::path(files_.front().path).filename().string();
    return name.substr(0, name.find('.'));
  }

  Result<FileFormat> resolve_format(const FileOptions& opts) const {
    if (opts.format != FileFormat::auto_detect) return opts.format;
    FileFormat found = FileFormat::auto_detect;
    for (const auto& f : files_) {
      const FileFormat fmt = format_from_name(f.path);
      if (fmt == FileFormat::auto_detect) continue;
      if (found != FileFormat::auto_detect && fmt != found) {
        return Error(ErrorCode::invalid_argument,
                     "the files of " + source_.location + " mix formats (" + std::string(to_string(found)) + " and " +
                         std::string(to_string(fmt)) + ")",
                     "load one format at a time with a glob such as dir/*.csv, or set --format");
      }
      found = fmt;
    }
    // Unknown extensions (.dat, .log, none) are read as CSV: the sniffer finds the dialect.
    return found == FileFormat::auto_detect ? FileFormat::csv : found;
  }

  std::string file_list() const {
    std::string out = "[";
    for (size_t i = 0; i < files_.size(); ++i) {
      if (i > 0) out += ", ";
      out += quote_literal(files_[i].path);
    }
    return out + "]";
  }

  Status check_options(FileFormat format, const FileOptions& o) const {
    std::vector<std::string> csv_only;
    if (o.delimiter) csv_only.emplace_back("--delimiter");
    if (o.quote) csv_only.emplace_back("--quote");
    if (o.escape) csv_only.emplace_back("--escape");
    if (o.header) csv_only.emplace_back("--header/--no-header");
    if (!o.column_types.empty()) csv_only.emplace_back("--type");
    if (o.null_string) csv_only.emplace_back("--null");
    if (o.skip_lines) csv_only.emplace_back("--skip-lines");
    if (o.all_text) csv_only.emplace_back("--all-text");
    if (!o.quoted_nulls) csv_only.emplace_back("--no-quoted-nulls");
    if (format == FileFormat::parquet) {
      if (o.date_format) csv_only.emplace_back("--date-format");
      if (o.timestamp_format) csv_only.emplace_back("--timestamp-format");
      if (o.skip_bad_rows) csv_only.emplace_back("--skip-bad-rows");
      if (o.compression) csv_only.emplace_back("--compression");
    }
    if (format == FileFormat::csv || csv_only.empty()) return {};
    std::string names;
    for (const auto& n : csv_only) names += (names.empty() ? "" : ", ") + n;
    return Error(
        ErrorCode::invalid_argument,
        names + (csv_only.size() == 1 ? " applies" : " apply") + " to CSV files, not " + std::string(to_string(format)),
        "drop the option, or set --format csv if the files are CSV");
  }

  Result<std::string> build_select(FileFormat format, const FileOptions& o, std::string* rejects_table,
                                   const std::string& tag = "load") const {
    PLUTO_TRY(check_options(format, o));
    std::string args = file_list();
    auto add = [&](const char* name, const std::string& value_sql) {
      args += ", ";
      args += name;
      args += "=";
      args += value_sql;
    };
    if (o.compression) add("compression", quote_literal(*o.compression));
    switch (format) {
      case FileFormat::parquet:
        if (files_.size() > 1) add("union_by_name", "true");
        return "SELECT * FROM read_parquet(" + args + ")";
      case FileFormat::json: {
        bool ndjson = true;
        for (const auto& f : files_) {
          const auto n = base_name(f.path);
          ndjson = ndjson && (ends_with(n, ".ndjson") || ends_with(n, ".jsonl"));
        }
        if (ndjson) add("format", "'newline_delimited'");
        if (o.date_format) add("dateformat", quote_literal(*o.date_format));
        if (o.timestamp_format) add("timestampformat", quote_literal(*o.timestamp_format));
        if (o.skip_bad_rows) add("ignore_errors", "true");
        if (files_.size() > 1) add("union_by_name", "true");
        return "SELECT * FROM read_json(" + args + ")";
      }
      case FileFormat::csv:
      case FileFormat::auto_detect: break;
    }
    bool tsv = true;
    for (const auto& f : files_)
      tsv = tsv && (ends_with(base_name(f.path), ".tsv") || ends_with(base_name(f.path), ".tab"));
    if (o.delimiter) {
      add("delim", quote_literal(unescape_char_option(*o.delimiter)));
    } else if (tsv) {
      add("delim", "'\t'");
    }
    if (o.quote) add("quote", quote_literal(unescape_char_option(*o.quote)));
    if (o.escape) add("escape", quote_literal(unescape_char_option(*o.escape)));
    if (o.header) add("header", *o.header ? "true" : "false");
    if (!o.column_types.empty()) {
      std::string types = "{";
      for (const auto& [col, type] : o.column_types) {
        if (types.size() > 1) types += ", ";
        types += quote_literal(col) + ": " + quote_literal(type);
      }
      add("types", types + "}");
    }
    if (o.date_format) add("dateformat", quote_literal(*o.date_format));
    if (o.timestamp_format) add("timestampformat", quote_literal(*o.timestamp_format));
    if (o.null_string) add("nullstr", quote_literal(*o.null_string));
    if (o.skip_lines) add("skip", std::to_string(*o.skip_lines));
    if (o.all_text) add("all_varchar", "true");
    if (!o.quoted_nulls) add("allow_quoted_nulls", "false");
    if (files_.size() > 1) add("union_by_name", "true");
    if (o.skip_bad_rows) {
      *rejects_table = "__pluto_rejects_" + tag + "_" + settings_.session_id;
      add("store_rejects", "true");
      add("rejects_table", quote_literal(*rejects_table));
      add("rejects_scan", quote_literal(*rejects_table + "_scans"));
    }
    return "SELECT * FROM read_csv(" + args + ")";
  }

  warehouse::Connection& conn_;
  SourceRef source_;
  ConnectorSettings settings_;
  std::vector<FileEntry> files_;
  FileFormat format_ = FileFormat::csv;
  FileOptions options_;
  int diag_counter_ = 0;
};

Result<FileEntry> checked_file(const std::string& path, const ConnectorSettings& settings) {
  std::string resolved = path;
  if (settings.restrict_paths) {
    PLUTO_ASSIGN_OR_RETURN(fs::path p, check_allowed_path(path, settings.allowed_dirs));
    resolved = p.string();
  }
  std::error_code ec;
  if (!fs::exists(resolved, ec)) return not_readable(path, "no such file");
  if (fs::is_directory(resolved, ec)) return not_readable(path, "it is a directory");
  if (::access(resolved.c_str(), R_OK) != 0) return not_readable(path, "permission denied");
  const auto size = fs::file_size(resolved, ec);
  return FileEntry{resolved, ec ? 0 : static_cast<int64_t>(size)};
}

class FilesConnector final : public Connector {
 public:
  SourceKind kind() const override { return SourceKind::files; }

  Result<std::unique_ptr<SourceSession>> open(warehouse::Connection& conn, const SourceRef& source,
                                              const ConnectorSettings& settings) const override {
    const std::string& loc = source.location;
    std::vector<FileEntry> files;
    std::error_code ec;
    if (has_glob(loc)) {
      if (settings.restrict_paths) {
        // The fixed part of the pattern must itself be allowed before anything is listed.
        const std::string fixed = loc.substr(0, loc.find_first_of("*?["));
        PLUTO_TRY(check_allowed_path(fs::path(fixed).parent_path(), settings.allowed_dirs));
      }
      PLUTO_ASSIGN_OR_RETURN(auto rows, query_rows(conn, "SELECT file FROM glob($1) ORDER BY file", {loc}));
      for (const auto& r : rows) {
        if (!r[0] || fs::is_directory(*r[0], ec)) continue;
        PLUTO_ASSIGN_OR_RETURN(auto f, checked_file(*r[0], settings));
        files.push_back(std::move(f));
      }
      if (files.empty()) {
        return Error(ErrorCode::unavailable, "no files match " + loc, "check the pattern, e.g. /data/orders/*.csv");
      }
    } else if (fs::is_directory(loc, ec)) {
      if (settings.restrict_paths) PLUTO_TRY(check_allowed_path(loc, settings.allowed_dirs));
      std::vector<std::string> paths;
      for (auto it = fs::recursive_directory_iterator(loc, fs::directory_options::skip_permission_denied, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (!name.empty() && name.front() == '.') {
          if (it->is_directory()) it.disable_recursion_pending();
          continue;
        }
        if (it->is_regular_file() && format_from_name(it->path().string()) != FileFormat::auto_detect) {
          paths.push_back(it->path().string());
        }
      }
      std::sort(paths.begin(), paths.end());
      for (const auto& p : paths) {
        PLUTO_ASSIGN_OR_RETURN(auto f, checked_file(p, settings));
        files.push_back(std::move(f));
      }
      if (files.empty()) {
        return Error(ErrorCode::unavailable, "no data files (CSV, TSV, Parquet, JSON, NDJSON) in directory " + loc,
                     "check the directory, or give a file or a glob");
      }
    } else {
      PLUTO_ASSIGN_OR_RETURN(auto f, checked_file(loc, settings));
      files.push_back(std::move(f));
    }
    return std::unique_ptr<SourceSession>(std::make_unique<FilesSession>(conn, source, settings, std::move(files)));
  }
};

}  // namespace

FileFormat format_from_name(std::string_view path) {
  const std::string n = base_name(path);
  for (std::string_view ext : {".csv", ".tsv", ".tab", ".txt"}) {
    if (ends_with(n, ext)) return FileFormat::csv;
  }
  for (std::string_view ext : {".parquet", ".pq"}) {
    if (ends_with(n, ext)) return FileFormat::parquet;
  }
  for (std::string_view ext : {".json", ".ndjson", ".jsonl"}) {
    if (ends_with(n, ext)) return FileFormat::json;
  }
  return FileFormat::auto_detect;
}

std::unique_ptr<Connector> make_files_connector() {
  return std::make_unique<FilesConnector>();
}

}  // namespace pluto::ingest
