#include "pipeline/dedup_index.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <vector>

#include "tests/test_util.h"

namespace needle {
namespace {

using testing::MakeTempDir;

constexpr size_t kBands = 4;

DedupOptions Options(const std::string& keep = "first") {
  DedupOptions options;
  options.bands = kBands;
  options.keep = keep;
  return options;
}

// A document whose keys match no other's: exact key (n, 0), band b's key
// n * 100 + b.
DedupDocument Unique(uint64_t n) {
  DedupDocument doc;
  doc.keys.exact_hi = n;
  for (size_t b = 0; b < kBands; ++b) doc.keys.bands[b] = n * 100 + b;
  return doc;
}

// `doc` with band `band`'s key taken from `other`: a near duplicate.
DedupDocument ShareBand(DedupDocument doc, const DedupDocument& other,
                        size_t band) {
  doc.keys.bands[band] = other.keys.bands[band];
  return doc;
}

DedupDocument WithLength(DedupDocument doc, uint64_t length) {
  doc.length = length;
  return doc;
}

DedupDocument WithQuality(DedupDocument doc, double quality) {
  doc.quality = quality;
  doc.has_quality = true;
  return doc;
}

std::vector<DedupDecision> Resolve(const DedupOptions& options,
                                   const std::vector<DedupDocument>& docs) {
  DedupIndex index(options, MakeTempDir());
  for (size_t i = 0; i < docs.size(); ++i) index.Add(i, docs[i]);
  return index.Resolve();
}

std::vector<uint64_t> KeptDocs(const std::vector<DedupDecision>& decisions) {
  std::vector<uint64_t> kept;
  kept.reserve(decisions.size());
  for (const DedupDecision& d : decisions) kept.push_back(d.kept_doc);
  return kept;
}

std::vector<uint64_t> ClusterSizes(
    const std::vector<DedupDecision>& decisions) {
  std::vector<uint64_t> sizes;
  sizes.reserve(decisions.size());
  for (const DedupDecision& d : decisions) sizes.push_back(d.cluster_size);
  return sizes;
}

std::vector<bool> ExactFlags(const std::vector<DedupDecision>& decisions) {
  std::vector<bool> exact;
  exact.reserve(decisions.size());
  for (const DedupDecision& d : decisions) exact.push_back(d.exact);
  return exact;
}

TEST(DedupIndexTest, KeepFirstKeepsTheSmallestDocNumber) {
  const DedupDocument a = Unique(1);
  const std::vector<DedupDocument> docs = {
      Unique(0), a, Unique(2), ShareBand(Unique(3), a, 2), Unique(4)};
  const auto decisions = Resolve(Options("first"), docs);
  EXPECT_EQ(KeptDocs(decisions), (std::vector<uint64_t>{0, 1, 2, 1, 4}));
  EXPECT_EQ(ClusterSizes(decisions), (std::vector<uint64_t>{1, 2, 1, 2, 1}));
  EXPECT_EQ(ExactFlags(decisions),
            (std::vector<bool>{false, false, false, false, false}));
}

TEST(DedupIndexTest, KeepLongestBreaksTiesByDocNumber) {
  const DedupDocument a = Unique(0);
  const std::vector<DedupDocument> docs = {
      WithLength(a, 5), WithLength(ShareBand(Unique(1), a, 0), 9),
      WithLength(ShareBand(Unique(2), a, 1), 9),
      WithLength(ShareBand(Unique(3), a, 3), 7)};
  const auto decisions = Resolve(Options("longest"), docs);
  EXPECT_EQ(KeptDocs(decisions), (std::vector<uint64_t>{1, 1, 1, 1}));
  EXPECT_EQ(ClusterSizes(decisions), (std::vector<uint64_t>{4, 4, 4, 4}));
}

TEST(DedupIndexTest, KeepHighestQualityIgnoresMissingScores) {
  const DedupDocument a = Unique(0);
  const DedupDocument b = Unique(10);
  const DedupDocument c = Unique(20);
  const std::vector<DedupDocument> docs = {
      // Cluster {0, 1, 2, 3}: doc 0 has no score; 2 and 3 tie at 0.8.
      a, WithQuality(ShareBand(Unique(1), a, 0), 0.5),
      WithQuality(ShareBand(Unique(2), a, 0), 0.8),
      WithQuality(ShareBand(Unique(3), a, 1), 0.8),
      // Cluster {4, 5}: no member has a score.
      b, ShareBand(Unique(5), b, 2),
      // Cluster {6, 7}: a negative score beats a missing one.
      c, WithQuality(ShareBand(Unique(7), c, 3), -1.0)};
  const auto decisions = Resolve(Options("highest_quality"), docs);
  EXPECT_EQ(KeptDocs(decisions),
            (std::vector<uint64_t>{2, 2, 2, 2, 4, 4, 7, 7}));
  EXPECT_EQ(ClusterSizes(decisions),
            (std::vector<uint64_t>{4, 4, 4, 4, 2, 2, 2, 2}));
}

TEST(DedupIndexTest, ExactFlagComparesWithTheKeptDocument) {
  const DedupDocument a = WithLength(Unique(0), 10);
  DedupDocument copy_of_a = Unique(1);  // same exact key and bands as a
  copy_of_a.keys = a.keys;
  const std::vector<DedupDocument> docs = {
      a, copy_of_a, ShareBand(Unique(2), a, 1), WithLength(Unique(3), 20)};
  auto decisions = Resolve(Options("first"), docs);
  EXPECT_EQ(KeptDocs(decisions), (std::vector<uint64_t>{0, 0, 0, 3}));
  EXPECT_EQ(ExactFlags(decisions),
            (std::vector<bool>{false, true, false, false}));

  // Kept by length, the near duplicate stays; both exact copies go, and
  // neither is an exact duplicate of the kept document.
  std::vector<DedupDocument> longer = docs;
  longer[2].length = 50;
  decisions = Resolve(Options("longest"), longer);
  EXPECT_EQ(KeptDocs(decisions), (std::vector<uint64_t>{2, 2, 2, 3}));
  EXPECT_EQ(ExactFlags(decisions),
            (std::vector<bool>{false, false, false, false}));
}

TEST(DedupIndexTest, ExactKeysMatchOnAll128Bits) {
  // Same high half, different low half: not duplicates.
  DedupDocument a = Unique(0);
  DedupDocument b = Unique(1);
  DedupDocument c = Unique(2);
  a.keys.exact_hi = b.keys.exact_hi = c.keys.exact_hi = 77;
  a.keys.exact_lo = 1;
  b.keys.exact_lo = 2;
  c.keys.exact_lo = 2;
  const auto decisions = Resolve(Options(), {a, b, c});
  EXPECT_EQ(KeptDocs(decisions), (std::vector<uint64_t>{0, 1, 1}));
  EXPECT_EQ(ExactFlags(decisions), (std::vector<bool>{false, false, true}));
}

TEST(DedupIndexTest, LinksAreTransitive) {
  // a ~ b in band 0, b ~ c in band 3; a and c share nothing.
  const DedupDocument a = Unique(0);
  const DedupDocument b = ShareBand(Unique(1), a, 0);
  const DedupDocument c = ShareBand(Unique(2), b, 3);
  const DedupDocument d = ShareBand(Unique(4), c, 1);
  const auto decisions = Resolve(Options(), {a, Unique(3), c, b, d});
  EXPECT_EQ(KeptDocs(decisions), (std::vector<uint64_t>{0, 1, 0, 0, 0}));
  EXPECT_EQ(ClusterSizes(decisions), (std::vector<uint64_t>{4, 1, 4, 4, 4}));
}

TEST(DedupIndexTest, DocumentsWithoutKeysStayAlone) {
  // All-zero keys would collide with each other; a document added without
  // keys takes no part.
  const DedupDocument zero;
  DedupIndex index(Options(), MakeTempDir());
  index.Add(0, zero);
  index.AddWithoutKeys(1);
  index.Add(2, zero);
  index.AddWithoutKeys(3);
  const auto decisions = index.Resolve();
  EXPECT_EQ(KeptDocs(decisions), (std::vector<uint64_t>{0, 1, 0, 3}));
  EXPECT_EQ(ClusterSizes(decisions), (std::vector<uint64_t>{2, 1, 2, 1}));
  EXPECT_EQ(ExactFlags(decisions),
            (std::vector<bool>{false, false, true, false}));
}

TEST(DedupIndexTest, EmptyIndexResolvesToNothing) {
  DedupIndex index(Options(), MakeTempDir());
  EXPECT_TRUE(index.Resolve().empty());
  EXPECT_EQ(index.spilled_bytes(), 0u);
}

// Random documents whose keys come from small ranges, so that they
// collide often, in chains, and some exact keys repeat.
std::vector<DedupDocument> RandomDocs(size_t count, uint64_t key_range,
                                      uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<uint64_t> key(0, key_range - 1);
  std::uniform_int_distribution<uint64_t> length(0, 20);
  std::uniform_int_distribution<int> quality(-1, 9);
  std::vector<DedupDocument> docs(count);
  for (DedupDocument& doc : docs) {
    doc.keys.exact_hi = key(rng) % 3;
    doc.keys.exact_lo = key(rng) * 4;  // rarely equal unless the range is small
    for (size_t b = 0; b < kBands; ++b) doc.keys.bands[b] = key(rng) * 31;
    doc.length = length(rng);
    const int q = quality(rng);
    if (q >= 0) {
      doc.quality = q / 10.0;
      doc.has_quality = true;
    }
  }
  return docs;
}

// The obvious clustering: link every pair that shares a band key or the
// whole exact key, then label components by repeated relaxation.
std::vector<DedupDecision> ReferenceResolve(
    const std::string& keep, const std::vector<DedupDocument>& docs) {
  const size_t n = docs.size();
  std::vector<size_t> label(n);
  for (size_t i = 0; i < n; ++i) label[i] = i;
  auto linked = [&](size_t i, size_t j) {
    const DedupKeys& a = docs[i].keys;
    const DedupKeys& b = docs[j].keys;
    if (a.exact_hi == b.exact_hi && a.exact_lo == b.exact_lo) return true;
    for (size_t band = 0; band < kBands; ++band) {
      if (a.bands[band] == b.bands[band]) return true;
    }
    return false;
  };
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t i = 0; i < n; ++i) {
      for (size_t j = 0; j < n; ++j) {
        if (label[j] < label[i] && linked(i, j)) {
          label[i] = label[j];
          changed = true;
        }
      }
    }
  }
  std::vector<DedupDecision> decisions(n);
  for (size_t i = 0; i < n; ++i) {
    std::vector<size_t> members;
    for (size_t j = 0; j < n; ++j) {
      if (label[j] == label[i]) members.push_back(j);
    }
    size_t best = members[0];
    for (const size_t m : members) {
      const DedupDocument& doc = docs[m];
      const DedupDocument& b = docs[best];
      if (keep == "longest" && doc.length > b.length) best = m;
      if (keep == "highest_quality" && doc.has_quality &&
          (!b.has_quality || doc.quality > b.quality)) {
        best = m;
      }
    }
    decisions[i].kept_doc = best;
    decisions[i].cluster_size = members.size();
    decisions[i].exact = best != i &&
                         docs[i].keys.exact_hi == docs[best].keys.exact_hi &&
                         docs[i].keys.exact_lo == docs[best].keys.exact_lo;
  }
  return decisions;
}

