import net from 'node:net';
import WebSocket from 'ws';
import { Role } from '../../src/tenancy/roles';
import { wsClient } from '../support/live';
import { codes, memoryLogger, TestApp, type GqlResult, type TestBrand } from '../support/server';

/** Refusals and limits: what a caller (or anyone on the internet) may not do to the server or to other tenants. */

// Distinct client addresses, as a proxy on loopback would name them (trust proxy = loopback).
// Never reused: an address blocked by one test must not catch another's request.
let nextAddress = 1;
const newAddress = () => {
  const n = nextAddress++;
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
};

/** A chain of `n` fragments, each spreading the previous one `width` times. */
function fragmentBomb(n: number, width: number): string {
  let doc = 'fragment F0 on Query { courses(first: 1) { totalCount } }\n';
  for (let i = 1; i < n; i++) doc += `fragment F${i} on Query { ${Array.from({ length: width }, () => `...F${i - 1}`).join(' ')} }\n`;
  return `${doc}query { ...F${n - 1} }`;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Sends an operation as one client address, optionally with a credential; answers status, body and headers. */
async function post(app: TestApp, body: unknown, opts: { token?: string; address?: string } = {}) {
  const req = app.http.post('/graphql').set('content-type', 'application/json').set('x-forwarded-for', opts.address ?? newAddress());
  if (opts.token) req.set('authorization', `Bearer ${opts.token}`);
  const res = await req.send(typeof body === 'string' ? body : JSON.stringify(body));
  return { status: res.status, body: res.body as GqlResult & { data?: any }, headers: res.headers };
}

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const start = process.hrtime.bigint();
  const result = await fn();
  return [Number(process.hrtime.bigint() - start) / 1e6, result];
}

/** Runs a WebSocket operation to its first result (or error) and answers the error codes and data. */
async function overWs(app: TestApp, token: string, query: string, variables?: Record<string, unknown>) {
  const client = wsClient(app.server.url, token);
  try {
    return await new Promise<{ codes: string[]; data?: any; errors?: any[] }>((resolve) => {
      client.subscribe(
        { query, variables },
        {
          next: (r) => resolve({ codes: (r.errors ?? []).map((e: any) => e.extensions?.code), data: r.data, errors: r.errors as any[] }),
          error: (e) => resolve({ codes: (Array.isArray(e) ? e : [e]).map((x: any) => x.extensions?.code ?? String(x.message ?? x)), errors: e as any }),
          complete: () => undefined,
        },
      );
    });
  } finally {
    await client.dispose();
  }
}

