// The escalation hook of createClassifier: layer 1's non-decisive results go to layer 2
// (embeddings), and what layer 2 leaves uncertain goes to layer 3 (LLM) when enabled. Holds
// the escalation policy (which L1 outcomes, byte and latency budgets), the content-hash
// result cache and the fallback rules. Always off the synchronous path of a file operation.

import { join } from 'node:path';
import {
  createEmbeddingLayer,
  describeEmbedding,
  DEFAULT_EMBED_MAX_BYTES,
  type EmbeddingLayer,
  type EmbeddingLayerOptions,
  type EmbeddingResult,
} from './embed/index.js';
import { contentKey, openResultCache, type ResultCache } from './embed/result-cache.js';
import { createLlmLayer, type LlmAnswer, type LlmLayer, type LlmOptions } from './llm/index.js';
import type { Classification, Tier } from './types.js';

export interface EscalationPolicy {
  /** Layer-1 tiers that may be escalated (default PUBLIC and INTERNAL: PROPRIETARY can only stay). */
  l1Tiers?: Tier[];
  /** Escalate only layer-1 results below this confidence (default 0.8, layer 1's DECISIVE). */
  l1BelowConfidence?: number;
  /** Layer 2 answers later than this are not waited for (the result still lands in the cache). Default 1000. */
  latencyBudgetMs?: number;
  /** Content shorter than this (bytes, trimmed) carries too little meaning to embed. */
  minBytes?: number;
}

export interface EscalationConfig {
  embeddings?: EmbeddingLayerOptions & {
    enabled?: boolean;
    /** Layer-2 confidence below which layer 3 is asked (when enabled). Default 0.75. */
    escalateBelowConfidence?: number;
    /**
     * Layer 2's verdict is used only at or above this calibrated confidence; below it layer 1
     * stands (unless layer 3 answers). Default 0: most accurate; raise it to trade recall of
     * INTERNAL/PROPRIETARY for fewer PUBLIC files classified higher (docs/EMBEDDINGS.md).
     */
    minConfidence?: number;
  };
  llm?: LlmOptions;
  escalation?: EscalationPolicy;
  /** The daemon's state directory: the cache goes to <stateDir>/classify-cache. */
  stateDir?: string;
  /** Explicit cache directory (wins over stateDir); with neither, an in-memory cache. */
  cacheDir?: string;
  /** Entries kept (oldest pruned at open; ~0.3 KB each). Default 200000. */
  cacheMaxEntries?: number;
  env?: NodeJS.ProcessEnv;
  /** Preloaded layers (tests, benchmarks), owned by the caller; created (and owned) from config otherwise. */
  layers?: { embeddings?: EmbeddingLayer; llm?: LlmLayer };
}

export type EscalateHook = (l1: Classification, text: Buffer, ctx: { path?: string }) => Promise<Classification | undefined>;

export interface EscalationStats {
  asked: number;
  skipped: Record<string, number>;
  l2: { runs: number; cacheHits: number; overBudget: number; errors: number };
  l3: { asked: number; cacheHits: number; answered: number; fallbacks: Record<string, number> };
}

export interface Escalation {
  /** Pass as createClassifier({ escalate }). */
  escalate: EscalateHook;
  /** Warm up: start the worker and load the model now instead of on the first file. */
  ready(): Promise<void>;
  stats(): EscalationStats;
  close(): Promise<void>;
  readonly embeddings?: EmbeddingLayer;
  readonly llm?: LlmLayer;
}

const FALLBACK = 'layer-3 fallback';
const OVER = Symbol('over-budget');

function isBinary(text: Buffer): boolean {
  return text.subarray(0, 8192).includes(0);
}

function fromEmbedding(r: EmbeddingResult, note?: string): Classification {
  return {
    tier: r.tier,
    tags: [],
    confidence: Math.round(r.confidence * 1000) / 1000,
    layer: 2,
    reasoning: (note ? `[${note}] ` : '') + describeEmbedding(r),
    findings: [],
  };
}

function fromLlm(a: LlmAnswer, model: string, l2?: EmbeddingResult): Classification {
  return {
    tier: a.tier,
    tags: a.tags,
    confidence: a.confidence,
    layer: 3,
    reasoning: `LLM (${model}): ${a.reasoning}` + (l2 ? ` [embeddings had ${l2.tier} p=${l2.confidence.toFixed(2)}]` : ''),
    findings: [],
  };
}

