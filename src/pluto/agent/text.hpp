#pragma once
// Word-level text helpers for matching questions against catalog names and values: lower-case
// words (underscores split, so "unit_price" is "unit price"), light English stemming (plurals),
// stop words, and phrase search over stemmed words.
#include <string>
#include <string_view>
#include <vector>

namespace pluto::agent {

// Lower-case words of `text`: runs of letters/digits (bytes >= 0x80 count as letters so accented
// names stay whole); everything else, underscores included, separates words.
std::vector<std::string> words(std::string_view text);
// Singular form of an English plural ("categories" -> "category", "boxes" -> "box", "orders" -> "order").
std::string stem(std::string_view word);
std::vector<std::string> stems(const std::vector<std::string>& ws);
bool is_stop_word(std::string_view word);
// First position at or after `from` where `needle` occurs in `hay` as consecutive words, or npos.
size_t find_phrase(const std::vector<std::string>& hay, const std::vector<std::string>& needle, size_t from = 0);
bool is_number(std::string_view word);
std::string join(const std::vector<std::string>& parts, std::string_view sep);

}  // namespace pluto::agent