describe('abuse and limits', () => {
  let app: TestApp;
  let brand: TestBrand;
  let other: TestBrand;
  const logged = memoryLogger();

  beforeAll(async () => {
    app = await TestApp.start(
      { ALLIED_HEADERS_TIMEOUT_MS: '1000', ALLIED_BODY_TIMEOUT_MS: '1000', ALLIED_IDLE_TIMEOUT_MS: '3000' },
      { logger: logged.logger },
    );
    brand = await app.brand('Abuse Target');
    other = await app.brand('Bystander');
    await app.course(brand);
  });
  afterAll(() => app.stop());

  describe('document analysis is linear and refuses before validating', () => {
    it('refuses a fragment bomb at once, unauthenticated, over HTTP and WebSocket', async () => {
      const bomb = fragmentBomb(21, 2);
      expect(bomb.length).toBeLessThan(900);
      const refused = await post(app, { query: bomb });
      expect(refused.status).toBe(400);
      expect(codes(refused.body)).toEqual(['QUERY_TOO_COMPLEX']);
      expect(refused.body.errors?.[0].extensions.limit).toBe('ALLIED_MAX_QUERY_COST');
      expect((await overWs(app, brand.token, bomb)).codes).toEqual(['QUERY_TOO_COMPLEX']);
    });

    it('costs about what a trivial request costs, however deep or wide the bomb', async () => {
      const baseline: number[] = [];
      const bombs = new Map<string, number[]>();
      const shapes = [
        [16, 2],
        [21, 2],
        [40, 2],
        [12, 3],
        [10, 4],
      ];
      // Alternate rounds so drift of the machine hits both alike.
      for (let round = 0; round < 7; round++) {
        baseline.push((await timed(() => post(app, { query: '{ __typename }' })))[0]);
        for (const [n, w] of shapes) {
          const [ms, res] = await timed(() => post(app, { query: fragmentBomb(n, w) }));
          expect(codes(res.body)).toEqual(['QUERY_TOO_COMPLEX']);
          bombs.set(`${n}x${w}`, [...(bombs.get(`${n}x${w}`) ?? []), ms]);
        }
      }
      const base = median(baseline);
      // The exponential rule took 3–9 s for 21×2: a ratio in the thousands.
      const ratios = Object.fromEntries([...bombs].map(([shape, times]) => [shape, median(times) / base]));
      expect(Object.entries(ratios).filter(([, ratio]) => ratio > 5)).toEqual([]);
    });

    it('refuses on size and token count before parsing anything else', async () => {
      const long = await post(app, { query: `{ ${'__typename '.repeat(12_000)} }` });
      expect(codes(long.body)).toEqual(['QUERY_TOO_COMPLEX']);
      expect(long.body.errors?.[0].extensions.limit).toBe('ALLIED_MAX_QUERY_CHARS');
      const tokens = await post(app, { query: `{ ${'__typename '.repeat(6000)} }` });
      expect(codes(tokens.body)).toEqual(['QUERY_TOO_COMPLEX']);
      expect(tokens.body.errors?.[0].extensions.limit).toBe('ALLIED_MAX_QUERY_TOKENS');
      expect((await overWs(app, brand.token, `{ ${'__typename '.repeat(6000)} }`)).codes).toEqual(['QUERY_TOO_COMPLEX']);
    });
  });

  describe('cost counts what lists return, and aliases add up', () => {
    const series = (days: number) =>
      `metricsSeries(from: "2020-01-01T00:00:00Z", to: "${new Date(Date.UTC(2020, 0, 1 + days)).toISOString()}") { points { bucketStart purchases } }`;

    it('refuses 200 aliases of metricsSeries on the alias limit, and 300 on the token limit', async () => {
      const query = `query($f: DateTime!, $t: DateTime!) { ${Array.from({ length: 200 }, (_, i) => `s${i}: metricsSeries(from: $f, to: $t) { points { purchases } }`).join(' ')} }`;
      const variables = { f: '2020-01-01T00:00:00Z', t: '2025-06-01T00:00:00Z' };
      const res = await post(app, { query, variables }, { token: brand.token });
      expect(codes(res.body)).toEqual(['QUERY_TOO_COMPLEX']);
      expect(res.body.errors?.[0].extensions.limit).toBe('ALLIED_MAX_ALIASES');
    });

    it('sizes a series by its span: one long series runs, ten of them are refused', async () => {
      expect((await post(app, { query: `{ ${series(1000)} }` }, { token: brand.token })).body.data.metricsSeries.points).toHaveLength(1000);
      const ten = await post(app, { query: `{ ${Array.from({ length: 10 }, (_, i) => `s${i}: ${series(1000)}`).join(' ')} }` }, { token: brand.token });
      expect(codes(ten.body)).toEqual(['QUERY_TOO_COMPLEX']);
      expect(ten.body.errors?.[0].extensions.limit).toBe('ALLIED_MAX_QUERY_COST');
    });

    it('costs a series from its variables, over HTTP and WebSocket', async () => {
      const query = `query($f: DateTime!, $t: DateTime!) { ${Array.from({ length: 10 }, (_, i) => `s${i}: metricsSeries(from: $f, to: $t) { points { bucketStart purchases } }`).join(' ')} }`;
      const short = { f: '2020-01-01T00:00:00Z', t: '2020-01-05T00:00:00Z' };
      const long = { f: '2020-01-01T00:00:00Z', t: '2022-09-01T00:00:00Z' };
      expect((await post(app, { query, variables: short }, { token: brand.token })).body.errors).toBeUndefined();
      expect(codes((await post(app, { query, variables: long }, { token: brand.token })).body)).toEqual(['QUERY_TOO_COMPLEX']);
      expect((await overWs(app, brand.token, query, short)).codes).toEqual([]);
      expect((await overWs(app, brand.token, query, long)).codes).toEqual(['QUERY_TOO_COMPLEX']);
    });

    it('the cost grows with the aliases of an expensive field', async () => {
      const verdicts: boolean[] = [];
      for (const k of [1, 15, 29]) {
        const query = `{ ${Array.from({ length: k }, (_, i) => `m${i}: ${series(500)}`).join(' ')} }`;
        verdicts.push(codes((await post(app, { query }, { token: brand.token })).body).includes('QUERY_TOO_COMPLEX'));
      }
      expect(verdicts).toEqual([false, true, true]);
    });
  });

  describe('limits hold for the operation and the connection, on every transport', () => {
    const RECORD = (n: number) =>
      `mutation($e: [EventInput!]!) { ${Array.from({ length: n }, (_, i) => `r${i}: recordEvents(events: $e) { accepted }`).join(' ')} }`;
    const events = (prefix: string, n: number) =>
      Array.from({ length: n }, (_, i) => ({ type: 'IMPRESSION', idempotencyKey: `${prefix}-${i}`, learnerExternalId: 'l1', occurredAt: '2026-01-01T00:00:00Z' }));
    const stored = async (prefix: string) =>
      (await app.sql(`select count(*)::int as n from events where tenant_id = $1 and idempotency_key like $2`, [brand.id, `${prefix}-%`]))[0].n;

    it('counts events across aliased recordEvents: 8 × 200 is refused and nothing is stored', async () => {
      const http = await post(app, { query: RECORD(8), variables: { e: events('http8', 200) } }, { token: brand.token });
      expect(codes(http.body)).toEqual(['BAD_USER_INPUT']);
      expect(http.body.errors?.[0].extensions.limit).toBe('EVENTS_PER_OPERATION');
      expect(await stored('http8')).toBe(0);
      const ws = await overWs(app, brand.token, RECORD(8), { e: events('ws8', 200) });
      expect(ws.codes).toEqual(['BAD_USER_INPUT']);
      expect(await stored('ws8')).toBe(0);
      // Five aliases of 200 distinct events make 1000: allowed (later aliases see the keys as duplicates).
      const five = await post(app, { query: RECORD(5), variables: { e: events('http5', 200) } }, { token: brand.token });
      expect(five.body.errors).toBeUndefined();
      expect(await stored('http5')).toBe(200);
    });

    it('holds a WebSocket message to the body limit: a 20 MB message closes the socket unexecuted', async () => {
      const socket = new WebSocket(app.server.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
      await new Promise((resolve) => socket.once('open', resolve));
      socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: brand.token } }));
      await new Promise((resolve) => socket.once('message', resolve));
      const closed = new Promise<number>((resolve) => socket.once('close', resolve));
      const query = `mutation($e: [EventInput!]!) { recordEvents(events: $e) { accepted } }`;
      const big = events('ws-big', 1).map((e) => ({ ...e, type: 'FEEDBACK', text: 'x'.repeat(20 * 1024 * 1024) }));
      socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables: { e: big } } }));
      expect(await closed).toBe(1009);
      expect(await stored('ws-big')).toBe(0);
    });
  });

  describe('rates, credentials and timeouts', () => {
    it('throttles failed credentials per address: after 20, even a valid one waits, without being checked', async () => {
      const address = newAddress();
      for (let i = 0; i < 20; i++) {
        const forged = `allied_${Buffer.alloc(56, i + 1).toString('base64url')}`;
        expect((await post(app, { query: '{ me { subject } }' }, { token: forged, address })).status).toBe(401);
      }
      const blocked = await post(app, { query: '{ me { subject } }' }, { token: brand.token, address });
      expect(blocked.status).toBe(429);
      expect(blocked.body.errors?.[0].extensions).toMatchObject({ code: 'RATE_LIMITED', limit: 'ALLIED_MAX_CREDENTIAL_FAILURES' });
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
      expect((await post(app, { query: '{ me { subject } }' }, { token: brand.token })).status).toBe(200);
      const [row] = await app.sql(`select coalesce(sum(failures), 0)::int as n from credential_failures where address = $1`, [address]);
      // On PostgreSQL the count is shared by instances; on the embedded database it stays in memory.
      expect([0, 20]).toContain(row.n);
    });

    it('answers 401 for a token of a brand that does not exist, and for one that lives too long', async () => {
      const ghost = app.token('00000000-0000-4000-8000-00000000dead', [Role.OWNER]);
      const res = await post(app, { query: '{ me { subject } }' }, { token: ghost });
      expect(res.status).toBe(401);
      expect(codes(res.body)).toEqual(['UNAUTHENTICATED']);
      const closed = await new Promise<number>((resolve) => {
        const client = wsClient(app.server.url, ghost, { closed: resolve });
        client.subscribe({ query: '{ me { subject } }' }, { next: () => undefined, error: () => undefined, complete: () => undefined });
      });
      expect(closed).toBe(4401);
      const forever = app.token(brand.id, [Role.OWNER], 10 * 365 * 86_400);
      const long = await post(app, { query: '{ me { subject } }' }, { token: forever });
      expect(long.status).toBe(401);
      expect(long.body.errors?.[0].message).toMatch(/ALLIED_MAX_TOKEN_TTL_SECONDS/);
      expect((await post(app, { query: '{ me { subject } }' }, { token: app.token(brand.id, [Role.OWNER], 29 * 86_400) })).status).toBe(200);
    });

    /** A raw TCP connection to the server, resolving when the server closes it, with what it sent. */
    function rawConnection(send: string): { closed: Promise<{ ms: number; text: string }> } {
      const started = Date.now();
      const socket = net.connect(app.server.port, '127.0.0.1');
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('error', () => undefined);
      socket.write(send);
      return { closed: new Promise((resolve) => socket.once('close', () => resolve({ ms: Date.now() - started, text }))) };
    }

    it('closes connections that never finish their headers or body, or sit idle', async () => {
      const headers = rawConnection('POST /graphql HTTP/1.1\r\nHost: x\r\nX-Slow: ');
      const body = rawConnection('POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"query":');
      const idle = rawConnection('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      const [h, b, i] = await Promise.all([headers.closed, body.closed, idle.closed]);
      expect(h.ms).toBeLessThan(5000);
      expect(h.text).toMatch(/^HTTP\/1\.1 408/);
      expect(b.ms).toBeLessThan(5000);
      expect(b.text).toMatch(/^HTTP\/1\.1 408/);
      expect(b.text).toContain('ALLIED_BODY_TIMEOUT_MS');
      expect(i.text).toMatch(/^HTTP\/1\.1 200/);
      expect(i.ms).toBeLessThan(8000);
    });
  });

  describe('client mistakes are BAD_USER_INPUT, named, and not logged as faults', () => {
    const CREATE = `mutation($input: CreateCourseInput!) { createCourse(input: $input) { id } }`;
    const course = (title: string) => ({ title, topics: ['x'], level: 'BEGINNER', format: 'VIDEO', price: { amountMinor: 100, currency: 'USD' } });

    it('refuses NUL characters and lone surrogates in variables and literals, naming where', async () => {
      const before = logged.lines.length;
      for (const title of ['bad\u0000title', 'bad\ud800title', 'bad\udc00']) {
        const res = await post(app, { query: CREATE, variables: { input: course(title) } }, { token: brand.token });
        expect(codes(res.body)).toEqual(['BAD_USER_INPUT']);
        expect(res.body.errors?.[0].message).toMatch(/\$input\.title/);
        expect((await overWs(app, brand.token, CREATE, { input: course(title) })).codes).toEqual(['BAD_USER_INPUT']);
      }
      const literal = await post(app, { query: `mutation { createCourse(input: { title: "a\\u0000b", topics: ["x"], level: BEGINNER, format: VIDEO, price: { amountMinor: 1, currency: "USD" } }) { id } }` }, { token: brand.token });
      expect(codes(literal.body)).toEqual(['BAD_USER_INPUT']);
      const keys = await post(app, { query: `mutation($r: JSON) { updateBrand(input: { resources: $r }) { id } }`, variables: { r: { 'ven\u0000ue': 0.5 } } }, { token: brand.token });
      expect(codes(keys.body)).toEqual(['BAD_USER_INPUT']);
      const [{ n }] = await app.sql(`select count(*)::int as n from courses where tenant_id = $1 and title like 'bad%'`, [brand.id]);
      expect(n).toBe(0);
      expect(logged.lines.slice(before).filter((l) => l.msg === 'unexpected error')).toEqual([]);
    });

    it('reports more than 50 bad variables as BAD_USER_INPUT, not a server fault', async () => {
      const before = logged.lines.length;
      const names = Array.from({ length: 60 }, (_, i) => `v${i}`);
      const query = `mutation(${names.map((n) => `$${n}: EventInput!`).join(', ')}) { recordEvents(events: [${names.map((n) => `$${n}`).join(', ')}]) { accepted } }`;
      const variables = Object.fromEntries(names.map((n) => [n, 'not a number']));
      const res = await post(app, { query, variables }, { token: brand.token });
      expect(res.body.errors?.length).toBeGreaterThan(0);
      expect(new Set(codes(res.body))).toEqual(new Set(['BAD_USER_INPUT']));
      const ws = await overWs(app, brand.token, query, variables);
      expect(new Set(ws.codes)).toEqual(new Set(['BAD_USER_INPUT']));
      expect(logged.lines.slice(before).filter((l) => l.msg === 'unexpected error')).toEqual([]);
    });

    it('rejects NUL text in NDJSON events line by line', async () => {
      const lines = [
        { type: 'FEEDBACK', idempotencyKey: 'nul-1', learnerExternalId: 'l1', occurredAt: '2026-01-01T00:00:00Z', text: 'fine' },
        { type: 'FEEDBACK', idempotencyKey: 'nul-2', learnerExternalId: 'l1', occurredAt: '2026-01-01T00:00:00Z', text: 'bad\u0000' },
      ]
        .map((l) => JSON.stringify(l))
        .join('\n');
      const res = await app.http.post('/ingest').set('content-type', 'application/x-ndjson').set('authorization', `Bearer ${brand.token}`).send(lines);
      expect(res.status).toBe(200);
      expect(res.body.accepted).toBe(1);
      expect(res.body.rejected).toEqual([expect.objectContaining({ line: 2, code: 'INVALID_TEXT' })]);
    });
  });

  // Rates low enough that even a loaded machine sends the burst faster than
  // the bucket refills, so the tests never depend on the machine's speed.
  describe('request rates', () => {
    let slow: TestApp;
    beforeAll(async () => {
      slow = await TestApp.start({
        ALLIED_RATE_LIMIT_PER_IP: '5',
        ALLIED_RATE_BURST_PER_IP: '20',
        ALLIED_RATE_LIMIT_PER_BRAND: '5',
        ALLIED_RATE_BURST_PER_BRAND: '20',
      });
    });
    afterAll(() => slow.stop());

    it('limits requests per client address with RATE_LIMITED, retryAfter and Retry-After', async () => {
      const address = newAddress();
      const results = await Promise.all(Array.from({ length: 100 }, () => post(slow, { query: '{ __typename }' }, { address })));
      const limited = results.filter((r) => r.status === 429);
      expect(limited.length).toBeGreaterThanOrEqual(40);
      expect(limited[0].body.errors?.[0].extensions).toMatchObject({ code: 'RATE_LIMITED', limit: 'ALLIED_RATE_LIMIT_PER_IP', retryAfter: 1 });
      expect(limited[0].headers['retry-after']).toBe('1');
      // Another address is not affected.
      expect((await post(slow, { query: '{ __typename }' })).status).toBe(200);
    });

    it('limits requests per brand, whatever addresses they come from', async () => {
      const hurried = await slow.brand('Hurried');
      const bystander = await slow.brand('Unhurried');
      const results = await Promise.all(Array.from({ length: 100 }, () => post(slow, { query: '{ me { subject } }' }, { token: hurried.token })));
      const limited = results.filter((r) => r.status === 429);
      expect(limited.length).toBeGreaterThanOrEqual(40);
      expect(limited[0].body.errors?.[0].extensions).toMatchObject({ code: 'RATE_LIMITED', limit: 'ALLIED_RATE_LIMIT_PER_BRAND' });
      expect((await post(slow, { query: '{ me { subject } }' }, { token: bystander.token })).status).toBe(200);
    });
  });

  describe('one caller cannot delay another caller much', () => {
    const CATALOG = '{ courses(first: 10) { edges { node { id title price { amountMinor currency } } } } }';

    /** Runs `worker` in `n` concurrent loops until `stop` is set. */
    function flood(n: number, worker: () => Promise<unknown>) {
      let stop = false;
      const loops = Array.from({ length: n }, async () => {
        while (!stop) await worker().catch(() => undefined);
      });
      return async () => {
        stop = true;
        await Promise.all(loops);
      };
    }

    async function catalogLatency(rounds: number): Promise<number> {
      const times: number[] = [];
      for (let i = 0; i < rounds; i++) {
        const [ms, res] = await timed(() => post(app, { query: CATALOG }, { token: other.token }));
        expect(res.body.errors).toBeUndefined();
        times.push(ms);
      }
      return median(times);
    }

    it("keeps a tenant's catalog query within a small factor while another floods with each class", async () => {
      const flooder = await app.brand('Flooder');
      for (let i = 0; i < 3; i++) await app.course(other);
      for (let i = 0; i < 30; i++) await app.course(flooder, { title: `Flood ${i}` });
      const heavy = `{ ${Array.from({ length: 8 }, (_, i) => `c${i}: courses(first: 100) { edges { node { id title topics owner { name } price { amountMinor } } } }`).join(' ')} }`;
      const aliasBomb = `query($f: DateTime!, $t: DateTime!) { ${Array.from({ length: 200 }, (_, i) => `s${i}: metricsSeries(from: $f, to: $t) { points { purchases } }`).join(' ')} }`;
      const classes: Record<string, () => Promise<unknown>> = {
        'fragment bombs, unauthenticated': () => post(app, { query: fragmentBomb(21, 2) }),
        'largest allowed queries': () => post(app, { query: heavy }, { token: flooder.token }),
        'alias bombs': () => post(app, { query: aliasBomb, variables: { f: '2020-01-01T00:00:00Z', t: '2025-01-01T00:00:00Z' } }, { token: flooder.token }),
        // From a few addresses of their own: each is blocked after its
        // failures and then refused unchecked (key lookups from many more
        // addresses share one slice of the pool, ALLIED_POOL_SHARE_PERCENT);
        // the bystander never shares an address with them.
        'forged API keys': () =>
          post(app, { query: '{ me { subject } }' }, { token: `allied_${Buffer.alloc(56, Math.floor(Math.random() * 255)).toString('base64url')}`, address: `192.0.2.${Math.floor(Math.random() * 16)}` }),
      };
      const ratios: Record<string, number> = {};
      await catalogLatency(5); // warm up
      for (const [name, worker] of Object.entries(classes)) {
        const alone = await catalogLatency(15);
        const stop = flood(4, worker);
        await new Promise((r) => setTimeout(r, 200));
        const flooded = await catalogLatency(15);
        await stop();
        ratios[name] = Math.round((flooded / alone) * 10) / 10;
      }
      // eslint-disable-next-line no-console
      console.log(`catalog query latency under flood ÷ alone: ${JSON.stringify(ratios)}`);
      // Floods that are refused cost next to nothing. The flood's clients run
      // in this very process, so part of each ratio is the test's own work.
      const { 'largest allowed queries': allowed, ...refused } = ratios;
      expect(Object.entries(refused).filter(([, ratio]) => ratio > 10)).toEqual([]);
      // Allowed work is real work: on the embedded database (one connection)
      // the bystander waits for at most one of the flooder's operations
      // (round robin); on PostgreSQL the flooder holds at most its pool share.
      expect(allowed).toBeLessThan(25);
    });
  });
});
