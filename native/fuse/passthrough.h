// The passthrough file system: libfuse 2.9 high-level operations served on the source
// directory with the caller's credentials. No N-API here: governance questions go
// through the Bridge, everything else is a syscall on the FUSE worker thread.
#pragma once

#include <string>

#include "request.h"

struct fuse;
struct fuse_chan;
struct fuse_operations;

namespace lacuna {

struct MountState {
  std::string source;      // absolute, no trailing slash ("" for "/")
  std::string mountpoint;
  Bridge *bridge = nullptr;
  struct fuse *fuse = nullptr;
  struct fuse_chan *chan = nullptr;
};

// The operations table (filled once).
const struct fuse_operations *PassthroughOperations();

// Paths under this directory at the mount root are virtual and served by JavaScript.
constexpr const char *kVirtualDir = "/.lacuna";

}  // namespace lacuna
