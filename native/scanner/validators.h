// Validators that confirm (or reject) a regex candidate before it counts as a finding.
// Pure C++: no RE2, no N-API. Each takes the candidate bytes plus the window it was found in,
// so context checks (what precedes or follows the candidate) need no second regex pass.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace lacuna {

enum class ValidatorKind {
  kNone,
  kLuhn,          // payment card: issuer prefix + length, Luhn, consistent grouping
  kSsn,           // US SSN: no 000/666/9xx area, no 00 group, no 0000 serial
  kIban,          // per-country length + ISO 7064 mod-97
  kEmail,         // TLD shape, reserved/example domains, role accounts
  kPhone,         // E.164 or national with separators; NANP area/exchange rules
  kIpv4,          // public unicast only; not versions/OIDs
  kIpv6,          // parses as IPv6; public unicast only
  kDate,          // a real calendar date in the past (used with a DOB context pattern)
  kEntropy,       // Shannon entropy of the candidate >= min_entropy
  kSecretValue,   // generic password=/token= values: no placeholders/references, entropy
  kJwt,           // header segment decodes to JSON with "alg"
  kAwsKeyId,      // AKIA.. id that is not a documentation example
  kPem,           // private key body looks random (entropy)
  kPemBase64,     // base64 text that decodes to a PEM private-key header and body
};

// Parses a validator name from the rule table; returns false for an unknown name.
bool ParseValidator(const std::string& name, ValidatorKind* out);

struct Candidate {
  const char* window;   // the whole scanned window
  size_t window_len;
  size_t match_begin;   // whole match, window-relative
  size_t match_end;
  size_t value_begin;   // the capture group the validator looks at (== match if none)
  size_t value_end;
};

struct ValidatorParams {
  double min_entropy = 0.0;
  int current_year = 2026;
};

// True when the candidate is a real instance of what the rule detects. When the validator
// accepts only a prefix of the value (an IBAN that swallowed the next word), *value_end, if
// given, is set to the window-relative end of what it accepted; otherwise it is left alone.
bool Validate(ValidatorKind kind, const Candidate& c, const ValidatorParams& p, size_t* value_end = nullptr);

// Shannon entropy in bits per byte.
double ShannonEntropy(const char* s, size_t n);

// Individual checks, exposed for tests.
bool LuhnValid(const std::string& digits);
bool CardIssuerValid(const std::string& digits);
bool SsnValid(int area, int group, int serial);
bool IbanValid(const std::string& compact);
bool EmailValid(const char* s, size_t n);
bool Ipv4Public(const char* s, size_t n);
bool Ipv6Public(const char* s, size_t n);

}  // namespace lacuna
