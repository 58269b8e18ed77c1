// One writer per state dir: <stateDir>/audit/writer.lock holds the pid of the process appending.
// Two writers would interleave lines and fork the chain, so a second openAudit() is refused while
// the holder lives; a lock left by a killed process (pid gone) is taken over. Readers (the CLI)
// never take it.
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { AuditUnavailableError } from './types.js';

export const LOCK_FILE = 'writer.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/** Take the writer lock or throw AuditUnavailableError naming the holder. Returns the release function. */
export function acquireWriterLock(auditDir: string): () => void {
  const file = join(auditDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o644);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        try {
          if (Number(readFileSync(file, 'utf8').trim()) === process.pid) unlinkSync(file);
        } catch {
          /* already gone */
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new AuditUnavailableError(`cannot create ${file}: ${(err as Error).message}`, err);
    }
    let holder = NaN;
    try {
      holder = Number(readFileSync(file, 'utf8').trim());
    } catch {
      /* vanished between open and read: retry */
    }
    if (Number.isSafeInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)) {
      throw new AuditUnavailableError(`audit state ${auditDir} is in use by process ${holder} (one writer per state dir)`);
    }
    if (holder === process.pid) throw new AuditUnavailableError(`audit state ${auditDir} is already open in this process`);
    try {
      unlinkSync(file); // stale: its writer is gone
    } catch {
      /* someone else removed it */
    }
  }
  throw new AuditUnavailableError(`cannot take the writer lock in ${auditDir}`);
}
