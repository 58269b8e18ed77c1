// The rule scanner: one RE2::Set pre-filter over all rules, then a position search for only
// the rules that fired (one pass of an alternation of all rules, with per-rule passes for what
// it shadows), then validators. With per-rule passes (a candidate cap, or Locate) a literal
// prefilter replaces the Set for rules whose patterns allow it (pattern_facts.h, prefilter.h).
// No N-API here (addon.cc and scan_worker.cc bind it).
//
// Life cycle, as for RE2::Set: RuleSet::Compile once (it reports the first bad rule by index);
// the compiled set is immutable and shared read-only by any number of scanners and threads.
// A StreamScanner is fed chunks and finds matches that cross chunk boundaries while holding at
// most kWindowBytes + kMaxMatch + kContext bytes of input, so memory is bounded whatever the file size.
#pragma once

#include <re2/re2.h>
#include <re2/set.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pattern_facts.h"
#include "prefilter.h"
#include "validators.h"

namespace lacuna {

struct RuleSpec {
  std::string id;
  std::string pattern;
  std::string validator;  // name understood by ParseValidator ("" = none)
  int group = 0;          // capture group the validator and distinct-counting look at
  double min_entropy = 0;
  std::vector<std::string> reject_before;  // lower-case words that void a match when adjacent
  std::vector<std::string> reject_after;
  // Labels carried through to located matches (the scanner itself never reads them).
  std::string type;
  std::string category;
};

struct CompileError {
  size_t index = 0;
  std::string id;
  std::string message;
};

class RuleSet {
 public:
  // Returns nullptr and fills *err when a rule does not parse, names an unknown validator, or
  // the set cannot be compiled (out of memory).
  static std::shared_ptr<const RuleSet> Compile(const std::vector<RuleSpec>& specs, CompileError* err);

  size_t size() const { return rules_.size(); }
  const RuleSpec& spec(size_t i) const { return rules_[i].spec; }

  RuleSet(const RuleSet&) = delete;
  RuleSet& operator=(const RuleSet&) = delete;

 private:
  friend class StreamScanner;
  struct Rule {
    RuleSpec spec;
    ValidatorKind validator;
    std::unique_ptr<RE2> re;
    int ngroups;
    PatternFacts facts;
    bool triggered = false;  // searched only around its factors (prefilter_); else over all text
    FactorCheck also;        // facts.also, checked before a span of a triggered rule is searched
    // A rule with a capture group: its pattern with long counted repetitions cut to
    // kShortRange (CapRepeats), which finds the same matches and submatches on a range that
    // short from a smaller program (RE2's submatch search costs in proportion to its size).
    std::unique_ptr<RE2> short_re;
    // The program to search a range of `len` bytes with.
    const RE2& ForRange(size_t len) const { return short_re && len <= kShortRange ? *short_re : *re; }
  };
  static constexpr uint32_t kShortRange = 32;
  RuleSet() = default;
  std::unique_ptr<RE2::Set> set_;
  // All rules as one alternation, in rule order: one DFA pass finds the next match of any
  // fired rule (phase 2) instead of one pass per fired rule.
  std::unique_ptr<RE2> any_;
  std::vector<Rule> rules_;
  Prefilter prefilter_;
  std::vector<size_t> untriggered_;
};

enum class ScanStatus { kOk, kOutOfMemory, kNotCompiled, kInconsistent, kBusy };

struct ScanOptions {
  // Bytes outside printable ASCII (and \t \r \n) act as line breaks: only printable runs can
  // match and line numbers are not reported.
  bool binary = false;
  // When > 0, a rule stops being located in a window after this many candidates there (its
  // count is then a lower bound and `saturated` is set). Classification needs a few validated
  // values per rule, not all ten thousand IPs of a log: this bounds the per-candidate cost.
  uint32_t candidate_cap = 0;
  // Locate rules only around their factors (prefilter.h). Results are the same either way; off
  // runs every rule over the whole window, the reference the tests compare with.
  bool prefilter = true;
};
const char* ScanStatusCode(ScanStatus s);

// One validated match (Locate): the rule and the byte range of the value its validator
// confirmed (the capture `group`, or the whole match), as absolute offsets in the input.
struct Match {
  uint32_t rule = 0;
  uint64_t begin = 0;
  uint64_t end = 0;
};

// A set of value hashes in one flat table (open addressing): one allocation as it grows instead
// of a node per value (a validated match inserts one; nodes were ~2% of a 64 KiB scan).
class HashSet {
 public:
  size_t size() const { return size_; }
  void insert(uint64_t h) {
    if (h == 0) {  // 0 marks a free slot: kept aside
      if (!zero_) zero_ = true, ++size_;
      return;
    }
    if ((size_ + 1) * 4 > slots_.size() * 3) Grow();
    if (Place(&slots_, h)) ++size_;
  }
  bool contains(uint64_t h) const {
    if (h == 0) return zero_;
    if (slots_.empty()) return false;
    for (size_t i = h & (slots_.size() - 1);; i = (i + 1) & (slots_.size() - 1)) {
      if (slots_[i] == h) return true;
      if (slots_[i] == 0) return false;
    }
  }
  bool operator==(const HashSet& o) const {
    if (size_ != o.size_ || zero_ != o.zero_) return false;
    for (uint64_t h : slots_)
      if (h && !o.contains(h)) return false;
    return true;
  }

