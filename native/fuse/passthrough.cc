// Passthrough operations, modelled on libfuse's passthrough_fh: each op makes the one
// syscall on the source path (or the open descriptor), turns failure into -errno, and
// returns. Mutating ops run under the caller's fsuid/fsgid and supplementary groups
// (per thread), so the kernel applies exactly the permission, ownership and setgid rules
// it applies natively. Ops that governance cares about ask JavaScript first (Check).
#include "passthrough.h"

#include <dirent.h>
#include <sched.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <linux/magic.h>
#include <sys/vfs.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace lacuna {

const char *const kStatOpNames[S_COUNT] = {
    "getattr", "fgetattr", "readlink", "opendir", "readdir", "releasedir", "mknod", "mkdir", "unlink", "rmdir",
    "symlink", "rename", "link", "chmod", "chown", "truncate", "ftruncate", "utimens", "open", "create",
    "read", "write", "statfs", "flush", "release", "fsync", "setxattr", "getxattr", "listxattr", "removexattr",
    "access"};

namespace {

MountState *State() { return static_cast<MountState *>(fuse_get_context()->private_data); }

int Root() { return State()->rootFd; }

// The path relative to the source root ("." for the root itself).
const char *Rel(const char *path) { return (path[0] == '/' && path[1] == 0) ? "." : path + 1; }

// For the few calls without an *at form (xattrs, truncate): a short /proc/self/fd path to
// an O_PATH descriptor of the file itself (not following a final symlink).
class PathFd {
 public:
  explicit PathFd(const char *path) : fd_(openat(Root(), Rel(path), O_PATH | O_NOFOLLOW)) {
    if (fd_ >= 0) snprintf(proc_, sizeof(proc_), "/proc/self/fd/%d", fd_);
  }
  ~PathFd() {
    if (fd_ >= 0) close(fd_);
  }
  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  const char *proc() const { return proc_; }
  PathFd(const PathFd &) = delete;
  PathFd &operator=(const PathFd &) = delete;

 private:
  int fd_;
  char proc_[40] = {0};
};

bool IsVirtual(const char *path) {
  size_t n = strlen(kVirtualDir);
  return path && strncmp(path, kVirtualDir, n) == 0 && (path[n] == 0 || path[n] == '/');
}

Caller CurrentCaller() {
  fuse_context *c = fuse_get_context();
  Caller caller;
  caller.uid = c->uid;
  caller.gid = c->gid;
  caller.pid = c->pid;
  caller.umask = c->umask;
  return caller;
}

// Runs the enclosing scope with the caller's credentials on this thread only.
// setfsuid/setfsgid and the raw setgroups syscall are per thread on Linux (the glibc
// wrapper of setgroups would change every thread, so it is not used).
class AsCaller {
 public:
  AsCaller() {
    // The kernel already applied the caller's umask to the mode it sends; this thread gets
    // its own fs struct with umask 0 so the daemon's umask is not applied a second time.
    thread_local bool ownUmask = false;
    if (!ownUmask) {
      if (unshare(CLONE_FS) == 0) umask(0);
      ownUmask = true;
    }
    fuse_context *c = fuse_get_context();
    gid_t groups[64];
    int n = fuse_getgroups(64, groups);
    if (n < 0 || n > 64) n = 0;
    syscall(SYS_setgroups, n, groups);
    setfsgid(c->gid);
    setfsuid(c->uid);
  }
  ~AsCaller() {
    setfsuid(0);
    setfsgid(0);
    syscall(SYS_setgroups, 0, nullptr);
  }
  AsCaller(const AsCaller &) = delete;
  AsCaller &operator=(const AsCaller &) = delete;
};

int Errno(int r) { return r == -1 ? -errno : r; }

// Times one op and files it under its histogram bucket; `result` is set by the op.
class OpTimer {
 public:
  explicit OpTimer(StatOp op) : op_(op), stats_(&State()->stats) { clock_gettime(CLOCK_MONOTONIC, &start_); }
  ~OpTimer() {
    timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    uint64_t ns = (uint64_t)(end.tv_sec - start_.tv_sec) * 1000000000ull + (uint64_t)(end.tv_nsec - start_.tv_nsec);
    uint64_t us = ns / 1000;
    int b = 0;
    while (b < kBuckets - 1 && us > kBucketUpperUs[b]) b++;
    stats_->count[op_].fetch_add(1, std::memory_order_relaxed);
    stats_->sumNs[op_].fetch_add(ns, std::memory_order_relaxed);
    stats_->buckets[op_][b].fetch_add(1, std::memory_order_relaxed);
    if (result < 0) stats_->errors[op_].fetch_add(1, std::memory_order_relaxed);
  }
  int result = 0;
  int Set(int r) { result = r; return r; }
  OpTimer(const OpTimer &) = delete;
  OpTimer &operator=(const OpTimer &) = delete;

