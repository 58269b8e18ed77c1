// Classification inheritance rules, pure functions over small records:
//  - derived: max tier of the sources, union of their tags (never lowered by a source);
//  - copy: the copy is the source (same tier and tags);
//  - aggregate: a declared aggregate output may drop to INTERNAL, every tag becoming
//    DERIVED_FROM_<TAG> so provenance survives the downgrade;
//  - effective = max(content classification, inherited classification).

import { maxTier, tierRank, type Tier } from '../classify/types.js';
import type { ClsRec } from './records.js';

export const DERIVED_PREFIX = 'DERIVED_FROM_';
/** The tier an aggregate output may drop to, never below what its content shows. */
export const AGGREGATE_CEILING: Tier = 'INTERNAL';

export function sortedUnion(a: readonly string[], b: readonly string[]): string[] {
  if (b.length === 0) return a.slice();
  const set = new Set(a);
  for (const t of b) set.add(t);
  return [...set].sort();
}

/** Derived rule: max tier, union of tags, min confidence of the sources that set the tier. */
export function combine(a: ClsRec | undefined, b: ClsRec | undefined): ClsRec | undefined {
  if (a === undefined) return b && { tier: b.tier, tags: b.tags.slice().sort(), conf: b.conf };
  if (b === undefined) return { tier: a.tier, tags: a.tags.slice().sort(), conf: a.conf };
  const tier = maxTier(a.tier, b.tier);
  const conf =
    a.tier === b.tier ? Math.min(a.conf, b.conf) : tierRank(a.tier) > tierRank(b.tier) ? a.conf : b.conf;
  return { tier, tags: sortedUnion(a.tags, b.tags), conf };
}

/** True when `b` adds nothing to `a` (so propagation can stop). */
export function covers(a: ClsRec | undefined, b: ClsRec | undefined): boolean {
  if (b === undefined) return true;
  if (a === undefined) return false;
  if (tierRank(a.tier) < tierRank(b.tier)) return false;
  if (b.tags.length === 0) return true;
  const set = new Set(a.tags);
  return b.tags.every((t) => set.has(t));
}

export function sameCls(a: ClsRec | undefined, b: ClsRec | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.tier === b.tier && a.tags.length === b.tags.length && a.tags.every((t, i) => t === b.tags[i]);
}

/** Aggregate rule: cap the tier at INTERNAL and turn every tag into provenance. */
export function aggregate(c: ClsRec): ClsRec {
  const tier = tierRank(c.tier) > tierRank(AGGREGATE_CEILING) ? AGGREGATE_CEILING : c.tier;
  const tags = [...new Set(c.tags.map((t) => (t.startsWith(DERIVED_PREFIX) ? t : DERIVED_PREFIX + t)))].sort();
  return { tier, tags, conf: c.conf };
}

/**
 * What a file inherits from its lineage: the derived sources (after the aggregate rule
 * when the file is a declared aggregate) and, for a recognised copy, the source as is.
 * A copy is never aggregated away: copying an aggregate's input is not aggregation.
 */
export function inheritedOf(derived: ClsRec | undefined, copied: ClsRec | undefined, isAggregate: boolean): ClsRec | undefined {
  const d = derived && isAggregate ? aggregate(derived) : derived;
  return copied === undefined ? d : combine(d, copied);
}

/** Effective rule: max(content, inherited). Returns one of its inputs when it covers the other (no copy). */
export function effective(content: ClsRec | undefined, inherited: ClsRec | undefined): ClsRec | undefined {
  if (inherited === undefined) return content;
  if (content === undefined) return inherited;
  if (covers(inherited, content) && inherited.conf <= content.conf) return inherited;
  if (covers(content, inherited)) return content;
  return combine(content, inherited);
}
