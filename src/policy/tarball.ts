// Minimal synchronous reader for OPA bundle tarballs (.tar.gz): regular files
// only, with ustar prefixes, PAX `path` records and GNU long names honoured.

import { gunzipSync } from 'node:zlib';
import { PolicyError } from './errors.js';

export interface TarFile {
  path: string;
  data: Buffer;
}

function field(b: Buffer, off: number, len: number): string {
  const s = b.subarray(off, off + len);
  const z = s.indexOf(0);
  return s.subarray(0, z < 0 ? len : z).toString('utf8');
}

export function readTarGz(buf: Buffer, source: string): TarFile[] {
  let tar: Buffer;
  try {
    tar = gunzipSync(buf);
  } catch (e) {
    throw new PolicyError('bundle_error', `${source}: not a gzip file (${(e as Error).message})`);
  }
  const out: TarFile[] = [];
  let off = 0;
  let longName: string | null = null;
  while (off + 512 <= tar.length) {
    const h = tar.subarray(off, off + 512);
    if (h.every((x) => x === 0)) break;
    const name = field(h, 0, 100);
    const size = parseInt(field(h, 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(h[156]!);
    const prefix = h.subarray(257, 262).toString() === 'ustar' ? field(h, 345, 155) : '';
    const body = tar.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === 'L') {
      longName = body.toString('utf8').replace(/\0+$/, '');
      continue;
    }
    if (type === 'x') {
      const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body.toString('utf8'));
      if (m) longName = m[1]!;
      continue;
    }
    if (type === 'g') continue;
    const path = longName ?? (prefix ? `${prefix}/${name}` : name);
    longName = null;
    if (type === '0' || type === '\0') out.push({ path: path.replace(/^\.?\//, ''), data: Buffer.from(body) });
  }
  return out;
}
