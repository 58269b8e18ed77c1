// Mount lifecycle of one governed mount: clean a stale mount left by a crash, mount with
// the options governance and POSIX need, and unmount without blocking in-flight ops.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import type { MountConfig } from '../config/index.js';
import { fuseBinding, type Dispatch, type NativeMount, type NativeStats } from './native.js';

export type MountState = 'mounting' | 'mounted' | 'unmounting' | 'unmounted' | 'failed';

/**
 * Kernel-visible choices, each for a reason:
 * - allow_other + default_permissions: analysts (not root) use the mount, and the kernel
 *   checks permissions against the passed-through modes, as on the source.
 * - use_ino: real inode numbers, so hard links and `cp`'s same-file checks work.
 * - hard_remove: open-but-unlinked files keep working through their descriptor
 *   (no .fuse_hidden files), since every handle op uses the descriptor.
 * - attr_timeout (default 0): link counts and sizes never go stale after link/unlink
 *   through another name (the bindfs failure mode); getattr is served natively in C++.
 * - auto_cache: page cache kept across opens, dropped when mtime/size change.
 * - big_writes + max_write=131072: 128 KiB writes instead of 4 KiB.
 */
export function mountOptions(m: MountConfig): string {
  return [
    'allow_other',
    'default_permissions',
    'use_ino',
    'hard_remove',
    `attr_timeout=${m.attrTimeout}`,
    `entry_timeout=${m.entryTimeout}`,
    'negative_timeout=0',
    'auto_cache',
    'big_writes',
    'max_write=131072',
    `fsname=lacuna:${m.name}`,
    'subtype=lacuna',
  ].join(',');
}

/** True when something is mounted exactly at `mountpoint` (per /proc/self/mountinfo). */
export function isMountpoint(mountpoint: string): boolean {
  try {
    const info = fs.readFileSync('/proc/self/mountinfo', 'utf8');
    const escaped = mountpoint.replace(/ /g, '\\040');
    return info.split('\n').some((line) => line.split(' ')[4] === escaped);
  } catch {
    return false;
  }
}

/** Detach whatever is mounted at `mountpoint` (lazy: open files keep working until closed). */
export function detach(mountpoint: string): void {
  try {
    execFileSync('umount', ['-l', mountpoint], { stdio: 'ignore' });
  } catch {
    execFileSync('fusermount', ['-uz', mountpoint], { stdio: 'ignore' });
  }
}

/** A mountpoint that cannot be used as configured; the message says why and what to do. */
export class MountpointError extends Error {
  readonly code = 'mountpoint_unusable';
}

/**
 * Makes the mountpoint usable: creates it if missing, and cleans a stale mount (ENOTCONN
 * after a crash). Refuses a live mount, which means another daemon serves it, and a
 * directory with files in it, which the mount would hide.
 */
export function prepareMountpoint(mountpoint: string): { cleanedStale: boolean } {
  let cleanedStale = false;
  try {
    fs.statSync(mountpoint);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTCONN' || code === 'ECONNABORTED') {
      detach(mountpoint);
      cleanedStale = true;
    } else if (code === 'ENOENT') {
      fs.mkdirSync(mountpoint, { recursive: true });
    } else {
      throw new MountpointError(`cannot use mountpoint ${mountpoint}: ${code ?? String(e)}`);
    }
  }
  if (!cleanedStale && isMountpoint(mountpoint)) {
    throw new MountpointError(`${mountpoint} is already mounted (another lacuna-fs daemon? see \`lacuna-fs status\`); unmount it first`);
  }
  if (!fs.statSync(mountpoint).isDirectory()) throw new MountpointError(`mountpoint ${mountpoint} is not a directory`);
  const entries = fs.readdirSync(mountpoint);
  if (entries.length > 0) {
    const shown = entries.slice(0, 3).join(', ') + (entries.length > 3 ? ', …' : '');
    throw new MountpointError(`mountpoint ${mountpoint} is not empty (${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}: ${shown}); the mount would hide them: move them away or choose an empty directory`);
  }
  return { cleanedStale };
}

export class FuseMount {
  state: MountState = 'mounting';
  readonly since = new Date();
  private handle: NativeMount | undefined;
  private unmounted!: Promise<void>;
  private resolveUnmounted!: () => void;

  constructor(readonly config: MountConfig) {
    this.unmounted = new Promise((resolve) => (this.resolveUnmounted = resolve));
  }

  mount(dispatch: Dispatch): void {
    try {
      this.handle = fuseBinding().mount(this.config.mountpoint, this.config.source, mountOptions(this.config), dispatch);
      this.state = 'mounted';
    } catch (e) {
      this.state = 'failed';
      throw e;
    }
  }

  /** Called by the dispatcher when the FUSE loop has ended. */
  onLoopEnded(): void {
    if (this.handle) fuseBinding().release(this.handle);
    this.state = 'unmounted';
    this.resolveUnmounted();
  }

  /** Detaches the mount and waits (up to timeoutMs) for the loop to finish in-flight ops. */
  async unmount(timeoutMs = 10_000): Promise<boolean> {
    if (!this.handle || this.state === 'unmounted') return true;
    this.state = 'unmounting';
    fuseBinding().unmount(this.handle);
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([
      this.unmounted.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    if (timer) clearTimeout(timer);
    return done;
  }

  /** Native per-op statistics (empty before mounting). */
  stats(): NativeStats | undefined {
    return this.handle && this.state !== 'unmounted' ? fuseBinding().stats(this.handle) : undefined;
  }

  /** Live health: the mountpoint answers stat. */
  healthy(): boolean {
    if (this.state !== 'mounted') return false;
    return isMountpoint(this.config.mountpoint);
  }
}
