#include "pluto/agent/schema_explorer.hpp"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "pluto/agent/text.hpp"
#include "pluto/warehouse/duckdb_api.hpp"
#include "pluto/warehouse/warehouse.hpp"
#include "pluto/warehouse/writers.hpp"

namespace pluto::agent {
namespace {

using nlohmann::json;

Result<json> query_rows(warehouse::Connection& conn, const std::string& sql) {
  PLUTO_ASSIGN_OR_RETURN(auto result, conn.execute(sql));
  std::string text;
  warehouse::WriteOptions wo;
  wo.format = warehouse::OutputFormat::json_arrays;
  PLUTO_TRY(warehouse::write_result(result, wo, warehouse::string_sink(text)));
  json rows = json::parse(text, nullptr, false);
  if (rows.is_discarded() || !rows.is_array()) return Error(ErrorCode::internal, "cannot read the catalog");
  return rows;
}

std::string text_of(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return {};
  return v.dump();
}

std::string quote_if_needed(const std::string& name) {
  const bool plain = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  }) && !(name[0] >= '0' && name[0] <= '9');
  return plain ? name : warehouse::quote_identifier(name);
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

// Scores of one table against the question (and, at half weight, the conversation so far).
double score_table(const TableCandidate& t, const std::vector<std::string>& q, const std::vector<std::string>& ctx) {
  double score = 0;
  const auto name_words = stems(words(t.name));
  if (const size_t m = name_match(t.name, q); m > 0) {
    score += 4.0 * static_cast<double>(m) + (m == name_words.size() ? 2.0 : 0.0);
  } else if (const size_t c = name_match(t.name, ctx); c > 0) {
    score += 2.0 * static_cast<double>(c);
  }
  for (const auto& w : stems(words(t.comment))) {
    if (!is_stop_word(w) && std::find(q.begin(), q.end(), w) != q.end()) score += 0.5;
  }
  for (const auto& c : t.columns) score += c.score;
  return score;
}

double score_column(const ColumnCandidate& c, const std::vector<std::string>& q_stems,
                    const std::vector<std::string>& q_words) {
  double score = 0;
  if (const size_t m = name_match(c.name, q_stems); m > 0) {
    score += 2.0 * static_cast<double>(m);
  }
  for (const auto& w : stems(words(c.comment))) {
    if (!is_stop_word(w) && std::find(q_stems.begin(), q_stems.end(), w) != q_stems.end()) score += 0.3;
  }
  for (const auto& v : c.values) {
    const auto vw = words(v);
    if (vw.empty() || (vw.size() == 1 && (vw[0].size() < 2 || is_number(vw[0]) || is_stop_word(vw[0])))) continue;
    if (find_phrase(q_words, vw) != std::string::npos || find_phrase(q_stems, stems(vw)) != std::string::npos) {
      score += 3.0;
      break;
    }
  }
  return score;
}

}  // namespace

