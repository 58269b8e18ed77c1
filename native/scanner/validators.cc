// Validators for scanner candidates: checksums (Luhn, mod-97), structural rules (SSN, IBAN
// lengths, NANP), shape checks (TLDs, IP ranges) and context checks around the match.
// Every function here is total: any byte sequence, including invalid UTF-8, is safe input.
#include "validators.h"

#include <arpa/inet.h>

#include <cctype>
#include <cmath>
#include <cstring>
#include <iterator>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace lacuna {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAlnum(char c) { return IsDigit(c) || IsAlpha(c); }
char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

std::string Digits(const char* s, size_t n) {
  std::string d;
  for (size_t i = 0; i < n; ++i)
    if (IsDigit(s[i])) d.push_back(s[i]);
  return d;
}

std::string LowerStr(const char* s, size_t n) {
  std::string out(s, n);
  for (auto& c : out) c = Lower(c);
  return out;
}

int Prefix(const std::string& d, size_t k) {
  if (d.size() < k) return -1;
  return std::stoi(d.substr(0, k));
}

// A number embedded in a longer numeric token (decimal fraction, dotted version, dashed id)
// is not a standalone identifier: "0.4111111111111111" is a float, "1.2.3.4.5" a version.
// With `comma_is_field`, a comma on either side is a field boundary (a CSV row), never a
// decimal comma: right for shapes no decimal number takes (a dashed SSN).
bool NumericContinues(const Candidate& c, bool comma_is_field = false) {
  const char* w = c.window;
  size_t b = c.match_begin, e = c.match_end;
  if (b >= 1) {
    char p = w[b - 1];
    if (IsAlnum(p)) return true;
    if ((p == '.' || p == '-' || p == '/' || p == '_') && b >= 2 && IsDigit(w[b - 2])) return true;
    // "0,4556..." is a decimal comma; "12,4556..." is the next field of a CSV row.
    if (!comma_is_field && p == ',' && b >= 2 && w[b - 2] == '0' && (b < 3 || !IsDigit(w[b - 3]))) return true;
  }
  if (e < c.window_len) {
    char n = w[e];
    if (IsAlnum(n) || n == '_') return true;
    if ((n == '.' || (n == ',' && !comma_is_field) || n == '-' || n == '/') && e + 1 < c.window_len && IsDigit(w[e + 1]))
      return true;
  }
  return false;
}

// Separators inside a grouped number must all be the same character.
bool ConsistentSeparators(const char* s, size_t n, std::vector<size_t>* groups) {
  char sep = 0;
  size_t run = 0;
  for (size_t i = 0; i < n; ++i) {
    if (IsDigit(s[i])) {
      ++run;
      continue;
    }
    if (sep == 0) sep = s[i];
    if (s[i] != sep || run == 0) return false;
    groups->push_back(run);
    run = 0;
  }
  if (run == 0) return false;
  groups->push_back(run);
  return true;
}

const std::unordered_set<std::string>& KnownTestCards() {
  // Published test numbers of card networks and payment processors: they pass Luhn but are
  // documentation, not cardholder data.
  static const std::unordered_set<std::string> k = {
      "4111111111111111", "4242424242424242", "4012888888881881", "4000056655665556",
      "4222222222222",    "5555555555554444", "5105105105105100", "5200828282828210",
      "2223003122003222", "378282246310005",  "371449635398431",  "378734493671000",
      "6011111111111117", "6011000990139424", "3530111333300000", "3566002020360505",
      "30569309025904",   "38520000023237",   "6200000000000005", "4000000000000002",
      "4000000000009995", "5431111111111111", "4917610000000000003"};
  return k;
}

