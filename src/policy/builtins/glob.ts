// glob.match and glob.quote_meta with the semantics of gobwas/glob, which OPA
// uses: `*` stays within delimiters, `**` crosses them, `?`, `[a-z]`, `[!x]`,
// `{a,b}` alternatives, `\` escapes. Patterns compile to RE2 and are cached.

import { BuiltinError } from '../errors.js';
import { RSet } from '../value.js';
import { str, typeErr } from './args.js';
import { compileRegex, escape } from './regex.js';
import { type BuiltinTable, def } from './types.js';

function classEsc(d: string): string {
  return d.replace(/[\\\]^-]/g, '\\$&');
}

export function globToRegex(pattern: string, delims: string[]): string {
  const notDelim = delims.length ? `[^${delims.map(classEsc).join('')}]` : '[\\s\\S]';
  let out = '';
  let i = 0;
  let depth = 0;
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === '\\') {
      if (i + 1 >= pattern.length) throw new BuiltinError(`unexpected end of input`);
      out += escape(pattern[i + 1]!);
      i += 2;
      continue;
    }
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        out += '[\\s\\S]*';
        i += 2;
      } else {
        out += `${notDelim}*`;
        i++;
      }
      continue;
    }
    if (c === '?') {
      out += notDelim;
      i++;
      continue;
    }
    if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) throw new BuiltinError('unexpected end of input');
      let body = pattern.slice(i + 1, end);
      let neg = false;
      if (body.startsWith('!')) {
        neg = true;
        body = body.slice(1);
      }
      const m = /^(.)-(.)$/u.exec(body);
      const cls = m ? `${classEsc(m[1]!)}-${classEsc(m[2]!)}` : [...body].map(classEsc).join('');
      out += `[${neg ? '^' : ''}${cls}]`;
      i = end + 1;
      continue;
    }
    if (c === '{') {
      depth++;
      out += '(?:';
      i++;
      continue;
    }
    if (c === '}' && depth > 0) {
      depth--;
      out += ')';
      i++;
      continue;
    }
    if (c === ',' && depth > 0) {
      out += '|';
      i++;
      continue;
    }
    out += escape(c);
    i++;
  }
  if (depth) throw new BuiltinError('unexpected end of input');
  return `^(?:${out})$`;
}

export function register(t: BuiltinTable): void {
  def(t, 'glob.match', 3, ([p, d, v]) => {
    const pattern = str(p!, 1);
    let delims: string[];
    if (d === null) delims = [];
    else if (Array.isArray(d) || d instanceof RSet) {
      delims = [...(Array.isArray(d) ? d : d.values())].map((x) => {
        if (typeof x !== 'string') throw typeErr(2, 'array of strings', d);
        return x;
      });
      if (!delims.length) delims = ['.'];
    } else throw typeErr(2, 'array', d!);
    const re = compileRegex(globToRegex(pattern, delims));
    re.lastIndex = 0;
    const ok = re.test(str(v!, 3));
    re.lastIndex = 0;
    return ok;
  });
  def(t, 'glob.quote_meta', 1, ([p]) => str(p!, 1).replace(/[*?\\[\]{}]/g, '\\$&'));
}
