// Module registration and the synchronous entry points: compileRules, scanSync, locateSync,
// createStream.
// Kept thin: argument checks at the boundary (TypeError), conversions, then scanner.h.
#include "bindings.h"

#include <algorithm>

namespace lacuna {

Napi::FunctionReference* JsRuleSet::constructor = nullptr;
Napi::FunctionReference* JsScanStream::constructor = nullptr;

Napi::Error CodedError(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  return e;
}

ScanOptions ReadScanOptions(const Napi::CallbackInfo& info, size_t i) {
  ScanOptions o;
  if (info.Length() <= i || !info[i].IsObject()) return o;
  Napi::Object obj = info[i].As<Napi::Object>();
  o.binary = obj.Get("binary").ToBoolean().Value();
  Napi::Value pf = obj.Get("prefilter");
  if (pf.IsBoolean()) o.prefilter = pf.As<Napi::Boolean>().Value();
  Napi::Value cap = obj.Get("candidateCap");
  if (cap.IsNumber() && cap.As<Napi::Number>().DoubleValue() > 0)
    o.candidate_cap = static_cast<uint32_t>(std::min(cap.As<Napi::Number>().DoubleValue(), 4294967295.0));
  return o;
}

Napi::Float64Array HitsToJs(Napi::Env env, const RuleSet&, const std::vector<RuleHits>& hits) {
  size_t len = 0;
  for (const RuleHits& h : hits)
    if (h.count != 0 || h.rejected != 0) len += kPackedHead + h.lines.size();
  Napi::Float64Array out = Napi::Float64Array::New(env, len);
  double* d = out.Data();
  for (size_t i = 0; i < hits.size(); ++i) {
    const RuleHits& h = hits[i];
    if (h.count == 0 && h.rejected == 0) continue;
    *d++ = static_cast<double>(i);
    *d++ = static_cast<double>(h.count);
    *d++ = static_cast<double>(h.distinct.size());
    *d++ = static_cast<double>(h.rejected);
    *d++ = h.saturated ? 1 : 0;
    *d++ = static_cast<double>(h.lines.size());
    for (uint64_t l : h.lines) *d++ = static_cast<double>(l);
  }
  return out;
}

namespace {

bool ReadSpec(Napi::Env env, Napi::Value v, size_t index, RuleSpec* out) {
  auto type_error = [&](const std::string& m) {
    Napi::Error e = Napi::TypeError::New(env, "rule " + std::to_string(index) + ": " + m);
    e.Set("code", Napi::String::New(env, "rule_invalid"));
    e.Set("ruleIndex", Napi::Number::New(env, static_cast<double>(index)));
    e.ThrowAsJavaScriptException();
    return false;
  };
  if (!v.IsObject()) return type_error("must be an object");
  Napi::Object o = v.As<Napi::Object>();
  Napi::Value id = o.Get("id"), pat = o.Get("pattern");
  if (!id.IsString() || !pat.IsString()) return type_error("id and pattern must be strings");
  out->id = id.As<Napi::String>().Utf8Value();
  out->pattern = pat.As<Napi::String>().Utf8Value();
  Napi::Value val = o.Get("validator");
  if (val.IsString()) out->validator = val.As<Napi::String>().Utf8Value();
  else if (!val.IsUndefined() && !val.IsNull()) return type_error("validator must be a string");
  Napi::Value ty = o.Get("type"), cat = o.Get("category");
  out->type = ty.IsString() ? ty.As<Napi::String>().Utf8Value() : out->id;
  if (cat.IsString()) out->category = cat.As<Napi::String>().Utf8Value();
  Napi::Value g = o.Get("group");
  if (g.IsNumber()) out->group = g.As<Napi::Number>().Int32Value();
  Napi::Value me = o.Get("minEntropy");
  if (me.IsNumber()) out->min_entropy = me.As<Napi::Number>().DoubleValue();
  auto words = [&](const char* key, std::vector<std::string>* dst) {
    Napi::Value a = o.Get(key);
    if (!a.IsArray()) return;
    Napi::Array arr = a.As<Napi::Array>();
    for (uint32_t i = 0; i < arr.Length(); ++i) {
      Napi::Value w = arr.Get(i);
      if (!w.IsString()) continue;
      std::string s = w.As<Napi::String>().Utf8Value();
      for (auto& c : s) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
      dst->push_back(s);
    }
  };
  words("rejectBefore", &out->reject_before);
  words("rejectAfter", &out->reject_after);
  return true;
}

Napi::Value CompileRules(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray()) {
    Napi::TypeError::New(env, "compileRules(specs): specs must be an array").ThrowAsJavaScriptException();
    return env.Null();
  }
  Napi::Array arr = info[0].As<Napi::Array>();
  std::vector<RuleSpec> specs(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); ++i)
    if (!ReadSpec(env, arr.Get(i), i, &specs[i])) return env.Null();
  CompileError err;
  std::shared_ptr<const RuleSet> rs = RuleSet::Compile(specs, &err);
  if (!rs) {
    std::string where = err.id.empty() ? "rule set" : "rule '" + err.id + "'";
    Napi::Error e = CodedError(env, "rule_invalid", where + ": " + err.message);
    e.Set("ruleId", Napi::String::New(env, err.id));
    e.Set("ruleIndex", Napi::Number::New(env, static_cast<double>(err.index)));
    e.Set("reason", Napi::String::New(env, err.message));
    e.ThrowAsJavaScriptException();
    return env.Null();
  }
  Napi::Object obj = JsRuleSet::constructor->New({});
  JsRuleSet::Unwrap(obj)->rules = rs;
  return obj;
}

