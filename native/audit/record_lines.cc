// The audit verifier's per-line work in one call per chunk (src/audit/line-table.ts has the same
// rules in TypeScript and the tests hold the two equal): find each line, read the chain fields by
// position where the line is laid out exactly as the writer lays it out, hash the line as stored
// (without its hash member) and compare with the stored hash, and compute its RFC 9162 leaf.
// Why: Node's per-call crypto cost, not SHA-256 itself, dominated verification of ~700-byte
// records (three hashes per record); here a chunk of ~1500 records costs one crossing.
//
// Exactness (the argument is in src/audit/intact-runs.ts): a line counts only when its hash
// member sits right before its last `,"host":` and the rest hashes to the stored hash.
// Every search below looks only where the TypeScript version would accept a match, so both
// accept and reject the same lines.
#define OPENSSL_SUPPRESS_DEPRECATED  // SHA256_* are deprecated in 3.0 but are the allocation-free API
#include <napi.h>
#include <openssl/sha.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <cstdint>
#include <cstring>
#include <string>

namespace {

const char kRecordPrefix[] = "lacuna-fs/audit/v1/record";  // + NUL, as src/audit/hash.ts
const size_t kRecordPrefixLen = sizeof(kRecordPrefix);    // includes the NUL
const char kHashAt[] = ",\"hash\":\"";
const char kHostAt[] = ",\"host\":";
const char kSeqAt[] = ",\"seq\":";
const char kPrevAt[] = ",\"prev_hash\":\"";
const char kKindAt[] = ",\"kind\":\"";
const char kChainAt[] = "\"chain_id\":";
const char kGenesis[] = "genesis\"";
// Length of a pattern without its terminating NUL.
template <size_t N>
constexpr size_t Len(const char (&)[N]) { return N - 1; }

const uint8_t kFlagGenesis = 1;
const uint8_t kFlagLinks = 2;
// A hash member is `,"hash":"` + 64 hex + `"`.
const size_t kHashMember = 74;

bool StartsWith(const uint8_t* b, size_t len, size_t at, const uint8_t* pat, size_t n) {
  return at + n <= len && memcmp(b + at, pat, n) == 0;
}

void Hex(const uint8_t* d, char* out) {
  static const char kDigits[] = "0123456789abcdef";
  for (int i = 0; i < 32; i++) {
    out[2 * i] = kDigits[d[i] >> 4];
    out[2 * i + 1] = kDigits[d[i] & 15];
  }
}

struct Facts {
  double seq = -1;
  uint32_t hash_at = 0;  // offset of the stored hash's 64 hex digits
  uint32_t prev_at = 0;  // offset of prev_hash's 64 hex digits
  bool genesis = false;
};

// SHA-256 of a short input by the low-level API: OpenSSL 3's one-shot SHA256() looks the
// algorithm up on every call, which costs more than hashing 33 or 65 bytes.
void Sha256(const uint8_t* data, size_t n, uint8_t* out) {
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, data, n);
  SHA256_Final(out, &ctx);
}

bool Is(const uint8_t* b, size_t len, size_t at, const char* pat, size_t n) {
  return StartsWith(b, len, at, reinterpret_cast<const uint8_t*>(pat), n);
}

// Where the members the fast path reads sit in line [start, end), found in one pass over the
// line's quotes (every pattern has a quote at a known place, so visiting each quote visits each
// occurrence): the last `,"host":`, the first `"chain_id":`, and after that host the first
// `,"seq":`, `,"prev_hash":"` and `,"kind":"`; -1 where there is none. Each is the occurrence the
// TypeScript searches accept (an occurrence past the line end is rejected there as here).
struct Members {
  int64_t host = -1, chain = -1, seq = -1, prev = -1, kind = -1;
};

// Visit one quote at offset i of the line.
inline void OnQuote(const uint8_t* b, size_t len, size_t start, size_t i, Members& m) {
  if (m.chain < 0 && Is(b, len, i, kChainAt, Len(kChainAt))) m.chain = i;
  if (i == start || b[i - 1] != ',') return;
  size_t k = i - 1;
  if (Is(b, len, k, kHostAt, Len(kHostAt))) {
    m.host = k;
    m.seq = m.prev = m.kind = -1;  // only occurrences after the last host count
  } else if (m.host >= 0) {
    if (m.seq < 0 && Is(b, len, k, kSeqAt, Len(kSeqAt))) m.seq = k;
    else if (m.prev < 0 && Is(b, len, k, kPrevAt, Len(kPrevAt))) m.prev = k;
    else if (m.kind < 0 && Is(b, len, k, kKindAt, Len(kKindAt))) m.kind = k;
  }
}

