// One writer per lineage store. LMDB would serialise two writing processes, but the
// store keeps id counters and a write-back overlay in memory, so a second writer would
// hand out the same node ids. A lock file names the writer (pid and start time); a lock
// whose process is gone — or whose pid now names another process — is stale and taken.

import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { procStat } from './proc.js';

export const LOCK_FILE = 'writer.lock';

/** Takes the writer lock or returns the pid of the live process holding it. */
export function takeWriterLock(dir: string): { release: () => void } | { heldBy: number } {
  const file = join(dir, LOCK_FILE);
  const me = procStat(process.pid, true);
  const mine = `${process.pid} ${me?.startTime ?? ''}\n`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o644);
      writeSync(fd, mine);
      closeSync(fd);
      return {
        release: () => {
          try {
            if (readFileSync(file, 'utf8') === mine) rmSync(file);
          } catch {
            // already gone
          }
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue; // removed in between: try again
    }
    const [pid, start] = text.trim().split(' ');
    const holder = procStat(Number(pid), true);
    // This very process counts too: a second writer in one process clashes just the same.
    if (holder !== undefined && holder.startTime === start) return { heldBy: holder.pid };
    rmSync(file, { force: true }); // stale: its writer died (kill -9) and the pid is free or reused
  }
  return { heldBy: -1 };
}
