import type { DataSource } from 'typeorm';
import { createDataSource } from '../../src/db/data-source';
import { enqueue } from '../../src/jobs/job';
import { JobQueue } from '../../src/jobs/queue';
import { JobRunner, type JobHandler, type JobRunnerOptions, type RunningJob } from '../../src/jobs/runner';
import { createLogger } from '../../src/logger';
import type { RequestContext } from '../../src/tenancy/context';
import { Principal } from '../../src/tenancy/principal';
import { Role } from '../../src/tenancy/roles';
import { onPostgres } from '../support/database';
import { asTenant, createEffectsTable, enqueueFor, jobRow, sleep, runAsOn, waitFor } from '../support/jobs';
import { codes, TestApp, type TestBrand } from '../support/server';

/**
 * Durable jobs on a real database: an outbox written in the caller's
 * transaction, drained by runners that share work, retry with backoff,
 * dead-letter, recover expired leases, and commit each job's effect once.
 * (The killed-worker case is jobs-kill.e2e.ts.)
 */
describe('durable jobs', () => {
  let app: TestApp;
  let a: TestBrand;
  let b: TestBrand;
  const runners: JobRunner[] = [];
  const log = createLogger(process.env.LOG_LEVEL ?? 'silent');

  beforeAll(async () => {
    app = await TestApp.start();
    a = await app.brand('Jobs Alpha');
    b = await app.brand('Jobs Beta');
    await createEffectsTable(app.db.dataSource);
  });
  afterAll(async () => {
    await Promise.all(runners.map((r) => r.stop()));
    await app.stop();
  });

  /** A started runner, stopped by the test (or afterAll when a test fails). */
  function runner(handlers: Record<string, JobHandler>, options: Partial<JobRunnerOptions> = {}, dataSource: DataSource = app.db.dataSource) {
    const r = new JobRunner(dataSource, log, handlers, { runAs: runAsOn(dataSource), pollIntervalMs: 20, ...options });
    runners.push(r);
    r.start();
    return r;
  }

  /** A handler that writes one effect row and counts its calls per job. */
  function effect(name = 'runner', calls = new Map<string, number>()): JobHandler & { calls: Map<string, number> } {
    const handler = async (job: RunningJob, ctx: RequestContext) => {
      const manager = await ctx.manager();
      calls.set(job.id, (calls.get(job.id) ?? 0) + 1);
      await manager.query(`insert into job_effects (tenant_id, job_id, runner) values ($1, $2, $3)`, [job.brandId, job.id, name]);
    };
    return Object.assign(handler, { calls });
  }

  const done = (id: string) => waitFor(`job ${id} done`, async () => ((await jobRow(app.db.dataSource, id)).state === 'DONE' ? true : null));

  it('never runs a job whose transaction rolled back; runs the committed one once', async () => {
    const handler = effect();
    const r = runner({ 'test.outbox': handler });
    let rolledBack: string | undefined;
    await expect(
      asTenant(app.db.dataSource, a.id, async (m) => {
        rolledBack = (await enqueue(m, { kind: 'test.outbox', idempotencyKey: 'rolled-back' })).id;
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect(rolledBack).toBeDefined();
    const committed = await enqueueFor(app.db.dataSource, a.id, { kind: 'test.outbox', payload: { n: 1 } });
    expect(committed.state).toBe('PENDING');
    r.wake();
    await done(committed.id);
    // Many more polls: the committed job stays at one run, the other at none.
    await sleep(300);
    await r.stop();
    expect(await app.sql(`select count(*)::int as n from jobs where id = $1`, [rolledBack])).toEqual([{ n: 0 }]);
    expect(handler.calls.get(rolledBack!)).toBeUndefined();
    expect(handler.calls.get(committed.id)).toBe(1);
    expect(await jobRow(app.db.dataSource, committed.id)).toMatchObject({ state: 'DONE', attempts: 1, effects: 1, last_error: null });
    expect((await jobRow(app.db.dataSource, committed.id)).finished_at).toBeInstanceOf(Date);
  });

  it('a service enqueues through the queue: at once after commit, never after a rollback', async () => {
    const handler = effect('queued');
    // A poll a minute away: only the queue's wake-up after commit can start the job in time.
    const r = runner({ 'test.queued': handler }, { pollIntervalMs: 60_000 });
    await sleep(50); // the runner's first look (immediate) has found nothing
    const queue = new JobQueue();
    queue.attach(r);
    const { runAs } = app.server.app;
    await expect(
      runAs(Principal.system(a.id, 'test'), async (ctx) => {
        await queue.enqueue(ctx, { kind: 'test.queued', idempotencyKey: 'rolled-back' });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    const started = Date.now();
    const job = await runAs(Principal.system(a.id, 'test'), (ctx) => queue.enqueue(ctx, { kind: 'test.queued', idempotencyKey: 'committed' }));
    await done(job.id);
    expect(Date.now() - started).toBeLessThan(10_000);
    await r.stop();
    expect(await app.sql(`select idempotency_key from jobs where kind = 'test.queued'`)).toEqual([{ idempotency_key: 'committed' }]);
    expect([...handler.calls.values()]).toEqual([1]);
    // Jobs belong to a brand: a caller without one is refused, not failed.
    await expect(runAs(Principal.system(null, 'test'), (ctx) => queue.enqueue(ctx, { kind: 'test.queued' }))).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('enqueues once per brand, kind and idempotency key', async () => {
    const first = await enqueueFor(app.db.dataSource, a.id, { kind: 'test.idem', idempotencyKey: 'welcome-mail:42', payload: { v: 1 } });
    const again = await enqueueFor(app.db.dataSource, a.id, { kind: 'test.idem', idempotencyKey: 'welcome-mail:42', payload: { v: 2 } });
    const otherKind = await enqueueFor(app.db.dataSource, a.id, { kind: 'test.idem-other', idempotencyKey: 'welcome-mail:42' });
    const otherBrand = await enqueueFor(app.db.dataSource, b.id, { kind: 'test.idem', idempotencyKey: 'welcome-mail:42' });
    expect(again.id).toBe(first.id);
    expect(new Set([first.id, otherKind.id, otherBrand.id]).size).toBe(3);
    expect(await app.sql(`select payload from jobs where idempotency_key = 'welcome-mail:42' and kind = 'test.idem' and tenant_id = $1`, [a.id])).toEqual([
      { payload: { v: 1 } },
    ]);
    // Concurrent enqueues of one key (a retried request racing itself) still make one job.
    const racing = await Promise.all(
      Array.from({ length: 5 }, () => enqueueFor(app.db.dataSource, a.id, { kind: 'test.idem', idempotencyKey: 'race' })),
    );
    expect(new Set(racing.map((j) => j.id)).size).toBe(1);

    const handler = effect();
    const r = runner({ 'test.idem': handler });
    await done(first.id);
    await done(racing[0].id);
    // A key already run still answers with its job rather than a new one.
    expect((await enqueueFor(app.db.dataSource, a.id, { kind: 'test.idem', idempotencyKey: 'welcome-mail:42' })).id).toBe(first.id);
    await sleep(200);
    await r.stop();
    expect(handler.calls.get(first.id)).toBe(1);
    expect((await jobRow(app.db.dataSource, first.id)).effects).toBe(1);
  });

  it('retries with exponential backoff, rolling back failed attempts, then goes DEAD with the last error', async () => {
    const starts = new Map<string, number[]>();
    const failUntil = (succeedOn: number): JobHandler => async (job, ctx) => {
      const manager = await ctx.manager();
      starts.set(job.id, [...(starts.get(job.id) ?? []), Date.now()]);
      await manager.query(`insert into job_effects (tenant_id, job_id, runner) values ($1, $2, 'flaky')`, [job.brandId, job.id]);
      if (job.attempt < succeedOn) throw new Error(`SMTP refused attempt ${job.attempt}`);
    };
    const flaky = await enqueueFor(app.db.dataSource, a.id, { kind: 'test.flaky', maxAttempts: 5 });
    const doomed = await enqueueFor(app.db.dataSource, a.id, { kind: 'test.doomed', maxAttempts: 3 });
    const r = runner(
      { 'test.flaky': failUntil(3), 'test.doomed': failUntil(Number.POSITIVE_INFINITY) },
      { backoff: { baseMs: 150, maxMs: 10_000, jitter: 0 } },
    );
    await done(flaky.id);
    const dead = await waitFor('doomed job dead', async () => {
      const row = await jobRow(app.db.dataSource, doomed.id);
      return row.state === 'DEAD' ? row : null;
    });
    await r.stop();

    expect(await jobRow(app.db.dataSource, flaky.id)).toMatchObject({ state: 'DONE', attempts: 3, effects: 1, last_error: 'SMTP refused attempt 2' });
    expect(dead).toMatchObject({ attempts: 3, effects: 0, last_error: 'SMTP refused attempt 3' });
    expect(dead.finished_at).toBeInstanceOf(Date);
    // Waits of at least 150 ms, then 300 ms (no jitter here; the spec covers it).
    for (const id of [flaky.id, doomed.id]) {
      const t = starts.get(id)!;
      expect(t).toHaveLength(3);
      expect(t[1] - t[0]).toBeGreaterThanOrEqual(140);
      expect(t[2] - t[1]).toBeGreaterThanOrEqual(290);
    }
    expect(starts.get(doomed.id)).toHaveLength(3);
  });

  it('two runners on one database share the work and run no job twice', async () => {
    // On PostgreSQL the second runner is a second instance: its own pool.
    // The embedded database has one connection, so both share it there.
    const second = onPostgres ? createDataSource((app.db as { url?: string }).url!, 4) : app.db.dataSource;
    if (onPostgres) await second.initialize();
    try {
      const ids = await asTenant(app.db.dataSource, b.id, async (m) => {
        const out: string[] = [];
        for (let i = 0; i < 60; i++) out.push((await enqueue(m, { kind: 'test.shared', payload: { i } })).id);
        return out;
      });
      const calls = new Map<string, number>();
      const slow = (name: string): JobHandler => {
        const write = effect(name, calls);
        return async (job, ctx) => {
          await write(job, ctx);
          await sleep(5);
        };
      };
      const one = runner({ 'test.shared': slow('one') }, { concurrency: 3 });
      const two = runner({ 'test.shared': slow('two') }, { concurrency: 3 }, second);
      await waitFor('all shared jobs done', async () => {
        const [row] = await app.sql(`select count(*)::int as n from jobs where kind = 'test.shared' and state = 'DONE'`);
        return row.n === ids.length;
      });
      await Promise.all([one.stop(), two.stop()]);
      const effects = await app.sql(`select job_id, count(*)::int as n from job_effects where job_id = any($1) group by job_id`, [ids]);
      expect(effects).toHaveLength(ids.length);
      expect(effects.every((e) => e.n === 1)).toBe(true);
      expect([...calls.values()].every((n) => n === 1)).toBe(true);
      expect(calls.size).toBe(ids.length);
      const byRunner = await app.sql(`select runner, count(*)::int as n from job_effects where job_id = any($1) group by runner order by runner`, [ids]);
      expect(byRunner.map((r) => r.runner)).toEqual(['one', 'two']);
    } finally {
      if (onPostgres) await second.destroy();
    }
  });

  it("claims a job again once a dead worker's lease expires, and dead-letters one on its last attempt", async () => {
    const orphan = await enqueueFor(app.db.dataSource, a.id, { kind: 'test.orphan' });
    const exhausted = await enqueueFor(app.db.dataSource, a.id, { kind: 'test.orphan', maxAttempts: 2 });
    // What a worker killed after its claim leaves behind.
    await app.sql(`update jobs set state = 'RUNNING', attempts = 1, lease_token = gen_random_uuid(), leased_until = now() + interval '2 seconds' where id = $1`, [orphan.id]);
    await app.sql(`update jobs set state = 'RUNNING', attempts = 2, lease_token = gen_random_uuid(), leased_until = now() - interval '1 second' where id = $1`, [exhausted.id]);
    const handler = effect();
    const r = runner({ 'test.orphan': handler });
    await sleep(500);
    expect(handler.calls.size).toBe(0);
    expect((await jobRow(app.db.dataSource, orphan.id)).state).toBe('RUNNING');
    expect(await jobRow(app.db.dataSource, exhausted.id)).toMatchObject({ state: 'DEAD', attempts: 2, effects: 0 });
    expect((await jobRow(app.db.dataSource, exhausted.id)).last_error).toMatch(/lease expired/);
    await done(orphan.id);
    await r.stop();
    expect(handler.calls.get(orphan.id)).toBe(1);
    expect(await jobRow(app.db.dataSource, orphan.id)).toMatchObject({ state: 'DONE', attempts: 2, effects: 1 });
    expect((await jobRow(app.db.dataSource, orphan.id)).last_error).toMatch(/lease expired/);
  });

  it('stops cleanly: a handler given up on stop puts its job back uncounted, and nothing is claimed after', async () => {
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const long = await enqueueFor(app.db.dataSource, b.id, { kind: 'test.long' });
    const r = runner({
      'test.long': async (job) => {
        started();
        await new Promise((_, reject) => job.signal.addEventListener('abort', () => reject(job.signal.reason)));
      },
    });
    await running;
    // The embedded database's one connection is the handler's until it ends.
    if (onPostgres) expect((await jobRow(app.db.dataSource, long.id)).state).toBe('RUNNING');
    await r.stop();
    expect(await jobRow(app.db.dataSource, long.id)).toMatchObject({ state: 'PENDING', attempts: 0, last_error: null });
    const later = await enqueueFor(app.db.dataSource, b.id, { kind: 'test.long' });
    r.wake();
    await sleep(200);
    expect((await jobRow(app.db.dataSource, later.id)).state).toBe('PENDING');
  });

  describe('the jobs query', () => {
    const list = `query($state: JobState, $first: Int, $after: String) {
      jobs(state: $state, first: $first, after: $after) {
        totalCount edges { node { id kind state attempts maxAttempts lastError runAt createdAt finishedAt } }
        pageInfo { hasNextPage endCursor } } }`;

    it("shows OWNER and ADMIN their brand's jobs, newest first, filtered and paged; never another brand's", async () => {
      const token = app.token(a.id, [Role.ADMIN]);
      const all = (await app.ok(token, list, { first: 100 })).jobs;
      const [expected] = await app.sql(`select array_agg(id::text order by created_at desc, id desc) as ids from jobs where tenant_id = $1`, [a.id]);
      expect(all.edges.map((e: any) => e.node.id)).toEqual(expected.ids);
      expect(all.totalCount).toBe(expected.ids.length);
      const [foreign] = await app.sql(`select array_agg(id::text) as ids from jobs where tenant_id = $1`, [b.id]);
      expect(foreign.ids.length).toBeGreaterThan(0);
      expect(all.edges.some((e: any) => foreign.ids.includes(e.node.id))).toBe(false);

      const dead = (await app.ok(a.token, list, { state: 'DEAD' })).jobs;
      expect(dead.edges.length).toBeGreaterThan(0);
      expect(dead.edges.every((e: any) => e.node.state === 'DEAD' && e.node.lastError && e.node.finishedAt)).toBe(true);

      const page1 = (await app.ok(a.token, list, { first: 2 })).jobs;
      const page2 = (await app.ok(a.token, list, { first: 2, after: page1.pageInfo.endCursor })).jobs;
      expect(page1.pageInfo.hasNextPage).toBe(true);
      expect([...page1.edges, ...page2.edges].map((e: any) => e.node.id)).toEqual(expected.ids.slice(0, 4));
    });

    it('refuses readers below ADMIN', async () => {
      for (const role of [Role.EDITOR, Role.ANALYST, Role.INGEST]) {
        expect(codes(await app.gql(app.token(a.id, [role]), list))).toEqual(['FORBIDDEN']);
      }
    });

    it("keeps another brand's jobs out of a tenant transaction altogether", async () => {
      const visible = await asTenant(app.db.dataSource, a.id, (m) =>
        m.query(`select distinct tenant_id from jobs`),
      );
      expect(visible).toEqual([{ tenant_id: a.id }]);
      // Nor can a tenant enqueue for, or complete, another brand's job.
      await expect(
        asTenant(app.db.dataSource, a.id, (m) =>
          m.query(`insert into jobs (tenant_id, id, kind, max_attempts) values ($1, gen_random_uuid(), 'test.x', 1)`, [b.id]),
        ),
      ).rejects.toThrow(/row-level security/);
      const [theirs] = await app.sql(`select id from jobs where tenant_id = $1 and state = 'PENDING' limit 1`, [b.id]);
      const updated = await asTenant(app.db.dataSource, a.id, (m) =>
        m.query(`update jobs set state = 'DONE' where id = $1 returning id`, [theirs.id]),
      );
      expect(updated).toEqual([[], 0]);
      expect((await jobRow(app.db.dataSource, theirs.id)).state).toBe('PENDING');
    });

    it('lets a tenant mark its own job DONE only: never revive, reschedule or forge one', async () => {
      const [dead] = await app.sql(`select id from jobs where tenant_id = $1 and state = 'DEAD' limit 1`, [a.id]);
      expect(dead).toBeDefined();
      await expect(
        asTenant(app.db.dataSource, a.id, (m) => m.query(`update jobs set state = 'PENDING' where id = $1`, [dead.id])),
      ).rejects.toThrow(/row-level security/);
      expect((await jobRow(app.db.dataSource, dead.id)).state).toBe('DEAD');
      await expect(
        asTenant(app.db.dataSource, a.id, (m) =>
          m.query(`insert into jobs (tenant_id, id, kind, max_attempts, state, finished_at) values ($1, gen_random_uuid(), 'test.x', 1, 'DONE', now())`, [a.id]),
        ),
      ).rejects.toThrow(/row-level security/);
    });
  });
});
