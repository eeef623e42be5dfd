#include "pluto/query/sql_guard.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "pluto/warehouse/duckdb_api.hpp"
#include "pluto/warehouse/warehouse.hpp"
#include "pluto/warehouse/writers.hpp"

namespace pluto::query {
namespace {

using nlohmann::json;

constexpr const char* kHint =
    "safe mode allows one read-only SELECT over the warehouse's tables and views (see `pluto-duck tables`), "
    "ordinary scalar, aggregate and window functions, and the table functions range, generate_series and unnest";

// JSON nesting beyond this is refused rather than walked (the walk is recursive).
constexpr int kMaxDepth = 3000;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Why a function is never allowed, or empty when it is not on the deny-list. Names are lower case.
std::string denied_reason(const std::string& name) {
  struct Rule {
    const char* name;
    bool prefix;
    const char* why;
  };
  static constexpr std::array kRules = {
      Rule{"read_", true, "reads files"},
      Rule{"glob", false, "lists files"},
      Rule{"sniff_csv", false, "reads files"},
      Rule{"parquet_", true, "reads files"},
      Rule{"iceberg_", true, "reads files"},
      Rule{"delta_", true, "reads files"},
      Rule{"getenv", false, "reads the process environment"},
      Rule{"current_setting", false, "reads settings"},
      Rule{"getvariable", false, "reads session variables"},
      Rule{"which_secret", false, "reads secrets"},
      Rule{"duckdb_", true, "reads internal metadata and settings"},
      Rule{"pragma_", true, "reads internal metadata and settings"},
      Rule{"query", false, "runs arbitrary SQL"},
      Rule{"query_table", false, "runs arbitrary SQL"},
      Rule{"json_execute_serialized_sql", false, "runs arbitrary SQL"},
      Rule{"postgres_", true, "reaches another database"},
      Rule{"sqlite_", true, "reaches another database"},
      Rule{"mysql_", true, "reaches another database"},
      Rule{"http", true, "reaches the network"},
      Rule{"load_", true, "loads code or credentials"},
      Rule{"install_", true, "installs extensions"},
      Rule{"write_log", false, "writes to DuckDB's log"},
      Rule{"nextval", false, "changes a sequence"},
      Rule{"setval", false, "changes a sequence"},
      Rule{"currval", false, "reads sequence state"},
      Rule{"setseed", false, "changes session state"},
      Rule{"checkpoint", false, "writes the database"},
      Rule{"force_checkpoint", false, "writes the database"},
      Rule{"copy_database", false, "writes the database"},
      Rule{"export_database", false, "writes files"},
      Rule{"import_database", false, "reads files"},
  };
  for (const auto& r : kRules) {
    if (r.prefix ? starts_with(name, r.name) : name == r.name) return r.why;
  }
  return {};
}

// The first keyword of each `;`-separated statement (upper case: "SELECT", "COPY"…), found by a
// small lexer that skips quoted text and comments. Only used to word refusals, never to decide.
std::vector<std::string> statement_keywords(std::string_view sql) {
  std::vector<std::string> out;
  std::string word;
  bool at_start = true;  // no token of the current statement seen yet
  size_t i = 0;
  auto take_word = [&] {
    if (at_start && !word.empty()) out.push_back(word);
    if (!word.empty()) at_start = false;
    word.clear();
  };
  while (i < sql.size()) {
    const char c = sql[i];
    if (sql.substr(i, 2) == "--") {
      take_word();
      const auto nl = sql.find('\n', i);
      i = nl == std::string_view::npos ? sql.size() : nl + 1;
    } else if (sql.substr(i, 2) == "/*") {
      take_word();
      const auto end = sql.find("*/", i + 2);
      i = end == std::string_view::npos ? sql.size() : end + 2;
    } else if (c == '\'' || c == '"') {
      take_word();
      at_start = false;
      size_t j = i + 1;
      while (j < sql.size()) {
        if (sql[j] == c && j + 1 < sql.size() && sql[j + 1] == c) {
          j += 2;
        } else if (sql[j] == c) {
          break;
        } else {
          ++j;
        }
      }
      i = j + 1;
    } else if (c == ';') {
      take_word();
      at_start = true;
      ++i;
    } else if (std::isalpha(static_cast<unsigned char>(c)) != 0 && at_start) {
      word += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      ++i;
    } else {
      if (std::isspace(static_cast<unsigned char>(c)) == 0 && c != '(') {
        take_word();
        at_start = false;
      } else {
        take_word();
      }
      ++i;
    }
  }
  take_word();
  return out;
}

Error refusal(const std::string& what) {
  return Error(ErrorCode::permission_denied, "SQL guard refused " + what, kHint);
}

// Runs a prepared statement and returns its rows as a JSON array of arrays.
Result<json> rows_of(warehouse::PreparedStatement& stmt) {
  PLUTO_ASSIGN_OR_RETURN(auto result, stmt.execute());
  std::string text;
  warehouse::WriteOptions wo;
  wo.format = warehouse::OutputFormat::json_arrays;
  PLUTO_TRY(warehouse::write_result(result, wo, warehouse::string_sink(text)));
  json rows = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (rows.is_discarded() || !rows.is_array()) {
    return Error(ErrorCode::internal, "the SQL guard could not read DuckDB's answer");
  }
  return rows;
}

// j[key] for a const object without asserting on a missing key (null instead).
const json& member(const json& j, const char* key) {
  static const json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

std::string cell_text(const json& cell) {
  return cell.is_string() ? cell.get<std::string>() : cell.dump();
}

struct Relation {
  std::string database;
  std::string schema;
  std::string name;
};

struct CatalogView {
  std::vector<Relation> relations;  // lower case
  std::string current_database;     // lower case
  std::string current_schema;       // lower case
};

Result<CatalogView> load_catalog(warehouse::Connection& conn) {
  CatalogView view;
  PLUTO_ASSIGN_OR_RETURN(auto stmt, conn.prepare("SELECT database_name, schema_name, table_name FROM duckdb_tables() "
                                                 "WHERE NOT internal UNION ALL "
                                                 "SELECT database_name, schema_name, view_name FROM duckdb_views() "
                                                 "WHERE NOT internal UNION ALL "
                                                 "SELECT '', current_database(), current_schema()"));
  PLUTO_ASSIGN_OR_RETURN(json rows, rows_of(stmt));
  for (const auto& row : rows) {
    if (!row.is_array() || row.size() != 3) continue;
    Relation r{lower(cell_text(row[0])), lower(cell_text(row[1])), lower(cell_text(row[2]))};
    if (r.database.empty()) {
      view.current_database = r.schema;
      view.current_schema = r.name;
    } else {
      view.relations.push_back(std::move(r));
    }
  }
  return view;
}

struct FunctionUse {
  std::string name;   // lower case
  std::string where;  // human-readable position
};

// Walks every node of a serialized statement. Table references and functions are checked as they
// are met; function names are collected for one catalog lookup afterwards.
class Walker {
 public:
  Walker(const CatalogView& catalog, const SqlGuardOptions& options) : catalog_(catalog), options_(options) {}

  Status walk_statement(const json& statement) { return visit(statement, 0); }

  const std::vector<FunctionUse>& functions() const { return functions_; }
  const std::vector<std::string>& tables() const { return tables_; }

 private:
  class Label {
   public:
    Label(std::vector<std::string>& stack, std::string label) : stack_(stack), pushed_(!label.empty()) {
      if (pushed_) stack_.push_back(std::move(label));
    }
    ~Label() {
      if (pushed_) stack_.pop_back();
    }
    Label(const Label&) = delete;
    Label& operator=(const Label&) = delete;

   private:
    std::vector<std::string>& stack_;
    bool pushed_;
  };

  class Scope {
   public:
    Scope(std::vector<std::set<std::string>>& scopes, std::set<std::string> names) : scopes_(scopes) {
      scopes_.push_back(std::move(names));
    }
    ~Scope() { scopes_.pop_back(); }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    std::vector<std::set<std::string>>& scopes_;
  };

  std::string where() const {
    if (where_.empty()) return "the statement";
    std::string out;
    for (const auto& w : where_) {
      if (!out.empty()) {
        if (out.size() >= w.size() && out.compare(out.size() - w.size(), w.size(), w) == 0) continue;
        out += " > ";
      }
      out += w;
    }
    return out;
  }

  static bool is_query_node(const json& j) {
    const auto& t = member(j, "type");
    return t == "SELECT_NODE" || t == "SET_OPERATION_NODE" || t == "RECURSIVE_CTE_NODE" || t == "CTE_NODE";
  }
  static bool is_table_ref(const json& j) {
    if (j.contains("class") || !member(j, "type").is_string() || j.contains("modifiers")) return false;
    const auto& t = member(j, "type");
    return j.contains("sample") || t == "BASE_TABLE" || t == "TABLE_FUNCTION" || t == "SHOW_REF" ||
           t == "COLUMN_DATA" || t == "DELIM_GET";
  }

  // A label for the position a child key stands for, given its parent node.
  static std::string label_for(const json& parent, const std::string& key) {
    if (key == "select_list") return "the select list";
    if (key == "from_table") return "FROM";
    if (key == "where_clause") return "WHERE";
    if (key == "group_expressions" || key == "group_sets") return "GROUP BY";
    if (key == "having") return "HAVING";
    if (key == "qualify") return "QUALIFY";
    if (key == "subquery") return "a subquery";
    if (key == "condition") return "a JOIN condition";
    if (key == "partitions" || key == "orders" || key == "start_expr" || key == "end_expr") {
      return parent.value("class", "") == "WINDOW" ? "a window specification" : "ORDER BY";
    }
    if (key == "filter" || key == "filter_expr") return "a FILTER clause";
    if (key == "lhs" || (key == "expr" && parent.value("class", "") == "LAMBDA")) return "a lambda";
    if ((key == "left" || key == "right") && parent.value("type", "") == "SET_OPERATION_NODE") {
      return "a " + parent.value("setop_type", std::string("set operation")) + " branch";
    }
    if ((key == "left" || key == "right") && parent.value("type", "") == "RECURSIVE_CTE_NODE") {
      return "a recursive CTE";
    }
    if (key == "children" && (parent.value("class", "") == "FUNCTION" || parent.value("class", "") == "WINDOW")) {
      return "an argument of " + parent.value("function_name", std::string("a function")) + "()";
    }
    return {};
  }

  static std::string modifier_label(const json& modifier) {
    const auto t = modifier.value("type", std::string());
    if (t == "ORDER_MODIFIER") return "ORDER BY";
    if (t == "LIMIT_MODIFIER" || t == "LIMIT_PERCENT_MODIFIER") return "LIMIT";
    if (t == "DISTINCT_MODIFIER") return "DISTINCT ON";
    return {};
  }

  bool cte_visible(const std::string& name) const {
    for (const auto& s : scopes_) {
      if (s.count(name) != 0) return true;
    }
    return false;
  }

  Status visit(const json& j, int depth) {
    if (depth > kMaxDepth) return refusal("the statement: it is nested too deeply to check");
    if (j.is_array()) {
      for (const auto& item : j) PLUTO_TRY(visit(item, depth + 1));
      return {};
    }
    if (!j.is_object()) return {};
    if (is_query_node(j)) return visit_query_node(j, depth);
    if (is_table_ref(j)) return visit_table_ref(j, depth);
    if (j.contains("class")) {
      const auto cls = j.value("class", std::string());
      if ((cls == "FUNCTION" || cls == "WINDOW") && member(j, "function_name").is_string()) {
        functions_.push_back({lower(member(j, "function_name").get<std::string>()), where()});
      }
    }
    return visit_children(j, depth, {});
  }

  Status visit_children(const json& j, int depth, const std::set<std::string>& skip) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (skip.count(it.key()) != 0) continue;
      if (it.key() == "modifiers" && it->is_array()) {
        for (const auto& m : *it) {
          Label label(where_, modifier_label(m));
          PLUTO_TRY(visit(m, depth + 1));
        }
        continue;
      }
      Label label(where_, label_for(j, it.key()));
      PLUTO_TRY(visit(*it, depth + 1));
    }
    return {};
  }

