#include "pluto/transform/dbt_log.hpp"

#include <algorithm>
#include <cctype>

namespace pluto::transform {
namespace {

constexpr size_t kStderrTail = 40;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

// The node fields every node event carries.
nlohmann::json node_fields(const nlohmann::json& node_info) {
  nlohmann::json out{{"unique_id", str(node_info, "unique_id")},
                     {"name", str(node_info, "node_name")},
                     {"resource_type", str(node_info, "resource_type")},
                     {"materialized", str(node_info, "materialized")},
                     {"path", str(node_info, "node_path")}};
  if (auto rel = node_info.find("node_relation"); rel != node_info.end() && rel->is_object()) {
    const auto relation = str(*rel, "relation_name");
    if (!relation.empty()) out["relation_name"] = relation;
  }
  return out;
}

}  // namespace

std::string normalize_status(std::string_view dbt_status) {
  auto s = lower(dbt_status);
  if (s == "ok") return "success";
  if (s == "runtime error") return "error";
  if (s == "skip") return "skipped";
  return s;
}

bool is_failure_status(std::string_view status) {
  const auto s = normalize_status(status);
  return s == "error" || s == "fail";
}

std::optional<DbtEvent> LogTranslator::on_stdout(std::string_view line) {
  if (line.empty()) return std::nullopt;
  auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("info")) {
    // Plain text on stdout (a dbt too old for JSON logs, or a print): pass it on as a log line.
    return DbtEvent{"dbt.log", {{"level", "info"}, {"msg", std::string(line)}}};
  }
  const auto& info = j["info"];
  const auto& data = j.contains("data") && j["data"].is_object() ? j["data"] : nlohmann::json::object();
  const std::string name = str(info, "name");
  const std::string level = str(info, "level");
  const std::string msg = str(info, "msg");
  if (summary_.invocation_id.empty()) summary_.invocation_id = str(info, "invocation_id");

  if (name == "MainReportVersion") {
    auto v = str(data, "version");
    if (!v.empty() && v.front() == '=') v.erase(0, 1);
    summary_.dbt_version = v;
  } else if (name == "AdapterRegistered") {
    auto v = str(data, "adapter_version");
    if (!v.empty() && v.front() == '=') v.erase(0, 1);
    summary_.adapter_version = str(data, "adapter_name") + "=" + v;
  } else if (name == "MainEncounteredError") {
    summary_.main_error = str(data, "exc");
    if (summary_.main_error.empty()) summary_.main_error = msg;
  } else if (name == "StatsLine") {
    if (data.contains("stats")) summary_.stats = data["stats"];
  } else if (name == "PrintEvent" || name == "ListCmdOut") {
    // `dbt ls --output json` prints one JSON object per selected node.
    auto item = nlohmann::json::parse(str(data, "msg"), nullptr, false);
    if (!item.is_discarded() && item.is_object()) {
      summary_.list_items.push_back(item);
      return DbtEvent{"dbt.list_item", item};
    }
  } else if (name == "SQLCompiledPath") {
    if (data.contains("node_info")) summary_.compiled_paths[str(data["node_info"], "unique_id")] = str(data, "path");
    return std::nullopt;
  } else if (name == "RunResultError" || name == "RunResultErrorNoMessage" || name == "RunResultFailure") {
    if (data.contains("node_info")) {
      const auto id = str(data["node_info"], "unique_id");
      auto text = str(data, "msg");
      if (!id.empty() && !text.empty()) {
        summary_.node_errors[id] = text;
        auto ev = node_fields(data["node_info"]);
        ev["message"] = text;
        return DbtEvent{"dbt.node_error", std::move(ev)};
      }
      if (!id.empty()) return std::nullopt;  // RunResultFailure only names the node; the error follows
    }
  }

  if (data.contains("node_info") && data["node_info"].is_object()) {
    const auto& node_info = data["node_info"];
    const auto node_status = str(node_info, "node_status");
    if (name == "LogStartLine" || (node_status == "started" && ends_with(name, "StartLine"))) {
      auto ev = node_fields(node_info);
      if (data.contains("index")) ev["index"] = data["index"];
      if (data.contains("total")) ev["total"] = data["total"];
      ev["description"] = str(data, "description");
      ev["started_at"] = str(node_info, "node_started_at");
      return DbtEvent{"dbt.node_started", std::move(ev)};
    }
    const bool result_event = (name.rfind("Log", 0) == 0 && ends_with(name, "Result")) || name == "SkippingDetails";
    if (result_event) {
      auto ev = node_fields(node_info);
      std::string status = str(node_info, "node_status");
      if (status.empty() || status == "None") status = str(data, "status");
      ev["status"] = normalize_status(status);
      if (data.contains("index")) ev["index"] = data["index"];
      if (data.contains("total")) ev["total"] = data["total"];
      // Test results count the nodes as num_models.
      if (!data.contains("total") && data.contains("num_models")) ev["total"] = data["num_models"];
      if (data.contains("execution_time") && data["execution_time"].is_number()) {
        ev["execution_time"] = data["execution_time"];
      }
      if (data.contains("num_failures") && data["num_failures"].is_number()) ev["failures"] = data["num_failures"];
      const auto result_message = str(data, "result_message");
      if (!result_message.empty()) ev["message"] = result_message;
      ev["started_at"] = str(node_info, "node_started_at");
      ev["finished_at"] = str(node_info, "node_finished_at");
      ++summary_.nodes_finished;
      if (is_failure_status(ev["status"].get<std::string>())) ++summary_.nodes_failed;
      return DbtEvent{"dbt.node_finished", std::move(ev)};
    }
  }

  if (level == "debug") return std::nullopt;
  if (name == "Formatting" && msg.empty()) return std::nullopt;
  if (level == "error" && !msg.empty()) summary_.error_lines.push_back(msg);
  nlohmann::json ev{
      {"level", level.empty() ? "info" : level}, {"name", name}, {"code", str(info, "code")}, {"msg", msg}};
  return DbtEvent{"dbt.log", std::move(ev)};
}

std::optional<DbtEvent> LogTranslator::on_stderr(std::string_view line) {
  if (line.empty()) return std::nullopt;
  summary_.stderr_tail.emplace_back(line);
  if (summary_.stderr_tail.size() > kStderrTail) summary_.stderr_tail.erase(summary_.stderr_tail.begin());
  return DbtEvent{"dbt.log", {{"level", "warn"}, {"name", "stderr"}, {"msg", std::string(line)}}};
}

}  // namespace pluto::transform
