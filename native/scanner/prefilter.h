// One pass over a window that reports every occurrence of every rule's factors (pattern_facts.h):
// the places where a rule can match at all. Factors are grouped into 32 buckets; each position
// gets a bucket mask from four consecutive bytes (the rarest 4-position stretch of each factor)
// looked up in per-position tables (AVX-512 VBMI: 64 positions at a time through 128-entry
// tables; AVX2: 32 at a time through nibble tables; else one by one). A position that passes is
// checked on eight positions through exact tables (two separators of a phone number are five
// apart: dates and IPs pass four positions of its fingerprint, not eight), and a set bit is then
// confirmed against the whole factor. A bucket can be switched off mid-scan when all
// its rules are done (saturated), so the commonest triggers stop costing once they have served.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "pattern_facts.h"

namespace lacuna {

class Prefilter {
 public:
  // One confirmed occurrence: `factor` (of rule `rule`) occupies [begin, begin + factor->cls.size()).
  struct Hit {
    uint32_t rule;
    const Factor* factor;
    size_t begin;
  };

  // Factors per rule (an empty list: the rule is not searched for). The factors must outlive
  // this object (they are the rule set's own).
  void Build(const std::vector<const std::vector<Factor>*>& factors_by_rule);
  bool empty() const { return factors_.empty(); }
  // Rules whose factors sit in bucket b.
  static constexpr int kBuckets = 32;
  static constexpr int kHalves = kBuckets / 8;  // 8-bit nibble-table lanes per bucket group
  static constexpr int kFp = 4;  // fingerprint positions (the SIMD pass)
  static constexpr int kExact = 8;  // positions of the exact check after it
  const std::vector<uint32_t>& bucket_rules(int b) const { return bucket_rules_[b]; }

  // Scans fingerprint positions [from, to) of p[0, n) and appends confirmed hits (in position
  // order of the fingerprint) for buckets set in `active`.
  void Scan(const char* p, size_t n, size_t from, size_t to, uint32_t active, std::vector<Hit>* out) const;

 private:
  void Confirm(const char* p, size_t n, size_t pos, uint32_t mask, std::vector<Hit>* out) const;
  // Bucket bits of `active` whose tables allow the bytes at pos - 1 .. pos + kExact - 1 (bytes
  // past either end are wildcards).
  uint32_t Exact(const unsigned char* u, size_t n, size_t pos, uint32_t active) const {
    if (pos > 0) active &= prev_[u[pos - 1]];
    if (pos + kExact <= n) {
      uint32_t m = active & exact_[0][u[pos]] & exact_[1][u[pos + 1]] & exact_[2][u[pos + 2]] & exact_[3][u[pos + 3]];
      if (!m) return 0;
      return m & exact_[4][u[pos + 4]] & exact_[5][u[pos + 5]] & exact_[6][u[pos + 6]] & exact_[7][u[pos + 7]];
    }
    for (size_t j = 0; j < kExact && pos + j < n && active; ++j) active &= exact_[j][u[pos + j]];
    return active;
  }
  size_t ScanScalar(const char* p, size_t n, size_t from, size_t to, uint32_t active, std::vector<Hit>* out) const;
  size_t ScanAvx2(const char* p, size_t n, size_t from, size_t to, uint32_t active, std::vector<Hit>* out) const;
  size_t ScanVbmi(const char* p, size_t n, size_t from, size_t to, uint32_t active, std::vector<Hit>* out) const;

  struct Entry {
    uint32_t rule;
    const Factor* factor;
    const ByteClass* cls;  // factor->cls.data(), one indirection less when confirming
    uint32_t len;
    uint32_t fp_off;  // offset of the fingerprint inside the factor
    uint8_t left;     // the byte before the factor: 0 any, 1 not a word byte (or none), 2 a word byte
    uint32_t tail;    // bytes after the factor every match through it holds (in its after_bytes)
  };
  std::vector<Entry> factors_;
  // Factors of each bucket by the byte at their fingerprint's first position, so a candidate
  // position is confirmed against the few factors that byte can start: the factor indexes of
  // (bucket b, byte c) are first_list_[first_at_[b][c] .. first_at_[b][c + 1]). Flat, so the
  // index stays in cache.
  std::vector<uint32_t> first_list_;
  uint32_t first_at_[kBuckets][257] = {};
  std::vector<uint32_t> bucket_rules_[kBuckets];
  // Exact: bucket bits of factors whose position fingerprint + j allows the byte (every byte where
  // the factor has ended).
  uint32_t exact_[kExact][256] = {};
  // The byte before the fingerprint: the factor's own byte there, or what a \b at the factor's
  // start allows (a digit run's first digit follows a non-word byte).
  uint32_t prev_[256] = {};
  uint8_t lo_[kHalves][kFp][16] = {}, hi_[kHalves][kFp][16] = {};  // nibble tables (over-approximate exact_)
  // Per bucket group: a 128-entry table (AVX-512 VBMI looks up 128 entries at once) indexed by
  // the low 7 bits, so a byte and its high-bit twin share an entry (over-approximating both).
  alignas(64) uint8_t low_[kHalves][kFp][128] = {};
  // The same for the byte before the fingerprint (prev_), so that the inside of a digit run
  // does not reach the scalar check.
  alignas(64) uint8_t low_prev_[kHalves][128] = {};
};

// Whether a string of a small factor set occurs wholly inside [lo, to): a rule's second factor
// set (PatternFacts::also), checked before a span is searched, so that the common half of a
// phrase (`under`, `"value":`) costs no search where its rare half is missing. Each string is
// looked for from its rarest position.
class FactorCheck {
 public:
  void Build(const std::vector<Factor>& set);
  bool empty() const { return strings_.empty(); }
  bool Within(const char* p, size_t lo, size_t to) const;

 private:
  struct Str {
    const ByteClass* cls;
    uint32_t len;
    uint32_t anchor;  // the position looked for first
  };
  std::vector<Str> strings_;
  bool anchor_byte_[256] = {};
};

// For tests: which scan runs (0: best available, 1: portable, 2: AVX2 at most).
void PrefilterForceLevel(int level);

}  // namespace lacuna