  Status visit_query_node(const json& j, int depth) {
    // CTE names are visible in this node's subtree; CTE i sees the CTEs before it (and itself only
    // when recursive, which the RECURSIVE_CTE_NODE below adds).
    std::vector<std::string> names;
    const auto& map = member(member(j, "cte_map"), "map");
    if (map.is_array()) {
      for (const auto& entry : map) {
        const auto name = lower(entry.value("key", std::string()));
        {
          Scope scope(scopes_, std::set<std::string>(names.begin(), names.end()));
          Label label(where_, "CTE " + name);
          PLUTO_TRY(visit(member(entry, "value"), depth + 1));
        }
        names.push_back(name);
      }
    }
    std::set<std::string> visible(names.begin(), names.end());
    if (member(j, "type") == "RECURSIVE_CTE_NODE" && member(j, "cte_name").is_string()) {
      visible.insert(lower(member(j, "cte_name").get<std::string>()));
    }
    Scope scope(scopes_, std::move(visible));
    return visit_children(j, depth, {"cte_map"});
  }

  Status visit_table_ref(const json& j, int depth) {
    const auto type = j.value("type", std::string());
    if (type == "BASE_TABLE") {
      PLUTO_TRY(check_base_table(j));
      return visit_children(j, depth, {});
    }
    if (type == "TABLE_FUNCTION") {
      const json& fn = member(j, "function");
      const auto name = lower(fn.value("function_name", std::string()));
      const auto& allowed = options_.allowed_table_functions;
      if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
        const auto why = denied_reason(name);
        std::string allowed_list;
        for (const auto& a : allowed) allowed_list += (allowed_list.empty() ? "" : ", ") + a;
        return refusal("the table function " + name + "() in " + where() + ": " +
                       (why.empty() ? "only " + allowed_list + " are allowed" : "it " + why));
      }
      // The call itself is allowed; its arguments are walked like any other expression.
      PLUTO_TRY(visit_children(fn, depth + 1, {}));
      return visit_children(j, depth, {"function"});
    }
    if (type == "JOIN" || type == "SUBQUERY" || type == "EXPRESSION_LIST" || type == "EMPTY" || type == "PIVOT") {
      Label label(where_, type == "JOIN" ? "a JOIN" : "");
      return visit_children(j, depth, {});
    }
    if (type == "SHOW_REF") {
      return refusal("DESCRIBE/SUMMARIZE/SHOW in " + where() + ": look tables up with table.describe instead");
    }
    return refusal("a " + type + " table reference in " + where() + ": it is not a table, view or CTE");
  }

