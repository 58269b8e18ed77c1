// N-API side of the scanner: the JS wrappers (RuleSet, ScanStream) and the conversions between
// JS values and scanner types. Shared by addon.cc (sync entry points) and scan_worker.cc.
#pragma once

#include <napi.h>

#include <atomic>
#include <memory>
#include <vector>

#include "scanner.h"

namespace lacuna {

// Buffers larger than this go through scan() on a worker, never scanSync on the JS thread.
constexpr size_t kSyncMaxBytes = 8u << 20;

// An Error with a stable `code` property (plus optional extra string fields).
Napi::Error CodedError(Napi::Env env, const char* code, const std::string& message);

// Reads `{binary?: boolean, candidateCap?: number, prefilter?: boolean}` from info[i] (absent = defaults).
ScanOptions ReadScanOptions(const Napi::CallbackInfo& info, size_t i);

// Per-rule hits packed in one Float64Array, decoded by src/classify/native.ts (one N-API value
// instead of an object, a string and an array per rule: building those was ~7% of a 64 KiB
// scan). Per rule with hits: rule, count, distinct, rejected, saturated (0/1), the number of
// lines, then the lines.
constexpr size_t kPackedHead = 6;
Napi::Float64Array HitsToJs(Napi::Env env, const RuleSet& rules, const std::vector<RuleHits>& hits);

class JsRuleSet : public Napi::ObjectWrap<JsRuleSet> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit JsRuleSet(const Napi::CallbackInfo& info);
  static Napi::FunctionReference* constructor;
  std::shared_ptr<const RuleSet> rules;

  // Unwraps a RuleSet argument or throws a TypeError (returns nullptr then).
  static JsRuleSet* From(const Napi::Value& v);

 private:
  Napi::Value Size(const Napi::CallbackInfo& info);
  Napi::Value Ids(const Napi::CallbackInfo& info);
};

class JsScanStream : public Napi::ObjectWrap<JsScanStream> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit JsScanStream(const Napi::CallbackInfo& info);
  static Napi::FunctionReference* constructor;

  std::unique_ptr<StreamScanner> scanner;
  std::shared_ptr<const RuleSet> rules;
  // One operation at a time: the worker owns `scanner` while this is set.
  std::atomic<bool> busy{false};

 private:
  Napi::Value Write(const Napi::CallbackInfo& info);
  Napi::Value Skip(const Napi::CallbackInfo& info);
  Napi::Value Finish(const Napi::CallbackInfo& info);
  Napi::Value BytesScanned(const Napi::CallbackInfo& info);
};

// scan(set, buf, opts) → Promise<RawFinding[]> on the libuv pool.
Napi::Value ScanAsync(const Napi::CallbackInfo& info);

// Starts one stream operation on a worker; `data` is pinned for its duration.
enum class StreamOp { kFeed, kSkip, kFinish };
Napi::Value QueueStreamOp(JsScanStream* stream, Napi::Object self, StreamOp op, Napi::Buffer<char> data,
                          uint64_t skip);

}  // namespace lacuna
