// Recent denials, kept so the person who was blocked can ask why (`lacuna-fs why`, the
// /.lacuna/why file) and operators can see them in status. Bounded per user and overall.
import type { Tier } from '../classify/types.js';

export interface Denial {
  id: number;
  time: string;
  uid: number;
  user: string;
  pid: number;
  program: string;
  action: string;
  /** The file being written/created/moved, as the user sees it. */
  path: string;
  /** Governed files whose data would have flowed there. */
  sources: string[];
  zone: string;
  tier: Tier;
  tags: string[];
  policy_id: string;
  reasoning: string;
  alternatives: string[];
  /** The exact command to ask for an exception. */
  exception_command: string;
  /** true in monitor mode: recorded, not enforced. */
  monitored: boolean;
  audit_seq?: number;
}

const PER_USER = 50;
const OVERALL = 200;

export class DenialLog {
  private readonly recent: Denial[] = [];
  private readonly byUser = new Map<number, Denial[]>();
  private nextId = 1;
  total = 0;

  record(d: Omit<Denial, 'id'>): Denial {
    const denial = { ...d, id: this.nextId++ };
    this.total++;
    this.recent.push(denial);
    if (this.recent.length > OVERALL) this.recent.shift();
    const list = this.byUser.get(d.uid) ?? [];
    list.push(denial);
    if (list.length > PER_USER) list.shift();
    this.byUser.set(d.uid, list);
    return denial;
  }

  /** Newest first. */
  forUser(uid: number, last = 10): Denial[] {
    return (this.byUser.get(uid) ?? []).slice(-last).reverse();
  }

  /** The most denied destinations and users among the recent denials. */
  top(n = 5): { paths: Array<{ path: string; count: number }>; users: Array<{ user: string; count: number }> } {
    const count = <K extends string>(key: (d: Denial) => string, name: K) => {
      const m = new Map<string, number>();
      for (const d of this.recent) m.set(key(d), (m.get(key(d)) ?? 0) + 1);
      return [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, n).map(([k, c]) => ({ [name]: k, count: c }) as Record<K, string> & { count: number });
    };
    return { paths: count((d) => d.path, 'path'), users: count((d) => d.user, 'user') };
  }

  /** Newest first. */
  latest(last = 10): Denial[] {
    return this.recent.slice(-last).reverse();
  }
}

/** Shell-quotes one argument for a command the user can paste. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The human text of a denial: what, which policy, why, how to proceed. Never content. */
export function renderDenial(d: Denial): string {
  const lines = [
    `${d.time}  ${d.monitored ? 'WOULD BE DENIED (monitor mode)' : 'DENIED'}: ${d.program} (pid ${d.pid}) ${d.action} ${d.path}`,
    `  zone: ${d.zone}   data: ${d.tier}${d.tags.length ? ` [${d.tags.join(', ')}]` : ''}`,
  ];
  if (d.sources.length) lines.push(`  derived from: ${d.sources.join(', ')}`);
  lines.push(`  policy: ${d.policy_id}`, `  why: ${d.reasoning}`);
  if (d.alternatives.length) {
    lines.push('  how to proceed:');
    for (const a of d.alternatives) lines.push(`    - ${a}`);
  }
  // Policies usually list the exception command among the alternatives already.
  if (!d.alternatives.some((a) => a.includes('exception request'))) lines.push(`  request an exception: ${d.exception_command}`);
  return lines.join('\n');
}