bool ValidateCard(const Candidate& c) {
  if (NumericContinues(c)) return false;
  // "+4915112345678" is an international phone number, never a card number.
  if (c.match_begin >= 1 && c.window[c.match_begin - 1] == '+') return false;
  const char* s = c.window + c.value_begin;
  size_t n = c.value_end - c.value_begin;
  std::vector<size_t> g;
  if (!ConsistentSeparators(s, n, &g)) return false;
  std::string d = Digits(s, n);
  if (d.size() < 13 || d.size() > 19) return false;
  if (g.size() > 1) {
    bool fours = true;
    for (size_t i = 0; i + 1 < g.size(); ++i) fours = fours && g[i] == 4;
    fours = fours && g.back() >= 1 && g.back() <= 4;
    bool amex = g.size() == 3 && g[0] == 4 && g[1] == 6 && (g[2] == 5 || g[2] == 4);
    if (!fours && !amex) return false;
  }
  // Periodic numbers (4556 4556 4556 4556, 1212...) are fillers and test patterns, not PANs.
  for (size_t period = 1; period <= 4; ++period) {
    bool periodic = true;
    for (size_t i = period; i < d.size() && periodic; ++i) periodic = d[i] == d[i - period];
    if (periodic) return false;
  }
  if (KnownTestCards().count(d)) return false;
  return CardIssuerValid(d) && LuhnValid(d);
}

bool ValidateSsn(const Candidate& c) {
  // "...,536-22-8147,4539..." is a CSV row: the commas delimit fields. (Tab, semicolon, pipe
  // and quotes never continue a number.) A dot, dash or slash followed by a digit still does.
  if (NumericContinues(c, /*comma_is_field=*/true)) return false;
  const char* s = c.window + c.value_begin;
  size_t n = c.value_end - c.value_begin;
  std::vector<size_t> g;
  if (!ConsistentSeparators(s, n, &g)) return false;
  if (!(g.size() == 1 && g[0] == 9) && !(g.size() == 3 && g[0] == 3 && g[1] == 2 && g[2] == 4))
    return false;
  std::string d = Digits(s, n);
  // Numbers the SSA itself published in advertising or that are textbook placeholders.
  if (d == "078051120" || d == "219099999" || d == "123456789") return false;
  return SsnValid(std::stoi(d.substr(0, 3)), std::stoi(d.substr(3, 2)), std::stoi(d.substr(5, 4)));
}

bool ValidatePhone(const Candidate& c) {
  if (NumericContinues(c)) return false;
  const char* s = c.window + c.value_begin;
  size_t n = c.value_end - c.value_begin;
  std::string d = Digits(s, n);
  // A phone number never has two separators in a row (". -" style noise means a table of numbers).
  for (size_t i = 1; i < n; ++i) {
    bool a = !IsDigit(s[i - 1]) && s[i - 1] != '(' && s[i - 1] != ')' && s[i - 1] != '+';
    bool b = !IsDigit(s[i]) && s[i] != '(' && s[i] != ')';
    if (a && b) return false;
  }
  if (d.find_first_not_of(d[0]) == std::string::npos) return false;
  auto nanp = [](const std::string& ten) {
    if (ten.size() != 10) return false;
    if (ten[0] < '2' || ten[3] < '2') return false;
    if (ten[1] == '1' && ten[2] == '1') return false;      // N11 service codes
    if (ten.compare(3, 3, "555") == 0 && ten.compare(6, 2, "01") == 0) return false;  // fictional
    if (ten.compare(0, 3, "555") == 0) return false;
    return true;
  };
  if (n > 0 && s[0] != '+') {
    // The national part of "+1 (212) 736-5000" is already counted by the E.164 rule.
    size_t b = c.value_begin, lo = b >= 6 ? b - 6 : 0;
    for (size_t i = b; i > lo; --i) {
      char q = c.window[i - 1];
      if (q == '+') return false;
      if (!(IsDigit(q) || q == ' ' || q == '-' || q == '.')) break;
    }
  }
  if (n > 0 && s[0] == '+') {
    if (d.size() < 8 || d.size() > 15) return false;
    if (d[0] == '1') return d.size() == 11 && nanp(d.substr(1));
    return d[0] != '0';
  }
  if (d[0] == '0') return d.size() >= 10 && d.size() <= 11 && d[1] != '0';
  return nanp(d);
}