  Status check_base_table(const json& j) {
    const auto catalog = lower(j.value("catalog_name", std::string()));
    const auto schema = lower(j.value("schema_name", std::string()));
    const auto name = lower(j.value("table_name", std::string()));
    std::string shown = j.value("table_name", std::string());
    if (!schema.empty()) shown = j.value("schema_name", std::string()) + "." + shown;
    if (!catalog.empty()) shown = j.value("catalog_name", std::string()) + "." + shown;
    if (catalog.empty() && schema.empty() && cte_visible(name)) return {};
    const auto& cur_db = catalog_.current_database;
    const auto& cur_schema = catalog_.current_schema;
    for (const auto& r : catalog_.relations) {
      if (r.name != name) continue;
      bool match = false;
      if (catalog.empty() && schema.empty()) {
        // DuckDB's search path: the default database's default schema, then temp.
        match = (r.database == cur_db && r.schema == cur_schema) || (r.database == "temp" && r.schema == "main");
      } else if (catalog.empty()) {
        // `a.b` is database a (its main schema) or schema a of the default database.
        match = (r.database == schema && r.schema == "main") || (r.database == cur_db && r.schema == schema) ||
                (r.database == "temp" && r.schema == schema);
      } else {
        match = r.database == catalog && r.schema == schema;
      }
      if (match) {
        if (std::find(tables_.begin(), tables_.end(), shown) == tables_.end()) tables_.push_back(shown);
        return {};
      }
    }
    const bool looks_like_path = shown.find_first_of("/.\\:") != std::string::npos && catalog.empty() && schema.empty();
    return refusal("'" + shown + "' in " + where() + ": " +
                   (looks_like_path ? "a string used as a table reads a file; only tables and views of the "
                                      "warehouse may be queried"
                                    : "it is not a table or view of the warehouse (nor a CTE of the statement)"));
  }

