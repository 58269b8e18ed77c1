// net.cidr_* builtins over IPv4 and IPv6 (addresses as bigint).

import { BuiltinError } from '../errors.js';
import { RSet, type Value, isObj, objEntries } from '../value.js';
import { str, typeErr } from './args.js';
import { type BuiltinTable, def } from './types.js';

interface Net {
  v6: boolean;
  addr: bigint;
  bits: number; // prefix length
}

function parseV4(s: string): bigint | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  let v = 0n;
  for (let i = 1; i <= 4; i++) {
    const o = Number(m[i]);
    if (o > 255 || (m[i]!.length > 1 && m[i]!.startsWith('0'))) return null;
    v = (v << 8n) | BigInt(o);
  }
  return v;
}

function parseV6(s: string): bigint | null {
  if (!/^[0-9a-fA-F:.]+$/.test(s)) return null;
  let tail: bigint | null = null;
  const lastColon = s.lastIndexOf(':');
  if (s.includes('.')) {
    tail = parseV4(s.slice(lastColon + 1));
    if (tail === null) return null;
    s = s.slice(0, lastColon + 1) + '0:0';
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const groups = halves.length === 2 ? [...head, ...Array(8 - head.length - rest.length).fill('0'), ...rest] : head;
  if (groups.length !== 8) return null;
  let v = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    v = (v << 16n) | BigInt(parseInt(g, 16));
  }
  if (tail !== null) v = (v & ~0xffffffffn) | tail;
  return v;
}

function parseIP(s: string): { v6: boolean; addr: bigint } | null {
  const a = parseV4(s);
  if (a !== null) return { v6: false, addr: a };
  const b = parseV6(s);
  return b === null ? null : { v6: true, addr: b };
}

function parseCIDR(s: string): Net | null {
  const i = s.indexOf('/');
  if (i < 0) return null;
  const ip = parseIP(s.slice(0, i));
  const bits = s.slice(i + 1);
  if (!ip || !/^\d{1,3}$/.test(bits)) return null;
  const n = Number(bits);
  if (n > (ip.v6 ? 128 : 32)) return null;
  const width = ip.v6 ? 128 : 32;
  const mask = ((1n << BigInt(width)) - 1n) ^ ((1n << BigInt(width - n)) - 1n);
  return { v6: ip.v6, addr: ip.addr & mask, bits: n };
}

function cidrOrIP(s: string): Net | null {
  if (s.includes('/')) return parseCIDR(s);
  const ip = parseIP(s);
  return ip ? { ...ip, bits: ip.v6 ? 128 : 32 } : null;
}

function range(n: Net): [bigint, bigint] {
  const width = n.v6 ? 128 : 32;
  const size = 1n << BigInt(width - n.bits);
  return [n.addr, n.addr + size - 1n];
}

function contains(a: Net, b: Net): boolean {
  if (a.v6 !== b.v6 || b.bits < a.bits) return false;
  const [lo, hi] = range(a);
  const [blo, bhi] = range(b);
  return blo >= lo && bhi <= hi;
}

function mustCIDR(s: string): Net {
  const n = parseCIDR(s);
  if (!n) throw new BuiltinError(`invalid CIDR address: ${s}`);
  return n;
}

function fmtIP(v6: boolean, a: bigint): string {
  if (!v6) return [24n, 16n, 8n, 0n].map((sh) => String((a >> sh) & 255n)).join('.');
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((a >> BigInt(i * 16)) & 0xffffn).toString(16));
  const s = groups.join(':');
  // Compress the longest run of zero groups.
  const runs = [...s.matchAll(/(?:^|:)0(?::0)+(?::|$)/g)].sort((x, y) => y[0].length - x[0].length);
  if (!runs.length) return s;
  const r = runs[0]!;
  return s.slice(0, r.index) + '::' + s.slice(r.index! + r[0].length);
}

function items(v: Value, pos: number): Array<[Value, string]> {
  if (typeof v === 'string') return [[v, v]];
  if (Array.isArray(v)) return v.map((x, i) => [i, pick(x, pos)]);
  if (v instanceof RSet) return v.sorted().map((x) => [x, pick(x, pos)]);
  if (isObj(v)) return [...objEntries(v)].map(([k, x]) => [k, pick(x, pos)]);
  throw typeErr(pos, 'one of {string, array, set, object}', v);
}
function pick(x: Value, pos: number): string {
  if (typeof x === 'string') return x;
  if (Array.isArray(x) && typeof x[0] === 'string') return x[0];
  throw new BuiltinError(`operand ${pos}: element must be string or non-empty array`);
}

