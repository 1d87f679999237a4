import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { RequestContext } from '../tenancy/context';
import { Principal } from '../tenancy/principal';
import type { RunAs } from '../tenancy/run-as';
import { backoffDelay, checkBackoff, DEFAULT_BACKOFF, type BackoffOptions } from './backoff';

/** A claimed job, as its handler receives it. */
export interface RunningJob {
  id: string;
  brandId: string;
  kind: string;
  payload: unknown;
  /** 1 on the first attempt. */
  attempt: number;
  maxAttempts: number;
  /** Aborted when the runner stops: a long handler may give up, and the job is put back for another worker. */
  signal: AbortSignal;
}

/**
 * Does a job's work with `ctx`, a context of the job's brand for Allied
 * itself (`Principal.system(brand, 'job <kind>')`), whose transaction the
 * runner also marks the job done in: the work and the DONE state commit
 * together or not at all, and what the work signals or enqueues goes out
 * after that commit. Throwing fails the attempt (it is retried, or DEAD after
 * the last). Effects outside the database (an email) cannot join the
 * transaction; make them idempotent on `job.id`.
 */
export type JobHandler = (job: RunningJob, ctx: RequestContext) => Promise<void>;

export interface JobRunnerOptions {
  /** Into the job's brand: the application's one way into a tenant. */
  runAs: RunAs;
  /** Jobs this runner works on at once; each holds one pooled connection while it runs. */
  concurrency?: number;
  /** How often an idle runner looks for due jobs, in ms. */
  pollIntervalMs?: number;
  /**
   * How long a claim lasts, in ms. While the handler's transaction is open
   * it holds the job's row lock, so no other worker takes it however long it
   * runs; the lease matters when the worker dies: its job is claimed again
   * once the lease has run out.
   */
  leaseMs?: number;
  backoff?: Partial<BackoffOptions>;
}

type JobLogger = Pick<Logger, 'info' | 'warn' | 'error'>;

interface Claimed {
  tenant_id: string;
  id: string;
  kind: string;
  payload: unknown;
  state: 'RUNNING' | 'DEAD';
  attempts: number;
  max_attempts: number;
  lease_token: string | null;
}

/** The handler's transaction found the job no longer leased to this runner. */
class LeaseLost extends Error {}

const LEASE_EXPIRED = 'The lease expired before the job finished: its worker stopped or stalled.';

/**
 * Drains the job table: every instance runs one, and they share the work
 * through `FOR UPDATE SKIP LOCKED`. Claims, retries and dead-lettering are
 * single statements on the owner connection (all brands' jobs); a job's work
 * runs in its brand's tenant transaction through `runAs`.
 *
 * Exactly once: the handler's transaction first locks the job row, checking
 * that the lease is still this claim's, and marks it DONE before it commits.
 * A worker killed mid-run loses its transaction (the work rolls back with
 * it) while the row still says RUNNING; when the lease expires another
 * worker claims it and does the work once.
 */
