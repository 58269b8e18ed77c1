// Fingerprint scan for rule factors (see prefilter.h). The fingerprint is a filter only: every
// reported hit is confirmed against the whole factor inside [0, n), so the nibble tables and the
// wildcard positions past a short factor's end may over-approximate freely.
#include "prefilter.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <atomic>
#include <numeric>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define LACUNA_HAVE_AVX2_PATH 1
#endif

namespace lacuna {
namespace {

std::atomic<int> force_level{0};

// RE2's \b counts ASCII letters, digits and '_' as word bytes, also under Latin-1.
bool WordByte(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

// What a factor's \b says of the byte before it: 1 not a word byte, 2 a word byte, 0 nothing
// (no \b, or a first position that may be either).
uint8_t LeftOf(const Factor& f) {
  if (!f.word_boundary || f.cls.empty()) return 0;
  bool word = false, other = false;
  for (size_t b = 0; b < 256; ++b)
    if (f.cls[0].test(b)) (WordByte(static_cast<unsigned char>(b)) ? word : other) = true;
  return word && !other ? 1 : other && !word ? 2 : 0;
}

// How many bytes after a factor's end every match through it still holds (all of them in its
// after_bytes): a match starts at most `before` bytes ahead of the factor and is min_len long.
// The tables check them too, so a time of day (10:34:22) no longer passes for the start of an
// IPv6 address, whose shortest match through `h:hh:` runs on for ten more bytes of hex and ':'.
uint32_t Tail(const Factor& f) {
  const uint64_t head = static_cast<uint64_t>(f.before) + f.cls.size();
  return f.before == kUnboundedLen || f.min_len <= head ? 0 : static_cast<uint32_t>(f.min_len - head);
}

constexpr size_t kFingerprint = Prefilter::kFp;

bool UseAvx2() {
#ifdef LACUNA_HAVE_AVX2_PATH
  static const bool has = __builtin_cpu_supports("avx2");
  return has && force_level.load(std::memory_order_relaxed) != 1;
#else
  return false;
#endif
}

bool UseVbmi() {
#ifdef LACUNA_HAVE_AVX2_PATH
  static const bool has = __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vbmi");
  return has && force_level.load(std::memory_order_relaxed) == 0;
#else
  return false;
#endif
}

}  // namespace

void PrefilterForceLevel(int level) { force_level.store(level); }

void Prefilter::Build(const std::vector<const std::vector<Factor>*>& factors_by_rule) {
  struct Pending {
    uint32_t rule;
    const Factor* factor;
    uint32_t off;
    double fp_rarity;
  };
  std::vector<Pending> all;
  for (uint32_t r = 0; r < factors_by_rule.size(); ++r) {
    if (!factors_by_rule[r]) continue;
    for (const Factor& fac : *factors_by_rule[r]) {
      const ClassString& cls = fac.cls;
      Pending f{r, &fac, 0, -1};
      // The rarest stretch of up to four positions is the fingerprint.
      for (size_t off = 0; off + std::min(kFingerprint, cls.size()) <= cls.size(); ++off) {
        double s = FingerprintRarity(cls, off, kFingerprint);
        if (s > f.fp_rarity) f.fp_rarity = s, f.off = static_cast<uint32_t>(off);
      }
      all.push_back(f);
    }
  }
  // Buckets are packed greedily, commonest fingerprint first, each into the bucket whose
  // estimated pass rate grows least. A bucket's tables are the union of its fingerprints, so
  // unrelated fingerprints sharing a bucket pass on each other's bytes (cross products), while
  // look-alikes share for free. A common fingerprint thus tends to end up alone, and its bucket
  // can be switched off once its rule is saturated.
  std::stable_sort(all.begin(), all.end(), [](const Pending& a, const Pending& b) { return a.fp_rarity < b.fp_rarity; });
  std::vector<std::array<ByteClass, kFingerprint>> unions(kBuckets);
  std::vector<bool> used(kBuckets, false);
  auto fingerprint = [](const Pending& f) {
    std::array<ByteClass, kFingerprint> fp;
    for (size_t j = 0; j < kFingerprint; ++j) {
      size_t at = f.off + j;
      if (at < f.factor->cls.size()) fp[j] = f.factor->cls[at];
      else fp[j].set();
    }
    return fp;
  };
  auto pass_rate = [](const std::array<ByteClass, kFingerprint>& fp) {
    double bits = 0;
    for (const auto& c : fp) bits += ClassRarity(c);
    return std::exp2(-bits);
  };
  // A bucket opened by a fingerprint commoner than this belongs to its rule alone, so that it
  // goes quiet once that rule is saturated.
  constexpr double kExclusiveRate = 1.0 / 65536;
  std::vector<int64_t> owner(kBuckets, -1);
  std::vector<std::pair<int, Pending>> placed;
  for (Pending& f : all) {
    // The bucket and the fingerprint offset are chosen together: the stretch that adds least
    // to a bucket's union (the rarest one when the bucket is new), so that factors of one rule
    // line up on the same shape ("ddd-" with "ddd-", not with "(ddd").
    int best = 0;
    uint32_t best_off = f.off;
    double best_cost = 1e300;
    const size_t len = f.factor->cls.size();
    const size_t last_off = len > kFingerprint ? len - kFingerprint : 0;
    for (int b = 0; b < kBuckets; ++b) {
      if (owner[b] >= 0 && owner[b] != f.rule) continue;
      for (size_t off = 0; off <= last_off; ++off) {
        Pending g = f;
        g.off = static_cast<uint32_t>(off);
        auto fp = fingerprint(g);
        double cost;
        if (!used[b]) {
          cost = pass_rate(fp);
        } else {
          auto u = unions[b];
          for (size_t j = 0; j < kFingerprint; ++j) u[j] |= fp[j];
          cost = pass_rate(u) - pass_rate(unions[b]);
        }
        if (cost < best_cost) best_cost = cost, best = b, best_off = g.off;
      }
    }
    f.off = best_off;
    auto fp = fingerprint(f);
    if (!used[best]) {
      unions[best] = fp, used[best] = true;
      if (pass_rate(fp) > kExclusiveRate) owner[best] = f.rule;
    }
    else
      for (size_t j = 0; j < kFingerprint; ++j) unions[best][j] |= fp[j];
    placed.push_back({best, std::move(f)});
  }
  for (auto& [bucket, pf] : placed) {
    const ClassString& cls = pf.factor->cls;
    auto& rl = bucket_rules_[bucket];
    if (std::find(rl.begin(), rl.end(), pf.rule) == rl.end()) rl.push_back(pf.rule);
    uint32_t bit = 1u << bucket;
    int half = bucket / 8;
    uint8_t hbit = static_cast<uint8_t>(1u << (bucket % 8));
    const size_t tail = cls.size() + Tail(*pf.factor);
    for (size_t j = 0; j < kExact; ++j) {
      size_t at = pf.off + j;
      for (size_t b = 0; b < 256; ++b) {
        if (at < cls.size() && !cls[at].test(b)) continue;
        if (at >= cls.size() && at < tail && !pf.factor->after_bytes.test(b)) continue;
        exact_[j][b] |= bit;
        if (j >= kFingerprint) continue;
        lo_[half][j][b & 15] |= hbit;
        hi_[half][j][b >> 4] |= hbit;
        low_[half][j][b & 0x7f] |= hbit;
      }
    }
    uint8_t left = LeftOf(*pf.factor);
    for (size_t b = 0; b < 256; ++b) {
      bool ok = pf.off > 0 ? cls[pf.off - 1].test(b)
                           : left == 0 || (left == 1) != WordByte(static_cast<unsigned char>(b));
      if (ok) prev_[b] |= bit, low_prev_[half][b & 0x7f] |= hbit;
    }
    factors_.push_back(Entry{pf.rule, pf.factor, cls.data(), static_cast<uint32_t>(cls.size()), pf.off, left, Tail(*pf.factor)});
  }
  std::vector<std::vector<uint32_t>> lists(kBuckets * 256);
  for (size_t fi = 0; fi < placed.size(); ++fi) {
    const Entry& e = factors_[fi];
    for (size_t b = 0; b < 256; ++b)
      if (e.cls[e.fp_off].test(b)) lists[static_cast<size_t>(placed[fi].first) * 256 + b].push_back(static_cast<uint32_t>(fi));
  }
  for (int bk = 0; bk < kBuckets; ++bk)
    for (size_t b = 0; b < 256; ++b) {
      const auto& l = lists[static_cast<size_t>(bk) * 256 + b];
      first_at_[bk][b] = static_cast<uint32_t>(first_list_.size());
      first_list_.insert(first_list_.end(), l.begin(), l.end());
      first_at_[bk][b + 1] = static_cast<uint32_t>(first_list_.size());
    }
}

void Prefilter::Confirm(const char* p, size_t n, size_t pos, uint32_t mask, std::vector<Hit>* out) const {
  while (mask) {
    int b = __builtin_ctz(mask);
    mask &= mask - 1;
    unsigned char c = static_cast<unsigned char>(p[pos]);
    for (uint32_t k = first_at_[b][c], end = first_at_[b][c + 1]; k < end; ++k) {
      const Entry& f = factors_[first_list_[k]];
      if (pos < f.fp_off) continue;
      size_t begin = pos - f.fp_off;
      if (begin + f.len > n) continue;
      // \b at the factor's start: at the start of the text only a word byte may follow it.
      if (f.left && (begin == 0 ? f.left == 2 : (f.left == 1) == WordByte(static_cast<unsigned char>(p[begin - 1])))) continue;
      size_t j = 0;
      while (j < f.len && f.cls[j].test(static_cast<unsigned char>(p[begin + j]))) ++j;
      if (j != f.len) continue;
      // The bytes a match through it still holds after it (the tables checked them only as far
      // as kExact, and for the whole bucket at once).
      // A match lies inside the text, so one cut short by its end is none either.
      const size_t stop = begin + f.len + f.tail;
      if (stop > n) continue;
      const ByteClass& after = f.factor->after_bytes;
      size_t e = begin + f.len;
      while (e < stop && after.test(static_cast<unsigned char>(p[e]))) ++e;
      if (e == stop) out->push_back(Hit{f.rule, f.factor, begin});
    }
  }
}

size_t Prefilter::ScanScalar(const char* p, size_t n, size_t from, size_t to, uint32_t active, std::vector<Hit>* out) const {
  const unsigned char* u = reinterpret_cast<const unsigned char*>(p);
  size_t i = from;
  // Bytes past the end are wildcards (Confirm checks bounds).
  for (; i < to; ++i) {
    uint32_t m = Exact(u, n, i, active);
    if (m) Confirm(p, n, i, m, out);
  }
  return i;
}

#ifdef LACUNA_HAVE_AVX2_PATH
__attribute__((target("avx2"))) size_t Prefilter::ScanAvx2(const char* p, size_t n, size_t from, size_t to, uint32_t active,
                                                          std::vector<Hit>* out) const {
  const unsigned char* u = reinterpret_cast<const unsigned char*>(p);
  // Only bucket groups with an active bucket are looked up.
  int groups[kHalves];
  int ng = 0;
  __m256i act[kHalves];
  for (int h = 0; h < kHalves; ++h) {
    uint8_t a = static_cast<uint8_t>(active >> (8 * h));
    if (a) act[ng] = _mm256_set1_epi8(static_cast<char>(a)), groups[ng++] = h;
  }
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  const __m256i zero = _mm256_setzero_si256();
  size_t i = from;
  for (; i + 32 <= to && i + 32 + kFp - 1 <= n; i += 32) {
    __m256i lon[kFp], hin[kFp];
    for (int j = 0; j < kFp; ++j) {
      __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(u + i + j));
      lon[j] = _mm256_and_si256(v, low4);
      hin[j] = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);
    }
    __m256i any = zero;
    for (int g = 0; g < ng; ++g) {
      int h = groups[g];
      __m256i m = act[g];
      for (int j = 0; j < kFp; ++j) {
        __m256i lt = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(lo_[h][j])));
        __m256i ht = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(hi_[h][j])));
        m = _mm256_and_si256(m, _mm256_and_si256(_mm256_shuffle_epi8(lt, lon[j]), _mm256_shuffle_epi8(ht, hin[j])));
      }
      any = _mm256_or_si256(any, m);
    }
    uint32_t nz = ~static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(any, zero)));
    while (nz) {
      size_t k = i + static_cast<size_t>(__builtin_ctz(nz));
      nz &= nz - 1;
      uint32_t exact = Exact(u, n, k, active);
      if (exact) Confirm(p, n, k, exact, out);
    }
  }
  return i;
}

