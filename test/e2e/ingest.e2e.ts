import http from 'node:http';
import { Role } from '../../src/tenancy/roles';
import { TestApp, type TestBrand } from '../support/server';

/** Bulk ingestion over NDJSON: the same rules and idempotency as recordEvents, line by line. */
describe('POST /ingest (NDJSON)', () => {
  let app: TestApp;
  let brand: TestBrand;
  let course: string;
  let seq = 0;

  beforeAll(async () => {
    // A second's wait for a database connection at most, so the busy database below answers soon.
    app = await TestApp.start({ ALLIED_POOL_WAIT_MS: '1000' });
    brand = await app.brand('Bulk Academy');
    course = await app.course(brand, { title: 'Bulk course' });
  });
  afterAll(() => app.stop());

  const line = (over: Record<string, unknown> = {}) =>
    JSON.stringify({ idempotencyKey: `n-${++seq}`, type: 'VIEW', learnerExternalId: `bulk-${seq % 50}`, occurredAt: '2026-06-01T08:00:00Z', courseId: course, ...over });
  const post = (body: string | Buffer, token = brand.token, type = 'application/x-ndjson') =>
    app.http.post('/ingest').set('content-type', type).set('authorization', `Bearer ${token}`).send(body);
  const stored = async () => (await app.sql('select count(*)::int as n from events where tenant_id = $1', [brand.id]))[0].n;

  it('stores valid lines in batches and reports bad ones by line number', async () => {
    const good = Array.from({ length: 2500 }, () => line());
    const lines = [
      ...good.slice(0, 1000),
      'not json',
      line({ type: 'TELEPORT' }),
      line({ occurredAt: '2026-06-01 08:00' }),
      line({ type: 'PURCHASE', amount: { amountMinor: 2 ** 53, currency: 'USD' } }),
      line({ type: 'RATING', rating: 9 }),
      '[1, 2]',
      '',
      ...good.slice(1000),
    ];
    const before = await stored();
    const res = await post(lines.join('\n') + '\n');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ accepted: 2500, duplicates: 0, lines: lines.length, truncated: null });
    expect(res.body.rejected.map((r: any) => [r.line, r.code])).toEqual([
      [1001, 'INVALID_JSON'],
      [1002, 'INVALID_TYPE'],
      [1003, 'INVALID_TIME'],
      [1004, 'INVALID_AMOUNT'],
      [1005, 'INVALID_RATING'],
      [1006, 'INVALID_JSON'],
    ]);
    expect(await stored()).toBe(before + 2500);
    const again = await post(lines.join('\n'));
    expect(again.body).toMatchObject({ accepted: 0, duplicates: 2500 });
    expect(await stored()).toBe(before + 2500);
  });

  it('rejects a line of invalid UTF-8 or a 10 MB line, and keeps the rest', async () => {
    const before = await stored();
    const body = Buffer.concat([
      Buffer.from(line() + '\n'),
      Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d, 0x0a]), // {"\xc3("}
      Buffer.from(line({ type: 'FEEDBACK', text: 'x'.repeat(10 * 1024 * 1024) }) + '\n'),
      Buffer.from(line() + '\r\n'),
    ]);
    const res = await post(body);
    expect(res.body.rejected.map((r: any) => [r.line, r.code])).toEqual([
      [2, 'INVALID_UTF8'],
      [3, 'LINE_TOO_LONG'],
    ]);
    expect(res.body.accepted).toBe(2);
    expect(await stored()).toBe(before + 2);
  });

  it('says so when the body ends inside a line, storing the complete lines before the cut', async () => {
    const before = await stored();
    const complete = [line(), line()];
    const res = await post(complete.join('\n') + '\n' + line().slice(0, 40));
    expect(res.body).toMatchObject({ accepted: 2, truncated: { line: 3 } });
    expect(await stored()).toBe(before + 2);
    const noNewline = await post(line());
    expect(noNewline.body).toMatchObject({ accepted: 1, truncated: null });
  });

  it('keeps the complete lines of an upload whose client disconnects', async () => {
    const before = await stored();
    const lines = Array.from({ length: 1500 }, () => line());
    await new Promise<void>((resolve) => {
      const req = http.request(
        { host: '127.0.0.1', port: app.server.port, path: '/ingest', method: 'POST',
          headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${brand.token}`, 'content-length': 10_000_000 } },
        () => undefined,
      );
      req.on('error', () => resolve());
      req.write(lines.join('\n') + '\n' + lines[0].slice(0, 10));
      setTimeout(() => { req.destroy(); resolve(); }, 300);
    });
    for (let i = 0; i < 50 && (await stored()) < before + 1500; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await stored()).toBe(before + 1500);
  });

  it('answers 503 with Retry-After while the database is busy, and stores the upload when it is resent', async () => {
    const before = await stored();
    // Every connection slot the brand may hold is taken for longer than an operation may wait for one.
    const holders = Array.from({ length: 10 }, () =>
      app.asBrand(brand.id, () => new Promise((r) => setTimeout(r, 2500))).catch(() => undefined),
    );
    await new Promise((r) => setTimeout(r, 100));
    const body = Array.from({ length: 3 }, () => line()).join('\n');
    const busy = await post(body);
    expect(busy.status).toBe(503);
    expect(busy.headers['retry-after']).toBe('1');
    expect(busy.body.errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED', limit: 'DATABASE_POOL', retryAfter: 1 });
    await Promise.all(holders);
    const resent = await post(body);
    expect(resent.status).toBe(200);
    expect(resent.body).toMatchObject({ accepted: 3, duplicates: 0 });
    expect(await stored()).toBe(before + 3);
  });

  it('needs an ingesting brand credential and the NDJSON content type', async () => {
    expect((await post(line(), app.token(brand.id, [Role.ANALYST]))).status).toBe(403);
    expect((await post(line(), app.adminToken)).status).toBe(403);
    expect((await post(line(), 'garbage')).status).toBe(401);
    expect((await post(line(), brand.token, 'application/json')).status).toBe(415);
    const ok = await post(line(), app.token(brand.id, [Role.INGEST]));
    expect(ok.status).toBe(200);
    expect(ok.body.accepted).toBe(1);
  });
});
