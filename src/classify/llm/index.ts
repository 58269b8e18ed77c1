// Layer 3 of classification: an optional OpenAI-compatible chat-completions endpoint, off by
// default, asked only about what layer 2 leaves uncertain (the policy lives in escalate.ts).
// Sends a bounded, masked excerpt; validates a structured verdict; strict timeout, retries,
// a concurrency cap and a circuit breaker. It never throws for endpoint trouble: the outcome
// says why it failed so the caller can fall back to layer 2 and mark the result as such.

import { basename } from 'node:path';
import type { Classification } from '../types.js';
import { SYSTEM_PROMPT, userPrompt, type LlmAnswer } from './answer.js';
import { CircuitBreaker, type BreakerState } from './breaker.js';
import { askWithRetries, LlmCallError, type ChatEndpoint, type FailureReason } from './client.js';
import { prepareForLlm } from './mask.js';

export { parseAnswer, MalformedAnswerError, SYSTEM_PROMPT, type LlmAnswer } from './answer.js';
export { CircuitBreaker } from './breaker.js';
export { maskIdentifiers, prepareForLlm } from './mask.js';

export interface LlmOptions {
  enabled?: boolean;
  /** e.g. http://127.0.0.1:8080/v1; env LACUNA_LLM_BASE_URL. */
  baseUrl?: string;
  /** env LACUNA_LLM_MODEL. */
  model?: string;
  /** Prefer apiKeyEnv so the key never sits in the config file. */
  apiKey?: string;
  /** Environment variable holding the key (default LACUNA_LLM_API_KEY). */
  apiKeyEnv?: string;
  timeoutMs?: number;
  retries?: number;
  backoffMs?: number;
  /** Whole call including retries (default 2.5 × timeoutMs). */
  deadlineMs?: number;
  /** Bytes of the document sent (before masking). */
  maxBytes?: number;
  maxConcurrent?: number;
  /** Calls waiting for a slot beyond this fall back at once ('overloaded'). */
  maxQueue?: number;
  breaker?: { failureThreshold?: number; cooldownMs?: number };
  jsonMode?: boolean;
  maxTokens?: number;
  /** Send the file's base name (not its directory) as context. */
  sendFileName?: boolean;
  headers?: Record<string, string>;
}

export class LlmConfigError extends Error {
  readonly code = 'llm_config';
}

export interface LlmRequest {
  content: string | Buffer;
  l1: Classification;
  /** Layer 2's one-line view, passed as a hint. */
  l2Summary?: string;
  path?: string;
}

export type LlmOutcome =
  | { ok: true; answer: LlmAnswer; attempts: number; ms: number; sentBytes: number; masked: Record<string, number> }
  | { ok: false; reason: FailureReason | 'circuit_open' | 'overloaded' | 'disabled'; message: string; attempts: number; ms: number };

export interface LlmStats {
  calls: number;
  ok: number;
  failed: Record<string, number>;
  breaker: BreakerState;
  inFlight: number;
  queued: number;
}

export interface LlmLayer {
  readonly enabled: boolean;
  /** endpoint + model, for cache keys and reasoning (never the key). */
  readonly fingerprint: string;
  classify(req: LlmRequest): Promise<LlmOutcome>;
  stats(): LlmStats;
}

export interface ResolvedLlm {
  enabled: boolean;
  endpoint?: ChatEndpoint;
  opts: LlmOptions;
}