Napi::Value ScanSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  JsRuleSet* rs = JsRuleSet::From(info[0]);
  if (!rs) return env.Null();
  if (info.Length() < 2 || !info[1].IsBuffer()) {
    Napi::TypeError::New(env, "scanSync(set, buf): buf must be a Buffer").ThrowAsJavaScriptException();
    return env.Null();
  }
  Napi::Buffer<char> buf = info[1].As<Napi::Buffer<char>>();
  if (buf.Length() > kSyncMaxBytes) {
    CodedError(env, "input_too_large",
               "scanSync takes at most " + std::to_string(kSyncMaxBytes) + " bytes; use scan() or a stream")
        .ThrowAsJavaScriptException();
    return env.Null();
  }
  std::vector<RuleHits> hits;
  ScanStatus st = StreamScanner::ScanBuffer(rs->rules, buf.Data(), buf.Length(), ReadScanOptions(info, 2), &hits);
  if (st != ScanStatus::kOk) {
    CodedError(env, ScanStatusCode(st), std::string("scan failed: ") + ScanStatusCode(st)).ThrowAsJavaScriptException();
    return env.Null();
  }
  return HitsToJs(env, *rs->rules, hits);
}

// locateSync(set, buf, {binary?}) → [{rule, id, type, category, start, end}] byte offsets of
// every validated value; same size limit as scanSync.
Napi::Value LocateSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  JsRuleSet* rs = JsRuleSet::From(info[0]);
  if (!rs) return env.Null();
  if (info.Length() < 2 || !info[1].IsBuffer()) {
    Napi::TypeError::New(env, "locateSync(set, buf): buf must be a Buffer").ThrowAsJavaScriptException();
    return env.Null();
  }
  Napi::Buffer<char> buf = info[1].As<Napi::Buffer<char>>();
  if (buf.Length() > kSyncMaxBytes) {
    CodedError(env, "input_too_large", "locateSync takes at most " + std::to_string(kSyncMaxBytes) + " bytes")
        .ThrowAsJavaScriptException();
    return env.Null();
  }
  std::vector<Match> matches;
  ScanOptions lo = ReadScanOptions(info, 2);
  ScanStatus st = StreamScanner::Locate(rs->rules, buf.Data(), buf.Length(), lo.binary, &matches, lo.prefilter);
  if (st != ScanStatus::kOk) {
    CodedError(env, ScanStatusCode(st), std::string("locate failed: ") + ScanStatusCode(st)).ThrowAsJavaScriptException();
    return env.Null();
  }
  const RuleSet& rules = *rs->rules;
  Napi::Array out = Napi::Array::New(env, matches.size());
  for (uint32_t i = 0; i < matches.size(); ++i) {
    const Match& m = matches[i];
    const RuleSpec& spec = rules.spec(m.rule);
    Napi::Object o = Napi::Object::New(env);
    o.Set("rule", Napi::Number::New(env, m.rule));
    o.Set("id", Napi::String::New(env, spec.id));
    o.Set("type", Napi::String::New(env, spec.type));
    o.Set("category", Napi::String::New(env, spec.category));
    o.Set("start", Napi::Number::New(env, static_cast<double>(m.begin)));
    o.Set("end", Napi::Number::New(env, static_cast<double>(m.end)));
    out.Set(i, o);
  }
  return out;
}

Napi::Value CreateStream(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!JsRuleSet::From(info[0])) return env.Null();
  ScanOptions o = ReadScanOptions(info, 1);
  Napi::Object opts = Napi::Object::New(env);
  opts.Set("binary", Napi::Boolean::New(env, o.binary));
  opts.Set("candidateCap", Napi::Number::New(env, o.candidate_cap));
  opts.Set("prefilter", Napi::Boolean::New(env, o.prefilter));
  return JsScanStream::constructor->New({info[0], opts});
}

}  // namespace

Napi::Function JsRuleSet::Init(Napi::Env env) {
  Napi::Function f = DefineClass(env, "RuleSet",
                                 {InstanceAccessor<&JsRuleSet::Size>("size"), InstanceMethod<&JsRuleSet::Ids>("ids")});
  constructor = new Napi::FunctionReference(Napi::Persistent(f));
  return f;
}

