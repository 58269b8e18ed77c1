// String builtins with OPA's semantics (indexes and lengths count code points,
// like Go runes), plus sprintf with Go's common verbs over Rego values.

import { BuiltinError } from '../errors.js';
import { RSet, type Value, compare, isNum, isObj, numberText, objEntries, typeName } from '../value.js';
import { coll, int, num, obj, str, strColl, typeErr } from './args.js';
import { type BuiltinTable, def } from './types.js';

const WS = /^[\s\u0085\u00a0]+|[\s\u0085\u00a0]+$/gu;

function cut(set: string): Set<string> {
  return new Set([...set]);
}
function trimLeft(s: string, cs: Set<string>): string {
  const cps = [...s];
  let i = 0;
  while (i < cps.length && cs.has(cps[i]!)) i++;
  return cps.slice(i).join('');
}
function trimRight(s: string, cs: Set<string>): string {
  const cps = [...s];
  let j = cps.length;
  while (j > 0 && cs.has(cps[j - 1]!)) j--;
  return cps.slice(0, j).join('');
}

/**
 * `x.split(sep)` for a non-empty separator, by indexOf and slice: String.prototype.split looks
 * the separator's Symbol.split up and splits in the runtime, several times the cost of this
 * loop for the short strings (paths) policies split.
 */
function splitOn(x: string, sep: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (let j = x.indexOf(sep); j >= 0; j = x.indexOf(sep, i)) {
    out.push(x.slice(i, j));
    i = j + sep.length;
  }
  out.push(x.slice(i));
  return out;
}