Members FindMembers(const uint8_t* b, size_t len, size_t start, size_t end) {
  Members m;
  size_t i = start;
#ifdef __SSE2__
  // Sixteen bytes at a time: a bit mask of the quotes, then each set bit in order.
  const __m128i quote = _mm_set1_epi8('"');
  for (; i + 16 <= end; i += 16) {
    unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i)), quote)));
    while (mask != 0) {
      OnQuote(b, len, start, i + __builtin_ctz(mask), m);
      mask &= mask - 1;
    }
  }
#endif
  for (; i < end; i++)
    if (b[i] == '"') OnQuote(b, len, start, i, m);
  return m;
}

// The facts of line [start, end), or seq -1 when it is not provably a writer-laid record.
// `digest` receives the computed record hash when the line counts.
Facts LineFacts(const uint8_t* b, size_t len, size_t start, size_t end, const uint8_t* chain, size_t chain_len, uint8_t* digest) {
  Facts none;
  Members m = FindMembers(b, len, start, end);
  // The hash member sits right before the last `,"host":`, as the writer splices it.
  int64_t host = m.host;
  if (host < static_cast<int64_t>(kHashMember)) return none;
  size_t at = host - kHashMember;
  if (at <= start || !Is(b, len, at, kHashAt, Len(kHashAt)) || b[at + 73] != '"') return none;
  int64_t c = m.chain;
  if (c <= static_cast<int64_t>(start) || c > static_cast<int64_t>(at)) return none;
  uint8_t before = b[c - 1];
  if ((before != '{' && before != ',') || !StartsWith(b, len, c + Len(kChainAt), chain, chain_len)) return none;
  // After the hash member a record has only flat members: the first occurrence is the member.
  int64_t s = m.seq;
  if (s < 0) return none;
  size_t digits = s + Len(kSeqAt);
  size_t i = digits;
  double seq = 0;
  while (i < len && b[i] >= '0' && b[i] <= '9') seq = seq * 10 + (b[i++] - '0');
  if (i == digits || i - digits > 15 || (b[digits] == '0' && i - digits > 1) || i >= len || (b[i] != ',' && b[i] != '}') || i >= end) return none;
  int64_t p = m.prev;
  if (p < 0 || p > s) return none;
  size_t prev_at = p + Len(kPrevAt);
  if (prev_at + 64 >= len || b[prev_at + 64] != '"') return none;
  // The body the hash covers: the line without its hash member.
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, kRecordPrefix, kRecordPrefixLen);
  SHA256_Update(&ctx, b + start, at - start);
  SHA256_Update(&ctx, b + at + kHashMember, end - at - kHashMember);
  SHA256_Final(digest, &ctx);
  char hex[64];
  Hex(digest, hex);
  if (memcmp(hex, b + at + 9, 64) != 0) return none;
  Facts f;
  f.seq = seq;
  f.hash_at = static_cast<uint32_t>(at + 9);
  f.prev_at = static_cast<uint32_t>(prev_at);
  if (seq == 0) f.genesis = m.kind >= 0 && m.kind < p && Is(b, len, m.kind + Len(kKindAt), kGenesis, Len(kGenesis));
  return f;
}

