// crypto.* digests and HMACs (hex output), and crypto.hmac.equal (constant time).

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { str } from './args.js';
import { type BuiltinTable, def } from './types.js';

export function register(t: BuiltinTable): void {
  for (const [name, algo] of [['md5', 'md5'], ['sha1', 'sha1'], ['sha256', 'sha256']] as const) {
    def(t, `crypto.${name}`, 1, ([s]) => createHash(algo).update(str(s!, 1), 'utf8').digest('hex'));
  }
  for (const algo of ['md5', 'sha1', 'sha256', 'sha512'] as const) {
    def(t, `crypto.hmac.${algo}`, 2, ([m, k]) => createHmac(algo, Buffer.from(str(k!, 2), 'utf8')).update(str(m!, 1), 'utf8').digest('hex'));
  }
  def(t, 'crypto.hmac.equal', 2, ([a, b]) => {
    const x = Buffer.from(str(a!, 1));
    const y = Buffer.from(str(b!, 2));
    return x.length === y.length && timingSafeEqual(x, y);
  });
}
