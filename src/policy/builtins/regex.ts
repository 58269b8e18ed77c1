// regex.* builtins on RE2 (the `re2` package): linear-time matching, so a
// policy's pattern can never stall the file system. Compiled patterns are cached.

import { createRequire } from 'node:module';
import { BuiltinError } from '../errors.js';
import { type Value } from '../value.js';
import { int, str } from './args.js';
import { type BuiltinTable, def } from './types.js';

type RE2Ctor = new (pattern: string, flags?: string) => RegExp;
const RE2 = createRequire(import.meta.url)('re2') as RE2Ctor;

const cache = new Map<string, RegExp>();

/** A global, unicode RE2 regex for the pattern (Go RE2 syntax); errors are builtin errors. */
export function compileRegex(pattern: string): RegExp {
  let r = cache.get(pattern);
  if (r) {
    r.lastIndex = 0;
    return r;
  }
  try {
    r = new RE2(pattern, 'gu');
  } catch (e) {
    throw new BuiltinError(`error parsing regexp: ${(e as Error).message}`);
  }
  if (cache.size > 1000) cache.clear();
  cache.set(pattern, r);
  return r;
}

function allMatches(re: RegExp, s: string, n: number): RegExpExecArray[] {
  const out: RegExpExecArray[] = [];
  re.lastIndex = 0;
  while (n < 0 || out.length < n) {
    const m = re.exec(s);
    if (!m) break;
    out.push(m);
    if (m[0] === '') re.lastIndex++;
  }
  re.lastIndex = 0;
  return out;
}

/** Go's ReplaceAllString template: `$1`, `${1}`, `${name}`, `$$`. */
function goTemplate(tpl: string): string {
  return tpl.replace(/\$(\$|\{(\w+)\}|(\w+))/g, (_m, all: string, braced?: string, bare?: string) => {
    if (all === '$') return '$$';
    const name = braced ?? bare!;
    return /^\d+$/.test(name) ? `$${name}` : `$<${name}>`;
  });
}

export function register(t: BuiltinTable): void {
  def(t, 'regex.match', 2, ([p, v]) => {
    const re = compileRegex(str(p!, 1));
    const s = str(v!, 2);
    re.lastIndex = 0;
    const ok = re.test(s);
    re.lastIndex = 0;
    return ok;
  });
  t.set('re_match', { ...t.get('regex.match')!, name: 're_match' });
  def(t, 'regex.is_valid', 1, ([p]) => {
    if (typeof p !== 'string') return false;
    try {
      compileRegex(p);
      return true;
    } catch {
      return false;
    }
  });
  def(t, 'regex.find_n', 3, ([p, v, n]) => allMatches(compileRegex(str(p!, 1)), str(v!, 2), int(n!, 3)).map((m) => m[0]));
  def(t, 'regex.find_all_string_submatch_n', 3, ([p, v, n]) =>
    allMatches(compileRegex(str(p!, 1)), str(v!, 2), int(n!, 3)).map((m) => [...m].map((x) => x ?? '')),
  );
  def(t, 'regex.replace', 3, ([s, p, r]) => {
    const re = compileRegex(str(p!, 2));
    const out = str(s!, 1).replace(re, goTemplate(str(r!, 3)));
    re.lastIndex = 0;
    return out;
  });
  def(t, 'regex.split', 2, ([p, v]) => {
    const re = compileRegex(str(p!, 1));
    const s = str(v!, 2);
    const out: Value[] = [];
    let last = 0;
    for (const m of allMatches(re, s, -1)) {
      if (m[0] === '' && (m.index === 0 || m.index === s.length)) continue;
      out.push(s.slice(last, m.index));
      last = m.index + m[0].length;
    }
    out.push(s.slice(last));
    return out;
  });
  def(t, 'regex.template_match', 4, ([tpl, v, ds, de]) => {
    const template = str(tpl!, 1);
    const value = str(v!, 2);
    const start = str(ds!, 3);
    const end = str(de!, 4);
    // Literal text is escaped; text between the delimiters is a regex.
    let pattern = '^';
    let i = 0;
    while (i < template.length) {
      const a = template.indexOf(start, i);
      if (a < 0) {
        pattern += escape(template.slice(i));
        break;
      }
      const b = template.indexOf(end, a + start.length);
      if (b < 0) throw new BuiltinError(`unbalanced delimiters in template ${JSON.stringify(template)}`);
      pattern += escape(template.slice(i, a)) + '(?:' + template.slice(a + start.length, b) + ')';
      i = b + end.length;
    }
    const re = compileRegex(pattern + '$');
    re.lastIndex = 0;
    const ok = re.test(value);
    re.lastIndex = 0;
    return ok;
  });
}

export function escape(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}
