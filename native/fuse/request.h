// A question the FUSE side asks the policy side (JavaScript), or a fact it tells it.
// CHECK requests block the calling FUSE worker thread until JavaScript replies;
// NOTIFY requests are fire-and-forget and are delivered in the order they were sent,
// which is what lets JavaScript keep its handle table and taint in step with the kernel.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace lacuna {

enum class Kind : int { Check = 0, Notify = 1 };

// Operation codes shared with src/fs/native.ts (OPS table); append only.
enum Op : int {
  OP_OPEN = 1,       // check: path, a=flags            → flags (handle bits)
  OP_CREATE = 2,     // check: path, a=flags, b=mode    → flags (handle bits)
  OP_OPENED = 3,     // notify: path, a=fd, b=flags|created<<32, result in `result`
  OP_WRITE = 4,      // check (inspected handles only): a=fd, b=offset, buf/len
  OP_RELEASE = 5,    // notify: path, a=fd, b=handle bits
  OP_TRUNCATE = 6,   // check: path, a=size (b=fd or -1)
  OP_RENAME = 7,     // check: path → path2
  OP_LINK = 8,       // check: path → path2
  OP_SYMLINK = 9,    // check: path=link path, path2=target
  OP_UNLINK = 10,    // notify after success: path
  OP_RMDIR = 11,     // notify after success: path
  OP_MKDIR = 12,     // notify after success: path, a=mode
  OP_DONE = 13,      // notify: outcome of a checked mutating op: a=op, result=errno
  OP_WROTE = 14,     // notify: a write on a non-inspected handle: a=fd, b=offset, result=bytes (writer in caller)
  OP_VGETATTR = 20,  // check: virtual path → data = [mode, size]
  OP_VREADDIR = 21,  // check: virtual dir → names
  OP_VOPEN = 22,     // check: virtual file → data = content
  OP_XATTR = 23,     // check: getxattr of a user.lacuna.* name: path, path2=name → data
  OP_UNMOUNTED = 30, // notify: the FUSE loop has ended
};

// Bits JavaScript sets on a handle when it allows an open/create.
enum HandleBits : uint32_t {
  H_INSPECT_WRITES = 1u << 0,  // every write goes to JavaScript first (content scan)
  H_KEEP_CACHE = 1u << 1,      // the kernel may keep cached pages across opens
  H_DIRECT_IO = 1u << 2,       // bypass the page cache (e.g. virtual files)
};

struct Caller {
  uint32_t uid = 0, gid = 0, pid = 0, umask = 0;
};

struct Request {
  Kind kind = Kind::Check;
  int op = 0;
  Caller caller;
  std::string path, path2;
  int64_t a = 0, b = 0;
  int result = 0;                // NOTIFY: outcome being reported
  const char *buf = nullptr;     // CHECK: borrowed, valid until replied
  size_t len = 0;

  // Filled by the reply (CHECK only).
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  int reply = 0;                 // 0 or a negative errno
  uint32_t bits = 0;
  std::string data;
  std::vector<std::string> names;
  std::vector<double> numbers;

  void Wait() {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [this] { return done; });
  }
  void Finish(int r) {
    {
      std::lock_guard<std::mutex> lock(mu);
      reply = r;
      done = true;
    }
    cv.notify_one();
  }
};

// Implemented by the N-API layer: deliver a request to JavaScript.
class Bridge {
 public:
  virtual ~Bridge() = default;
  // Blocks until JavaScript replied; returns -EIO if the bridge is closed.
  virtual int Check(Request &req) = 0;
  // Takes ownership of req.
  virtual void Notify(Request *req) = 0;
};

}  // namespace lacuna
