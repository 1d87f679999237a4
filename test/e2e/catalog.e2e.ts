import crypto from 'node:crypto';
import { Role } from '../../src/tenancy/roles';
import { codes, TestApp, type TestBrand } from '../support/server';

const CREATE_COURSE = `mutation($input: CreateCourseInput!) {
  createCourse(input: $input) { id title topics level format status price { amountMinor currency } owner { id name } createdAt }
}`;

const courseInput = (over: Record<string, unknown> = {}) => ({
  title: 'Strength Training 101',
  topics: ['fitness', 'strength'],
  level: 'BEGINNER',
  format: 'VIDEO',
  price: { amountMinor: 4900, currency: 'USD' },
  ...over,
});

describe('brands, API keys and courses', () => {
  let app: TestApp;
  let brand: TestBrand;

  beforeAll(async () => {
    app = await TestApp.start();
    brand = await app.brand('Peak Learning', 'KNOWLEDGE_PLATFORM', { content: 0.8 });
  });
  afterAll(() => app.stop());

  describe('credentials', () => {
    it('asks for a credential, and rejects malformed headers', async () => {
      expect(codes(await app.gql(null, '{ me { subject } }'))).toEqual(['UNAUTHENTICATED']);
      const res = await app.http.post('/graphql').set('authorization', 'Token abc').send({ query: '{ me { subject } }' });
      expect(res.status).toBe(401);
      expect(res.body.errors[0].extensions).toEqual({ code: 'UNAUTHENTICATED' });
    });

    it('me tells the caller who it is', async () => {
      const me = await app.ok(brand.token, '{ me { subject roles brand { id slug name kind resources } } }');
      expect(me.me).toEqual({
        subject: 'test-owner',
        roles: ['OWNER'],
        brand: { id: brand.id, slug: brand.slug, name: 'Peak Learning', kind: 'KNOWLEDGE_PLATFORM', resources: { content: 0.8 } },
      });
      const admin = await app.ok(app.adminToken, '{ me { roles brand { id } } }');
      expect(admin.me).toEqual({ roles: ['PLATFORM_ADMIN'], brand: null });
    });

    it('an expired token, or one for a brand that does not exist, is UNAUTHENTICATED', async () => {
      const expired = app.token(brand.id, [Role.OWNER], -60);
      const res = await app.gql(expired, '{ me { subject } }');
      expect(res.status).toBe(401);
      expect(res.errors?.[0].message).toMatch(/expired/);
      const ghost = app.token('00000000-0000-4000-8000-000000000000', [Role.OWNER]);
      expect(codes(await app.gql(ghost, '{ courses { totalCount } }'))).toEqual(['UNAUTHENTICATED']);
    });
  });

  describe('brands', () => {
    const CREATE_BRAND = 'mutation($input: CreateBrandInput!) { createBrand(input: $input) { id slug name kind resources description createdAt } }';

    it('only a platform admin creates brands', async () => {
      const input = { slug: 'not-allowed', name: 'Nope', kind: 'OTHER' };
      expect(codes(await app.gql(brand.token, CREATE_BRAND, { input }))).toEqual(['FORBIDDEN']);
      const created = await app.ok(app.adminToken, CREATE_BRAND, { input: { ...input, slug: 'allowed-one' } });
      expect(created.createBrand).toMatchObject({ slug: 'allowed-one', name: 'Nope', kind: 'OTHER', resources: {}, description: null });
      expect(new Date(created.createBrand.createdAt).toISOString()).toBe(created.createBrand.createdAt);
    });

    it('a taken slug is a CONFLICT; bad slugs, names and resources are BAD_USER_INPUT', async () => {
      const dup = await app.gql(app.adminToken, CREATE_BRAND, { input: { slug: brand.slug, name: 'Dup', kind: 'OTHER' } });
      expect(codes(dup)).toEqual(['CONFLICT']);
      expect(dup.errors?.[0].message).toContain(brand.slug);
      for (const input of [
        { slug: 'Upper-Case', name: 'x', kind: 'OTHER' },
        { slug: '-leading', name: 'x', kind: 'OTHER' },
        { slug: 'a', name: 'x', kind: 'OTHER' },
        { slug: 'x'.repeat(64), name: 'x', kind: 'OTHER' },
        { slug: 'fine-slug', name: '   ', kind: 'OTHER' },
        { slug: 'fine-slug', name: 'x'.repeat(201), kind: 'OTHER' },
        { slug: 'fine-slug', name: 'x', kind: 'OTHER', resources: { content: 1.5 } },
        { slug: 'fine-slug', name: 'x', kind: 'OTHER', resources: ['content'] },
        { slug: 'fine-slug', name: 'x', kind: 'OTHER', resources: { content: 'lots' } },
      ]) {
        const res = await app.gql(app.adminToken, CREATE_BRAND, { input });
        expect({ input, codes: codes(res) }).toEqual({ input, codes: ['BAD_USER_INPUT'] });
      }
      const count = await app.sql(`select count(*)::int as n from brands where slug = 'fine-slug'`);
      expect(count[0].n).toBe(0);
    });

    it('brands lists public profiles by name, filters by kind and searches', async () => {
      await app.brand('Zeta Sponsors', 'SPONSOR');
      await app.brand('100% Athletes_Club', 'ATHLETE');
      const res = await app.ok(brand.token, `{
        all: brands(first: 100) { totalCount edges { node { name } } }
        sponsors: brands(kind: SPONSOR) { edges { node { name kind } } }
        search: brands(search: "peak") { edges { node { id } } }
        literal: brands(search: "100%") { edges { node { name } } }
        underscore: brands(search: "k_l") { totalCount }
      }`);
      const names = res.all.edges.map((e: any) => e.node.name);
      expect(names).toEqual([...names].sort((x: string, y: string) => x.toLowerCase().localeCompare(y.toLowerCase())));
      expect(res.all.totalCount).toBe(names.length);
      expect(res.sponsors.edges).toEqual([{ node: { name: 'Zeta Sponsors', kind: 'SPONSOR' } }]);
      expect(res.search.edges).toEqual([{ node: { id: brand.id } }]);
      expect(res.literal.edges).toEqual([{ node: { name: '100% Athletes_Club' } }]);
      expect(res.underscore.totalCount).toBe(0);
    });

    it('brand(id | slug) returns a profile; exactly one of them is required', async () => {
      const bySlug = await app.ok(app.adminToken, 'query($slug: String) { brand(slug: $slug) { id name } }', { slug: brand.slug });
      expect(bySlug.brand).toEqual({ id: brand.id, name: 'Peak Learning' });
      const none = await app.ok(brand.token, '{ brand(slug: "no-such-brand") { id } }');
      expect(none.brand).toBeNull();
      expect(codes(await app.gql(brand.token, '{ brand { id } }'))).toEqual(['BAD_USER_INPUT']);
    });

    it('OWNER and ADMIN update their own brand; EDITOR may not', async () => {
      const admin = app.token(brand.id, [Role.ADMIN]);
      const updated = await app.ok(admin, 'mutation { updateBrand(input: { description: "Peak courses", resources: { content: 0.9, channels: 0.3 } }) { name description resources } }');
      expect(updated.updateBrand).toEqual({ name: 'Peak Learning', description: 'Peak courses', resources: { content: 0.9, channels: 0.3 } });
      const editor = app.token(brand.id, [Role.EDITOR]);
      expect(codes(await app.gql(editor, 'mutation { updateBrand(input: { name: "X" }) { id } }'))).toEqual(['FORBIDDEN']);
      expect(codes(await app.gql(app.adminToken, 'mutation { updateBrand(input: { name: "X" }) { id } }'))).toEqual(['FORBIDDEN']);
    });
  });

  describe('API keys', () => {
    it('are shown once, usable as bearer tokens, listed without secrets, and revocable', async () => {
      const created = await app.ok(brand.token, 'mutation { createApiKey(name: " catalog reader ", roles: [ANALYST, ANALYST]) { id name roles secret } }');
      const key = created.createApiKey;
      expect(key).toMatchObject({ name: 'catalog reader', roles: ['ANALYST'] });
      expect(key.secret).toMatch(/^allied_[A-Za-z0-9_-]{70,}$/);

      const me = await app.ok(key.secret, '{ me { subject roles brand { id } } }');
      expect(me.me).toEqual({ subject: `api-key:${key.id}`, roles: ['ANALYST'], brand: { id: brand.id } });
      const stored = await app.sql('select secret_hash from api_keys where id = $1', [key.id]);
      expect(stored[0].secret_hash.toString('utf8')).not.toContain(key.secret.slice(10, 30));

      const listed = await app.ok(brand.token, '{ apiKeys { id name roles createdBy revokedAt } }');
      expect(listed.apiKeys).toContainEqual({ id: key.id, name: 'catalog reader', roles: ['ANALYST'], createdBy: 'test-owner', revokedAt: null });
      expect(JSON.stringify(listed)).not.toContain(key.secret);

      expect((await app.ok(brand.token, 'mutation($id: ID!) { revokeApiKey(id: $id) }', { id: key.id })).revokeApiKey).toBe(true);
      expect((await app.ok(brand.token, 'mutation($id: ID!) { revokeApiKey(id: $id) }', { id: key.id })).revokeApiKey).toBe(true);
      const after = await app.gql(key.secret, '{ me { subject } }');
      expect(after.status).toBe(401);
      expect(codes(after)).toEqual(['UNAUTHENTICATED']);
    });

    it('are stored as an HMAC under the server key; a key stored by plain SHA-256 still works and is re-stored keyed', async () => {
      const created = await app.ok(brand.token, 'mutation { createApiKey(name: "hashed", roles: [ANALYST]) { id secret } }');
      const { id, secret } = created.createApiKey;
      const sha256 = crypto.createHash('sha256').update(secret).digest();
      const [row] = await app.sql('select secret_hash from api_keys where id = $1', [id]);
      // Neither the secret's plain digest nor anything computable without the server's key.
      expect(row.secret_hash.equals(sha256)).toBe(false);
      expect(row.secret_hash.length).toBe(32);

      // A key from before hashes were keyed.
      await app.sql('update api_keys set secret_hash = $2 where id = $1', [id, sha256]);
      expect((await app.ok(secret, '{ me { subject } }')).me.subject).toBe(`api-key:${id}`);
      const [upgraded] = await app.sql('select secret_hash from api_keys where id = $1', [id]);
      expect(upgraded.secret_hash).toEqual(row.secret_hash);
      expect((await app.ok(secret, '{ me { subject } }')).me.subject).toBe(`api-key:${id}`);
    });

    it('never grant more than the creator holds, nor PLATFORM_ADMIN', async () => {
      const admin = app.token(brand.id, [Role.ADMIN]);
      expect(codes(await app.gql(admin, 'mutation { createApiKey(name: "k", roles: [OWNER]) { id } }'))).toEqual(['FORBIDDEN']);
      expect(codes(await app.gql(brand.token, 'mutation { createApiKey(name: "k", roles: [PLATFORM_ADMIN]) { id } }'))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await app.gql(brand.token, 'mutation { createApiKey(name: "k", roles: []) { id } }'))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await app.gql(brand.token, 'mutation { createApiKey(name: "", roles: [INGEST]) { id } }'))).toEqual(['BAD_USER_INPUT']);
      const editor = app.token(brand.id, [Role.EDITOR]);
      expect(codes(await app.gql(editor, 'mutation { createApiKey(name: "k", roles: [INGEST]) { id } }'))).toEqual(['FORBIDDEN']);
      expect(codes(await app.gql(editor, '{ apiKeys { id } }'))).toEqual(['FORBIDDEN']);
    });
  });

  describe('courses', () => {
    it('an EDITOR creates a DRAFT course owned by its brand', async () => {
      const editor = app.token(brand.id, [Role.EDITOR]);
      const res = await app.ok(editor, CREATE_COURSE, { input: courseInput({ topics: [' fitness', 'fitness ', 'strength'] }) });
      expect(res.createCourse).toMatchObject({
        title: 'Strength Training 101',
        topics: ['fitness', 'strength'],
        level: 'BEGINNER',
        format: 'VIDEO',
        status: 'DRAFT',
        price: { amountMinor: 4900, currency: 'USD' },
        owner: { id: brand.id, name: 'Peak Learning' },
      });
      const read = await app.ok(editor, 'query($id: ID!) { course(id: $id) { id } node(id: $id) { __typename ... on Course { title } } }', { id: res.createCourse.id });
      expect(read).toEqual({ course: { id: res.createCourse.id }, node: { __typename: 'Course', title: 'Strength Training 101' } });
    });

    it('rejects bad input with BAD_USER_INPUT naming the field, and stores nothing', async () => {
      const before = (await app.sql('select count(*)::int as n from courses'))[0].n;
      const cases: [Record<string, unknown>, RegExp][] = [
        [{ title: '' }, /title/],
        [{ title: ' \t ' }, /title must not be blank/],
        [{ title: 'x'.repeat(201) }, /title/],
        [{ description: 'x'.repeat(5001) }, /description/],
        [{ topics: Array.from({ length: 21 }, (_, i) => `t${i}`) }, /at most 20/],
        [{ topics: [''] }, /topic/],
        [{ price: { amountMinor: -1, currency: 'USD' } }, /amountMinor must not be negative/],
        [{ price: { amountMinor: 100, currency: 'usd' } }, /ISO 4217/],
        [{ price: { amountMinor: 100, currency: 'ABC' } }, /ISO 4217/],
        [{ price: { amountMinor: 2 ** 53, currency: 'USD' } }, /SafeInt|safe/i],
        [{ price: { amountMinor: 1.5, currency: 'USD' } }, /SafeInt|integer/i],
        [{ level: 'EXPERT' }, /level|EXPERT/],
      ];
      for (const [over, message] of cases) {
        const res = await app.gql(brand.token, CREATE_COURSE, { input: courseInput(over) });
        expect({ over, codes: codes(res) }).toEqual({ over, codes: ['BAD_USER_INPUT'] });
        expect(res.errors?.[0].message).toMatch(message);
        expect(JSON.stringify(res.errors)).not.toMatch(/constraint|stack|select|insert/i);
      }
      expect((await app.sql('select count(*)::int as n from courses'))[0].n).toBe(before);
    });

    it('a joint course needs an alliance the caller belongs to', async () => {
      const res = await app.gql(brand.token, CREATE_COURSE, { input: courseInput({ allianceId: '0b7c2d3e-9a8b-4c1d-9e2f-3a4b5c6d7e8f' }) });
      expect(codes(res)).toEqual(['NOT_FOUND']);
    });

    it('updateCourse changes only the given fields', async () => {
      const id = await app.course(brand, { title: 'Before', topics: ['a'] });
      const res = await app.ok(brand.token, 'mutation($id: ID!) { updateCourse(id: $id, input: { status: PUBLISHED, price: { amountMinor: 0, currency: "CNY" } }) { title topics status price { amountMinor currency } } }', { id });
      expect(res.updateCourse).toEqual({ title: 'Before', topics: ['a'], status: 'PUBLISHED', price: { amountMinor: 0, currency: 'CNY' } });
      const bad = await app.gql(brand.token, 'mutation($id: ID!) { updateCourse(id: $id, input: { title: "" }) { id } }', { id });
      expect(codes(bad)).toEqual(['BAD_USER_INPUT']);
      expect(codes(await app.gql(brand.token, 'mutation { updateCourse(id: "not-a-uuid", input: { title: "x" }) { id } }'))).toEqual(['NOT_FOUND']);
    });

    it('a mutation operation with any error stores nothing, so it can be retried whole', async () => {
      const res = await app.gql(brand.token, `mutation {
        first: createCourse(input: { title: "Not kept", topics: [], level: ADVANCED, format: LIVE, price: { amountMinor: 1, currency: "EUR" } }) { id }
        second: updateCourse(id: "6f1c2d3e-9a8b-4c1d-9e2f-3a4b5c6d7e8f", input: { title: "x" }) { id }
      }`);
      expect(res.data).toBeNull();
      expect(codes(res)).toEqual(['NOT_FOUND']);
      const stored = await app.sql(`select count(*)::int as n from courses where title = 'Not kept'`);
      expect(stored[0].n).toBe(0);
      const both = await app.ok(brand.token, `mutation {
        a: createCourse(input: { title: "Kept A", topics: [], level: ADVANCED, format: LIVE, price: { amountMinor: 1, currency: "EUR" } }) { id }
        b: createCourse(input: { title: "Kept B", topics: [], level: ADVANCED, format: LIVE, price: { amountMinor: 1, currency: "EUR" } }) { id }
      }`);
      expect((await app.sql(`select count(*)::int as n from courses where id = any($1)`, [[both.a.id, both.b.id]]))[0].n).toBe(2);
    });

    it('paginates with opaque cursors, newest first, capped at 100', async () => {
      const other = await app.brand('Pager Co');
      const made: string[] = [];
      for (let i = 0; i < 7; i++) made.push(await app.course(other, { title: `Course ${i}` }));
      const seen: string[] = [];
      let after: string | null = null;
      let pages = 0;
      for (;;) {
        const res: any = await app.ok(other.token, 'query($after: String) { courses(first: 3, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }', { after });
        pages++;
        expect(res.courses.totalCount).toBe(7);
        seen.push(...res.courses.edges.map((e: any) => e.node.id));
        expect(res.courses.pageInfo.endCursor).toBe(res.courses.edges.at(-1)?.cursor ?? null);
        if (!res.courses.pageInfo.hasNextPage) break;
        after = res.courses.pageInfo.endCursor;
      }
      expect(pages).toBe(3);
      expect(seen).toEqual([...made].reverse());

      const defaults = await app.ok(other.token, '{ courses(first: null) { edges { node { id } } } }');
      expect(defaults.courses.edges).toHaveLength(7);
      expect(codes(await app.gql(other.token, '{ courses(first: 101) { totalCount } }'))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await app.gql(other.token, '{ courses(first: -1) { totalCount } }'))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await app.gql(other.token, '{ courses(after: "garbage") { totalCount } }'))).toEqual(['BAD_USER_INPUT']);
      const learnerCursor = Buffer.from(JSON.stringify(['learners', '2026-01-01T00:00:00.000Z', made[0]])).toString('base64url');
      expect(codes(await app.gql(other.token, 'query($a: String) { courses(after: $a) { totalCount } }', { a: learnerCursor }))).toEqual(['BAD_USER_INPUT']);
    });

    it('filters by status, topic and search', async () => {
      const f = await app.brand('Filter Co');
      const py = await app.course(f, { title: 'Python for Analysts', topics: ['python', 'data'] });
      await app.course(f, { title: 'Football Tactics', topics: ['football'], description: 'Pressing and python-like passing' });
      await app.ok(f.token, 'mutation($id: ID!) { updateCourse(id: $id, input: { status: PUBLISHED }) { id } }', { id: py });
      const res = await app.ok(f.token, `{
        published: courses(filter: { status: PUBLISHED }) { edges { node { id } } }
        topic: courses(filter: { topic: "data" }) { edges { node { id } } }
        search: courses(filter: { search: "PYTHON" }) { totalCount }
        own: courses(filter: { scope: OWN }) { totalCount }
      }`);
      expect(res.published.edges).toEqual([{ node: { id: py } }]);
      expect(res.topic.edges).toEqual([{ node: { id: py } }]);
      expect(res.search.totalCount).toBe(2);
      expect(res.own.totalCount).toBe(2);
    });
  });

  describe('learners', () => {
    it('lists none for a new brand and needs exactly one of id and externalId', async () => {
      const res = await app.ok(brand.token, '{ learners { totalCount edges { node { id } } pageInfo { hasNextPage endCursor } } }');
      expect(res.learners).toEqual({ totalCount: 0, edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
      expect(codes(await app.gql(brand.token, '{ learner { id } }'))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await app.gql(brand.token, '{ learner(id: "a", externalId: "b") { id } }'))).toEqual(['BAD_USER_INPUT']);
    });
  });
});
