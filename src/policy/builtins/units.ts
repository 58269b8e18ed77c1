// units.parse and units.parse_bytes: SI (k, M, G …) and IEC (Ki, Mi, Gi …)
// suffixes with exact arithmetic, as in OPA (`m` alone is milli for units.parse).

import { BuiltinError } from '../errors.js';
import { type Value, normBig } from '../value.js';
import { str } from './args.js';
import { type BuiltinTable, def } from './types.js';

const SI: Record<string, bigint> = { k: 10n ** 3n, m: 10n ** 6n, g: 10n ** 9n, t: 10n ** 12n, p: 10n ** 15n, e: 10n ** 18n };
const IEC: Record<string, bigint> = { ki: 2n ** 10n, mi: 2n ** 20n, gi: 2n ** 30n, ti: 2n ** 40n, pi: 2n ** 50n, ei: 2n ** 60n };

/** Decimal text → [integer mantissa, power of ten]. */
function decimal(s: string): [bigint, number] | null {
  const m = /^([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?$/.exec(s);
  if (!m || (!m[1] && !m[2])) return null;
  const frac = m[2] ?? '';
  return [BigInt((m[1] || '0') + frac), Number(m[3] ?? 0) - frac.length];
}

function scaled(mant: bigint, exp: number, mult: bigint, milli: boolean, truncate: boolean): Value {
  let num = mant * mult;
  let den = 1n;
  if (exp >= 0) num *= 10n ** BigInt(exp);
  else den = 10n ** BigInt(-exp);
  if (milli) den *= 1000n;
  if (num % den === 0n) return normBig(num / den);
  if (truncate) return normBig(num / den);
  return Number(num) / Number(den);
}

function parse(name: string, raw: string, bytes: boolean): Value {
  const s = raw.replace(/^"(.*)"$/, '$1');
  if (/\s/.test(s)) throw new BuiltinError('spaces not allowed in resource strings');
  const m = /^(-?[0-9.]*(?:[eE][+-]?[0-9]+)?)([A-Za-z]*)$/.exec(s);
  const what = bytes ? 'byte amount' : 'amount';
  if (!m || m[1] === '' || m[1] === '-') throw new BuiltinError(`no ${what} provided`);
  const neg = m[1]!.startsWith('-');
  const d = decimal(neg ? m[1]!.slice(1) : m[1]!);
  if (!d) throw new BuiltinError(`could not parse ${what} to a number`);
  let unit = m[2]!;
  let milli = false;
  let mult = 1n;
  if (!bytes && unit === 'm') milli = true;
  else if (unit) {
    let u = unit.toLowerCase();
    if (bytes && u.endsWith('b') && u.length > 1) u = u.slice(0, -1);
    else if (bytes && u === 'b') u = '';
    if (u && !(u in SI) && !(u in IEC)) throw new BuiltinError(`${bytes ? 'byte unit' : 'unit'} ${JSON.stringify(unit)} not recognized`);
    mult = u ? (SI[u] ?? IEC[u]!) : 1n;
    unit = u;
  }
  void name;
  const v = scaled(d[0], d[1], mult, milli, bytes);
  if (!neg) return v;
  return typeof v === 'number' ? -v : normBig(-BigInt(v as number | bigint));
}

export function register(t: BuiltinTable): void {
  def(t, 'units.parse_bytes', 1, ([v]) => parse('units.parse_bytes', str(v!, 1), true));
  def(t, 'units.parse', 1, ([v]) => parse('units.parse', str(v!, 1), false));
}
