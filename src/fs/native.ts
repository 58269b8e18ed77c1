// Loads the libfuse binding (build/Release/lacuna_fuse.node) and names its op codes.
// The codes mirror native/fuse/request.h; append only.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const Kind = { Check: 0, Notify: 1 } as const;

export const Op = {
  OPEN: 1,
  CREATE: 2,
  OPENED: 3,
  WRITE: 4,
  RELEASE: 5,
  TRUNCATE: 6,
  RENAME: 7,
  LINK: 8,
  SYMLINK: 9,
  UNLINK: 10,
  RMDIR: 11,
  MKDIR: 12,
  DONE: 13,
  WROTE: 14,
  VGETATTR: 20,
  VREADDIR: 21,
  VOPEN: 22,
  XATTR: 23,
  UNMOUNTED: 30,
} as const;

export const OP_NAMES: Record<number, string> = Object.fromEntries(Object.entries(Op).map(([k, v]) => [v, k.toLowerCase()]));

export const HandleBits = {
  INSPECT_WRITES: 1 << 0,
  KEEP_CACHE: 1 << 1,
  DIRECT_IO: 1 << 2,
} as const;

/** Opaque request handle; answer it with `reply` exactly once. */
export type NativeRequest = { readonly __nativeRequest: unique symbol };
export type NativeMount = { readonly __nativeMount: unique symbol };

export type Dispatch = (
  kind: number,
  op: number,
  req: NativeRequest | null,
  uid: number,
  gid: number,
  pid: number,
  path: string,
  path2: string,
  a: number,
  b: number,
  buf: Buffer | null,
  result: number,
) => void;

export interface NativeStats {
  ops: Record<string, { count: number; errors: number; sum_ns: number; buckets: number[] }>;
  /** Upper bounds of the histogram buckets in microseconds; the last bucket is +Inf. */
  bucket_upper_us: number[];
  bytes_read: number;
  bytes_written: number;
}

export interface FuseBinding {
  mount(mountpoint: string, source: string, options: string, dispatch: Dispatch): NativeMount;
  reply(req: NativeRequest, result: number, bits?: number, data?: Buffer | string | Array<string | number>): void;
  unmount(handle: NativeMount): void;
  release(handle: NativeMount): void;
  /** Per-op counters and latency histograms of one mount (every op, native or not). */
  stats(handle: NativeMount): NativeStats;
  /** SO_PEERCRED of a connected unix socket descriptor. */
  peerCred(fd: number): { pid: number; uid: number; gid: number };
}

/** The repository root: the nearest ancestor of this module holding binding.gyp. */
export function repoRoot(from = path.dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'binding.gyp'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`cannot find the lacuna-fs root (binding.gyp) above ${from}`);
  }
}

let binding: FuseBinding | undefined;

export function fuseBinding(): FuseBinding {
  if (binding) return binding;
  const file = path.join(repoRoot(), 'build', 'Release', 'lacuna_fuse.node');
  if (!fs.existsSync(file)) {
    throw new Error(`the FUSE addon is not built (${file} is missing): run \`npm run build:native\` (or bin/setup)`);
  }
  binding = createRequire(import.meta.url)(file) as FuseBinding;
  return binding;
}
