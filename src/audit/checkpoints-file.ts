// The local checkpoints file (<stateDir>/audit/checkpoints.jsonl): one signed checkpoint per line,
// appended after the records it covers are durable. Reading it tolerates a torn last line (cut off
// and reported), because a crash can interrupt a checkpoint write like any other.
import { closeSync, ftruncateSync, fsyncSync, openSync, readFileSync } from 'node:fs';
import type { StoredCheckpoint } from './checkpoint.js';

export interface CheckpointFileState {
  checkpoints: StoredCheckpoint[];
  /** Lines that did not parse as checkpoints (kept for verify to report). */
  bad: number;
  tornBytes: number;
}

/** Parse the file, cutting an unterminated last line. Missing file = no checkpoints. */
export function loadCheckpointFile(file: string, repair: boolean): CheckpointFileState {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { checkpoints: [], bad: 0, tornBytes: 0 };
    throw err;
  }
  const end = buf.lastIndexOf(0x0a) + 1;
  const tornBytes = buf.length - end;
  if (tornBytes > 0 && repair) {
    const fd = openSync(file, 'r+');
    try {
      ftruncateSync(fd, end);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
  const checkpoints: StoredCheckpoint[] = [];
  let bad = 0;
  for (const line of buf.subarray(0, end).toString('utf8').split('\n')) {
    if (line === '') continue;
    try {
      const c = JSON.parse(line) as StoredCheckpoint;
      if (c && c.type === 'checkpoint' && Number.isSafeInteger(c.seq)) checkpoints.push(c);
      else bad++;
    } catch {
      bad++;
    }
  }
  return { checkpoints, bad, tornBytes };
}
