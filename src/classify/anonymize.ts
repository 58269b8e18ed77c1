// anonymize: a copy of text content with every identifier layer 1 validates replaced, so it can
// leave a governed zone. Pseudonymise (default) swaps each value for a keyed HMAC-SHA256 token
// (`email_3fa2b1c4d5e6`: same value and key → same token in every file, so joins still work);
// mask writes `[EMAIL]`. Secrets are always masked. Columns whose header names personal data
// (the column dictionary) are replaced cell by cell. The output is then scanned again and
// whatever validated PII or secret is still there is reported in `remaining`.
import { createHmac } from 'node:crypto';
import { detectBinary } from './binary.js';
import { normaliseHeader } from './columns.js';
import { cellSpans, type CellSpan } from './csv.js';
import { fieldSpans } from './fields.js';
import { ClassifyError } from './errors.js';
import { compileRules, locate, syncMaxBytes, type LocatedMatch, type RuleSet } from './native.js';
import { buildRuleTable, loadBuiltin, toNative, type RuleSpec } from './rules.js';
import type { Finding } from './types.js';

export type AnonymizeMode = 'pseudonymise' | 'mask';

export interface AnonymizeOptions {
  /** HMAC key (at least 16 bytes). Keep it secret and stable: it decides every token. */
  key: Buffer;
  /** The file's name, for the CSV/TSV decision (`.tsv` means tab-separated). */
  path?: string;
  /** User rules, located with the built-ins (throws ClassifyError rule_invalid naming the rule). */
  extraRules?: RuleSpec[];
  /** Default 'pseudonymise'. */
  mode?: AnonymizeMode;
}

export interface AnonymizeResult {
  output: Buffer;
  /** How many values of each type were replaced (sorted by type); never the values. */
  replaced: Array<{ type: string; count: number }>;
  /** Columns (CSV/TSV) or named fields (JSON, YAML, .env) replaced whole because their name is in the column dictionary. */
  columns: Array<{ header: string; type: string }>;
  /** Validated PII and secrets the scanner still finds in `output` (empty when anonymisation is complete). */
  remaining: Finding[];
}

/** Bytes of the token digest kept (12 hex digits = 48 bits: collisions are negligible below millions of values). */
const TOKEN_HEX = 12;
const MIN_KEY_BYTES = 16;

interface Span {
  start: number;
  end: number;
  type: string;
  secret: boolean;
  /** The replacement needs quotes (a bare JSON number becomes a string). */
  quote?: boolean;
}

let builtinSet: RuleSet | undefined;

function ruleSet(extra: RuleSpec[] | undefined): RuleSet {
  if (extra?.length) return compileRules(buildRuleTable(extra).map(toNative));
  builtinSet ??= compileRules(buildRuleTable().map(toNative));
  return builtinSet;
}

/** The same identifier written two ways ("536-22-8745", "536 22 8745"; upper-case email) is one value. */
function normalise(type: string, value: string): string {
  const v = value.trim();
  if (type === 'email') return v.toLowerCase();
  if (/^(ssn|credit_card|iban|phone|national_id|passport|tax_id|bank_account)$/.test(type)) return v.replace(/[^0-9A-Za-z]/g, '').toUpperCase();
  return v;
}

/** The pseudonym of one value: `<type>_<first 12 hex digits of HMAC-SHA256(key, type NUL value)>`. */
export function pseudonym(key: Buffer, type: string, value: string): string {
  const mac = createHmac('sha256', key).update(type).update('\0').update(normalise(type, value)).digest('hex');
  return `${type}_${mac.slice(0, TOKEN_HEX)}`;
}

function mask(type: string): string {
  return `[${type.toUpperCase()}]`;
}

/** Context each piece of a large input is located with on both sides of the part it owns. */
const PIECE_OVERLAP = 64 * 1024;

/**
 * Located matches of buf, in sync-sized pieces for large input. Each piece owns the matches
 * whose value starts in its part (cut at a line break) and is located with PIECE_OVERLAP bytes
 * of context on both sides, so a label before a boundary or a PEM body across it is still seen
 * whole. `firstPiece` moves the boundaries (the re-scan of the output uses other ones).
 */
function locateAll(set: RuleSet, buf: Buffer, firstPiece?: number): LocatedMatch[] {
  const own = syncMaxBytes() - 2 * PIECE_OVERLAP;
  const out: LocatedMatch[] = [];
  if (buf.length <= syncMaxBytes()) out.push(...locate(set, buf));
  else {
    for (let off = 0; off < buf.length; ) {
      let end = Math.min(buf.length, off + (off === 0 && firstPiece ? Math.min(firstPiece, own) : own));
      if (end < buf.length) {
        const nl = buf.lastIndexOf(0x0a, end - 1);
        if (nl > off) end = nl + 1;
      }
      const from = Math.max(0, off - PIECE_OVERLAP);
      for (const m of locate(set, buf.subarray(from, Math.min(buf.length, end + PIECE_OVERLAP)))) {
        const start = m.start + from;
        if (start >= off && start < end) out.push({ ...m, start, end: m.end + from });
      }
      off = end;
    }
  }
  return out.filter((m) => m.category === 'pii' || m.category === 'secret');
}

