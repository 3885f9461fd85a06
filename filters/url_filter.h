#pragma once
// URL blocklists, after datatrove's URLFilter: a document whose url's host is
// a listed domain or a subdomain of one is url_blocked_domain; one whose full
// URL matches a listed pattern is url_blocked_pattern (checked in that
// order, as datatrove checks domains before words).
//
// The url is read from the document's own JSON line (`url_field`, a
// top-level string field), since Document carries only the text. Records
// "url.domain", the url's host as normalized below, and "url.pattern", the
// first listed pattern that matched (only on a match). Documents without the
// field, or whose field is not a non-empty string, pass and get no signal:
// counting them would cost a signal on every document of a url-less corpus.
//
// Host normalization follows tldextract's lenient netloc (which datatrove's
// URLFilter uses): drop "scheme://" (or a bare "//"), cut at the first '/',
// '?' or '#', keep what follows the last '@' (user info), cut at ':' (the
// port; a bracketed IPv6 host keeps its brackets), trim spaces and trailing
// dots, lower-case ASCII letters, and read U+3002, U+FF0E and U+FF61 as '.'.
//
// Deliberate differences from datatrove:
// - Any listed domain blocks all its subdomains, at every depth; datatrove
//   looks up only the registered domain (by the Public Suffix List) and the
//   full host, so a listed "a.example.com" does not block "b.a.example.com"
//   there. Walking the host's suffixes covers both of its lookups without a
//   suffix list.
// - Punycode labels ("xn--...") are compared as written; tldextract decodes
//   them to Unicode first. List domains the way URLs spell them.
// - Instead of datatrove's banned words, soft-banned words (with a count
//   threshold) and banned subwords, one list of RE2 patterns is matched
//   against the raw URL, case-insensitively. datatrove's banned word `w`
//   (whole words, split on non-alphanumerics) is the pattern
//   `(?:^|[^a-z0-9])w(?:[^a-z0-9]|$)`; its subword `w` (a substring of the
//   URL with every non-alphanumeric removed) has no exact equivalent, and
//   `w` alone finds it where nothing separates its letters.
// - No blocklist ships with Needle (datatrove bundles UT1's); see README.md.
//
// Lists are read once at construction; a bad line throws std::runtime_error
// as "path:line: what was wrong". Read-only afterwards: Process() runs on
// many batches at once, each thread with its own JSON parser.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>

#include "pipeline/config.h"
#include "stages/stage.h"

namespace needle {

class UrlFilter final : public Stage {
 public:
  struct Options {  // TOML [url_filter]
    std::string url_field = "url";
    std::string domains_file;   // "" = no domain blocklist
    std::string patterns_file;  // "" = no pattern blocklist

    void Visit(ConfigSection& s) {
      s.Field("url_field", &url_field,
              "Top-level string field holding the document's URL; documents "
              "without it (or with a non-string value) pass unchecked.");
      s.Field("domains_file", &domains_file,
              "Blocklist of domains, one per line (# comments and blank lines "
              "ignored); a listed domain also blocks its subdomains "
              "(url_blocked_domain). \"\" = none.");
      s.Field("patterns_file", &patterns_file,
              "Blocklist of RE2 patterns, one per line, each searched for "
              "anywhere in the full URL ignoring case (url_blocked_pattern); "
              "a plain word is a substring. \"\" = none.");
    }
  };

  // Reads both lists; throws std::runtime_error for an unreadable file or a
  // bad line, naming path:line.
  explicit UrlFilter(const Options& options);
  ~UrlFilter() override;
  UrlFilter(const UrlFilter&) = delete;
  UrlFilter& operator=(const UrlFilter&) = delete;

  std::string_view name() const override { return "url_filter"; }
  void Process(std::span<Document> docs) const override;

  // The host of `url`, normalized as described above ("" when it has none).
  static std::string Host(std::string_view url);
  // Whether `host` (normalized) or a parent domain of it is listed.
  bool DomainBlocked(std::string_view host) const;
  // The first listed pattern found in `url`, or nullptr.
  const std::string* MatchedPattern(std::string_view url) const;

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const {
      return std::hash<std::string_view>()(s);
    }
  };
  struct PatternSet;

  void ReadDomains(const std::string& path);
  void ReadPatterns(const std::string& path);

  Options options_;
  std::unordered_set<std::string, StringHash, std::equal_to<>> domains_;
  std::unique_ptr<PatternSet> patterns_;  // null without a patterns_file
};

}  // namespace needle
