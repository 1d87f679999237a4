import type { DataSource, EntityManager } from 'typeorm';
import { enqueue, type EnqueueSpec, type Job } from '../../src/jobs/job';
import { createLogger } from '../../src/logger';
import { Principal } from '../../src/tenancy/principal';
import { tenantEntry, type RunAs } from '../../src/tenancy/run-as';

/**
 * What test handlers write in their tenant transaction: one row per run
 * that committed. Counting rows per job is counting effects.
 */
export async function createEffectsTable(dataSource: DataSource): Promise<void> {
  await dataSource.query(`create table job_effects (tenant_id uuid not null, job_id uuid not null, runner text not null)`);
  await dataSource.query(`grant select, insert on job_effects to allied_app`);
}

/** The runner's way into a brand, as the composition root gives it: the runAs of this database. */
export function runAsOn(dataSource: DataSource): RunAs {
  return tenantEntry(dataSource, createLogger('silent')).runAs;
}

/** Runs `work` in its own committed tenant transaction of `brandId`. */
export function asTenant<T>(dataSource: DataSource, brandId: string, work: (manager: EntityManager) => Promise<T>): Promise<T> {
  return runAsOn(dataSource)(Principal.system(brandId, 'test'), async (ctx) => work(await ctx.manager()));
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
