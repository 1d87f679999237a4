import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { signToken } from '../../src/tenancy/credentials';
import { Role } from '../../src/tenancy/roles';
import { onPostgres, openTestDatabase } from '../support/database';
import { METRICS_SUBSCRIPTION, Watch, wsClient } from '../support/live';
import { startServerProcess, stopServerProcess } from '../support/process';
import { TestApp, testKeys } from '../support/server';

/** Signals between instances over LISTEN/NOTIFY: PostgreSQL only (the embedded database serves one process). */
const describeOnPostgres = onPostgres ? describe : describe.skip;

describeOnPostgres('live subscriptions across instances', () => {
  it('delivers to a subscriber on one server process what was ingested through another', async () => {
    const db = await openTestDatabase();
    const url = db.url!;
    await db.dataSource.destroy();
    const dirs = [0, 1].map(() => fs.mkdtempSync(path.join(os.tmpdir(), 'allied-instance-')));
    const servers: { child: ChildProcess; port: number }[] = [];
    try {
      for (const dir of dirs) servers.push(await startServerProcess({ DATABASE_URL: url, ALLIED_DATA_DIR: dir, ALLIED_DEMO: 'false' }));
      const [first, second] = servers;
      const admin = signToken(testKeys, { sub: 'instances', roles: [Role.PLATFORM_ADMIN] }, 600);
      const post = async (port: number, token: string, query: string, variables?: object) => {
        const res = await fetch(`http://127.0.0.1:${port}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
        const body = (await res.json()) as any;
        if (body.errors) throw new Error(JSON.stringify(body.errors));
        return body.data;
      };
      const { createBrand } = await post(second.port, admin, `mutation { createBrand(input: { slug: "two-instances", name: "Two Instances", kind: KNOWLEDGE_PLATFORM }) { id } }`);
      const owner = signToken(testKeys, { sub: 'instances-owner', tid: createBrand.id, roles: [Role.OWNER] }, 600);

      const client = wsClient(`http://127.0.0.1:${first.port}/graphql`, owner);
      const watch = new Watch(client, METRICS_SUBSCRIPTION, { w: 'LAST_HOUR' });
      try {
        expect((await watch.until(() => true)).impressions).toBe(0);
        const occurredAt = new Date(Date.now() - 60_000).toISOString();
        await post(second.port, owner, `mutation($e: [EventInput!]!) { recordEvents(events: $e) { accepted } }`, {
          e: Array.from({ length: 3 }, (_, i) => ({ idempotencyKey: `x-${i}`, type: 'IMPRESSION', learnerExternalId: 'v', occurredAt })),
        });
        expect((await watch.until((s) => s.impressions === 3)).impressions).toBe(3);
      } finally {
        watch.stop();
        await client.dispose();
      }
    } finally {
      for (const s of servers) await stopServerProcess(s.child);
      await db.close().catch(() => undefined);
      for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('after losing its LISTEN connection, reconnects and re-sends fresh snapshots', async () => {
    const app = await TestApp.start();
    const client = () => wsClient(app.server.url, brand.token);
    const brand = await app.brand('Resync Brand');
    const c = client();
    try {
      const watch = new Watch(c, METRICS_SUBSCRIPTION, { w: 'LAST_HOUR' });
      expect((await watch.until(() => true)).impressions).toBe(0);
      const pid = (app.server.signals as { listenerPid?: number | null }).listenerPid;
      expect(pid).toBeGreaterThan(0);
      await app.sql('select pg_terminate_backend($1)', [pid]);
      // Written behind the server's back, so no signal is ever sent for it: only the resync can bring it.
      const [learner] = await app.sql(`insert into learners (tenant_id, id, external_id) values ($1, gen_random_uuid(), 'behind') returning id`, [brand.id]);
      await app.sql(
        `insert into events (tenant_id, id, idempotency_key, type, learner_id, occurred_at) values ($1, gen_random_uuid(), 'behind-1', 'IMPRESSION', $2, now() - interval '1 minute')`,
        [brand.id, learner.id],
      );
      expect((await watch.until((s) => s.impressions === 1, 15_000)).impressions).toBe(1);
      const after = (app.server.signals as { listenerPid?: number | null }).listenerPid;
      expect(after).not.toBe(pid);
      watch.stop();
    } finally {
      await c.dispose();
      await app.stop();
    }
  }, 60_000);
});
