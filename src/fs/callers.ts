// Who is calling: user and group names for a uid/gid, and what program a pid runs.
// Names come from /etc/passwd and /etc/group (re-read when they change); process facts
// from /proc. Both are cached because every governed op asks.
import fs from 'node:fs';
import { procStat } from '../lineage/index.js';

interface NameTables {
  mtimeMs: number;
  users: Map<number, string>;
  groups: Map<number, string>;
  /** user name → names of the groups listing it as a member */
  memberOf: Map<string, string[]>;
  primaryGroup: Map<number, number>;
}

let tables: NameTables | undefined;
let checkedAt = 0;

function load(): NameTables {
  const now = Date.now();
  if (tables && now - checkedAt < 2000) return tables;
  checkedAt = now;
  let mtimeMs = 0;
  try {
    mtimeMs = Math.max(fs.statSync('/etc/passwd').mtimeMs, fs.statSync('/etc/group').mtimeMs);
  } catch {
    /* unreadable: keep numeric ids */
  }
  if (tables && tables.mtimeMs === mtimeMs) return tables;
  const users = new Map<number, string>();
  const groups = new Map<number, string>();
  const memberOf = new Map<string, string[]>();
  const primaryGroup = new Map<number, number>();
  for (const line of readLines('/etc/passwd')) {
    const [name, , uid, gid] = line.split(':');
    if (name && uid !== undefined) {
      users.set(Number(uid), name);
      primaryGroup.set(Number(uid), Number(gid));
    }
  }
  for (const line of readLines('/etc/group')) {
    const [name, , gid, members] = line.split(':');
    if (!name || gid === undefined) continue;
    groups.set(Number(gid), name);
    for (const m of (members ?? '').split(',').filter(Boolean)) {
      const list = memberOf.get(m) ?? [];
      list.push(name);
      memberOf.set(m, list);
    }
  }
  tables = { mtimeMs, users, groups, memberOf, primaryGroup };
  return tables;
}

function readLines(file: string): string[] {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
  } catch {
    return [];
  }
}

export function userName(uid: number): string {
  return load().users.get(uid) ?? String(uid);
}

export function groupName(gid: number): string {
  return load().groups.get(gid) ?? String(gid);
}

export function uidOf(name: string): number | undefined {
  for (const [uid, n] of load().users) if (n === name) return uid;
  return /^\d+$/.test(name) ? Number(name) : undefined;
}

/** The user's primary group plus every group listing them, by name. */
export function groupsOf(uid: number, gid?: number): string[] {
  const t = load();
  const name = t.users.get(uid);
  const primary = gid ?? t.primaryGroup.get(uid);
  const out = new Set<string>();
  if (primary !== undefined) out.add(t.groups.get(primary) ?? String(primary));
  for (const g of (name && t.memberOf.get(name)) || []) out.add(g);
  return [...out];
}

export interface ProcessFacts {
  pid: number;
  ppid: number;
  comm: string;
  exe: string;
  /** LACUNA_PURPOSE from the process's environment at exec (inherited by its children). */
  purpose: string | null;
}

/**
 * A process declares what it uses data for with LACUNA_PURPOSE in its environment
 * (`LACUNA_PURPOSE=fraud-review python3 job.py`); policies see it as input.purpose.
 * The environment is read once per process, from /proc, as the kernel recorded it at exec.
 */
function declaredPurpose(pid: number): string | null {
  try {
    const env = fs.readFileSync(`/proc/${pid}/environ`, 'latin1');
    for (const entry of env.split('\0')) {
      if (entry.startsWith('LACUNA_PURPOSE=')) {
        const v = entry.slice('LACUNA_PURPOSE='.length).trim();
        return v && /^[A-Za-z0-9_.:-]{1,64}$/.test(v) ? v : null;
      }
    }
  } catch {
    /* gone, or not readable */
  }
  return null;
}

const processCache = new Map<number, { startTime: string; facts: ProcessFacts; checked: number }>();

/**
 * How long a cached identity is trusted without re-reading /proc/<pid>/stat: the same
 * window as lineage's taint identity. A pid cannot be reused within it unless the whole pid
 * space wraps in a quarter second, and a create storm then costs no /proc read per file.
 */
const TRUST_MS = 250;

/**
 * Program facts of a live process. The /proc/<pid>/stat read and parse are lineage's
 * (`procStat`: one reused buffer, and a FUSE thread id mapped to its process); exe and
 * purpose are read once per process, a reused pid being noticed by its start time.
 */
export function processFacts(pid: number): ProcessFacts {
  const now = performance.now();
  const recent = processCache.get(pid);
  if (recent && now - recent.checked < TRUST_MS) return recent.facts;
  const st = procStat(pid);
  if (st === undefined) return { pid, ppid: 0, comm: '?', exe: '?', purpose: null };
  const hit = processCache.get(st.pid);
  if (hit && hit.startTime === st.startTime) {
    hit.checked = now;
    // A thread id maps to its process's facts too, so its next call is a hit.
    if (st.pid !== pid) processCache.set(pid, hit);
    return hit.facts;
  }
  let exe = st.comm;
  try {
    exe = fs.readlinkSync(`/proc/${st.pid}/exe`);
  } catch {
    /* kernel thread or gone */
  }
  const facts = { pid: st.pid, ppid: st.ppid, comm: st.comm, exe, purpose: declaredPurpose(st.pid) };
  if (processCache.size > 4096) processCache.clear();
  const entry = { startTime: st.startTime, facts, checked: now };
  processCache.set(st.pid, entry);
  if (st.pid !== pid) processCache.set(pid, entry);
  return facts;
}
