// The one adapter between native/fuse and the governed ops: decodes a request, runs the
// op, and answers exactly once. An unexpected throw becomes -EIO with a log line, never
// a hung kernel request.
import { constants as C } from 'node:os';
import { Kind, Op, type Dispatch, type FuseBinding, type NativeRequest } from './native.js';
import type { GovernedOps, OpAnswer } from './ops.js';
import type { VirtualFiles } from './virtual.js';
import type { Caller } from './governor.js';

const EIO = -C.errno.EIO;
const ENOSYS = -C.errno.ENOSYS;

export interface DispatchDeps {
  binding: FuseBinding;
  ops: GovernedOps;
  virtual: VirtualFiles;
  onUnmounted: () => void;
  log: { error(obj: object, msg: string): void };
}

type Answer = number | OpAnswer | { result: number; data?: string | Buffer | Array<string | number> };

export function makeDispatch(d: DispatchDeps): Dispatch {
  const { binding, ops, virtual } = d;

  const answer = (req: NativeRequest, a: Answer): void => {
    if (typeof a === 'number') binding.reply(req, a);
    else binding.reply(req, a.result, 'bits' in a ? (a.bits ?? 0) : 0, 'data' in a ? a.data : undefined);
  };

  const fail = (req: NativeRequest, op: number, path: string, e: unknown): void => {
    d.log.error({ op, path, err: e instanceof Error ? e.stack : String(e) }, 'governed op failed');
    binding.reply(req, EIO);
  };

  const check = (op: number, req: NativeRequest, c: Caller, path: string, path2: string, a: number, b: number, buf: Buffer | null): Answer | Promise<Answer> => {
    switch (op) {
      case Op.OPEN:
        return ops.open(c, path, a, b);
      case Op.CREATE:
        return ops.create(c, path, a, b);
      case Op.WRITE:
        return ops.write(c, a, b, buf ?? Buffer.alloc(0));
      case Op.TRUNCATE:
        return ops.truncate(c, path, a, b);
      case Op.RENAME:
        return ops.rename(c, path, path2, b);
      case Op.LINK:
        return ops.link(c, path, path2, b);
      case Op.SYMLINK:
        return ops.symlink(c, path, path2);
      case Op.XATTR:
        return ops.xattr(c, path, path2);
      case Op.VGETATTR:
        return virtual.getattr(c, path);
      case Op.VREADDIR:
        return virtual.readdir(c, path);
      case Op.VOPEN:
        return virtual.open(c, path);
      default:
        void req;
        return ENOSYS;
    }
  };

  const DONE_NAMES: Record<number, 'rename' | 'link' | 'symlink' | 'truncate'> = { [Op.RENAME]: 'rename', [Op.LINK]: 'link', [Op.SYMLINK]: 'symlink', [Op.TRUNCATE]: 'truncate' };

  const notify = (op: number, c: Caller, path: string, path2: string, a: number, b: number, result: number): void => {
    switch (op) {
      case Op.OPENED:
        // b carries the open flags in its low 32 bits and "created" in bit 32.
        return ops.opened(c, path, a, b % 2 ** 32, b >= 2 ** 32, result);
      case Op.RELEASE:
        // result: 1 when the handle was written (the opener's own writes send no WROTE).
        return ops.released(a, result === 1);
      case Op.WROTE:
        return ops.wrote(c, a, result);
      case Op.DONE: {
        const name = DONE_NAMES[a];
        if (name) ops.done(c, name, path, path2, result);
        return;
      }
      case Op.UNLINK:
        return ops.unlinked(path);
      case Op.UNMOUNTED:
        return d.onUnmounted();
      default:
        return;
    }
  };

  return (kind, op, req, uid, gid, pid, path, path2, a, b, buf, result) => {
    const c: Caller = { uid, gid, pid };
    if (kind === Kind.Notify || req === null) {
      try {
        notify(op, c, path, path2, a, b, result);
      } catch (e) {
        d.log.error({ op, path, err: e instanceof Error ? e.stack : String(e) }, 'notice handler failed');
      }
      return;
    }
    let out: Answer | Promise<Answer>;
    try {
      out = check(op, req, c, path, path2, a, b, buf);
    } catch (e) {
      return fail(req, op, path, e);
    }
    if (out instanceof Promise) out.then((v) => answer(req, v), (e) => fail(req, op, path, e));
    else answer(req, out);
  };
}
