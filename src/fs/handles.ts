// Open files the daemon knows about, keyed by the source descriptor the kernel handle
// wraps. Kept in step with the kernel by the OPENED / RELEASE notices, which arrive in
// order, so a descriptor number reused after close always maps to its newest open.
import type { Classification } from '../classify/types.js';
import type { FileLocation } from './zones.js';

export interface Handle {
  fd: number;
  loc: FileLocation;
  pid: number;
  uid: number;
  gid: number;
  program: string;
  writable: boolean;
  created: boolean;
  dev: number;
  ino: number;
  /** Classification of everything written through this handle so far (inspected handles). */
  written: Classification | null;
  /** Last bytes of the previous write, so a match split across two writes is still seen. */
  tail: Buffer;
  dirty: boolean;
  /** Set after a denied write: every later write on this handle fails too. */
  denied: boolean;
  /** "pid:taint size" of the last writer recorded in lineage (governed handles). */
  lastWriterKey: string;
}

export class HandleTable {
  private readonly byFd = new Map<number, Handle>();

  set(h: Handle): void {
    this.byFd.set(h.fd, h);
  }

  get(fd: number): Handle | undefined {
    return this.byFd.get(fd);
  }

  delete(fd: number): Handle | undefined {
    const h = this.byFd.get(fd);
    this.byFd.delete(fd);
    return h;
  }

  get size(): number {
    return this.byFd.size;
  }

  *all(): IterableIterator<Handle> {
    yield* this.byFd.values();
  }
}
