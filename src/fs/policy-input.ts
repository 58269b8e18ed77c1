// The one place that builds the policy input document (docs/POLICIES.md). Every governed
// operation and `lacuna-fs explain` go through here, so policies see one shape.
import type { Classification, Tier } from '../classify/types.js';
import { maxTier } from '../classify/types.js';
import type { Mode, ZoneConfig } from '../config/index.js';
import type { TaintPort } from './services.js';

export interface InputParts {
  action: string;
  mode: Mode;
  /** What the writer carries (process taint), or for rename/link the file's own classification. */
  lineage: TaintPort & { copy_of?: string | null; aggregate?: boolean };
  /** Classification of the bytes written, when known. */
  content: Classification | null;
  destination: { path: string; mount: string; zone: ZoneConfig; exists: boolean };
  user: { uid: number; gid: number; name: string; groups: string[] };
  process: { pid: number; ppid: number; exe: string; comm: string };
  purpose?: string | null;
  exceptions: Array<Record<string, unknown>>;
  now?: Date;
}

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

export function buildPolicyInput(p: InputParts): Record<string, unknown> {
  const now = p.now ?? new Date();
  const contentTier: Tier = p.content?.tier ?? 'PUBLIC';
  const tags = new Set<string>([...p.lineage.tags, ...(p.content?.tags ?? [])]);
  return {
    action: p.action,
    mode: p.mode,
    source: {
      tier: maxTier(contentTier, p.lineage.tier),
      tags: [...tags].sort(),
      content: p.content
        ? {
            tier: p.content.tier,
            tags: p.content.tags,
            findings: p.content.findings.map((f) => ({ type: f.type, category: f.category, count: f.count })),
          }
        : null,
      lineage: {
        tier: p.lineage.tier,
        tags: p.lineage.tags,
        files: p.lineage.files,
        files_total: (p.lineage as { files_total?: number }).files_total ?? p.lineage.files.length,
        copy_of: p.lineage.copy_of ?? null,
        aggregate: p.lineage.aggregate ?? false,
      },
    },
    destination: {
      path: p.destination.path,
      mount: p.destination.mount,
      zone: p.destination.zone.name,
      zone_kind: p.destination.zone.kind,
      encrypted: p.destination.zone.encrypted,
      external: p.destination.zone.external,
      exists: p.destination.exists,
    },
    user: p.user,
    process: p.process,
    // Local wall-clock hour and weekday: business hours are local; ns and rfc3339 are UTC.
    time: {
      ns: BigInt(now.getTime()) * 1_000_000n,
      rfc3339: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      hour: now.getHours(),
      weekday: WEEKDAYS[now.getDay()],
    },
    purpose: p.purpose ?? null,
    exceptions: p.exceptions,
  };
}