JsRuleSet::JsRuleSet(const Napi::CallbackInfo& info) : Napi::ObjectWrap<JsRuleSet>(info) {}

JsRuleSet* JsRuleSet::From(const Napi::Value& v) {
  Napi::Env env = v.Env();
  if (!v.IsObject() || !v.As<Napi::Object>().InstanceOf(constructor->Value())) {
    Napi::TypeError::New(env, "expected a RuleSet from compileRules()").ThrowAsJavaScriptException();
    return nullptr;
  }
  JsRuleSet* rs = Unwrap(v.As<Napi::Object>());
  if (!rs->rules) {
    CodedError(env, "scanner_not_compiled", "RuleSet was not produced by compileRules()").ThrowAsJavaScriptException();
    return nullptr;
  }
  return rs;
}

Napi::Value JsRuleSet::Size(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), rules ? static_cast<double>(rules->size()) : 0);
}

Napi::Value JsRuleSet::Ids(const Napi::CallbackInfo& info) {
  Napi::Array a = Napi::Array::New(info.Env());
  if (rules)
    for (uint32_t i = 0; i < rules->size(); ++i) a.Set(i, Napi::String::New(info.Env(), rules->spec(i).id));
  return a;
}

Napi::Function JsScanStream::Init(Napi::Env env) {
  Napi::Function f = DefineClass(env, "ScanStream",
                                 {InstanceMethod<&JsScanStream::Write>("write"), InstanceMethod<&JsScanStream::Skip>("skip"),
                                  InstanceMethod<&JsScanStream::Finish>("finish"),
                                  InstanceAccessor<&JsScanStream::BytesScanned>("bytesScanned")});
  constructor = new Napi::FunctionReference(Napi::Persistent(f));
  return f;
}

JsScanStream::JsScanStream(const Napi::CallbackInfo& info) : Napi::ObjectWrap<JsScanStream>(info) {
  JsRuleSet* rs = JsRuleSet::From(info[0]);
  if (!rs) return;
  rules = rs->rules;
  scanner.reset(new StreamScanner(rules, ReadScanOptions(info, 1)));
}

Napi::Value JsScanStream::Write(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsBuffer()) {
    Napi::TypeError::New(env, "write(buf): buf must be a Buffer").ThrowAsJavaScriptException();
    return env.Null();
  }
  if (!scanner || scanner->finished()) {
    CodedError(env, "stream_finished", "write() after finish()").ThrowAsJavaScriptException();
    return env.Null();
  }
  return QueueStreamOp(this, info.This().As<Napi::Object>(), StreamOp::kFeed, info[0].As<Napi::Buffer<char>>(), 0);
}

Napi::Value JsScanStream::Skip(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber() || info[0].As<Napi::Number>().DoubleValue() < 0) {
    Napi::TypeError::New(env, "skip(n): n must be a non-negative number").ThrowAsJavaScriptException();
    return env.Null();
  }
  if (!scanner || scanner->finished()) {
    CodedError(env, "stream_finished", "skip() after finish()").ThrowAsJavaScriptException();
    return env.Null();
  }
  return QueueStreamOp(this, info.This().As<Napi::Object>(), StreamOp::kSkip, Napi::Buffer<char>(),
                       static_cast<uint64_t>(info[0].As<Napi::Number>().DoubleValue()));
}

Napi::Value JsScanStream::Finish(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!scanner) {
    CodedError(env, "scanner_not_compiled", "stream has no rule set").ThrowAsJavaScriptException();
    return env.Null();
  }
  return QueueStreamOp(this, info.This().As<Napi::Object>(), StreamOp::kFinish, Napi::Buffer<char>(), 0);
}

Napi::Value JsScanStream::BytesScanned(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), scanner ? static_cast<double>(scanner->bytes_scanned()) : 0);
}

}  // namespace lacuna

static Napi::Object InitScanner(Napi::Env env, Napi::Object exports) {
  using namespace lacuna;
  exports.Set("RuleSet", JsRuleSet::Init(env));
  exports.Set("ScanStream", JsScanStream::Init(env));
  exports.Set("compileRules", Napi::Function::New(env, CompileRules, "compileRules"));
  exports.Set("scanSync", Napi::Function::New(env, ScanSync, "scanSync"));
  exports.Set("scan", Napi::Function::New(env, ScanAsync, "scan"));
  exports.Set("locateSync", Napi::Function::New(env, LocateSync, "locateSync"));
  exports.Set("createStream", Napi::Function::New(env, CreateStream, "createStream"));
  exports.Set("syncMaxBytes", Napi::Number::New(env, static_cast<double>(kSyncMaxBytes)));
  return exports;
}

NODE_API_MODULE(lacuna_scanner, InitScanner)
