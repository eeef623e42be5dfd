#pragma once
// Aligned text tables for CLI listings (results use warehouse writers instead).
#include <algorithm>
#include <string>
#include <vector>

namespace pluto::cli {

class TablePrinter {
 public:
  explicit TablePrinter(std::vector<std::string> header) : header_(std::move(header)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string render() const {
    std::vector<size_t> w(header_.size());
    auto width = [](const std::string& s) {
      size_t n = 0;
      for (unsigned char c : s) n += (c & 0xC0U) != 0x80U ? 1 : 0;
      return n;
    };
    for (size_t i = 0; i < header_.size(); ++i) w[i] = width(header_[i]);
    for (const auto& r : rows_) {
      for (size_t i = 0; i < r.size() && i < w.size(); ++i) w[i] = std::max(w[i], width(r[i]));
    }
    std::string out;
    auto line = [&](const std::vector<std::string>& r) {
      std::string l;
      for (size_t i = 0; i < w.size(); ++i) {
        const std::string& cell = i < r.size() ? r[i] : std::string();
        if (i > 0) l += "  ";
        l += cell;
        if (i + 1 < w.size()) l.append(w[i] - width(cell), ' ');
      }
      while (!l.empty() && l.back() == ' ') l.pop_back();
      out += l + '\n';
    };
    line(header_);
    std::vector<std::string> rule;
    for (size_t x : w) rule.emplace_back(x, '-');
    line(rule);
    for (const auto& r : rows_) line(r);
    return out;
  }

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace pluto::cli
