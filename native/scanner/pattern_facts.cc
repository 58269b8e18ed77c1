// A small parser for the RE2 syntax subset rules use, computing per node: length bounds, the
// bytes a match may contain, the exact set of strings when it is small, and the best necessary
// factor set. Exact sets and factors are strings of byte classes (a case-insensitive letter is
// one class of two bytes). Anything unusual (\p, \Q, [[:alpha:]], octal, backreference-looking
// escapes) makes the whole pattern "not understood": its rule then scans all text, which is
// always correct.
#include "pattern_facts.h"

#include <algorithm>
#include <cmath>

namespace lacuna {
namespace {

constexpr size_t kMaxSet = 16;       // strings in an exact or factor set
constexpr size_t kMaxExactLen = 64;  // positions of a string in an exact set
constexpr size_t kMaxFactorLen = 16; // positions of a factor (longer ones are cut to a prefix)
// A second factor set worth checking before a search: about a word's worth of letters.
constexpr double kMinAlsoRarity = 12;

using Set = std::vector<Factor>;

struct Info {
  uint32_t min = 0, max = 0;
  ByteClass bytes;
  bool exact = false;
  Set ex;   // when exact: every string the node can match (no context)
  Set req;  // every match contains one of these (empty: nothing known)
  // Every match starts with one of `pre` and ends with one of `suf` (empty: nothing known);
  // they let a factor run on across a part that is not exact ("h:" then ":h" gives "h::h").
  Set pre, suf;
  // A second factor set from parts of a concatenation that the one in `req` does not cover
  // (empty: none): every match contains one of these too.
  Set also;
};

uint32_t SatAdd(uint32_t a, uint32_t b) { return (a == kUnboundedLen || b == kUnboundedLen || a + b < a) ? kUnboundedLen : a + b; }
uint32_t SatMul(uint32_t a, uint32_t k) {
  if (k == 0 || a == 0) return 0;
  if (a == kUnboundedLen || k == kUnboundedLen) return kUnboundedLen;
  uint64_t r = static_cast<uint64_t>(a) * k;
  return r >= kUnboundedLen ? kUnboundedLen : static_cast<uint32_t>(r);
}

// Estimated frequency of each byte in mixed text (prose, code, logs); only the ordering matters.
// Built once (a function-local static: thread-safe, rule sets may compile on several threads).
const double* ByteFreq() {
  struct Table {
    double f[256];
    Table() {
      for (int b = 0; b < 256; ++b) f[b] = b >= 0x80 ? 0.0005 : (b < 0x20 ? 0.0001 : 0.001);
      const char* lower = "etaoinsrhldcumfpgwybvkxjqz";
      const double lf[] = {.07, .05, .05, .05, .045, .045, .04, .04, .03, .025, .025, .02, .02,
                           .015, .012, .012, .01, .01, .01, .008, .006, .004, .001, .001, .001, .001};
      for (int i = 0; i < 26; ++i) {
        f[static_cast<unsigned char>(lower[i])] = lf[i];
        f[static_cast<unsigned char>(lower[i] - 32)] = lf[i] / 4;
      }
      for (int d = '0'; d <= '9'; ++d) f[d] = 0.02;
      f[' '] = 0.12;
      f['\n'] = 0.02;
      f['\t'] = 0.005;
      for (char c : std::string(".,")) f[static_cast<unsigned char>(c)] = 0.01;
      for (char c : std::string("\"':=-_/()")) f[static_cast<unsigned char>(c)] = 0.004;
      for (char c : std::string("@+#")) f[static_cast<unsigned char>(c)] = 0.0005;
    }
  };
  static const Table table;
  return table.f;
}

// Text is not random: digits and letters come in runs, so a position with the same wide class
// as the one before it (a digit after a digit) adds only half its rarity.
double StringRarity(const ClassString& s) {
  double r = 0;
  for (size_t i = 0; i < s.size(); ++i)
    r += ClassRarity(s[i]) * (i > 0 && s[i] == s[i - 1] && s[i].count() > 2 ? 0.5 : 1);
  return r;
}

ByteClass Word();

// A \b before a factor constrains the byte before it too: a digit run's first digit follows a
// non-word byte.
double BoundaryRarity(const Factor& f) {
  if (!f.word_boundary || f.cls.empty()) return 0;
  const ByteClass w = Word();
  if ((f.cls[0] & ~w).none()) return ClassRarity(~w);
  if ((f.cls[0] & w).none()) return ClassRarity(w);
  return 0;
}

double SetRarity(const Set& s) {
  if (s.empty()) return 0;
  double r = 1e9;
  for (const auto& x : s) r = std::min(r, x.cls.empty() ? 0.0 : StringRarity(x.cls) + BoundaryRarity(x));
  return r;
}

ByteClass Union(const ClassString& s, size_t from, size_t to) {
  ByteClass u;
  for (size_t i = from; i < to && i < s.size(); ++i) u |= s[i];
  return u;
}

// Puts a factor inside a larger match: `before` more bytes may precede it, `after` follow it.
void Widen(Factor* f, uint32_t before, const ByteClass& before_bytes, uint32_t after, const ByteClass& after_bytes) {
  f->before = SatAdd(f->before, before);
  f->before_bytes |= before_bytes;
  f->after = SatAdd(f->after, after);
  f->after_bytes |= after_bytes;
}

Set Widened(Set s, uint32_t before, const ByteClass& before_bytes, uint32_t after, const ByteClass& after_bytes) {
  for (auto& f : s) Widen(&f, before, before_bytes, after, after_bytes);
  return s;
}

// Every match of a node is at least `len` long, so is every match its factors stand for.
void RaiseMinLen(Set* s, uint32_t len) {
  for (auto& f : *s) f.min_len = std::max(f.min_len, len);
}

// Offset at which every text matching `a` contains a match of `b` (b a class-wise substring of
// a), or -1. Then `a` adds nothing to a factor set that holds `b`.
long Implies(const ClassString& a, const ClassString& b) {
  if (b.size() > a.size()) return -1;
  for (size_t o = 0; o + b.size() <= a.size(); ++o) {
    bool all = true;
    for (size_t j = 0; j < b.size() && all; ++j) all = (a[o + j] & ~b[j]).none();
    if (all) return static_cast<long>(o);
  }
  return -1;
}

// `keep` stands in for `gone`, found inside it at `off`: its context grows by what surrounds it.
void Absorb(Factor* keep, const Factor& gone, size_t off) {
  size_t tail = gone.cls.size() - off - keep->cls.size();
  keep->before = std::max(keep->before, SatAdd(gone.before, static_cast<uint32_t>(off)));
  keep->before_bytes |= gone.before_bytes | Union(gone.cls, 0, off);
  keep->after = std::max(keep->after, SatAdd(gone.after, static_cast<uint32_t>(tail)));
  keep->after_bytes |= gone.after_bytes | Union(gone.cls, off + keep->cls.size(), gone.cls.size());
  keep->min_len = std::min(keep->min_len, gone.min_len);
  keep->word_boundary = keep->word_boundary && off == 0 && gone.word_boundary;
}

void Dedupe(Set* s) {
  std::vector<bool> gone(s->size(), false);
  for (size_t i = 0; i < s->size(); ++i) {
    for (size_t j = 0; j < s->size(); ++j) {
      if (i == j || gone[j]) continue;
      long off = Implies((*s)[i].cls, (*s)[j].cls);
      if (off < 0) continue;
      // A factor standing for longer matches stays itself (its min_len gates occurrences).
      if ((*s)[i].min_len < (*s)[j].min_len) continue;
      // Equal strings imply each other: the first one stays.
      if (Implies((*s)[j].cls, (*s)[i].cls) >= 0 && j > i) continue;
      Absorb(&(*s)[j], (*s)[i], static_cast<size_t>(off));
      gone[i] = true;
      break;
    }
  }
  Set out;
  for (size_t i = 0; i < s->size(); ++i)
    if (!gone[i]) out.push_back(std::move((*s)[i]));
  *s = std::move(out);
}

// Cuts a factor to its first `len` positions; the rest joins what follows it.
void Truncate(Factor* f, size_t len) {
  if (f->cls.size() <= len) return;
  f->min_len = std::max(f->min_len, static_cast<uint32_t>(f->cls.size()));
  f->after = SatAdd(f->after, static_cast<uint32_t>(f->cls.size() - len));
  f->after_bytes |= Union(f->cls, len, f->cls.size());
  f->cls.resize(len);
}

// A factor set small enough to search for: strings cut to a prefix of kMaxFactorLen, then to
// the shortest length, then merged position-wise into one string. Each step keeps it necessary.
Set ShrinkFactors(Set s) {
  for (auto& x : s) Truncate(&x, kMaxFactorLen);
  Dedupe(&s);
  if (s.size() > kMaxSet) {
    size_t shortest = kMaxFactorLen;
    for (const auto& x : s) shortest = std::min(shortest, x.cls.size());
    for (auto& x : s) Truncate(&x, shortest);
    Dedupe(&s);
  }
  if (s.size() > kMaxSet) {
    Factor merged = s[0];
    for (const auto& x : s) {
      for (size_t j = 0; j < merged.cls.size(); ++j) merged.cls[j] |= x.cls[j];
      merged.before = std::max(merged.before, x.before);
      merged.after = std::max(merged.after, x.after);
      merged.before_bytes |= x.before_bytes;
      merged.after_bytes |= x.after_bytes;
      merged.min_len = std::min(merged.min_len, x.min_len);
      merged.word_boundary = merged.word_boundary && x.word_boundary;
    }
    s = {merged};
  }
  for (const auto& x : s)
    if (x.cls.empty()) return {};
  return s;
}

Set Better(const Set& a, const Set& b) { return SetRarity(b) > SetRarity(a) ? b : a; }

Set AsFactors(const Info& x) {
  if (!x.exact) return x.req;
  return Better(x.req, ShrinkFactors(x.ex));
}

// Concatenation of two exact sets, or false when it would be too large.
bool Product(const Set& a, const Set& b, Set* out) {
  if (a.size() * b.size() > kMaxSet) return false;
  Set r;
  for (const auto& x : a)
    for (const auto& y : b) {
      if (x.cls.size() + y.cls.size() > kMaxExactLen) return false;
      Factor z;
      z.cls = x.cls;
      z.cls.insert(z.cls.end(), y.cls.begin(), y.cls.end());
      z.word_boundary = x.word_boundary || (x.cls.empty() && y.word_boundary);
      r.push_back(std::move(z));
    }
  *out = std::move(r);
  return true;
}

// Keeps the first (or, for suffixes, the last) kMaxFactorLen positions of each string.
Set Clip(Set s, bool keep_end) {
  for (auto& x : s)
    if (x.cls.size() > kMaxFactorLen) {
      if (keep_end) x.cls.erase(x.cls.begin(), x.cls.end() - kMaxFactorLen), x.word_boundary = false;
      else x.cls.resize(kMaxFactorLen);
    }
  return s;
}

const Set& Starts(const Info& x) { return x.exact ? x.ex : x.pre; }
const Set& Ends(const Info& x) { return x.exact ? x.ex : x.suf; }

Info Empty() {
  Info i;
  i.exact = true;
  i.ex = {Factor()};
  return i;
}

// \b: matches nothing, and says so of the string that follows it.
Info WordBoundary() {
  Info i = Empty();
  i.ex[0].word_boundary = true;
  return i;
}

Info OneClass(const ByteClass& c) {
  Info i;
  i.min = i.max = 1;
  i.bytes = c;
  i.exact = true;
  Factor f;
  f.cls = {c};
  i.ex = {f};
  i.req = i.ex;
  return i;
}

// What every match of parts[0..k) starts with: exact parts joined, then the first other part's
// starts (or nothing known when a part has none).
Set JoinStarts(const std::vector<Info>& parts) {
  Set acc = {Factor()};
  for (const Info& p : parts) {
    Set next;
    if (!Product(acc, Clip(Starts(p), false), &next)) break;
    acc = Clip(std::move(next), false);
    if (!p.exact) break;
  }
  for (const auto& x : acc)
    if (x.cls.empty()) return {};
  return acc;
}

Set JoinEnds(const std::vector<Info>& parts) {
  Set acc = {Factor()};
  for (size_t i = parts.size(); i-- > 0;) {
    const Info& p = parts[i];
    Set next;
    if (!Product(Clip(Ends(p), true), acc, &next)) break;
    acc = Clip(std::move(next), true);
    if (!p.exact) break;
  }
  for (const auto& x : acc)
    if (x.cls.empty()) return {};
  return acc;
}

Info Concat(const std::vector<Info>& parts) {
  size_t k = parts.size();
  // Length and bytes of everything before part i (pre) and after it (post).
  std::vector<uint32_t> pre_len(k + 1, 0), post_len(k + 1, 0);
  std::vector<ByteClass> pre_bytes(k + 1), post_bytes(k + 1);
  for (size_t i = 0; i < k; ++i) {
    pre_len[i + 1] = SatAdd(pre_len[i], parts[i].max);
    pre_bytes[i + 1] = pre_bytes[i] | parts[i].bytes;
  }
  for (size_t i = k; i-- > 0;) {
    post_len[i] = SatAdd(post_len[i + 1], parts[i].max);
    post_bytes[i] = post_bytes[i + 1] | parts[i].bytes;
  }
  Info out = Empty();
  Set run = {Factor()};
  size_t run_from = 0;
  // Every candidate set with the parts [first, last) it may lie in, for `also`.
  struct Candidate {
    Set set;
    size_t first, last;
  };
  std::vector<Candidate> cands;
  auto consider = [&](Set set, size_t first, size_t last) {
    if (!set.empty()) cands.push_back({std::move(set), first, last});
  };
  auto commit_run = [&](size_t run_to) {
    // A run may begin inside the part before run_from and end inside part run_to.
    consider(ShrinkFactors(Widened(run, pre_len[run_from], pre_bytes[run_from], post_len[run_to], post_bytes[run_to])),
             run_from > 0 ? run_from - 1 : 0, std::min(k, run_to + 1));
  };
  for (size_t i = 0; i < k; ++i) {
    const Info& p = parts[i];
    out.min = SatAdd(out.min, p.min);
    out.max = SatAdd(out.max, p.max);
    out.bytes |= p.bytes;
    consider(Widened(AsFactors(p), pre_len[i], pre_bytes[i], post_len[i + 1], post_bytes[i + 1]), i, i + 1);
    Set next;
    if (p.exact && Product(run, p.ex, &next)) {
      run = std::move(next);
      continue;
    }
    out.exact = false;
    // The run goes on into this part's starts (it ends inside the part: all of the part and
    // what follows may come after it).
    Set into;
    if (!p.exact && !p.pre.empty() && Product(run, Clip(p.pre, false), &into)) run = std::move(into);
    commit_run(i);
    if (p.exact) {
      run = p.ex;
      run_from = i;
    } else {
      // A new run starts with this part's ends: it begins inside the part.
      run = p.suf.empty() ? Set{Factor()} : Clip(p.suf, true);
      run_from = i + 1;
    }
  }
  commit_run(k);
  // The rarest set is `req` (the first of equals, as before); `also` is the rarest of those from
  // parts it does not share.
  auto rarest = [&](bool disjoint_from_best, size_t best) {
    size_t pick = cands.size();
    double r = 0;
    for (size_t c = 0; c < cands.size(); ++c) {
      if (disjoint_from_best && !(cands[c].last <= cands[best].first || cands[c].first >= cands[best].last)) continue;
      double x = SetRarity(cands[c].set);
      if (x > r) r = x, pick = c;
    }
    return pick;
  };
  size_t best = rarest(false, 0);
  if (best < cands.size()) {
    out.req = cands[best].set;
    size_t other = rarest(true, best);
    if (other < cands.size()) out.also = cands[other].set;
  }
  RaiseMinLen(&out.req, out.min);
  RaiseMinLen(&out.also, out.min);
  if (out.exact) out.ex = run;
  else out.ex.clear();
  out.pre = JoinStarts(parts);
  out.suf = JoinEnds(parts);
  return out;
}

Info Alternate(const std::vector<Info>& alts) {
  Info out;
  out.min = kUnboundedLen;
  out.exact = true;
  bool all_req = true;
  Set req;
  size_t total = 0;
  for (const Info& a : alts) {
    out.min = std::min(out.min, a.min);
    out.max = std::max(out.max, a.max);
    out.bytes |= a.bytes;
    if (a.exact && out.exact) out.ex.insert(out.ex.end(), a.ex.begin(), a.ex.end()), total += a.ex.size();
    else out.exact = false;
    Set f = AsFactors(a);
    if (f.empty()) all_req = false;
    req.insert(req.end(), f.begin(), f.end());
  }
  if (out.exact) {
    // Dedupe drops strings implied by others, right for factors but not for an exact set:
    // exactness stays only when nothing was dropped.
    Dedupe(&out.ex);
    if (out.ex.size() != total || out.ex.size() > kMaxSet) {
      out.exact = false;
      out.ex.clear();
    }
  }
  if (all_req) out.req = ShrinkFactors(req);
  if (out.exact) out.req = Better(out.req, ShrinkFactors(out.ex));
  bool all_pre = true, all_suf = true;
  for (const Info& a : alts) {
    const Set& st = Starts(a);
    const Set& en = Ends(a);
    all_pre = all_pre && !st.empty() && out.pre.size() + st.size() <= kMaxSet;
    all_suf = all_suf && !en.empty() && out.suf.size() + en.size() <= kMaxSet;
    if (all_pre) out.pre.insert(out.pre.end(), st.begin(), st.end());
    if (all_suf) out.suf.insert(out.suf.end(), en.begin(), en.end());
  }
  if (!all_pre) out.pre.clear();
  if (!all_suf) out.suf.clear();
  for (const auto& x : out.pre)
    if (x.cls.empty()) out.pre.clear();
  for (const auto& x : out.suf)
    if (x.cls.empty()) out.suf.clear();
  return out;
}

Info Repeat(const Info& x, uint32_t lo, uint32_t hi) {
  Info out;
  out.min = SatMul(x.min, lo);
  out.max = hi == kUnboundedLen ? (x.max == 0 ? 0 : kUnboundedLen) : SatMul(x.max, hi);
  if (hi > 0) out.bytes = x.bytes;
  // What may follow the first k copies: up to hi - k more.
  auto rest = [&](uint32_t k) {
    if (x.max == 0) return 0u;
    return hi == kUnboundedLen ? kUnboundedLen : SatMul(x.max, hi - k);
  };
  auto rest_bytes = [&](uint32_t k) { return hi > k ? x.bytes : ByteClass(); };
  // Powers of the exact set: x^k for k <= lo while they fit (x^lo is necessary when lo >= 1).
  Set power = {Factor()};
  Set best_power;
  uint32_t best_k = 0;
  std::vector<Set> powers = {power};
  bool fits = x.exact;
  for (uint32_t k = 1; fits && k <= std::max(lo, hi == kUnboundedLen ? lo : hi) && k <= kMaxExactLen; ++k) {
    Set next;
    if (!Product(power, x.ex, &next)) {
      fits = false;
      break;
    }
    power = std::move(next);
    powers.push_back(power);
    if (k <= lo) best_power = power, best_k = k;
  }
  if (lo >= 1) {
    // With two copies or more, a match starts and ends with two of them: more context for a
    // factor to run on (`h:h::` where one copy gives `h::`). Not more than two: many long
    // strings win on estimated rarity but cost more to confirm than they filter.
    bool two = lo >= 2 && powers.size() > 2;
    out.pre = Clip(two ? powers[2] : Starts(x), false);
    out.suf = Clip(two ? powers[2] : Ends(x), true);
  }
  if (lo >= 1)
    out.req = Better(Widened(AsFactors(x), 0, ByteClass(), rest(1), rest_bytes(1)),
                     ShrinkFactors(Widened(best_power, 0, ByteClass(), rest(best_k), rest_bytes(best_k))));
  if (x.exact && fits && hi != kUnboundedLen && hi < powers.size()) {
    Set all;
    for (uint32_t k = lo; k <= hi; ++k) all.insert(all.end(), powers[k].begin(), powers[k].end());
    if (all.size() <= kMaxSet) {
      out.exact = true;
      out.ex = all;
      out.req = Better(out.req, ShrinkFactors(all));
    }
  }
  RaiseMinLen(&out.req, out.min);
  return out;
}

ByteClass Range(int a, int b) {
  ByteClass c;
  for (int i = a; i <= b; ++i) c.set(static_cast<size_t>(i));
  return c;
}

ByteClass Digits() { return Range('0', '9'); }
ByteClass Word() { return Range('0', '9') | Range('A', 'Z') | Range('a', 'z') | Range('_', '_'); }
ByteClass Space() {
  ByteClass c;
  for (char ch : std::string("\t\n\f\r ")) c.set(static_cast<unsigned char>(ch));
  return c;
}

// ASCII case partners added (exactly what RE2 folds below 0x80).
ByteClass FoldAscii(ByteClass c) {
  for (int b = 'a'; b <= 'z'; ++b)
    if (c.test(static_cast<size_t>(b)) || c.test(static_cast<size_t>(b - 32))) {
      c.set(static_cast<size_t>(b));
      c.set(static_cast<size_t>(b - 32));
    }
  return c;
}

// Folding over-approximated: Latin-1 letters fold too, so any high byte brings all high bytes.
ByteClass FoldOver(ByteClass c) {
  c = FoldAscii(c);
  if ((c & Range(0x80, 0xff)).any()) c |= Range(0x80, 0xff);
  return c;
}

struct Flags {
  bool icase = false;
  bool dotnl = false;
};

// A counted repetition {lo,hi} with a finite hi > lo: where its hi is written in the pattern,
// and the shortest match of the repeated part.
struct CountedRepeat {
  size_t hi_at, hi_end;
  uint32_t lo, hi;
  uint32_t operand_min;
};

class Parser {
 public:
  explicit Parser(const std::string& p) : p_(p) {}
  bool Parse(Info* out) {
    Flags f;
    *out = Alt(&f);
    return ok_ && i_ == p_.size();
  }
  const std::vector<CountedRepeat>& repeats() const { return repeats_; }

