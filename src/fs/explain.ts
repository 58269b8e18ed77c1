// `lacuna-fs explain --from A --to B`: the decision a copy of A to B would get, before
// trying it. The running daemon answers with lineage included; without a daemon the CLI
// answers from the config, the policy and a fresh classification (lineage not consulted,
// and it says so).
import fs from 'node:fs';
import type { Classification } from '../classify/types.js';
import { maxTier } from '../classify/types.js';
import type { Config } from '../config/index.js';
import { groupsOf, userName } from './callers.js';
import { buildPolicyInput } from './policy-input.js';
import type { ClassifierPort, Decision, PolicyPort } from './services.js';
import { locateAny, MountView, type FileLocation } from './zones.js';

export interface Explanation {
  from: string;
  to: string;
  user: string;
  source: { tier: string; tags: string[]; reasoning: string; inherited_from: string[] };
  destination: { zone: string; zone_kind: string; mount: string } | null;
  decision: Decision;
  lineage_consulted: boolean;
  exceptions: Array<Record<string, unknown>>;
}

export interface ExplainDeps {
  config: Config;
  policy: PolicyPort;
  classifier: ClassifierPort;
  views?: MountView[];
  /** Inherited classification from lineage, when the daemon runs. */
  inherited?: (loc: FileLocation, st: fs.Stats) => (Classification & { sources: string[] }) | undefined;
  exceptions?: (sources: string[], dest: string, uid: number, nowNs: bigint) => Array<Record<string, unknown>>;
}

export class ExplainError extends Error {}

export async function explainCopy(d: ExplainDeps, from: string, to: string, uid: number): Promise<Explanation> {
  const views = d.views ?? d.config.mounts.map((m) => new MountView(m, d.config.zones));
  const src = locateAny(views, from);
  let st: fs.Stats;
  try {
    st = fs.statSync(src ? src.sourcePath : from);
  } catch {
    throw new ExplainError(`${from} does not exist`);
  }
  if (!st.isFile()) throw new ExplainError(`${from} is not a regular file`);
  const content = await d.classifier.classifyFile(src ? src.sourcePath : from, { stat: st });
  const inherited = src && d.inherited ? d.inherited(src, st) : undefined;
  const tier = maxTier(content.tier, inherited?.tier ?? 'PUBLIC');
  const tags = [...new Set([...content.tags, ...(inherited?.tags ?? [])])].sort();
  const dest = locateAny(views, to);
  const user = userName(uid);
  const now = new Date();
  const sources = [src ? src.userPath : from];
  const exceptions = d.exceptions?.(sources, dest ? dest.userPath : to, uid, BigInt(now.getTime()) * 1_000_000n) ?? [];
  const zone = dest?.zone ?? { name: 'unmanaged', kind: 'unmanaged' as const, encrypted: false, external: false };
  const input = buildPolicyInput({
    action: 'copy',
    mode: d.config.mode,
    lineage: {
      tier,
      tags,
      files: [{ path: sources[0]!, mount: src?.mount ?? '', zone: src?.zone.name ?? 'unmanaged', tier, tags }],
      copy_of: sources[0]!,
    },
    content: null,
    destination: { path: dest ? dest.userPath : to, mount: dest?.mount ?? '', zone, exists: fs.existsSync(dest ? dest.sourcePath : to) },
    user: { uid, gid: 0, name: user, groups: groupsOf(uid) },
    process: { pid: 0, ppid: 0, exe: 'lacuna-fs explain', comm: 'explain' },
    exceptions,
    now,
  });
  const decision = exceptions.length ? d.policy.decide(input, { lacuna: { exceptions } }) : d.policy.decide(input);
  return {
    from: sources[0]!,
    to: dest ? dest.userPath : to,
    user,
    source: { tier, tags, reasoning: content.reasoning, inherited_from: inherited?.sources ?? [] },
    destination: dest ? { zone: dest.zone.name, zone_kind: dest.zone.kind, mount: dest.mount } : null,
    decision,
    lineage_consulted: Boolean(d.inherited),
    exceptions,
  };
}

export function renderExplanation(e: Explanation): string {
  const lines = [
    `${e.decision.allow ? 'ALLOWED' : 'DENIED'}: copy ${e.from} → ${e.to} as ${e.user}`,
    `  source: ${e.source.tier}${e.source.tags.length ? ` [${e.source.tags.join(', ')}]` : ''} — ${e.source.reasoning}`,
  ];
  if (e.source.inherited_from.length) lines.push(`  inherited from: ${e.source.inherited_from.join(', ')}`);
  lines.push(`  destination: ${e.destination ? `zone ${e.destination.zone} (${e.destination.zone_kind}), mount ${e.destination.mount}` : 'outside every governed mount (treated as unmanaged)'}`);
  lines.push(`  policy: ${e.decision.policy_id}`, `  why: ${e.decision.reasoning}`);
  if (e.decision.alternatives.length) {
    lines.push('  how to proceed:');
    for (const a of e.decision.alternatives) lines.push(`    - ${a}`);
  }
  if (!e.lineage_consulted) lines.push('  (no daemon running: lineage was not consulted; the answer uses content and path rules only)');
  return lines.join('\n') + '\n';
}
