#pragma once
// The tier step's write part for one shard (pipeline/tier_step.h): each
// document goes to exactly one file, its "place":
//
//   tiers/<tier>/<stem>.jsonl.zst        its highest tier, needle.tier set
//   rejected/<stem>.jsonl.zst            below the first tier (write_rejected)
//   staged/below_first_tier/<stem>...    below the first tier otherwise: kept
//                                        only so that `needle tune` can lift
//                                        it into a looser tier later
//
// The first time, the documents come from the annotate step's staged/kept
// and staged/rejected (with dedup's fates merged in), which are then
// deleted. Afterwards (`needle tune --write`) they come from the places
// themselves: OUT/tiers/done/<stem>.layout records which place holds each
// document, so a walk over the old places in document order restores the
// input order. A place whose document list is unchanged is neither read
// nor written; in the others only needle.tier (or the below_first_tier
// reason) changes, spliced in without parsing the JSON.
//
// Crash safety: new files are written as <file>.next, then the new marker
// is written as tiers/done/<stem>.next (the commit point), then the .next
// files are renamed over the old ones, places no longer used and staged/
// are deleted, and the marker is renamed to <stem>.layout. A run that
// finds a tiers/done/<stem>.next finishes that switch first; .next files
// without it are an unfinished attempt and are deleted. So after a SIGKILL
// at any point, the next run or tune sees either the old or the new files,
// whole.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/reason.h"
#include "pipeline/run_config.h"
#include "pipeline/shard.h"

namespace needle {

// Which place holds each document of a shard, in input order.
struct ShardLayout {
  // The places that hold at least one document: a tier name, or
  // kRejectedPlace / kBelowFirstTierPlace (tier names cannot hold ':').
  std::vector<std::string> places;
  std::vector<uint8_t> place_of;  // per document: an index into places
};

inline constexpr std::string_view kRejectedPlace = ":rejected";
inline constexpr std::string_view kBelowFirstTierPlace = ":below_first_tier";

// OUT/tiers/done/<stem>.layout: what the tier step last completed for a shard.
struct TierMarker {
  std::string key;        // identifies the tiering (TierShards' key)
  std::string annotated;  // the annotate output it was made from
  ShardLayout layout;
};

std::string TierMarkerBytes(const TierMarker& marker);
// nullopt for anything but a whole marker of this format.
std::optional<TierMarker> ParseTierMarker(std::string_view bytes);

// What the tier step decided for one shard.
struct ShardTiering {
  const RunConfig* config = nullptr;  // codec, level, write_rejected, dedup
  std::vector<std::string> tier_names;
  std::string out_dir;
  const Shard* shard = nullptr;
  std::string key;  // written into the marker
  // The shard's annotate output: its record (done/<stem>.json), hashed.
  std::string annotated;
  std::span<const int16_t> tiers;   // per document: highest tier, or -1
  std::span<const uint8_t> passed;  // per document: in staged/kept
  std::span<const Reason> reasons;  // per document, dedup's merged in
  // Compressed frames in flight at once for this shard (1 MiB of text
  // each): the parallelism inside one shard, and its memory.
  size_t frames_in_flight = 2;
};

// Whether the shard's marker records `key`, with no switch half done.
bool TierShardDone(const std::string& out_dir, const Shard& shard,
                   const std::string& key);

// Writes the shard's places for `tiering` (unless TierShardDone), crash-
// safely as described above. Throws std::runtime_error when the documents
// cannot be found (no staged/ and no valid marker) or a file is damaged.
void WriteTierShard(const ShardTiering& tiering);

// Deletes the folders of OUT/staged that are empty, and staged/ itself
// when it is: after the tier step, it holds at most below_first_tier/.
void RemoveEmptyStagedFolders(const std::string& out_dir);

}  // namespace needle
