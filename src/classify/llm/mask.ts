// What layer 3 may send: the first maxBytes of a document with identifiers masked. Lines where
// layer 1 found PII or secrets are withheld whole (findings carry line numbers, never text);
// everything else is re-scanned with simple patterns (emails, long digit runs, keys, IPs,
// credentials in URLs and key=value pairs), since findings list only the first few lines.

import type { Finding } from '../types.js';

export interface MaskResult {
  text: string;
  /** Count of replacements per placeholder, e.g. {EMAIL: 3}. */
  masked: Record<string, number>;
  withheldLines: number;
  truncated: boolean;
}

interface Rule {
  label: string;
  re: RegExp;
  /** Return the replacement, or undefined to keep the match. */
  replace?: (m: string, ...groups: string[]) => string | undefined;
}

const ISO_DATE = /^(?:19|20)\d\d-\d\d-\d\d$/;

// Order matters: whole PEM blocks and URL credentials go before the generic key and digit rules.
const RULES: Rule[] = [
  { label: 'PRIVATE_KEY', re: /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g },
  {
    label: 'CREDENTIALS',
    re: /\b([a-z][a-z0-9+.-]*:\/\/)[^\s:@/]+:[^\s@/]+@/gi,
    replace: (_m, scheme) => `${scheme}[CREDENTIALS]@`,
  },
  {
    label: 'SECRET',
    re: /\b((?:pass(?:word|wd)?|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|auth)[A-Za-z0-9_]*\s*[:=]\s*)("[^"\n]*"|'[^'\n]*'|[^\s,;]+)/gi,
    replace: (_m, key) => `${key}[SECRET]`,
  },
  { label: 'EMAIL', re: /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g },
  { label: 'KEY', re: /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b|\b(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{8,}\b|\bgh[pousr]_[A-Za-z0-9]{20,}\b/g },
  {
    label: 'KEY',
    re: /[A-Za-z0-9+/_-]{24,}={0,2}/g,
    // Long mixed letter+digit tokens are keys or hashes; long plain words or paths are not.
    replace: (m) => (/[0-9]/.test(m) && /[A-Za-z]/.test(m) ? '[KEY]' : undefined),
  },
  { label: 'IP', re: /\b(?:\d{1,3}\.){3}\d{1,3}\b/g },
  {
    label: 'NUMBER',
    re: /\+?\d[\d\s().-]{4,}\d/g,
    // Six or more digits in one run (SSNs, cards, phones, accounts); keep ISO dates and small numbers.
    replace: (m) => (ISO_DATE.test(m.trim()) || m.replace(/\D/g, '').length < 6 ? undefined : '[NUMBER]'),
  },
];

export function maskIdentifiers(text: string, masked: Record<string, number> = {}): string {
  let out = text;
  for (const rule of RULES) {
    out = out.replace(rule.re, (m: string, ...rest: unknown[]) => {
      const groups = rest.filter((g): g is string => typeof g === 'string');
      const r = rule.replace ? rule.replace(m, ...groups) : `[${rule.label}]`;
      if (r === undefined) return m;
      masked[rule.label] = (masked[rule.label] ?? 0) + 1;
      return r;
    });
  }
  return out;
}

/**
 * The first maxBytes of content, with lines named by PII/secret findings withheld and the rest
 * masked. Keyword/column findings do not withhold lines: they are not identifiers.
 */
export function prepareForLlm(content: string | Buffer, findings: Finding[], maxBytes: number): MaskResult {
  const buf = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const truncated = buf.length > maxBytes;
  // Cut, then drop the token the cut went through: half an email or half a card number would
  // no longer match its mask pattern and would leak.
  let text = buf.subarray(0, maxBytes).toString('utf8').replace(/\uFFFD$/, '');
  if (truncated) text = text.replace(/\S+$/, '');
  const withhold = new Map<number, Set<string>>();
  for (const f of findings) {
    if (f.category !== 'pii' && f.category !== 'secret') continue;
    for (const line of f.lines ?? []) {
      if (!withhold.has(line)) withhold.set(line, new Set());
      withhold.get(line)!.add(f.type);
    }
  }
  const masked: Record<string, number> = {};
  let withheldLines = 0;
  const lines = text.split('\n').map((line, i) => {
    const types = withhold.get(i + 1);
    if (!types) return line;
    withheldLines++;
    return `[line withheld: ${[...types].sort().join(', ')}]`;
  });
  let out = maskIdentifiers(lines.join('\n'), masked);
  // Placeholders can be longer than what they replace; the byte bound holds for what is sent.
  if (Buffer.byteLength(out) > maxBytes) out = Buffer.from(out).subarray(0, maxBytes).toString('utf8').replace(/\uFFFD$/, '');
  return { text: out, masked, withheldLines, truncated };
}
