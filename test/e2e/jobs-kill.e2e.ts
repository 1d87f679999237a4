import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase, type Database } from '../../src/db/database';
import { JobRunner } from '../../src/jobs/runner';
import { createLogger } from '../../src/logger';
import { onPostgres, openTestDatabase } from '../support/database';
import { createEffectsTable, enqueueFor, jobRow, runAsOn, waitFor } from '../support/jobs';

/**
 * A worker is SIGKILLed while its job's handler has written its effect and
 * not returned. Another worker then claims the job when the lease expires
 * and runs it: the effect is there exactly once and the job is DONE.
 *
 * On PostgreSQL the killed worker and the test share a server. The embedded
 * database belongs to one process, so there the test prepares a data
 * folder, closes it, lets the child open it, and reopens it after the kill
 * (PGlite recovers the folder as PostgreSQL recovers from a crash).
 */
const LEASE_MS = 1_500;

describe('a job survives its worker being killed mid-run', () => {
  let dataDir: string;
  let db: Database & { url?: string };
  const open = () =>
    onPostgres ? openTestDatabase() : openDatabase({ databaseUrl: undefined, databasePoolSize: 1, dataDir: '' }, { embeddedDir: dataDir });

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'allied-jobs-kill-'));
    db = await open();
  });
  afterAll(async () => {
    await db?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('has its effect exactly once and is DONE after a SIGKILL and a second worker', async () => {
    const brandId = crypto.randomUUID();
    await db.dataSource.query(`insert into brands (id, slug, name, kind) values ($1, $2, 'Kill Test', 'OTHER')`, [
      brandId,
      `kill-${brandId.slice(0, 8)}`,
    ]);
    await createEffectsTable(db.dataSource);
    const job = await enqueueFor(db.dataSource, brandId, { kind: 'test.effect' });
    if (!onPostgres) await db.close();

    const child = spawn(process.execPath, [path.resolve(__dirname, '../support/job-child.js')], {
      env: { ...process.env, NODE_OPTIONS: '', JOB_DATABASE_URL: db.url ?? '', JOB_DATA_DIR: dataDir, JOB_LEASE_MS: String(LEASE_MS) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    try {
      await waitFor('the child to write the effect', async () => output.includes(`EFFECT_WRITTEN ${job.id}`) || child.exitCode !== null, 60_000);
      expect(output).toContain(`EFFECT_WRITTEN ${job.id}`);
      if (onPostgres) {
        // Written but not committed: the effect and the DONE mark wait together.
        expect(await jobRow(db.dataSource, job.id)).toMatchObject({ state: 'RUNNING', attempts: 1, effects: 0 });
      }
    } finally {
      process.kill(child.pid!, 'SIGKILL');
    }
    expect(await exited).toBe('SIGKILL');

    if (!onPostgres) db = await open();
    // The killed transaction is gone with its effect; the claim it made is not.
    expect(await jobRow(db.dataSource, job.id)).toMatchObject({ state: 'RUNNING', attempts: 1, effects: 0 });

    const runner = new JobRunner(
      db.dataSource,
      createLogger(process.env.LOG_LEVEL ?? 'silent'),
      {
        'test.effect': async (running, ctx) => {
          await (await ctx.manager()).query(`insert into job_effects (tenant_id, job_id, runner) values ($1, $2, 'survivor')`, [running.brandId, running.id]);
        },
      },
      { runAs: runAsOn(db.dataSource), leaseMs: LEASE_MS, pollIntervalMs: 50 },
    );
    runner.start();
    try {
      await waitFor('the job done by the second worker', async () => (await jobRow(db.dataSource, job.id)).state === 'DONE');
    } finally {
      await runner.stop();
    }
    const row = await jobRow(db.dataSource, job.id);
    expect(row).toMatchObject({ state: 'DONE', attempts: 2, effects: 1 });
    expect(row.last_error).toMatch(/lease expired/);
    expect(await db.dataSource.query(`select runner from job_effects where job_id = $1`, [job.id])).toEqual([{ runner: 'survivor' }]);
  });
});