bool is_numeric_type(const std::string& type) {
  const auto t = upper(type);
  for (const char* n : {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                        "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "REAL", "DECIMAL", "NUMERIC", "INT"}) {
    if (t.rfind(n, 0) == 0) return true;
  }
  return false;
}

bool is_text_type(const std::string& type) {
  const auto t = upper(type);
  return t == "VARCHAR" || t.rfind("ENUM", 0) == 0 || t == "TEXT" || t == "STRING";
}

bool is_temporal_type(const std::string& type) {
  const auto t = upper(type);
  return t == "DATE" || t.rfind("TIMESTAMP", 0) == 0;
}

size_t name_match(const std::string& name, const std::vector<std::string>& question_stems) {
  const auto nw = stems(words(name));
  if (nw.empty()) return 0;
  if (find_phrase(question_stems, nw) != std::string::npos) return nw.size();
  return 0;
}

Result<std::vector<TableCandidate>> explore_schema(warehouse::Connection& conn,
                                                   const std::vector<std::string>& question,
                                                   const std::vector<std::string>& context,
                                                   const ExploreOptions& options,
                                                   const std::shared_ptr<CancelToken>& cancel) {
  CancelScope interrupt(cancel, [&conn] { conn.interrupt(); });
  const auto q_stems = stems(question);
  const auto ctx_stems = stems(context);

  PLUTO_ASSIGN_OR_RETURN(auto tables, warehouse::list_tables(conn));
  PLUTO_ASSIGN_OR_RETURN(json where, query_rows(conn, "SELECT current_database()"));
  const std::string current_db = where.empty() ? std::string() : text_of(where[0][0]);
  PLUTO_ASSIGN_OR_RETURN(json cols, query_rows(conn,
                                               "SELECT database_name, schema_name, table_name, column_name, "
                                               "data_type, coalesce(comment, '') FROM duckdb_columns() "
                                               "WHERE NOT internal ORDER BY database_name, schema_name, "
                                               "table_name, column_index"));
  std::map<std::tuple<std::string, std::string, std::string>, std::vector<ColumnCandidate>> by_table;
  for (const auto& row : cols) {
    if (!row.is_array() || row.size() != 6) continue;
    by_table[{text_of(row[0]), text_of(row[1]), text_of(row[2])}].push_back(
        ColumnCandidate{text_of(row[3]), text_of(row[4]), text_of(row[5]), {}, false, 0});
  }

  std::vector<TableCandidate> out;
  for (const auto& t : tables) {
    TableCandidate c;
    c.name = t.name;
    c.database = t.database;
    c.schema = t.schema;
    c.kind = t.kind;
    c.comment = t.comment;
    c.row_count = t.row_count;
    c.sql_name = (t.database == current_db && t.schema == "main")
                     ? quote_if_needed(t.name)
                     : quote_if_needed(t.database) + "." + quote_if_needed(t.schema) + "." + quote_if_needed(t.name);
    c.columns = by_table[{t.database, t.schema, t.name}];
    for (auto& col : c.columns) col.score = score_column(col, q_stems, question);
    c.score = score_table(c, q_stems, ctx_stems);
    out.push_back(std::move(c));
  }
  auto by_score = [](const TableCandidate& a, const TableCandidate& b) {
    if (a.score != b.score) return a.score > b.score;
    return a.sql_name < b.sql_name;
  };
  std::stable_sort(out.begin(), out.end(), by_score);

  // Values are sampled for the best candidates by name (twice as many as kept), then everything is
  // ranked again with the values counted.
  if (options.sample_values) {
    const size_t sampled = std::min(out.size(), std::max<size_t>(options.max_tables * 2, 16));
    for (size_t i = 0; i < sampled; ++i) {
      if (cancel && cancel->cancelled()) return Error(ErrorCode::cancelled, "schema exploration cancelled");
      auto& t = out[i];
      std::vector<ColumnCandidate*> text_cols;
      for (auto& col : t.columns) {
        if (is_text_type(col.type)) text_cols.push_back(&col);
      }
      if (text_cols.empty()) continue;
      std::string select;
      std::string inner;
      for (auto* col : text_cols) {
        const auto id = warehouse::quote_identifier(col->name);
        if (!select.empty()) select += ", ";
        if (!inner.empty()) inner += ", ";
        select += "CAST(list(DISTINCT CAST(" + id + " AS VARCHAR) ORDER BY CAST(" + id +
                  " AS VARCHAR)) FILTER (WHERE " + id + " IS NOT NULL) AS VARCHAR[])";
        inner += id;
      }
      const auto qualified = warehouse::quote_identifier(t.database) + "." + warehouse::quote_identifier(t.schema) +
                             "." + warehouse::quote_identifier(t.name);
      auto rows = query_rows(conn, "SELECT " + select + " FROM (SELECT " + inner + " FROM " + qualified + " LIMIT " +
                                       std::to_string(options.sample_rows) + ")");
      if (!rows.ok()) {
        if (cancel && cancel->cancelled()) return Error(ErrorCode::cancelled, "schema exploration cancelled");
        continue;  // a view that fails to run is still listed, without values
      }
      if (rows.value().empty() || !rows.value()[0].is_array()) continue;
      const auto& row = rows.value()[0];
      for (size_t k = 0; k < text_cols.size() && k < row.size(); ++k) {
        auto* col = text_cols[k];
        if (!row[k].is_array()) continue;
        for (const auto& v : row[k]) {
          if (col->values.size() >= options.max_values) break;
          col->values.push_back(text_of(v));
        }
        col->values_complete = row[k].size() <= options.max_values;
        col->score = score_column(*col, q_stems, question);
      }
      t.score = score_table(t, q_stems, ctx_stems);
    }
    std::stable_sort(out.begin(), out.end(), by_score);
  }
  if (out.size() > options.max_tables) out.resize(options.max_tables);
  return out;
}

}  // namespace pluto::agent
