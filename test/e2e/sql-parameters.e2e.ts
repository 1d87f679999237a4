import { Connection } from 'pg';
import { TestApp, type TestBrand } from '../support/server';

/**
 * Every SQL statement is parameterised: input reaches PostgreSQL as bound
 * values, never inside the statement's text. Each protocol message the
 * driver sends (simple queries and the extended protocol's Parse) is watched
 * while operations carry a marker in every string they can, through
 * GraphQL's arguments and variables and through NDJSON; a statement whose
 * text holds the marker was built from input, and fails this test.
 */
const MARK = 'Zq9Inj';
const EVIL = `${MARK}'); select pg_sleep(1); --`;

describe('SQL statements never hold input', () => {
  let app: TestApp;
  let brand: TestBrand;
  const texts: string[] = [];
  const restore: (() => void)[] = [];

  beforeAll(async () => {
    app = await TestApp.start();
    brand = await app.brand('Parameterised Brand');
    const proto = Connection.prototype as unknown as Record<'parse' | 'query', (this: unknown, arg: unknown) => unknown>;
    const parse = proto.parse;
    const query = proto.query;
    proto.parse = function (this: unknown, message: unknown) {
      texts.push((message as { text: string }).text);
      return parse.call(this, message);
    };
    proto.query = function (this: unknown, text: unknown) {
      texts.push(String(text));
      return query.call(this, text);
    };
    restore.push(() => ((proto.parse = parse), (proto.query = query)));
  });
  afterAll(async () => {
    for (const undo of restore) undo();
    await app.stop();
  });

  it('sends the marked input of many operations only as bound values', async () => {
    const before = texts.length;
    const at = new Date().toISOString();
    const runs: [string, Record<string, unknown>?][] = [
      [
        'mutation($i: CreateCourseInput!) { createCourse(input: $i) { id } }',
        { i: { title: EVIL, description: EVIL, topics: [EVIL], format: 'VIDEO', level: 'BEGINNER', price: { amountMinor: 100, currency: 'USD' } } },
      ],
      ['query($q: String, $t: String) { courses(filter: { search: $q, topic: $t }) { totalCount } }', { q: EVIL, t: EVIL }],
      ['query($a: String) { courses(after: $a) { totalCount } }', { a: EVIL }],
      ['query($s: String) { brand(slug: $s) { id } }', { s: EVIL }],
      ['query($q: String) { brands(search: $q) { totalCount } }', { q: EVIL }],
      ['query($x: String) { learner(externalId: $x) { id } }', { x: EVIL }],
      ['query($seg: String) { learners(segment: $seg) { totalCount } }', { seg: EVIL }],
      [
        'mutation($e: [EventInput!]!) { recordEvents(events: $e) { accepted } }',
        { e: [{ type: 'VIEW', idempotencyKey: EVIL, learnerExternalId: EVIL, occurredAt: at, contact: { email: `${MARK}@learners.example`, name: EVIL, consent: 'OPTED_IN', source: EVIL } }] },
      ],
      ['query($t: String!) { extractDemands(text: $t) { model } }', { t: `I want ${EVIL} on weekends` }],
      ['mutation($n: String!) { createApiKey(name: $n, roles: [ANALYST]) { id } }', { n: EVIL }],
      // The same input written into the document itself, as a literal.
      [`{ courses(filter: { search: ${JSON.stringify(EVIL)} }) { totalCount } brand(slug: ${JSON.stringify(EVIL)}) { id } }`],
    ];
    for (const [query, variables] of runs) {
      const res = await app.gql(brand.token, query, variables);
      expect(res.status).toBeLessThan(500);
    }
    const line = JSON.stringify({ type: 'VIEW', idempotencyKey: `${EVIL}-ndjson`, learnerExternalId: EVIL, occurredAt: at });
    const ingested = await app.http.post('/ingest').set('content-type', 'application/x-ndjson').set('authorization', `Bearer ${brand.token}`).send(line);
    expect(ingested.body.accepted).toBe(1);

    // The watch saw the work, and the input was stored (so it did travel to the database).
    expect(texts.length - before).toBeGreaterThan(30);
    const stored = await app.asBrand(brand.id, (m) => m.query(`select count(*)::int as n from learners where external_id = $1`, [EVIL]));
    expect(stored[0].n).toBe(1);
    expect(texts.filter((t) => t.includes(MARK))).toEqual([]);
  });
});
