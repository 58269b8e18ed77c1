// Two-phase scanning (see scanner.h): the Set says which rules can match in a window; only
// those rules are then located (Process) and validators confirm each candidate. When rules are
// located one by one (a candidate cap, or Locate), rules whose patterns have usable factors skip
// the Set and are searched only around those factors (triggered_scan.cc). Windows overlap by
// kMaxMatch + kContext bytes so a match crossing a chunk boundary is found once.
#include "scanner.h"

#include <algorithm>
#include <cstring>

namespace lacuna {
namespace {

RE2::Options ScannerOptions(int64_t max_mem) {
  RE2::Options o;
  // Latin-1: every byte is one character, so invalid UTF-8 cannot derail matching and the DFA
  // stays small; UTF-8 literals in user rules still match byte for byte.
  o.set_encoding(RE2::Options::EncodingLatin1);
  o.set_log_errors(false);
  o.set_max_mem(max_mem);
  return o;
}

char LowerC(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }
bool Alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// The word adjacent to [b, e) (skipping spaces and hyphens), lower-cased; "" when none.
std::string WordAfter(const char* p, size_t n, size_t e) {
  size_t i = e;
  while (i < n && i < e + 3 && (p[i] == ' ' || p[i] == '-' || p[i] == '\t')) ++i;
  std::string w;
  while (i < n && Alpha(p[i]) && w.size() < 32) w.push_back(LowerC(p[i++]));
  return w;
}

std::string WordBefore(const char* p, size_t b) {
  size_t i = b;
  size_t stop = b >= 3 ? b - 3 : 0;
  while (i > stop && (p[i - 1] == ' ' || p[i - 1] == '-' || p[i - 1] == '\t')) --i;
  size_t end = i;
  while (i > 0 && Alpha(p[i - 1]) && end - i < 32) --i;
  std::string w(p + i, end - i);
  for (auto& c : w) c = LowerC(c);
  return w;
}

bool InList(const std::vector<std::string>& list, const std::string& w) {
  if (w.empty()) return false;
  for (const auto& x : list)
    if (x == w) return true;
  return false;
}

uint64_t ValueHash(const char* s, size_t n) {
  // FNV-1a over lower-cased alphanumerics, so "4111 1111 ..." and "41111111..." are one value.
  uint64_t h = 1469598103934665603ULL;
  bool any = false;
  for (size_t i = 0; i < n; ++i) {
    char c = s[i];
    bool alnum = Alpha(c) || (c >= '0' && c <= '9');
    if (!alnum) continue;
    any = true;
    h = (h ^ static_cast<unsigned char>(LowerC(c))) * 1099511628211ULL;
  }
  if (!any)
    for (size_t i = 0; i < n; ++i) h = (h ^ static_cast<unsigned char>(s[i])) * 1099511628211ULL;
  return h;
}

void ToPrintable(const char* in, size_t n, std::string* out) {
  size_t base = out->size();
  out->resize(base + n);
  char* o = &(*out)[base];
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(in[i]);
    o[i] = (c == '\t' || (c >= 0x20 && c < 0x7f)) ? static_cast<char>(c) : '\n';
  }
}

}  // namespace

const char* ScanStatusCode(ScanStatus s) {
  switch (s) {
    case ScanStatus::kOk: return "ok";
    case ScanStatus::kOutOfMemory: return "scanner_out_of_memory";
    case ScanStatus::kNotCompiled: return "scanner_not_compiled";
    case ScanStatus::kInconsistent: return "scanner_inconsistent";
    case ScanStatus::kBusy: return "scanner_busy";
  }
  return "scanner_error";
}

