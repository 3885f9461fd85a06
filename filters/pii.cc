#include "filters/pii.h"

#include <re2/re2.h>

#include <optional>
#include <stdexcept>

namespace needle {
namespace {

// datatrove's email expression (PIIFormatter), unchanged; RE2 finds the
// same leftmost-first matches as Python's backtracking engine.
constexpr std::string_view kEmailPattern =
    R"(\b[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*)"
    R"(@(?:(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+)"
    R"([A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?|\[(?:(?:25[0-5]|2[0-4][0-9]|)"
    R"([01]?[0-9][0-9]?)\.){3}(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?|)"
    R"([A-Za-z0-9-]*[A-Za-z0-9]:)]))";

// A maximal run of four or more dotted numbers: leftmost-first and greedy,
// so each match is a whole run, which the checks below then take or leave.
constexpr std::string_view kDottedNumbersPattern = R"([0-9]+(?:\.[0-9]+){3,})";

std::unique_ptr<const re2::RE2> Compile(std::string_view pattern) {
  auto re = std::make_unique<const re2::RE2>(pattern);
  if (!re->ok()) throw std::logic_error("pii: " + re->error());
  return re;
}

bool IsAsciiWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_';
}

// Calls on_match(begin, end) for each leftmost-first match of `re` in
// `text`, left to right, each search starting where the last match ended.
// `re` never matches the empty string.
template <class OnMatch>
void ForEachMatch(const re2::RE2& re, std::string_view text, OnMatch on_match) {
  re2::StringPiece match;
  size_t pos = 0;
  while (pos < text.size() &&
         re.Match(text, pos, text.size(), re2::RE2::UNANCHORED, &match, 1)) {
    const auto begin = static_cast<size_t>(match.data() - text.data());
    const size_t end = begin + match.size();
    on_match(begin, end);
    pos = end;
  }
}

// The address `dotted` spells when Python's ipaddress.ip_address() accepts
// it: four decimal octets, each 0-255 and without leading zeros.
std::optional<uint32_t> ParseIpv4(std::string_view dotted) {
  uint32_t address = 0;
  int octets = 0;
  size_t i = 0;
  while (true) {
    const size_t start = i;
    uint32_t value = 0;
    while (i < dotted.size() && dotted[i] >= '0' && dotted[i] <= '9') {
      value = value * 10 + static_cast<uint32_t>(dotted[i] - '0');
      if (++i - start > 3) return std::nullopt;
    }
    const size_t digits = i - start;
    if (digits == 0 || value > 255 || (digits > 1 && dotted[start] == '0')) {
      return std::nullopt;
    }
    address = (address << 8) | value;
    if (++octets == 4) break;
    if (i == dotted.size() || dotted[i] != '.') return std::nullopt;
    ++i;
  }
  if (i != dotted.size()) return std::nullopt;
  return address;
}

struct Range {
  uint32_t first;
  uint32_t last;
};

constexpr uint32_t Ipv4(uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

constexpr Range Cidr(uint32_t base, int prefix_bits) {
  const uint32_t size_minus_one =
      prefix_bits == 0 ? ~uint32_t{0} : (uint32_t{1} << (32 - prefix_bits)) - 1;
  return {base, base + size_minus_one};
}

// CPython 3.13's ipaddress._IPv4Constants._private_networks, from the IANA
// IPv4 special-purpose address registry. (Python 3.11.7 and older list
// 192.0.0.0/29 instead of 192.0.0.0/24, with no exceptions.)
constexpr Range kPrivate[] = {
    Cidr(Ipv4(0, 0, 0, 0), 8),       Cidr(Ipv4(10, 0, 0, 0), 8),
    Cidr(Ipv4(127, 0, 0, 0), 8),     Cidr(Ipv4(169, 254, 0, 0), 16),
    Cidr(Ipv4(172, 16, 0, 0), 12),   Cidr(Ipv4(192, 0, 0, 0), 24),
    Cidr(Ipv4(192, 0, 0, 170), 31),  Cidr(Ipv4(192, 0, 2, 0), 24),
    Cidr(Ipv4(192, 168, 0, 0), 16),  Cidr(Ipv4(198, 18, 0, 0), 15),
    Cidr(Ipv4(198, 51, 100, 0), 24), Cidr(Ipv4(203, 0, 113, 0), 24),
    Cidr(Ipv4(240, 0, 0, 0), 4),     Cidr(Ipv4(255, 255, 255, 255), 32),
};
constexpr Range kPrivateExceptions[] = {
    Cidr(Ipv4(192, 0, 0, 9), 32),
    Cidr(Ipv4(192, 0, 0, 10), 32),
};
// Shared address space (RFC 6598): neither private nor global in Python.
constexpr Range kSharedAddressSpace = Cidr(Ipv4(100, 64, 0, 0), 10);

bool In(uint32_t address, const Range& range) {
  return address >= range.first && address <= range.last;
}

// Appends text[from, to) to `out` when there is an output.
void Copy(std::string_view text, size_t from, size_t to, std::string* out) {
  if (out != nullptr) out->append(text.substr(from, to - from));
}

}  // namespace

bool Pii::IsGlobalIpv4(uint32_t address) {
  bool is_private = false;
  for (const Range& range : kPrivate) is_private |= In(address, range);
  for (const Range& range : kPrivateExceptions) {
    is_private &= !In(address, range);
  }
  return !is_private && !In(address, kSharedAddressSpace);
}

Pii::Pii(const Options& options)
    : options_(options),
      email_(Compile(kEmailPattern)),
      dotted_numbers_(Compile(kDottedNumbersPattern)) {
  if (options_.email_placeholders.empty()) {
    throw std::runtime_error(
        "pii: email_placeholders is empty; give at least one replacement");
  }
  if (options_.ip_placeholders.empty()) {
    throw std::runtime_error(
        "pii: ip_placeholders is empty; give at least one replacement");
  }
}

Pii::~Pii() = default;

int64_t Pii::ReplaceIps(std::string_view text, std::string* out) const {
  int64_t count = 0;
  size_t copied = 0;
  ForEachMatch(*dotted_numbers_, text, [&](size_t begin, size_t end) {
    // The run is maximal, so no digit touches it; a letter, '_' or a '.'
    // before it still makes it part of a longer token ("v1.2.3.4").
    const bool glued = (begin > 0 && (IsAsciiWordChar(text[begin - 1]) ||
                                      text[begin - 1] == '.')) ||
                       (end < text.size() && IsAsciiWordChar(text[end]));
    if (glued) return;
    const std::optional<uint32_t> address =
        ParseIpv4(text.substr(begin, end - begin));
    if (!address || (options_.only_public_ips && !IsGlobalIpv4(*address))) {
      return;
    }
    const std::vector<std::string>& placeholders = options_.ip_placeholders;
    Copy(text, copied, begin, out);
    if (out != nullptr) {
      out->append(
          placeholders[static_cast<size_t>(count) % placeholders.size()]);
    }
    copied = end;
    ++count;
  });
  if (count > 0) Copy(text, copied, text.size(), out);
  return count;
}

Pii::Found Pii::Find(std::string_view text, bool want_text) const {
  Found found;
  // IPs are searched in the text with its emails replaced, as datatrove
  // does; emails are rare, so the copy seldom happens.
  std::string without_emails;
  std::string_view for_ips = text;
  if (options_.emails && text.find('@') != std::string_view::npos) {
    const std::vector<std::string>& placeholders = options_.email_placeholders;
    size_t copied = 0;
    ForEachMatch(*email_, text, [&](size_t begin, size_t end) {
      without_emails.append(text.substr(copied, begin - copied));
      without_emails.append(placeholders[static_cast<size_t>(found.emails) %
                                         placeholders.size()]);
      copied = end;
      ++found.emails;
    });
    if (found.emails > 0) {
      without_emails.append(text.substr(copied));
      for_ips = without_emails;
    }
  }
  if (options_.ips)
    found.ips = ReplaceIps(for_ips, want_text ? &found.text : nullptr);
  if (want_text && found.ips == 0 && found.emails > 0) {
    found.text = std::move(without_emails);
  }
  return found;
}

void Pii::Process(std::span<Document> docs) const {
  for (Document& doc : docs) {
    if (!doc.ok()) continue;
    Found found = Find(doc.text, options_.replace);
    if (options_.emails) doc.signals.push_back({"pii.emails", found.emails});
    if (options_.ips) doc.signals.push_back({"pii.ips", found.ips});
    if (options_.replace && found.emails + found.ips > 0) {
      doc.RewriteText(std::move(found.text));
    }
  }
}

}  // namespace needle
