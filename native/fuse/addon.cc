// N-API surface of the FUSE binding: mount(), reply(), unmount(). Thin on purpose:
// passthrough.cc holds the file-system logic; this file moves requests between FUSE
// worker threads and the JavaScript thread through one thread-safe function per mount.
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <napi.h>
#include <sys/mount.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "passthrough.h"

namespace lacuna {
namespace {

// Delivers requests to the JavaScript dispatcher:
//   dispatch(kind, op, req|null, uid, gid, pid, path, path2, a, b, buf|null, result)
// For a Check the dispatcher must call reply(req, …) exactly once, now or later.
//
// Notices (opened, wrote, released, done…) are fire-and-forget, and waking the JavaScript
// thread once per notice costs more than handling it: a small file's create, write and
// close used to wake it three times. So notices wait in `pending` and go over as one batch,
// at the latest after kNoticeDelay, when kMaxPending have gathered, or just before any
// Check. The last rule keeps the order JavaScript relies on: every notice sent before a
// question is handled before it (a handle is registered before a write on it is judged).
class MountBridge : public Bridge {
 public:
  Napi::ThreadSafeFunction tsfn;
  std::atomic<bool> open{true};

  static constexpr auto kNoticeDelay = std::chrono::microseconds(1000);
  static constexpr size_t kMaxPending = 256;

  void Start() {
    flusher_ = std::thread([this] { FlushLoop(); });
  }

  int Check(Request &req) override {
    req.kind = Kind::Check;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!open.load()) return -EIO;
      FlushLocked();
      if (tsfn.BlockingCall(&req, CallJs) != napi_ok) return -EIO;
    }
    req.Wait();
    return req.reply;
  }

  void Notify(Request *req) override {
    req->kind = Kind::Notify;
    std::lock_guard<std::mutex> lock(mu_);
    if (!open.load() || stopping_) {
      delete req;
      return;
    }
    pending_.push_back(req);
    if (req->op == OP_UNMOUNTED || pending_.size() >= kMaxPending) FlushLocked();
    else if (pending_.size() == 1) cv_.notify_one();
  }

  // Delivers what is pending, stops the flusher and closes the function (JavaScript thread).
  void Close() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!open.load()) return;
      FlushLocked();
      stopping_ = true;
      open.store(false);
    }
    cv_.notify_one();
    if (flusher_.joinable()) flusher_.join();
    tsfn.Release();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Request *> pending_;
  bool stopping_ = false;
  std::thread flusher_;

  void FlushLocked() {
    if (pending_.empty()) return;
    auto *batch = new std::vector<Request *>();
    batch->swap(pending_);
    if (tsfn.BlockingCall(batch, CallBatch) != napi_ok) {
      for (Request *r : *batch) delete r;
      delete batch;
    }
  }

  void FlushLoop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      cv_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
      if (stopping_) break;
      // Give the batch time to grow; a Check may deliver it earlier.
      cv_.wait_for(lock, kNoticeDelay, [this] { return stopping_; });
      if (!stopping_) FlushLocked();
    }
  }

  static void CallBatch(Napi::Env env, Napi::Function fn, std::vector<Request *> *batch) {
    for (Request *r : *batch) CallJs(env, fn, r);
    delete batch;
  }

  static void CallJs(Napi::Env env, Napi::Function fn, Request *req) {
    bool check = req->kind == Kind::Check;
    if (env == nullptr) {  // the function is being torn down
      if (check) req->Finish(-EIO); else delete req;
      return;
    }
    try {
      Napi::Value buf = env.Null();
      if (req->buf != nullptr) {
        // Borrowed: the FUSE thread waits for the reply, so the bytes stay valid; JS must
        // not keep the Buffer beyond its reply (the dispatcher copies what it keeps).
        buf = Napi::Buffer<char>::New(env, const_cast<char *>(req->buf), req->len, [](Napi::Env, char *) {});
      }
      fn.Call({
          Napi::Number::New(env, static_cast<int>(req->kind)),
          Napi::Number::New(env, req->op),
          check ? Napi::External<Request>::New(env, req).As<Napi::Value>() : env.Null(),
          Napi::Number::New(env, req->caller.uid),
          Napi::Number::New(env, req->caller.gid),
          Napi::Number::New(env, req->caller.pid),
          Napi::String::New(env, req->path),
          Napi::String::New(env, req->path2),
          Napi::Number::New(env, static_cast<double>(req->a)),
          Napi::Number::New(env, static_cast<double>(req->b)),
          buf,
          Napi::Number::New(env, req->result),
      });
    } catch (const Napi::Error &e) {
      fprintf(stderr, "lacuna-fs: dispatcher threw: %s\n", e.Message().c_str());
      if (check) req->Finish(-EIO);
    }
    if (!check) delete req;
  }
};

