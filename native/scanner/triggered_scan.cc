// Phase 2 without the Set pass (StreamScanner::ScanTriggered). Every match of a triggered rule
// contains an occurrence of one of its factors (pattern_facts.h), with at most `before` bytes of
// the match ahead of it and `after` bytes behind it (or, unbounded, only bytes of a known class).
// So an occurrence at h gives a span [lo, h] where a match through it can start and a bound `to`
// where it ends. Occurrences whose spans touch are merged, so every match starting in a span has
// its witness occurrence in that span and ends by the span's `to`. The rule's RE2 then runs over
// [start, to) with the whole window as context (RE2 reads the bytes around the range for \b, ^
// and $), and a match is kept only if it starts inside the span: that is exactly the leftmost
// match the whole-window search (ScanRule) would find next. Each rule thus sees the same matches
// in the same order, candidate cap included.
//
// The window is walked in blocks so that a rule that reaches its candidate cap stops early (and
// its prefilter buckets go quiet): a span is searched once no later occurrence can open a span
// that reaches back to it (the rule's frontier).
#include <algorithm>

#include "scanner.h"

namespace lacuna {
namespace {

constexpr size_t kBlock = 16 << 10;
constexpr size_t kMergeGap = 32;  // spans closer than this are searched as one
constexpr size_t kAnchoredStarts = 8;  // spans with at most this many starts are tried anchored
// A fingerprint position p reports factors starting at p - 12 at the earliest (16-position
// factors, 4-position fingerprints); 16 keeps a margin.
constexpr size_t kFingerprintReach = 16;

struct Span {
  size_t lo, hi;  // possible match starts
  size_t to;      // every match starting in [lo, hi] ends by here
};

struct Cursor {
  size_t pos = 0;  // where this rule's search continues (as ScanRule's pos)
  uint32_t considered = 0;
  bool done = false;
  size_t floor = 0;  // no future span starts below this (monotone frontier)
  size_t run_from = 0, run_to = 0;  // last after-bytes run measured: [run_from, run_to) all in it
  bool back_valid = false;          // last before-bytes run measured: back from back_at to back_start
  size_t back_at = 0, back_start = 0;
  std::vector<Span> spans;
};

size_t RunStart(const char* p, const ByteClass& k, size_t at, size_t floor) {
  size_t i = at;
  while (i > floor && k.test(static_cast<unsigned char>(p[i - 1]))) --i;
  return i;
}

size_t RunEnd(const char* p, size_t n, const ByteClass& k, size_t at) {
  size_t i = at;
  while (i < n && k.test(static_cast<unsigned char>(p[i]))) ++i;
  return i;
}

}  // namespace

void StreamScanner::ScanTriggered(const char* p, size_t n, uint64_t abs, uint64_t accept_to, uint32_t cap,
                                  std::vector<size_t>* newlines, bool* newlines_built) {
  const Prefilter& pf = rules_->prefilter_;
  std::vector<Cursor> cur(rules_->size());
  uint32_t active = 0;
  for (int b = 0; b < Prefilter::kBuckets; ++b)
    if (!pf.bucket_rules(b).empty()) active |= 1u << b;
  re2::StringPiece text(p, n);
  re2::StringPiece groups[16];
  std::vector<Prefilter::Hit> hits;

  // One candidate (ScanRule's loop body): false once the rule is done in this window.
  auto take = [&](size_t r, size_t mb, size_t me) {
    Cursor& c = cur[r];
    if (abs + mb >= accept_to) return c.done = true, false;
    if (abs + mb >= committed_) {
      Consider(r, p, n, mb, me, groups, newlines, newlines_built);
      if (cap && ++c.considered >= cap) {
        hits_[r].saturated = true;
        return c.done = true, false;
      }
    }
    c.pos = me > mb ? me : mb + 1;
    return true;
  };

  // Searches rule r's pending spans that lie wholly below `frontier`.
  auto drain = [&](size_t r, size_t frontier) {
    const RuleSet::Rule& rule = rules_->rules_[r];
    const int ng = std::min(rule.ngroups, 16);
    Cursor& c = cur[r];
    std::sort(c.spans.begin(), c.spans.end(), [](const Span& a, const Span& b) { return a.lo < b.lo; });
    size_t k = 0;
    while (k < c.spans.size() && !c.done) {
      Span s = c.spans[k];
      size_t j = k + 1;
      while (j < c.spans.size() && c.spans[j].lo <= s.hi + kMergeGap) {
        s.hi = std::max(s.hi, c.spans[j].hi);
        s.to = std::max(s.to, c.spans[j++].to);
      }
      if (s.hi >= frontier) break;
      k = j;
      // A match starting here lies in [from, to) and contains a string of the second set too.
      if (!rule.also.empty() && !rule.also.Within(p, std::max(s.lo, c.pos), s.to)) continue;
      while (!c.done) {
        size_t from = std::max(s.lo, c.pos);
        if (from > s.hi) break;
        size_t starts = s.hi - from + 1;
        // Every match searched for lies in [from, s.to).
        const RE2& re = rule.ForRange(s.to - from);
        if (starts <= kAnchoredStarts || starts * 64 < s.to - from) {
          // A few possible starts: try each, anchored (a failed attempt stops early, and a match
          // needs no reverse pass to find its start: cheaper than one unanchored search up to
          // about eight starts).
          size_t at = from;
          while (at <= s.hi && !re.Match(text, at, s.to, RE2::ANCHOR_START, groups, ng)) ++at;
          if (at > s.hi) break;
        } else if (!re.Match(text, from, s.to, RE2::UNANCHORED, groups, ng)) {
          break;
        }
        size_t mb = static_cast<size_t>(groups[0].data() - p);
        if (mb > s.hi) break;  // starts past the span: a later span holds it
        if (!take(r, mb, mb + groups[0].size())) break;
      }
    }
    c.spans.erase(c.spans.begin(), c.spans.begin() + static_cast<std::ptrdiff_t>(k));
    if (c.done) c.spans.clear();
  };

  for (size_t y0 = 0; y0 < n && active; y0 += kBlock) {
    size_t y1 = std::min(n, y0 + kBlock);
    hits.clear();
    pf.Scan(p, n, y0, y1, active, &hits);
    for (const Prefilter::Hit& h : hits) {
      Cursor& c = cur[h.rule];
      if (c.done || h.begin < c.pos) continue;
      const PatternFacts& facts = rules_->rules_[h.rule].facts;
      const Factor& f = *h.factor;
      size_t end = h.begin + f.cls.size();
      size_t lo;
      if (f.before != kUnboundedLen) {
        // Back over the factor's before-bytes, at most `before` of them.
        lo = RunStart(p, f.before_bytes, h.begin, std::max(h.begin > f.before ? h.begin - f.before : 0, c.pos));
      } else {
        // Back over the rule's before-bytes (one class for all its factors), stopping where the
        // previous walk began: if the run reaches there, it goes on to where that walk ended.
        bool chain = c.back_valid && c.back_at <= h.begin && c.back_at >= c.pos;
        size_t stop = chain ? c.back_at : c.pos;
        lo = RunStart(p, facts.before_bytes, h.begin, stop);
        if (chain && lo == stop) lo = c.back_start;
        c.back_valid = true;
        c.back_at = h.begin;
        c.back_start = lo;
      }
      // Forward over the rule's after-bytes (a superset of the factor's), remembering the run for
      // the next occurrence in it; a bounded factor stops `after` bytes on.
      if (end < c.run_from || end > c.run_to) c.run_from = end, c.run_to = RunEnd(p, n, facts.after_bytes, end);
      size_t to = f.after != kUnboundedLen ? std::min(c.run_to, end + f.after) : c.run_to;
      lo = std::max(lo, c.pos);
      // Too few bytes around the occurrence for the shortest match it can be part of: whatever
      // matches here is witnessed by another occurrence.
      if (to - lo < std::max<size_t>(f.min_len, f.cls.size())) continue;
      if (!c.spans.empty() && lo <= c.spans.back().hi + kMergeGap && lo >= c.spans.back().lo) {
        c.spans.back().hi = std::max(c.spans.back().hi, h.begin);
        c.spans.back().to = std::max(c.spans.back().to, to);
      } else {
        c.spans.push_back(Span{lo, h.begin, to});
      }
    }
    bool last = y1 == n;
    for (size_t r = 0; r < cur.size(); ++r) {
      Cursor& c = cur[r];
      if (c.done || c.spans.empty()) continue;
      size_t frontier = n + 1;
      if (!last) {
        const PatternFacts& f = rules_->rules_[r].facts;
        size_t reach = y1 > kFingerprintReach ? y1 - kFingerprintReach : 0;
        if (f.max_before != kUnboundedLen) frontier = reach > f.max_before ? reach - f.max_before : 0;
        else frontier = RunStart(p, f.before_bytes, reach, c.floor);
        c.floor = std::max(c.floor, frontier);
        frontier = c.floor;
      }
      drain(r, frontier);
    }
    for (int b = 0; b < Prefilter::kBuckets; ++b) {
      if (!(active & (1u << b))) continue;
      bool all_done = true;
      for (uint32_t r : pf.bucket_rules(b)) all_done = all_done && cur[r].done;
      if (all_done) active &= ~(1u << b);
    }
  }
}

}  // namespace lacuna