export function register(t: BuiltinTable): void {
  def(t, 'net.cidr_contains', 2, ([c, x]) => {
    const a = mustCIDR(str(c!, 1));
    const s = str(x!, 2);
    const b = cidrOrIP(s);
    if (!b) throw new BuiltinError(s.includes('/') ? `invalid CIDR address: ${s}` : `invalid IP address: ${s}`);
    return contains(a, b);
  });
  def(t, 'net.cidr_intersects', 2, ([a, b]) => {
    const x = mustCIDR(str(a!, 1));
    const y = mustCIDR(str(b!, 2));
    if (x.v6 !== y.v6) return false;
    const [xl, xh] = range(x);
    const [yl, yh] = range(y);
    return xl <= yh && yl <= xh;
  });
  def(t, 'net.cidr_is_valid', 1, ([a]) => typeof a === 'string' && parseCIDR(a) !== null);
  def(t, 'net.cidr_expand', 1, ([a]) => {
    const n = mustCIDR(str(a!, 1));
    const [lo, hi] = range(n);
    if (hi - lo > 65536n) throw new BuiltinError('CIDR too large to expand');
    const out = new RSet();
    for (let x = lo; x <= hi; x++) out.add(fmtIP(n.v6, x));
    return out;
  });
  def(t, 'net.cidr_contains_matches', 2, ([a, b]) => {
    const out = new RSet();
    const xs = items(a!, 1);
    const ys = items(b!, 2);
    for (const [ka, ca] of xs) {
      const na = mustCIDR(ca);
      for (const [kb, cb] of ys) {
        const nb = cidrOrIP(cb);
        if (!nb) throw new BuiltinError(`invalid CIDR address: ${cb}`);
        if (contains(na, nb)) out.add([ka, kb]);
      }
    }
    return out;
  });
  def(t, 'net.cidr_merge', 1, ([a]) => {
    const xs = Array.isArray(a) ? a : a instanceof RSet ? a.sorted() : null;
    if (!xs) throw typeErr(1, 'one of {array, set}', a!);
    const nets: Net[] = xs.map((x) => {
      if (typeof x !== 'string') throw typeErr(1, 'array of strings', a!);
      if (!x.includes('/')) {
        // Like Go's net.ParseIP + DefaultMask, a bare IPv4 address takes its classful mask.
        const ip = parseIP(x);
        if (!ip) throw new BuiltinError(`invalid CIDR address: ${x}`);
        if (ip.v6) throw new BuiltinError('IPv6 invalid: needs prefix length');
        const first = Number(ip.addr >> 24n);
        const bits = first < 128 ? 8 : first < 192 ? 16 : first < 224 ? 24 : 32;
        return mustCIDR(`${x}/${bits}`);
      }
      const n = parseCIDR(x);
      if (!n) throw new BuiltinError(`invalid CIDR address: ${x}`);
      return n;
    });
    const out = new RSet();
    for (const v6 of [false, true]) {
      const width = v6 ? 128 : 32;
      let rs = nets.filter((n) => n.v6 === v6).map(range).sort((p, q) => (p[0] < q[0] ? -1 : p[0] > q[0] ? 1 : 0));
      const merged: Array<[bigint, bigint]> = [];
      for (const r of rs) {
        const last = merged[merged.length - 1];
        if (last && r[0] <= last[1] + 1n) last[1] = r[1] > last[1] ? r[1] : last[1];
        else merged.push([r[0], r[1]]);
      }
      rs = merged;
      for (const [lo0, hi] of rs) {
        let lo = lo0;
        while (lo <= hi) {
          let size = 0;
          while (size < width && (lo & ((1n << BigInt(size + 1)) - 1n)) === 0n && lo + (1n << BigInt(size + 1)) - 1n <= hi) size++;
          out.add(`${fmtIP(v6, lo)}/${width - size}`);
          lo += 1n << BigInt(size);
        }
      }
    }
    return out;
  });
}
