// semver.is_valid and semver.compare (Semantic Versioning 2.0.0 precedence).

import { BuiltinError } from '../errors.js';
import { str } from './args.js';
import { type BuiltinTable, def } from './types.js';

const RE = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

function parse(v: string, pos = 1): [bigint, bigint, bigint, string[]] {
  const m = RE.exec(v);
  if (!m) throw new BuiltinError(`operand ${pos}: string ${JSON.stringify(v)} is not a valid SemVer`);
  return [BigInt(m[1]!), BigInt(m[2]!), BigInt(m[3]!), m[4] ? m[4].split('.') : []];
}

export function semverCompare(a: string, b: string): number {
  const x = parse(a, 1);
  const y = parse(b, 2);
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return (x[i] as bigint) < (y[i] as bigint) ? -1 : 1;
  const p = x[3];
  const q = y[3];
  if (!p.length || !q.length) return p.length === q.length ? 0 : p.length ? -1 : 1;
  for (let i = 0; i < Math.max(p.length, q.length); i++) {
    if (i >= p.length) return -1;
    if (i >= q.length) return 1;
    const a1 = p[i]!;
    const b1 = q[i]!;
    const an = /^\d+$/.test(a1);
    const bn = /^\d+$/.test(b1);
    if (an && bn) {
      const d = BigInt(a1) - BigInt(b1);
      if (d !== 0n) return d < 0n ? -1 : 1;
    } else if (an !== bn) return an ? -1 : 1;
    else if (a1 !== b1) return a1 < b1 ? -1 : 1;
  }
  return 0;
}

export function register(t: BuiltinTable): void {
  def(t, 'semver.is_valid', 1, ([v]) => typeof v === 'string' && RE.test(v));
  def(t, 'semver.compare', 2, ([a, b]) => semverCompare(str(a!, 1), str(b!, 2)));
}
