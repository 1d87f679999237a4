import { Writable } from 'node:stream';
import pino from 'pino';
import WebSocket from 'ws';
import { TEST_JWT_SECRET, TestApp, type TestBrand } from '../support/server';

/**
 * Credentials and learners' addresses never reach the logs, at any level:
 * every token, key, secret and email address this suite uses, accepted or
 * refused, over HTTP, NDJSON and WebSocket, is searched for in everything the
 * server logged at trace level.
 */
const TRACKING_SECRET = 'tracking-secret-for-the-log-search-0123456789';
const RECORD = `mutation($e: [EventInput!]!) { recordEvents(events: $e) { accepted rejected { index code message } } }`;

describe('secrets in logs', () => {
  let app: TestApp;
  let brand: TestBrand;
  let logged = '';
  const used: string[] = [TEST_JWT_SECRET, TRACKING_SECRET];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _enc, done) {
        logged += String(chunk);
        done();
      },
    });
    app = await TestApp.start({ ALLIED_TRACKING_SECRET: TRACKING_SECRET }, { logger: pino({ level: 'trace' }, sink) });
    brand = await app.brand('Secretive Brand');
    used.push(brand.token, app.adminToken);
  });
  afterAll(() => app.stop());

  it('logs none of the credentials, secrets and addresses a session of work used', async () => {
    // An API key: created, used, revoked, used again.
    const created = await app.ok(brand.token, 'mutation { createApiKey(name: "ci", roles: [INGEST, ANALYST]) { id secret } }');
    const key = created.createApiKey.secret as string;
    used.push(key);
    expect((await app.gql(key, '{ me { subject } }')).errors).toBeUndefined();
    await app.ok(brand.token, 'mutation($id: ID!) { revokeApiKey(id: $id) }', { id: created.createApiKey.id });
    expect((await app.gql(key, '{ me { subject } }')).errors?.[0].extensions.code).toBe('UNAUTHENTICATED');

    // Refused credentials: a forged key, a tampered token, a token for nobody.
    const forged = `${key.slice(0, -6)}AAAAAA`;
    const tampered = `${brand.token.slice(0, -4)}abcd`;
    used.push(forged, tampered);
    for (const bad of [forged, tampered]) expect((await app.gql(bad, '{ me { subject } }')).errors?.[0].extensions.code).toBe('UNAUTHENTICATED');

    // Learners' addresses, through GraphQL (one valid, one refused) and NDJSON.
    const addresses = ['ada.lovelace@learners.example', 'not-an-address@@learners.example', 'grace.hopper@learners.example'];
    used.push(...addresses);
    const at = new Date().toISOString();
    const recorded = await app.ok(brand.token, RECORD, {
      e: [
        { type: 'VIEW', idempotencyKey: 's1', learnerExternalId: 'ada', occurredAt: at, contact: { email: addresses[0], consent: 'OPTED_IN' } },
        { type: 'VIEW', idempotencyKey: 's2', learnerExternalId: 'bad', occurredAt: at, contact: { email: addresses[1], consent: 'OPTED_IN' } },
      ],
    });
    expect(recorded.recordEvents.accepted).toBe(1);
    const ndjson = JSON.stringify({ type: 'VIEW', idempotencyKey: 's3', learnerExternalId: 'grace', occurredAt: at, contact: { email: addresses[2], consent: 'OPTED_IN' } });
    const ingested = await app.http.post('/ingest').set('content-type', 'application/x-ndjson').set('authorization', `Bearer ${brand.token}`).send(ndjson);
    expect(ingested.body.accepted).toBe(1);

    // A WebSocket whose connection_init carries the token, and one with a bad one.
    for (const authorization of [brand.token, tampered]) {
      const socket = new WebSocket(app.server.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
      await new Promise((resolve) => {
        socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization } })));
        socket.on('message', () => socket.close());
        socket.once('close', resolve);
      });
    }

    await new Promise((r) => setTimeout(r, 200));
    // The search means something only if the server did log this session.
    expect(logged).toMatch(/"msg":"request"/);
    expect(logged.split('\n').length).toBeGreaterThan(10);
    const found = used.filter((secret) => logged.includes(secret) || logged.includes(secret.slice(-24)));
    expect(found).toEqual([]);
  });
});
