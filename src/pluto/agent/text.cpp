#include "pluto/agent/text.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace pluto::agent {

std::vector<std::string> words(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) != 0 || c >= 0x80) {
      cur += static_cast<char>(std::tolower(c));
    } else if (c == '\'' && !cur.empty()) {
      continue;  // "customer's" -> "customers"
    } else if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

std::string stem(std::string_view w) {
  std::string s(w);
  auto ends = [&](std::string_view suffix) {
    return s.size() > suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (s.size() <= 3 || is_number(s)) return s;
  if (ends("ies") && s.size() > 4) return s.substr(0, s.size() - 3) + "y";
  if (ends("sses") || ends("shes") || ends("ches") || ends("xes") || ends("zes")) return s.substr(0, s.size() - 2);
  if (ends("ss") || ends("us") || ends("is") || ends("ous")) return s;
  if (ends("s")) return s.substr(0, s.size() - 1);
  return s;
}

std::vector<std::string> stems(const std::vector<std::string>& ws) {
  std::vector<std::string> out;
  out.reserve(ws.size());
  for (const auto& w : ws) out.push_back(stem(w));
  return out;
}

bool is_stop_word(std::string_view w) {
  static constexpr std::array kStop = {
      "a",      "an",      "the",     "of",     "in",      "on",       "at",      "to",      "for",     "by",
      "per",    "and",     "or",      "is",     "are",     "was",      "were",    "be",      "been",    "there",
      "what",   "which",   "who",     "how",    "many",    "much",     "me",      "show",    "give",    "list",
      "tell",   "do",      "does",    "did",    "with",    "from",     "that",    "this",    "these",   "those",
      "it",     "its",     "their",   "our",    "my",      "i",        "we",      "you",     "all",     "each",
      "every",  "have",    "has",     "had",    "as",      "into",     "than",    "then",    "about",   "can",
      "please", "number",  "count",   "total",  "sum",     "average",  "avg",     "mean",    "top",     "bottom",
      "most",   "least",   "highest", "lowest", "largest", "smallest", "biggest", "maximum", "minimum", "max",
      "min",    "any",     "some",    "get",    "find",    "want",     "know",    "would",   "like",    "over",
      "under",  "between", "whose",   "where",  "when",    "by",       "so",      "far",     "now",     "also",
      "same",   "only",    "just",    "up",     "out",     "them",     "they",    "he",      "she",
  };
  return std::find(kStop.begin(), kStop.end(), w) != kStop.end();
}

size_t find_phrase(const std::vector<std::string>& hay, const std::vector<std::string>& needle, size_t from) {
  if (needle.empty() || hay.size() < needle.size()) return std::string::npos;
  for (size_t i = from; i + needle.size() <= hay.size(); ++i) {
    if (std::equal(needle.begin(), needle.end(), hay.begin() + static_cast<std::ptrdiff_t>(i))) return i;
  }
  return std::string::npos;
}

bool is_number(std::string_view w) {
  return !w.empty() && std::all_of(w.begin(), w.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

}  // namespace pluto::agent