// scanRecordLines(bytes, chainMember, withLeaves): per line, where it ends, its seq (-1: not a record the fast
// path may take), flags (1 genesis, 2 prev_hash equals the stored hash of the line before, itself
// counted), the offsets of its stored hash and prev_hash, and (withLeaves) its Merkle leaf, 32
// bytes each, zero for lines that do not count.
Napi::Value ScanRecordLines(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsTypedArray() || !info[1].IsTypedArray()) {
    Napi::TypeError::New(env, "scanRecordLines(bytes: Uint8Array, chainMember: Uint8Array, withLeaves: boolean)").ThrowAsJavaScriptException();
    return env.Null();
  }
  Napi::Uint8Array bytes = info[0].As<Napi::Uint8Array>();
  Napi::Uint8Array chain_member = info[1].As<Napi::Uint8Array>();
  bool with_leaves = info.Length() > 2 && info[2].ToBoolean().Value();
  const uint8_t* b = bytes.Data();
  size_t len = bytes.ByteLength();
  if (len > 0xffffffffu) {
    Napi::RangeError::New(env, "scanRecordLines: chunk over 4 GiB").ThrowAsJavaScriptException();
    return env.Null();
  }
  size_t count = 0;
  for (const uint8_t* q = b; q < b + len; count++) {
    const void* nl = memchr(q, '\n', b + len - q);
    q = nl ? static_cast<const uint8_t*>(nl) + 1 : b + len;
  }
  Napi::Uint32Array ends = Napi::Uint32Array::New(env, count);
  Napi::Float64Array seqs = Napi::Float64Array::New(env, count);
  Napi::Uint8Array flags = Napi::Uint8Array::New(env, count);
  Napi::Uint32Array hash_at = Napi::Uint32Array::New(env, count);
  Napi::Uint32Array prev_at = Napi::Uint32Array::New(env, count);
  Napi::Buffer<uint8_t> leaves = Napi::Buffer<uint8_t>::New(env, with_leaves ? count * 32 : 0);
  // Empty when the environment is going away (a verify worker terminated mid-call): nothing to fill.
  if (ends.IsEmpty() || seqs.IsEmpty() || flags.IsEmpty() || hash_at.IsEmpty() || prev_at.IsEmpty() || leaves.IsEmpty()) return env.Undefined();
  uint8_t* leaf = leaves.Data();
  if (with_leaves) memset(leaf, 0, count * 32);
  uint8_t digest[33];
  int64_t last_hash = -1;  // stored hash offset of the line before, when it counted
  size_t start = 0;
  for (size_t i = 0; i < count; i++) {
    const void* nl = memchr(b + start, '\n', len - start);
    size_t end = nl ? static_cast<const uint8_t*>(nl) - b : len;
    Facts f = LineFacts(b, len, start, end, chain_member.Data(), chain_member.ByteLength(), digest + 1);
    ends[i] = static_cast<uint32_t>(end);
    seqs[i] = f.seq;
    hash_at[i] = f.hash_at;
    prev_at[i] = f.prev_at;
    uint8_t fl = 0;
    if (f.seq >= 0) {
      if (f.genesis) fl |= kFlagGenesis;
      if (last_hash >= 0 && memcmp(b + f.prev_at, b + last_hash, 64) == 0) fl |= kFlagLinks;
      if (with_leaves) {
        digest[0] = 0x00;  // RFC 9162 leaf: SHA-256(0x00 || record hash)
        Sha256(digest, 33, leaf + 32 * i);
      }
      last_hash = f.hash_at;
    } else {
      last_hash = -1;
    }
    flags[i] = fl;
    start = end + 1;
  }
  Napi::Object out = Napi::Object::New(env);
  if (out.IsEmpty()) return env.Undefined();
  out.Set("ends", ends);
  out.Set("seqs", seqs);
  out.Set("flags", flags);
  out.Set("hashAt", hash_at);
  out.Set("prevAt", prev_at);
  out.Set("leaves", leaves);
  return out;
}