export function register(t: BuiltinTable): void {
  def(t, 'concat', 2, ([d, xs]) => strColl(xs!, 2).join(str(d!, 1)));
  def(t, 'contains', 2, ([s, sub]) => str(s!, 1).includes(str(sub!, 2)));
  def(t, 'startswith', 2, ([s, p]) => str(s!, 1).startsWith(str(p!, 2)));
  def(t, 'endswith', 2, ([s, p]) => str(s!, 1).endsWith(str(p!, 2)));
  def(t, 'lower', 1, ([s]) => str(s!, 1).toLowerCase());
  def(t, 'upper', 1, ([s]) => str(s!, 1).toUpperCase());
  def(t, 'split', 2, ([s, d]) => {
    const x = str(s!, 1);
    const sep = str(d!, 2);
    return sep === '' ? [...x] : splitOn(x, sep);
  });
  def(t, 'replace', 3, ([s, o, n]) => {
    const x = str(s!, 1);
    const old = str(o!, 2);
    const nw = str(n!, 3);
    if (old === '') return [...x].map((c) => nw + c).join('') + nw;
    return x.split(old).join(nw);
  });
  def(t, 'strings.replace_n', 2, ([p, s]) => {
    const pats = obj(p!, 1);
    let x = str(s!, 2);
    const pairs: Array<[string, string]> = [];
    for (const [k, v] of objEntries(pats)) {
      if (typeof k !== 'string') throw new BuiltinError('operand 1 non-string key found in pattern object', true);
      if (typeof v !== 'string') throw new BuiltinError('operand 1 non-string value found in pattern object', true);
      pairs.push([k, v]);
    }
    // Go's strings.NewReplacer: at each position the first (in sorted key order) matching old string wins.
    pairs.sort((a, b) => compare(a[0], b[0]));
    let out = '';
    let i = 0;
    outer: while (i < x.length) {
      for (const [o, n] of pairs) {
        if (o !== '' && x.startsWith(o, i)) {
          out += n;
          i += o.length;
          continue outer;
        }
      }
      out += x[i];
      i++;
    }
    x = out;
    return x;
  });
  def(t, 'trim', 2, ([s, c]) => {
    const cs = cut(str(c!, 2));
    return trimRight(trimLeft(str(s!, 1), cs), cs);
  });
  def(t, 'trim_left', 2, ([s, c]) => trimLeft(str(s!, 1), cut(str(c!, 2))));
  def(t, 'trim_right', 2, ([s, c]) => trimRight(str(s!, 1), cut(str(c!, 2))));
  def(t, 'trim_prefix', 2, ([s, p]) => {
    const x = str(s!, 1);
    const pre = str(p!, 2);
    return x.startsWith(pre) ? x.slice(pre.length) : x;
  });
  def(t, 'trim_suffix', 2, ([s, p]) => {
    const x = str(s!, 1);
    const suf = str(p!, 2);
    return suf && x.endsWith(suf) ? x.slice(0, x.length - suf.length) : x;
  });
  def(t, 'trim_space', 1, ([s]) => str(s!, 1).replace(WS, ''));
  def(t, 'strings.reverse', 1, ([s]) => [...str(s!, 1)].reverse().join(''));
  def(t, 'strings.count', 2, ([s, sub]) => {
    const x = str(s!, 1);
    const y = str(sub!, 2);
    if (y === '') return [...x].length + 1;
    return x.split(y).length - 1;
  });
  def(t, 'indexof', 2, ([s, sub]) => {
    const x = str(s!, 1);
    const i = x.indexOf(str(sub!, 2));
    return i < 0 ? -1 : [...x.slice(0, i)].length;
  });
  def(t, 'indexof_n', 2, ([s, sub]) => {
    const x = str(s!, 1);
    const y = str(sub!, 2);
    const out: Value[] = [];
    let i = x.indexOf(y);
    while (i >= 0) {
      out.push([...x.slice(0, i)].length);
      i = x.indexOf(y, i + 1);
      if (y === '' && i > x.length) break;
    }
    return out;
  });
  def(t, 'substring', 3, ([s, a, n]) => {
    const cps = [...str(s!, 1)];
    const start = int(a!, 2);
    const len = int(n!, 3);
    if (start < 0) throw new BuiltinError('negative offset');
    if (start >= cps.length) return '';
    return (len < 0 ? cps.slice(start) : cps.slice(start, start + len)).join('');
  });
  def(t, 'format_int', 2, ([n, b]) => {
    const x = num(n!, 1);
    const base = int(b!, 2);
    if (![2, 8, 10, 16].includes(base)) throw new BuiltinError('operand 2 must be one of {2, 8, 10, 16}', true);
    const i = typeof x === 'bigint' ? x : BigInt(Math.trunc(x));
    return i.toString(base);
  });
  def(t, 'strings.any_prefix_match', 2, ([s, p]) => {
    const xs = strOrColl(s!, 1);
    const ps = strOrColl(p!, 2);
    return xs.some((x) => ps.some((q) => x.startsWith(q)));
  });
  def(t, 'strings.any_suffix_match', 2, ([s, p]) => {
    const xs = strOrColl(s!, 1);
    const ps = strOrColl(p!, 2);
    return xs.some((x) => ps.some((q) => x.endsWith(q)));
  });
  def(t, 'to_number', 1, ([v]) => {
    const x = v!;
    if (x === null) return 0;
    if (typeof x === 'boolean') return x ? 1 : 0;
    if (isNum(x)) return x;
    if (typeof x === 'string' && /^[+-]?(nan|inf|infinity)$/i.test(x)) throw new BuiltinError(`operand 1 must be a finite number but got ${JSON.stringify(x)}`, true);
    if (typeof x === 'string') {
      if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(x.trim()) || x.trim() !== x) throw new BuiltinError(`strconv.ParseFloat: parsing ${JSON.stringify(x)}: invalid syntax`);
      if (/^[+-]?\d+$/.test(x)) {
        const n = Number(x);
        return Number.isSafeInteger(n) ? n : BigInt(x);
      }
      return Number(x);
    }
    throw typeErr(1, 'one of {boolean, null, number, string}', x);
  });
  def(t, 'sprintf', 2, ([f, a]) => sprintf(str(f!, 1), coll(a!, 2, 'array')));
  t.get('sprintf')!.prepare = (f) => {
    if (typeof f !== 'string') return null;
    const plan = sprintfPlan(f);
    return plan && (([, a]) => plan(coll(a!, 2, 'array')));
  };
}

