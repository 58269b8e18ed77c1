// Binary detection on the first bytes of a file. Binary content is scanned as printable runs
// (the native scanner's binary mode), and the result says so.

export interface BinaryInfo {
  binary: boolean;
  /** A recognised container format, for the reasoning ("zip archive"). */
  format?: string;
}

const MAGIC: [number[], string][] = [
  [[0x50, 0x4b, 0x03, 0x04], 'zip archive (docx/xlsx/jar)'],
  [[0x1f, 0x8b], 'gzip stream'],
  [[0x89, 0x50, 0x4e, 0x47], 'PNG image'],
  [[0xff, 0xd8, 0xff], 'JPEG image'],
  [[0x25, 0x50, 0x44, 0x46], 'PDF document'],
  [[0x7f, 0x45, 0x4c, 0x46], 'ELF executable'],
  [[0x50, 0x41, 0x52, 0x31], 'Parquet file'],
  [[0x53, 0x51, 0x4c, 0x69, 0x74, 0x65], 'SQLite database'],
  [[0x28, 0xb5, 0x2f, 0xfd], 'zstd stream'],
  [[0xfd, 0x37, 0x7a, 0x58, 0x5a], 'xz stream'],
];

const SAMPLE = 8192;

export function detectBinary(head: Buffer): BinaryInfo {
  for (const [sig, name] of MAGIC) {
    if (head.length >= sig.length && sig.every((b, i) => head[i] === b)) {
      // PDF starts with a text header but its streams are binary.
      return { binary: true, format: name };
    }
  }
  const n = Math.min(head.length, SAMPLE);
  let control = 0;
  for (let i = 0; i < n; i++) {
    const b = head[i]!;
    if (b === 0) return { binary: true };
    if (b < 0x09 || (b > 0x0d && b < 0x20 && b !== 0x1b)) control++;
  }
  // Text (any encoding that is ASCII-compatible) has almost no C0 control bytes.
  return { binary: n > 0 && control / n > 0.1 };
}