export function createEscalation(config: EscalationConfig = {}): Escalation {
  const env = config.env ?? process.env;
  const policy = {
    l1Tiers: new Set<Tier>(config.escalation?.l1Tiers ?? ['PUBLIC', 'INTERNAL']),
    l1BelowConfidence: config.escalation?.l1BelowConfidence ?? 0.8,
    // Generous by default: createClassifier caches what the hook returns per file version, so an
    // over-budget answer means layer 1 only until the file changes (other files with the same
    // content do get the cached layer-2 result).
    latencyBudgetMs: config.escalation?.latencyBudgetMs ?? 1000,
    minBytes: config.escalation?.minBytes ?? 32,
  };
  const embCfg = config.embeddings ?? {};
  const l3Below = embCfg.escalateBelowConfidence ?? 0.75;
  const l2Min = embCfg.minConfidence ?? 0;
  const embeddings = config.layers?.embeddings ?? (embCfg.enabled === false ? undefined : createEmbeddingLayer(embCfg));
  const llm = config.layers?.llm ?? (config.llm?.enabled ? createLlmLayer(config.llm, env) : undefined);
  const l2MaxBytes = embeddings?.info.maxBytes ?? embCfg.maxBytes ?? DEFAULT_EMBED_MAX_BYTES;
  const l3MaxBytes = config.llm?.maxBytes ?? 8192;
  const cache: ResultCache = openResultCache(
    config.cacheDir ?? (config.stateDir ? join(config.stateDir, 'classify-cache') : undefined),
    config.cacheMaxEntries ?? 200_000,
  );
  const inflight = new Map<string, Promise<EmbeddingResult>>();
  const st: EscalationStats = {
    asked: 0,
    skipped: {},
    l2: { runs: 0, cacheHits: 0, overBudget: 0, errors: 0 },
    l3: { asked: 0, cacheHits: 0, answered: 0, fallbacks: {} },
  };
  // Load the model now, not on the first file: a cold start (worker + session, ~1 s) would
  // otherwise blow the latency budget of the first escalations.
  embeddings?.ready().catch(() => undefined);
  const skip = (why: string): undefined => {
    st.skipped[why] = (st.skipped[why] ?? 0) + 1;
    return undefined;
  };

  /** Layer 2, deduplicated by content and cached; rejects on model failure. */
  function runL2(emb: EmbeddingLayer, text: Buffer): { key: string; cached?: EmbeddingResult; pending?: Promise<EmbeddingResult> } {
    const key = `l2:${emb.info.sha256}:${emb.info.head}:${contentKey(text.subarray(0, l2MaxBytes))}`;
    const cached = cache.get<EmbeddingResult>(key);
    if (cached) return { key, cached };
    let p = inflight.get(key);
    if (!p) {
      st.l2.runs++;
      p = emb.classify(text).then(async (r) => {
        // A cache that cannot be written costs a recomputation later, not this answer.
        await cache.put(key, { ...r, ms: 0 }).catch(() => undefined);
        return r;
      });
      p.finally(() => inflight.delete(key)).catch(() => undefined);
      inflight.set(key, p);
    }
    return { key, pending: p };
  }

  async function withinBudget<T>(p: Promise<T>, ms: number): Promise<T | typeof OVER> {
    let timer: NodeJS.Timeout | undefined;
    const over = new Promise<typeof OVER>((r) => {
      timer = setTimeout(() => r(OVER), ms);
    });
    try {
      return await Promise.race([p, over]);
    } finally {
      clearTimeout(timer);
    }
  }

  async function askL3(l1: Classification, text: Buffer, path: string | undefined, l2?: EmbeddingResult): Promise<Classification | undefined> {
    const model = config.llm?.model ?? env.LACUNA_LLM_MODEL ?? 'llm';
    const l1Digest = l1.findings.map((f) => `${f.category}/${f.type}@${(f.lines ?? []).join(',')}`).join(';');
    const key = `l3:${llm!.fingerprint}:${l3MaxBytes}:${contentKey(text.subarray(0, l3MaxBytes), l1Digest)}`;
    const cached = cache.get<LlmAnswer>(key);
    if (cached) {
      st.l3.cacheHits++;
      return fromLlm(cached, model, l2);
    }
    st.l3.asked++;
    const out = await llm!.classify({ content: text, l1, l2Summary: l2 ? describeEmbedding(l2) : undefined, path });
    if (out.ok) {
      st.l3.answered++;
      await cache.put(key, out.answer).catch(() => undefined);
      return fromLlm(out.answer, model, l2);
    }
    st.l3.fallbacks[out.reason] = (st.l3.fallbacks[out.reason] ?? 0) + 1;
    // The endpoint is slow, down or talking nonsense: layer 2's answer stands, marked as a fallback.
    if (!l2) return undefined;
    if (l2.confidence < l2Min) return skip('l2_below_min_confidence');
    return fromEmbedding(l2, `${FALLBACK}: ${out.reason}`);
  }

  const escalate: EscalateHook = async (l1, text, ctx) => {
    st.asked++;
    if (!policy.l1Tiers.has(l1.tier)) return skip('l1_tier');
    if (l1.confidence >= policy.l1BelowConfidence) return skip('l1_confident');
    if (isBinary(text)) return skip('binary');
    if (text.toString('utf8', 0, Math.min(text.length, 4096)).trim().length < policy.minBytes && text.length < policy.minBytes * 4) {
      return skip('too_short');
    }
    let l2: EmbeddingResult | undefined;
    if (embeddings) {
      const run = runL2(embeddings, text);
      if (run.cached) {
        st.l2.cacheHits++;
        l2 = run.cached;
      } else {
        try {
          const r = await withinBudget(run.pending!, policy.latencyBudgetMs);
          if (r === OVER) {
            // Not waited for, but the run continues and caches: the next look at this content is instant.
            st.l2.overBudget++;
            return undefined;
          }
          l2 = r;
        } catch {
          st.l2.errors++;
          l2 = undefined;
        }
      }
    }
    const uncertain = !l2 || l2.confidence < l3Below;
    if (llm && uncertain) return askL3(l1, text, ctx.path, l2);
    if (!l2) return undefined;
    if (l2.confidence < l2Min) return skip('l2_below_min_confidence');
    return fromEmbedding(l2);
  };

  return {
    escalate,
    embeddings,
    llm,
    async ready() {
      await embeddings?.ready();
    },
    stats: () => structuredClone(st),
    async close() {
      // Only what this escalation created: a layer passed in may serve other users.
      if (!config.layers?.embeddings) await embeddings?.close();
      await cache.close();
    },
  };
}
