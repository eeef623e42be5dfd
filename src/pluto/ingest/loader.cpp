#include "pluto/ingest/loader.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>

#include "pluto/ingest/sql_util.hpp"

namespace pluto::ingest {
using warehouse::ColumnInfo;
using warehouse::quote_identifier;
using warehouse::quote_literal;

namespace {

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

bool same_name(const std::string& a, const std::string& b) {
  return upper(a) == upper(b);
}

const ColumnInfo* find_column(const std::vector<ColumnInfo>& cols, const std::string& name) {
  for (const auto& c : cols) {
    if (same_name(c.name, name)) return &c;
  }
  return nullptr;
}

// Integer types: rank by width and whether they are signed.
struct IntInfo {
  int bits;
  bool is_signed;
  int digits;  // decimal digits needed for every value
};
std::optional<IntInfo> int_info(const std::string& t) {
  static const std::map<std::string, IntInfo> kInts = {{"TINYINT", {8, true, 3}},     {"SMALLINT", {16, true, 5}},
                                                       {"INTEGER", {32, true, 10}},   {"BIGINT", {64, true, 19}},
                                                       {"HUGEINT", {128, true, 39}},  {"UTINYINT", {8, false, 3}},
                                                       {"USMALLINT", {16, false, 5}}, {"UINTEGER", {32, false, 10}},
                                                       {"UBIGINT", {64, false, 20}},  {"UHUGEINT", {128, false, 39}}};
  auto it = kInts.find(t);
  if (it == kInts.end()) return std::nullopt;
  return it->second;
}

// DECIMAL(p,s) -> {p, s}.
std::optional<std::pair<int, int>> decimal_info(const std::string& t) {
  if (t.rfind("DECIMAL(", 0) != 0) return std::nullopt;
  int p = 0;
  int s = 0;
  if (std::sscanf(t.c_str(), "DECIMAL(%d,%d)", &p, &s) != 2) return std::nullopt;
  return std::make_pair(p, s);
}

bool is_timestamp(const std::string& t) {
  return t == "TIMESTAMP" || t == "TIMESTAMP_S" || t == "TIMESTAMP_MS" || t == "TIMESTAMP_NS";
}

// Types a cursor column may have: ordered scalars whose text form casts back exactly.
bool cursor_type_ok(const std::string& t) {
  return int_info(t) || decimal_info(t) || t == "FLOAT" || t == "DOUBLE" || t == "DATE" || is_timestamp(t) ||
         t == "TIMESTAMP WITH TIME ZONE" || t == "VARCHAR" || t == "UUID" || t == "TIME";
}

// A type holding the values of both (computed here: a failing statement would abort the load's
// transaction). Numbers widen to the wider integer or DOUBLE, dates to TIMESTAMP, the rest to VARCHAR.
std::string widened_type(const std::string& a, const std::string& b) {
  if (type_fits(a, b)) return b;
  if (type_fits(b, a)) return a;
  const auto ia = int_info(a);
  const auto ib = int_info(b);
  if (ia && ib) {
    const int bits = std::max(ia->bits, ib->bits) * 2;  // a signed type wider than the unsigned one
    return bits <= 64 ? (bits <= 32 ? "INTEGER" : "BIGINT") : "HUGEINT";
  }
  const auto numeric = [](const std::string& t) {
    return int_info(t) || decimal_info(t) || t == "FLOAT" || t == "DOUBLE";
  };
  if (numeric(a) && numeric(b)) return "DOUBLE";
  const auto temporal = [](const std::string& t) { return t == "DATE" || is_timestamp(t); };
  if (temporal(a) && temporal(b)) return "TIMESTAMP";
  return "VARCHAR";
}

Error drift_error(const LoadTarget& target, LoadMode mode, const std::string& what) {
  return Error(ErrorCode::conflict,
               "schema drift on " + std::string(to_string(mode)) + " into " + target.display() + ": " + what,
               "pass --evolve (options.evolve) to add new columns and widen changed ones, set the source column's "
               "type with --type COLUMN=TYPE, or load with --mode replace");
}

class ProgressWatcher {
 public:
  ProgressWatcher(warehouse::Connection& conn, const ProgressFn& fn) : conn_(conn), fn_(fn) {
    if (fn_) thread_ = std::thread([this] { loop(); });
  }
  ~ProgressWatcher() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  ProgressWatcher(const ProgressWatcher&) = delete;
  ProgressWatcher& operator=(const ProgressWatcher&) = delete;
  void set_index(size_t i) { index_.store(i); }

 private:
  void loop() {
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::milliseconds(250), [this] { return stop_; })) {
      const auto p = duckdb_query_progress(conn_.get());
      const double fraction = p.percentage < 0 ? -1.0 : std::min(1.0, p.percentage / 100.0);
      lock.unlock();
      fn_(index_.load(), fraction, p.rows_processed);
      lock.lock();
    }
  }