// Sets of string literals, looked up by views: an email candidate is checked without a string
// allocated for it (this validator runs on every email candidate; copies were ~4% of a scan).
const std::unordered_set<std::string_view>& FileExtensions() {
  // "icon@2x.png" or "module@1.2.3.tgz" look like addresses; their last label is a file type.
  static const std::unordered_set<std::string_view> k = {
      "png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "bmp", "tif", "tiff", "js", "mjs",
      "cjs", "ts", "tsx", "jsx", "css", "scss", "less", "html", "htm", "json", "yaml", "yml",
      "xml", "txt", "md", "py", "rb", "go", "rs", "java", "kt", "swift", "php", "sh", "tgz",
      "gz", "zip", "tar", "bz2", "xz", "pdf", "doc", "docx", "xls", "xlsx", "csv", "tsv",
      "log", "lock", "map", "woff", "woff2", "ttf", "otf", "eot", "mp3", "mp4", "wav",
      "avi", "mov", "mkv", "so", "dll", "exe", "bin", "dat", "wasm", "node", "vue", "svelte"};
  return k;
}

const std::unordered_set<std::string_view>& RoleLocals() {
  // Shared mailboxes and service identities: addresses, but not of a person.
  static const std::unordered_set<std::string_view> k = {
      "noreply", "no-reply", "donotreply", "do-not-reply", "info", "support", "admin",
      "administrator", "webmaster", "postmaster", "hostmaster", "abuse", "security", "sales",
      "contact", "help", "hello", "team", "privacy", "legal", "press", "media", "jobs",
      "careers", "billing", "root", "git", "mailer-daemon", "notifications", "notification",
      "marketing", "office", "enquiries", "inquiries", "feedback", "dev", "devnull", "nobody"};
  return k;
}

bool DomainReserved(std::string_view dom) {
  auto ends = [&](const char* suf) {
    size_t k = std::strlen(suf);
    return dom.size() >= k && dom.compare(dom.size() - k, k, suf) == 0 &&
           (dom.size() == k || dom[dom.size() - k - 1] == '.');
  };
  if (ends("test") || ends("example") || ends("invalid") || ends("localhost")) return true;
  // example.com, example.org, example.co.uk, mail.example.net ...
  size_t pos = 0;
  while (pos < dom.size()) {
    size_t dot = dom.find('.', pos);
    std::string_view label = dom.substr(pos, dot == std::string_view::npos ? std::string_view::npos : dot - pos);
    if (label == "example" && dot != std::string_view::npos) return true;
    if (dot == std::string_view::npos) break;
    pos = dot + 1;
  }
  return false;
}

bool ValidateEmail(const Candidate& c) {
  const char* s = c.window + c.value_begin;
  size_t n = c.value_end - c.value_begin;
  if (c.value_begin > 0) {
    char p = c.window[c.value_begin - 1];
    // Part of a longer token (a URL's userinfo, a path) rather than a standalone address.
    if (p == '/' || p == ':' || p == '@' || p == '=' ) return false;
  }
  return EmailValid(s, n);
}

bool ValidateIpv4(const Candidate& c) {
  if (NumericContinues(c)) return false;
  // "version 10.2.0.1", "v1.2.3.4": a version, not an address.
  size_t b = c.match_begin;
  size_t lo = b >= 12 ? b - 12 : 0;
  std::string before = LowerStr(c.window + lo, b - lo);
  if (before.find("version") != std::string::npos || before.find("ver ") != std::string::npos ||
      before.find("release") != std::string::npos || before.find("build") != std::string::npos)
    return false;
  if (b >= 1 && Lower(c.window[b - 1]) == 'v') return false;
  return Ipv4Public(c.window + c.value_begin, c.value_end - c.value_begin);
}

bool ValidateIpv6(const Candidate& c) {
  size_t b = c.match_begin, e = c.match_end;
  if (b >= 1 && (IsAlnum(c.window[b - 1]) || c.window[b - 1] == ':')) return false;
  if (e < c.window_len && (IsAlnum(c.window[e]) || c.window[e] == ':')) return false;
  return Ipv6Public(c.window + c.value_begin, c.value_end - c.value_begin);
}

