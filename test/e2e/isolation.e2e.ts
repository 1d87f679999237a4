import crypto from 'node:crypto';
import fc from 'fast-check';
import { APP_ROLE } from '../../src/db/data-source';
import { Role } from '../../src/tenancy/roles';
import { codes, TestApp, type TestBrand } from '../support/server';

/**
 * Brand A must not read, list, update or even detect brand B's courses,
 * learners or keys: B's ids behave exactly like ids that do not exist.
 */
describe('tenant isolation', () => {
  let app: TestApp;
  let a: TestBrand;
  let b: TestBrand;
  let bCourse: string;
  let bLearner: string;
  let bKey: string;

  beforeAll(async () => {
    app = await TestApp.start();
    a = await app.brand('Alpha Academy');
    b = await app.brand('Beta Club', 'SPORTS_ORGANIZATION');
    await app.course(a, { title: 'Alpha Python', topics: ['python'] });
    bCourse = await app.course(b, { title: 'Beta Secret Python', topics: ['python', 'secret'] });
    bLearner = crypto.randomUUID();
    await app.asBrand(b.id, (m) =>
      m.query(`insert into learners (tenant_id, id, external_id, segment) values ($1, $2, 'beta-learner-1', 'vip')`, [
        b.id,
        bLearner,
      ]),
    );
    const key = await app.ok(b.token, `mutation { createApiKey(name: "beta ingest", roles: [INGEST]) { id } }`);
    bKey = key.createApiKey.id;
  });

  afterAll(() => app.stop());

  const missing = () => crypto.randomUUID();

  it('reads of B ids answer exactly as reads of random ids', async () => {
    for (const [query, field] of [
      ['query($id: ID!) { course(id: $id) { id title } }', 'course'],
      ['query($id: ID!) { node(id: $id) { id } }', 'node'],
      ['query($id: ID) { learner(id: $id) { id } }', 'learner'],
    ] as const) {
      for (const id of [bCourse, bLearner, b.id]) {
        const foreign = await app.gql(a.token, query, { id });
        const random = await app.gql(a.token, query, { id: missing() });
        expect(foreign).toEqual(random);
        expect(foreign.data?.[field]).toBeNull();
      }
    }
    const byExternal = await app.gql(a.token, '{ learner(externalId: "beta-learner-1") { id } }');
    expect(byExternal.data?.learner).toBeNull();
  });

  it('writes to B ids fail exactly as writes to random ids, and change nothing', async () => {
    const update = 'mutation($id: ID!) { updateCourse(id: $id, input: { title: "hijacked" }) { id } }';
    const foreign = await app.gql(a.token, update, { id: bCourse });
    const random = await app.gql(a.token, update, { id: missing() });
    expect(codes(foreign)).toEqual(['NOT_FOUND']);
    expect(foreign.errors?.[0].message).toBe(random.errors?.[0].message);

    const revoke = 'mutation($id: ID!) { revokeApiKey(id: $id) }';
    const foreignRevoke = await app.gql(a.token, revoke, { id: bKey });
    const randomRevoke = await app.gql(a.token, revoke, { id: missing() });
    expect(codes(foreignRevoke)).toEqual(['NOT_FOUND']);
    expect(foreignRevoke.errors?.[0].message).toBe(randomRevoke.errors?.[0].message);

    const still = await app.ok(b.token, 'query($id: ID!) { course(id: $id) { title } }', { id: bCourse });
    expect(still.course.title).toBe('Beta Secret Python');
    const keys = await app.ok(b.token, '{ apiKeys { id revokedAt } }');
    expect(keys.apiKeys).toEqual([{ id: bKey, revokedAt: null }]);
  });

  it('lists, searches and filters show only the caller\'s rows', async () => {
    const courses = await app.ok(a.token, `{
      all: courses(first: 100) { totalCount edges { node { title owner { id } } } }
      search: courses(filter: { search: "Secret" }) { totalCount }
      topic: courses(filter: { topic: "secret" }) { totalCount }
      partners: courses(filter: { scope: PARTNERS }) { totalCount edges { node { owner { id } } } }
    }`);
    expect(courses.all.totalCount).toBe(1);
    expect(courses.all.edges.map((e: any) => e.node.owner.id)).toEqual([a.id]);
    expect(courses.search.totalCount).toBe(0);
    expect(courses.topic.totalCount).toBe(0);
    expect(courses.partners.edges.every((e: any) => e.node.owner.id === a.id)).toBe(true);

    const learners = await app.ok(a.token, '{ learners { totalCount } vip: learners(segment: "vip") { totalCount } }');
    expect(learners).toEqual({ learners: { totalCount: 0 }, vip: { totalCount: 0 } });
    const keys = await app.ok(a.token, '{ apiKeys { id } }');
    expect(keys.apiKeys).toEqual([]);
  });

  it("an API key works only for its own brand's data", async () => {
    const created = await app.ok(b.token, `mutation { createApiKey(name: "beta analyst", roles: [ANALYST]) { secret } }`);
    const secret = created.createApiKey.secret as string;
    const seen = await app.ok(secret, '{ courses { edges { node { id } } } me { brand { id } } }');
    expect(seen.me.brand.id).toBe(b.id);
    expect(seen.courses.edges.map((e: any) => e.node.id)).toEqual([bCourse]);
    // A key with a tampered brand part no longer matches its hash.
    const raw = Buffer.from(secret.slice('allied_'.length), 'base64url');
    Buffer.from(a.id.replace(/-/g, ''), 'hex').copy(raw, 0);
    const forged = `allied_${raw.toString('base64url')}`;
    expect(codes(await app.gql(forged, '{ me { subject } }'))).toEqual(['UNAUTHENTICATED']);
  });

  it('a brand cannot update another brand\'s profile', async () => {
    await app.ok(a.token, 'mutation { updateBrand(input: { name: "Alpha Renamed" }) { id } }');
    const beta = await app.ok(a.token, 'query($id: ID) { brand(id: $id) { name } }', { id: b.id });
    expect(beta.brand.name).toBe('Beta Club');
  });

  describe('at the SQL level, as the application role', () => {
    const asApp = async <T>(tenant: string | null, sql: string, params: unknown[] = []): Promise<T[]> => {
      const runner = app.db.dataSource.createQueryRunner();
      await runner.connect();
      try {
        await runner.startTransaction();
        await runner.query(`select set_config('role', $1, true)`, [APP_ROLE]);
        if (tenant) await runner.query(`select set_config('app.tenant_id', $1, true)`, [tenant]);
        return await runner.query(sql, params);
      } finally {
        await runner.rollbackTransaction().catch(() => undefined);
        await runner.release();
      }
    };

    it('the role owns nothing and cannot bypass row-level security', async () => {
      const [role] = await app.sql(`select rolsuper, rolbypassrls from pg_roles where rolname = $1`, [APP_ROLE]);
      expect(role).toEqual({ rolsuper: false, rolbypassrls: false });
      const owned = await app.sql(
        `select c.relname from pg_class c join pg_roles r on r.oid = c.relowner where r.rolname = $1`,
        [APP_ROLE],
      );
      expect(owned).toEqual([]);
      const unforced = await app.sql(
        `select relname from pg_class where relname in ('brands','api_keys','courses','learners')
         and not (relrowsecurity and relforcerowsecurity)`,
      );
      expect(unforced).toEqual([]);
    });

    it("tenant A's setting sees no B rows", async () => {
      for (const table of ['courses', 'learners', 'api_keys']) {
        const rows = await asApp<{ tenant_id: string }>(a.id, `select tenant_id from ${table}`);
        expect(rows.every((r) => r.tenant_id === a.id)).toBe(true);
        const direct = await asApp(a.id, `select 1 from ${table} where tenant_id = $1`, [b.id]);
        expect(direct).toEqual([]);
      }
    });

    it('no setting sees no rows', async () => {
      for (const table of ['courses', 'learners', 'api_keys']) {
        expect(await asApp(null, `select * from ${table}`)).toEqual([]);
      }
    });

    it('inserting a row for another tenant fails', async () => {
      await expect(
        asApp(a.id, `insert into courses (tenant_id, id, title, level, format, price_minor, currency)
                     values ($1, gen_random_uuid(), 'x', 'BEGINNER', 'VIDEO', 1, 'USD')`, [b.id]),
      ).rejects.toThrow(/row-level security/);
      await expect(
        asApp(a.id, `update courses set title = 'x' where tenant_id = $1 returning id`, [b.id]),
      ).resolves.toEqual([[], 0]);
      await expect(
        asApp(a.id, `insert into brands (id, slug, name, kind) values (gen_random_uuid(), 'sneaky', 'x', 'OTHER')`),
      ).rejects.toThrow(/row-level security/);
    });
  });

  it('property: every brand sees exactly the courses it created, whatever the interleaving', async () => {
    const brands = [a, b, await app.brand('Gamma Press', 'PUBLISHER')];
    const before = await Promise.all(brands.map((x) => listIds(x)));
    const created: Set<string>[] = brands.map((_x, i) => new Set(before[i]));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat({ max: brands.length - 1 }), { minLength: 1, maxLength: 6 }), async (owners) => {
        const ids = await Promise.all(owners.map((i) => app.course(brands[i], { title: `P ${i}` })));
        owners.forEach((i, k) => created[i].add(ids[k]));
        const seen = await Promise.all(brands.map((x) => listIds(x)));
        seen.forEach((ids2, i) => expect(new Set(ids2)).toEqual(created[i]));
      }),
      { numRuns: 15 },
    );
  });

  async function listIds(brand: TestBrand): Promise<string[]> {
    const ids: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: any = await app.ok(brand.token, 'query($after: String) { courses(first: 100, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }', { after });
      ids.push(...page.courses.edges.map((e: any) => e.node.id));
      if (!page.courses.pageInfo.hasNextPage) return ids;
      after = page.courses.pageInfo.endCursor;
    }
  }

  it('roles: an INGEST key reads nothing; ANALYST reads but cannot write', async () => {
    const ingest = app.token(a.id, [Role.INGEST]);
    expect(codes(await app.gql(ingest, '{ courses { totalCount } }'))).toEqual(['FORBIDDEN']);
    const analyst = app.token(a.id, [Role.ANALYST]);
    expect((await app.ok(analyst, '{ courses { totalCount } }')).courses.totalCount).toBeGreaterThan(0);
    const write = await app.gql(analyst, 'mutation { createCourse(input: { title: "x", topics: [], level: BEGINNER, format: VIDEO, price: { amountMinor: 1, currency: "USD" } }) { id } }');
    expect(codes(write)).toEqual(['FORBIDDEN']);
  });
});
