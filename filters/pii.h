#pragma once
// Email and IPv4 addresses in the text, as datatrove's PIIFormatter defines
// them: counted always ("pii.emails", "pii.ips"), and with replace = true
// replaced by placeholders, which the output then carries as its text.
// Never rejects.
//
// Emails: datatrove's regular expression (a simplified RFC 5322 address: a
// dotted local part of letters, digits and !#$%&'*+/=?^_`{|}~-, '@', then
// dotted hostname labels or a bracketed IPv4 literal). IPs: four dotted
// decimal octets, kept when Python's ipaddress.ip_address() accepts them
// (0-255, no leading zeros) and, with only_public_ips, when its is_global
// holds (CPython 3.13's table of IANA special-purpose ranges). Emails are
// found and replaced first and IPs then searched in that result, as
// datatrove does, so "a@[8.8.8.8]" counts one email and no IP. Placeholders
// are used in turn: the first email gets email_placeholders[0], the second
// [1], and so on, wrapping around; an IP that fails its check keeps its text
// and uses no placeholder.
//
// Deliberate differences from datatrove:
// - An IP must be a whole run of dotted numbers, not glued to letters,
//   digits or '_' and not preceded by '.': "1.2.3.4.5" (a version) and
//   "999.1.1.1" hold no IP here, where datatrove replaces the "1.2.3.4" and
//   "99.1.1.1" inside them.
// - Word boundaries (the email's leading \b) are ASCII, RE2's: an address
//   glued to CJK or other non-ASCII letters is found ("联系a@example.com"),
//   and "émile@example.com" yields "mile@example.com". Python's Unicode \b
//   finds neither, so datatrove leaves addresses in unspaced scripts.
// - The placeholder turn restarts with each document; datatrove's carries
//   over from document to document, which depends on thread scheduling.
//
// Stateless after construction; IPv6 addresses are not looked for (nor are
// they by datatrove).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/config.h"
#include "stages/stage.h"

namespace re2 {
class RE2;
}  // namespace re2

namespace needle {

class Pii final : public Stage {
 public:
  struct Options {  // TOML [pii]
    bool emails = true;
    bool ips = true;
    bool only_public_ips = true;
    bool replace = false;
    // example.com and example.org are reserved for examples (RFC 2606).
    std::vector<std::string> email_placeholders = {
        "email@example.com", "firstname.lastname@example.org"};
    // datatrove's: random addresses that did not answer pings when chosen.
    std::vector<std::string> ip_placeholders = {
        "22.214.171.124", "126.96.36.199",  "188.8.131.52",
        "184.108.40.206", "220.127.116.11", "18.104.22.168"};

    void Visit(ConfigSection& s) {
      s.Field("emails", &emails,
              "Look for email addresses; counts them as pii.emails.");
      s.Field("ips", &ips,
              "Look for IPv4 addresses (four dotted octets, 0-255, no leading "
              "zeros); counts them as pii.ips.");
      s.Field("only_public_ips", &only_public_ips,
              "Count and replace only globally reachable IPs (not 10.x, "
              "127.x, 192.168.x, 100.64/10 and other special ranges).");
      s.Field("replace", &replace,
              "Replace what was found with the placeholders below in the "
              "output text; false only measures.");
      s.Field("email_placeholders", &email_placeholders,
              "Replacements for email addresses, used in turn within each "
              "document; must not be empty.");
      s.Field("ip_placeholders", &ip_placeholders,
              "Replacements for IP addresses, used in turn within each "
              "document; must not be empty.");
    }
  };

  // Throws std::runtime_error when a placeholder list is empty.
  explicit Pii(const Options& options);
  ~Pii() override;
  Pii(const Pii&) = delete;
  Pii& operator=(const Pii&) = delete;

  std::string_view name() const override { return "pii"; }
  void Process(std::span<Document> docs) const override;

  struct Found {
    int64_t emails = 0;
    int64_t ips = 0;
    std::string text;  // with placeholders, when asked for and found any
  };
  // What Process() finds in `text`; with `want_text`, also the text with
  // what was found replaced (left empty when nothing was found).
  Found Find(std::string_view text, bool want_text) const;

  // Python's ipaddress.IPv4Address(address).is_global, for a host-order
  // address.
  static bool IsGlobalIpv4(uint32_t address);

 private:
  // Counts the IPs in `text` that pass the checks; when there are any and
  // `out` is given, appends `text` to it with them replaced.
  int64_t ReplaceIps(std::string_view text, std::string* out) const;

  Options options_;
  std::unique_ptr<const re2::RE2> email_;
  std::unique_ptr<const re2::RE2> dotted_numbers_;
};

}  // namespace needle