std::shared_ptr<const RuleSet> RuleSet::Compile(const std::vector<RuleSpec>& specs, CompileError* err) {
  std::shared_ptr<RuleSet> rs(new RuleSet());
  // The Set's DFA budget decides how much state it may cache before failing; 256 MiB keeps the
  // full built-in table plus user rules well inside it on adversarial input.
  rs->set_.reset(new RE2::Set(ScannerOptions(256 << 20), RE2::UNANCHORED));
  for (size_t i = 0; i < specs.size(); ++i) {
    const RuleSpec& s = specs[i];
    auto fail = [&](const std::string& m) {
      err->index = i;
      err->id = s.id;
      err->message = m;
      return nullptr;
    };
    Rule r;
    r.spec = s;
    if (!ParseValidator(s.validator, &r.validator)) return fail("unknown validator '" + s.validator + "'");
    std::string why;
    if (rs->set_->Add(s.pattern, &why) < 0) return fail("pattern does not compile: " + why);
    r.re.reset(new RE2(s.pattern, ScannerOptions(16 << 20)));
    if (!r.re->ok()) return fail("pattern does not compile: " + r.re->error());
    if (s.group < 0 || s.group > 15 || s.group > r.re->NumberOfCapturingGroups())
      return fail("group " + std::to_string(s.group) + " does not exist in the pattern");
    r.ngroups = std::max(s.group, 0) + 1;
    // Spans around factors are mostly short, and a submatch search is the dearest part of a
    // candidate: `token = computeToken(a)` took 2.3 us for its group against {8,256} spelt out,
    // 0.4 us against {8,32}, and 0.13 us for the match alone.
    if (s.group > 0) {
      std::string cut = CapRepeats(s.pattern, kShortRange);
      if (!cut.empty()) {
        r.short_re.reset(new RE2(cut, ScannerOptions(16 << 20)));
        if (!r.short_re->ok() || r.short_re->NumberOfCapturingGroups() != r.re->NumberOfCapturingGroups()) r.short_re.reset();
      }
    }
    rs->rules_.push_back(std::move(r));
  }
  // Rules whose pattern analysis found usable factors are searched only around them; a factor
  // commoner than about one position in 32 would cost more to chase than a DFA pass.
  constexpr double kMinTriggerRarity = 5;
  std::vector<const std::vector<Factor>*> factors(rs->rules_.size(), nullptr);
  for (size_t i = 0; i < rs->rules_.size(); ++i) {
    Rule& r = rs->rules_[i];
    r.facts = AnalysePattern(r.spec.pattern);
    r.triggered = r.facts.understood && r.facts.min_len > 0 && r.facts.rarity >= kMinTriggerRarity;
    if (r.triggered) factors[i] = &r.facts.factors, r.also.Build(r.facts.also);
    else rs->untriggered_.push_back(i);
  }
  rs->prefilter_.Build(factors);
  std::string any;
  for (size_t i = 0; i < specs.size(); ++i) any += (i ? "|(?:" : "(?:") + specs[i].pattern + ")";
  if (!specs.empty()) {
    rs->any_.reset(new RE2(any, ScannerOptions(256 << 20)));
    if (!rs->any_->ok()) rs->any_.reset();  // then phase 2 runs one pass per fired rule
  }
  if (!rs->set_->Compile()) {
    err->index = specs.size();
    err->message = "rule set too large to compile (RE2 memory budget)";
    return nullptr;
  }
  return rs;
}

StreamScanner::StreamScanner(std::shared_ptr<const RuleSet> rules, const ScanOptions& opts)
    : rules_(std::move(rules)), opts_(opts), hits_(rules_ ? rules_->size() : 0) {
  if (opts_.binary) line_at_buf_ = 0;
  time_t now = time(nullptr);
  struct tm tmv;
  gmtime_r(&now, &tmv);
  params_.current_year = tmv.tm_year + 1900;
}

ScanStatus StreamScanner::Feed(const char* data, size_t n) {
  if (!rules_) return ScanStatus::kNotCompiled;
  if (finished_) return ScanStatus::kInconsistent;
  const size_t cap = kWindowBytes + kMaxMatch + kContext;
  bytes_scanned_ += n;
  while (n > 0) {
    size_t take = std::min(n, cap - buf_.size());
    if (opts_.binary) ToPrintable(data, take, &buf_);
    else buf_.append(data, take);
    data += take;
    n -= take;
    if (buf_.size() >= cap) {
      ScanStatus s = Flush(false);
      if (s != ScanStatus::kOk) return s;
    }
  }
  return ScanStatus::kOk;
}

ScanStatus StreamScanner::Skip(uint64_t n) {
  if (finished_) return ScanStatus::kInconsistent;
  ScanStatus s = Flush(true);
  if (s != ScanStatus::kOk) return s;
  buf_abs_ += buf_.size() + n;
  buf_.clear();
  committed_ = buf_abs_;
  line_at_buf_ = 0;
  return ScanStatus::kOk;
}

ScanStatus StreamScanner::Finish() {
  if (finished_) return ScanStatus::kOk;
  ScanStatus s = Flush(true);
  finished_ = true;
  buf_.clear();
  buf_.shrink_to_fit();
  return s;
}

ScanStatus StreamScanner::Flush(bool final) {
  if (buf_.empty()) return ScanStatus::kOk;
  if (!final && buf_.size() <= kMaxMatch + kContext) return ScanStatus::kOk;
  ScanStatus s = Process(buf_.data(), buf_.size(), buf_abs_, final);
  if (s != ScanStatus::kOk || final) return s;
  uint64_t keep_from = committed_ - kContext;
  size_t drop = static_cast<size_t>(keep_from - buf_abs_);
  if (line_at_buf_ != 0) line_at_buf_ += std::count(buf_.data(), buf_.data() + drop, '\n');
  buf_.erase(0, drop);
  buf_abs_ = keep_from;
  return ScanStatus::kOk;
}

