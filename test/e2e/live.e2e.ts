import { spawn } from 'node:child_process';
import WebSocket from 'ws';
import { Q, activeAlliance } from '../support/alliances';
import { METRICS_SUBSCRIPTION, Watch, wsClient } from '../support/live';
import { TestApp, type TestBrand } from '../support/server';
import { RECORD, runSettlement } from '../support/settlements';

/**
 * Live metrics and settlement updates over graphql-ws: credentials, isolation
 * between tenants, alliance scopes, membership re-checks, throttling, limits.
 */
describe('live subscriptions', () => {
  let app: TestApp;
  let a: TestBrand;
  let b: TestBrand;
  let outsider: TestBrand;
  let allianceId: string;
  let joint: string;
  let seq = 0;
  const clients: { dispose(): unknown }[] = [];
  const client = (token: string | null, on?: { closed?: (code: number) => void }) => {
    const c = wsClient(app.server.url, token, on);
    clients.push(c);
    return c;
  };
  const recent = () => new Date(Date.now() - 60_000).toISOString();
  const impressions = (brand: TestBrand, n: number) =>
    app.ok(brand.token, RECORD, {
      events: Array.from({ length: n }, () => ({ idempotencyKey: `live-${++seq}`, type: 'IMPRESSION', learnerExternalId: 'viewer', occurredAt: recent() })),
    });

  beforeAll(async () => {
    app = await TestApp.start({ ALLIED_MAX_SUBSCRIPTIONS_PER_CONNECTION: '3', ALLIED_MAX_SUBSCRIPTIONS_PER_BRAND: '12' });
    a = await app.brand('Live Academy');
    b = await app.brand('Live Club', 'SPORTS_ORGANIZATION');
    outsider = await app.brand('Live Outsider');
    ({ allianceId } = await activeAlliance(app, a, [b], [[a, 5000], [b, 5000]]));
    joint = await app.course(a, { title: 'Live joint course', allianceId });
  });
  afterAll(async () => {
    for (const c of clients) await c.dispose();
    await app.stop();
  });

  it('sends a snapshot at once, then the new numbers after ingestion commits', async () => {
    const watch = new Watch(client(a.token), METRICS_SUBSCRIPTION, { w: 'LAST_HOUR' });
    const first = await watch.until(() => true);
    await impressions(a, 5);
    const next = await watch.until((s) => s.impressions === first.impressions + 5);
    expect(next.windowStart).not.toBe(first.windowStart);
    watch.stop();
  });

  it('refuses a bad or missing credential with close code 4401', async () => {
    for (const token of ['not-a-token', null]) {
      let code = 0;
      const watch = new Watch(client(token, { closed: (c) => (code = c) }), METRICS_SUBSCRIPTION);
      await watch.failure();
      expect(code).toBe(4401);
    }
  });

  it("refuses an alliance the brand is not an ACTIVE member of, with FORBIDDEN", async () => {
    const watch = new Watch(client(outsider.token), METRICS_SUBSCRIPTION, { a: allianceId });
    expect(await watch.failure()).toEqual(['FORBIDDEN']);
    const nonsense = new Watch(client(outsider.token), METRICS_SUBSCRIPTION, { a: 'not-an-id' });
    expect(await nonsense.failure()).toEqual(['FORBIDDEN']);
  });

  it('never sends a tenant another tenant\'s numbers, with many tenants ingesting at once', async () => {
    const currencies = ['USD', 'EUR', 'CNY', 'JPY', 'GBP', 'AUD'];
    const tenants = await Promise.all(currencies.map(async (currency) => {
      const brand = await app.brand(`Live Tenant ${currency}`);
      const course = await app.course(brand, { title: `Course in ${currency}` });
      return { brand, course, currency };
    }));
    const watches = tenants.map((t) => new Watch(client(t.brand.token), METRICS_SUBSCRIPTION, { w: 'LAST_HOUR' }));
    await Promise.all(watches.map((w) => w.until(() => true)));
    const ROUNDS = 4;
    await Promise.all(tenants.map(async (t, k) => {
      for (let round = 0; round < ROUNDS; round++) {
        await app.ok(t.brand.token, RECORD, {
          events: Array.from({ length: k + 1 }, () => ({ idempotencyKey: `iso-${++seq}`, type: 'PURCHASE', learnerExternalId: `buyer-${k}`, occurredAt: recent(), courseId: t.course, amount: { amountMinor: 100, currency: t.currency } })),
        });
      }
    }));
    await Promise.all(tenants.map((t, k) => watches[k].until((s) => s.purchases === ROUNDS * (k + 1))));
    tenants.forEach((t, k) => {
      for (const s of watches[k].values) {
        expect(s.revenue.every((m: any) => m.currency === t.currency)).toBe(true);
        expect(s.purchases % (k + 1)).toBe(0);
        expect(s.purchases).toBeLessThanOrEqual(ROUNDS * (k + 1));
      }
      watches[k].stop();
    });
  });

  it("updates an alliance's subscribers when a member ingests for a joint course", async () => {
    const watch = new Watch(client(a.token), METRICS_SUBSCRIPTION, { a: allianceId, w: 'LAST_HOUR' });
    const first = await watch.until(() => true);
    await app.ok(b.token, RECORD, {
      events: [{ idempotencyKey: `joint-${++seq}`, type: 'PURCHASE', learnerExternalId: 'fan', occurredAt: recent(), courseId: joint, amount: { amountMinor: 4200, currency: 'USD' } }],
    });
    const next = await watch.until((s) => s.purchases === first.purchases + 1);
    expect(next.revenue).toEqual([{ amountMinor: (first.revenue[0]?.amountMinor ?? 0) + 4200, currency: 'USD' }]);
    watch.stop();
  });

  it('sends at most one snapshot a second per scope, and a slow reader gets the latest', async () => {
    const watch = new Watch(client(a.token), METRICS_SUBSCRIPTION, { w: 'LAST_24_HOURS' });
    const first = await watch.until(() => true);
    const started = Date.now();
    for (let i = 0; i < 20; i++) await impressions(a, 1);
    const last = await watch.until((s) => s.impressions === first.impressions + 20);
    const seconds = (Date.now() - started) / 1000;
    // The first snapshot, then at most one per second of ingesting (plus the one in flight).
    expect(watch.values.length).toBeLessThanOrEqual(2 + Math.ceil(seconds));
    expect(last.impressions).toBe(first.impressions + 20);
    watch.stop();
  });

  it('limits subscriptions per connection', async () => {
    const c = client(b.token);
    const watches = [0, 1, 2].map(() => new Watch(c, METRICS_SUBSCRIPTION));
    await Promise.all(watches.map((w) => w.until(() => true)));
    const fourth = new Watch(c, METRICS_SUBSCRIPTION);
    expect(await fourth.failure()).toEqual(['RATE_LIMITED']);
    watches[0].stop();
    await new Promise((r) => setTimeout(r, 100));
    const again = new Watch(c, METRICS_SUBSCRIPTION);
    await again.until(() => true);
    for (const w of [...watches, again]) w.stop();
  });

  it('limits subscriptions per brand across connections', async () => {
    const watches = Array.from({ length: 12 }, () => new Watch(client(outsider.token), METRICS_SUBSCRIPTION));
    await Promise.all(watches.map((w) => w.until(() => true)));
    const over = new Watch(client(outsider.token), METRICS_SUBSCRIPTION);
    expect(await over.failure()).toEqual(['RATE_LIMITED']);
    for (const w of watches) w.stop();
  });

  it('streams settlements of the alliance as they are run', async () => {
    const watch = new Watch(client(a.token), `subscription($a: ID!) { settlementUpdated(allianceId: $a) { id status net { amountMinor } lines { brand { id } amount { amountMinor } } } }`, { a: allianceId });
    const outsiderWatch = new Watch(client(outsider.token), `subscription($a: ID!) { settlementUpdated(allianceId: $a) { id } }`, { a: allianceId });
    expect(await outsiderWatch.failure()).toEqual(['FORBIDDEN']);
    await new Promise((r) => setTimeout(r, 200));
    await app.ok(b.token, RECORD, {
      events: [{ idempotencyKey: `settle-${++seq}`, type: 'PURCHASE', learnerExternalId: 'fan', occurredAt: '2026-06-10T00:00:00Z', courseId: joint, amount: { amountMinor: 1001, currency: 'USD' } }],
    });
    const run = await runSettlement(app, b, allianceId, 'USD', '2026-06-01T00:00:00Z', '2026-07-01T00:00:00Z');
    const got = await watch.until((s) => s.id === run.id);
    expect(got.net.amountMinor).toBe(1001);
    expect(got.lines.map((l: any) => l.amount.amountMinor).sort()).toEqual([500, 501]);
    watch.stop();
  });

  it('ends an alliance subscription with FORBIDDEN once the brand has left', async () => {
    const watch = new Watch(client(b.token), METRICS_SUBSCRIPTION, { a: allianceId, w: 'LAST_HOUR' });
    await watch.until(() => true);
    await app.ok(b.token, Q.leave, { a: allianceId });
    await app.ok(a.token, RECORD, {
      events: [{ idempotencyKey: `after-leave-${++seq}`, type: 'PURCHASE', learnerExternalId: 'fan', occurredAt: recent(), courseId: joint, amount: { amountMinor: 1, currency: 'USD' } }],
    });
    expect(await watch.failure()).toEqual(['FORBIDDEN']);
    const again = new Watch(client(b.token), METRICS_SUBSCRIPTION, { a: allianceId });
    expect(await again.failure()).toEqual(['FORBIDDEN']);
  });

  it('closes a connection that does not initialise within 10 s', async () => {
    const socket = new WebSocket(app.server.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    const started = Date.now();
    const code = await new Promise<number>((resolve) => socket.on('close', (c) => resolve(c)));
    expect(code).toBe(4408);
    expect(Date.now() - started).toBeGreaterThanOrEqual(9_000);
  }, 20_000);

  it('streams snapshots as CSV lines through the BI example client (examples/bi-stream.mjs)', async () => {
    const child = spawn(process.execPath, ['examples/bi-stream.mjs', allianceId], {
      env: { ...process.env, ALLIED_URL: app.server.url.replace(/^http/, 'ws'), ALLIED_TOKEN: a.token },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    let errors = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => lines.push(...chunk.split('\n').filter(Boolean)));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (errors += chunk));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const until = async (test: () => boolean) => {
      for (let i = 0; i < 200 && !test(); i++) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(errors).toBe('');
      expect(test()).toBe(true);
    };
    try {
      await until(() => lines.length >= 2);
      const header = lines[0].split(',');
      expect(header).toEqual(['at', 'window_start', 'revenue', 'purchases', 'impressions', 'clicks', 'ctr', 'conversions', 'satisfaction', 'active_learners']);
      const column = (line: string, name: string) => line.split(',')[header.indexOf(name)];
      const before = Number(column(lines[1], 'purchases'));
      await app.ok(a.token, RECORD, { events: [{ idempotencyKey: `live-${++seq}`, type: 'PURCHASE', learnerExternalId: 'bi', occurredAt: recent(), courseId: joint, amount: { amountMinor: 4200, currency: 'EUR' } }] });
      await until(() => lines.length >= 3 && Number(column(lines[lines.length - 1], 'purchases')) === before + 1);
      expect(column(lines[lines.length - 1], 'revenue')).toMatch(/EUR:\d+/);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});