__attribute__((target("avx512f,avx512bw,avx512vbmi"))) size_t Prefilter::ScanVbmi(const char* p, size_t n, size_t from,
                                                                                 size_t to, uint32_t active,
                                                                                 std::vector<Hit>* out) const {
  const unsigned char* u = reinterpret_cast<const unsigned char*>(p);
  int groups[kHalves];
  int ng = 0;
  __m512i act[kHalves];
  for (int h = 0; h < kHalves; ++h) {
    uint8_t a = static_cast<uint8_t>(active >> (8 * h));
    if (a) act[ng] = _mm512_set1_epi8(static_cast<char>(a)), groups[ng++] = h;
  }
  // Position 0 has no byte before it: Scan gives it to the scalar scan.
  if (from == 0) return 0;
  size_t i = from;
  for (; i + 64 <= to && i + 64 + kFp - 1 <= n; i += 64) {
    __m512i v[kFp];
    for (int j = 0; j < kFp; ++j) v[j] = _mm512_loadu_si512(reinterpret_cast<const void*>(u + i + j));
    const __m512i before = _mm512_loadu_si512(reinterpret_cast<const void*>(u + i - 1));
    __mmask64 any = 0;
    for (int g = 0; g < ng; ++g) {
      int h = groups[g];
      const __m512i* tp = reinterpret_cast<const __m512i*>(low_prev_[h]);
      __m512i m = _mm512_and_si512(act[g], _mm512_permutex2var_epi8(_mm512_load_si512(tp), before, _mm512_load_si512(tp + 1)));
      for (int j = 0; j < kFp; ++j) {
        const __m512i* t = reinterpret_cast<const __m512i*>(low_[h][j]);
        __m512i look = _mm512_permutex2var_epi8(_mm512_load_si512(t), v[j], _mm512_load_si512(t + 1));
        m = _mm512_and_si512(m, look);
      }
      any |= _mm512_test_epi8_mask(m, m);
    }
    while (any) {
      size_t k = i + static_cast<size_t>(__builtin_ctzll(any));
      any &= any - 1;
      uint32_t exact = Exact(u, n, k, active);
      if (exact) Confirm(p, n, k, exact, out);
    }
  }
  return i;
}
#else
size_t Prefilter::ScanAvx2(const char*, size_t, size_t from, size_t, uint32_t, std::vector<Hit>*) const { return from; }
size_t Prefilter::ScanVbmi(const char*, size_t, size_t from, size_t, uint32_t, std::vector<Hit>*) const { return from; }
#endif