 private:
  bool More() const { return i_ < p_.size(); }
  unsigned char Peek() const { return static_cast<unsigned char>(p_[i_]); }
  void Fail() {
    ok_ = false;
    i_ = p_.size();
  }

  Info Alt(Flags* f) {
    std::vector<Info> alts;
    alts.push_back(Cat(f));
    while (ok_ && More() && Peek() == '|') {
      ++i_;
      alts.push_back(Cat(f));
    }
    return alts.size() == 1 ? alts[0] : Alternate(alts);
  }

  Info Cat(Flags* f) {
    std::vector<Info> parts;
    while (ok_ && More() && Peek() != '|' && Peek() != ')') {
      Info a;
      if (!Atom(f, &a)) continue;  // a flag group like (?i) yields no atom
      Quantify(&a);
      parts.push_back(a);
    }
    if (parts.empty()) return Empty();
    return parts.size() == 1 ? parts[0] : Concat(parts);
  }

  void Quantify(Info* a) {
    bool quantified = false;
    while (ok_ && More()) {
      unsigned char c = Peek();
      uint32_t lo, hi;
      if (c == '*') lo = 0, hi = kUnboundedLen, ++i_;
      else if (c == '+') lo = 1, hi = kUnboundedLen, ++i_;
      else if (c == '?') lo = 0, hi = 1, ++i_;
      else if (c == '{' && Braces(&lo, &hi)) {
        if (hi != kUnboundedLen && hi > lo) repeats_.push_back(CountedRepeat{hi_at_, hi_end_, lo, hi, a->min});
      } else break;
      if (quantified) return Fail();  // RE2 rejects a** ; never rely on a guess
      quantified = true;
      if (More() && Peek() == '?') ++i_;  // non-greedy: same language
      *a = Repeat(*a, lo, hi);
    }
  }

