#include <fstream>

#include "pluto/api/routes.hpp"
#include "pluto/api/sse.hpp"
#include "pluto/ingest/ingest_service.hpp"
#include "pluto/jobs/job_runner.hpp"

namespace pluto::api {
namespace {

nlohmann::json sources_json(const std::vector<ingest::SourceRecord>& list) {
  auto out = nlohmann::json::array();
  for (const auto& s : list) out.push_back(s.to_json());
  return out;
}

// Upload names: one plain file name, no directories, no hidden files.
Result<std::string> safe_file_name(const std::string& name) {
  if (name.empty() || name.size() > 200 || name.front() == '.' || name.find('/') != std::string::npos ||
      name.find('\\') != std::string::npos || name.find('\0') != std::string::npos) {
    return Error(ErrorCode::invalid_argument, "invalid file name '" + name + "'",
                 "use a plain name such as sales.csv (no folders)");
  }
  return name;
}

}  // namespace

void register_ingest_routes(Router& r, Services& s, const ServerOptions& /*o*/) {
  auto& ing = *s.ingest;
  r.post("/api/v1/ingest",
         {"Load a file, glob, database table or query into the warehouse (a job); 202 with job id and events",
          {{"type", "object"},
           {"required", {"source", "table"}},
           {"properties",
            {{"source", {{"type", "string"}}},
             {"table", {{"type", "string"}}},
             {"mode", {{"type", "string"}, {"enum", {"replace", "append", "incremental", "merge"}}}},
             {"options", {{"type", "object"}}}}}},
          nlohmann::json::array(),
          {202, 400, 403, 404, 503}},
         [&s, &ing](const httplib::Request& req, httplib::Response& res) {
           auto body = json_body(req);
           if (!body.ok()) return send_error(res, body.error());
           auto request = ingest::IngestRequest::from_json(body.value());
           if (!request.ok()) return send_error(res, request.error());
           // Over HTTP, files are read only under ingest.allowed_dirs.
           request.value().restrict_paths = true;
           auto job = ing.submit(s.jobs, request.value());
           if (!job.ok()) return send_error(res, job.error());
           send_json(res,
                     {{"job_id", job->id},
                      {"run_id", job->id},
                      {"status", "queued"},
                      {"events_url", "/api/v1/jobs/" + job->id + "/events"}},
                     202);
         });
  r.get("/api/v1/ingest/runs", {"Ingestion runs, newest first"},
        [&ing](const httplib::Request& req, httplib::Response& res) {
          ingest::RunFilter f;
          auto limit = query_int(req, "limit");
          if (!limit.ok()) return send_error(res, limit.error());
          if (limit.value()) f.limit = *limit.value();
          auto runs = ing.list_runs(f);
          if (!runs.ok()) return send_error(res, runs.error());
          auto list = nlohmann::json::array();
          for (const auto& run : runs.value()) list.push_back(run.to_json());
          send_json(res, {{"runs", list}});
        });
  r.get("/api/v1/ingest/runs/{id}", {"One ingestion run", nullptr, nlohmann::json::array(), {200, 404}},
        [&ing](const httplib::Request& req, httplib::Response& res) {
          auto run = ing.get_run(req.matches[1].str());
          if (!run.ok()) return send_error(res, run.error());
          send_json(res, run->to_json());
        });

  r.get("/api/v1/sources", {"Saved sources (never their passwords)"},
        [&ing](const httplib::Request&, httplib::Response& res) {
          auto list = ing.list_sources();
          if (!list.ok()) return send_error(res, list.error());
          send_json(res, {{"sources", sources_json(list.value())}});
        });
  r.post("/api/v1/sources",
         {"Save a source: {name, uri, password_env?, password?}",
          {{"type", "object"},
           {"required", {"name", "uri"}},
           {"properties",
            {{"name", {{"type", "string"}}},
             {"uri", {{"type", "string"}}},
             {"password_env", {{"type", "string"}}},
             {"password", {{"type", "string"}}}}}},
          nlohmann::json::array(),
          {201, 400, 403, 409}},
         [&ing](const httplib::Request& req, httplib::Response& res) {
           auto body = json_body(req);
           if (!body.ok()) return send_error(res, body.error());
           auto request = ingest::AddSourceRequest::from_json(body.value());
           if (!request.ok()) return send_error(res, request.error());
           request.value().restrict_paths = true;
           auto added = ing.add_source(request.value());
           if (!added.ok()) return send_error(res, added.error());
           send_json(res, added->to_json(), 201);
         });
  r.get("/api/v1/sources/{name}", {"One saved source", nullptr, nlohmann::json::array(), {200, 404}},
        [&ing](const httplib::Request& req, httplib::Response& res) {
          auto src = ing.get_source(req.matches[1].str());
          if (!src.ok()) return send_error(res, src.error());
          send_json(res, src->to_json());
        });
  r.del("/api/v1/sources/{name}",
        {"Forget a saved source (and its secret)", nullptr, nlohmann::json::array(), {200, 404}},
        [&ing](const httplib::Request& req, httplib::Response& res) {
          auto st = ing.remove_source(req.matches[1].str());
          if (!st.ok()) return send_error(res, st.error());
          send_json(res, {{"removed", req.matches[1].str()}});
        });
  r.post("/api/v1/sources/{name}/test",
         {"Connect to a saved source and describe it", nullptr, nlohmann::json::array(), {200, 404, 503}},
         [&ing](const httplib::Request& req, httplib::Response& res) {
           auto out = ing.test_source(req.matches[1].str());
           if (!out.ok()) return send_error(res, out.error());
           send_json(res, out.value());
         });
  r.get("/api/v1/sources/{name}/tables",
        {"Schemas and tables of a saved database source", nullptr, nlohmann::json::array(), {200, 404}},
        [&ing](const httplib::Request& req, httplib::Response& res) {
          auto objs = ing.source_tables(req.matches[1].str());
          if (!objs.ok()) return send_error(res, objs.error());
          auto list = nlohmann::json::array();
          for (const auto& o : objs.value()) list.push_back(o.to_json());
          send_json(res, {{"tables", list}});
        });
  r.post("/api/v1/sources/{name}/attach",
         {"Attach a database source read-only (live federation)", nullptr, nlohmann::json::array(), {200, 404}},
         [&ing](const httplib::Request& req, httplib::Response& res) {
           auto out = ing.attach_source(req.matches[1].str());
           if (!out.ok()) return send_error(res, out.error());
           send_json(res, out.value());
         });
  r.post("/api/v1/sources/{name}/detach", {"Detach an attached source", nullptr, nlohmann::json::array(), {200, 404}},
         [&ing](const httplib::Request& req, httplib::Response& res) {
           auto st = ing.detach_source(req.matches[1].str());
           if (!st.ok()) return send_error(res, st.error());
           send_json(res, {{"detached", req.matches[1].str()}});
         });
  r.post("/api/v1/imports/{file}",
         {"Upload a file (the raw body) into the data dir's imports/ folder, to ingest it afterwards",
          nullptr,
          nlohmann::json::array(),
          {201, 400, 409, 413}},
         [&s](const httplib::Request& req, httplib::Response& res) {
           auto name = safe_file_name(req.matches[1].str());
           if (!name.ok()) return send_error(res, name.error());
           const auto path = s.imports_dir / name.value();
           std::error_code ec;
           if (std::filesystem::exists(path, ec) && req.get_param_value("overwrite") != "true") {
             return send_error(res, Error(ErrorCode::conflict, "imports/" + name.value() + " already exists",
                                          "add ?overwrite=true to replace it"));
           }
           std::filesystem::create_directories(s.imports_dir, ec);
           const auto tmp = path.string() + ".uploading";
           {
             std::ofstream out(tmp, std::ios::binary);
             out.write(req.body.data(), static_cast<std::streamsize>(req.body.size()));
             if (!out) return send_error(res, Error(ErrorCode::unavailable, "cannot write " + tmp));
           }
           std::filesystem::rename(tmp, path, ec);
           if (ec) return send_error(res, Error(ErrorCode::unavailable, "cannot store the upload: " + ec.message()));
           send_json(res, {{"path", path.string()}, {"bytes", req.body.size()}}, 201);
         });
}

}  // namespace pluto::api
