// `lacuna-fs anonymize IN OUT` through the daemon: the daemon reads IN (which the caller
// must be allowed to read), pseudonymises the identifiers layer 1 finds, refuses if any
// remain, asks the policy whether the anonymised derivative may be written at OUT (the
// lineage says "aggregate", so the policy may downgrade it), writes it as the caller, and
// records the derivation in lineage. Done by a user's own process instead, the output
// would be tainted by the input it read and could never leave governed storage.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { anonymize } from '../classify/index.js';
import type { Classification } from '../classify/types.js';
import { processFacts, userName } from './callers.js';
import type { Caller, Governor } from './governor.js';
import type { LineageStore } from '../lineage/index.js';
import type { ClassifierPort, FileRef, LineagePort } from './services.js';
import { locateAny, type FileLocation, type MountView } from './zones.js';

export class AnonymizeError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

// anonymize() is synchronous (about 6 MiB/s on dense CSV): keep one call well under a second or two of event loop.
const MAX_INPUT = 8 << 20;

/** The caller's supplementary group ids, from the kernel's view of the calling process. */
function callerGids(pid: number, gid: number): number[] {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const line = /^Groups:\s*(.*)$/m.exec(status)?.[1] ?? '';
    return [gid, ...line.split(/\s+/).filter(Boolean).map(Number)];
  } catch {
    return [gid];
  }
}

/** Unix permission check for a caller, as the kernel would make it (root may do anything but execute). */
export function mayAccess(st: fs.Stats, uid: number, gids: number[], want: number): boolean {
  if (uid === 0) return true;
  const bits = uid === st.uid ? (st.mode >> 6) & 7 : gids.includes(st.gid) ? (st.mode >> 3) & 7 : st.mode & 7;
  return (bits & want) === want;
}

export interface AnonymizeDeps {
  views: MountView[];
  governor: Governor;
  classifier: ClassifierPort;
  lineage: LineagePort & Pick<LineageStore, 'recordDerivation'>;
  key: Buffer;
}

export interface AnonymizeResult {
  input: string;
  output: string;
  replaced: Array<{ type: string; count: number }>;
  columns: Array<{ header: string; type: string }>;
  decision: { allow: boolean; policy_id: string; reasoning: string; alternatives: string[] };
}

function ref(loc: FileLocation, st: fs.Stats): FileRef {
  return { path: loc.userPath, sourcePath: loc.sourcePath, mount: loc.mount, zone: loc.zone.name, dev: st.dev, ino: st.ino };
}

export async function anonymizeThroughDaemon(d: AnonymizeDeps, caller: Caller, input: string, output: string, opts: { mask?: boolean; force?: boolean }): Promise<AnonymizeResult> {
  const inLoc = locateAny(d.views, input);
  if (!inLoc) throw new AnonymizeError(400, `${input} is not inside a lacuna mount: anonymize governed files (or run it offline)`);
  const outLoc = locateAny(d.views, output);
  if (!outLoc) throw new AnonymizeError(400, `${output} is not inside a lacuna mount: write the anonymised copy into a mount so the policy can decide where it may go`);
  const gids = callerGids(caller.pid, caller.gid);
  let st: fs.Stats;
  try {
    st = fs.statSync(inLoc.sourcePath);
  } catch {
    throw new AnonymizeError(404, `${input} does not exist`);
  }
  if (!st.isFile()) throw new AnonymizeError(400, `${input} is not a regular file`);
  if (!mayAccess(st, caller.uid, gids, 4)) throw new AnonymizeError(403, `permission denied reading ${input}`);
  if (st.size > MAX_INPUT) throw new AnonymizeError(413, `${input} is larger than ${MAX_INPUT >> 20} MiB`);
  const outDir = path.dirname(outLoc.sourcePath);
  let dirSt: fs.Stats;
  try {
    dirSt = fs.statSync(outDir);
  } catch {
    throw new AnonymizeError(404, `the directory of ${output} does not exist`);
  }
  if (!mayAccess(dirSt, caller.uid, gids, 3)) throw new AnonymizeError(403, `permission denied writing into ${path.dirname(output)}`);
  if (fs.existsSync(outLoc.sourcePath) && !opts.force) throw new AnonymizeError(409, `${output} exists (use --force to replace it)`);

  const source = await d.classifier.classifyFile(inLoc.sourcePath, { stat: st });
  const result = anonymize(fs.readFileSync(inLoc.sourcePath), { key: d.key, path: inLoc.sourcePath, mode: opts.mask ? 'mask' : 'pseudonymise' });
  if (result.remaining.length > 0) {
    throw new AnonymizeError(422, `identifiers would remain (${result.remaining.map((f) => `${f.count} ${f.type}`).join(', ')}); nothing was written`);
  }
  const content: Classification = d.classifier.classifyBuffer(result.output, { path: outLoc.sourcePath });
  // The derivative carries its source's tier and tags, marked as an aggregate, so the
  // policy's aggregation rule decides whether it may be downgraded and where it may go.
  const verdict = d.governor.decide({
    action: 'create',
    caller,
    dest: outLoc,
    destExists: fs.existsSync(outLoc.sourcePath),
    content,
    file: { loc: inLoc, cls: source },
    aggregate: true,
  });
  const decision = { allow: verdict.decision.allow, policy_id: verdict.decision.policy_id, reasoning: verdict.decision.reasoning, alternatives: verdict.decision.alternatives };
  const base = { input: inLoc.userPath, output: outLoc.userPath, replaced: result.replaced, columns: result.columns, decision };
  if (!verdict.proceed) return base;

  // Write as the caller would: a temporary file beside the target, owned by the caller, renamed into place.
  const tmp = path.join(outDir, `.lacuna-anon-${randomBytes(6).toString('hex')}`);
  fs.writeFileSync(tmp, result.output, { mode: 0o640 });
  fs.chownSync(tmp, caller.uid, caller.gid);
  fs.renameSync(tmp, outLoc.sourcePath);
  const outSt = fs.statSync(outLoc.sourcePath);
  const proc = processFacts(caller.pid);
  d.lineage.recordDerivation([ref(inLoc, st)], ref(outLoc, outSt), 'anonymize', { program: proc.exe, uid: caller.uid, user: userName(caller.uid) }, { aggregate: true });
  return base;
}
