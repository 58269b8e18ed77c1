// C++ tests of scanner.h and validators.h without N-API or Node: validators on edge cases, and
// the streaming scanner against a whole-buffer scan. Built and run by
// test/classify/native-cpp.test.ts (g++ ... -lre2); prints "ok N - name" lines and exits 1 on failure.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "pattern_facts.h"
#include "prefilter.h"
#include "scanner.h"
#include "validators.h"

using namespace lacuna;

static int failures = 0, count = 0;
#define CHECK(cond, name)                                                  \
  do {                                                                     \
    ++count;                                                               \
    if (cond) std::printf("ok %d - %s\n", count, name);                    \
    else { std::printf("not ok %d - %s\n", count, name); ++failures; }     \
  } while (0)

static bool V(ValidatorKind k, const std::string& s, double min_entropy = 0) {
  Candidate c{s.data(), s.size(), 0, s.size(), 0, s.size()};
  ValidatorParams p;
  p.min_entropy = min_entropy;
  return Validate(k, c, p);
}

int main() {
  CHECK(LuhnValid("4556737586899855"), "Luhn accepts a valid PAN");
  CHECK(!LuhnValid("4556737586899856"), "Luhn rejects a changed check digit");
  CHECK(CardIssuerValid("375260181590834") && !CardIssuerValid("9780306406157"), "issuer table: Amex yes, ISBN no");
  CHECK(CardIssuerValid("2221000000000009") && !CardIssuerValid("2721000000000000"), "Mastercard 2-series bounds");
  CHECK(V(ValidatorKind::kLuhn, "4556 7375 8689 9855"), "card with space groups");
  CHECK(!V(ValidatorKind::kLuhn, "4556-7375 8689-9855"), "mixed separators rejected");
  CHECK(!V(ValidatorKind::kLuhn, "4111111111111111"), "network test number rejected");
  CHECK(SsnValid(536, 22, 8745) && !SsnValid(666, 1, 1) && !SsnValid(900, 1, 1) && !SsnValid(1, 0, 1) && !SsnValid(1, 1, 0),
        "SSN area/group/serial rules");
  CHECK(!V(ValidatorKind::kSsn, "078-05-1120"), "Woolworth SSN rejected");
  CHECK(IbanValid("DE89370400440532013000") && !IbanValid("DE89370400440532013001"), "IBAN mod-97");
  CHECK(!IbanValid("DE8937040044053201300"), "IBAN wrong length for the country");
  CHECK(V(ValidatorKind::kIban, "BE68539007547034 DATA"), "IBAN retried without a swallowed word");
  CHECK(EmailValid("maria@acme-corp.com", 19) && !EmailValid("logo@2x.png", 11), "email TLD shape");
  CHECK(!EmailValid("a@example.com", 13) && !EmailValid("x@mail.example.org", 18) && !EmailValid("a@b.test", 8),
        "reserved domains");
  CHECK(!EmailValid("a..b@x.com", 10) && !EmailValid("a@-x.com", 8), "malformed local part / label");
  {
    std::string longer = std::string(60, 'm') + "@" + std::string(250, 'd') + ".Com";  // past the stack buffer
    CHECK(!EmailValid("NoReply@Acme-Corp.com", 21) && EmailValid("Maria@Acme-Corp.COM", 19) && EmailValid(longer.data(), longer.size()) &&
              !EmailValid((longer + "x.PNG").data(), longer.size() + 5),
          "email: role mailboxes and file types refused, any case, short and long");
  }
  CHECK(Ipv4Public("81.2.69.160", 11) && !Ipv4Public("10.1.2.3", 8) && !Ipv4Public("01.2.3.4", 8) &&
            !Ipv4Public("256.1.1.1", 9) && !Ipv4Public("203.0.113.5", 11),
        "IPv4 public unicast only");
  CHECK(Ipv6Public("2a00:1450:4001:81b::200e", 24) && !Ipv6Public("2001:db8::1:2:3", 15) && !Ipv6Public("fe80::1:2:3", 11) &&
            !Ipv6Public("12:30:45", 8),
        "IPv6 global unicast only");
  CHECK(V(ValidatorKind::kPhone, "(212) 736-5000") && !V(ValidatorKind::kPhone, "123-456-7890") &&
            !V(ValidatorKind::kPhone, "(555) 010-4477"),
        "NANP rules");
  CHECK(V(ValidatorKind::kPhone, "+44 7911 123456") && !V(ValidatorKind::kPhone, "+1234"), "E.164 length");
  CHECK(V(ValidatorKind::kDate, "1984-07-23") && !V(ValidatorKind::kDate, "1984-02-30") && !V(ValidatorKind::kDate, "2199-01-01") &&
            V(ValidatorKind::kDate, "29/02/2000") && !V(ValidatorKind::kDate, "29/02/1900"),
        "calendar dates, leap years");
  CHECK(V(ValidatorKind::kSecretValue, "Tr0ub4dor&3xK9", 2.8) && !V(ValidatorKind::kSecretValue, "${DB_PASSWORD}", 2.8) &&
            !V(ValidatorKind::kSecretValue, "settings.API_KEY", 2.8) && !V(ValidatorKind::kSecretValue, "changeme123", 2.8),
        "secret values vs placeholders and references");
  CHECK(ShannonEntropy("aaaa", 4) == 0 && ShannonEntropy("abcd", 4) == 2, "Shannon entropy");
  ValidatorKind k;
  CHECK(ParseValidator("luhn", &k) && k == ValidatorKind::kLuhn && !ParseValidator("nope", &k), "validator names");
  for (int len = 0; len < 64; ++len) {  // every prefix of hostile text: no validator may crash
    std::string s = std::string("\xff\x00@@..--::", 10).substr(0, len % 10) + std::string(len, '9');
    for (int v = 0; v <= static_cast<int>(ValidatorKind::kPemBase64); ++v) V(static_cast<ValidatorKind>(v), s, 3);
  }
  CHECK(true, "validators are total on hostile input");

  {
    // Distinct values: a flat set of hashes, 0 included, equal whatever the insertion order.
    HashSet a, b;
    for (uint64_t i = 0; i < 3000; ++i) a.insert(i * 0x9e3779b97f4a7c15ULL), a.insert(i * 0x9e3779b97f4a7c15ULL);
    for (uint64_t i = 3000; i-- > 0;) b.insert(i * 0x9e3779b97f4a7c15ULL);
    HashSet c = b;
    c.insert(12345);
    CHECK(a.size() == 3000 && a.contains(0) && a == b && !(a == c) && c.size() == 3001 && !a.contains(12345),
          "distinct-value set: duplicates once, zero kept, order-free equality");
  }
  CompileError err;
  auto bad = RuleSet::Compile({{"x", "(a", "", 0, 0, {}, {}}}, &err);
  CHECK(!bad && err.id == "x" && err.message.find("missing )") != std::string::npos, "compile error names the rule");
  auto rs = RuleSet::Compile({{"ssn", "\\b[0-9]{3}-[0-9]{2}-[0-9]{4}\\b", "ssn", 0, 0, {}, {}},
                              {"kw", "(?i)\\binternal use only\\b", "", 0, 0, {}, {}}},
                             &err);
  CHECK(rs != nullptr, "a small rule set compiles");
  std::string text;
  int planted = 0;
  while (text.size() < 3 * (1u << 20)) {
    text += "filler line with numbers 12 345 6789 and words\n";
    if (text.size() % 7 == 0 || text.size() % 5 == 0) {
      text += "SSN 536-22-8745 for internal use only\n";
      ++planted;
    }
  }
  std::vector<RuleHits> whole;
  CHECK(StreamScanner::ScanBuffer(rs, text.data(), text.size(), ScanOptions{}, &whole) == ScanStatus::kOk, "whole-buffer scan");
  CHECK(whole[0].count == static_cast<uint64_t>(planted) && whole[1].count == static_cast<uint64_t>(planted), "whole scan finds every planted match");
  for (size_t chunk : {1u, 97u, 4096u, 65536u, 1u << 20}) {
    StreamScanner s(rs, ScanOptions{});
    size_t limit = chunk == 1 ? 50000 : text.size();  // byte-by-byte only over a prefix
    for (size_t off = 0; off < limit; off += chunk) s.Feed(text.data() + off, std::min(chunk, limit - off));
    for (size_t off = limit; off < text.size(); off += 65536) s.Feed(text.data() + off, std::min<size_t>(65536, text.size() - off));
    s.Finish();
    char name[96];
    std::snprintf(name, sizeof name, "stream with %zu-byte chunks equals the whole scan", chunk);
    CHECK(s.hits()[0].count == whole[0].count && s.hits()[1].count == whole[1].count && s.hits()[0].lines == whole[0].lines, name);
  }
  ScanOptions capped;
  capped.candidate_cap = 10;
  std::vector<RuleHits> few;
  CHECK(StreamScanner::ScanBuffer(rs, text.data(), text.size(), capped, &few) == ScanStatus::kOk, "capped scan");
  CHECK(few[0].saturated && few[0].count >= 10 && few[0].count < whole[0].count && !whole[0].saturated,
        "a candidate cap bounds the work and marks the count as a lower bound");
  {
    // Offsets of validated values only; the look-alike (000 area) and the keyword are not values.
    std::string row = "1001,Alice,536-22-8147,4539148803436467\nSSN 000-22-8147 internal use only\n";
    std::vector<Match> ms;
    CHECK(StreamScanner::Locate(rs, row.data(), row.size(), false, &ms) == ScanStatus::kOk, "locate runs");
    bool ok = ms.size() == 2 && ms[0].rule == 0 && row.substr(ms[0].begin, ms[0].end - ms[0].begin) == "536-22-8147" &&
              ms[1].rule == 1 && ms[1].begin == row.find("internal");
    CHECK(ok, "locate gives the byte range of each validated match, in order");
    std::string csv = "7,0,536-22-8147,4539", dec = "536-22-8147.25";
    Candidate in_row{csv.data(), csv.size(), 4, 15, 4, 15}, decimal{dec.data(), dec.size(), 0, 11, 0, 11};
    CHECK(Validate(ValidatorKind::kSsn, in_row, ValidatorParams{}) && !Validate(ValidatorKind::kSsn, decimal, ValidatorParams{}),
          "an SSN between CSV commas is valid, one continued by a decimal part is not");
  }
  {
    // Pattern analysis: factors every match contains, with bounded context where there is one.
    PatternFacts ssn = AnalysePattern("\\b[0-9]{3}-[0-9]{2}-[0-9]{4}\\b");
    CHECK(ssn.understood && ssn.min_len == 11 && ssn.max_len == 11 && ssn.factors.size() == 1 &&
              ssn.factors[0].cls.size() == 11 && ssn.factors[0].before == 0 && ssn.factors[0].after == 0,
          "a fixed-shape pattern is its own factor");
    PatternFacts kw = AnalysePattern("(?i)\\bconfidential\\b");
    CHECK(kw.factors.size() == 1 && kw.factors[0].cls[0].test('c') && kw.factors[0].cls[0].test('C') && !kw.factors[0].cls[0].test('d'),
          "case-insensitive literals become two-byte classes");
    PatternFacts email = AnalysePattern("[a-z]+@[a-z]+\\.com");
    CHECK(email.max_len == kUnboundedLen && email.factors.size() == 1 && email.factors[0].before == kUnboundedLen &&
              email.factors[0].before_bytes.test('q') && !email.factors[0].before_bytes.test(' '),
          "an unbounded prefix is bounded by the bytes it can contain");
    PatternFacts alt = AnalysePattern("(?:AKIA|ASIA)[A-Z0-9]{16}|ghp_[a-z]{4}");
    CHECK(alt.factors.size() >= 2, "each alternative contributes its factor");
    PatternFacts none = AnalysePattern("a*b?");
    CHECK(none.understood && none.min_len == 0 && none.factors.empty(), "a pattern that may match nothing has no factor");
    CHECK(!AnalysePattern("\\pL+").understood && !AnalysePattern("[[:alpha:]]x").understood && !AnalysePattern("\\Qa.b\\E").understood,
          "syntax outside the analysed subset is reported as not understood");
    PatternFacts two = AnalysePattern("abc[0-9]+q{5}|xyz");
    bool long_alt = false, short_alt = false;
    for (const Factor& f : two.factors) {
      if (f.cls.back().test('c') || f.cls.back().test('q')) long_alt = f.min_len >= 9;
      if (f.cls[0].test('x')) short_alt = f.min_len <= 3;
    }
    CHECK(two.factors.size() == 2 && long_alt && short_alt,
          "each alternative's factor knows the shortest match it stands for (9 bytes, 3 bytes)");
    PatternFacts lead = AnalysePattern("\\b[0-9]{3}-[0-9]{4}"), trail = AnalysePattern("[0-9]{3}-[0-9]{4}\\b");
    CHECK(lead.factors.size() == 1 && lead.factors[0].word_boundary && trail.factors.size() == 1 && !trail.factors[0].word_boundary,
          "a \\b before a factor is known, one after it is not taken for one before");
    PatternFacts nda = AnalysePattern("(?i)\\b(?:under|subject to|covered by)(?: the| an)? (?:mutual )?(?:nda|non-disclosure agreement)\\b");
    FactorCheck second;
    second.Build(nda.also);
    std::string t1 = "shared under the NDA today", t2 = "shared under the table today";
    CHECK(!nda.also.empty() && nda.factors.size() == 3 && second.Within(t1.data(), 7, t1.size()) &&
              !second.Within(t2.data(), 7, t2.size()) && !second.Within(t1.data(), 7, 19),
          "a second factor set from other parts of a phrase, found only wholly inside the range");
    PatternFacts neg = AnalysePattern("(?i)[^a]x");
    CHECK(neg.understood && !neg.bytes.test('a') && !neg.bytes.test('A') && neg.bytes.test('b'), "a negated class under (?i) excludes both cases");
  }
  {
    // Repetitions cut to k: on every range of at most k bytes, the same match and submatches
    // (anchored and not), including where RE2's preference order between parses decides them.
    const char* patterns[] = {
        "(?i)(?:\\b|_)(?:secret|secret_?key|token)[\"']?[ \\t]{0,4}(?:=|:|=>|:=)[ \\t]{0,4}[\"']?([^\\s\"'<>;,]{8,256})",
        "(a?" "?)(a{1,40})", "(x{0,50}?)(x{2,60})y?", "((?:ab|a){1,40})(b{0,40})", "(?i)(k[0-9]{1,3}){2,50}",
        "(\\b\\w{3,100}\\b)", "(.{0,200}?)=(.{1,100})", "(?U)(a{2,90})(a*)", "((?:a|){1,60})(a{0,70})"};
    RE2::Options o;
    o.set_encoding(RE2::Options::EncodingLatin1);
    uint32_t seed = 7;
    auto next = [&]() { return seed = seed * 1664525u + 1013904223u; };
    bool same = true, shorter = true;
    int ranges = 0;
    for (const char* pat : patterns) {
      std::string cut = CapRepeats(pat, 32);
      RE2 full(pat, o), capped(cut.empty() ? std::string(pat) : cut, o);
      shorter = shorter && full.ok() && capped.ok() && (cut.empty() || capped.ProgramSize() < full.ProgramSize());
      int ng = full.NumberOfCapturingGroups() + 1;
      for (int round = 0; round < 12 && same; ++round) {
        std::string t;
        size_t len = 1 + next() % 120;
        while (t.size() < len) t.push_back("aAbxXyk0123=_ \n:;tokenTOKEN"[next() % 27]);
        re2::StringPiece text(t), g1[8], g2[8];
        for (size_t from = 0; from <= t.size() && same; ++from)
          for (size_t to = from; to <= t.size() && to - from <= 32 && same; ++to)
            for (RE2::Anchor a : {RE2::UNANCHORED, RE2::ANCHOR_START}) {
              bool m1 = full.Match(text, from, to, a, g1, ng), m2 = capped.Match(text, from, to, a, g2, ng);
              same = m1 == m2;
              for (int k = 0; same && m1 && k < ng; ++k) same = g1[k].data() == g2[k].data() && g1[k].size() == g2[k].size();
              ++ranges;
            }
      }
    }
    CHECK(CapRepeats("a{2,40}", 32) == "a{2,32}" && CapRepeats("(?:\\b){0,40}x{5,9}", 32).empty() && CapRepeats("a{40,90}", 32) == "a{40,40}" &&
              CapRepeats("[{]{1,99}", 8) == "[{]{1,8}" && CapRepeats("\\pL{1,99}", 8).empty(),
          "repetitions of parts that cannot be empty are cut to k (not below their minimum)");
    CHECK(same && shorter && ranges > 100000, "a pattern with repetitions cut finds the same submatches on every range of at most k bytes");
  }
  {
    // The bytes every match still holds after a factor are checked with it: a time of day is no
    // occurrence of an IPv6 factor (its shortest match runs on for ten bytes of hex and ':'),
    // a digit run too short for a card none of the card's first digits; real values still are.
    PatternFacts v6 = AnalysePattern("(?i)(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}|(?:[0-9a-f]{1,4}:){1,6}(?::[0-9a-f]{1,4}){1,6}|(?:[0-9a-f]{1,4}:){2,7}:");
    PatternFacts card = AnalysePattern("\\b[0-9](?:[ -]?[0-9]){12,18}\\b");
    Prefilter pf;
    pf.Build({&v6.factors, &card.factors});
    auto hits_in = [&](const std::string& t) {
      std::vector<Prefilter::Hit> h;
      for (int level = 0; level <= 2; ++level) {
        PrefilterForceLevel(level);
        h.clear();
        pf.Scan(t.data(), t.size(), 0, t.size(), ~0u, &h);
      }
      PrefilterForceLevel(0);
      return h.size();
    };
    std::string times = "[12/Mar/2025:10:34:22 +0000] at 10:34:22 and 23:59:01, ids 12345678, 87654321 ", real = " 2a00:1450:4001:81b::200e 4556737586899855 ";
    std::string padded = times + times + times;  // long enough for the SIMD levels
    CHECK(hits_in(padded) == 0 && hits_in(padded + real + padded) > 0,
          "bytes a match must hold after a factor stop times of day and short digit runs in the prefilter");
  }
  {
    // The prefiltered scan equals the scan of every rule over every byte, on each scan level
    // (portable, AVX2, AVX-512 VBMI where the machine has them), for counts, lines and matches.
    auto set = RuleSet::Compile({{"email", "[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}", "", 0, 0, {}, {}},
                                 {"ssn", "\\b[0-9]{3}-[0-9]{2}-[0-9]{4}\\b", "", 0, 0, {}, {}},
                                 {"kw", "(?i)\\b(?:internal|confidential) (?:use|data)\\b", "", 0, 0, {}, {}},
                                 {"key", "\\b(AKIA[A-Z0-9]{16})\\b", "", 1, 0, {}, {}},
                                 {"tail", "value[ \\t]*=[ \\t]*([^\\s]+)", "", 1, 0, {}, {}},
                                 // Searched with its repetitions cut on short spans.
                                 {"assign", "(?i)(?:\\b|_)(?:token|api_?key)[ \\t]{0,4}(?:=|:|:=)[ \\t]{0,4}([^\\s;,]{4,256})", "", 1, 0, {}, {}}},
                                &err);
    const char* pieces[] = {"maria@example.org ", "536-22-8745 ", "Internal Use ", "AKIAABCDEFGHIJKLMNOP ",
                            "value = s3cr3t\n", "x@y.z ", "123-45-678 ", "a.b@c.de", "valuevalue=", "@@@@",
                            "token := computeToken(a);", "api_key: ", "_TOKEN=abcdefghijklmnopqrstuvwxyz0123456789"};
    uint32_t seed = 99;
    auto next = [&]() { return seed = seed * 1664525u + 1013904223u; };
    bool same = true;
    for (int level = 0; level <= 2 && same; ++level) {
      PrefilterForceLevel(level);
      for (int round = 0; round < 40 && same; ++round) {
        std::string t;
        size_t len = 1 + next() % 200000;
        while (t.size() < len) {
          uint32_t x = next() % 100;
          if (x < 15) t += pieces[next() % 13];
          else t.push_back(" aeiou0123456789-.@=\nAKIvlu"[next() % 28]);
        }
        for (uint32_t cap : {0u, 2u, 64u}) {
          ScanOptions on, off;
          on.candidate_cap = off.candidate_cap = cap;
          off.prefilter = false;
          std::vector<RuleHits> a, b;
          StreamScanner::ScanBuffer(set, t.data(), t.size(), on, &a);
          StreamScanner::ScanBuffer(set, t.data(), t.size(), off, &b);
          for (size_t i = 0; i < a.size(); ++i)
            same = same && a[i].count == b[i].count && a[i].rejected == b[i].rejected && a[i].lines == b[i].lines &&
                   a[i].distinct == b[i].distinct && a[i].saturated == b[i].saturated;
        }
        std::vector<Match> ma, mb;
        StreamScanner::Locate(set, t.data(), t.size(), false, &ma, true);
        StreamScanner::Locate(set, t.data(), t.size(), false, &mb, false);
        same = same && ma.size() == mb.size();
        for (size_t i = 0; same && i < ma.size(); ++i) same = ma[i].rule == mb[i].rule && ma[i].begin == mb[i].begin && ma[i].end == mb[i].end;
      }
    }
    PrefilterForceLevel(0);
    CHECK(same, "prefiltered scans and locates equal full scans on every scan level");
  }
  std::printf("1..%d\n", count);
  return failures ? 1 : 0;
}
