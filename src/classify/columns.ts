// CSV/TSV header evidence: the first line of a delimited file names its columns, and a column
// called ssn, email or dob over data rows is evidence of personal data even when the cells
// themselves are masked or formatted in ways the content rules do not validate.
import type { ColumnDictionary } from './rules.js';

export interface ColumnEvidence {
  delimiter: string;
  /** Data rows seen after the header (within the scanned head). */
  dataRows: number;
  strong: { header: string; type: string; column: number }[];
  weak: { header: string; type: string; column: number }[];
}

const DELIMS = [',', '\t', ';', '|'];
/** What anonymize() writes in place of a value: `<type>_<12 hex>` or `[TYPE]`. */
const ANONYMISED = /^(?:[a-z][a-z0-9_]*_[0-9a-f]{12}|\[[A-Z][A-Z0-9_]*\])$/;
const MAX_HEAD = 64 * 1024;

function splitRow(line: string, d: string): string[] {
  // Quote-aware enough for headers and for counting fields; not a full RFC 4180 parser.
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '"') q = !q;
    else if (c === d && !q) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

export function normaliseHeader(h: string): string {
  return h
    .trim()
    .replace(/^["']|["']$/g, '')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

/**
 * Reads the header of a delimited file from the start of its content. Returns undefined when
 * the head does not look like a table (fewer than 2 columns, inconsistent rows, numeric header).
 */
export function columnEvidence(head: Buffer, dict: ColumnDictionary, path?: string): ColumnEvidence | undefined {
  const text = head.subarray(0, MAX_HEAD).toString('latin1');
  const lines = text.split(/\r?\n/);
  // The last line of a truncated head may be cut; ignore it unless the head is the whole file.
  if (head.length > MAX_HEAD) lines.pop();
  const header = lines[0]?.replace(/^\uFEFF|^\xEF\xBB\xBF/, '');
  if (!header) return undefined;
  const ext = path?.toLowerCase().match(/\.(csv|tsv|psv|txt|dat)$/)?.[1];
  let best: { d: string; n: number } | undefined;
  for (const d of ext === 'tsv' ? ['\t'] : DELIMS) {
    const n = splitRow(header, d).length;
    if (n >= 2 && (!best || n > best.n)) best = { d, n };
  }
  if (!best) return undefined;
  const raw = splitRow(header, best.d);
  // Column names are short; a "cell" that is a clause of a sentence means this is prose.
  if (raw.some((c) => c.trim().length > 48 || c.trim().split(/\s+/).length > 4)) return undefined;
  const cells = raw.map(normaliseHeader);
  // A header row is mostly words; a numeric first row means there is no header.
  const wordy = cells.filter((c) => /^[a-z_][a-z0-9_]*$/.test(c)).length;
  if (wordy < Math.ceil(cells.length * 0.6)) return undefined;
  let dataRows = 0;
  let consistent = 0;
  // Per column: cells with a value, and how many of them are anonymize() tokens.
  const filled = new Array<number>(best.n).fill(0);
  const tokens = new Array<number>(best.n).fill(0);
  for (const l of lines.slice(1)) {
    if (l.trim() === '') continue;
    dataRows++;
    const row = splitRow(l, best.d);
    if (row.length === best.n) consistent++;
    row.forEach((cell, i) => {
      if (i >= best!.n) return;
      const v = cell.trim();
      if (v === '') return;
      filled[i]!++;
      if (ANONYMISED.test(v)) tokens[i]!++;
    });
  }
  // Prose with commas is not a table: most rows must have the header's field count.
  if (dataRows > 0 && consistent < dataRows * 0.8) return undefined;
  if (dataRows === 0 && !ext) return undefined;
  const ev: ColumnEvidence = { delimiter: best.d, dataRows, strong: [], weak: [] };
  cells.forEach((c, i) => {
    // A column whose every value is a pseudonym or a mask names personal data it no longer holds.
    if (filled[i]! > 0 && tokens[i] === filled[i]) return;
    const s = dict.strong.get(c);
    if (s) ev.strong.push({ header: c, type: s, column: i + 1 });
    const w = dict.weak.get(c);
    if (w) ev.weak.push({ header: c, type: w, column: i + 1 });
  });
  return ev;
}
