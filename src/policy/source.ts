// A Source owns a policy file's name and text plus a line-offset table, so any
// layer (lexer, parser, compiler, evaluator) can point back at file:line:col and
// render the offending line with a caret the same way.

export interface Location {
  file: string;
  line: number; // 1-based
  col: number; // 1-based, in UTF-16 code units
  offset: number;
}

export class Source {
  private readonly lineStarts: number[] = [0];

  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
  }

  locationAt(offset: number): Location {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { file: this.file, line: lo + 1, col: offset - this.lineStarts[lo]! + 1, offset };
  }

  lineText(line: number): string {
    const start = this.lineStarts[line - 1];
    if (start === undefined) return '';
    const end = this.lineStarts[line] ?? this.text.length + 1;
    return this.text.slice(start, end - 1).replace(/\r$/, '');
  }
}

const sources = new Map<string, Source>();

/** Remembers sources by file name so an error raised far from the parser can still show its line. */
export function registerSource(src: Source): void {
  sources.set(src.file, src);
}

/** `file:line:col: message`, then the source line and a caret under the column (when the text is known). */
export function renderAt(loc: Location | undefined, message: string): string {
  if (!loc) return message;
  const head = `${loc.file}:${loc.line}:${loc.col}: ${message}`;
  const src = sources.get(loc.file);
  if (!src) return head;
  const line = src.lineText(loc.line);
  const pad = line.slice(0, loc.col - 1).replace(/[^\t]/g, ' ');
  return `${head}\n\t${line}\n\t${pad}^`;
}