  const CatalogView& catalog_;
  const SqlGuardOptions& options_;
  std::vector<std::string> where_;
  std::vector<std::set<std::string>> scopes_;
  std::vector<FunctionUse> functions_;
  std::vector<std::string> tables_;
};

// Checks every function used outside FROM: deny-listed names, table functions and pragmas used as
// expressions, and functions or macros defined by users (their bodies are not checked).
Status check_functions(warehouse::Connection& conn, const std::vector<FunctionUse>& uses,
                       const SqlGuardOptions& options) {
  for (const auto& use : uses) {
    if (const auto why = denied_reason(use.name); !why.empty()) {
      return refusal(use.name + "() in " + use.where + ": it " + why);
    }
  }
  if (uses.empty()) return {};
  json names = json::array();
  for (const auto& use : uses) names.push_back(use.name);
  PLUTO_ASSIGN_OR_RETURN(auto stmt,
                         conn.prepare("SELECT lower(function_name), function_type, internal "
                                      "FROM duckdb_functions() WHERE "
                                      "list_contains(from_json($1, '[\"VARCHAR\"]'), lower(function_name))"));
  PLUTO_TRY(stmt.bind(1, std::string_view(names.dump())));
  PLUTO_ASSIGN_OR_RETURN(json rows, rows_of(stmt));
  struct Kinds {
    bool expression = false;  // scalar, aggregate or macro
    bool other = false;       // table function, table macro or pragma
    bool user_defined = false;
  };
  std::map<std::string, Kinds> kinds;
  for (const auto& row : rows) {
    if (!row.is_array() || row.size() != 3) continue;
    auto& k = kinds[cell_text(row[0])];
    const auto type = cell_text(row[1]);
    if (type == "scalar" || type == "aggregate" || type == "macro") {
      k.expression = true;
    } else {
      k.other = true;
    }
    if (row[2] == false) k.user_defined = true;
  }
  for (const auto& use : uses) {
    auto it = kinds.find(use.name);
    if (it == kinds.end()) continue;  // window functions and unknown names: DuckDB's binder decides
    const auto& allowed = options.allowed_table_functions;
    const bool allowed_table_fn = std::find(allowed.begin(), allowed.end(), use.name) != allowed.end();
    if (it->second.user_defined) {
      return refusal(use.name + "() in " + use.where +
                     ": it is a function or macro defined in the warehouse, and its body is not checked");
    }
    if (!it->second.expression && it->second.other && !allowed_table_fn) {
      return refusal(use.name + "() in " + use.where +
                     ": it is a table function or pragma, not allowed in SQL checked "
                     "by the guard");
    }
  }
  return {};
}

}  // namespace

