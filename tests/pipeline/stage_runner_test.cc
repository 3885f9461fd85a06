#include "pipeline/stage_runner.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace needle {
namespace {

// Records a signal on every document and rejects those whose text is
// "reject"; throws on the text "boom", after touching the batch.
class ExampleStage final : public Stage {
 public:
  std::string_view name() const override { return "example"; }
  void Process(std::span<Document> docs) const override {
    for (Document& doc : docs) {
      if (!doc.ok()) continue;
      doc.signals.push_back({"seen", int64_t{1}});
      if (doc.text == "boom") throw std::runtime_error("cannot handle boom");
      if (doc.text == "reject") Reject(doc, Reason::kTooShort);
    }
  }
};

Batch BatchOf(std::initializer_list<std::string_view> texts) {
  Batch batch;
  for (std::string_view text : texts) {
    Document doc;
    doc.text = text;
    batch.docs.push_back(doc);
  }
  return batch;
}

std::vector<std::unique_ptr<Stage>> Chain() {
  std::vector<std::unique_ptr<Stage>> stages;
  stages.push_back(std::make_unique<ExampleStage>());
  return stages;
}

TEST(StageRunnerTest, CountsDocumentsInOutAndRejectsByReason) {
  Batch batch = BatchOf({"a", "reject", "b"});
  batch.docs[2].reason = Reason::kBadJson;  // not for stages
  RunStages(Chain(), &batch);
  const StageCounters& counters = batch.counters.stages.at(0);
  EXPECT_EQ(counters.name, "example");
  EXPECT_EQ(counters.docs_in, 2u);
  EXPECT_EQ(counters.docs_out, 1u);
  EXPECT_EQ(counters.rejects[static_cast<int>(Reason::kTooShort)], 1u);
  EXPECT_EQ(batch.docs[0].signals.size(), 1u);
  EXPECT_TRUE(batch.docs[2].signals.empty());
}

TEST(StageRunnerTest, IsolatesTheDocumentThatThrows) {
  Batch batch = BatchOf({"a", "boom", "reject", "b"});
  RunStages(Chain(), &batch);
  EXPECT_EQ(batch.docs[0].reason, Reason::kOk);
  EXPECT_EQ(batch.docs[1].reason, Reason::kStageError);
  EXPECT_EQ(batch.docs[1].detail, "example: cannot handle boom");
  EXPECT_EQ(batch.docs[1].reject_stage, "example");
  EXPECT_EQ(batch.docs[2].reason, Reason::kTooShort);
  EXPECT_EQ(batch.docs[3].reason, Reason::kOk);
  // The failed batch pass was undone: each document saw the stage once.
  EXPECT_EQ(batch.docs[0].signals.size(), 1u);
  EXPECT_EQ(batch.docs[3].signals.size(), 1u);
  EXPECT_TRUE(batch.docs[1].signals.empty());
  const StageCounters& counters = batch.counters.stages.at(0);
  EXPECT_EQ(counters.docs_out, 2u);
  EXPECT_EQ(counters.rejects[static_cast<int>(Reason::kStageError)], 1u);
}

}  // namespace
}  // namespace needle