  warehouse::Connection& conn_;
  const ProgressFn& fn_;
  std::atomic<size_t> index_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

int64_t to_int(const std::optional<std::string>& v) {
  int64_t out = 0;
  if (v) std::from_chars(v->data(), v->data() + v->size(), out);
  return out;
}

// Runs a data-changing statement and returns the row count it reports.
Result<int64_t> run_count(warehouse::Connection& conn, const std::string& sql) {
  PLUTO_ASSIGN_OR_RETURN(auto v, query_value(conn, sql));
  return to_int(v);
}

class TableLoader {
 public:
  TableLoader(warehouse::Connection& conn, const LoadOptions& options) : conn_(conn), options_(options) {}

  Result<TableLoadResult> load(const TableLoad& load) {
    const LoadTarget& target = load.target;
    TableLoadResult out;
    out.target = target;
    out.object = load.relation.object;
    out.bytes = load.relation.bytes;
    tgt_ = quote_identifier(target.schema) + "." + quote_identifier(target.table);
    if (!same_name(target.schema, "main")) {
      PLUTO_TRY(conn_.run("CREATE SCHEMA IF NOT EXISTS " + quote_identifier(target.schema)));
    }
    PLUTO_ASSIGN_OR_RETURN(auto existing, table_columns(conn_, target.schema, target.table));
    const std::string& select = load.relation.select_sql;
    const LoadMode mode = options_.mode;

    if (mode != LoadMode::replace || !existing.empty()) {
      // What the source will produce, to check required columns and drift before writing.
      PLUTO_ASSIGN_OR_RETURN(source_cols_, select_columns(conn_, select));
      PLUTO_TRY(check_required(target));
    }
    if (mode == LoadMode::replace || existing.empty()) {
      PLUTO_ASSIGN_OR_RETURN(out.rows, run_count(conn_, "CREATE OR REPLACE TABLE " + tgt_ + " AS " + select));
      out.created = existing.empty();
    } else {
      PLUTO_TRY(reconcile(target, existing, &out.evolved));
      switch (mode) {
        case LoadMode::append: {
          PLUTO_ASSIGN_OR_RETURN(out.rows, run_count(conn_, "INSERT INTO " + tgt_ + " BY NAME " + select));
          break;
        }
        case LoadMode::incremental: {
          PLUTO_ASSIGN_OR_RETURN(auto hwm, effective_high_water(load));
          std::string filtered = select;
          if (hwm) {
            const ColumnInfo* c = find_column(source_cols_, options_.cursor);
            filtered = "SELECT * FROM (" + select + ") AS __pluto_src WHERE " + quote_identifier(c->name) + " > CAST(" +
                       quote_literal(*hwm) + " AS " + c->type + ")";
          }
          PLUTO_ASSIGN_OR_RETURN(out.rows, run_count(conn_, "INSERT INTO " + tgt_ + " BY NAME " + filtered));
          break;
        }
        case LoadMode::merge: {
          PLUTO_ASSIGN_OR_RETURN(out.rows, merge(target, select));
          break;
        }
        case LoadMode::replace: break;
      }
    }
    PLUTO_ASSIGN_OR_RETURN(out.columns, table_columns(conn_, target.schema, target.table));
    if (mode == LoadMode::incremental) {
      const ColumnInfo* c = find_column(out.columns, options_.cursor);
      PLUTO_ASSIGN_OR_RETURN(out.high_water, query_value(conn_, "SELECT CAST(max(" + quote_identifier(c->name) +
                                                                    ") AS VARCHAR) FROM " + tgt_));
      out.high_water_type = c->type;
    }
    if (!load.relation.rejects_table.empty()) PLUTO_TRY(collect_rejects(load.relation.rejects_table, &out));
    return out;
  }

 private:
  Status check_required(const LoadTarget& target) {
    if (options_.mode == LoadMode::incremental) {
      const ColumnInfo* c = find_column(source_cols_, options_.cursor);
      if (c == nullptr) {
        return Error(ErrorCode::invalid_argument,
                     "cursor column \"" + options_.cursor + "\" is not in the source of " + target.display(),
                     "pass --cursor with a column the source has (an id or updated_at that only grows)");
      }
      if (!cursor_type_ok(c->type)) {
        return Error(ErrorCode::invalid_argument,
                     "cursor column \"" + c->name + "\" has type " + c->type + ", which cannot be a high-water mark",
                     "use a number, date, timestamp or text column that only grows");
      }
    }
    if (options_.mode == LoadMode::merge) {
      for (const auto& k : options_.keys) {
        if (find_column(source_cols_, k) == nullptr) {
          return Error(ErrorCode::invalid_argument,
                       "merge key column \"" + k + "\" is not in the source of " + target.display(),
                       "pass --key with a column that identifies a row in the source");
        }
      }
    }
    return {};
  }

