// time.* builtins. Times are integer nanoseconds since the Unix epoch (bigint
// beyond 2^53, as OPA keeps them exact); zones are IANA names via Intl, and Go
// reference layouts (`2006-01-02T15:04:05Z07:00`) are supported for format/parse.

import { BuiltinError } from '../errors.js';
import { type Value, isNum, normBig } from '../value.js';
import { int, num, str, typeErr } from './args.js';
import { type BuiltinTable, def } from './types.js';

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const NS_PER_MS = 1000000n;

function toNs(v: Value, pos: number): bigint {
  const n = num(v, pos);
  const b = typeof n === 'bigint' ? n : BigInt(Math.trunc(n));
  if (b > 2n ** 63n - 1n || b < -(2n ** 63n)) throw new BuiltinError('timestamp too big');
  return b;
}

interface Fields {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
  second: number;
  nanos: number;
  weekday: number; // 0 = Sunday
  offsetSec: number;
  zone: string;
}

const fmtCache = new Map<string, Intl.DateTimeFormat>();

function zoneOffsetSec(tz: string, ms: number): number {
  if (tz === 'UTC' || tz === '') return 0;
  let f = fmtCache.get(tz);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', { timeZone: tz === 'Local' ? undefined : tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    } catch {
      throw new BuiltinError(`unknown time zone ${tz}`);
    }
    fmtCache.set(tz, f);
  }
  const parts = Object.fromEntries(f.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  const asUtc = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 1000);
}

function fields(ns: bigint, tz: string): Fields {
  let ms = ns / NS_PER_MS;
  let rem = ns % NS_PER_MS;
  if (rem < 0n) {
    rem += NS_PER_MS;
    ms -= 1n;
  }
  const msN = Number(ms);
  const off = zoneOffsetSec(tz, msN);
  const d = new Date(msN + off * 1000);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    nanos: d.getUTCMilliseconds() * 1000000 + Number(rem),
    weekday: d.getUTCDay(),
    offsetSec: off,
    zone: tz === '' ? 'UTC' : tz,
  };
}

/** `ns` or `[ns, tz]` (tz "" = UTC, "Local" = the host zone). */
function nsAndZone(v: Value, pos: number): [bigint, string] {
  if (Array.isArray(v)) {
    if (v.length !== 2 && v.length !== 3) throw new BuiltinError('array argument must have two or three elements');
    if (!isNum(v[0]!)) throw typeErr(pos, 'number', v[0]!);
    if (typeof v[1] !== 'string') throw typeErr(pos, 'string', v[1]!);
    return [toNs(v[0]!, pos), v[1]];
  }
  if (isNum(v)) return [toNs(v, pos), 'UTC'];
  throw typeErr(pos, 'one of {array, number}', v);
}

const MAX_NS = 2n ** 63n - 1n;
const MIN_NS = -(2n ** 63n);

function utcNs(y: number, mo: number, d: number, h: number, mi: number, s: number, nanos: number, offSec: number): bigint {
  // setUTCFullYear with month and day normalises overflow (month 13 → next January) and
  // avoids Date.UTC's mapping of years 0-99 to 1900+.
  const dt = new Date(0);
  dt.setUTCFullYear(y, mo - 1, d);
  dt.setUTCHours(h, mi, s, 0);
  const ns = (BigInt(dt.getTime()) - BigInt(offSec) * 1000n) * NS_PER_MS + BigInt(nanos);
  // OPA keeps times as int64 nanoseconds (years 1678-2262).
  if (ns > MAX_NS || ns < MIN_NS) throw new BuiltinError('time outside of valid range');
  return ns;
}

// ---------- Go layouts ----------

const TOKENS = [
  'January', 'Monday', '2006', '-07:00:00', 'Z07:00:00', '-07:00', 'Z07:00', '-0700', 'Z0700', '-07', 'Z07', 'MST',
  'Jan', 'Mon', '002', '_2', '01', '02', '03', '04', '05', '06', '15', 'PM', 'pm', '1', '2', '3', '4', '5',
];

type Tok = { lit: string } | { tok: string } | { frac: string };

function tokenize(layout: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  let lit = '';
  while (i < layout.length) {
    const fm = /^[.,](0+|9+)/.exec(layout.slice(i));
    if (fm && !/\d/.test(layout[i + fm[0].length] ?? '')) {
      if (lit) out.push({ lit });
      lit = '';
      out.push({ frac: fm[0] });
      i += fm[0].length;
      continue;
    }
    const t = TOKENS.find((x) => layout.startsWith(x, i));
    if (t) {
      if (lit) out.push({ lit });
      lit = '';
      out.push({ tok: t });
      i += t.length;
      continue;
    }
    lit += layout[i];
    i++;
  }
  if (lit) out.push({ lit });
  return out;
}