/** Merges config and environment; an enabled layer without base URL or model is a config error. */
export function resolveLlmOptions(o: LlmOptions = {}, env: NodeJS.ProcessEnv = process.env): ResolvedLlm {
  const enabled = o.enabled ?? false;
  if (!enabled) return { enabled, opts: o };
  const baseUrl = o.baseUrl ?? env.LACUNA_LLM_BASE_URL;
  const model = o.model ?? env.LACUNA_LLM_MODEL;
  if (!baseUrl) throw new LlmConfigError('classify.llm.enabled needs classify.llm.baseUrl or LACUNA_LLM_BASE_URL');
  if (!model) throw new LlmConfigError('classify.llm.enabled needs classify.llm.model or LACUNA_LLM_MODEL');
  try {
    new URL(baseUrl);
  } catch {
    throw new LlmConfigError(`classify.llm.baseUrl is not a URL: ${baseUrl}`);
  }
  const apiKey = o.apiKey ?? env[o.apiKeyEnv ?? 'LACUNA_LLM_API_KEY'];
  return {
    enabled,
    opts: o,
    endpoint: { baseUrl, model, apiKey, headers: o.headers, jsonMode: o.jsonMode ?? true, maxTokens: o.maxTokens ?? 300 },
  };
}

function describeFindings(l1: Classification): string {
  return l1.findings.map((f) => `${f.type} (${f.category}) ×${f.count}`).join(', ');
}

export function createLlmLayer(o: LlmOptions = {}, env: NodeJS.ProcessEnv = process.env): LlmLayer {
  const resolved = resolveLlmOptions(o, env);
  const ep = resolved.endpoint;
  const timeoutMs = o.timeoutMs ?? 5000;
  const policy = {
    timeoutMs,
    retries: o.retries ?? 2,
    backoffMs: o.backoffMs ?? 250,
    deadlineMs: o.deadlineMs ?? Math.round(timeoutMs * 2.5),
  };
  const maxBytes = o.maxBytes ?? 8192;
  const maxConcurrent = o.maxConcurrent ?? 2;
  const maxQueue = o.maxQueue ?? 64;
  const breaker = new CircuitBreaker(o.breaker);
  const stats = { calls: 0, ok: 0, failed: {} as Record<string, number>, inFlight: 0 };
  const waiting: (() => void)[] = [];

  const fail = (reason: Extract<LlmOutcome, { ok: false }>['reason'], message: string, attempts: number, t0: number): LlmOutcome => {
    stats.failed[reason] = (stats.failed[reason] ?? 0) + 1;
    return { ok: false, reason, message, attempts, ms: Date.now() - t0 };
  };

  return {
    enabled: resolved.enabled,
    fingerprint: ep ? `${ep.baseUrl}#${ep.model}` : 'disabled',
    async classify(req) {
      const t0 = Date.now();
      stats.calls++;
      if (!ep) return fail('disabled', 'layer 3 is not enabled', 0, t0);
      if (stats.inFlight >= maxConcurrent) {
        if (waiting.length >= maxQueue) return fail('overloaded', `more than ${maxQueue} LLM calls waiting`, 0, t0);
        await new Promise<void>((r) => waiting.push(r));
      }
      // Checked after the wait: the circuit may have opened while this call queued.
      if (!breaker.allow()) {
        waiting.shift()?.();
        return fail('circuit_open', 'LLM endpoint circuit is open after repeated failures', 0, t0);
      }
      stats.inFlight++;
      try {
        const prepared = prepareForLlm(req.content, req.l1.findings, maxBytes);
        const user = userPrompt({
          fileName: o.sendFileName === false || !req.path ? undefined : basename(req.path),
          findings: describeFindings(req.l1),
          l2: req.l2Summary,
          text: prepared.text,
          truncated: prepared.truncated,
        });
        try {
          const { answer, attempts } = await askWithRetries(ep, policy, SYSTEM_PROMPT, user);
          breaker.success();
          stats.ok++;
          return { ok: true, answer, attempts, ms: Date.now() - t0, sentBytes: Buffer.byteLength(prepared.text), masked: prepared.masked };
        } catch (err) {
          breaker.failure();
          if (err instanceof LlmCallError) return fail(err.reason, err.message, err.attempts, t0);
          return fail('network', String(err), 1, t0);
        }
      } finally {
        stats.inFlight--;
        waiting.shift()?.();
      }
    },
    stats: () => ({ ...stats, failed: { ...stats.failed }, breaker: breaker.snapshot().state, queued: waiting.length }),
  };
}
