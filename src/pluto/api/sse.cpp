#include "pluto/api/sse.hpp"

#include "pluto/events/event_bus.hpp"

namespace pluto::api {

void serve_sse(const httplib::Request& req, httplib::Response& res, events::EventBus& bus, const std::string& stream,
               int heartbeat_seconds) {
  int64_t after = 0;
  std::string last = req.get_header_value("Last-Event-ID");
  if (last.empty() && req.has_param("last_event_id")) last = req.get_param_value("last_event_id");
  if (!last.empty()) {
    try {
      after = std::stoll(last);
    } catch (const std::exception&) {
      after = 0;
    }
  }
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider("text/event-stream", [&bus, stream, after, heartbeat_seconds](
                                                            size_t /*offset*/, httplib::DataSink& sink) mutable {
    auto r = bus.wait(stream, after, std::chrono::seconds(heartbeat_seconds));
    std::string out;
    for (const auto& e : r.events) {
      out += "id: " + std::to_string(e.id) + "\nevent: " + e.type +
             "\ndata: " + e.envelope().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n\n";
      after = e.id;
    }
    if (out.empty() && !r.closed) out = ": keepalive\n\n";
    if (!out.empty() && !sink.write(out.data(), out.size())) return false;
    if (r.closed) sink.done();
    return true;
  });
}

}  // namespace pluto::api