struct MountHandle {
  MountState state;
  MountBridge bridge;
  std::thread loop;
  std::thread stopper;
  std::atomic<bool> stopping{false};
};

void LoopEnded(MountHandle *h) {
  auto *req = new Request();
  req->op = OP_UNMOUNTED;
  req->path = h->state.mountpoint;
  h->bridge.Notify(req);
}

// mount(mountpoint, source, options, dispatch) → handle
Napi::Value Mount(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsString() || !info[1].IsString() || !info[2].IsString() || !info[3].IsFunction()) {
    throw Napi::TypeError::New(env, "mount(mountpoint: string, source: string, options: string, dispatch: function)");
  }
  std::string mountpoint = info[0].As<Napi::String>();
  std::string source = info[1].As<Napi::String>();
  std::string options = info[2].As<Napi::String>();
  while (source.size() > 1 && source.back() == '/') source.pop_back();
  if (source == "/") source = "";

  int rootFd = open(source.empty() ? "/" : source.c_str(), O_PATH | O_DIRECTORY);
  if (rootFd < 0) throw Napi::Error::New(env, "cannot open source " + source + ": " + strerror(errno));
  auto *h = new MountHandle();
  h->state.rootFd = rootFd;
  h->state.flushReportsErrors = CloseReportsWriteErrors(rootFd);
  h->state.source = source;
  h->state.mountpoint = mountpoint;
  h->state.bridge = &h->bridge;
  h->bridge.tsfn = Napi::ThreadSafeFunction::New(env, info[3].As<Napi::Function>(), "lacuna-fuse", 0, 1);

  struct fuse_args args = FUSE_ARGS_INIT(0, nullptr);
  fuse_opt_add_arg(&args, "lacuna-fs");
  if (!options.empty()) {
    fuse_opt_add_arg(&args, "-o");
    fuse_opt_add_arg(&args, options.c_str());
  }
  h->state.chan = fuse_mount(mountpoint.c_str(), &args);
  if (h->state.chan == nullptr) {
    int err = errno;
    fuse_opt_free_args(&args);
    h->bridge.tsfn.Release();
    delete h;
    throw Napi::Error::New(env, std::string("fuse_mount failed for ") + mountpoint + ": " + strerror(err ? err : EIO));
  }
  h->state.fuse = fuse_new(h->state.chan, &args, PassthroughOperations(), sizeof(struct fuse_operations), &h->state);
  fuse_opt_free_args(&args);
  if (h->state.fuse == nullptr) {
    fuse_unmount(mountpoint.c_str(), h->state.chan);
    h->bridge.tsfn.Release();
    delete h;
    throw Napi::Error::New(env, "fuse_new failed for " + mountpoint + " (bad mount option?)");
  }
  h->bridge.Start();
  // If the process exits with this mount still up, close the bridge before Node tears down
  // the thread-safe function: the flusher must never call into a finalized function. Hooks
  // run in reverse order of registration, so this one runs before the function's own.
  napi_add_env_cleanup_hook(env, [](void *bridge) { static_cast<MountBridge *>(bridge)->Close(); }, &h->bridge);
  h->loop = std::thread([h] {
    fuse_loop_mt(h->state.fuse);
    // A loop stopped by unmount() is reported by its stopper once libfuse is torn down (see
    // Unmount); only a loop that ended by itself (the mount was detached from outside) is
    // reported here.
    if (!h->stopping.load()) LoopEnded(h);
  });
  return Napi::External<MountHandle>::New(env, h);
}

// reply(req, result, bits?, data?) — answers a Check.
Napi::Value Reply(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsExternal() || !info[1].IsNumber()) {
    throw Napi::TypeError::New(env, "reply(req: external, result: number, bits?: number, data?)");
  }
  Request *req = info[0].As<Napi::External<Request>>().Data();
  int result = info[1].As<Napi::Number>().Int32Value();
  if (info.Length() > 2 && info[2].IsNumber()) req->bits = info[2].As<Napi::Number>().Uint32Value();
  if (info.Length() > 3) {
    Napi::Value d = info[3];
    if (d.IsBuffer()) {
      auto b = d.As<Napi::Buffer<char>>();
      req->data.assign(b.Data(), b.Length());
    } else if (d.IsString()) {
      req->data = d.As<Napi::String>().Utf8Value();
    } else if (d.IsArray()) {
      auto arr = d.As<Napi::Array>();
      for (uint32_t i = 0; i < arr.Length(); i++) {
        Napi::Value v = arr.Get(i);
        if (v.IsString()) req->names.push_back(v.As<Napi::String>().Utf8Value());
        else if (v.IsNumber()) req->numbers.push_back(v.As<Napi::Number>().DoubleValue());
      }
    }
  }
  req->Finish(result);
  return env.Undefined();
}

