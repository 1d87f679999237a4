import { Writable } from 'node:stream';
import pino from 'pino';
import { TestApp, type TestBrand } from '../support/server';

/** One sample's value from Prometheus text, by metric name and exact labels (as printed). */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('observability: GET /metrics and slow-operation logs', () => {
  let app: TestApp;
  let brand: TestBrand;
  const lines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    // A logger that keeps what it writes, to read the slow-operation lines back.
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    app = await TestApp.start({ ALLIED_SLOW_OPERATION_MS: '1' }, { logger: pino({ level: 'warn' }, sink) });
    brand = await app.brand('Observed Brand');
  });
  afterAll(() => app.stop());

  const scrape = async () => {
    const res = await app.http.get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    return res.text;
  };

  it('counts and times GraphQL operations by name and type, never by variables', async () => {
    const before = await scrape();
    const labels = 'operation="ObservedCatalog",type="query",transport="http",outcome="ok"';
    const was = sample(before, 'allied_graphql_operations_total', labels) ?? 0;
    for (let i = 0; i < 3; i++) {
      const res = await app.gql(brand.token, 'query ObservedCatalog($q: String) { courses(first: 5, filter: { search: $q }) { totalCount } }', { q: 'variable-value-never-a-label' });
      expect(res.errors).toBeUndefined();
    }
    const after = await scrape();
    expect(sample(after, 'allied_graphql_operations_total', labels)).toBe(was + 3);
    expect(sample(after, 'allied_graphql_operation_duration_seconds_count', 'operation="ObservedCatalog",type="query",transport="http"')).toBe(was + 3);
    expect(after).not.toContain('variable-value-never-a-label');
    expect(sample(after, 'allied_http_requests_total', 'method="POST",route="/graphql",status="200"')).toBeGreaterThanOrEqual(3);
  });

  it('counts errors by their contract code, and unnamed operations together', async () => {
    const before = await scrape();
    const was = sample(before, 'allied_graphql_errors_total', 'code="UNAUTHENTICATED"') ?? 0;
    const anonymous = sample(before, 'allied_graphql_operations_total', 'operation="(anonymous)",type="query",transport="http",outcome="error"') ?? 0;
    const refused = await app.gql(null, '{ courses { totalCount } }');
    expect(refused.errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    const after = await scrape();
    expect(sample(after, 'allied_graphql_errors_total', 'code="UNAUTHENTICATED"')).toBe(was + 1);
    expect(sample(after, 'allied_graphql_operations_total', 'operation="(anonymous)",type="query",transport="http",outcome="error"')).toBe(anonymous + 1);
  });

  it('gives at most 200 operation names labels of their own', async () => {
    const { telemetry } = app.server.app;
    expect(telemetry.nameOf('KeptName')).toBe('KeptName');
    for (let i = 0; i < 210; i++) telemetry.nameOf(`Generated${i}`);
    expect(telemetry.nameOf('Generated209')).toBe('(other)');
    expect(telemetry.nameOf('KeptName')).toBe('KeptName');
    expect(telemetry.nameOf('not a name!')).toBe('(anonymous)');
  });

  it('reports the pool, subscriptions, jobs, model calls, the event loop and the heap', async () => {
    const extracted = await app.gql(brand.token, '{ extractDemands(text: "I want a beginner Python course on weekends") { model entities { type } } }');
    expect(extracted.errors).toBeUndefined();
    const text = await scrape();
    expect(sample(text, 'allied_db_pool_size')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'allied_db_pool_in_use')).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'allied_db_pool_waiting')).toBe(0);
    expect(sample(text, 'allied_db_pool_wait_seconds_count')).toBeGreaterThan(0);
    expect(sample(text, 'allied_subscriptions')).toBe(0);
    expect(text).toMatch(/^allied_model_inference_seconds_count\{kind="[A-Z_]+"\} [1-9]/m);
    expect(text).toMatch(/^allied_model_batch_size_count\{kind="[A-Z_]+"\} [1-9]/m);
    expect(sample(text, 'allied_event_loop_delay_p99_seconds')).toBeGreaterThan(0);
    expect(sample(text, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(1e6);
    expect(text).toContain('# TYPE allied_jobs gauge');
  });

  it('logs operations slower than ALLIED_SLOW_OPERATION_MS with their name and duration, and the request id', async () => {
    const res = await app.http
      .post('/graphql')
      .set('content-type', 'application/json')
      .set('authorization', `Bearer ${brand.token}`)
      .set('x-request-id', 'slow-op-1')
      .send({ query: 'query SlowEnough { courses(first: 50) { edges { node { id title } } } }' });
    expect(res.status).toBe(200);
    const slow = lines.find((l) => l.msg === 'slow operation' && l.operation === 'SlowEnough');
    expect(slow).toMatchObject({ type: 'query', transport: 'http', requestId: 'slow-op-1', ms: expect.any(Number) });
  });
});

describe('GET /metrics in production', () => {
  const TOKEN = 'metrics-token-0123456789-abcdefghijklmnop';

  it('answers only with the metrics token, and not at all without one configured', async () => {
    const production = { NODE_ENV: 'production', ALLIED_TRACKING_SECRET: 'tracking-secret-0123456789-abcdefghijkl' };
    const guarded = await TestApp.start({ ...production, ALLIED_METRICS_TOKEN: TOKEN });
    try {
      expect((await guarded.http.get('/metrics')).status).toBe(401);
      expect((await guarded.http.get('/metrics').set('authorization', 'Bearer wrong-token')).status).toBe(401);
      const ok = await guarded.http.get('/metrics').set('authorization', `Bearer ${TOKEN}`);
      expect(ok.status).toBe(200);
      expect(ok.text).toContain('# TYPE allied_http_requests_total counter');
    } finally {
      await guarded.stop();
    }
    const open = await TestApp.start(production);
    try {
      const res = await open.http.get('/metrics');
      expect(res.status).toBe(404);
      expect(res.body.errors[0].extensions.code).toBe('NOT_FOUND');
    } finally {
      await open.stop();
    }
  });
});