 private:
  static bool Place(std::vector<uint64_t>* t, uint64_t h) {
    const size_t mask = t->size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      if ((*t)[i] == h) return false;
      if ((*t)[i] == 0) return (*t)[i] = h, true;
    }
  }
  void Grow() {
    std::vector<uint64_t> bigger(slots_.empty() ? 16 : slots_.size() * 2, 0);
    for (uint64_t h : slots_)
      if (h) Place(&bigger, h);
    slots_.swap(bigger);
  }
  std::vector<uint64_t> slots_;  // a power of two long, at most three quarters full
  size_t size_ = 0;
  bool zero_ = false;
};

struct RuleHits {
  static constexpr size_t kMaxLines = 5;
  static constexpr size_t kMaxDistinct = 1024;
  uint64_t count = 0;      // validated matches
  uint64_t rejected = 0;   // candidates the validator refused
  std::vector<uint64_t> lines;  // 1-based lines of the first kMaxLines matches (0 = unknown)
  HashSet distinct;  // hashes of distinct values, capped at kMaxDistinct
  bool saturated = false;  // candidate_cap was reached in some window: count is a lower bound
};

class StreamScanner {
 public:
  // A match may be at most kMaxMatch bytes long to be found across a chunk boundary; kContext
  // bytes of left context keep \b and line anchors right at the start of each window.
  static constexpr size_t kWindowBytes = 1 << 20;
  static constexpr size_t kMaxMatch = 4096;
  static constexpr size_t kContext = 1024;

  StreamScanner(std::shared_ptr<const RuleSet> rules, const ScanOptions& opts);

  ScanStatus Feed(const char* data, size_t n);
  // Marks a gap of n unscanned bytes (head/tail scanning of huge files): no match spans it,
  // and line numbers after it are unknown.
  ScanStatus Skip(uint64_t n);
  ScanStatus Finish();

  // Scans one buffer in place without copying it (unless binary).
  static ScanStatus ScanBuffer(std::shared_ptr<const RuleSet> rules, const char* data, size_t n,
                               const ScanOptions& opts, std::vector<RuleHits>* out);

  // Every validated match of one buffer, after validators and reject-before/after context,
  // sorted by (begin, rule). Each fired rule gets its own pass with no candidate cap, so
  // matches of different rules may overlap (an email inside a URL with credentials).
  static ScanStatus Locate(std::shared_ptr<const RuleSet> rules, const char* data, size_t n, bool binary,
                           std::vector<Match>* out, bool prefilter = true);

  const std::vector<RuleHits>& hits() const { return hits_; }
  uint64_t bytes_scanned() const { return bytes_scanned_; }
  bool finished() const { return finished_; }

 private:
  ScanStatus Process(const char* p, size_t n, uint64_t abs, bool final);
  // Runs one rule alone over the window (phase 2 for a rule the alternation pass shadowed).
  // Returns the number of candidates considered (stops at `budget` when > 0).
  uint32_t ScanRule(size_t idx, const char* p, size_t n, uint64_t abs, uint64_t accept_to, size_t from, uint32_t budget,
                    std::vector<size_t>* newlines, bool* newlines_built);
  // Phase 2 for the triggered rules: one prefilter pass, then each rule searched only where its
  // factors occur (same matches, in the same order, as ScanRule over the whole window).
  void ScanTriggered(const char* p, size_t n, uint64_t abs, uint64_t accept_to, uint32_t cap,
                     std::vector<size_t>* newlines, bool* newlines_built);
  void Consider(size_t idx, const char* p, size_t n, size_t mb, size_t me, const re2::StringPiece* groups,
                std::vector<size_t>* newlines, bool* newlines_built);
  ScanStatus Flush(bool final);
  void Record(size_t rule, const char* p, size_t n, size_t at, const Candidate& c,
              std::vector<size_t>* newlines, bool* newlines_built);

  std::shared_ptr<const RuleSet> rules_;
  ScanOptions opts_;
  std::vector<RuleHits> hits_;
  std::string buf_;          // unprocessed input plus carried context
  uint64_t buf_abs_ = 0;     // absolute offset of buf_[0]
  uint64_t committed_ = 0;   // matches starting before this absolute offset are done
  uint64_t line_at_buf_ = 1; // line number of buf_[0]; 0 once unknown
  uint64_t bytes_scanned_ = 0;
  bool finished_ = false;
  ValidatorParams params_;
  std::vector<Match>* sink_ = nullptr;  // set by Locate: validated matches are also listed here
  uint64_t window_abs_ = 0;             // absolute offset of the window Process is working on
};

}  // namespace lacuna
