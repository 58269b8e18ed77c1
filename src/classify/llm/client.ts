// One OpenAI-compatible chat-completions call with a hard per-attempt timeout, retried with
// exponential backoff and jitter on transient failures (network, timeout, 408/409/425/429/5xx,
// malformed answers), honouring Retry-After within the overall deadline. Non-transient HTTP
// errors (400, 401, 403, 404 …) fail at once: retrying cannot fix a wrong key or model.

import { MalformedAnswerError, parseAnswer, type LlmAnswer } from './answer.js';

export interface ChatEndpoint {
  baseUrl: string;
  model: string;
  apiKey?: string;
  headers?: Record<string, string>;
  /** Ask for response_format json_object (most OpenAI-compatible servers accept it). */
  jsonMode: boolean;
  maxTokens: number;
}

export interface RetryPolicy {
  timeoutMs: number;
  retries: number;
  backoffMs: number;
  /** No attempt starts after this many ms from the first one. */
  deadlineMs: number;
}

export type FailureReason = 'timeout' | 'network' | 'http_retryable' | 'http_fatal' | 'malformed' | 'deadline';

export class LlmCallError extends Error {
  constructor(
    readonly reason: FailureReason,
    message: string,
    readonly attempts: number,
    readonly status?: number,
  ) {
    super(message);
  }
}

const RETRYABLE_STATUS = new Set([408, 409, 425, 429, 500, 502, 503, 504]);

export function completionsUrl(baseUrl: string): string {
  // Accept both ".../v1" and ".../v1/chat/completions" as the configured base URL.
  const b = baseUrl.replace(/\/+$/, '');
  return b.endsWith('/chat/completions') ? b : `${b}/chat/completions`;
}

async function attempt(ep: ChatEndpoint, system: string, user: string, timeoutMs: number): Promise<LlmAnswer> {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeoutMs);
  try {
    let res: Response;
    try {
      res = await fetch(completionsUrl(ep.baseUrl), {
        method: 'POST',
        signal: ctl.signal,
        headers: {
          'content-type': 'application/json',
          ...(ep.apiKey ? { authorization: `Bearer ${ep.apiKey}` } : {}),
          ...ep.headers,
        },
        body: JSON.stringify({
          model: ep.model,
          temperature: 0,
          max_tokens: ep.maxTokens,
          ...(ep.jsonMode ? { response_format: { type: 'json_object' } } : {}),
          messages: [
            { role: 'system', content: system },
            { role: 'user', content: user },
          ],
        }),
      });
    } catch (err) {
      if (ctl.signal.aborted) throw new LlmCallError('timeout', `no response within ${timeoutMs} ms`, 1);
      throw new LlmCallError('network', String((err as Error).cause ?? (err as Error).message), 1);
    }
    let body: string;
    try {
      body = await res.text();
    } catch {
      if (ctl.signal.aborted) throw new LlmCallError('timeout', `response body not complete within ${timeoutMs} ms`, 1);
      throw new LlmCallError('network', 'response body interrupted', 1);
    }
    if (!res.ok) {
      const reason = RETRYABLE_STATUS.has(res.status) ? 'http_retryable' : 'http_fatal';
      const err = new LlmCallError(reason, `HTTP ${res.status}: ${body.slice(0, 200)}`, 1, res.status);
      (err as LlmCallError & { retryAfterMs?: number }).retryAfterMs = retryAfter(res.headers.get('retry-after'));
      throw err;
    }
    let content: unknown;
    try {
      const j = JSON.parse(body) as { choices?: { message?: { content?: unknown } }[] };
      content = j.choices?.[0]?.message?.content;
    } catch {
      throw new LlmCallError('malformed', `response is not JSON: ${body.slice(0, 80)}`, 1);
    }
    try {
      return parseAnswer(content);
    } catch (err) {
      if (err instanceof MalformedAnswerError) throw new LlmCallError('malformed', err.message, 1);
      throw err;
    }
  } finally {
    clearTimeout(timer);
  }
}

function retryAfter(h: string | null): number | undefined {
  if (!h) return undefined;
  const s = Number(h);
  if (Number.isFinite(s)) return Math.max(0, s * 1000);
  const d = Date.parse(h);
  return Number.isFinite(d) ? Math.max(0, d - Date.now()) : undefined;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Asks once, retrying transient failures; resolves with the validated answer and the attempt count. */
export async function askWithRetries(
  ep: ChatEndpoint,
  policy: RetryPolicy,
  system: string,
  user: string,
): Promise<{ answer: LlmAnswer; attempts: number }> {
  const start = Date.now();
  let last: LlmCallError | undefined;
  for (let i = 0; i <= policy.retries; i++) {
    const left = policy.deadlineMs - (Date.now() - start);
    if (left <= 0) break;
    try {
      const answer = await attempt(ep, system, user, Math.min(policy.timeoutMs, left));
      return { answer, attempts: i + 1 };
    } catch (err) {
      if (!(err instanceof LlmCallError)) throw err;
      last = new LlmCallError(err.reason, err.message, i + 1, err.status);
      if (err.reason === 'http_fatal' || i === policy.retries) break;
      const jitter = 0.5 + Math.random() / 2;
      const wait = Math.max(
        policy.backoffMs * 2 ** i * jitter,
        (err as LlmCallError & { retryAfterMs?: number }).retryAfterMs ?? 0,
      );
      if (Date.now() - start + wait >= policy.deadlineMs) {
        last = new LlmCallError('deadline', `${err.message}; no time left to retry`, i + 1, err.status);
        break;
      }
      await sleep(wait);
    }
  }
  throw last ?? new LlmCallError('deadline', 'deadline passed before the first attempt', 0);
}