  // {n}, {n,}, {n,m}; anything else is a literal '{' for RE2 and is left alone.
  bool Braces(uint32_t* lo, uint32_t* hi) {
    size_t j = i_ + 1;
    auto num = [&](uint32_t* v) {
      size_t s = j;
      uint64_t x = 0;
      while (j < p_.size() && p_[j] >= '0' && p_[j] <= '9' && j - s < 5) x = x * 10 + static_cast<uint64_t>(p_[j++] - '0');
      *v = static_cast<uint32_t>(x);
      return j > s;
    };
    if (!num(lo)) return false;
    *hi = *lo;
    if (j < p_.size() && p_[j] == ',') {
      ++j;
      hi_at_ = j;
      if (!num(hi)) *hi = kUnboundedLen;
      hi_end_ = j;
    }
    if (j >= p_.size() || p_[j] != '}') return false;
    if (*hi < *lo) return false;
    i_ = j + 1;
    return true;
  }

  bool Atom(Flags* f, Info* out) {
    unsigned char c = Peek();
    if (c == '(') return Group(f, out);
    ++i_;
    switch (c) {
      case '[': *out = OneClass(Class(*f)); return true;
      case '.': {
        ByteClass all;
        all.set();
        if (!f->dotnl) all.reset('\n');
        *out = OneClass(all);
        return true;
      }
      case '^':
      case '$': *out = Empty(); return true;
      case '\\': return Escape(*f, out);
      case '*':
      case '+':
      case '?':
      case ')': Fail(); return false;
      default: {
        ByteClass one;
        one.set(c);
        *out = OneClass(f->icase ? FoldOver(one) : one);
        return true;
      }
    }
  }