ScanStatus StreamScanner::ScanBuffer(std::shared_ptr<const RuleSet> rules, const char* data, size_t n,
                                     const ScanOptions& opts, std::vector<RuleHits>* out) {
  StreamScanner s(std::move(rules), opts);
  if (!s.rules_) return ScanStatus::kNotCompiled;
  ScanStatus st;
  if (opts.binary) {
    st = s.Feed(data, n);
    if (st == ScanStatus::kOk) st = s.Finish();
  } else {
    s.bytes_scanned_ = n;
    st = s.Process(data, n, 0, true);
  }
  *out = std::move(s.hits_);
  return st;
}

ScanStatus StreamScanner::Locate(std::shared_ptr<const RuleSet> rules, const char* data, size_t n, bool binary,
                                 std::vector<Match>* out, bool prefilter) {
  ScanOptions opts;
  opts.binary = binary;
  opts.prefilter = prefilter;
  StreamScanner s(std::move(rules), opts);
  if (!s.rules_) return ScanStatus::kNotCompiled;
  out->clear();
  s.sink_ = out;
  // Binary input is matched as printable runs; the copy is byte-for-byte, so offsets hold.
  std::string printable;
  if (binary) ToPrintable(data, n, &printable);
  s.bytes_scanned_ = n;
  ScanStatus st = binary ? s.Process(printable.data(), n, 0, true) : s.Process(data, n, 0, true);
  std::sort(out->begin(), out->end(), [](const Match& a, const Match& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.rule < b.rule;
  });
  return st;
}

ScanStatus StreamScanner::Process(const char* p, size_t n, uint64_t abs, bool final) {
  window_abs_ = abs;
  uint64_t accept_to = final ? abs + n : abs + n - kMaxMatch;
  std::vector<size_t> newlines;
  bool newlines_built = false;
  const uint32_t cap = opts_.candidate_cap;
  // Per-rule passes (a candidate cap, or Locate): triggered rules need no Set pass at all.
  if ((cap > 0 || sink_) && opts_.prefilter && !rules_->prefilter_.empty()) {
    ScanTriggered(p, n, abs, accept_to, cap, &newlines, &newlines_built);
    for (size_t i : rules_->untriggered_) ScanRule(i, p, n, abs, accept_to, 0, cap, &newlines, &newlines_built);
    committed_ = accept_to;
    return ScanStatus::kOk;
  }
  std::vector<int> fired;
  RE2::Set::ErrorInfo ei;
  ei.kind = RE2::Set::kNoError;
  bool any = rules_->set_->Match(re2::StringPiece(p, n), &fired, &ei);
  if (!any) {
    switch (ei.kind) {
      case RE2::Set::kNoError: break;
      case RE2::Set::kOutOfMemory: return ScanStatus::kOutOfMemory;
      case RE2::Set::kNotCompiled: return ScanStatus::kNotCompiled;
      default: return ScanStatus::kInconsistent;
    }
  }
  std::sort(fired.begin(), fired.end());
  // Measured (bench/scanner.ts, docs/CLASSIFICATION.md): counting everything, one alternation
  // pass beats a pass per fired rule by ~1.4x on dense data; with a candidate cap, per-rule
  // passes win by ~2x (dense rules stop early, and each small DFA restarts cheaper).
  // Locate wants every match of every rule, including overlapping ones: per-rule passes only.
  if (cap == 0 && fired.size() >= 2 && rules_->any_ && !sink_) {
    // Phase 2 in one pass: the alternation finds the leftmost match of any rule; the first
    // fired rule (in table order) that matches there, anchored, is the one the alternation
    // chose. A match of another rule overlapping it is not counted; a fired rule the pass
    // never reports still gets its own pass below, so no rule that fired is lost. Once a
    // rule reaches the candidate cap, the pass stops and the others continue alone from there
    // (the alternation cannot leave a saturated rule out, and its candidates would cost).
    std::vector<char> seen(rules_->size(), 0);
    std::vector<uint32_t> considered(rules_->size(), 0);
    re2::StringPiece text(p, n);
    re2::StringPiece whole;
    re2::StringPiece groups[16];
    size_t pos = 0;
    bool stopped = false;
    while (pos <= n && rules_->any_->Match(text, pos, n, RE2::UNANCHORED, &whole, 1)) {
      size_t mb = static_cast<size_t>(whole.data() - p);
      size_t me = mb + whole.size();
      if (abs + mb >= accept_to) break;
      for (int idx : fired) {
        const RuleSet::Rule& r = rules_->rules_[static_cast<size_t>(idx)];
        if (!r.re->Match(text, mb, n, RE2::ANCHOR_START, groups, std::min(r.ngroups, 16))) continue;
        seen[static_cast<size_t>(idx)] = 1;
        if (abs + mb >= committed_) {
          Consider(static_cast<size_t>(idx), p, n, mb, mb + groups[0].size(), groups, &newlines, &newlines_built);
          if (cap && ++considered[static_cast<size_t>(idx)] >= cap) {
            hits_[static_cast<size_t>(idx)].saturated = true;
            stopped = true;
          }
        }
        break;
      }
      pos = me > mb ? me : mb + 1;
      if (stopped) break;
    }
    for (int idx : fired) {
      size_t i = static_cast<size_t>(idx);
      if (cap && considered[i] >= cap) continue;
      if (seen[i] && !stopped) continue;  // the pass reached the end for this rule
      ScanRule(i, p, n, abs, accept_to, seen[i] ? pos : 0, cap ? cap - considered[i] : 0, &newlines, &newlines_built);
    }
  } else {
    for (int idx : fired)
      ScanRule(static_cast<size_t>(idx), p, n, abs, accept_to, 0, cap, &newlines, &newlines_built);
  }
  committed_ = accept_to;
  return ScanStatus::kOk;
}

