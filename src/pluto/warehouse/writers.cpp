#include "pluto/warehouse/writers.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "pluto/core/json_escape.hpp"
#include "pluto/warehouse/arrow_ipc.hpp"
#include "pluto/warehouse/value_format.hpp"

namespace pluto::warehouse {
namespace {

constexpr size_t kFlushBytes = 64 * 1024;

void append_csv_field(std::string& out, std::string_view v, char delimiter) {
  const bool quote = v.find_first_of(std::string("\"\r\n") + delimiter) != std::string_view::npos ||
                     (!v.empty() && (v.front() == ' ' || v.back() == ' '));
  if (!quote) {
    out += v;
    return;
  }
  out += '"';
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

// Display width of UTF-8 text: counts code points (good enough for aligned tables).
size_t display_width(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0U) != 0x80U ? 1 : 0;
  return n;
}

class TableBuffer {
 public:
  explicit TableBuffer(const std::vector<ColumnInfo>& cols) : header_(cols.size()) {
    for (size_t i = 0; i < cols.size(); ++i) header_[i] = cols[i].name;
  }
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string render(uint64_t total, bool truncated) const {
    std::vector<size_t> w(header_.size(), 0);
    for (size_t c = 0; c < header_.size(); ++c) w[c] = display_width(header_[c]);
    for (const auto& r : rows_) {
      for (size_t c = 0; c < r.size(); ++c) w[c] = std::max(w[c], display_width(r[c]));
    }
    for (auto& x : w) x = std::min<size_t>(x, 60);
    std::string out;
    auto line = [&](const std::vector<std::string>& cells) {
      for (size_t c = 0; c < cells.size(); ++c) {
        if (c > 0) out += " | ";
        std::string cell = cells[c];
        if (display_width(cell) > w[c]) {
          size_t keep = 0, seen = 0;
          while (keep < cell.size() && seen + 1 < w[c]) {
            ++keep;
            while (keep < cell.size() && (static_cast<unsigned char>(cell[keep]) & 0xC0U) == 0x80U) ++keep;
            ++seen;
          }
          cell = cell.substr(0, keep) + "…";
        }
        out += cell;
        if (c + 1 < cells.size()) out.append(w[c] - std::min(w[c], display_width(cell)), ' ');
      }
      out += '\n';
    };
    line(header_);
    for (size_t c = 0; c < header_.size(); ++c) {
      if (c > 0) out += "-+-";
      out.append(w[c], '-');
    }
    out += '\n';
    for (const auto& r : rows_) line(r);
    out += '(' + std::to_string(total) + (total == 1 ? " row" : " rows");
    if (truncated) out += ", " + std::to_string(rows_.size()) + " shown";
    out += ")\n";
    return out;
  }

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace

Result<OutputFormat> parse_output_format(std::string_view name) {
  if (name == "table") return OutputFormat::table;
  if (name == "csv") return OutputFormat::csv;
  if (name == "json") return OutputFormat::json;
  if (name == "ndjson" || name == "jsonl") return OutputFormat::ndjson;
  if (name == "arrow") return OutputFormat::arrow;
  return Error(ErrorCode::invalid_argument, "unknown output format '" + std::string(name) + "'",
               "use table, csv, json, ndjson or arrow (parquet needs --output FILE)");
}

Sink string_sink(std::string& out) {
  return [&out](std::string_view s) -> Status {
    out.append(s);
    return {};
  };
}

Sink file_sink(std::FILE* file) {
  return [file](std::string_view s) -> Status {
    if (std::fwrite(s.data(), 1, s.size(), file) != s.size()) {
      return Error(ErrorCode::unavailable, std::string("cannot write output: ") + std::strerror(errno));
    }
    return {};
  };
}

Result<WriteSummary> write_result(QueryResult& result, const WriteOptions& options, const Sink& sink) {
  if (options.format == OutputFormat::arrow) return write_arrow_stream(result, options, sink);
  WriteSummary summary;
  summary.columns = result.columns();
  const auto ncols = summary.columns.size();
  std::vector<ColumnFormatter> fmts;
  fmts.reserve(ncols);
  for (idx_t c = 0; c < ncols; ++c) {
    auto type = result.column_type(c);
    PLUTO_ASSIGN_OR_RETURN(auto f, ColumnFormatter::create(type.get()));
    fmts.push_back(std::move(f));
  }
  // Pre-rendered JSON keys: "name":
  std::vector<std::string> keys(ncols);
  for (size_t c = 0; c < ncols; ++c) {
    append_json_string(keys[c], summary.columns[c].name);
    keys[c] += ':';
  }

  std::string buf;
  buf.reserve(kFlushBytes + 4096);
  auto flush = [&]() -> Status {
    if (buf.empty()) return {};
    auto st = sink(buf);
    buf.clear();
    return st;
  };

  const auto fmt = options.format;
  std::unique_ptr<TableBuffer> table;
  if (fmt == OutputFormat::table) table = std::make_unique<TableBuffer>(summary.columns);
  if (fmt == OutputFormat::json || fmt == OutputFormat::json_arrays) buf += '[';
  if (fmt == OutputFormat::csv && options.csv_header) {
    for (size_t c = 0; c < ncols; ++c) {
      if (c > 0) buf += options.csv_delimiter;
      append_csv_field(buf, summary.columns[c].name, options.csv_delimiter);
    }
    buf += '\n';
  }

  uint64_t seen = 0;
  std::string cell;
  while (true) {
    if (options.should_stop != nullptr && (*options.should_stop)()) {
      return Error(ErrorCode::cancelled, "cancelled while writing the result");
    }
    auto chunk = result.next_chunk();
    if (!chunk) break;
    const idx_t n = chunk->size();
    const uint64_t end_seen = seen + n;
    // Rows of this chunk that fall in [skip_rows, skip_rows + max_rows).
    const uint64_t lo = std::max(seen, options.skip_rows);
    const uint64_t cap_end = options.max_rows == UINT64_MAX ? UINT64_MAX : options.skip_rows + options.max_rows;
    const uint64_t hi = std::min(end_seen, cap_end);
    if (lo < hi) {
      for (size_t c = 0; c < ncols; ++c) fmts[c].bind(chunk->column(c));
      for (uint64_t g = lo; g < hi; ++g) {
        const idx_t r = g - seen;
        switch (fmt) {
          case OutputFormat::json:
          case OutputFormat::ndjson: {
            if (fmt == OutputFormat::json && summary.rows_written > 0) buf += ',';
            buf += '{';
            for (size_t c = 0; c < ncols; ++c) {
              if (c > 0) buf += ',';
              buf += keys[c];
              fmts[c].append_json(buf, r);
            }
            buf += '}';
            if (fmt == OutputFormat::ndjson) buf += '\n';
            break;
          }
          case OutputFormat::json_arrays: {
            if (summary.rows_written > 0) buf += ',';
            buf += '[';
            for (size_t c = 0; c < ncols; ++c) {
              if (c > 0) buf += ',';
              fmts[c].append_json(buf, r);
            }
            buf += ']';
            break;
          }
          case OutputFormat::csv: {
            for (size_t c = 0; c < ncols; ++c) {
              if (c > 0) buf += options.csv_delimiter;
              if (fmts[c].is_null(r)) continue;
              cell.clear();
              fmts[c].append_text(cell, r);
              append_csv_field(buf, cell, options.csv_delimiter);
            }
            buf += '\n';
            break;
          }
          case OutputFormat::arrow: break;  // written by write_arrow_stream
          case OutputFormat::table: {
            std::vector<std::string> row(ncols);
            for (size_t c = 0; c < ncols; ++c) {
              if (fmts[c].is_null(r)) {
                row[c] = "NULL";
              } else {
                fmts[c].append_text(row[c], r);
              }
            }
            table->add(std::move(row));
            break;
          }
        }
        ++summary.rows_written;
        if (buf.size() >= kFlushBytes) PLUTO_TRY(flush());
      }
    }
    seen = end_seen;
  }
  if (auto err = result.stream_error()) return *err;
  summary.rows_total = seen;
  summary.truncated = seen > options.skip_rows && seen - options.skip_rows > summary.rows_written;
  if (fmt == OutputFormat::json || fmt == OutputFormat::json_arrays) buf += ']';
  if (fmt == OutputFormat::json) buf += '\n';
  if (table) buf += table->render(seen, summary.truncated);
  PLUTO_TRY(flush());
  return summary;
}

}  // namespace pluto::warehouse
