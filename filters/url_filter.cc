#include "filters/url_filter.h"

#include <fmt/format.h>
#include <re2/re2.h>
#include <re2/set.h>
#include <simdjson.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <vector>

namespace needle {
namespace {

bool IsAsciiAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9');
}

// urllib's scheme_chars, which tldextract's scheme pattern uses.
bool IsSchemeChar(char c) {
  return IsAsciiAlnum(c) || c == '+' || c == '-' || c == '.';
}

bool IsSpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

char AsciiLower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// Lower-cases ASCII letters and reads the ideographic full stops U+3002,
// U+FF0E and U+FF61 as '.', as tldextract does before splitting labels.
std::string LowerWithAsciiDots(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const std::string_view rest = s.substr(i);
    if (rest.starts_with("\xE3\x80\x82") || rest.starts_with("\xEF\xBC\x8E") ||
        rest.starts_with("\xEF\xBD\xA1")) {
      out.push_back('.');
      i += 2;
    } else {
      out.push_back(AsciiLower(s[i]));
    }
  }
  return out;
}

std::string_view WithoutTrailingDots(std::string_view s) {
  while (!s.empty() && s.back() == '.') s.remove_suffix(1);
  return s;
}

// Copies the string value of the top-level field `key` of the JSON object
// `line` into `out`. False when the line has no such field or its value is
// not a string. The line may lack simdjson's padding (a rebuilt line is a
// plain string), so it is copied into this thread's padded buffer first:
// a memcpy, small next to simdjson's own pass over the line.
bool ReadStringField(std::string_view line, std::string_view key,
                     std::string* out) {
  thread_local simdjson::ondemand::parser parser;
  thread_local std::string padded;
  padded.assign(line);
  padded.resize(line.size() + simdjson::SIMDJSON_PADDING, '\0');
  simdjson::ondemand::document doc;
  if (parser.iterate(padded.data(), line.size(), padded.size()).get(doc)) {
    return false;
  }
  simdjson::ondemand::object object;
  if (doc.get_object().get(object)) return false;
  std::string_view value;
  if (object.find_field_unordered(key).get_string().get(value)) return false;
  out->assign(value);
  return true;
}

std::ifstream OpenList(const std::string& path, std::string_view option) {
  std::ifstream in(path);
  if (!in) {
    throw std::runtime_error(fmt::format("url_filter: cannot read {} {}: {}",
                                         option, path, std::strerror(errno)));
  }
  return in;
}

// Calls `take(line, number)` for each line of `in` that is neither blank nor
// a '#' comment, trimmed of surrounding whitespace.
template <class Take>
void ForEachEntry(std::ifstream& in, Take take) {
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    std::string_view entry = Trim(line);
    if (number == 1 && entry.starts_with("\xEF\xBB\xBF")) {
      entry = Trim(entry.substr(3));  // a UTF-8 byte-order mark
    }
    if (entry.empty() || entry.front() == '#') continue;
    take(entry, number);
  }
}

// Why `domain` (trimmed, lower-cased, trailing dots removed) cannot be a
// list entry, or "" when it can. Non-ASCII bytes pass: a list may spell
// internationalized names in Unicode, although they then match only URLs
// that spell them the same way.
std::string DomainProblem(std::string_view domain) {
  if (domain.find("://") != std::string_view::npos ||
      domain.find('/') != std::string_view::npos) {
    return fmt::format(
        "expected a domain, got the URL '{}'; list its host alone", domain);
  }
  for (const char c : domain) {
    if (IsSpace(c)) {
      return fmt::format("expected one domain per line, got '{}'", domain);
    }
    const bool ok = IsAsciiAlnum(c) || c == '-' || c == '_' || c == '.' ||
                    static_cast<unsigned char>(c) >= 0x80;
    if (!ok) {
      return fmt::format("unexpected character '{}' in domain '{}'", c, domain);
    }
  }
  if (domain.empty() || domain.front() == '.' ||
      domain.find("..") != std::string_view::npos) {
    return fmt::format("empty label in domain '{}'", domain);
  }
  return "";
}

}  // namespace

// One RE2::Set for every pattern, and the patterns' text for the signal.
struct UrlFilter::PatternSet {
  static RE2::Options Options() {
    RE2::Options options;
    options.set_case_sensitive(false);
    options.set_log_errors(false);
    // Room for the lazily built DFA of a few thousand patterns; a match
    // that runs out of it throws instead of silently passing.
    options.set_max_mem(int64_t{256} << 20);
    return options;
  }

  RE2::Set set{Options(), RE2::UNANCHORED};
  std::vector<std::string> patterns;  // by the set's index
};

UrlFilter::UrlFilter(const Options& options) : options_(options) {
  if (!options_.domains_file.empty()) ReadDomains(options_.domains_file);
  if (!options_.patterns_file.empty()) ReadPatterns(options_.patterns_file);
}