  // Compares the source's columns with the table's; adds or widens columns when evolving.
  Status reconcile(const LoadTarget& target, const std::vector<ColumnInfo>& existing,
                   std::vector<std::string>* evolved) {
    for (const auto& s : source_cols_) {
      const ColumnInfo* t = find_column(existing, s.name);
      if (t == nullptr) {
        if (!options_.evolve) {
          return drift_error(target, options_.mode,
                             "the source has a new column \"" + s.name + "\" (" + s.type + ") the table does not have");
        }
        PLUTO_TRY(conn_.run("ALTER TABLE " + tgt_ + " ADD COLUMN " + quote_identifier(s.name) + " " + s.type));
        evolved->push_back("added column \"" + s.name + "\" " + s.type);
        continue;
      }
      if (type_fits(s.type, t->type)) continue;
      if (!options_.evolve) {
        return drift_error(
            target, options_.mode,
            "column \"" + t->name + "\" is " + t->type + " in the table but " + s.type + " in the source");
      }
      const std::string wider = widened_type(t->type, s.type);
      PLUTO_TRY(
          conn_.run("ALTER TABLE " + tgt_ + " ALTER COLUMN " + quote_identifier(t->name) + " SET DATA TYPE " + wider));
      evolved->push_back("column \"" + t->name + "\" " + t->type + " -> " + wider);
    }
    return {};
  }

  // max(stored mark, largest cursor value already in the table): a crash between the warehouse
  // commit and the catalog update cannot make a row load twice.
  Result<std::optional<std::string>> effective_high_water(const TableLoad& load) {
    const ColumnInfo* c = find_column(source_cols_, options_.cursor);
    std::string sql = "SELECT CAST(max(" + quote_identifier(c->name) + ") AS VARCHAR) FROM " + tgt_;
    if (load.stored_high_water) {
      sql = "SELECT CAST(greatest(CAST(" + quote_literal(*load.stored_high_water) + " AS " + c->type +
            "), (SELECT max(" + quote_identifier(c->name) + ") FROM " + tgt_ + ")) AS VARCHAR)";
    }
    return query_value(conn_, sql);
  }

  Result<int64_t> merge(const LoadTarget& target, const std::string& select) {
    const std::string stage = quote_identifier("__pluto_stage_" + options_.session_id);
    PLUTO_TRY(conn_.run("CREATE OR REPLACE TEMPORARY TABLE " + stage + " AS " + select));
    std::string keys;
    std::string on;
    for (const auto& k : options_.keys) {
      const ColumnInfo* c = find_column(source_cols_, k);
      keys += (keys.empty() ? "" : ", ") + quote_identifier(c->name);
      on += std::string(on.empty() ? "" : " AND ") + "t." + quote_identifier(c->name) + " = s." +
            quote_identifier(c->name);
    }
    PLUTO_ASSIGN_OR_RETURN(auto dups, query_value(conn_, "SELECT count(*) FROM (SELECT " + keys + " FROM temp." +
                                                             stage + " GROUP BY ALL HAVING count(*) > 1)"));
    if (dups && *dups != "0") {
      (void)conn_.run("DROP TABLE IF EXISTS temp." + stage);
      return Error(ErrorCode::conflict,
                   "merge key (" + keys + ") is not unique in the source of " + target.display() + ": " + *dups +
                       " key values appear more than once",
                   "make the key unique (e.g. --query with DISTINCT ON), choose another --key, or use --mode append");
    }
    std::string set;
    std::string cols;
    std::string vals;
    for (const auto& c : source_cols_) {
      const std::string q = quote_identifier(c.name);
      cols += (cols.empty() ? "" : ", ") + q;
      vals += (vals.empty() ? "" : ", ") + ("s." + q);
      bool is_key = false;
      for (const auto& k : options_.keys) is_key = is_key || same_name(k, c.name);
      if (!is_key) set += (set.empty() ? "" : ", ") + q + " = s." + q;
    }
    const std::string matched = set.empty() ? "DO NOTHING" : "UPDATE SET " + set;
    auto rows = run_count(conn_, "MERGE INTO " + tgt_ + " AS t USING temp." + stage + " AS s ON (" + on +
                                     ") WHEN MATCHED THEN " + matched + " WHEN NOT MATCHED THEN INSERT (" + cols +
                                     ") VALUES (" + vals + ")");
    (void)conn_.run("DROP TABLE IF EXISTS temp." + stage);
    return rows;
  }

