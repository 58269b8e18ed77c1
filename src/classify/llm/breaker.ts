// Circuit breaker for the LLM endpoint: after `failureThreshold` consecutive failed calls it
// opens and every call falls back immediately for `cooldownMs`; then one trial call is let
// through (half-open) and its outcome closes or re-opens the circuit. A slow or dead endpoint
// therefore costs one timeout per cooldown, not one per file.

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  failureThreshold?: number;
  cooldownMs?: number;
  now?: () => number;
}

export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private trialInFlight = false;
  private st: BreakerState = 'closed';
  readonly failureThreshold: number;
  readonly cooldownMs: number;
  private readonly now: () => number;

  constructor(o: BreakerOptions = {}) {
    this.failureThreshold = o.failureThreshold ?? 5;
    this.cooldownMs = o.cooldownMs ?? 30_000;
    this.now = o.now ?? Date.now;
  }

  get state(): BreakerState {
    if (this.st === 'open' && this.now() - this.openedAt >= this.cooldownMs) this.st = 'half-open';
    return this.st;
  }

  /** True when a call may go out now; in half-open only one trial at a time. */
  allow(): boolean {
    const s = this.state;
    if (s === 'closed') return true;
    if (s === 'open' || this.trialInFlight) return false;
    this.trialInFlight = true;
    return true;
  }

  success(): void {
    this.failures = 0;
    this.trialInFlight = false;
    this.st = 'closed';
  }

  failure(): void {
    this.trialInFlight = false;
    this.failures++;
    if (this.st === 'half-open' || this.failures >= this.failureThreshold) {
      this.st = 'open';
      this.openedAt = this.now();
    }
  }

  snapshot(): { state: BreakerState; consecutiveFailures: number } {
    return { state: this.state, consecutiveFailures: this.failures };
  }
}