int MonthFromName(const std::string& w) {
  static const char* names[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                "jul", "aug", "sep", "oct", "nov", "dec"};
  if (w.size() < 3) return 0;
  for (int i = 0; i < 12; ++i)
    if (w.compare(0, 3, names[i]) == 0) return i + 1;
  return 0;
}

bool DayValid(int y, int m, int d) {
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1) return false;
  int max = days[m - 1];
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (m == 2 && leap) max = 29;
  return d <= max;
}

bool ValidateDate(const Candidate& c, const ValidatorParams& p) {
  std::string v = LowerStr(c.window + c.value_begin, c.value_end - c.value_begin);
  std::vector<int> nums;
  std::vector<size_t> widths;
  int month_name = 0;
  for (size_t i = 0; i < v.size();) {
    if (IsDigit(v[i])) {
      size_t j = i;
      while (j < v.size() && IsDigit(v[j])) ++j;
      if (j - i > 4) return false;
      nums.push_back(std::stoi(v.substr(i, j - i)));
      widths.push_back(j - i);
      i = j;
    } else if (IsAlpha(v[i])) {
      size_t j = i;
      while (j < v.size() && IsAlpha(v[j])) ++j;
      int m = MonthFromName(v.substr(i, j - i));
      if (m) month_name = m;
      i = j;
    } else {
      ++i;
    }
  }
  auto ok = [&](int y, int m, int d) {
    return y >= 1900 && y <= p.current_year && DayValid(y, m, d);
  };
  if (month_name) {
    if (nums.size() != 2) return false;
    int y = widths[0] == 4 ? nums[0] : nums[1];
    int d = widths[0] == 4 ? nums[1] : nums[0];
    return ok(y, month_name, d);
  }
  if (nums.size() != 3) return false;
  if (widths[0] == 4) return ok(nums[0], nums[1], nums[2]);
  if (widths[2] == 4) return ok(nums[2], nums[1], nums[0]) || ok(nums[2], nums[0], nums[1]);
  return false;
}

const char* kPlaceholders[] = {
    "changeme", "change_me", "change-me", "password", "passwd", "secret", "example", "placeholder",
    "your_", "your-", "yourpass", "redacted", "dummy", "sample", "todo", "fixme", "xxxx", "****",
    "....", "<", ">", "${", "{{", "%(", "%s", "process.env", "os.environ", "getenv", "env(",
    "vault:", "null", "none", "undefined", "true", "false", "required", "optional", "string",
    "*****", "hunter2", "letmein", "foobar", "test1234", "abcdef", "123456"};

// The placeholders with their lengths, measured once.
const std::vector<std::string_view>& Placeholders() {
  static const std::vector<std::string_view> k(std::begin(kPlaceholders), std::end(kPlaceholders));
  return k;
}

// True for letters only, shaped as an optional lowercase head followed by one or more
// capitalised words (an uppercase letter and at least two lowercase ones).
bool CamelWords(const char* s, size_t n) {
  size_t i = 0;
  while (i < n && s[i] >= 'a' && s[i] <= 'z') ++i;
  int words = 0;
  while (i < n) {
    if (!(s[i] >= 'A' && s[i] <= 'Z')) return false;
    size_t j = i + 1;
    while (j < n && s[j] >= 'a' && s[j] <= 'z') ++j;
    if (j - i < 3) return false;
    ++words;
    i = j;
  }
  return words > 0;
}