Result<SqlGuardReport> check_sql(warehouse::Connection& conn, std::string_view sql, const SqlGuardOptions& options) {
  // 1. Parse (never bind: binding a table function such as read_csv would already open the file).
  PLUTO_ASSIGN_OR_RETURN(auto ser, conn.prepare("SELECT json_serialize_sql($1::VARCHAR)"));
  PLUTO_TRY(ser.bind(1, sql));
  PLUTO_ASSIGN_OR_RETURN(json rows, rows_of(ser));
  if (rows.size() != 1 || !rows[0].is_array() || rows[0].empty()) {
    return Error(ErrorCode::internal, "the SQL guard got no parse tree from DuckDB");
  }
  const json& cell = rows[0][0];
  json tree = cell.is_string() ? json::parse(cell.get<std::string>(), nullptr, false) : cell;
  if (tree.is_discarded() || !tree.is_object()) {
    return Error(ErrorCode::internal, "the SQL guard could not read DuckDB's parse tree");
  }
  if (tree.value("error", false)) {
    const auto message = tree.value("error_message", std::string("it does not parse"));
    if (message.find("Only SELECT") != std::string::npos) {
      const auto keywords = statement_keywords(sql);
      std::string what = "the statement";
      for (const auto& k : keywords) {
        if (k != "SELECT" && k != "WITH" && k != "FROM" && k != "VALUES") {
          what = "a " + k + " statement";
          break;
        }
      }
      if (keywords.size() > 1) what += " (one of " + std::to_string(keywords.size()) + " statements)";
      return refusal(what + ": only a single read-only SELECT is allowed");
    }
    return refusal("SQL that does not parse: " + message);
  }
  const json& statements = member(tree, "statements");
  if (!statements.is_array() || statements.empty()) return refusal("empty SQL: there is no statement to run");
  if (statements.size() != 1) {
    return refusal(std::to_string(statements.size()) + " statements: only one SELECT may run at a time");
  }

  // 2. Walk the whole tree.
  PLUTO_ASSIGN_OR_RETURN(auto catalog, load_catalog(conn));
  Walker walker(catalog, options);
  PLUTO_TRY(walker.walk_statement(statements[0]));
  PLUTO_TRY(check_functions(conn, walker.functions(), options));

  // 3. DuckDB's own classification agrees: exactly one read-only SELECT (now safe to bind).
  PLUTO_ASSIGN_OR_RETURN(auto kinds, warehouse::classify(conn, sql));
  if (kinds.size() != 1) {
    return refusal(std::to_string(kinds.size()) + " statements: only one SELECT may run at a time");
  }
  if (kinds[0].type != "SELECT" || !kinds[0].read_only) {
    return refusal("a " + kinds[0].type + " statement: only a single read-only SELECT is allowed");
  }

  SqlGuardReport report;
  report.tables = walker.tables();
  std::set<std::string> fns;
  for (const auto& f : walker.functions()) fns.insert(f.name);
  report.functions.assign(fns.begin(), fns.end());
  return report;
}

std::function<Status(warehouse::Connection&, const std::string&)> sql_guard_validator(SqlGuardOptions options) {
  return [options = std::move(options)](warehouse::Connection& conn, const std::string& sql) -> Status {
    auto r = check_sql(conn, sql, options);
    if (!r.ok()) return r.take_error();
    return {};
  };
}

}  // namespace pluto::query