const isB64 = (c: number | undefined) =>
  c !== undefined && ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2b || c === 0x2f || c === 0x3d);

/**
 * A private key's located value is only the start of its body: the whole body goes. A PEM body
 * runs to its `-----END` line (or, cut short, over the following lines that are all base64);
 * a base64-encoded key (kubeconfig) to the end of its base64 run.
 */
function widen(buf: Buffer, m: LocatedMatch): number {
  if (m.type !== 'private_key') return m.end;
  let e = m.end;
  while (isB64(buf[e])) e++;
  if (m.id === 'private_key_base64') return e;
  for (;;) {
    let next = e;
    if (buf[next] === 0x0d) next++;
    if (buf[next] !== 0x0a) return e;
    next++;
    let lineEnd = next;
    while (isB64(buf[lineEnd])) lineEnd++;
    const eol = buf[lineEnd] === 0x0d ? lineEnd + 1 : lineEnd;
    // Only a line made entirely of base64 continues the body; the END line and anything else stop it.
    if (lineEnd === next || (eol < buf.length && buf[eol] !== 0x0a)) return e;
    e = lineEnd;
  }
}

const DELIMITERS = [',', '\t', ';', '|'];

/**
 * The table in buf, if it is one: the delimiter giving the header the most cells (at least
 * two, mostly words), with at least one data row and 80 % of rows as wide as the header.
 * Unlike the classifier's header check (first lines only), rows are real RFC 4180 records, so
 * a line break inside a quoted field does not break the table.
 */
function table(buf: Buffer, path: string | undefined): { cells: CellSpan[]; header: string[] } | undefined {
  const ext = path?.toLowerCase().match(/\.(csv|tsv|psv|txt|dat)$/)?.[1];
  let best: { cells: CellSpan[]; header: string[] } | undefined;
  const nl = buf.indexOf(0x0a);
  const firstLine = nl < 0 ? buf : buf.subarray(0, nl);
  for (const d of ext === 'tsv' ? ['\t'] : DELIMITERS) {
    // The header decides cheaply whether the whole content is worth splitting into cells.
    const header = cellSpans(firstLine, d).map((c) => firstLine.toString('utf8', c.start, c.end).trim());
    if (header.length < 2 || (best && header.length <= best.header.length)) continue;
    if (header.some((h) => h.length > 48 || h.split(/\s+/).length > 4)) continue;
    if (header.filter((h) => /^[a-z_][a-z0-9_]*$/.test(normaliseHeader(h))).length < Math.ceil(header.length * 0.6)) continue;
    const cells = cellSpans(buf, d);
    if (cells.filter((c) => c.row === 0).length !== header.length) continue;
    const widths = new Map<number, number>();
    for (const c of cells) if (c.row > 0) widths.set(c.row, (widths.get(c.row) ?? 0) + 1);
    // A trailing line break leaves one empty cell in a row of its own: not a data row.
    for (const [row, w] of widths) if (w === 1 && cells.find((c) => c.row === row)!.start === cells.find((c) => c.row === row)!.end) widths.delete(row);
    const rows = [...widths.values()];
    if (rows.length === 0 || rows.filter((w) => w === header.length).length < rows.length * 0.8) continue;
    best = { cells, header };
  }
  return best;
}

/**
 * What the column dictionary names: in a table, every cell of such a column; otherwise every
 * value of such a named field (JSON, YAML, .env, INI).
 */
function namedSpans(buf: Buffer, path: string | undefined): { spans: Span[]; columns: Array<{ header: string; type: string }> } {
  const dict = loadBuiltin().columns;
  const t = table(buf, path);
  if (!t) {
    const fields = fieldSpans(buf, dict);
    const names = new Map<string, string>();
    for (const f of fields) if (!names.has(f.name)) names.set(f.name, f.type);
    return {
      spans: fields.map((f) => ({ start: f.start, end: f.end, type: f.type, secret: false, quote: f.jsonNumber })),
      columns: [...names].map(([header, type]) => ({ header, type })),
    };
  }
  const named = new Map<number, string>();
  t.header.forEach((h, i) => {
    const k = normaliseHeader(h);
    const type = dict.strong.get(k) ?? dict.weak.get(k);
    if (type) named.set(i, type);
  });
  const spans: Span[] = [];
  for (const c of t.cells) {
    const type = named.get(c.column);
    if (type === undefined || c.row === 0) continue;
    let s = c.start;
    let e = c.end;
    while (s < e && (buf[s] === 0x20 || buf[s] === 0x09)) s++;
    while (e > s && (buf[e - 1] === 0x20 || buf[e - 1] === 0x09)) e--;
    if (e > s) spans.push({ start: s, end: e, type, secret: false });
  }
  const columns = [...named.entries()].map(([i, type]) => ({ header: t.header[i]!, type }));
  return { spans, columns };
}

