// Per-layer explanation of one classification (`lacuna-fs classify --explain`): wraps the
// escalation hook to record what layer 1 handed over and what came back, and reads the
// escalation's counters to say why a layer did not answer (decisive, too short, over budget,
// failed, fallback). Nothing here changes a result.
import type { EscalateHook, EscalationStats } from './escalate.js';
import { DECISIVE } from './scoring.js';
import type { Classification, Tier } from './types.js';

export interface LayerVerdict {
  layer: 1 | 2 | 3;
  /** The layer gave a verdict (tier, confidence) for this content. */
  answered: boolean;
  tier?: Tier;
  confidence?: number;
  /** Its reasoning when it answered; otherwise why it did not. */
  why: string;
}

export interface LayersEnabled {
  l2: boolean;
  l3: boolean;
  /** Why a layer is off, for the explanation ("not in --layers", "classify.llm.enabled is false"). */
  l2Off?: string;
  l3Off?: string;
}

/** One traced escalation: what layer 1 handed over, what came back, and the counters around it. */
export interface TracedCall {
  l1: Classification;
  up?: Classification;
  error?: string;
  before: EscalationStats;
  after: EscalationStats;
}

const SKIP_WHY: Record<string, string> = {
  l1_tier: 'not asked: layer 1 tier is not escalated (classify.escalation.l1Tiers)',
  l1_confident: 'not asked: layer 1 is confident enough (classify.escalation.l1BelowConfidence)',
  binary: 'not asked: binary content',
  too_short: 'not asked: too little text to carry meaning (classify.escalation.minBytes)',
  l2_below_min_confidence: 'answered below classify.embeddings.minConfidence; layer 1 stands',
};

function diff(a: Record<string, number>, b: Record<string, number>): string[] {
  return Object.keys(b).filter((k) => (b[k] ?? 0) > (a[k] ?? 0));
}

/** Wraps an escalation hook so that each call can be explained afterwards (calls must not overlap). */
export function traceEscalation(escalate: EscalateHook, stats: () => EscalationStats) {
  let last: TracedCall | undefined;
  const hook: EscalateHook = async (l1, text, ctx) => {
    const before = stats();
    try {
      const up = await escalate(l1, text, ctx);
      last = { l1, up, before, after: stats() };
      return up;
    } catch (err) {
      last = { l1, error: (err as Error).message, before, after: stats() };
      throw err;
    }
  };
  /** Call before classifying the next content. */
  function begin(): void {
    last = undefined;
  }
  /**
   * The verdict of every layer for the content classified since begin(); `result` is what the
   * classifier returned (layer 1's own result when nothing was escalated).
   */
  function explain(result: Classification, enabled: LayersEnabled): LayerVerdict[] {
    const call = last;
    last = undefined;
    return explainLayers(result, enabled, call);
  }
  return { hook, begin, explain };
}

/**
 * Each layer's verdict, or why it gave none. `result` is what the classifier returned; `call`
 * the traced escalation of this content (absent: nothing was escalated).
 */
export function explainLayers(result: Classification, enabled: LayersEnabled, call?: TracedCall): LayerVerdict[] {
  const l1 = call?.l1 ?? result;
  const out: LayerVerdict[] = [{ layer: 1, answered: true, tier: l1.tier, confidence: l1.confidence, why: l1.reasoning }];
  const notAsked = !call
    ? l1.confidence >= DECISIVE
      ? `not asked: layer 1 is decisive (confidence ${l1.confidence.toFixed(2)} >= ${DECISIVE})`
      : 'not asked'
    : undefined;
  const skipped = call ? diff(call.before.skipped, call.after.skipped) : [];
  const skipWhy = skipped.map((k) => SKIP_WHY[k] ?? `skipped: ${k}`).join('; ');
  const l2Failed = call && call.after.l2.errors > call.before.l2.errors;
  const l2Late = call && call.after.l2.overBudget > call.before.l2.overBudget;
  const l3Fallback = call ? diff(call.before.l3.fallbacks, call.after.l3.fallbacks) : [];
  const up = call?.up;

  // Layer 2.
  if (!enabled.l2) out.push({ layer: 2, answered: false, why: `off (${enabled.l2Off ?? 'not in --layers'})` });
  else if (notAsked) out.push({ layer: 2, answered: false, why: notAsked });
  else if (call?.error) out.push({ layer: 2, answered: false, why: `escalation failed: ${call.error}; layer 1 kept` });
  else if (l2Failed) out.push({ layer: 2, answered: false, why: 'the embedding model failed on this content' });
  else if (l2Late) out.push({ layer: 2, answered: false, why: 'slower than classify.escalation.latencyBudgetMs; not waited for' });
  else if (up?.layer === 2) out.push({ layer: 2, answered: true, tier: up.tier, confidence: up.confidence, why: up.reasoning });
  else if (up?.layer === 3) out.push({ layer: 2, answered: false, why: 'uncertain (below classify.embeddings.escalateBelowConfidence): passed to layer 3' });
  else out.push({ layer: 2, answered: false, why: skipWhy || 'no answer; layer 1 stands' });

  // Layer 3.
  if (!enabled.l3) out.push({ layer: 3, answered: false, why: `off (${enabled.l3Off ?? 'not in --layers'})` });
  else if (notAsked) out.push({ layer: 3, answered: false, why: notAsked });
  else if (up?.layer === 3) out.push({ layer: 3, answered: true, tier: up.tier, confidence: up.confidence, why: up.reasoning });
  else if (l3Fallback.length) out.push({ layer: 3, answered: false, why: `failed (${l3Fallback.join(', ')}); ${up ? 'layer 2 stands' : 'layer 1 stands'}` });
  else if (up?.layer === 2) out.push({ layer: 3, answered: false, why: 'not asked: layer 2 is confident enough (classify.embeddings.escalateBelowConfidence)' });
  else out.push({ layer: 3, answered: false, why: skipWhy || 'not asked' });
  return out;
}