bool ValidateSecretValue(const Candidate& c, const ValidatorParams& p) {
  const char* s = c.window + c.value_begin;
  size_t n = c.value_end - c.value_begin;
  while (n > 0 && (s[n - 1] == '"' || s[n - 1] == '\'' || s[n - 1] == ',' || s[n - 1] == ';' ||
                   s[n - 1] == ')' || s[n - 1] == '}' || s[n - 1] == '.' || s[n - 1] == ':'))
    --n;
  if (n < 8) return false;
  std::string v = LowerStr(s, n);
  // The cheap refusals first (a call `computeToken(a)` is common in code), then the placeholder
  // words: the same answer in any order.
  if (v[0] == '$' || v[0] == '/' || v[0] == '~' || v[0] == '@' || v[0] == '.' || v[0] == '&' ||
      v[0] == '*')
    return false;
  if (v.find("://") != std::string::npos) return false;
  if (v.find('(') != std::string::npos || v.find('[') != std::string::npos) return false;
  for (std::string_view ph : Placeholders())
    if (v.find(ph) != std::string::npos) return false;
  // A dotted identifier (config.db.password, self.token) is a reference, not a value.
  bool ident = IsAlpha(v[0]) || v[0] == '_';
  bool dotted = false;
  for (char ch : v) {
    if (ch == '.') dotted = true;
    else if (!(IsAlnum(ch) || ch == '_')) ident = false;
  }
  if (ident && dotted) return false;
  int classes = 0;
  bool lo = false, up = false, dg = false, ot = false;
  for (size_t i = 0; i < n; ++i) {
    char ch = s[i];
    if (ch >= 'a' && ch <= 'z') lo = true;
    else if (ch >= 'A' && ch <= 'Z') up = true;
    else if (IsDigit(ch)) dg = true;
    else ot = true;
  }
  classes = lo + up + dg + ot;
  // snake_case / lowercase words are identifiers (a variable holding the secret), not secrets.
  if (ident && !up && !dg) return false;
  // camelCase / PascalCase words (CancellationToken, accessTokenProvider) name a type or a
  // variable, as in `token: CancellationToken`; generated secrets do not read as runs of
  // capitalised words of three letters or more.
  if (ident && !dg && !dotted && CamelWords(s, n)) return false;
  double h = ShannonEntropy(s, n);
  double min = p.min_entropy > 0 ? p.min_entropy : 3.0;
  if (classes >= 2) return h >= min;
  return n >= 20 && h >= min + 0.5;
}

int B64Val(char ch) {
  if (ch >= 'A' && ch <= 'Z') return ch - 'A';
  if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
  if (IsDigit(ch)) return ch - '0' + 52;
  if (ch == '-' || ch == '+') return 62;
  if (ch == '_' || ch == '/') return 63;
  return -1;
}