function strOrColl(v: Value, pos: number): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) || v instanceof RSet) {
    return coll(v, pos).map((x) => {
      if (typeof x !== 'string') throw new BuiltinError(`operand ${pos} must be array of strings but got array containing ${typeName(x)}`, true);
      return x;
    });
  }
  throw typeErr(pos, 'one of {string, set, array}', v);
}

/** Rego's own text form of a value (what OPA's `Term.String()` prints). */
export function regoString(v: Value): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return numberText(v);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'boolean') return String(v);
  if (v === null) return 'null';
  if (Array.isArray(v)) return '[' + v.map(regoString).join(', ') + ']';
  if (v instanceof RSet) return v.size ? '{' + v.sorted().map(regoString).join(', ') + '}' : 'set()';
  if (isObj(v)) {
    const es = [...objEntries(v)].sort((p, q) => compare(p[0], q[0]));
    return '{' + es.map(([k, x]) => regoString(k) + ': ' + regoString(x)).join(', ') + '}';
  }
  return String(v);
}

/**
 * A format made only of bare `%s` / `%v` / `%d` verbs, split once: the formatter appends
 * strings and integers as sprintf's own fast path does, and hands any other argument (or
 * argument count) to sprintf itself. Null for formats with other verbs, flags or `%%`.
 */
export function sprintfPlan(format: string): ((args: Value[]) => string) | null {
  const parts = sprintfParts(format);
  if (parts === null) return null;
  const { pieces, verbs, last } = parts;
  const n = verbs.length;
  return (args) => {
    if (args.length !== n) return sprintf(format, args);
    let out = '';
    for (let k = 0; k < n; k++) {
      const a = args[k]!;
      if (typeof a === 'string' && verbs[k] !== 100) out += pieces[k]! + a;
      else if (typeof a === 'number' && Number.isInteger(a)) out += pieces[k]! + numberText(a);
      else return sprintf(format, args);
    }
    return out + last;
  };
}

/**
 * A format of bare `%s` / `%v` / `%d` verbs as the text before each verb, the verbs (char
 * codes) and the text after the last; null for any other verb, flag, width or `%%`.
 */
export function sprintfParts(format: string): { pieces: string[]; verbs: number[]; last: string } | null {
  const pieces: string[] = [];
  const verbs: number[] = [];
  let i = 0;
  for (;;) {
    const pct = format.indexOf('%', i);
    if (pct < 0) break;
    const v = format.charCodeAt(pct + 1);
    if (v !== 115 && v !== 118 && v !== 100) return null;
    pieces.push(format.slice(i, pct));
    verbs.push(v);
    i = pct + 2;
  }
  return { pieces, verbs, last: format.slice(i) };
}

