#include <fstream>

#include "pluto/actions/catalog.hpp"
#include "pluto/api/routes.hpp"
#include "pluto/api/sse.hpp"
#include "pluto/jobs/job_runner.hpp"
#include "pluto/query/query_service.hpp"

namespace pluto::api {
namespace {

const nlohmann::json kQueryBody = {{"type", "object"},
                                   {"required", {"sql"}},
                                   {"properties",
                                    {{"sql", {{"type", "string"}}},
                                     {"timeout_ms", {{"type", "integer"}, {"minimum", 1}}},
                                     {"max_rows", {{"type", "integer"}, {"minimum", 0}}},
                                     {"async", {{"type", "boolean"}}},
                                     {"mode", {{"type", "string"}, {"enum", {"default", "safe"}}}}}}};

nlohmann::json qparam(const std::string& name, const std::string& type, const std::string& description) {
  return {
      {"name", name}, {"in", "query"}, {"required", false}, {"schema", {{"type", type}}}, {"description", description}};
}

const char* content_type(query::DownloadFormat f) {
  switch (f) {
    case query::DownloadFormat::json: return "application/json";
    case query::DownloadFormat::csv: return "text/csv";
    case query::DownloadFormat::parquet: return "application/vnd.apache.parquet";
    case query::DownloadFormat::arrow: return "application/vnd.apache.arrow.stream";
  }
  return "application/octet-stream";
}

// The download's file name extension (.arrows is the Arrow IPC stream's registered one).
const char* file_extension(query::DownloadFormat f) {
  switch (f) {
    case query::DownloadFormat::json: return "json";
    case query::DownloadFormat::csv: return "csv";
    case query::DownloadFormat::parquet: return "parquet";
    case query::DownloadFormat::arrow: return "arrows";
  }
  return "bin";
}

nlohmann::json format_param() {
  auto p = qparam("format", "string",
                  "json, csv, parquet or arrow (Arrow IPC stream, application/vnd.apache.arrow.stream): download "
                  "the whole result");
  p["schema"]["enum"] = {"json", "csv", "parquet", "arrow"};
  return p;
}

}  // namespace

void register_query_routes(Router& r, Services& s, const ServerOptions& o) {
  r.post(
      "/api/v1/query",
      {"Run SQL: answers the result (200), or with async 202 {run_id, status, events_url}",
       kQueryBody,
       nlohmann::json::array(),
       {200, 202, 400}},
      [&s](const httplib::Request& req, httplib::Response& res) {
        auto body = json_body(req);
        if (!body.ok()) return send_error(res, body.error());
        const auto& b = body.value();
        if (!b.contains("sql") || !b["sql"].is_string()) {
          return send_error(res, Error(ErrorCode::invalid_argument, "field \"sql\" is required and must be a string",
                                       "send {\"sql\": \"SELECT 1\"}"));
        }
        for (const auto& [k, v] : b.items()) {
          if (kQueryBody["properties"].contains(k)) continue;
          return send_error(res, Error(ErrorCode::invalid_argument, "unknown field \"" + k + "\"",
                                       "known fields: sql, timeout_ms, max_rows, async, mode"));
        }
        query::QueryRequest q;
        q.sql = b["sql"].get<std::string>();
        q.origin = "api";
        auto timeout = opt_int(b, "timeout_ms");
        if (!timeout.ok()) return send_error(res, timeout.error());
        q.timeout_ms = timeout.value();
        auto max_rows = opt_int(b, "max_rows");
        if (!max_rows.ok()) return send_error(res, max_rows.error());
        q.max_rows = max_rows.value();
        auto async = opt_bool(b, "async");
        if (!async.ok()) return send_error(res, async.error());
        auto mode = opt_string(b, "mode");
        if (!mode.ok()) return send_error(res, mode.error());
        const std::string m = mode.value().value_or("default");
        if (m != "default" && m != "safe") {
          return send_error(res, Error(ErrorCode::invalid_argument, "field \"mode\" must be \"default\" or \"safe\""));
        }
        if (m == "safe") {
          // Safe mode goes through the query.run action, which applies the SQL guard.
          if (async.value().value_or(false)) {
            return send_error(res, Error(ErrorCode::invalid_argument, "safe mode runs synchronously",
                                         "drop \"async\" for safe-mode queries"));
          }
          actions::ActionContext ctx;
          ctx.origin = "api";
          nlohmann::json p = {{"sql", q.sql}, {"mode", "safe"}};
          if (q.timeout_ms) p["timeout_ms"] = *q.timeout_ms;
          if (q.max_rows) p["max_rows"] = *q.max_rows;
          auto out = s.actions.invoke("query.run", p, ctx);
          if (!out.ok()) return send_error(res, out.error());
          // The guard refusing the SQL is a refused request (403), not a query that failed.
          const nlohmann::json& v = out.value();
          if (v.value("status", "") == "failed" && v.contains("error") && v["error"].is_object() &&
              v["error"].value("code", "") == "permission_denied") {
            return send_error(res, Error(ErrorCode::permission_denied, v["error"].value("message", ""),
                                         v["error"].value("hint", "")));
          }
          return send_json(res, v);
        }
        if (async.value().value_or(false)) {
          auto v = s.queries.submit(std::move(q));
          if (!v.ok()) return send_error(res, v.error());
          return send_json(
              res,
              {{"run_id", v->run_id}, {"status", "queued"}, {"events_url", "/api/v1/query/" + v->run_id + "/events"}},
              202);
        }
        auto v = s.queries.run(std::move(q));
        if (!v.ok()) return send_error(res, v.error());
        send_raw_json(res, v->to_json());
      });

  r.get("/api/v1/query",
        {"Query history, newest first",
         nullptr,
         {qparam("q", "string", "text the SQL contains"), qparam("status", "string", "exact status"),
          qparam("limit", "integer", "default 50"), qparam("offset", "integer", "default 0")}},
        [&s](const httplib::Request& req, httplib::Response& res) {
          store::QueryFilter f;
          f.text = req.get_param_value("q");
          f.status = req.get_param_value("status");
          auto limit = query_int(req, "limit");
          auto offset = query_int(req, "offset");
          if (!limit.ok()) return send_error(res, limit.error());
          if (!offset.ok()) return send_error(res, offset.error());
          f.limit = limit.value().value_or(50);
          f.offset = offset.value().value_or(0);
          if (f.limit < 1 || f.limit > 1000 || f.offset < 0) {
            return send_error(res, Error(ErrorCode::invalid_argument, "limit must be 1..1000 and offset 0 or more"));
          }
          auto h = s.queries.history(f);
          if (!h.ok()) return send_error(res, h.error());
          auto list = nlohmann::json::array();
          for (const auto& q : h.value()) {
            list.push_back({{"run_id", q.run_id},
                            {"sql", q.sql},
                            {"status", q.status},
                            {"origin", q.origin},
                            {"submitted_at", q.submitted_at},
                            {"started_at", q.started_at ? nlohmann::json(*q.started_at) : nlohmann::json()},
                            {"finished_at", q.finished_at ? nlohmann::json(*q.finished_at) : nlohmann::json()},
                            {"duration_ms", q.duration_ms ? nlohmann::json(*q.duration_ms) : nlohmann::json()},
                            {"row_count", q.row_count ? nlohmann::json(*q.row_count) : nlohmann::json()},
                            {"error", q.error ? nlohmann::json(*q.error) : nlohmann::json()}});
          }
          send_json(res, {{"queries", list}, {"limit", f.limit}, {"offset", f.offset}});
        });

  r.get("/api/v1/query/{run_id}",
        {"Status and rows of a run; ?offset&limit pages the stored result; ?format=json|csv|parquet|arrow downloads "
         "it",
         nullptr,
         {qparam("offset", "integer", "first row of the page"), qparam("limit", "integer", "rows in the page"),
          format_param()},
         {200, 400, 404, 409}},
        [&s](const httplib::Request& req, httplib::Response& res) {
          const std::string id = req.matches[1].str();
          if (req.has_param("format")) {
            auto fmt = query::parse_download_format(req.get_param_value("format"));
            if (!fmt.ok()) return send_error(res, fmt.error());
            auto v = s.queries.get(id);
            if (!v.ok()) return send_error(res, v.error());
            if (v->status != "succeeded" || !v->spooled) {
              return send_error(res, Error(ErrorCode::conflict,
                                           "run " + id + " has no stored result to download (status " + v->status + ")",
                                           v->status == "succeeded" ? "only SELECT results are stored" : ""));
            }
            const auto f = fmt.value();
            // Refusals (a column Arrow cannot carry…) must come before the 200 and the first byte.
            if (auto ok = s.queries.check_download(id, f); !ok.ok()) return send_error(res, ok.error());
            res.set_header("Content-Disposition", "attachment; filename=\"" + id + "." + file_extension(f) + "\"");
            res.set_chunked_content_provider(content_type(f), [&s, id, f](size_t, httplib::DataSink& sink) {
              auto st = s.queries.download(id, f, [&sink](std::string_view chunk) -> Status {
                if (!sink.write(chunk.data(), chunk.size())) return Error(ErrorCode::cancelled, "client went away");
                return {};
              });
              if (!st.ok()) return false;
              sink.done();
              return true;
            });
            return;
          }
          if (req.has_param("offset") || req.has_param("limit")) {
            auto offset = query_int(req, "offset");
            auto limit = query_int(req, "limit");
            if (!offset.ok()) return send_error(res, offset.error());
            if (!limit.ok()) return send_error(res, limit.error());
            auto p = s.queries.page(id, offset.value().value_or(0), limit.value().value_or(100));
            if (!p.ok()) return send_error(res, p.error());
            return send_raw_json(res, p->to_json());
          }
          auto v = s.queries.get(id);
          if (!v.ok()) return send_error(res, v.error());
          send_raw_json(res, v->to_json());
        });

  r.get("/api/v1/query/{run_id}/events",
        {"Server-Sent Events of a run (Last-Event-ID resumes)",
         nullptr,
         nlohmann::json::array(),
         {200, 404},
         "text/event-stream"},
        [&s, heartbeat = o.sse_heartbeat_seconds](const httplib::Request& req, httplib::Response& res) {
          const std::string id = req.matches[1].str();
          auto v = s.queries.get(id);
          if (!v.ok()) return send_error(res, v.error());
          serve_sse(req, res, s.events, "query/" + id, heartbeat);
        });

  r.post("/api/v1/query/{run_id}/cancel",
         {"Cancel a queued or running query", nullptr, nlohmann::json::array(), {202, 404, 409}},
         [&s](const httplib::Request& req, httplib::Response& res) {
           const std::string id = req.matches[1].str();
           auto st = s.queries.cancel(id);
           if (!st.ok()) return send_error(res, st.error());
           send_json(res, {{"run_id", id}, {"status", "cancelling"}}, 202);
         });
}

}  // namespace pluto::api