bool ValidateJwt(const Candidate& c) {
  const char* s = c.window + c.value_begin;
  size_t n = c.value_end - c.value_begin;
  size_t dot = 0;
  while (dot < n && s[dot] != '.') ++dot;
  if (dot == n || dot > 2048) return false;
  std::string out;
  int acc = 0, bits = 0;
  for (size_t i = 0; i < dot; ++i) {
    int v = B64Val(s[i]);
    if (v < 0) return false;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return !out.empty() && out[0] == '{' && out.find("\"alg\"") != std::string::npos;
}

// kubeconfig client-key-data, Helm values, CI variables: a PEM file base64-encoded whole.
bool ValidatePemBase64(const Candidate& c) {
  const char* s = c.window + c.value_begin;
  size_t n = c.value_end - c.value_begin;
  std::string out;
  int acc = 0, bits = 0;
  for (size_t i = 0; i < n; ++i) {
    int v = B64Val(s[i]);
    if (v < 0) break;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  size_t h = out.find("PRIVATE KEY-----");
  if (h == std::string::npos) return false;
  size_t body = out.find('\n', h);
  if (body == std::string::npos) return false;
  size_t run = 0;
  for (size_t i = body + 1; i < out.size() && B64Val(out[i]) >= 0; ++i) ++run;
  return run >= 16 && ShannonEntropy(out.data() + body + 1, run) >= 3.5;
}

bool HasExampleMarker(const char* s, size_t n) {
  std::string v = LowerStr(s, n);
  return v.find("example") != std::string::npos || v.find("xxxxxxxx") != std::string::npos ||
         v.find("00000000") != std::string::npos;
}

}  // namespace

bool ParseValidator(const std::string& name, ValidatorKind* out) {
  static const std::unordered_map<std::string, ValidatorKind> k = {
      {"", ValidatorKind::kNone},           {"none", ValidatorKind::kNone},
      {"luhn", ValidatorKind::kLuhn},       {"ssn", ValidatorKind::kSsn},
      {"iban", ValidatorKind::kIban},       {"email", ValidatorKind::kEmail},
      {"phone", ValidatorKind::kPhone},     {"ipv4", ValidatorKind::kIpv4},
      {"ipv6", ValidatorKind::kIpv6},       {"date", ValidatorKind::kDate},
      {"entropy", ValidatorKind::kEntropy}, {"secret_value", ValidatorKind::kSecretValue},
      {"jwt", ValidatorKind::kJwt},         {"aws_key_id", ValidatorKind::kAwsKeyId},
      {"pem", ValidatorKind::kPem},         {"pem_base64", ValidatorKind::kPemBase64}};
  auto it = k.find(name);
  if (it == k.end()) return false;
  *out = it->second;
  return true;
}

double ShannonEntropy(const char* s, size_t n) {
  if (n == 0) return 0;
  size_t counts[256] = {0};
  for (size_t i = 0; i < n; ++i) ++counts[static_cast<unsigned char>(s[i])];
  double h = 0;
  for (size_t c : counts) {
    if (!c) continue;
    double p = static_cast<double>(c) / n;
    h -= p * std::log2(p);
  }
  return h;
}

bool LuhnValid(const std::string& d) {
  int sum = 0;
  bool dbl = false;
  for (size_t i = d.size(); i-- > 0;) {
    int v = d[i] - '0';
    if (dbl) {
      v *= 2;
      if (v > 9) v -= 9;
    }
    sum += v;
    dbl = !dbl;
  }
  return sum % 10 == 0;
}

bool CardIssuerValid(const std::string& d) {
  size_t L = d.size();
  int p1 = Prefix(d, 1), p2 = Prefix(d, 2), p3 = Prefix(d, 3), p4 = Prefix(d, 4), p6 = Prefix(d, 6);
  if (p1 == 4) return L == 13 || L == 16 || L == 19;                                 // Visa
  if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return L == 16;          // Mastercard
  if (p2 == 34 || p2 == 37) return L == 15;                                          // Amex
  if (p4 == 6011 || (p3 >= 644 && p3 <= 649) || p2 == 65 || (p6 >= 622126 && p6 <= 622925))
    return L >= 16 && L <= 19;                                                       // Discover
  if (p4 >= 3528 && p4 <= 3589) return L >= 16 && L <= 19;                           // JCB
  if ((p3 >= 300 && p3 <= 305) || p3 == 309 || p2 == 36 || p2 == 38 || p2 == 39)
    return L >= 14 && L <= 19;                                                       // Diners
  if (p2 == 62) return L >= 16 && L <= 19;                                           // UnionPay
  if (p4 == 5018 || p4 == 5020 || p4 == 5038 || p4 == 5893 || p4 == 6304 || p4 == 6759 ||
      (p4 >= 6761 && p4 <= 6763))
    return L >= 12 && L <= 19;                                                       // Maestro
  return false;
}

bool SsnValid(int area, int group, int serial) {
  if (area == 0 || area == 666 || area >= 900) return false;
  return group != 0 && serial != 0;
}

bool IbanValid(const std::string& iban) {
  static const std::unordered_map<std::string, size_t> len = {
      {"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20}, {"BE", 16},
      {"BG", 22}, {"BH", 22}, {"BR", 29}, {"BY", 28}, {"CH", 21}, {"CR", 22}, {"CY", 28},
      {"CZ", 24}, {"DE", 22}, {"DK", 18}, {"DO", 28}, {"EE", 20}, {"EG", 29}, {"ES", 24},
      {"FI", 18}, {"FO", 18}, {"FR", 27}, {"GB", 22}, {"GE", 22}, {"GI", 23}, {"GL", 18},
      {"GR", 27}, {"GT", 28}, {"HR", 21}, {"HU", 28}, {"IE", 22}, {"IL", 23}, {"IQ", 23},
      {"IS", 26}, {"IT", 27}, {"JO", 30}, {"KW", 30}, {"KZ", 20}, {"LB", 28}, {"LC", 32},
      {"LI", 21}, {"LT", 20}, {"LU", 20}, {"LV", 21}, {"MC", 27}, {"MD", 24}, {"ME", 22},
      {"MK", 19}, {"MR", 27}, {"MT", 31}, {"MU", 30}, {"NL", 18}, {"NO", 15}, {"PK", 24},
      {"PL", 28}, {"PS", 29}, {"PT", 25}, {"QA", 29}, {"RO", 24}, {"RS", 22}, {"SA", 24},
      {"SC", 31}, {"SE", 24}, {"SI", 19}, {"SK", 24}, {"SM", 27}, {"ST", 25}, {"SV", 28},
      {"TL", 23}, {"TN", 24}, {"TR", 26}, {"UA", 29}, {"VA", 22}, {"VG", 24}, {"XK", 20}};
  if (iban.size() < 15) return false;
  auto it = len.find(iban.substr(0, 2));
  if (it == len.end() || it->second != iban.size()) return false;
  if (!IsDigit(iban[2]) || !IsDigit(iban[3])) return false;
  int check = (iban[2] - '0') * 10 + (iban[3] - '0');
  if (check < 2 || check > 98) return false;
  std::string r = iban.substr(4) + iban.substr(0, 4);
  int mod = 0;
  for (char ch : r) {
    if (IsDigit(ch)) {
      mod = (mod * 10 + (ch - '0')) % 97;
    } else if (ch >= 'A' && ch <= 'Z') {
      int v = ch - 'A' + 10;
      mod = (mod * 100 + v) % 97;
    } else {
      return false;
    }
  }
  return mod == 1;
}

bool EmailValid(const char* s, size_t n) {
  // Lower-cased on the stack when it fits (addresses are short), else in a string.
  char small[256];
  std::string big;
  char* low = small;
  if (n > sizeof small) big.resize(n), low = &big[0];
  for (size_t i = 0; i < n; ++i) low[i] = Lower(s[i]);
  std::string_view v(low, n);
  size_t at = v.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= v.size()) return false;
  std::string_view local = v.substr(0, at), dom = v.substr(at + 1);
  if (local.size() > 64 || local.front() == '.' || local.back() == '.' ||
      local.find("..") != std::string_view::npos)
    return false;
  if (RoleLocals().count(local)) return false;
  size_t dot = dom.rfind('.');
  if (dot == std::string_view::npos) return false;
  std::string_view tld = dom.substr(dot + 1);
  if (tld.size() < 2 || tld.size() > 24) return false;
  for (char ch : tld)
    if (!IsAlpha(ch)) return false;
  if (FileExtensions().count(tld)) return false;
  for (size_t i = 0; i < dom.size(); ++i) {
    if (dom[i] == '-' && (i == 0 || dom[i - 1] == '.' || i + 1 == dom.size() || dom[i + 1] == '.'))
      return false;
    if (dom[i] == '.' && i + 1 < dom.size() && dom[i + 1] == '.') return false;
  }
  return !DomainReserved(dom);
}

bool Ipv4Public(const char* s, size_t n) {
  int o[4];
  size_t k = 0, i = 0;
  while (k < 4) {
    if (i >= n || !IsDigit(s[i])) return false;
    size_t j = i;
    int v = 0;
    while (j < n && IsDigit(s[j])) v = v * 10 + (s[j++] - '0');
    if (j - i > 3 || v > 255 || (j - i > 1 && s[i] == '0')) return false;
    o[k++] = v;
    if (k < 4) {
      if (j >= n || s[j] != '.') return false;
      ++j;
    }
    i = j;
  }
  if (i != n) return false;
  int a = o[0], b = o[1], c = o[2], d = o[3];
  if (a == 0 || a == 10 || a == 127 || a >= 224) return false;
  if (a == 100 && b >= 64 && b <= 127) return false;   // CGNAT
  if (a == 169 && b == 254) return false;               // link-local
  if (a == 172 && b >= 16 && b <= 31) return false;
  if (a == 192 && b == 168) return false;
  if (a == 192 && b == 0 && (c == 0 || c == 2)) return false;
  if (a == 198 && (b == 18 || b == 19)) return false;   // benchmarking
  if (a == 198 && b == 51 && c == 100) return false;    // documentation
  if (a == 203 && b == 0 && c == 113) return false;     // documentation
  // Well-known public resolvers identify a service, not a person.
  if ((a == 8 && b == 8 && (c == 8 || c == 4) && (d == 8 || d == 4)) || (a == 1 && b == 1 && c == 1 && d == 1) ||
      (a == 1 && b == 0 && c == 0 && d == 1) || (a == 9 && b == 9 && c == 9 && d == 9) ||
      (a == 208 && b == 67 && (c == 222 || c == 220) && (d == 222 || d == 220)))
    return false;
  return true;
}

bool Ipv6Public(const char* s, size_t n) {
  if (n < 3 || n > 45) return false;
  std::string v(s, n);
  size_t colons = 0;
  for (char ch : v) colons += ch == ':';
  bool compressed = v.find("::") != std::string::npos;
  if (!compressed && colons != 7) return false;
  if (compressed && colons < 3) return false;  // "a::b" is more often code than an address
  unsigned char a[16];
  if (inet_pton(AF_INET6, v.c_str(), a) != 1) return false;
  bool zero = true;
  for (int i = 0; i < 15; ++i) zero = zero && a[i] == 0;
  if (zero) return false;                                   // :: and ::1
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return false;  // link-local fe80::/10
  if ((a[0] & 0xfe) == 0xfc) return false;                  // unique local fc00::/7
  if (a[0] == 0xff) return false;                           // multicast
  if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8) return false;  // doc 2001:db8::/32
  // Global unicast lives in 2000::/3; anything else in text is rarely a host address.
  return (a[0] & 0xe0) == 0x20;
}