void FactorCheck::Build(const std::vector<Factor>& set) {
  for (const Factor& f : set) {
    if (f.cls.empty()) {  // matches everywhere: nothing to check
      strings_.clear();
      return;
    }
    uint32_t anchor = 0;
    for (uint32_t j = 1; j < f.cls.size(); ++j)
      if (ClassRarity(f.cls[j]) > ClassRarity(f.cls[anchor])) anchor = j;
    strings_.push_back(Str{f.cls.data(), static_cast<uint32_t>(f.cls.size()), anchor});
    for (size_t b = 0; b < 256; ++b)
      if (f.cls[anchor].test(b)) anchor_byte_[b] = true;
  }
}

bool FactorCheck::Within(const char* p, size_t lo, size_t to) const {
  const unsigned char* u = reinterpret_cast<const unsigned char*>(p);
  for (size_t i = lo; i < to; ++i) {
    if (!anchor_byte_[u[i]]) continue;
    for (const Str& s : strings_) {
      if (i < lo + s.anchor || i - s.anchor + s.len > to || !s.cls[s.anchor].test(u[i])) continue;
      size_t b = i - s.anchor, j = 0;
      while (j < s.len && s.cls[j].test(u[b + j])) ++j;
      if (j == s.len) return true;
    }
  }
  return false;
}

void Prefilter::Scan(const char* p, size_t n, size_t from, size_t to, uint32_t active, std::vector<Hit>* out) const {
  to = std::min(to, n);
  if (from >= to || !active || factors_.empty()) return;
  if (UseVbmi()) {
    if (from == 0) ScanScalar(p, n, 0, 1, active, out), from = 1;
    from = ScanVbmi(p, n, from, to, active, out);
  }
  if (UseAvx2()) from = ScanAvx2(p, n, from, to, active, out);
  ScanScalar(p, n, from, to, active, out);
}

}  // namespace lacuna