/** Go fmt subset: flags `-+ 0#`, width, precision, verbs v s d f e g x X o b q t %. */
export function sprintf(format: string, args: Value[]): string {
  let out = '';
  let ai = 0;
  for (let i = 0; i < format.length; i++) {
    const pct = format.indexOf('%', i);
    if (pct < 0) {
      out += format.slice(i);
      break;
    }
    if (pct > i) out += format.slice(i, pct);
    i = pct;
    // Fast path: a bare %s / %v / %d of a string or number.
    const v0 = format.charCodeAt(i + 1);
    if ((v0 === 115 || v0 === 118 || v0 === 100) && ai < args.length) {
      const a = args[ai]!;
      if (typeof a === 'string' && v0 !== 100) {
        out += a;
        ai++;
        i++;
        continue;
      }
      if (typeof a === 'number' && Number.isInteger(a)) {
        out += numberText(a);
        ai++;
        i++;
        continue;
      }
    }
    let j = i + 1;
    let flags = '';
    while (j < format.length && '-+ 0#'.includes(format[j]!)) flags += format[j++];
    let width = '';
    while (j < format.length && /\d/.test(format[j]!)) width += format[j++];
    let prec: number | null = null;
    if (format[j] === '.') {
      j++;
      let p = '';
      while (j < format.length && /\d/.test(format[j]!)) p += format[j++];
      prec = p ? Number(p) : 0;
    }
    const verb = format[j];
    i = j;
    if (verb === undefined) {
      out += '%!(NOVERB)';
      break;
    }
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (ai >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const a = args[ai++]!;
    let s = formatOne(verb, a, flags, prec);
    const w = width ? Number(width) : 0;
    if (s.length < w) {
      if (flags.includes('-')) s = s + ' '.repeat(w - s.length);
      else if (flags.includes('0') && isNum(a) && 'dfegxXob'.includes(verb)) {
        const neg = s.startsWith('-') || s.startsWith('+');
        s = neg ? s[0] + '0'.repeat(w - s.length) + s.slice(1) : '0'.repeat(w - s.length) + s;
      } else s = ' '.repeat(w - s.length) + s;
    }
    out += s;
  }
  if (ai < args.length) out += '%!(EXTRA ' + args.slice(ai).map((a) => `${goType(a)}=${plain(a)}`).join(', ') + ')';
  return out;
}

function goType(a: Value): string {
  if (typeof a === 'string') return 'string';
  if (typeof a === 'number') return Number.isInteger(a) ? 'int' : 'float64';
  if (typeof a === 'bigint') return '*big.Int';
  return 'string';
}

function plain(a: Value): string {
  if (typeof a === 'string') return a;
  if (typeof a === 'number') return goFloat(a);
  if (typeof a === 'bigint') return a.toString();
  return regoString(a);
}

function goFloat(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return numberText(n);
  const s = String(n);
  // Go's %v for float64 uses exponent form from 1e21 and below 1e-4, like JS, but writes e+21 as e+21.
  return s;
}

function formatOne(verb: string, a: Value, flags: string, prec: number | null): string {
  const sign = (s: string, n: number | bigint): string => (flags.includes('+') && n >= 0 ? '+' + s : flags.includes(' ') && n >= 0 ? ' ' + s : s);
  switch (verb) {
    case 'v':
    case 's': {
      let s = plain(a);
      if (verb === 's' && prec !== null) s = [...s].slice(0, prec).join('');
      return s;
    }
    case 'q':
      return typeof a === 'string' ? JSON.stringify(a) : `%!q(${goType(a)}=${plain(a)})`;
    case 't':
      return typeof a === 'boolean' ? String(a) : `%!t(${goType(a)}=${plain(a)})`;
    case 'd': {
      if (typeof a === 'bigint') return sign(a.toString(), a);
      if (typeof a === 'number' && Number.isInteger(a)) return sign(numberText(a), a);
      return `%!d(${goType(a)}=${plain(a)})`;
    }
    case 'f':
    case 'F':
    case 'e':
    case 'E':
    case 'g':
    case 'G': {
      if (!isNum(a)) return `%!${verb}(${goType(a)}=${plain(a)})`;
      const n = Number(a);
      let s: string;
      if (verb === 'f' || verb === 'F') s = n.toFixed(prec ?? 6);
      else if (verb === 'e' || verb === 'E') s = goExp(n.toExponential(prec ?? 6));
      else s = prec === null ? goFloat(n) : String(Number(n.toPrecision(prec || 1)));
      if (verb === 'E' || verb === 'G') s = s.toUpperCase();
      return sign(s, n);
    }
    case 'x':
    case 'X':
    case 'o':
    case 'b': {
      const base = verb === 'o' ? 8 : verb === 'b' ? 2 : 16;
      let s: string;
      if (typeof a === 'bigint' || (typeof a === 'number' && Number.isInteger(a))) s = BigInt(a).toString(base);
      else if (typeof a === 'string' && base === 16) s = Buffer.from(a, 'utf8').toString('hex');
      else return `%!${verb}(${goType(a)}=${plain(a)})`;
      if (flags.includes('#')) s = (base === 16 ? '0x' : base === 8 ? '0' : '') + s;
      return verb === 'X' ? s.toUpperCase() : s;
    }
    default:
      return `%!${verb}(${goType(a)}=${plain(a)})`;
  }
}

/** JS writes 1.5e+0; Go writes 1.5e+00. */
function goExp(s: string): string {
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}
