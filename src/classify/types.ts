// Classification vocabulary shared by every area: classify produces it, lineage
// inherits it, policy reads it, audit records it. Tier order is total and fixed.

export const TIERS = ['PUBLIC', 'INTERNAL', 'PROPRIETARY'] as const;
export type Tier = (typeof TIERS)[number];

export type FindingCategory = 'pii' | 'secret' | 'keyword' | 'column';

export interface Finding {
  /** Documented vocabulary: email, ssn, credit_card, phone, iban, ip_address, aws_access_key, ... */
  type: string;
  category: FindingCategory;
  count: number;
  /** 1-based line numbers of the first few occurrences; never the matched text. */
  lines?: number[];
}

/** Which layer decided: 0 = path/zone rule or lineage only, 1 = heuristics, 2 = embeddings, 3 = LLM. */
export type Layer = 0 | 1 | 2 | 3;

export interface Classification {
  tier: Tier;
  tags: string[];
  confidence: number; // 0..1
  layer: Layer;
  reasoning: string;
  findings: Finding[];
  /** Set when only part of the content was scanned (huge file budget) or it was binary. */
  partial?: boolean;
}

export function tierRank(t: Tier): number {
  return TIERS.indexOf(t);
}

export function isTier(x: unknown): x is Tier {
  return typeof x === 'string' && (TIERS as readonly string[]).includes(x);
}

/** The most restrictive of the given tiers (PUBLIC when none). */
export function maxTier(...tiers: Tier[]): Tier {
  let best = 0;
  for (const t of tiers) best = Math.max(best, tierRank(t));
  return TIERS[best]!;
}

export const PUBLIC_UNSCANNED: Classification = Object.freeze({
  tier: 'PUBLIC',
  tags: [],
  confidence: 0,
  layer: 0,
  reasoning: 'not classified',
  findings: [],
}) as Classification;