 private:
  StatOp op_;
  OpStats *stats_;
  timespec start_;
};

// Asks JavaScript; returns 0 to proceed or a negative errno.
int Ask(Request &req) { return State()->bridge->Check(req); }

// Write notices without a notice per write. JavaScript records lineage for a write when the
// writer or its taint differs from what it last saw on that handle; a process's taint only
// grows when something is opened for reading. So each open for reading (any mount of this
// daemon) bumps an epoch, and a write is told only when (writer, epoch) differs from the
// handle's last one. The opener's own writes are covered by the OPENED notice, and RELEASE
// says whether the handle was written (the classification cache must forget the file).
// Indexed by the daemon's descriptor; descriptors past the table are always told.
std::atomic<uint32_t> gReadEpoch{1};
constexpr int kTrackedFds = 1 << 16;
std::atomic<uint64_t> gLastWriter[kTrackedFds];
std::atomic<uint8_t> gWritten[kTrackedFds];

uint64_t WriterKey(uint32_t pid) { return ((uint64_t)pid << 32) | gReadEpoch.load(std::memory_order_acquire); }

void TrackHandle(int fd, uint32_t openerPid) {
  if (fd < 0 || fd >= kTrackedFds) return;
  gLastWriter[fd].store(WriterKey(openerPid), std::memory_order_relaxed);
  gWritten[fd].store(0, std::memory_order_relaxed);
}

// True when JavaScript must hear about this write.
bool NoteWrite(int fd, uint32_t pid) {
  if (fd < 0 || fd >= kTrackedFds) return true;
  gWritten[fd].store(1, std::memory_order_relaxed);
  uint64_t key = WriterKey(pid);
  return gLastWriter[fd].exchange(key, std::memory_order_acq_rel) != key;
}

bool WasWritten(int fd) { return fd < 0 || fd >= kTrackedFds || gWritten[fd].load(std::memory_order_relaxed) != 0; }

void Tell(int op, const char *path, int64_t a = 0, int64_t b = 0, int result = 0, const char *path2 = nullptr) {
  auto *req = new Request();
  req->kind = Kind::Notify;
  req->op = op;
  req->caller = CurrentCaller();
  if (path) req->path = path;
  if (path2) req->path2 = path2;
  req->a = a;
  req->b = b;
  req->result = result;
  State()->bridge->Notify(req);
}

// fh layout: low 32 bits the descriptor (or virtual slot), high bits HandleBits << 32.
uint64_t MakeFh(int fd, uint32_t bits) { return (uint64_t)(uint32_t)fd | ((uint64_t)bits << 32); }
int FdOf(const fuse_file_info *fi) { return (int)(uint32_t)(fi->fh & 0xffffffffu); }
uint32_t BitsOf(const fuse_file_info *fi) { return (uint32_t)(fi->fh >> 32); }

// Virtual files (/.lacuna/*) are small texts JavaScript renders per reader at open time.
// With flag_nopath, read/release get no path, so a virtual handle is recognised by a bit
// in its fh and its text lives in a slot table (guarded by gVirtualMu).
constexpr uint32_t kVirtualBit = 1u << 31;
std::mutex gVirtualMu;
std::unordered_map<uint32_t, std::string> gVirtualFiles;  // slot → content
uint32_t gNextSlot = 1;

bool IsVirtualFh(const fuse_file_info *fi) { return (BitsOf(fi) & kVirtualBit) != 0; }

std::string VirtualContent(const fuse_file_info *fi) {
  std::lock_guard<std::mutex> lock(gVirtualMu);
  auto it = gVirtualFiles.find((uint32_t)FdOf(fi));
  return it == gVirtualFiles.end() ? std::string() : it->second;
}

int op_getattr_impl(const char *path, struct stat *st) {
  if (IsVirtual(path)) {
    Request req;
    req.op = OP_VGETATTR;
    req.caller = CurrentCaller();
    req.path = path;
    int r = Ask(req);
    if (r < 0) return r;
    memset(st, 0, sizeof(*st));
    st->st_mode = req.numbers.size() > 0 ? (mode_t)req.numbers[0] : (S_IFREG | 0444);
    st->st_size = req.numbers.size() > 1 ? (off_t)req.numbers[1] : 0;
    st->st_nlink = S_ISDIR(st->st_mode) ? 2 : 1;
    st->st_uid = 0;
    st->st_gid = 0;
    st->st_ino = 0;
    return 0;
  }
  return Errno(fstatat(Root(), Rel(path), st, AT_SYMLINK_NOFOLLOW));
}

int op_fgetattr_impl(const char *path, struct stat *st, struct fuse_file_info *fi) {
  if (IsVirtualFh(fi)) {
    memset(st, 0, sizeof(*st));
    st->st_mode = S_IFREG | 0444;
    st->st_nlink = 1;
    st->st_size = (off_t)VirtualContent(fi).size();
    return 0;
  }
  (void)path;
  return Errno(fstat(FdOf(fi), st));
}

int op_readlink_impl(const char *path, char *buf, size_t size) {
  ssize_t n = readlinkat(Root(), Rel(path), buf, size - 1);
  if (n == -1) return -errno;
  buf[n] = 0;
  return 0;
}

// Directory handles keep the DIR stream (real dirs) or the virtual path (JS-served dirs),
// because with flag_nopath readdir receives no path.
struct DirHandle {
  DIR *dir = nullptr;
  std::string virtualPath;
};

int op_opendir_impl(const char *path, struct fuse_file_info *fi) {
  auto *h = new DirHandle();
  if (IsVirtual(path)) {
    h->virtualPath = path;
  } else {
    int dfd = openat(Root(), Rel(path), O_RDONLY | O_DIRECTORY);
    h->dir = dfd >= 0 ? fdopendir(dfd) : nullptr;
    if (!h->dir) {
      if (dfd >= 0) close(dfd);
      int err = errno;
      delete h;
      return -err;
    }
  }
  fi->fh = reinterpret_cast<uint64_t>(h);
  return 0;
}

int op_readdir_impl(const char *, void *buf, fuse_fill_dir_t filler, off_t, struct fuse_file_info *fi) {
  auto *h = reinterpret_cast<DirHandle *>(fi->fh);
  if (!h->dir) {
    Request req;
    req.op = OP_VREADDIR;
    req.caller = CurrentCaller();
    req.path = h->virtualPath;
    int r = Ask(req);
    if (r < 0) return r;
    filler(buf, ".", nullptr, 0);
    filler(buf, "..", nullptr, 0);
    for (auto &name : req.names) filler(buf, name.c_str(), nullptr, 0);
    return 0;
  }
  // Offset-0 mode: the whole listing in one call, so rewind for each call.
  rewinddir(h->dir);
  while (struct dirent *e = readdir(h->dir)) {
    struct stat st;
    memset(&st, 0, sizeof(st));
    st.st_ino = e->d_ino;
    st.st_mode = (mode_t)(e->d_type << 12);
    if (filler(buf, e->d_name, &st, 0)) break;
  }
  return 0;
}

int op_releasedir_impl(const char *, struct fuse_file_info *fi) {
  auto *h = reinterpret_cast<DirHandle *>(fi->fh);
  if (h->dir) closedir(h->dir);
  delete h;
  return 0;
}

int op_mknod_impl(const char *path, mode_t mode, dev_t rdev) {
  if (IsVirtual(path)) return -EACCES;
  int r;
  {
    AsCaller as;
    r = S_ISFIFO(mode) ? mkfifoat(Root(), Rel(path), mode) : mknodat(Root(), Rel(path), mode, rdev);
  }
  return Errno(r);
}

int op_mkdir_impl(const char *path, mode_t mode) {
  if (IsVirtual(path)) return -EACCES;
  int r;
  {
    AsCaller as;
    r = mkdirat(Root(), Rel(path), mode);
  }
  if (r == 0) Tell(OP_MKDIR, path, mode);
  return Errno(r);
}

int op_unlink_impl(const char *path) {
  if (IsVirtual(path)) return -EACCES;
  int r;
  {
    AsCaller as;
    r = unlinkat(Root(), Rel(path), 0);
  }
  r = Errno(r);
  if (r == 0) Tell(OP_UNLINK, path);
  return r;
}

int op_rmdir_impl(const char *path) {
  if (IsVirtual(path)) return -EACCES;
  int r;
  {
    AsCaller as;
    r = unlinkat(Root(), Rel(path), AT_REMOVEDIR);
  }
  r = Errno(r);
  if (r == 0) Tell(OP_RMDIR, path);
  return r;
}

// Asks policy, runs the syscall, then reports the outcome (for audit and lineage).
template <typename F>
int Governed(int op, const char *path, const char *path2, int64_t a, F &&syscallFn) {
  if (IsVirtual(path) || (path2 && IsVirtual(path2))) return -EACCES;
  Request req;
  req.op = op;
  req.caller = CurrentCaller();
  req.path = path;
  if (path2) req.path2 = path2;
  req.a = a;
  PathFd pf(path);  // as for open: a short way to the file for JavaScript
  req.b = pf.ok() ? pf.fd() : -1;
  int r = Ask(req);
  if (r < 0) return r;
  {
    AsCaller as;
    r = Errno(syscallFn());
  }
  Tell(OP_DONE, path, op, 0, r, path2);
  return r;
}

int op_symlink_impl(const char *target, const char *linkpath) {
  // Check sees the link's path first and its target second.
  if (IsVirtual(linkpath)) return -EACCES;
  Request req;
  req.op = OP_SYMLINK;
  req.caller = CurrentCaller();
  req.path = linkpath;
  req.path2 = target;
  int r = Ask(req);
  if (r < 0) return r;
  {
    AsCaller as;
    r = Errno(symlinkat(target, Root(), Rel(linkpath)));
  }
  Tell(OP_DONE, linkpath, OP_SYMLINK, 0, r, target);
  return r;
}

int op_rename_impl(const char *from, const char *to) {
  return Governed(OP_RENAME, from, to, 0, [&] { return renameat(Root(), Rel(from), Root(), Rel(to)); });
}

int op_link_impl(const char *from, const char *to) {
  return Governed(OP_LINK, from, to, 0, [&] { return linkat(Root(), Rel(from), Root(), Rel(to), 0); });
}

int op_chmod_impl(const char *path, mode_t mode) {
  if (IsVirtual(path)) return -EPERM;
  // When a non-owner writes to a set-user/group-ID file, the kernel asks FUSE to clear
  // those bits with a chmod on the writer's behalf. Natively the kernel does this with its
  // own privilege, so a chmod that only removes S_ISUID/S_ISGID runs as the daemon.
  struct stat st;
  if (fstatat(Root(), Rel(path), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    mode_t kill = S_ISUID | S_ISGID;
    mode_t cur = st.st_mode & 07777;
    bool onlyDropsPrivilege = (cur & ~kill) == (mode & 07777 & ~kill) && (mode & kill) != (cur & kill) && (mode & kill & ~cur) == 0;
    fuse_context *c = fuse_get_context();
    if (onlyDropsPrivilege && c->uid != st.st_uid) return Errno(fchmodat(Root(), Rel(path), mode, 0));
  }
  AsCaller as;
  return Errno(fchmodat(Root(), Rel(path), mode, 0));
}

int op_chown_impl(const char *path, uid_t uid, gid_t gid) {
  if (IsVirtual(path)) return -EPERM;
  AsCaller as;
  return Errno(fchownat(Root(), Rel(path), uid, gid, AT_SYMLINK_NOFOLLOW));
}

int op_truncate_impl(const char *path, off_t size) {
  return Governed(OP_TRUNCATE, path, nullptr, size, [&] {
    PathFd f(path);
    return f.ok() ? truncate(f.proc(), size) : -1;
  });
}

int op_ftruncate_impl(const char *path, off_t size, struct fuse_file_info *fi) {
  if (IsVirtualFh(fi)) return -EACCES;
  int fd = FdOf(fi);
  Request req;
  req.op = OP_TRUNCATE;
  req.caller = CurrentCaller();
  if (path) req.path = path;
  req.a = size;
  req.b = fd;
  int r = Ask(req);
  if (r < 0) return r;
  return Errno(ftruncate(fd, size));
}

int op_utimens_impl(const char *path, const struct timespec ts[2]) {
  if (IsVirtual(path)) return -EPERM;
  AsCaller as;
  return Errno(utimensat(Root(), Rel(path), ts, AT_SYMLINK_NOFOLLOW));
}

void SetCacheBits(struct fuse_file_info *fi, uint32_t bits) {
  fi->keep_cache = (bits & H_KEEP_CACHE) ? 1 : 0;
  fi->direct_io = (bits & H_DIRECT_IO) ? 1 : 0;
}

int OpenVirtual(const char *path, struct fuse_file_info *fi) {
  if ((fi->flags & O_ACCMODE) != O_RDONLY) return -EACCES;
  Request req;
  req.op = OP_VOPEN;
  req.caller = CurrentCaller();
  req.path = path;
  int r = Ask(req);
  if (r < 0) return r;
  uint32_t slot;
  {
    std::lock_guard<std::mutex> lock(gVirtualMu);
    slot = gNextSlot++;
    if (gNextSlot == 0) gNextSlot = 1;
    gVirtualFiles[slot] = std::move(req.data);
  }
  fi->fh = MakeFh((int)slot, kVirtualBit);
  fi->direct_io = 1;  // content is per reader and per moment: never cache it
  return 0;
}

int op_open_impl(const char *path, struct fuse_file_info *fi) {
  if (IsVirtual(path)) return OpenVirtual(path, fi);
  Request req;
  req.op = OP_OPEN;
  req.caller = CurrentCaller();
  req.path = path;
  req.a = fi->flags;
  // JavaScript classifies through /proc/self/fd/<b> when the source path is too long for it.
  PathFd pf(path);
  req.b = pf.ok() ? pf.fd() : -1;
  int r = Ask(req);
  if (r < 0) return r;
  // JavaScript has recorded the read by now: writes after this see a new epoch.
  if ((fi->flags & O_ACCMODE) != O_WRONLY) gReadEpoch.fetch_add(1, std::memory_order_acq_rel);
  int fd;
  {
    AsCaller as;
    fd = openat(Root(), Rel(path), fi->flags | O_NOFOLLOW);
  }
  int err = fd == -1 ? -errno : 0;
  TrackHandle(fd, req.caller.pid);
  Tell(OP_OPENED, path, fd, (int64_t)(uint32_t)fi->flags, err);
  if (fd == -1) return err;
  fi->fh = MakeFh(fd, req.bits);
  SetCacheBits(fi, req.bits);
  return 0;
}

int op_create_impl(const char *path, mode_t mode, struct fuse_file_info *fi) {
  if (IsVirtual(path)) return -EACCES;
  Request req;
  req.op = OP_CREATE;
  req.caller = CurrentCaller();
  req.path = path;
  req.a = fi->flags;
  req.b = mode;
  int r = Ask(req);
  if (r < 0) return r;
  int fd;
  {
    AsCaller as;
    fd = openat(Root(), Rel(path), fi->flags | O_CREAT | O_NOFOLLOW, mode);
  }
  int err = fd == -1 ? -errno : 0;
  TrackHandle(fd, req.caller.pid);
  Tell(OP_OPENED, path, fd, (int64_t)(uint32_t)fi->flags | (1ll << 32), err);
  if (fd == -1) return err;
  fi->fh = MakeFh(fd, req.bits);
  SetCacheBits(fi, req.bits);
  return 0;
}

int op_read_impl(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
  if (IsVirtualFh(fi)) {
    std::string content = VirtualContent(fi);
    if ((size_t)off >= content.size()) return 0;
    size_t n = std::min(size, content.size() - (size_t)off);
    memcpy(buf, content.data() + off, n);
    return (int)n;
  }
  ssize_t n = pread(FdOf(fi), buf, size, off);
  return n == -1 ? -errno : (int)n;
}

// Zero-copy read: libfuse splices straight from the source descriptor.
int op_read_buf_impl(const char *path, struct fuse_bufvec **bufp, size_t size, off_t off, struct fuse_file_info *fi) {
  if (IsVirtualFh(fi)) {
    std::string content = VirtualContent(fi);
    size_t n = (size_t)off >= content.size() ? 0 : std::min(size, content.size() - (size_t)off);
    auto *bv = static_cast<fuse_bufvec *>(malloc(sizeof(fuse_bufvec)));
    if (!bv) return -ENOMEM;
    *bv = FUSE_BUFVEC_INIT(n);
    void *mem = malloc(n ? n : 1);
    if (n) memcpy(mem, content.data() + off, n);
    bv->buf[0].mem = mem;  // libfuse frees both the bufvec and this memory
    *bufp = bv;
    return 0;
  }
  auto *bv = static_cast<fuse_bufvec *>(malloc(sizeof(fuse_bufvec)));
  if (!bv) return -ENOMEM;
  *bv = FUSE_BUFVEC_INIT(size);
  bv->buf[0].flags = static_cast<fuse_buf_flags>(FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK);
  bv->buf[0].fd = FdOf(fi);
  bv->buf[0].pos = off;
  *bufp = bv;
  return 0;
}

int op_write_impl(const char *path, const char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
  if (IsVirtualFh(fi)) return -EACCES;
  int fd = FdOf(fi);
  if (BitsOf(fi) & H_INSPECT_WRITES) {
    Request req;
    req.op = OP_WRITE;
    req.caller = CurrentCaller();
    if (path) req.path = path;
    req.a = fd;
    req.b = off;
    req.buf = buf;
    req.len = size;
    int r = Ask(req);
    if (r < 0) return r;
  }
  ssize_t n = pwrite(fd, buf, size, off);
  // Who writes matters for lineage even where nothing is inspected: a descriptor opened by
  // an untainted shell may be written by a tainted child (`cat secret > out`).
  if (n > 0 && !(BitsOf(fi) & H_INSPECT_WRITES) && NoteWrite(fd, CurrentCaller().pid)) Tell(OP_WROTE, nullptr, fd, off, (int)n);
  return n == -1 ? -errno : (int)n;
}

// Writes arrive through a pipe when SPLICE_READ is on (write requests of a page or more):
// on a handle nobody inspects, the data goes pipe → file inside the kernel, one copy less
// than reading it into this process first. Inspected handles need the bytes in memory for
// JavaScript, so they take them out of the pipe and follow the ordinary write path.
int op_write_buf_impl(const char *path, struct fuse_bufvec *src, off_t off, struct fuse_file_info *fi) {
  size_t size = fuse_buf_size(src);
  bool inMemory = src->count == 1 && !(src->buf[0].flags & FUSE_BUF_IS_FD);
  if (inMemory) return op_write_impl(path, static_cast<const char *>(src->buf[0].mem), size, off, fi);
  if (IsVirtualFh(fi) || (BitsOf(fi) & H_INSPECT_WRITES)) {
    thread_local std::vector<char> mem;
    if (mem.size() < size) mem.resize(size);
    struct fuse_bufvec dst = FUSE_BUFVEC_INIT(size);
    dst.buf[0].mem = mem.data();
    ssize_t n = fuse_buf_copy(&dst, src, FUSE_BUF_NO_SPLICE);
    if (n < 0) return (int)n;
    return op_write_impl(path, mem.data(), (size_t)n, off, fi);
  }
  int fd = FdOf(fi);
  struct fuse_bufvec dst = FUSE_BUFVEC_INIT(size);
  dst.buf[0].flags = static_cast<fuse_buf_flags>(FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK);
  dst.buf[0].fd = fd;
  dst.buf[0].pos = off;
  ssize_t n = fuse_buf_copy(&dst, src, static_cast<fuse_buf_copy_flags>(0));
  if (n > 0 && NoteWrite(fd, CurrentCaller().pid)) Tell(OP_WROTE, nullptr, fd, off, (int)n);
  return (int)n;
}

int op_statfs_impl(const char *, struct statvfs *st) {
  std::string root = State()->source.empty() ? "/" : State()->source;
  return Errno(statvfs(root.c_str(), st));
}

int op_flush_impl(const char *, struct fuse_file_info *fi) {
  if (IsVirtualFh(fi)) return 0;
  if (!State()->flushReportsErrors) return -ENOSYS;
  // close(dup()) reports delayed write errors at close(2), as passthrough_fh does.
  int r = close(dup(FdOf(fi)));
  return r == -1 ? -errno : 0;
}

int op_release_impl(const char *path, struct fuse_file_info *fi) {
  if (IsVirtualFh(fi)) {
    std::lock_guard<std::mutex> lock(gVirtualMu);
    gVirtualFiles.erase((uint32_t)FdOf(fi));
    return 0;
  }
  int fd = FdOf(fi);
  // Tell before close so the descriptor number cannot be reused ahead of this notice.
  Tell(OP_RELEASE, path, fd, BitsOf(fi), WasWritten(fd) ? 1 : 0);
  close(fd);
  return 0;
}

int op_fsync_impl(const char *, int datasync, struct fuse_file_info *fi) {
  if (IsVirtualFh(fi)) return 0;
  int fd = FdOf(fi);
  return Errno(datasync ? fdatasync(fd) : fsync(fd));
}

// Classification is shown as user.lacuna.* attributes, read-only to everybody.
bool IsLacunaAttr(const char *name) { return strncmp(name, "user.lacuna.", 12) == 0; }

int op_setxattr_impl(const char *path, const char *name, const char *value, size_t size, int flags) {
  if (IsVirtual(path) || IsLacunaAttr(name)) return -EPERM;
  PathFd f(path);
  if (!f.ok()) return -errno;
  AsCaller as;
  return Errno(setxattr(f.proc(), name, value, size, flags));
}

int op_getxattr_impl(const char *path, const char *name, char *value, size_t size) {
  if (IsVirtual(path)) return -ENODATA;
  if (IsLacunaAttr(name)) {
    Request req;
    req.op = OP_XATTR;
    req.caller = CurrentCaller();
    req.path = path;
    req.path2 = name;
    int r = Ask(req);
    if (r < 0) return r;
    if (size == 0) return (int)req.data.size();
    if (size < req.data.size()) return -ERANGE;
    memcpy(value, req.data.data(), req.data.size());
    return (int)req.data.size();
  }
  PathFd f(path);
  if (!f.ok()) return -errno;
  // The kernel asks for security.capability before every write(2) to decide whether to
  // strip it; reading security.* needs no permission of the caller, so skip the credential
  // switch (four syscalls and two credential copies) on that hot path.
  if (strncmp(name, "security.", 9) == 0) {
    ssize_t n = getxattr(f.proc(), name, value, size);
    return n == -1 ? -errno : (int)n;
  }
  AsCaller as;
  ssize_t n = getxattr(f.proc(), name, value, size);
  return n == -1 ? -errno : (int)n;
}

int op_listxattr_impl(const char *path, char *list, size_t size) {
  if (IsVirtual(path)) return 0;
  PathFd f(path);
  if (!f.ok()) return -errno;
  ssize_t n;
  {
    AsCaller as;
    n = listxattr(f.proc(), list, size);
  }
  if (n == -1) return -errno;
  struct stat st;
  if (fstat(f.fd(), &st) != 0 || !S_ISREG(st.st_mode)) return (int)n;
  static const char extra[] = "user.lacuna.tier\0user.lacuna.tags";
  size_t total = (size_t)n + sizeof(extra);
  if (size == 0) return (int)total;
  if (size < total) return -ERANGE;
  memcpy(list + n, extra, sizeof(extra));
  return (int)total;
}

int op_removexattr_impl(const char *path, const char *name) {
  if (IsVirtual(path) || IsLacunaAttr(name)) return -EPERM;
  PathFd f(path);
  if (!f.ok()) return -errno;
  AsCaller as;
  return Errno(removexattr(f.proc(), name));
}

int op_access_impl(const char *path, int mask) {
  if (IsVirtual(path)) return (mask & W_OK) ? -EACCES : 0;
  AsCaller as;
  return Errno(faccessat(Root(), Rel(path), mask, 0));
}

// Timed entry points: each op above runs inside an OpTimer.
// Every op is timed the same way: its StatOp histogram around its implementation. The ops
// that also count bytes (read, read_buf, write, write_buf) are written out below.
template <StatOp S, auto Impl, typename... Args>
int Timed(Args... args) {
  OpTimer t(S);
  return t.Set(Impl(args...));
}

int op_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
  OpTimer t(S_READ);
  int r = t.Set(op_read_impl(path, buf, size, off, fi));
  if (r > 0) State()->stats.bytesRead.fetch_add((uint64_t)r, std::memory_order_relaxed);
  return r;
}

int op_read_buf(const char *path, struct fuse_bufvec **bufp, size_t size, off_t off, struct fuse_file_info *fi) {
  OpTimer t(S_READ);
  int r = t.Set(op_read_buf_impl(path, bufp, size, off, fi));
  if (r == 0 && *bufp) State()->stats.bytesRead.fetch_add(fuse_buf_size(*bufp), std::memory_order_relaxed);
  return r;
}

int op_write(const char *path, const char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
  OpTimer t(S_WRITE);
  int r = t.Set(op_write_impl(path, buf, size, off, fi));
  if (r > 0) State()->stats.bytesWritten.fetch_add((uint64_t)r, std::memory_order_relaxed);
  return r;
}

int op_write_buf(const char *path, struct fuse_bufvec *src, off_t off, struct fuse_file_info *fi) {
  OpTimer t(S_WRITE);
  int r = t.Set(op_write_buf_impl(path, src, off, fi));
  if (r > 0) State()->stats.bytesWritten.fetch_add((uint64_t)r, std::memory_order_relaxed);
  return r;
}

void *op_init(struct fuse_conn_info *conn) {
  // Big writes cut the number of round trips for sequential writes by ~32x.
  conn->want |= FUSE_CAP_BIG_WRITES;
  // File data never passes through this process: read replies are spliced from the source
  // descriptor into /dev/fuse (read_buf, SPLICE_WRITE), and write requests of a page or more
  // arrive in a pipe that write_buf splices into the file (SPLICE_READ). Smaller requests
  // cost one extra syscall that way; sequential writes gain more (one copy less per 128 KiB).
  conn->want |= FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE | FUSE_CAP_SPLICE_READ;
  return fuse_get_context()->private_data;
}

void op_destroy(void *) {}

struct fuse_operations MakeOps() {
  struct fuse_operations ops;
  memset(&ops, 0, sizeof(ops));
  ops.getattr = Timed<S_GETATTR, op_getattr_impl>;
  ops.fgetattr = Timed<S_FGETATTR, op_fgetattr_impl>;
  ops.readlink = Timed<S_READLINK, op_readlink_impl>;
  ops.opendir = Timed<S_OPENDIR, op_opendir_impl>;
  ops.readdir = Timed<S_READDIR, op_readdir_impl>;
  ops.releasedir = Timed<S_RELEASEDIR, op_releasedir_impl>;
  ops.mknod = Timed<S_MKNOD, op_mknod_impl>;
  ops.mkdir = Timed<S_MKDIR, op_mkdir_impl>;
  ops.unlink = Timed<S_UNLINK, op_unlink_impl>;
  ops.rmdir = Timed<S_RMDIR, op_rmdir_impl>;
  ops.symlink = Timed<S_SYMLINK, op_symlink_impl>;
  ops.rename = Timed<S_RENAME, op_rename_impl>;
  ops.link = Timed<S_LINK, op_link_impl>;
  ops.chmod = Timed<S_CHMOD, op_chmod_impl>;
  ops.chown = Timed<S_CHOWN, op_chown_impl>;
  ops.truncate = Timed<S_TRUNCATE, op_truncate_impl>;
  ops.ftruncate = Timed<S_FTRUNCATE, op_ftruncate_impl>;
  ops.utimens = Timed<S_UTIMENS, op_utimens_impl>;
  ops.open = Timed<S_OPEN, op_open_impl>;
  ops.create = Timed<S_CREATE, op_create_impl>;
  ops.read = op_read;
  ops.read_buf = op_read_buf;
  ops.write = op_write;
  ops.write_buf = op_write_buf;
  ops.statfs = Timed<S_STATFS, op_statfs_impl>;
  ops.flush = Timed<S_FLUSH, op_flush_impl>;
  ops.release = Timed<S_RELEASE, op_release_impl>;
  ops.fsync = Timed<S_FSYNC, op_fsync_impl>;
  ops.setxattr = Timed<S_SETXATTR, op_setxattr_impl>;
  ops.getxattr = Timed<S_GETXATTR, op_getxattr_impl>;
  ops.listxattr = Timed<S_LISTXATTR, op_listxattr_impl>;
  ops.removexattr = Timed<S_REMOVEXATTR, op_removexattr_impl>;
  ops.access = Timed<S_ACCESS, op_access_impl>;
  ops.init = op_init;
  ops.destroy = op_destroy;
  // Ops on an open handle never need the path (files may be unlinked while open).
  ops.flag_nullpath_ok = 1;
  ops.flag_nopath = 1;
  // Let utimensat(UTIME_OMIT / UTIME_NOW) pass through unchanged.
  ops.flag_utime_omit_ok = 1;
  return ops;
}

}  // namespace

bool CloseReportsWriteErrors(int fd) {
  struct statfs sf;
  if (fstatfs(fd, &sf) != 0) return true;
  switch ((unsigned long)sf.f_type) {
    case EXT4_SUPER_MAGIC:  // ext2, ext3 and ext4 share it
    case XFS_SUPER_MAGIC:
    case BTRFS_SUPER_MAGIC:
    case F2FS_SUPER_MAGIC:
    case TMPFS_MAGIC:
      return false;
    default:
      return true;
  }
}

const struct fuse_operations *PassthroughOperations() {
  static const struct fuse_operations ops = MakeOps();
  return &ops;
}

}  // namespace lacuna
