import { AlliedError } from '../errors';

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets per key (a client address, a brand): `rate` requests a
 * second on average, up to `burst` at once. Kept in this instance's memory:
 * these limits protect the instance's own event loop, which is what a flood
 * of requests exhausts first; the shared database is protected by each
 * instance's pool share and statement timeouts. With N instances behind a
 * balancer a client gets up to N times the rate, so set it per instance.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private sweptAt = 0;

  constructor(
    readonly name: string,
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {}

  get enabled(): boolean {
    return this.rate > 0;
  }

  /** Takes one token for `key`: 0 when allowed, otherwise the seconds to wait. */
  take(key: string): number {
    if (!this.enabled) return 0;
    const now = this.now();
    this.sweep(now);
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.rate);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.rate));
  }

  /** The seconds until `key` has a token again (0: it has one now), without taking it. */
  wait(key: string): number {
    if (!this.enabled) return 0;
    const bucket = this.buckets.get(key);
    if (!bucket) return 0;
    const tokens = Math.min(this.burst, bucket.tokens + ((this.now() - bucket.at) / 1000) * this.rate);
    return tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - tokens) / this.rate));
  }

  /** Forgets buckets that have refilled: a full bucket is the same as none. */
  private sweep(now: number): void {
    if (now - this.sweptAt < 10_000) return;
    this.sweptAt = now;
    const full = (this.burst / this.rate) * 1000;
    for (const [key, bucket] of this.buckets) if (now - bucket.at >= full) this.buckets.delete(key);
  }
}

/** The RATE_LIMITED error a refusal answers with, naming the limit and when to retry. */
export function rateLimited(limit: string, retryAfter: number, message: string): AlliedError {
  return new AlliedError('RATE_LIMITED', message, { limit, retryAfter, http: { status: 429, headers: new Map([['retry-after', String(retryAfter)]]) } });
}
