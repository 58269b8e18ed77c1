// The read-only /.lacuna directory in every mount: `why` shows the reading user's own
// recent denials (the same text as `lacuna-fs why`), `status` a one-screen summary, and
// README what the directory is. Content is rendered per reader at open time.
import { constants as C } from 'node:os';
import type { Caller } from './governor.js';
import { renderDenial, type DenialLog } from './denials.js';

const ENOENT = -C.errno.ENOENT;
const DIR_MODE = 0o040555;
const FILE_MODE = 0o100444;

export interface VirtualDeps {
  denials: DenialLog;
  statusText: () => string;
}

export class VirtualFiles {
  private readonly files: Record<string, (c: Caller) => string>;

  constructor(d: VirtualDeps) {
    this.files = {
      why: (c) => {
        const list = d.denials.forUser(c.uid, 20);
        if (list.length === 0) return 'No recent denials for you.\n';
        return list.map(renderDenial).join('\n\n') + '\n';
      },
      status: () => d.statusText(),
      README: () =>
        [
          'This directory is provided by lacuna-fs, the data-governance layer of this mount.',
          '  why     your own recent denials: what was blocked, why, and how to proceed',
          '  status  what the service is doing',
          'The same information is available with `lacuna-fs why` and `lacuna-fs status`.',
          '',
        ].join('\n'),
    };
  }

  private name(path: string): string | null {
    if (path === '/.lacuna') return '';
    const name = path.slice('/.lacuna/'.length);
    return name in this.files ? name : null;
  }

  getattr(c: Caller, path: string): { result: number; data?: number[] } {
    const name = this.name(path);
    if (name === null) return { result: ENOENT };
    if (name === '') return { result: 0, data: [DIR_MODE, 0] };
    return { result: 0, data: [FILE_MODE, Buffer.byteLength(this.files[name]!(c))] };
  }

  readdir(_c: Caller, path: string): { result: number; data?: string[] } {
    if (path !== '/.lacuna') return { result: -C.errno.ENOTDIR };
    return { result: 0, data: Object.keys(this.files) };
  }

  open(c: Caller, path: string): { result: number; data?: string } {
    const name = this.name(path);
    if (name === null) return { result: ENOENT };
    if (name === '') return { result: -C.errno.EISDIR };
    return { result: 0, data: this.files[name]!(c) };
  }
}