UrlFilter::~UrlFilter() = default;

void UrlFilter::ReadDomains(const std::string& path) {
  std::ifstream in = OpenList(path, "domains_file");
  ForEachEntry(in, [&](std::string_view entry, int number) {
    std::string domain(WithoutTrailingDots(LowerWithAsciiDots(entry)));
    if (std::string problem = DomainProblem(domain); !problem.empty()) {
      throw std::runtime_error(fmt::format("{}:{}: {}", path, number, problem));
    }
    domains_.insert(std::move(domain));
  });
}

void UrlFilter::ReadPatterns(const std::string& path) {
  std::ifstream in = OpenList(path, "patterns_file");
  auto patterns = std::make_unique<PatternSet>();
  ForEachEntry(in, [&](std::string_view entry, int number) {
    std::string error;
    if (patterns->set.Add(entry, &error) < 0) {
      throw std::runtime_error(fmt::format(
          "{}:{}: invalid RE2 pattern '{}': {}", path, number, entry, error));
    }
    patterns->patterns.emplace_back(entry);
  });
  if (patterns->patterns.empty()) return;
  if (!patterns->set.Compile()) {
    throw std::runtime_error(fmt::format(
        "{}: {} patterns are too many for one RE2 set (out of memory)", path,
        patterns->patterns.size()));
  }
  patterns_ = std::move(patterns);
}

std::string UrlFilter::Host(std::string_view url) {
  size_t scheme_end = 0;
  while (scheme_end < url.size() && IsSchemeChar(url[scheme_end])) {
    ++scheme_end;
  }
  if (scheme_end > 0 && url.substr(scheme_end).starts_with("://")) {
    url.remove_prefix(scheme_end + 3);
  } else if (url.starts_with("//")) {
    url.remove_prefix(2);
  }
  url = url.substr(0, url.find_first_of("/?#"));
  if (const size_t at = url.rfind('@'); at != std::string_view::npos) {
    url.remove_prefix(at + 1);
  }
  if (url.starts_with('[')) {
    // tldextract cuts "[::1]:80" at its first ':'; keeping the bracketed
    // IPv6 address whole makes it listable.
    const size_t close = url.find(']');
    url =
        url.substr(0, close == std::string_view::npos ? url.size() : close + 1);
  } else {
    url = url.substr(0, url.find(':'));
  }
  return std::string(WithoutTrailingDots(LowerWithAsciiDots(Trim(url))));
}

bool UrlFilter::DomainBlocked(std::string_view host) const {
  if (domains_.empty() || host.empty()) return false;
  if (domains_.contains(host)) return true;
  // No top-level domain is all digits: this host is an IPv4 address, whose
  // dotted suffixes ("0.1") are not parent domains.
  const std::string_view last_label = host.substr(host.rfind('.') + 1);
  if (last_label.find_first_not_of("0123456789") == std::string_view::npos) {
    return false;
  }
  for (size_t dot = host.find('.'); dot != std::string_view::npos;
       dot = host.find('.', dot + 1)) {
    if (domains_.contains(host.substr(dot + 1))) return true;
  }
  return false;
}

const std::string* UrlFilter::MatchedPattern(std::string_view url) const {
  if (!patterns_) return nullptr;
  // Asking which patterns matched costs an allocation the size of the set
  // and a scan to the end of the URL, so ask only once one did.
  RE2::Set::ErrorInfo error{};
  if (!patterns_->set.Match(url, nullptr, &error)) {
    if (error.kind != RE2::Set::kNoError) {
      throw std::runtime_error(
          "url_filter: RE2 ran out of memory matching the patterns_file");
    }
    return nullptr;
  }
  std::vector<int> matches;
  if (!patterns_->set.Match(url, &matches) || matches.empty()) {
    throw std::runtime_error(
        "url_filter: RE2 gave inconsistent answers for the patterns_file");
  }
  // Set::Match returns the indices unordered; report the earliest line.
  const int first = *std::min_element(matches.begin(), matches.end());
  return &patterns_->patterns[static_cast<size_t>(first)];
}

void UrlFilter::Process(std::span<Document> docs) const {
  thread_local std::string url;
  for (Document& doc : docs) {
    if (!doc.ok()) continue;
    if (!ReadStringField(doc.raw, options_.url_field, &url) || url.empty()) {
      continue;
    }
    std::string host = Host(url);
    const bool domain_blocked = DomainBlocked(host);
    const std::string* pattern = MatchedPattern(url);
    doc.signals.push_back({"url.domain", std::move(host)});
    if (pattern != nullptr) doc.signals.push_back({"url.pattern", *pattern});
    if (domain_blocked) {
      Reject(doc, Reason::kUrlBlockedDomain);
    } else if (pattern != nullptr) {
      Reject(doc, Reason::kUrlBlockedPattern);
    }
  }
}

}  // namespace needle
