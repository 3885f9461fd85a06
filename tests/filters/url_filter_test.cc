#include "filters/url_filter.h"

#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace needle {
namespace {

using testing::DataPath;
using testing::MakeTempDir;
using testing::WriteFile;

UrlFilter::Options WithLists() {
  UrlFilter::Options options;
  options.domains_file = DataPath("filters/url_domains.txt");
  options.patterns_file = DataPath("filters/url_patterns.txt");
  return options;
}

// One document per JSON line, which must outlive it; the text is
// irrelevant to the filter.
std::vector<Document> Docs(std::initializer_list<std::string_view> lines) {
  std::vector<Document> docs;
  for (std::string_view line : lines) {
    Document doc;
    doc.raw = line;
    doc.text = "text";
    docs.push_back(doc);
  }
  return docs;
}

std::string LineWithUrl(std::string_view url) {
  return R"({"text":"text","url":")" + std::string(url) + R"("})";
}

// Runs the filter on one document with `url`.
Document Filtered(const UrlFilter& filter, std::string_view url) {
  const std::string line = LineWithUrl(url);
  auto docs = Docs({line});
  filter.Process(docs);
  return docs[0];
}

std::string ErrorFor(const UrlFilter::Options& options) {
  try {
    UrlFilter filter(options);
  } catch (const std::runtime_error& error) {
    return error.what();
  }
  return "no error";
}

TEST(UrlFilterTest, HostDropsSchemeUserPortPathAndCase) {
  EXPECT_EQ(UrlFilter::Host("HTTPS://User:pw@WWW.Example.COM.:8080/a?b#c"),
            "www.example.com");
  EXPECT_EQ(UrlFilter::Host("//cdn.example.com/x.js"), "cdn.example.com");
  EXPECT_EQ(UrlFilter::Host("example.com/path"), "example.com");
  EXPECT_EQ(UrlFilter::Host("http://example.com?q=a/b"), "example.com");
  EXPECT_EQ(UrlFilter::Host("http://[2001:db8::1]:80/"), "[2001:db8::1]");
  EXPECT_EQ(UrlFilter::Host("http://例子。测试/"), "例子.测试");
  EXPECT_EQ(UrlFilter::Host(""), "");
}

TEST(UrlFilterTest, BlocksAListedDomainAndItsSubdomains) {
  const UrlFilter filter(WithLists());
  for (const char* url :
       {"http://example.com/", "https://EXAMPLE.com:443/page",
        "http://a.example.com/", "http://x.y.example.com/path",
        "http://example.com./", "https://blocked.org/",
        "http://www.blocked.org", "http://sub.allowed.net/",
        "http://deep.sub.allowed.net/"}) {
    const Document doc = Filtered(filter, url);
    EXPECT_EQ(doc.reason, Reason::kUrlBlockedDomain) << url;
    EXPECT_EQ(doc.reject_stage, "url_filter") << url;
  }
}

TEST(UrlFilterTest, LookAlikesAndParentsOfListedDomainsPass) {
  const UrlFilter filter(WithLists());
  for (const char* url :
       {"http://notexample.com/", "http://example.co/",
        "http://example.com.au/", "http://examplecom.net/",
        "http://allowed.net/", "http://other.allowed.net/",
        "http://commented.com/", "http://good.org/example.com",
        "http://good.org/?u=example.com"}) {
    EXPECT_TRUE(Filtered(filter, url).ok()) << url;
  }
}

TEST(UrlFilterTest, RecordsTheNormalizedHostAsDomain) {
  const Document doc =
      Filtered(UrlFilter(UrlFilter::Options()), "HTTP://News.Example.ORG:80/x");
  EXPECT_TRUE(doc.ok());
  ASSERT_NE(doc.FindSignal<std::string>("url.domain"), nullptr);
  EXPECT_EQ(*doc.FindSignal<std::string>("url.domain"), "news.example.org");
}

TEST(UrlFilterTest, BlocksUrlsMatchingAPatternIgnoringCase) {
  const UrlFilter filter(WithLists());
  const Document casino = Filtered(filter, "http://games.net/Casino-Royale");
  EXPECT_EQ(casino.reason, Reason::kUrlBlockedPattern);
  ASSERT_NE(casino.FindSignal<std::string>("url.pattern"), nullptr);
  EXPECT_EQ(*casino.FindSignal<std::string>("url.pattern"), "casino");
  EXPECT_EQ(Filtered(filter, "http://blog.net/wp-admin/x").reason,
            Reason::kUrlBlockedPattern);
  EXPECT_EQ(Filtered(filter, "http://files.net/SETUP.EXE").reason,
            Reason::kUrlBlockedPattern);
  // The anchored pattern: ".exe" not at the end.
  EXPECT_TRUE(Filtered(filter, "http://files.net/setup.exe.html").ok());
  EXPECT_TRUE(Filtered(filter, "http://blog.net/wp-admin").ok());
}

TEST(UrlFilterTest, ReportsTheEarliestMatchingPatternLine) {
  const Document doc =
      Filtered(UrlFilter(WithLists()), "http://casino.net/wp-admin/a.exe");
  EXPECT_EQ(*doc.FindSignal<std::string>("url.pattern"), "casino");
}

TEST(UrlFilterTest, DomainIsCheckedBeforePatterns) {
  const Document doc =
      Filtered(UrlFilter(WithLists()), "http://a.example.com/casino");
  EXPECT_EQ(doc.reason, Reason::kUrlBlockedDomain);
  // Both were measured before the decision.
  EXPECT_EQ(*doc.FindSignal<std::string>("url.domain"), "a.example.com");
  EXPECT_EQ(*doc.FindSignal<std::string>("url.pattern"), "casino");
}

TEST(UrlFilterTest, DocumentsWithoutAStringUrlPassWithoutSignals) {
  const UrlFilter filter(WithLists());
  auto docs = Docs({R"({"text":"text"})", R"({"text":"text","url":42})",
                    R"({"text":"text","url":null})",
                    R"({"text":"text","url":{"href":"http://example.com"}})",
                    R"({"text":"text","url":""})",
                    R"({"text":"text","URL":"http://example.com"})"});
  filter.Process(docs);
  for (const Document& doc : docs) {
    EXPECT_TRUE(doc.ok()) << doc.raw;
    EXPECT_TRUE(doc.signals.empty()) << doc.raw;
  }
}

TEST(UrlFilterTest, ReadsTheConfiguredFieldUnescaped) {
  UrlFilter::Options options = WithLists();
  options.url_field = "link";
  auto docs =
      Docs({R"({"url":"http://good.org","link":"http:\/\/example.com\/"})",
            R"({"url":"http://example.com","link":"http://good.org"})"});
  UrlFilter(options).Process(docs);
  EXPECT_EQ(docs[0].reason, Reason::kUrlBlockedDomain);
  EXPECT_TRUE(docs[1].ok());
}

TEST(UrlFilterTest, SkipsDocumentsAlreadyRejected) {
  const std::string line = LineWithUrl("http://example.com/");
  auto docs = Docs({line});
  docs[0].reason = Reason::kTooShort;
  UrlFilter(WithLists()).Process(docs);
  EXPECT_EQ(docs[0].reason, Reason::kTooShort);
  EXPECT_TRUE(docs[0].signals.empty());
}

TEST(UrlFilterTest, OddUrlsNeverCrash) {
  const UrlFilter filter(WithLists());
  const std::string long_url = "http://a.net/" + std::string(1 << 20, 'x');
  for (const std::string& url :
       {std::string(" "), std::string("://"), std::string("@@@"),
        std::string("http://"), std::string("[::1"), std::string("...."),
        std::string("http://例え.jp/パス"), long_url}) {
    EXPECT_TRUE(Filtered(filter, url).ok()) << url.substr(0, 40);
  }
}

TEST(UrlFilterTest, AnInvalidPatternNamesItsLine) {
  UrlFilter::Options options;
  options.patterns_file = DataPath("filters/url_patterns_bad.txt");
  EXPECT_EQ(
      ErrorFor(options),
      options.patterns_file + ":3: invalid RE2 pattern 'a(b': missing ): a(b");
}

TEST(UrlFilterTest, AUrlInTheDomainListNamesItsLine) {
  UrlFilter::Options options;
  options.domains_file = DataPath("filters/url_domains_bad.txt");
  EXPECT_EQ(ErrorFor(options),
            options.domains_file +
                ":3: expected a domain, got the URL "
                "'https://example.org/page'; list its host alone");
}

TEST(UrlFilterTest, BadDomainLinesSayWhatIsWrong) {
  const std::string path = MakeTempDir() + "/domains.txt";
  UrlFilter::Options options;
  options.domains_file = path;
  WriteFile(path, "ok.com\nexample.com # adult\n");
  EXPECT_EQ(
      ErrorFor(options),
      path + ":2: expected one domain per line, got 'example.com # adult'");
  WriteFile(path, "bad*.com\n");
  EXPECT_EQ(ErrorFor(options),
            path + ":1: unexpected character '*' in domain 'bad*.com'");
  WriteFile(path, "\n.example.com\n");
  EXPECT_EQ(ErrorFor(options),
            path + ":2: empty label in domain '.example.com'");
}

TEST(UrlFilterTest, AMissingListFileIsAnError) {
  UrlFilter::Options options;
  options.domains_file = "/nonexistent/domains.txt";
  EXPECT_EQ(ErrorFor(options),
            "url_filter: cannot read domains_file /nonexistent/domains.txt: "
            "No such file or directory");
}

}  // namespace
}  // namespace needle
