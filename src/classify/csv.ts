// Field spans of delimited text (CSV/TSV/PSV) as byte offsets, for rewriting cells in place:
// RFC 4180 quoting ("" inside a quoted field, delimiters and line breaks inside quotes), CRLF
// or LF rows. Offsets of a quoted field cover its content, not its quotes, so a replacement
// that holds no quote keeps the field valid.

export interface CellSpan {
  /** 0-based row (the header is row 0) and column. */
  row: number;
  column: number;
  /** Content byte range [start, end), inside the quotes of a quoted field. */
  start: number;
  end: number;
  quoted: boolean;
}

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

/** Every cell of buf split by `delimiter` (one ASCII character). Never throws: an unclosed quote runs to the end. */
export function cellSpans(buf: Buffer, delimiter: string): CellSpan[] {
  const d = delimiter.charCodeAt(0);
  const out: CellSpan[] = [];
  let row = 0;
  let column = 0;
  let i = 0;
  const n = buf.length;
  // A BOM belongs to no cell.
  if (n >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) i = 3;
  while (i < n) {
    let start = i;
    let end: number;
    let quoted = false;
    if (buf[i] === QUOTE) {
      quoted = true;
      start = ++i;
      for (;;) {
        if (i >= n) {
          end = n;
          break;
        }
        if (buf[i] === QUOTE) {
          if (buf[i + 1] === QUOTE) {
            i += 2;
            continue;
          }
          end = i++;
          break;
        }
        i++;
      }
      // Anything between the closing quote and the delimiter is kept, outside the cell.
      while (i < n && buf[i] !== d && buf[i] !== LF) i++;
    } else {
      while (i < n && buf[i] !== d && buf[i] !== LF) i++;
      end = i > start && buf[i - 1] === CR && (i === n || buf[i] === LF) ? i - 1 : i;
    }
    out.push({ row, column, start, end, quoted });
    if (i < n && buf[i] === d) {
      column++;
      i++;
      if (i === n) out.push({ row, column, start: i, end: i, quoted: false });
    } else if (i < n) {
      // A line break ends the row.
      row++;
      column = 0;
      i++;
    }
  }
  return out;
}