const pad = (n: number, w: number): string => String(Math.abs(n)).padStart(w, '0');

function zoneText(off: number, tok: string): string {
  if (off === 0 && tok.startsWith('Z')) return 'Z';
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  const h = pad(Math.floor(a / 3600), 2);
  const m = pad(Math.floor((a % 3600) / 60), 2);
  const s = pad(a % 60, 2);
  const t = tok.replace(/^Z/, '-');
  if (t === '-07') return sign + h;
  if (t === '-0700') return sign + h + m;
  if (t === '-07:00') return sign + h + ':' + m;
  return sign + h + ':' + m + ':' + s;
}

export function formatLayout(f: Fields, layout: string): string {
  let out = '';
  for (const t of tokenize(layout)) {
    if ('lit' in t) {
      out += t.lit;
      continue;
    }
    if ('frac' in t) {
      const digits = t.frac.length - 1;
      let s = pad(f.nanos, 9).slice(0, digits);
      if (t.frac[1] === '9') {
        s = s.replace(/0+$/, '');
        if (s) out += t.frac[0] + s;
      } else out += t.frac[0] + s;
      continue;
    }
    switch (t.tok) {
      case '2006': out += pad(f.year, 4); break;
      case '06': out += pad(f.year % 100, 2); break;
      case 'January': out += MONTHS[f.month - 1]; break;
      case 'Jan': out += MONTHS[f.month - 1]!.slice(0, 3); break;
      case '01': out += pad(f.month, 2); break;
      case '1': out += String(f.month); break;
      case 'Monday': out += DAYS[f.weekday]; break;
      case 'Mon': out += DAYS[f.weekday]!.slice(0, 3); break;
      case '02': out += pad(f.day, 2); break;
      case '_2': out += String(f.day).padStart(2, ' '); break;
      case '2': out += String(f.day); break;
      case '002': out += pad(dayOfYear(f), 3); break;
      case '15': out += pad(f.hour, 2); break;
      case '03': out += pad(f.hour % 12 || 12, 2); break;
      case '3': out += String(f.hour % 12 || 12); break;
      case '04': out += pad(f.minute, 2); break;
      case '4': out += String(f.minute); break;
      case '05': out += pad(f.second, 2); break;
      case '5': out += String(f.second); break;
      case 'PM': out += f.hour >= 12 ? 'PM' : 'AM'; break;
      case 'pm': out += f.hour >= 12 ? 'pm' : 'am'; break;
      case 'MST': out += f.offsetSec === 0 ? 'UTC' : zoneText(f.offsetSec, '-0700'); break;
      default: out += zoneText(f.offsetSec, t.tok);
    }
  }
  return out;
}

function dayOfYear(f: Fields): number {
  return Math.round((Date.UTC(f.year, f.month - 1, f.day) - Date.UTC(f.year, 0, 1)) / 86400000) + 1;
}