  Status collect_rejects(const std::string& rejects, TableLoadResult* out) {
    const std::string errors = "temp." + quote_identifier(rejects);
    const std::string scans = "temp." + quote_identifier(rejects + "_scans");
    PLUTO_ASSIGN_OR_RETURN(
        auto n,
        query_value(conn_, "SELECT count(*) FROM (SELECT DISTINCT scan_id, file_id, line FROM " + errors + ")"));
    out->skipped_rows = to_int(n);
    PLUTO_ASSIGN_OR_RETURN(auto rows, query_rows(conn_, "SELECT s.file_path, e.line, min(e.error_message) FROM " +
                                                            errors + " e JOIN " + scans +
                                                            " s ON e.scan_id = s.scan_id AND e.file_id = s.file_id "
                                                            "GROUP BY ALL ORDER BY 1, 2 LIMIT 5"));
    for (const auto& r : rows) {
      out->bad_rows.push_back({r[0].value_or(""), to_int(r[1]), r[2].value_or("")});
    }
    // One statement per call: a multi-statement run would try its own BEGIN inside our transaction.
    PLUTO_TRY(conn_.run("DROP TABLE IF EXISTS " + errors));
    return conn_.run("DROP TABLE IF EXISTS " + scans);
  }

  warehouse::Connection& conn_;
  const LoadOptions& options_;
  std::string tgt_;
  std::vector<ColumnInfo> source_cols_;
};

}  // namespace

bool type_fits(const std::string& from, const std::string& to) {
  if (from == to || to == "VARCHAR") return true;
  const auto fi = int_info(from);
  const auto ti = int_info(to);
  if (fi && ti) {
    if (fi->is_signed == ti->is_signed) return fi->bits <= ti->bits;
    return !fi->is_signed && ti->is_signed && fi->bits < ti->bits;  // unsigned into a wider signed type
  }
  if (fi && (to == "DOUBLE" || (to == "FLOAT" && fi->bits <= 16))) return true;
  const auto td = decimal_info(to);
  if (fi && td) return td->first - td->second >= fi->digits;
  const auto fd = decimal_info(from);
  if (fd && td) return td->second >= fd->second && td->first - td->second >= fd->first - fd->second;
  if (fd && to == "DOUBLE") return true;
  if (from == "FLOAT" && to == "DOUBLE") return true;
  if (from == "DATE" && is_timestamp(to)) return true;
  if ((from == "TIMESTAMP_S" || from == "TIMESTAMP_MS") && (to == "TIMESTAMP" || to == "TIMESTAMP_NS")) return true;
  if (from == "TIMESTAMP" && to == "TIMESTAMP_NS") return true;
  return false;
}

Status check_table_name(const std::string& name, const char* what) {
  auto bad = [&](const std::string& why) -> Status {
    return Error(ErrorCode::invalid_argument, std::string("invalid ") + what + " name: " + why,
                 "use any name without control characters (quotes, spaces and dots are fine), at most 255 bytes");
  };
  if (name.empty()) return bad("it is empty");
  if (name.size() > 255) return bad("it is longer than 255 bytes");
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) return bad("it contains a control character");
  }
  if (upper(name).rfind("__PLUTO_", 0) == 0) return bad("names starting with __pluto_ are reserved");
  return {};
}

Result<std::vector<TableLoadResult>> load_tables(warehouse::Connection& conn, SourceSession& session,
                                                 const std::vector<TableLoad>& loads, const LoadOptions& options,
                                                 const std::shared_ptr<CancelToken>& cancel,
                                                 const ProgressFn& progress) {
  auto cancelled = [&] { return cancel && cancel->cancelled(); };
  auto cancelled_error = [] { return Error(ErrorCode::cancelled, "ingestion cancelled"); };
  if (cancelled()) return cancelled_error();
  PLUTO_TRY(conn.run("BEGIN TRANSACTION"));
  std::vector<TableLoadResult> results;
  std::optional<Error> failure;
  size_t failed_index = 0;
  {
    ProgressWatcher watcher(conn, progress);
    TableLoader loader(conn, options);
    for (size_t i = 0; i < loads.size(); ++i) {
      watcher.set_index(i);
      if (cancelled()) {
        failure = cancelled_error();
        break;
      }
      auto r = loader.load(loads[i]);
      if (!r.ok()) {
        failure = r.take_error();
        failed_index = i;
        break;
      }
      results.push_back(std::move(r).value());
    }
    if (!failure && cancelled()) failure = cancelled_error();
    if (!failure) {
      if (auto st = conn.run("COMMIT"); !st.ok()) failure = st.take_error();
    }
  }
  if (!failure) return results;
  (void)conn.run("ROLLBACK");
  if (cancelled() || failure->code == ErrorCode::cancelled) return cancelled_error();
  return session.explain(loads[failed_index].relation, std::move(*failure));
}

}  // namespace pluto::ingest
