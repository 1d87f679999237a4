import type { DataSource } from 'typeorm';

/** Counts failed credentials per client address and window. */
export interface FailureStore {
  /** Adds one failure for `address` in the window starting at `windowStart`; returns the window's count. */
  add(address: string, windowStart: Date): Promise<number>;
}

/** One instance (the embedded database is opened by one process only). */
export class MemoryFailureStore implements FailureStore {
  private readonly counts = new Map<string, number>();
  private window = 0;

  async add(address: string, windowStart: Date): Promise<number> {
    if (windowStart.getTime() !== this.window) {
      this.counts.clear();
      this.window = windowStart.getTime();
    }
    const count = (this.counts.get(address) ?? 0) + 1;
    this.counts.set(address, count);
    return count;
  }
}

/**
 * Shared by every instance on one PostgreSQL (table `credential_failures`),
 * so guesses spread over instances add up. Written on failures only.
 */
export class PostgresFailureStore implements FailureStore {
  private prunedWindow = 0;

  constructor(private readonly dataSource: DataSource) {}

  async add(address: string, windowStart: Date): Promise<number> {
    const [row] = await this.dataSource.query(
      `insert into credential_failures (address, window_start, failures) values ($1, $2, 1)
       on conflict (address, window_start) do update set failures = credential_failures.failures + 1
       returning failures`,
      [address, windowStart],
    );
    if (this.prunedWindow !== windowStart.getTime()) {
      this.prunedWindow = windowStart.getTime();
      await this.dataSource.query(`delete from credential_failures where window_start < $1`, [windowStart]);
    }
    return Number(row.failures);
  }
}

/**
 * Failed-credential throttling: after `max` failures from one address in a
 * window, every credential from it is refused without being checked (no
 * signature check, no database lookup) until the window ends. The block is
 * kept in memory; the count behind it is the store's, so with PostgreSQL an
 * address gets at most `max` plus one failure per instance per window.
 */
export class CredentialThrottle {
  private readonly blockedUntil = new Map<string, number>();

  constructor(
    private readonly store: FailureStore,
    private readonly max: number,
    private readonly windowSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until `address` may try again, or 0. */
  retryAfter(address: string): number {
    const until = this.blockedUntil.get(address);
    if (until === undefined) return 0;
    const left = until - this.now();
    if (left > 0) return Math.ceil(left / 1000);
    this.blockedUntil.delete(address);
    return 0;
  }

  /** Records a failed credential from `address`. */
  async failed(address: string): Promise<void> {
    const windowMs = this.windowSeconds * 1000;
    const start = Math.floor(this.now() / windowMs) * windowMs;
    const count = await this.store.add(address, new Date(start));
    if (count >= this.max) this.blockedUntil.set(address, start + windowMs);
  }
}
