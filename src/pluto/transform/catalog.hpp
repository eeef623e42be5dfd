#pragma once
// What dbt knows about the project, read from a run's manifest.json: models, seeds, snapshots,
// sources and tests with their descriptions, columns, SQL and the graph between them.
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "pluto/core/error.hpp"

namespace pluto::transform {

struct ColumnDoc {
  std::string name;
  std::string description;
  std::string data_type;
};

struct CatalogNode {
  std::string unique_id;      // "model.pluto_core.fct_orders"
  std::string name;           // "fct_orders" ("shop.orders" for a source)
  std::string resource_type;  // model, seed, snapshot, source, test, analysis…
  std::string package_name;
  std::string original_file_path;
  std::string database;
  std::string schema;
  std::string alias;          // the relation's identifier
  std::string relation_name;  // "\"warehouse\".\"main\".\"fct_orders\""
  std::string description;
  std::string materialized;  // view, table, incremental, seed, test…
  std::vector<std::string> tags;
  std::vector<ColumnDoc> columns;
  std::string raw_code;
  std::string compiled_code;
  std::string compiled_path;
  // Tests: which node and column they check, and the generic test's name (unique, not_null…;
  // empty for a singular test).
  std::string test_name;
  std::string attached_node;
  std::string column_name;

  // Catalog entry without SQL; `with_sql` adds raw_code / compiled_code / compiled_path.
  nlohmann::json to_json(bool with_sql = false) const;
};

class ProjectCatalog {
 public:
  static Result<ProjectCatalog> load(const std::filesystem::path& manifest_path);
  static Result<ProjectCatalog> from_json(const nlohmann::json& manifest);

  const std::string& project_name() const { return project_name_; }
  const std::string& dbt_version() const { return dbt_version_; }
  const std::string& generated_at() const { return generated_at_; }
  const std::string& invocation_id() const { return invocation_id_; }
  const std::map<std::string, CatalogNode>& nodes() const { return nodes_; }

  // A node by unique_id, by name (models, seeds, snapshots first; then sources and tests), or by
  // the relation it builds ("schema.table", "database.schema.table", case-insensitive).
  const CatalogNode* find(std::string_view name) const;
  // The model, seed or snapshot that builds the table `name` (table, schema.table or
  // database.schema.table); nullptr when dbt does not build it.
  const CatalogNode* find_relation(std::string_view name) const;
  const std::vector<std::string>& parents(const std::string& unique_id) const;
  const std::vector<std::string>& children(const std::string& unique_id) const;
  // Tests that check `unique_id` (attached to it or depending on it).
  std::vector<const CatalogNode*> tests_of(const std::string& unique_id) const;

 private:
  std::string project_name_;
  std::string dbt_version_;
  std::string generated_at_;
  std::string invocation_id_;
  std::map<std::string, CatalogNode> nodes_;
  std::map<std::string, std::vector<std::string>> parents_;
  std::map<std::string, std::vector<std::string>> children_;
};

}  // namespace pluto::transform
