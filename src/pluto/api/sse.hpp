#pragma once
#include <httplib.h>

#include <string>

namespace pluto::events {
class EventBus;
}

namespace pluto::api {

// Streams `stream` as Server-Sent Events: `id:`, `event:` and `data:` (the event envelope) per event,
// a comment line as heartbeat every `heartbeat_seconds`, the response ends after the final event.
// Resumes after the id in the Last-Event-ID header (or ?last_event_id=). A client that goes away is
// noticed at the next write (at the latest the next heartbeat) and frees its thread.
void serve_sse(const httplib::Request& req, httplib::Response& res, events::EventBus& bus, const std::string& stream,
               int heartbeat_seconds);

}  // namespace pluto::api