void ExpectSameDecisions(const std::vector<DedupDecision>& actual,
                         const std::vector<DedupDecision>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    EXPECT_EQ(actual[i].kept_doc, expected[i].kept_doc) << "doc " << i;
    EXPECT_EQ(actual[i].cluster_size, expected[i].cluster_size) << "doc " << i;
    EXPECT_EQ(actual[i].exact, expected[i].exact) << "doc " << i;
  }
}

TEST(DedupIndexTest, MatchesPairwiseReference) {
  const std::vector<DedupDocument> docs = RandomDocs(300, 1500, 1);
  for (const std::string keep : {"first", "longest", "highest_quality"}) {
    SCOPED_TRACE(keep);
    const auto expected = ReferenceResolve(keep, docs);
    // Some clusters, some of them chains, some exact duplicates.
    size_t clustered = 0;
    size_t exact = 0;
    for (const DedupDecision& d : expected) {
      clustered += d.cluster_size > 2;
      exact += d.exact;
    }
    ASSERT_GT(clustered, 10u);
    ASSERT_GT(exact, 0u);
    ExpectSameDecisions(Resolve(Options(keep), docs), expected);
  }
}

TEST(DedupIndexTest, SpillingGivesTheInMemoryResult) {
  const std::vector<DedupDocument> docs = RandomDocs(5000, 25000, 2);
  for (const std::string keep : {"first", "highest_quality"}) {
    SCOPED_TRACE(keep);
    DedupOptions in_memory = Options(keep);
    DedupIndex whole(in_memory, MakeTempDir());
    for (size_t i = 0; i < docs.size(); ++i) whole.Add(i, docs[i]);
    const auto expected = whole.Resolve();
    EXPECT_EQ(whole.spilled_bytes(), 0u);

    // 100 records per run: 250 runs, more than one merge can take.
    DedupOptions tiny = Options(keep);
    tiny.memory_limit_bytes = 1600;
    const std::string dir = MakeTempDir() + "/spill";
    {
      DedupIndex spilling(tiny, dir);
      for (size_t i = 0; i < docs.size(); ++i) spilling.Add(i, docs[i]);
      ExpectSameDecisions(spilling.Resolve(), expected);
      // Everything but the last buffer went to disk.
      const uint64_t record_bytes = docs.size() * (kBands + 1) * 16;
      EXPECT_LT(spilling.spilled_bytes(), record_bytes);
      EXPECT_GE(spilling.spilled_bytes(), record_bytes - 1600);
      EXPECT_FALSE(std::filesystem::is_empty(dir));
    }
    EXPECT_TRUE(std::filesystem::is_empty(dir)) << "run files left behind";
  }
}

}  // namespace
}  // namespace needle
