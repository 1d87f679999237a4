import fc from 'fast-check';
import { backoffDelay, checkBackoff } from '../../src/jobs/backoff';

describe('job backoff', () => {
  it('doubles from the base up to the cap, without jitter', () => {
    const options = { baseMs: 100, maxMs: 1_000, jitter: 0 };
    expect([1, 2, 3, 4, 5, 6, 50, 5000].map((n) => backoffDelay(n, options))).toEqual([100, 200, 400, 800, 1000, 1000, 1000, 1000]);
  });

  it('stays within [1 - jitter, 1] of the exponential figure', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2000 }),
        fc.integer({ min: 0, max: 60_000 }),
        fc.integer({ min: 0, max: 3_600_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
        (attempt, baseMs, extra, jitter, r) => {
          const options = { baseMs, maxMs: baseMs + extra, jitter };
          const full = baseMs === 0 ? 0 : Math.min(options.maxMs, baseMs * 2 ** (attempt - 1));
          const delay = backoffDelay(attempt, options, () => r);
          expect(Number.isFinite(delay)).toBe(true);
          expect(delay).toBeLessThanOrEqual(Math.round(full));
          expect(delay).toBeGreaterThanOrEqual(Math.floor(full * (1 - jitter)));
        },
      ),
    );
  });

  it('spreads retries that failed together', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(3, { baseMs: 1_000, maxMs: 60_000, jitter: 0.5 })));
    expect(delays.size).toBeGreaterThan(10);
  });

  it('refuses nonsense', () => {
    expect(() => backoffDelay(0)).toThrow(RangeError);
    expect(() => backoffDelay(1.5)).toThrow(RangeError);
    expect(() => checkBackoff({ baseMs: 10, maxMs: 5, jitter: 0 })).toThrow(RangeError);
    expect(() => checkBackoff({ baseMs: 10, maxMs: 50, jitter: 2 })).toThrow(RangeError);
  });
});