uint32_t StreamScanner::ScanRule(size_t idx, const char* p, size_t n, uint64_t abs, uint64_t accept_to, size_t from,
                                 uint32_t budget, std::vector<size_t>* newlines, bool* newlines_built) {
  const RuleSet::Rule& r = rules_->rules_[idx];
  re2::StringPiece text(p, n);
  re2::StringPiece groups[16];
  int ng = std::min(r.ngroups, 16);
  size_t pos = from;
  uint32_t considered = 0;
  while (pos <= n) {
    if (!r.re->Match(text, pos, n, RE2::UNANCHORED, groups, ng)) break;
    size_t mb = static_cast<size_t>(groups[0].data() - p);
    size_t me = mb + groups[0].size();
    if (abs + mb >= accept_to) break;
    if (abs + mb >= committed_) {
      Consider(idx, p, n, mb, me, groups, newlines, newlines_built);
      if (budget && ++considered >= budget) {
        hits_[idx].saturated = true;
        break;
      }
    }
    pos = me > mb ? me : mb + 1;
  }
  return considered;
}

void StreamScanner::Consider(size_t idx, const char* p, size_t n, size_t mb, size_t me, const re2::StringPiece* groups,
                             std::vector<size_t>* newlines, bool* newlines_built) {
  const RuleSet::Rule& r = rules_->rules_[idx];
  Candidate c{p, n, mb, me, mb, me};
  if (r.spec.group > 0 && groups[r.spec.group].data() != nullptr) {
    c.value_begin = static_cast<size_t>(groups[r.spec.group].data() - p);
    c.value_end = c.value_begin + groups[r.spec.group].size();
  }
  ValidatorParams vp = params_;
  vp.min_entropy = r.spec.min_entropy;
  size_t accepted_end = c.value_end;
  bool ok = Validate(r.validator, c, vp, &accepted_end);
  c.value_end = accepted_end;
  if (ok && !r.spec.reject_after.empty() && InList(r.spec.reject_after, WordAfter(p, n, c.value_end))) ok = false;
  if (ok && !r.spec.reject_before.empty() && InList(r.spec.reject_before, WordBefore(p, c.value_begin))) ok = false;
  if (ok) {
    Record(idx, p, n, mb, c, newlines, newlines_built);
    if (sink_) sink_->push_back(Match{static_cast<uint32_t>(idx), window_abs_ + c.value_begin, window_abs_ + c.value_end});
  } else ++hits_[idx].rejected;
}

void StreamScanner::Record(size_t rule, const char* p, size_t n, size_t at, const Candidate& c,
                           std::vector<size_t>* newlines, bool* built) {
  RuleHits& h = hits_[rule];
  ++h.count;
  if (h.distinct.size() < RuleHits::kMaxDistinct)
    h.distinct.insert(ValueHash(p + c.value_begin, c.value_end - c.value_begin));
  if (h.lines.size() >= RuleHits::kMaxLines) return;
  if (line_at_buf_ == 0) {
    h.lines.push_back(0);
    return;
  }
  if (!*built) {
    for (const char* q = p; (q = static_cast<const char*>(memchr(q, '\n', n - (q - p)))) != nullptr; ++q)
      newlines->push_back(static_cast<size_t>(q - p));
    *built = true;
  }
  auto before = std::lower_bound(newlines->begin(), newlines->end(), at) - newlines->begin();
  h.lines.push_back(line_at_buf_ + static_cast<uint64_t>(before));
}

}  // namespace lacuna
