// Names and small durable-file helpers for the audit state under <stateDir>/audit/.
// Every metadata file is replaced atomically (write temp, fsync, rename, fsync dir) so a crash
// leaves either the old or the new content, never half of one.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { open as openAsync, rename as renameAsync } from 'node:fs/promises';
import { join } from 'node:path';

export const AUDIT_DIR = 'audit';
export const SEGMENTS_DIR = 'segments';
export const CHECKPOINTS_FILE = 'checkpoints.jsonl';
export const CHAIN_FILE = 'chain.json';
export const SINK_FILE = 'sink.json';
export const ANCHOR_FILE = 'anchor.json';
export const QUARANTINE_DIR = 'quarantine';

export function auditDirOf(stateDir: string): string {
  return join(stateDir, AUDIT_DIR);
}

/** Segment files are named by their first seq, zero-padded so lexical order is seq order. */
export function segmentName(firstSeq: number): string {
  return `${String(firstSeq).padStart(16, '0')}.jsonl`;
}

export function segmentFirstSeq(name: string): number | null {
  const m = /^(\d{16})\.jsonl$/.exec(name);
  return m ? Number(m[1]) : null;
}

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function writeFileAtomic(file: string, text: string, dir: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  fsyncDir(dir);
}

export function readJsonIfExists<T>(file: string): T | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return JSON.parse(text) as T;
}

/** writeFileAtomic without blocking the event loop (for files written while the daemon serves ops). */
export async function writeFileAtomicAsync(file: string, text: string, dir: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  const fh = await openAsync(tmp, 'w', 0o644);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await renameAsync(tmp, file);
  const d = await openAsync(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}
