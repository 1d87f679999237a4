// Why a table of our own rather than graphile-worker or pg-boss: through the
// PGlite socket graphile-worker never picked up a committed job, and neither
// library's tables have tenant_id or row-level security, so enqueueing and
// completing inside a tenant transaction would need grants on every brand's
// jobs. See README "Durable jobs".
import crypto from 'node:crypto';
import type { EntityManager } from 'typeorm';

/**
 * PENDING waits for its run time; RUNNING is leased by one worker; DONE ran
 * to completion; DEAD failed its last allowed attempt (see `lastError`).
 */
export enum JobState {
  PENDING = 'PENDING',
  RUNNING = 'RUNNING',
  DONE = 'DONE',
  DEAD = 'DEAD',
}

/** One job as a brand's readers see it (the payload stays with the handler). */
export interface Job {
  id: string;
  brandId: string;
  kind: string;
  state: JobState;
  attempts: number;
  maxAttempts: number;
  idempotencyKey: string | null;
  lastError: string | null;
  runAt: Date;
  createdAt: Date;
  finishedAt: Date | null;
}

export interface EnqueueSpec {
  /** Which handler runs it, e.g. `ml.train`: lower case, digits, `_.-`, at most 64 characters. */
  kind: string;
  /** What the handler needs; JSON, at most 64 KiB. Pass ids rather than rows: the handler reads current data. */
  payload?: unknown;
  /** Unique per brand and kind: enqueueing the same key again returns the existing job instead of a new one. */
  idempotencyKey?: string;
  /** Not before this time; now by default. */
  runAt?: Date;
  /** Attempts before the job is DEAD; 5 by default. */
  maxAttempts?: number;
}

export const DEFAULT_MAX_ATTEMPTS = 5;
const KIND = /^[a-z][a-z0-9_.-]{0,63}$/;

export const JOB_COLUMNS = `j.tenant_id, j.id, j.kind, j.state, j.attempts, j.max_attempts, j.idempotency_key,
  j.last_error, j.run_at, j.created_at, j.finished_at`;

export function jobFromRow(row: Record<string, unknown>): Job {
  return {
    id: row.id as string,
    brandId: row.tenant_id as string,
    kind: row.kind as string,
    state: row.state as JobState,
    attempts: row.attempts as number,
    maxAttempts: row.max_attempts as number,
    idempotencyKey: (row.idempotency_key as string | null) ?? null,
    lastError: (row.last_error as string | null) ?? null,
    runAt: row.run_at as Date,
    createdAt: row.created_at as Date,
    finishedAt: (row.finished_at as Date | null) ?? null,
  };
}

/**
 * Writes a job with the caller's tenant transaction, for the brand of that
 * transaction: it becomes visible to workers when the transaction commits
 * and never exists if it rolls back. With an idempotency key already used
 * by this brand for this kind, nothing is written and the existing job is
 * returned (whatever its state), so a retried request enqueues once.
 *
 * Workers poll, so the job runs within their poll interval; an instance
 * that wants it sooner calls its runner's `wake()` after the commit.
 */
export async function enqueue(manager: EntityManager, spec: EnqueueSpec): Promise<Job> {
  if (!KIND.test(spec.kind)) throw new RangeError(`job kind ${JSON.stringify(spec.kind)} must match ${KIND}`);
  const maxAttempts = spec.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 100) throw new RangeError('maxAttempts must be 1..100');
  const key = spec.idempotencyKey ?? null;
  // The brand is the transaction's own tenant: a caller cannot enqueue for
  // another brand, and RLS would refuse it anyway.
  const inserted: Record<string, unknown>[] = await manager.query(
    `insert into jobs as j (tenant_id, id, kind, payload, idempotency_key, max_attempts, run_at)
     values ((select allied_current_tenant()), $1, $2, $3, $4, $5, coalesce($6::timestamptz, now()))
     on conflict (tenant_id, kind, idempotency_key) do nothing
     returning ${JOB_COLUMNS}`,
    [crypto.randomUUID(), spec.kind, JSON.stringify(spec.payload ?? {}), key, maxAttempts, spec.runAt ?? null],
  );
  if (inserted.length > 0) return jobFromRow(inserted[0]);
  const [existing] = await manager.query(
    `select ${JOB_COLUMNS} from jobs j
     where j.tenant_id = (select allied_current_tenant()) and j.kind = $1 and j.idempotency_key = $2`,
    [spec.kind, key],
  );
  return jobFromRow(existing);
}

/**
 * `enqueue` for many jobs of one kind in one statement (a journey step for
 * a thousand learners): the same rules, and keys already used are skipped.
 * Returns how many were written.
 */
export async function enqueueMany(manager: EntityManager, kind: string, jobs: readonly { payload: unknown; idempotencyKey: string; runAt: Date }[], maxAttempts = DEFAULT_MAX_ATTEMPTS): Promise<number> {
  if (!KIND.test(kind)) throw new RangeError(`job kind ${JSON.stringify(kind)} must match ${KIND}`);
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 100) throw new RangeError('maxAttempts must be 1..100');
  if (jobs.length === 0) return 0;
  const written: unknown[] = await manager.query(
    `insert into jobs (tenant_id, id, kind, payload, idempotency_key, max_attempts, run_at)
     select (select allied_current_tenant()), gen_random_uuid(), $1, u.payload, u.key, $2, u.run_at
     from unnest($3::jsonb[], $4::text[], $5::timestamptz[]) as u(payload, key, run_at)
     on conflict (tenant_id, kind, idempotency_key) do nothing
     returning 1`,
    [kind, maxAttempts, jobs.map((j) => JSON.stringify(j.payload ?? {})), jobs.map((j) => j.idempotencyKey), jobs.map((j) => j.runAt)],
  );
  return written.length;
}
