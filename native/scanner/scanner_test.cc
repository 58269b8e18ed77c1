// C++ tests of scanner.h and validators.h without N-API or Node: validators on edge cases, and
// the streaming scanner against a whole-buffer scan. Built and run by
// test/classify/native-cpp.test.ts (g++ ... -lre2); prints "ok N - name" lines and exits 1 on failure.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

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
  std::printf("1..%d\n", count);
  return failures ? 1 : 0;
}