bool Validate(ValidatorKind kind, const Candidate& c, const ValidatorParams& p, size_t* value_end) {
  const char* s = c.window + c.value_begin;
  size_t n = c.value_end - c.value_begin;
  switch (kind) {
    case ValidatorKind::kNone:
      return true;
    case ValidatorKind::kLuhn:
      return ValidateCard(c);
    case ValidatorKind::kSsn:
      return ValidateSsn(c);
    case ValidatorKind::kIban: {
      if (c.match_begin > 0 && IsAlnum(c.window[c.match_begin - 1])) return false;
      // The greedy pattern can swallow a following 4-letter word ("...7034 DATA"): if the
      // whole candidate fails, retry without its last space-separated group.
      for (int attempt = 0; attempt < 2; ++attempt) {
        std::string compact;
        for (size_t i = 0; i < n; ++i)
          if (s[i] != ' ') compact.push_back(s[i]);
        if (IbanValid(compact)) {
          if (value_end) *value_end = c.value_begin + n;
          return true;
        }
        size_t sp = std::string(s, n).rfind(' ');
        if (sp == std::string::npos) return false;
        n = sp;
      }
      return false;
    }
    case ValidatorKind::kEmail:
      return ValidateEmail(c);
    case ValidatorKind::kPhone:
      return ValidatePhone(c);
    case ValidatorKind::kIpv4:
      return ValidateIpv4(c);
    case ValidatorKind::kIpv6:
      return ValidateIpv6(c);
    case ValidatorKind::kDate:
      return ValidateDate(c, p);
    case ValidatorKind::kEntropy:
      return !HasExampleMarker(s, n) && ShannonEntropy(s, n) >= p.min_entropy;
    case ValidatorKind::kSecretValue:
      return ValidateSecretValue(c, p);
    case ValidatorKind::kJwt:
      return ValidateJwt(c);
    case ValidatorKind::kAwsKeyId:
      return !HasExampleMarker(s, n) && ShannonEntropy(s + 4, n > 4 ? n - 4 : 0) >= 2.5;
    case ValidatorKind::kPemBase64:
      return ValidatePemBase64(c);
    case ValidatorKind::kPem:
      return !HasExampleMarker(s, n) && ShannonEntropy(s, n) >= (p.min_entropy > 0 ? p.min_entropy : 4.0);
  }
  return false;
}

}  // namespace lacuna