  bool Group(Flags* f, Info* out) {
    ++i_;  // '('
    Flags inner = *f;
    if (More() && Peek() == '?') {
      ++i_;
      if (More() && (Peek() == 'P' || Peek() == '<')) {  // named capture
        if (Peek() == 'P') ++i_;
        if (!More() || Peek() != '<') return Fail(), false;
        while (More() && Peek() != '>') ++i_;
        if (!More()) return Fail(), false;
        ++i_;
      } else {
        bool neg = false, any = false;
        for (;;) {
          if (!More()) return Fail(), false;
          unsigned char c = Peek();
          ++i_;
          if (c == '-') {
            if (neg) return Fail(), false;
            neg = true;
          } else if (c == 'i') inner.icase = !neg, any = true;
          else if (c == 's') inner.dotnl = !neg, any = true;
          else if (c == 'm' || c == 'U') any = true;
          else if (c == ')') {  // (?flags): applies to the rest of the enclosing group
            if (!any) return Fail(), false;
            *f = inner;
            return false;
          } else if (c == ':') break;
          else return Fail(), false;
        }
      }
    }
    *out = Alt(&inner);
    if (!More() || Peek() != ')') return Fail(), false;
    ++i_;
    return true;
  }

  // One escaped character or class after '\'; false (with ok_ cleared) for what RE2 knows and
  // this analysis does not.
  bool EscapeClass(ByteClass* c, bool* assertion) {
    *assertion = false;
    if (!More()) return Fail(), false;
    unsigned char e = Peek();
    ++i_;
    switch (e) {
      case 'd': *c = Digits(); return true;
      case 'D': *c = ~Digits(); return true;
      case 's': *c = Space(); return true;
      case 'S': *c = ~Space(); return true;
      case 'w': *c = Word(); return true;
      case 'W': *c = ~Word(); return true;
      case 'b':
      case 'B':
      case 'A':
      case 'z': *assertion = true; return true;
      case 'n': c->reset(), c->set('\n'); return true;
      case 't': c->reset(), c->set('\t'); return true;
      case 'r': c->reset(), c->set('\r'); return true;
      case 'f': c->reset(), c->set('\f'); return true;
      case 'v': c->reset(), c->set('\v'); return true;
      case 'a': c->reset(), c->set('\a'); return true;
      case 'x': {
        auto hex = [](unsigned char h) {
          return h >= '0' && h <= '9' ? h - '0' : (h | 32) >= 'a' && (h | 32) <= 'f' ? (h | 32) - 'a' + 10 : -1;
        };
        int v = 0, digits = 0;
        if (More() && Peek() == '{') {
          ++i_;
          while (More() && Peek() != '}' && hex(Peek()) >= 0 && digits < 3) v = v * 16 + hex(Peek()), ++i_, ++digits;
          if (!More() || Peek() != '}' || digits == 0) return Fail(), false;
          ++i_;
        } else {
          for (; digits < 2 && More() && hex(Peek()) >= 0; ++digits) v = v * 16 + hex(Peek()), ++i_;
          if (digits != 2) return Fail(), false;
        }
        if (v > 0xff) return Fail(), false;
        c->reset(), c->set(static_cast<size_t>(v));
        return true;
      }
      default:
        // Escaped punctuation is itself; letters and digits mean something else (\p, \Q, \C,
        // octal...) that is not analysed.
        if (e < 0x80 && !((e >= '0' && e <= '9') || (e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || e == '_')) {
          c->reset(), c->set(e);
          return true;
        }
        return Fail(), false;
    }
  }

  bool Escape(const Flags& f, Info* out) {
    ByteClass c;
    bool assertion;
    if (!EscapeClass(&c, &assertion)) return false;
    if (assertion) *out = p_[i_ - 1] == 'b' ? WordBoundary() : Empty();
    else *out = OneClass(f.icase ? FoldOver(c) : c);
    return true;
  }

  ByteClass Class(const Flags& f) {
    bool neg = false;
    if (More() && Peek() == '^') neg = true, ++i_;
    ByteClass c;
    bool first = true;
    while (ok_) {
      if (!More()) return Fail(), c;
      unsigned char x = Peek();
      if (x == ']' && !first) {
        ++i_;
        break;
      }
      first = false;
      if (x == '[' && i_ + 1 < p_.size() && p_[i_ + 1] == ':') return Fail(), c;
      ByteClass one;
      int lo;
      ++i_;
      if (x == '\\') {
        bool assertion;
        if (!EscapeClass(&one, &assertion)) return c;
        if (assertion) return Fail(), c;
        if (one.count() != 1) {
          c |= one;
          continue;
        }
        lo = static_cast<int>(Single(one));
      } else {
        lo = x;
      }
      int hi = lo;
      if (More() && Peek() == '-' && i_ + 1 < p_.size() && p_[i_ + 1] != ']') {
        ++i_;
        unsigned char y = Peek();
        ++i_;
        if (y == '\\') {
          bool assertion;
          ByteClass end;
          if (!EscapeClass(&end, &assertion)) return c;
          if (assertion || end.count() != 1) return Fail(), c;
          hi = static_cast<int>(Single(end));
        } else {
          hi = y;
        }
        if (hi < lo) return Fail(), c;
      }
      c |= Range(lo, hi);
    }
    if (!f.icase) return neg ? ~c : c;
    // Negated: complement an under-approximation of the folded class (ASCII folding only is
    // certain), so the result can only grow.
    return neg ? ~FoldAscii(c) : FoldOver(c);
  }

  static size_t Single(const ByteClass& c) {
    for (size_t b = 0; b < 256; ++b)
      if (c.test(b)) return b;
    return 0;
  }

  const std::string& p_;
  size_t i_ = 0;
  bool ok_ = true;
  std::vector<CountedRepeat> repeats_;
  size_t hi_at_ = 0, hi_end_ = 0;  // where Braces found the upper bound
};

}  // namespace

double ClassRarity(const ByteClass& c) {
  const double* f = ByteFreq();
  double s = 0;
  if (c.all()) return 0;
  for (size_t b = c._Find_first(); b < 256; b = c._Find_next(b)) s += f[b];
  return s <= 0 ? 20 : -std::log2(std::min(1.0, s));
}

double FingerprintRarity(const ClassString& s, size_t off, size_t len) {
  ClassString part(s.begin() + static_cast<std::ptrdiff_t>(off), s.begin() + static_cast<std::ptrdiff_t>(std::min(s.size(), off + len)));
  return StringRarity(part);
}

PatternFacts AnalysePattern(const std::string& pattern) {
  PatternFacts out;
  Info info;
  Parser parser(pattern);
  if (!parser.Parse(&info)) return out;
  out.understood = true;
  out.min_len = info.min;
  out.max_len = info.max;
  out.bytes = info.bytes;
  Set f = AsFactors(info);
  RaiseMinLen(&f, info.min);
  // `also` of a concatenation is necessary too; the exact set, when chosen, covers every part.
  if (!info.exact && SetRarity(info.also) >= kMinAlsoRarity) out.also = info.also;
  out.rarity = SetRarity(f);
  if (out.rarity > 0) out.factors = std::move(f);
  for (const Factor& x : out.factors) {
    out.max_before = std::max(out.max_before, x.before);
    out.before_bytes |= x.before_bytes;
    out.after_bytes |= x.after_bytes;
  }
  return out;
}

std::string CapRepeats(const std::string& pattern, uint32_t k) {
  Info info;
  Parser parser(pattern);
  if (!parser.Parse(&info)) return "";
  // Each copy of a repeated part that is never empty takes at least one byte, so a match of at
  // most k bytes uses at most k copies of any repetition: cutting hi to k leaves every such match
  // and its parse, and the order RE2 prefers parses in (greedy or not, a copy more or one less
  // is the same choice at the same point), as it was. Only shorter programs: cheaper searches,
  // above all the submatch search (BitState's cost grows with the program's size).
  std::string out;
  size_t copied = 0;
  for (const CountedRepeat& r : parser.repeats()) {
    uint32_t cut = std::max(r.lo, k);
    if (r.operand_min == 0 || r.hi <= cut) continue;
    out.append(pattern, copied, r.hi_at - copied);
    out += std::to_string(cut);
    copied = r.hi_end;
  }
  if (copied == 0) return "";
  out.append(pattern, copied, std::string::npos);
  return out;
}

}  // namespace lacuna
