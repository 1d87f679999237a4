/** How long a failed job waits before its next attempt. */
export interface BackoffOptions {
  /** The wait after the first failure, in ms; each further failure doubles it. */
  baseMs: number;
  /** No wait exceeds this, in ms. */
  maxMs: number;
  /**
   * Fraction of the wait drawn at random (0..1): 0.2 waits between 80% and
   * 100% of the exponential figure. Jobs that failed together (a database
   * restart, an SMTP outage) then do not all retry in the same instant.
   */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 5_000, maxMs: 3_600_000, jitter: 0.2 };

/**
 * The wait in ms after failed attempt number `attempt` (1 for the first):
 * min(maxMs, baseMs * 2^(attempt-1)), less up to `jitter` of it at random.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  if (!Number.isInteger(attempt) || attempt < 1) throw new RangeError(`attempt must be a positive integer, not ${attempt}`);
  // Capping the exponent keeps 2^n finite (0 * Infinity would be NaN); any
  // base of 1 ms or more passes any sane maxMs long before 2^60.
  const exponential = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(attempt - 1, 60));
  return Math.round(exponential * (1 - options.jitter * random()));
}

export function checkBackoff(options: BackoffOptions): BackoffOptions {
  if (!(options.baseMs >= 0 && options.maxMs >= options.baseMs && options.jitter >= 0 && options.jitter <= 1)) {
    throw new RangeError(`backoff needs 0 <= baseMs <= maxMs and 0 <= jitter <= 1, not ${JSON.stringify(options)}`);
  }
  return options;
}
