#include "pluto/core/error.hpp"

namespace pluto {

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_argument: return "invalid_argument";
    case ErrorCode::invalid_config: return "invalid_config";
    case ErrorCode::sql_error: return "sql_error";
    case ErrorCode::not_found: return "not_found";
    case ErrorCode::conflict: return "conflict";
    case ErrorCode::unavailable: return "unavailable";
    case ErrorCode::locked: return "locked";
    case ErrorCode::permission_denied: return "permission_denied";
    case ErrorCode::unauthenticated: return "unauthenticated";
    case ErrorCode::too_large: return "too_large";
    case ErrorCode::timed_out: return "timed_out";
    case ErrorCode::cancelled: return "cancelled";
    case ErrorCode::internal: return "internal";
  }
  return "internal";
}

}  // namespace pluto