// unmount(handle) — detaches the mount; the dispatcher receives OP_UNMOUNTED when the
// loop has ended and libfuse is destroyed. Never blocks the JavaScript thread: in-flight ops
// still need replies. The notice comes last because JavaScript may exit the process as soon
// as it has it: exiting while this thread was still inside fuse_unmount/fuse_destroy could
// crash the process on its way out (a daemon stopped by SIGTERM must exit 0).
Napi::Value Unmount(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsExternal()) throw Napi::TypeError::New(env, "unmount(handle)");
  MountHandle *h = info[0].As<Napi::External<MountHandle>>().Data();
  if (h->stopping.exchange(true)) return env.Undefined();
  h->stopper = std::thread([h] {
    fuse_exit(h->state.fuse);
    umount2(h->state.mountpoint.c_str(), MNT_DETACH);
    if (h->loop.joinable()) h->loop.join();
    fuse_unmount(h->state.mountpoint.c_str(), h->state.chan);
    fuse_destroy(h->state.fuse);
    LoopEnded(h);
  });
  h->stopper.detach();
  return env.Undefined();
}

// release(handle) — after OP_UNMOUNTED: no more requests will come.
Napi::Value Release(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsExternal()) throw Napi::TypeError::New(env, "release(handle)");
  MountHandle *h = info[0].As<Napi::External<MountHandle>>().Data();
  h->bridge.Close();
  return env.Undefined();
}

// stats(handle) → per-op counts, errors, latency sums and histogram buckets of one mount.
Napi::Value Stats(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsExternal()) throw Napi::TypeError::New(env, "stats(handle)");
  const OpStats &st = info[0].As<Napi::External<MountHandle>>().Data()->state.stats;
  Napi::Object ops = Napi::Object::New(env);
  for (int op = 0; op < S_COUNT; op++) {
    uint64_t count = st.count[op].load(std::memory_order_relaxed);
    if (count == 0) continue;
    Napi::Object o = Napi::Object::New(env);
    o.Set("count", Napi::Number::New(env, (double)count));
    o.Set("errors", Napi::Number::New(env, (double)st.errors[op].load(std::memory_order_relaxed)));
    o.Set("sum_ns", Napi::Number::New(env, (double)st.sumNs[op].load(std::memory_order_relaxed)));
    Napi::Array buckets = Napi::Array::New(env, kBuckets);
    for (int b = 0; b < kBuckets; b++) buckets.Set(b, Napi::Number::New(env, (double)st.buckets[op][b].load(std::memory_order_relaxed)));
    o.Set("buckets", buckets);
    ops.Set(kStatOpNames[op], o);
  }
  Napi::Array bounds = Napi::Array::New(env, kBuckets - 1);
  for (int b = 0; b < kBuckets - 1; b++) bounds.Set(b, Napi::Number::New(env, (double)kBucketUpperUs[b]));
  Napi::Object out = Napi::Object::New(env);
  out.Set("ops", ops);
  out.Set("bucket_upper_us", bounds);
  out.Set("bytes_read", Napi::Number::New(env, (double)st.bytesRead.load(std::memory_order_relaxed)));
  out.Set("bytes_written", Napi::Number::New(env, (double)st.bytesWritten.load(std::memory_order_relaxed)));
  return out;
}

// peerCred(fd) → {pid, uid, gid}: who is on the other end of a unix socket (SO_PEERCRED).
// The control socket identifies callers this way; a uid claimed in a request is ignored.
Napi::Value PeerCred(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "peerCred(fd: number)");
  struct ucred cred;
  socklen_t len = sizeof(cred);
  if (getsockopt(info[0].As<Napi::Number>().Int32Value(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    throw Napi::Error::New(env, std::string("SO_PEERCRED failed: ") + strerror(errno));
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("pid", Napi::Number::New(env, cred.pid));
  out.Set("uid", Napi::Number::New(env, cred.uid));
  out.Set("gid", Napi::Number::New(env, cred.gid));
  return out;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("peerCred", Napi::Function::New(env, PeerCred));
  exports.Set("stats", Napi::Function::New(env, Stats));
  exports.Set("mount", Napi::Function::New(env, Mount));
  exports.Set("reply", Napi::Function::New(env, Reply));
  exports.Set("unmount", Napi::Function::New(env, Unmount));
  exports.Set("release", Napi::Function::New(env, Release));
  return exports;
}

}  // namespace
}  // namespace lacuna

static Napi::Object InitLacunaFuse(Napi::Env env, Napi::Object exports) { return lacuna::Init(env, exports); }
NODE_API_MODULE(lacuna_fuse, InitLacunaFuse)
