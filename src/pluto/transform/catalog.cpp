#include "pluto/transform/catalog.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>

namespace pluto::transform {
namespace fs = std::filesystem;

namespace {

std::string str(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Splits `a.b.c` into parts, honouring double quotes ("my.schema".t).
std::vector<std::string> split_name(std::string_view name) {
  std::vector<std::string> parts(1);
  bool quoted = false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (c == '"') {
      if (quoted && i + 1 < name.size() && name[i + 1] == '"') {
        parts.back() += '"';
        ++i;
      } else {
        quoted = !quoted;
      }
    } else if (c == '.' && !quoted) {
      parts.emplace_back();
    } else {
      parts.back() += c;
    }
  }
  return parts;
}

bool is_relation_type(const std::string& t) {
  return t == "model" || t == "seed" || t == "snapshot";
}

CatalogNode parse_node(const nlohmann::json& n) {
  CatalogNode c;
  c.unique_id = str(n, "unique_id");
  c.name = str(n, "name");
  c.resource_type = str(n, "resource_type");
  c.package_name = str(n, "package_name");
  c.original_file_path = str(n, "original_file_path");
  c.database = str(n, "database");
  c.schema = str(n, "schema");
  c.alias = str(n, "alias");
  if (c.alias.empty()) c.alias = str(n, "identifier");
  if (c.alias.empty()) c.alias = c.name;
  c.relation_name = str(n, "relation_name");
  c.description = str(n, "description");
  if (n.contains("config") && n["config"].is_object()) c.materialized = str(n["config"], "materialized");
  if (n.contains("tags") && n["tags"].is_array()) {
    for (const auto& t : n["tags"]) {
      if (t.is_string()) c.tags.push_back(t.get<std::string>());
    }
  }
  if (n.contains("columns") && n["columns"].is_object()) {
    for (const auto& [key, col] : n["columns"].items()) {
      ColumnDoc d;
      d.name = str(col, "name");
      if (d.name.empty()) d.name = key;
      d.description = str(col, "description");
      d.data_type = str(col, "data_type");
      c.columns.push_back(std::move(d));
    }
  }
  c.raw_code = str(n, "raw_code");
  c.compiled_code = str(n, "compiled_code");
  c.compiled_path = str(n, "compiled_path");
  if (n.contains("test_metadata") && n["test_metadata"].is_object()) c.test_name = str(n["test_metadata"], "name");
  c.attached_node = str(n, "attached_node");
  c.column_name = str(n, "column_name");
  if (c.resource_type == "source") {
    c.name = str(n, "source_name") + "." + c.name;
    if (c.materialized.empty()) c.materialized = "source";
  }
  return c;
}

const std::vector<std::string> kNone;

}  // namespace

nlohmann::json CatalogNode::to_json(bool with_sql) const {
  nlohmann::json cols = nlohmann::json::array();
  for (const auto& c : columns) {
    cols.push_back({{"name", c.name}, {"description", c.description}, {"data_type", c.data_type}});
  }
  nlohmann::json j{{"unique_id", unique_id},
                   {"name", name},
                   {"resource_type", resource_type},
                   {"package_name", package_name},
                   {"path", original_file_path},
                   {"database", database},
                   {"schema", schema},
                   {"alias", alias},
                   {"relation_name", relation_name},
                   {"description", description},
                   {"materialized", materialized},
                   {"tags", tags},
                   {"columns", std::move(cols)}};
  if (resource_type == "test") {
    j["test_name"] = test_name;
    j["attached_node"] = attached_node;
    j["column_name"] = column_name;
  }
  if (with_sql) {
    j["raw_code"] = raw_code;
    j["compiled_code"] = compiled_code;
    j["compiled_path"] = compiled_path;
  }
  return j;
}

Result<ProjectCatalog> ProjectCatalog::load(const fs::path& manifest_path) {
  std::ifstream in(manifest_path, std::ios::binary);
  if (!in) {
    return Error(ErrorCode::not_found, "cannot read dbt manifest " + manifest_path.string(),
                 "run dbt again (pluto-duck dbt ls, or any dbt run) to write a new one");
  }
  auto j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return Error(ErrorCode::internal, "dbt manifest " + manifest_path.string() + " is not valid JSON",
                 "run dbt again to write a new one");
  }
  return from_json(j);
}

