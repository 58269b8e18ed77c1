// The passthrough file system: libfuse 2.9 high-level operations served on the source
// directory with the caller's credentials. No N-API here: governance questions go
// through the Bridge, everything else is a syscall on the FUSE worker thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "request.h"

struct fuse;
struct fuse_chan;
struct fuse_operations;

namespace lacuna {

// Per-op counters and latency histograms for every FUSE op, including the ones that never
// reach JavaScript. Relaxed atomics: a metrics scrape may see a count one op ahead of its
// latency sum, which Prometheus tolerates.
enum StatOp : int {
  S_GETATTR, S_FGETATTR, S_READLINK, S_OPENDIR, S_READDIR, S_RELEASEDIR, S_MKNOD, S_MKDIR, S_UNLINK, S_RMDIR,
  S_SYMLINK, S_RENAME, S_LINK, S_CHMOD, S_CHOWN, S_TRUNCATE, S_FTRUNCATE, S_UTIMENS, S_OPEN, S_CREATE,
  S_READ, S_WRITE, S_STATFS, S_FLUSH, S_RELEASE, S_FSYNC, S_SETXATTR, S_GETXATTR, S_LISTXATTR, S_REMOVEXATTR,
  S_ACCESS, S_COUNT
};
extern const char *const kStatOpNames[S_COUNT];
// Upper bounds in microseconds; the last bucket is +Inf.
constexpr int kBuckets = 12;
constexpr uint64_t kBucketUpperUs[kBuckets - 1] = {10, 25, 50, 100, 250, 500, 1000, 5000, 25000, 100000, 1000000};

struct OpStats {
  std::atomic<uint64_t> count[S_COUNT] = {};
  std::atomic<uint64_t> errors[S_COUNT] = {};
  std::atomic<uint64_t> sumNs[S_COUNT] = {};
  std::atomic<uint64_t> buckets[S_COUNT][kBuckets] = {};
  std::atomic<uint64_t> bytesRead{0}, bytesWritten{0};
};

struct MountState {
  OpStats stats;
  std::string source;      // absolute, no trailing slash ("" for "/")
  // O_PATH descriptor of the source root: every syscall is made relative to it, so a path
  // inside the mount may be as long as PATH_MAX regardless of where the source lives.
  int rootFd = -1;
  std::string mountpoint;
  Bridge *bridge = nullptr;
  struct fuse *fuse = nullptr;
  struct fuse_chan *chan = nullptr;
  // False when the source is a local disk file system whose close() never reports a
  // delayed write error: FLUSH is then a round trip for nothing, and refusing it (ENOSYS)
  // makes the kernel stop sending it for this mount.
  bool flushReportsErrors = true;
};

// Whether close(2) on the file system holding `fd` can report a write error (NFS, CIFS,
// FUSE… can; ext4, xfs, btrfs, f2fs, tmpfs cannot: they write back later, errors go to fsync).
bool CloseReportsWriteErrors(int fd);

// The operations table (filled once).
const struct fuse_operations *PassthroughOperations();

// Paths under this directory at the mount root are virtual and served by JavaScript.
constexpr const char *kVirtualDir = "/.lacuna";

}  // namespace lacuna