/** Overlapping spans become one; a secret anywhere in it makes it a secret (masked). */
function mergeSpans(spans: Span[]): Span[] {
  spans.sort((a, b) => a.start - b.start || b.end - a.end);
  const out: Span[] = [];
  for (const s of spans) {
    const last = out[out.length - 1];
    if (!last || s.start >= last.end) {
      out.push({ ...s });
      continue;
    }
    if (s.secret && !last.secret) {
      last.type = s.type;
      last.secret = true;
    }
    last.end = Math.max(last.end, s.end);
  }
  return out;
}

function lineOf(buf: Buffer, offsets: number[]): number[] {
  const lines: number[] = [];
  let line = 1;
  let pos = 0;
  for (const off of offsets) {
    for (let nl = buf.indexOf(0x0a, pos); nl >= 0 && nl < off; nl = buf.indexOf(0x0a, nl + 1)) {
      line++;
      pos = nl + 1;
    }
    lines.push(line);
  }
  return lines;
}

/** Validated PII and secrets in buf, as findings (type, category, count, first five lines). */
function findings(set: RuleSet, buf: Buffer): Finding[] {
  const byType = new Map<string, { category: 'pii' | 'secret'; starts: number[] }>();
  for (const m of locateAll(set, buf, Math.floor(syncMaxBytes() / 2))) {
    const k = `${m.category}/${m.type}`;
    const f = byType.get(k) ?? { category: m.category as 'pii' | 'secret', starts: [] };
    f.starts.push(m.start);
    byType.set(k, f);
  }
  return [...byType.entries()].map(([k, f]) => ({ type: k.split('/')[1]!, category: f.category, count: f.starts.length, lines: lineOf(buf, f.starts.slice(0, 5)) }));
}

/**
 * Anonymises text content (preconditions: not binary, else ClassifyError `binary_input`; a key of
 * at least 16 bytes, else `key_invalid`). Everything that is not a replaced value is copied
 * byte for byte.
 */
export function anonymize(buf: Buffer, opts: AnonymizeOptions): AnonymizeResult {
  if (!Buffer.isBuffer(opts.key) || opts.key.length < MIN_KEY_BYTES) {
    throw new ClassifyError('key_invalid', `anonymize needs a key of at least ${MIN_KEY_BYTES} bytes`);
  }
  const mode = opts.mode ?? 'pseudonymise';
  if (mode !== 'pseudonymise' && mode !== 'mask') throw new ClassifyError('mode_invalid', `unknown anonymize mode '${String(mode)}' (pseudonymise or mask)`);
  const bin = detectBinary(buf);
  if (bin.binary) {
    throw new ClassifyError('binary_input', `cannot anonymize binary content${bin.format ? ` (${bin.format})` : ''}: only text is rewritten`, { format: bin.format });
  }
  const set = ruleSet(opts.extraRules);
  const located: Span[] = locateAll(set, buf).map((m) => ({ start: m.start, end: widen(buf, m), type: m.type, secret: m.category === 'secret' }));
  const cols = namedSpans(buf, opts.path);
  const spans = mergeSpans([...cols.spans, ...located]);

  const parts: Buffer[] = [];
  const counts = new Map<string, number>();
  const tokens = new Map<string, string>();
  let pos = 0;
  for (const s of spans) {
    parts.push(buf.subarray(pos, s.start));
    let token: string;
    if (s.secret || mode === 'mask') token = mask(s.type);
    else {
      // Tables repeat values (names, cities of a person's address): one HMAC per distinct value.
      const memo = `${s.type}\0${buf.toString('utf8', s.start, s.end)}`;
      token = tokens.get(memo) ?? pseudonym(opts.key, s.type, buf.toString('utf8', s.start, s.end));
      tokens.set(memo, token);
    }
    parts.push(Buffer.from(s.quote ? `"${token}"` : token));
    counts.set(s.type, (counts.get(s.type) ?? 0) + 1);
    pos = s.end;
  }
  parts.push(buf.subarray(pos));
  const output = Buffer.concat(parts);
  return {
    output,
    replaced: [...counts.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([type, count]) => ({ type, count })),
    columns: cols.columns,
    remaining: findings(set, output),
  };
}