Result<ProjectCatalog> ProjectCatalog::from_json(const nlohmann::json& manifest) {
  if (!manifest.is_object() || !manifest.contains("nodes") || !manifest["nodes"].is_object()) {
    return Error(ErrorCode::internal, "not a dbt manifest (no \"nodes\" object)");
  }
  try {
    ProjectCatalog c;
    const auto& meta = manifest.contains("metadata") ? manifest["metadata"] : nlohmann::json::object();
    c.project_name_ = str(meta, "project_name");
    c.dbt_version_ = str(meta, "dbt_version");
    c.generated_at_ = str(meta, "generated_at");
    c.invocation_id_ = str(meta, "invocation_id");
    for (const char* section : {"nodes", "sources"}) {
      if (!manifest.contains(section) || !manifest[section].is_object()) continue;
      for (const auto& [id, n] : manifest[section].items()) {
        auto node = parse_node(n);
        if (node.unique_id.empty()) node.unique_id = id;
        c.nodes_.emplace(node.unique_id, std::move(node));
      }
    }
    auto read_map = [&](const char* key, std::map<std::string, std::vector<std::string>>& out) {
      if (!manifest.contains(key) || !manifest[key].is_object()) return;
      for (const auto& [id, list] : manifest[key].items()) {
        auto& v = out[id];
        if (!list.is_array()) continue;
        for (const auto& x : list) {
          if (x.is_string()) v.push_back(x.get<std::string>());
        }
      }
    };
    read_map("parent_map", c.parents_);
    read_map("child_map", c.children_);
    // Manifests written by `dbt ls` have no maps: derive them from depends_on.
    if (c.parents_.empty()) {
      for (const auto& [id, n] : manifest["nodes"].items()) {
        if (!n.contains("depends_on") || !n["depends_on"].contains("nodes")) continue;
        for (const auto& p : n["depends_on"]["nodes"]) {
          if (!p.is_string()) continue;
          c.parents_[id].push_back(p.get<std::string>());
          c.children_[p.get<std::string>()].push_back(id);
        }
      }
    }
    return c;
  } catch (const nlohmann::json::exception& e) {
    return Error(ErrorCode::internal, std::string("cannot read the dbt manifest: ") + e.what());
  }
}

const CatalogNode* ProjectCatalog::find(std::string_view name) const {
  if (auto it = nodes_.find(std::string(name)); it != nodes_.end()) return &it->second;
  const auto want = lower(name);
  const CatalogNode* other = nullptr;
  for (const auto& [id, n] : nodes_) {
    if (lower(n.name) != want) continue;
    if (is_relation_type(n.resource_type)) return &n;
    if (other == nullptr) other = &n;
  }
  if (other != nullptr) return other;
  return find_relation(name);
}

const CatalogNode* ProjectCatalog::find_relation(std::string_view name) const {
  const auto parts = split_name(name);
  if (parts.empty() || parts.size() > 3) return nullptr;
  const auto table = lower(parts.back());
  const auto schema = parts.size() >= 2 ? lower(parts[parts.size() - 2]) : std::string();
  const auto database = parts.size() == 3 ? lower(parts[0]) : std::string();
  const CatalogNode* best = nullptr;
  int best_rank = 0;
  for (const auto& [id, n] : nodes_) {
    if (!is_relation_type(n.resource_type) && n.resource_type != "source") continue;
    if (lower(n.alias) != table) continue;
    if (!schema.empty() && lower(n.schema) != schema) continue;
    if (!database.empty() && lower(n.database) != database) continue;
    // Prefer what dbt builds over sources, and the default schema for a bare table name.
    int rank = is_relation_type(n.resource_type) ? 2 : 1;
    if (schema.empty() && lower(n.schema) == "main") rank += 2;
    if (rank > best_rank) {
      best = &n;
      best_rank = rank;
    }
  }
  return best;
}

const std::vector<std::string>& ProjectCatalog::parents(const std::string& unique_id) const {
  auto it = parents_.find(unique_id);
  return it == parents_.end() ? kNone : it->second;
}

const std::vector<std::string>& ProjectCatalog::children(const std::string& unique_id) const {
  auto it = children_.find(unique_id);
  return it == children_.end() ? kNone : it->second;
}

std::vector<const CatalogNode*> ProjectCatalog::tests_of(const std::string& unique_id) const {
  std::vector<const CatalogNode*> out;
  for (const auto& child : children(unique_id)) {
    auto it = nodes_.find(child);
    if (it == nodes_.end() || it->second.resource_type != "test") continue;
    const auto& t = it->second;
    // A relationships test depends on both models; it belongs to the one it is attached to.
    if (!t.attached_node.empty() && t.attached_node != unique_id) continue;
    out.push_back(&t);
  }
  return out;
}

}  // namespace pluto::transform
