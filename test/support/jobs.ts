import type { DataSource, EntityManager } from 'typeorm';
import { enqueue, type EnqueueSpec, type Job } from '../../src/jobs/job';
import type { Transact } from '../../src/jobs/runner';
import { systemTransact } from '../../src/jobs/transact';
import { createLogger } from '../../src/logger';
import { tenantEntry } from '../../src/tenancy/run-as';

/**
 * What test handlers write in their tenant transaction: one row per run
 * that committed. Counting rows per job is counting effects.
 */
export async function createEffectsTable(dataSource: DataSource): Promise<void> {
  await dataSource.query(`create table job_effects (tenant_id uuid not null, job_id uuid not null, runner text not null)`);
  await dataSource.query(`grant select, insert on job_effects to allied_app`);
}

/** The runner's seam, as the server fills it: runAs a system principal of the job's brand. */
export function tenantTransact(dataSource: DataSource): Transact {
  return systemTransact(tenantEntry(dataSource, createLogger('silent')).runAs);
}

/** Runs `work` in its own committed tenant transaction of `brandId`. */
export function asTenant<T>(dataSource: DataSource, brandId: string, work: (manager: EntityManager) => Promise<T>): Promise<T> {
  return tenantTransact(dataSource)(brandId, 'test', work);
}

/** Enqueues in its own committed tenant transaction of `brandId`. */
export function enqueueFor(dataSource: DataSource, brandId: string, spec: EnqueueSpec): Promise<Job> {
  return asTenant(dataSource, brandId, (m) => enqueue(m, spec));
}

export interface JobRow {
  state: string;
  attempts: number;
  last_error: string | null;
  run_at: Date;
  finished_at: Date | null;
  effects: number;
}

/** The job as the owner connection sees it, with how many effects of it committed. */
export async function jobRow(dataSource: DataSource, id: string): Promise<JobRow> {
  const [row] = await dataSource.query(
    `select state, attempts, last_error, run_at, finished_at,
            (select count(*)::int from job_effects e where e.job_id = j.id) as effects
     from jobs j where id = $1`,
    [id],
  );
  return row;
}

/** Polls `probe` until it returns something truthy. */
export async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
