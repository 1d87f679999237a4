import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { codes, TestApp, type TestBrand } from '../support/server';

describe('operations', () => {
  let app: TestApp;
  let brand: TestBrand;

  beforeAll(async () => {
    app = await TestApp.start({ ALLIED_MAX_QUERY_DEPTH: '4', ALLIED_MAX_QUERY_COST: '3000', ALLIED_MAX_BODY_BYTES: '65536' });
    brand = await app.brand('Ops Brand');
  });
  afterAll(() => app.stop());

  it('GET /healthz answers while the process is alive', async () => {
    const res = await app.http.get('/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('GET /readyz says the database is reachable and migrated', async () => {
    const res = await app.http.get('/readyz');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ready');
  });

  it('echoes a sane x-request-id and makes one up otherwise', async () => {
    const given = await app.http.get('/healthz').set('x-request-id', 'abc-123');
    expect(given.headers['x-request-id']).toBe('abc-123');
    const junk = await app.http.get('/healthz').set('x-request-id', 'bad id with spaces');
    expect(junk.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers broken and oversized bodies with coded JSON errors', async () => {
    const broken = await app.http.post('/graphql').set('content-type', 'application/json').send('{"query": ');
    expect(broken.status).toBe(400);
    expect(broken.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    const huge = await app.http
      .post('/graphql')
      .set('content-type', 'application/json')
      .send(JSON.stringify({ query: '{ me { subject } }', variables: { pad: 'x'.repeat(70_000) } }));
    expect(huge.status).toBe(413);
    expect(huge.body.errors[0].message).toMatch(/too large/);
  });

  it('rejects queries nested too deep or too costly with QUERY_TOO_COMPLEX', async () => {
    // Depth: courses > edges > node > id is 4 levels; owner { id } makes 5.
    const ok = await app.gql(brand.token, '{ courses { edges { node { id } } } me { brand { id } } }');
    expect(ok.errors).toBeUndefined();
    const direct = await app.gql(brand.token, '{ courses { edges { node { owner { id } } } } }');
    expect(codes(direct)).toEqual(['QUERY_TOO_COMPLEX']);
    expect(direct.errors?.[0].message).toMatch(/5 levels deep; the limit is 4/);
    const viaFragment = await app.gql(
      brand.token,
      'fragment F on Course { owner { id } } { courses { edges { node { ... on Course { ...F } } } } }',
    );
    expect(codes(viaFragment)).toEqual(['QUERY_TOO_COMPLEX']);
    // Cost: each courses(first: 100) page of this shape is 1 + 100 × (1 + 6) = 701; five of them exceed 3000.
    const page = 'courses(first: 100) { edges { node { id title level format status } } }';
    const four = await app.gql(brand.token, `{ a: ${page} b: ${page} c: ${page} d: ${page} }`);
    expect(four.errors).toBeUndefined();
    const five = await app.gql(brand.token, `{ a: ${page} b: ${page} c: ${page} d: ${page} e: ${page} }`);
    expect(codes(five)).toEqual(['QUERY_TOO_COMPLEX']);
    expect(five.errors?.[0].message).toMatch(/about 3505 objects; the limit is 3000/);
    // A page size from a variable is costed with the variable's value.
    const byVariable = 'query($n: Int) { a: courses(first: $n) { edges { node { id title level format status } } } b: courses(first: $n) { edges { node { id title level format status } } } c: courses(first: $n) { edges { node { id title level format status } } } d: courses(first: $n) { edges { node { id title level format status } } } e: courses(first: $n) { edges { node { id title level format status } } } }';
    expect((await app.gql(brand.token, byVariable, { n: 1 })).errors).toBeUndefined();
    const large = await app.gql(brand.token, byVariable, { n: 100 });
    expect(codes(large)).toEqual(['QUERY_TOO_COMPLEX']);
    expect(large.errors?.[0].message).toMatch(/about 3505 objects; the limit is 3000/);
  });

  it('masks unexpected failures and never shows internals', async () => {
    // A cursor whose values parse as JSON but not as a timestamp reaches the database.
    const cursor = Buffer.from(JSON.stringify(['courses', 'not-a-time', 'x'])).toString('base64url');
    const res = await app.gql(brand.token, 'query($a: String) { courses(after: $a) { totalCount } }', { a: cursor });
    expect(codes(res)).toEqual(['BAD_USER_INPUT']);
    expect(JSON.stringify(res.errors)).not.toMatch(/timestamp|syntax|select|stack/i);
  });

  describe('over WebSocket (graphql-ws, same path)', () => {
    const connect = (authorization?: string): Client =>
      createClient({
        url: app.server.url.replace('http', 'ws'),
        webSocketImpl: WebSocket,
        connectionParams: authorization === undefined ? {} : { authorization },
        retryAttempts: 0,
        lazy: true,
      });

    it('serves queries with the credential from connectionParams', async () => {
      const client = connect(brand.token);
      try {
        const result = await new Promise<any>((resolve, reject) => {
          client.subscribe({ query: '{ me { brand { id } } }' }, { next: resolve, error: reject, complete: () => undefined });
        });
        expect(result.data.me.brand.id).toBe(brand.id);
      } finally {
        await client.dispose();
      }
    });

    it('applies the all-or-nothing mutation rule to the operation it runs', async () => {
      const client = connect(brand.token);
      try {
        const result = await new Promise<any>((resolve, reject) => {
          client.subscribe(
            {
              operationName: 'Both',
              query: `query Peek { me { subject } }
                mutation Both {
                  a: createCourse(input: { title: "WS kept?", topics: [], level: BEGINNER, format: VIDEO, price: { amountMinor: 1, currency: "USD" } }) { id }
                  b: updateCourse(id: "0b7c2d3e-9a8b-4c1d-9e2f-3a4b5c6d7e8f", input: { title: "x" }) { id }
                }`,
            },
            { next: resolve, error: reject, complete: () => undefined },
          );
        });
        expect(result.data).toBeNull();
        expect(result.errors.map((e: any) => e.extensions.code)).toEqual(['NOT_FOUND']);
        const [row] = await app.sql(`select count(*)::int as n from courses where title = 'WS kept?'`);
        expect(row.n).toBe(0);
      } finally {
        await client.dispose();
      }
    });

    it('closes the connection with 4401 for a missing or bad credential', async () => {
      for (const credential of [undefined, 'Bearer not-a-token']) {
        const client = connect(credential);
        const closed = await new Promise<number>((resolve) => {
          client.on('closed', (event) => resolve((event as { code: number }).code));
          client.subscribe({ query: '{ me { subject } }' }, { next: () => undefined, error: () => undefined, complete: () => undefined });
        });
        expect(closed).toBe(4401);
        await client.dispose();
      }
    });
  });
});