export function parseLayout(layout: string, value: string): bigint {
  const err = (): never => {
    throw new BuiltinError(`parsing time ${JSON.stringify(value)} as ${JSON.stringify(layout)}: cannot parse ${JSON.stringify(value)} as ${JSON.stringify(layout)}`);
  };
  let y = 1;
  let mo = 1;
  let d = 1;
  let h = 0;
  let mi = 0;
  let s = 0;
  let nanos = 0;
  let off = 0;
  let pm: boolean | null = null;
  let i = 0;
  const digits = (min: number, max: number): number => {
    const m = new RegExp(`^\\d{${min},${max}}`).exec(value.slice(i));
    if (!m) return err();
    i += m[0].length;
    return Number(m[0]);
  };
  const toks = tokenize(layout);
  for (let ti = 0; ti < toks.length; ti++) {
    const t = toks[ti]!;
    if ('lit' in t) {
      if (!value.startsWith(t.lit, i)) err();
      i += t.lit.length;
      continue;
    }
    if ('frac' in t) {
      const m = /^[.,](\d+)/.exec(value.slice(i));
      if (m) {
        nanos = Number(m[1]!.slice(0, 9).padEnd(9, '0'));
        i += m[0].length;
      } else if (t.frac[1] !== '9') err();
      continue;
    }
    switch (t.tok) {
      case '2006': y = digits(4, 4); break;
      case '06': y = 2000 + digits(2, 2); if (y >= 2069) y -= 100; break;
      case 'January':
      case 'Jan': {
        const names = t.tok === 'January' ? MONTHS : MONTHS.map((m) => m.slice(0, 3));
        const k = names.findIndex((m) => value.startsWith(m, i));
        if (k < 0) err();
        mo = k + 1;
        i += names[k]!.length;
        break;
      }
      case '01': mo = digits(2, 2); break;
      case '1': mo = digits(1, 2); break;
      case 'Monday':
      case 'Mon': {
        const names = t.tok === 'Monday' ? DAYS : DAYS.map((x) => x.slice(0, 3));
        const k = names.findIndex((x) => value.startsWith(x, i));
        if (k < 0) err();
        i += names[k]!.length;
        break;
      }
      case '02': d = digits(2, 2); break;
      case '_2': if (value[i] === ' ') i++; d = digits(1, 2); break;
      case '2': d = digits(1, 2); break;
      case '002': digits(3, 3); break;
      case '15': h = digits(1, 2); break;
      case '03': h = digits(2, 2); break;
      case '3': h = digits(1, 2); break;
      case '04': mi = digits(2, 2); break;
      case '4': mi = digits(1, 2); break;
      case '05':
      case '5': {
        s = t.tok === '05' ? digits(2, 2) : digits(1, 2);
        // Go accepts a fractional second after seconds even when the layout has none.
        const next = toks[ti + 1];
        if (!(next && 'frac' in next)) {
          const m = /^\.(\d+)/.exec(value.slice(i));
          if (m) {
            nanos = Number(m[1]!.slice(0, 9).padEnd(9, '0'));
            i += m[0].length;
          }
        }
        break;
      }
      case 'PM':
      case 'pm': {
        const ap = value.slice(i, i + 2).toUpperCase();
        if (ap !== 'AM' && ap !== 'PM') err();
        pm = ap === 'PM';
        i += 2;
        break;
      }
      case 'MST': {
        const m = /^[A-Z]{3,5}/.exec(value.slice(i));
        if (!m) err();
        i += m![0].length;
        break;
      }
      default: {
        if (t.tok.startsWith('Z') && (value[i] === 'Z' || value[i] === 'z')) {
          i++;
          off = 0;
          break;
        }
        const m = /^([+-])(\d{2})(?::?(\d{2}))?(?::?(\d{2}))?/.exec(value.slice(i));
        if (!m) err();
        off = (Number(m![2]) * 3600 + Number(m![3] ?? 0) * 60 + Number(m![4] ?? 0)) * (m![1] === '-' ? -1 : 1);
        i += m![0].length;
      }
    }
  }
  if (i !== value.length) throw new BuiltinError(`parsing time ${JSON.stringify(value)}: extra text: ${JSON.stringify(value.slice(i))}`);
  if (pm !== null) h = (h % 12) + (pm ? 12 : 0);
  if (mo < 1 || mo > 12) throw new BuiltinError(`parsing time ${JSON.stringify(value)}: month out of range`);
  if (d < 1 || d > daysIn(y, mo) || h > 23 || mi > 59 || s > 59) throw new BuiltinError(`parsing time ${JSON.stringify(value)}: day out of range`);
  return utcNs(y, mo, d, h, mi, s, nanos, off);
}

function daysIn(y: number, m: number): number {
  return new Date(Date.UTC(2000, m, 0)).getUTCDate() + (m === 2 && isLeap(y) !== isLeap(2000) ? (isLeap(y) ? 1 : -1) : 0);
}
function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

const LAYOUTS: Record<string, string> = {
  ANSIC: 'Mon Jan _2 15:04:05 2006',
  UnixDate: 'Mon Jan _2 15:04:05 MST 2006',
  RubyDate: 'Mon Jan 02 15:04:05 -0700 2006',
  RFC822: '02 Jan 06 15:04 MST',
  RFC822Z: '02 Jan 06 15:04 -0700',
  RFC850: 'Monday, 02-Jan-06 15:04:05 MST',
  RFC1123: 'Mon, 02 Jan 2006 15:04:05 MST',
  RFC1123Z: 'Mon, 02 Jan 2006 15:04:05 -0700',
  RFC3339: '2006-01-02T15:04:05Z07:00',
  RFC3339Nano: '2006-01-02T15:04:05.999999999Z07:00',
  Kitchen: '3:04PM',
  Stamp: 'Jan _2 15:04:05',
  StampMilli: 'Jan _2 15:04:05.000',
  StampMicro: 'Jan _2 15:04:05.000000',
  StampNano: 'Jan _2 15:04:05.000000000',
  DateTime: '2006-01-02 15:04:05',
  DateOnly: '2006-01-02',
  TimeOnly: '15:04:05',
};