// merkleSubtreeRoot(leaves, first, count): root (hex) of the perfect subtree over leaves
// [first, first + count), count a power of two, pairwise as RFC 9162 defines it.
Napi::Value MerkleSubtreeRoot(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsTypedArray() || !info[1].IsNumber() || !info[2].IsNumber()) {
    Napi::TypeError::New(env, "merkleSubtreeRoot(leaves: Uint8Array, first: number, count: number)").ThrowAsJavaScriptException();
    return env.Null();
  }
  Napi::Uint8Array leaves = info[0].As<Napi::Uint8Array>();
  double first = info[1].As<Napi::Number>().DoubleValue();
  double count = info[2].As<Napi::Number>().DoubleValue();
  size_t n = static_cast<size_t>(count);
  if (first < 0 || count < 1 || static_cast<double>(n) != count || (n & (n - 1)) != 0 || (first + count) * 32 > leaves.ByteLength()) {
    Napi::RangeError::New(env, "merkleSubtreeRoot: not a perfect subtree of these leaves").ThrowAsJavaScriptException();
    return env.Null();
  }
  std::string level(reinterpret_cast<const char*>(leaves.Data()) + static_cast<size_t>(first) * 32, n * 32);
  uint8_t node[65];
  node[0] = 0x01;  // RFC 9162 interior node: SHA-256(0x01 || left || right)
  for (; n > 1; n /= 2) {
    for (size_t i = 0; i < n / 2; i++) {
      memcpy(node + 1, level.data() + 64 * i, 64);
      Sha256(node, 65, reinterpret_cast<uint8_t*>(&level[32 * i]));
    }
  }
  char hex[64];
  Hex(reinterpret_cast<const uint8_t*>(level.data()), hex);
  return Napi::String::New(env, hex, 64);
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// merkleLeavesOfHashes(hex): the RFC 9162 leaf hash SHA-256(0x00 || record hash) of each record
// hash in `hex` (n lowercase 64-digit hashes, concatenated), as n * 32 bytes. The writer folds a
// whole group-commit batch into its Merkle frontier with this and merkleSubtreeRoot instead of
// two JavaScript hash calls per record.
Napi::Value MerkleLeavesOfHashes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "merkleLeavesOfHashes(hex: string)").ThrowAsJavaScriptException();
    return env.Null();
  }
  size_t len = 0;
  napi_get_value_string_latin1(env, info[0], nullptr, 0, &len);
  if (len % 64 != 0) {
    Napi::RangeError::New(env, "merkleLeavesOfHashes: not a sequence of 64-digit hashes").ThrowAsJavaScriptException();
    return env.Null();
  }
  std::string hex(len + 1, '\0');
  napi_get_value_string_latin1(env, info[0], &hex[0], len + 1, &len);
  size_t n = len / 64;
  Napi::Buffer<uint8_t> leaves = Napi::Buffer<uint8_t>::New(env, n * 32);
  uint8_t leaf_input[33];
  leaf_input[0] = 0x00;
  for (size_t i = 0; i < n; i++) {
    const char* h = hex.data() + 64 * i;
    for (size_t j = 0; j < 32; j++) {
      int hi = HexDigit(h[2 * j]), lo = HexDigit(h[2 * j + 1]);
      if (hi < 0 || lo < 0) {
        Napi::RangeError::New(env, "merkleLeavesOfHashes: not lowercase hex").ThrowAsJavaScriptException();
        return env.Null();
      }
      leaf_input[1 + j] = static_cast<uint8_t>(hi * 16 + lo);
    }
    Sha256(leaf_input, 33, leaves.Data() + 32 * i);
  }
  return leaves;
}

// sealRecordLine(line, start, at, end): the writer's half of the record hash. The line in
// line[start, end) was written with a placeholder hash member (`,"hash":"` + 64 digits + `"`) at
// `at`; the record hash covers the line without that member (as the verifier hashes it), so it is
// computed from the bytes already in the batch buffer, written over the placeholder, and returned
// as hex. Saves the writer encoding the record a second time just to hash it.
Napi::Value SealRecordLine(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsTypedArray() || !info[1].IsNumber() || !info[2].IsNumber() || !info[3].IsNumber()) {
    Napi::TypeError::New(env, "sealRecordLine(line: Uint8Array, start: number, at: number, end: number)").ThrowAsJavaScriptException();
    return env.Null();
  }
  Napi::Uint8Array line = info[0].As<Napi::Uint8Array>();
  double start = info[1].As<Napi::Number>().DoubleValue();
  double at = info[2].As<Napi::Number>().DoubleValue();
  double end = info[3].As<Napi::Number>().DoubleValue();
  if (!(start >= 0 && start <= at && at + kHashMember <= end && end <= static_cast<double>(line.ByteLength()))) {
    Napi::RangeError::New(env, "sealRecordLine: the hash member does not fit in the line").ThrowAsJavaScriptException();
    return env.Null();
  }
  uint8_t* b = line.Data();
  size_t s = static_cast<size_t>(start), a = static_cast<size_t>(at), e = static_cast<size_t>(end);
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, kRecordPrefix, kRecordPrefixLen);
  SHA256_Update(&ctx, b + s, a - s);
  SHA256_Update(&ctx, b + a + kHashMember, e - a - kHashMember);
  uint8_t digest[32];
  SHA256_Final(digest, &ctx);
  char hex[64];
  Hex(digest, hex);
  memcpy(b + a + 9, hex, 64);  // after `,"hash":"`
  return Napi::String::New(env, hex, 64);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("sealRecordLine", Napi::Function::New(env, SealRecordLine));
  exports.Set("merkleLeavesOfHashes", Napi::Function::New(env, MerkleLeavesOfHashes));
  exports.Set("scanRecordLines", Napi::Function::New(env, ScanRecordLines));
  exports.Set("merkleSubtreeRoot", Napi::Function::New(env, MerkleSubtreeRoot));
  return exports;
}

}  // namespace

NODE_API_MODULE(lacuna_audit, Init)
