// What every match of a rule pattern must look like, worked out once at compile time so the
// scanner can skip text where a rule cannot match (see prefilter.h): the bytes a match may
// contain, its length bounds, and a set of short byte-class strings ("factors") one of which
// every match contains. Everything here over-approximates what RE2 can match: a factor or byte
// class may let through text that cannot match, never the reverse. A pattern using syntax this
// analysis does not know comes back not `understood`, and its rule is then run over all text.
#pragma once

#include <bitset>
#include <cstdint>
#include <string>
#include <vector>

namespace lacuna {

using ByteClass = std::bitset<256>;
using ClassString = std::vector<ByteClass>;
constexpr uint32_t kUnboundedLen = UINT32_MAX;

// A factor and where it sits in a match: every match contains an occurrence of one factor of its
// pattern with at most `before` bytes of the match before it (all in before_bytes), at most
// `after` bytes after it (all in after_bytes), and is at least `min_len` bytes long in all.
// kUnboundedLen: no length bound, only the bytes. min_len tells apart the factors of different
// alternatives: a factor of `(?:h{1,4}:){7}h{1,4}` stands for matches of 15 bytes or more, so an
// occurrence with fewer possible bytes around it (a time of day) cannot be part of one.
struct Factor {
  ClassString cls;
  uint32_t before = 0;
  uint32_t after = 0;
  ByteClass before_bytes;
  ByteClass after_bytes;
  uint32_t min_len = 0;  // 0: only the factor's own length is known
  // A \b holds where the factor starts (`\b[0-9]{13}`: a digit run's first digit, not the
  // twelve after it).
  bool word_boundary = false;
};

struct PatternFacts {
  bool understood = false;             // false: nothing below may be relied on
  uint32_t min_len = 0;
  uint32_t max_len = kUnboundedLen;
  ByteClass bytes;                     // every byte a match can contain
  std::vector<Factor> factors;         // every match contains one of these; empty = none usable
  double rarity = 0;                   // estimated -log2 frequency of the commonest factor in text
  uint32_t max_before = 0;             // the largest `before` of the factors
  ByteClass before_bytes;              // union of the factors' before_bytes
  ByteClass after_bytes;               // union of the factors' after_bytes
  // A second set every match also contains, from other parts of the pattern than `factors`
  // (`nda` where the factors are `under`...); empty when there is none worth checking.
  std::vector<Factor> also;
};

// Parses `pattern` as RE2 syntax compiled with Latin-1 encoding (each pattern byte is one
// character, as the scanner compiles it).
PatternFacts AnalysePattern(const std::string& pattern);

// The pattern with every counted repetition {m,n} of a part that cannot match empty cut to
// {m,max(m,k)}. Searched over a range of at most k bytes, it finds the same matches with the same
// submatches as `pattern` (the scanner uses it on short spans). "" when the pattern is not
// understood or nothing would change.
std::string CapRepeats(const std::string& pattern, uint32_t k);

// -log2 of the estimated frequency of a byte class at one position of typical text.
double ClassRarity(const ByteClass& c);
// The same for positions [off, off + len) of a factor, runs of one class discounted.
double FingerprintRarity(const ClassString& s, size_t off, size_t len);

}  // namespace lacuna