export class JobRunner {
  private readonly concurrency: number;
  private readonly pollIntervalMs: number;
  private readonly leaseMs: number;
  private readonly backoff: BackoffOptions;
  private readonly kinds: string[];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private claiming: Promise<void> | undefined;
  private started = false;
  private stopping = false;
  /** The last claim filled every free slot, so more may be due. */
  private saturated = false;
  /** Woken while a claim was running: look again as soon as it ends. */
  private woken = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly log: JobLogger,
    private readonly handlers: Readonly<Record<string, JobHandler>>,
    private readonly options: JobRunnerOptions,
  ) {
    this.concurrency = positive('concurrency', options.concurrency ?? 1);
    this.pollIntervalMs = positive('pollIntervalMs', options.pollIntervalMs ?? 1_000);
    this.leaseMs = positive('leaseMs', options.leaseMs ?? 60_000);
    this.backoff = checkBackoff({ ...DEFAULT_BACKOFF, ...options.backoff });
    // A runner claims only kinds it can run, so instances with different
    // handler sets (an old and a new version during a deploy) share a table.
    this.kinds = Object.keys(handlers);
  }

  /** Starts polling; the first look is immediate. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.schedule(0);
  }

  /** Looks for due jobs now instead of at the next poll: call it after committing a transaction that enqueued. */
  wake(): void {
    if (this.started && !this.stopping) this.schedule(0);
  }

  /**
   * Stops claiming, aborts running handlers' signals and waits for them:
   * each either finishes (and commits) or gives up, and a job given up
   * goes back to PENDING without counting the attempt. No timer is left.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.abort.abort(new Error('The job runner is stopping.'));
    await this.claiming;
    await Promise.all([...this.inFlight]);
  }

  private schedule(delayMs: number): void {
    if (this.stopping) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.claiming) {
        this.woken = true; // the running claim reschedules when it ends
        return;
      }
      this.woken = false;
      this.claiming = this.poll().finally(() => {
        this.claiming = undefined;
        const more = this.woken || this.saturated;
        this.schedule(more && this.inFlight.size < this.concurrency ? 0 : this.pollIntervalMs);
      });
    }, delayMs);
  }

  private async poll(): Promise<void> {
    const free = this.concurrency - this.inFlight.size;
    this.saturated = false;
    if (free <= 0 || this.kinds.length === 0) return;
    let claimed: Claimed[];
    try {
      claimed = await this.claim(free);
    } catch (error) {
      this.log.error({ err: error }, 'job claim failed');
      return;
    }
    this.saturated = claimed.length === free;
    for (const row of claimed) {
      if (row.state === 'DEAD') {
        this.log.warn({ jobId: row.id, brandId: row.tenant_id, kind: row.kind, attempts: row.attempts }, 'job dead: lease expired on its last attempt');
        continue;
      }
      const run = this.execute(row).finally(() => {
        this.inFlight.delete(run);
        if (this.saturated) this.schedule(0);
      });
      this.inFlight.add(run);
    }
  }

  /**
   * One statement, so on the embedded database (one connection shared with
   * requests) a claim holds it only for an index probe and an update.
   * Expired leases are taken as well: those are jobs whose worker died.
   * On its last allowed attempt such a job is DEAD instead, so a job that
   * kills its worker every time does not kill workers forever.
   */
  private async claim(limit: number): Promise<Claimed[]> {
    return updated<Claimed>(this.dataSource.query(
      `with due as (
         select tenant_id, id, state = 'RUNNING' as expired, (state = 'RUNNING' and attempts >= max_attempts) as dead
         from jobs
         where kind = any($1::text[])
           and ((state = 'PENDING' and run_at <= now()) or (state = 'RUNNING' and leased_until <= now()))
         order by run_at
         limit $2
         for update skip locked)
       update jobs j set
         state = case when due.dead then 'DEAD' else 'RUNNING' end,
         attempts = case when due.dead then j.attempts else j.attempts + 1 end,
         last_error = case when due.expired then $4 else j.last_error end,
         lease_token = case when due.dead then null else gen_random_uuid() end,
         leased_until = case when due.dead then null else now() + $3 * interval '1 millisecond' end,
         finished_at = case when due.dead then now() end,
         updated_at = now()
       from due
       where j.tenant_id = due.tenant_id and j.id = due.id
       returning j.tenant_id, j.id, j.kind, j.payload, j.state, j.attempts, j.max_attempts, j.lease_token`,
      [this.kinds, limit, this.leaseMs, LEASE_EXPIRED],
    ));
  }

  private async execute(row: Claimed): Promise<void> {
    const job: RunningJob = {
      id: row.id,
      brandId: row.tenant_id,
      kind: row.kind,
      payload: row.payload,
      attempt: row.attempts,
      maxAttempts: row.max_attempts,
      signal: this.abort.signal,
    };
    const context = { jobId: job.id, brandId: job.brandId, kind: job.kind, attempt: job.attempt };
    if (this.stopping) return this.release(row, context);
    const started = Date.now();
    try {
      await this.options.runAs(Principal.system(job.brandId, `job ${job.kind}`), async (ctx) => {
        const manager = await ctx.manager();
        // The row lock makes other workers' claims skip this job for as long
        // as this transaction lives, even past the lease.
        const mine = await manager.query(
          `select 1 from jobs where tenant_id = $1 and id = $2 and lease_token = $3 and state = 'RUNNING' for update`,
          [row.tenant_id, row.id, row.lease_token],
        );
        if (mine.length === 0) throw new LeaseLost();
        await this.handlers[job.kind](job, ctx);
        await manager.query(
          `update jobs set state = 'DONE', lease_token = null, leased_until = null, finished_at = now(), updated_at = now()
           where tenant_id = $1 and id = $2`,
          [row.tenant_id, row.id],
        );
      });
      this.log.info({ ...context, ms: Date.now() - started }, 'job done');
    } catch (error) {
      if (error instanceof LeaseLost) {
        this.log.warn(context, 'job lease lost before it ran; another worker has it');
      } else if (this.abort.signal.aborted) {
        await this.release(row, context);
      } else {
        await this.fail(row, error, context);
      }
    }
  }

  /** Records a failed attempt: PENDING again after the backoff, or DEAD after the last attempt. */
  private async fail(row: Claimed, error: unknown, context: object): Promise<void> {
    const message = (error instanceof Error ? error.message || error.name : String(error)).slice(0, 4000);
    const delay = backoffDelay(row.attempts, this.backoff);
    try {
      const [after] = await updated<{ state: string; run_at: Date }>(this.dataSource.query(
        `update jobs set
           state = case when attempts >= max_attempts then 'DEAD' else 'PENDING' end,
           run_at = case when attempts >= max_attempts then run_at else now() + $4 * interval '1 millisecond' end,
           finished_at = case when attempts >= max_attempts then now() end,
           last_error = $5, lease_token = null, leased_until = null, updated_at = now()
         where tenant_id = $1 and id = $2 and lease_token = $3 and state = 'RUNNING'
         returning state, run_at`,
        [row.tenant_id, row.id, row.lease_token, delay, message],
      ));
      if (after?.state === 'DEAD') this.log.error({ ...context, err: error }, 'job dead after its last attempt');
      else this.log.warn({ ...context, err: error, retryAt: after?.run_at }, 'job failed; will retry');
    } catch (recordError) {
      // The lease runs out and the job is claimed again: the attempt is not lost.
      this.log.error({ ...context, err: recordError }, 'job failure could not be recorded');
    }
  }

  /** Gives a job back without counting the attempt (the runner is stopping). */
  private async release(row: Claimed, context: object): Promise<void> {
    try {
      await this.dataSource.query(
        `update jobs set state = 'PENDING', attempts = attempts - 1, run_at = now(), lease_token = null, leased_until = null, updated_at = now()
         where tenant_id = $1 and id = $2 and lease_token = $3 and state = 'RUNNING'`,
        [row.tenant_id, row.id, row.lease_token],
      );
      this.log.info(context, 'job put back: the runner is stopping');
    } catch (error) {
      this.log.error({ ...context, err: error }, 'job could not be put back; it runs again when its lease expires');
    }
  }
}

/** TypeORM answers an UPDATE ... RETURNING with [rows, count], other statements with the rows. */
async function updated<T>(result: Promise<[T[], number]>): Promise<T[]> {
  return (await result)[0];
}

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, not ${value}`);
  return value;
}
