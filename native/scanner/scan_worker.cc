// Async workers: the scan runs on the libuv pool, touching no JS values in Execute. Inputs are
// pinned (a persistent reference to the Buffer) for the worker's lifetime; a scanner failure
// comes back as a rejected promise whose error carries a stable `code`.
#include "bindings.h"

namespace lacuna {
namespace {

class ScanWorker : public Napi::AsyncWorker {
 public:
  ScanWorker(Napi::Env env, std::shared_ptr<const RuleSet> rules, Napi::Buffer<char> buf, const ScanOptions& opts)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), rules_(std::move(rules)),
        data_(buf.Data()), len_(buf.Length()), opts_(opts) {
    pin_ = Napi::Persistent(buf.As<Napi::Object>());
  }
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    status_ = StreamScanner::ScanBuffer(rules_, data_, len_, opts_, &hits_);
    if (status_ != ScanStatus::kOk) SetError(ScanStatusCode(status_));
  }
  void OnOK() override { deferred_.Resolve(HitsToJs(Env(), *rules_, hits_)); }
  void OnError(const Napi::Error&) override {
    deferred_.Reject(CodedError(Env(), ScanStatusCode(status_), std::string("scan failed: ") + ScanStatusCode(status_)).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<const RuleSet> rules_;
  Napi::ObjectReference pin_;
  const char* data_;
  size_t len_;
  ScanOptions opts_;
  ScanStatus status_ = ScanStatus::kOk;
  std::vector<RuleHits> hits_;
};

class StreamWorker : public Napi::AsyncWorker {
 public:
  StreamWorker(Napi::Env env, JsScanStream* stream, Napi::Object self, StreamOp op, Napi::Buffer<char> data,
               uint64_t skip)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), stream_(stream), op_(op),
        skip_(skip) {
    self_ = Napi::Persistent(self);
    if (!data.IsEmpty()) {
      pin_ = Napi::Persistent(data.As<Napi::Object>());
      data_ = data.Data();
      len_ = data.Length();
    }
  }
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    StreamScanner& s = *stream_->scanner;
    switch (op_) {
      case StreamOp::kFeed: status_ = s.Feed(data_, len_); break;
      case StreamOp::kSkip: status_ = s.Skip(skip_); break;
      case StreamOp::kFinish: status_ = s.Finish(); break;
    }
    if (status_ != ScanStatus::kOk) SetError(ScanStatusCode(status_));
  }
  void OnOK() override {
    stream_->busy = false;
    if (op_ == StreamOp::kFinish) {
      Napi::Object out = Napi::Object::New(Env());
      out.Set("findings", HitsToJs(Env(), *stream_->rules, stream_->scanner->hits()));
      out.Set("bytesScanned", Napi::Number::New(Env(), static_cast<double>(stream_->scanner->bytes_scanned())));
      deferred_.Resolve(out);
    } else {
      deferred_.Resolve(Env().Undefined());
    }
  }
  void OnError(const Napi::Error&) override {
    stream_->busy = false;
    deferred_.Reject(CodedError(Env(), ScanStatusCode(status_), std::string("scan failed: ") + ScanStatusCode(status_)).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  JsScanStream* stream_;
  Napi::ObjectReference self_;  // keeps the stream (and its scanner) alive while we run
  Napi::ObjectReference pin_;
  StreamOp op_;
  const char* data_ = nullptr;
  size_t len_ = 0;
  uint64_t skip_;
  ScanStatus status_ = ScanStatus::kOk;
};

}  // namespace

Napi::Value ScanAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  JsRuleSet* rs = JsRuleSet::From(info[0]);
  if (!rs) return env.Null();
  if (info.Length() < 2 || !info[1].IsBuffer()) {
    Napi::TypeError::New(env, "scan(set, buf): buf must be a Buffer").ThrowAsJavaScriptException();
    return env.Null();
  }
  auto* w = new ScanWorker(env, rs->rules, info[1].As<Napi::Buffer<char>>(), ReadScanOptions(info, 2));
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

Napi::Value QueueStreamOp(JsScanStream* stream, Napi::Object self, StreamOp op, Napi::Buffer<char> data,
                          uint64_t skip) {
  Napi::Env env = self.Env();
  bool expected = false;
  if (!stream->busy.compare_exchange_strong(expected, true)) {
    CodedError(env, "scanner_busy", "a stream operation is already running; await it first")
        .ThrowAsJavaScriptException();
    return env.Null();
  }
  auto* w = new StreamWorker(env, stream, self, op, data, skip);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

}  // namespace lacuna