const DUR_UNITS: Record<string, bigint> = { ns: 1n, us: 1000n, 'µs': 1000n, 'μs': 1000n, ms: 1000000n, s: 1000000000n, m: 60000000000n, h: 3600000000000n };

export function parseDuration(s: string): bigint {
  const bad = (): never => {
    throw new BuiltinError(`time: invalid duration ${JSON.stringify(s)}`);
  };
  let rest = s;
  let neg = false;
  if (rest[0] === '-' || rest[0] === '+') {
    neg = rest[0] === '-';
    rest = rest.slice(1);
  }
  if (rest === '0') return 0n;
  if (!rest) bad();
  let total = 0;
  let totalBig = 0n;
  while (rest) {
    const m = /^(\d*\.?\d*)(ns|us|µs|μs|ms|s|m|h)/.exec(rest);
    if (!m || m[1] === '' || m[1] === '.') {
      if (m && !m[1]) bad();
      throw new BuiltinError(m ? `time: invalid duration ${JSON.stringify(s)}` : `time: missing unit in duration ${JSON.stringify(s)}`);
    }
    const unit = DUR_UNITS[m[2]!]!;
    const [ip, fp] = m[1]!.split('.');
    totalBig += BigInt(ip || '0') * unit;
    if (fp) total += Number('0.' + fp) * Number(unit);
    rest = rest.slice(m[0].length);
  }
  const r = totalBig + BigInt(Math.trunc(total));
  return neg ? -r : r;
}

function diff(a: bigint, b: bigint, tz: string): Value[] {
  if (a > b) [a, b] = [b, a];
  const x = fields(a, tz);
  const y = fields(b, tz);
  let years = y.year - x.year;
  let months = y.month - x.month;
  let days = y.day - x.day;
  let hours = y.hour - x.hour;
  let mins = y.minute - x.minute;
  let secs = y.second - x.second;
  if (secs < 0) {
    secs += 60;
    mins--;
  }
  if (mins < 0) {
    mins += 60;
    hours--;
  }
  if (hours < 0) {
    hours += 24;
    days--;
  }
  if (days < 0) {
    // Borrow the length of the earlier time's month (as OPA does).
    days += new Date(Date.UTC(2000, x.month, 0)).getUTCDate() + (x.month === 2 && isLeap(x.year) ? 1 : 0) - (x.month === 2 ? 1 : 0);
    months--;
  }
  if (months < 0) {
    months += 12;
    years--;
  }
  return [years, months, days, hours, mins, secs];
}

export function register(t: BuiltinTable): void {
  def(t, 'time.now_ns', 0, (_a, c) => normBig(c.now()), false);
  def(t, 'time.parse_rfc3339_ns', 1, ([v]) => normBig(parseLayout(LAYOUTS.RFC3339!, str(v!, 1))));
  def(t, 'time.parse_ns', 2, ([l, v]) => normBig(parseLayout(LAYOUTS[str(l!, 1)] ?? (l as string), str(v!, 2))));
  def(t, 'time.parse_duration_ns', 1, ([v]) => normBig(parseDuration(str(v!, 1))));
  def(t, 'time.date', 1, ([v]) => {
    const f = fields(...nsAndZone(v!, 1));
    return [f.year, f.month, f.day];
  });
  def(t, 'time.clock', 1, ([v]) => {
    const f = fields(...nsAndZone(v!, 1));
    return [f.hour, f.minute, f.second];
  });
  def(t, 'time.weekday', 1, ([v]) => DAYS[fields(...nsAndZone(v!, 1)).weekday]!);
  def(t, 'time.add_date', 4, ([v, y, m, d]) => {
    const ns = toNs(v!, 1);
    const f = fields(ns, 'UTC');
    const out = utcNs(f.year + int(y!, 2), f.month + int(m!, 3), f.day + int(d!, 4), f.hour, f.minute, f.second, f.nanos, 0);
    return normBig(out);
  });
  def(t, 'time.diff', 2, ([a, b]) => {
    const [x, tz] = nsAndZone(a!, 1);
    const [y] = nsAndZone(b!, 2);
    return diff(x, y, tz);
  });
  def(t, 'time.format', 1, ([v]) => {
    let layout = LAYOUTS.RFC3339Nano!;
    let x = v!;
    if (Array.isArray(x) && x.length === 3) {
      if (typeof x[2] !== 'string') throw typeErr(1, 'string', x[2]!);
      layout = LAYOUTS[x[2]] ?? x[2];
      x = [x[0]!, x[1]!];
    }
    const [ns, tz] = nsAndZone(x, 1);
    return formatLayout(fields(ns, tz), layout);
  });
}
