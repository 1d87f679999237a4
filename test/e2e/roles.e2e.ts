import { READ_RULES, AUTHENTICATED } from '../../src/resolvers/read-rules';
import { effectiveRoles, Role } from '../../src/tenancy/roles';
import { activeAlliance } from '../support/alliances';
import { wsClient } from '../support/live';
import { codes, TestApp, TestBrand } from '../support/server';

/**
 * Every role against every type that implements Node (through `node(id)`,
 * its root field and over WebSocket) and every root query field: a role
 * reaches exactly what README's roles section says, on every path.
 */

const BRAND_ROLES = [Role.OWNER, Role.ADMIN, Role.EDITOR, Role.ANALYST, Role.INGEST];
const reads = (role: Role, type: string) => {
  const rule = READ_RULES[type];
  return rule === AUTHENTICATED || effectiveRoles([role]).has(rule as Role);
};

async function overWs(app: TestApp, token: string, query: string, variables: Record<string, unknown>) {
  const client = wsClient(app.server.url, token);
  try {
    return await new Promise<{ data?: any; errors?: any[] }>((resolve) => {
      client.subscribe({ query, variables }, { next: (r) => resolve(r as never), error: (e) => resolve({ errors: e as never }), complete: () => undefined });
    });
  } finally {
    await client.dispose();
  }
}

describe('roles on every path', () => {
  let app: TestApp;
  let a: TestBrand;
  const nodes: Record<string, string> = {};
  // The root field that reads each Node type by id, with its argument.
  const byRoot: Record<string, string> = {
    Course: 'course(id: $id) { id }',
    Learner: 'learner(id: $id) { id externalId }',
    Alliance: 'alliance(id: $id) { id name }',
    Campaign: 'campaign(id: $id) { id }',
    Settlement: 'settlement(id: $id) { id lines { amount { amountMinor } } }',
  };

  beforeAll(async () => {
    app = await TestApp.start();
    a = await app.brand('Role Owner');
    const b = await app.brand('Role Partner');
    nodes.Brand = a.id;
    nodes.Course = await app.course(a);
    const { allianceId, agreementId } = await activeAlliance(app, a, [b], [[a, 6000], [b, 4000]], '2025-01-01T00:00:00Z');
    nodes.Alliance = allianceId;
    nodes.Agreement = agreementId;
    const campaign = await app.ok(a.token, `mutation { createCampaign(input: { name: "C", kind: JOINT_MARKETING, startsAt: "2026-01-01T00:00:00Z", budget: { amountMinor: 100, currency: "USD" } }) { id } }`);
    nodes.Campaign = campaign.createCampaign.id;
    const creative = await app.ok(a.token, `mutation($c: ID!) { addCreative(campaignId: $c, input: { channel: EMAIL, headline: "H" }) { id } }`, { c: nodes.Campaign });
    nodes.Creative = creative.addCreative.id;
    await app.ok(a.token, `mutation { recordEvents(events: [{ type: IMPRESSION, idempotencyKey: "r1", learnerExternalId: "learner-secret", occurredAt: "2026-01-01T00:00:00Z" }]) { accepted } }`);
    nodes.Learner = (await app.sql(`select id from learners where tenant_id = $1`, [a.id]))[0].id;
    const settlement = await app.ok(a.token, `mutation($a: ID!) { runSettlement(input: { allianceId: $a, currency: "USD", periodStart: "2025-01-01T00:00:00Z", periodEnd: "2025-02-01T00:00:00Z" }) { id } }`, { a: allianceId });
    nodes.Settlement = settlement.runSettlement.id;
    nodes.ModelVersion = (await app.ok(a.token, `mutation { trainModel(kind: RECOMMENDER) { id } }`)).trainModel.id;
  });
  afterAll(() => app.stop());

  it('covers every type that implements Node', async () => {
    const schema = await app.ok(a.token, `{ __type(name: "Node") { possibleTypes { name } } }`);
    expect(schema.__type.possibleTypes.map((t: any) => t.name).sort()).toEqual(Object.keys(nodes).sort());
  });

  for (const role of [...BRAND_ROLES, Role.PLATFORM_ADMIN]) {
    it(`${role}: node(id), the typed root field and WebSocket agree with the read rules`, async () => {
      const token = role === Role.PLATFORM_ADMIN ? app.adminToken : app.token(a.id, [role]);
      for (const [type, id] of Object.entries(nodes)) {
        const query = `query($id: ID!) { node(id: $id) { id __typename } }`;
        const http = await app.gql(token, query, { id });
        const ws = await overWs(app, token, query, { id });
        // A platform admin has no brand: every brand's object is, to it, missing.
        const expected = role === Role.PLATFORM_ADMIN ? null : reads(role, type) ? { id, __typename: type } : null;
        for (const [path, result] of [['http', http], ['ws', ws]] as const) {
          expect({ role, type, path, node: result.data?.node ?? null }).toEqual({ role, type, path, node: expected });
          if (expected === null && role !== Role.PLATFORM_ADMIN) {
            expect({ role, type, path, codes: (result.errors ?? []).map((e: any) => e.extensions.code) }).toEqual({ role, type, path, codes: ['FORBIDDEN'] });
          }
        }
        if (byRoot[type]) {
          const root = await app.gql(token, `query($id: ID!) { ${byRoot[type]} }`, { id });
          const allowed = role !== Role.PLATFORM_ADMIN && reads(role, type);
          expect({ role, type, value: Object.values(root.data ?? {})[0] != null }).toEqual({ role, type, value: allowed });
          if (!allowed) expect({ role, type, codes: codes(root) }).toEqual({ role, type, codes: ['FORBIDDEN'] });
        }
      }
    });
  }

  it('INGEST reads its own identity and what recordEvents answers; ANALYST lists no API keys', async () => {
    const ingest = app.token(a.id, [Role.INGEST]);
    // Its own identity and public profile are readable, as the README says.
    expect((await app.ok(ingest, `{ me { subject roles brand { id name } } }`)).me.brand.id).toBe(a.id);
    const nested = await app.gql(ingest, `mutation { recordEvents(events: [{ type: IMPRESSION, idempotencyKey: "r2", learnerExternalId: "x", occurredAt: "2026-01-01T00:00:00Z" }]) { accepted rejected { code } } }`);
    expect(nested.data?.recordEvents.accepted).toBe(1);
    const analyst = app.token(a.id, [Role.ANALYST]);
    const keys = await app.gql(analyst, `{ apiKeys { id } }`);
    expect(codes(keys)).toEqual(['FORBIDDEN']);
  });

  // Root query fields by the least role that may call them; every field is listed (checked below).
  const ROOT: Record<string, { query: string; role: Role | 'ANY' }> = {
    me: { query: '{ me { subject } }', role: 'ANY' },
    node: { query: '{ node(id: "00000000-0000-4000-8000-000000000000") { id } }', role: 'ANY' },
    brand: { query: '{ brand(slug: "nobody-here") { id } }', role: 'ANY' },
    brands: { query: '{ brands(first: 1) { totalCount } }', role: 'ANY' },
    partnerSuggestions: { query: '{ partnerSuggestions(first: 1) { complementarity } }', role: Role.ANALYST },
    alliances: { query: '{ alliances { totalCount } }', role: Role.ANALYST },
    alliance: { query: '{ alliance(id: "00000000-0000-4000-8000-000000000000") { id } }', role: Role.ANALYST },
    courses: { query: '{ courses { totalCount } }', role: Role.ANALYST },
    course: { query: '{ course(id: "00000000-0000-4000-8000-000000000000") { id } }', role: Role.ANALYST },
    learners: { query: '{ learners { totalCount } }', role: Role.ANALYST },
    learner: { query: '{ learner(externalId: "x") { id } }', role: Role.ANALYST },
    campaigns: { query: '{ campaigns { totalCount } }', role: Role.ANALYST },
    campaign: { query: '{ campaign(id: "00000000-0000-4000-8000-000000000000") { id } }', role: Role.ANALYST },
    settlements: { query: '{ settlements(allianceId: "00000000-0000-4000-8000-000000000000") { totalCount } }', role: Role.ANALYST },
    settlement: { query: '{ settlement(id: "00000000-0000-4000-8000-000000000000") { id } }', role: Role.ANALYST },
    metrics: { query: '{ metrics { purchases } }', role: Role.ANALYST },
    metricsSeries: { query: '{ metricsSeries(from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z") { bucket } }', role: Role.ANALYST },
    apiKeys: { query: '{ apiKeys { id } }', role: Role.ADMIN },
    jobs: { query: '{ jobs { totalCount } }', role: Role.ADMIN },
    models: { query: '{ models { id status } }', role: Role.ANALYST },
    recommendCourses: { query: '{ recommendCourses(learnerId: "00000000-0000-4000-8000-000000000000") { score } }', role: Role.ANALYST },
    predictCtr: { query: '{ predictCtr(creativeId: "00000000-0000-4000-8000-000000000000", learnerIds: []) { probability } }', role: Role.ANALYST },
    bestCreative: {
      query: '{ bestCreative(campaignId: "00000000-0000-4000-8000-000000000000", learnerId: "00000000-0000-4000-8000-000000000000") { reason } }',
      role: Role.ANALYST,
    },
    segmentation: { query: '{ segmentation { k } }', role: Role.ANALYST },
    experiments: { query: '{ experiments { totalCount } }', role: Role.ANALYST },
    experiment: { query: '{ experiment(id: "00000000-0000-4000-8000-000000000000") { id } }', role: Role.ANALYST },
    extractDemands: { query: '{ extractDemands(text: "") { model } }', role: Role.ANALYST },
    demandTrends: { query: '{ demandTrends(first: 1) { demand } }', role: Role.ANALYST },
    lifecycleSettings: { query: '{ lifecycleSettings { newDays } }', role: Role.ANALYST },
    emailSettings: { query: '{ emailSettings { weeklyCap } }', role: Role.ANALYST },
    emailTemplates: { query: '{ emailTemplates { id } }', role: Role.ANALYST },
    emailTemplate: { query: '{ emailTemplate(id: "00000000-0000-4000-8000-000000000000") { id } }', role: Role.ANALYST },
    previewTemplate: {
      query: '{ previewTemplate(id: "00000000-0000-4000-8000-000000000000", learnerId: "00000000-0000-4000-8000-000000000000") { subject } }',
      role: Role.EDITOR,
    },
    journeys: { query: '{ journeys { id } }', role: Role.ANALYST },
    journey: { query: '{ journey(id: "00000000-0000-4000-8000-000000000000") { id } }', role: Role.ANALYST },
    journeyReport: { query: '{ journeyReport(journeyId: "00000000-0000-4000-8000-000000000000") { method } }', role: Role.ANALYST },
    loyaltyProgram: { query: '{ loyaltyProgram(allianceId: "00000000-0000-4000-8000-000000000000") { id } }', role: Role.ANALYST },
    funnel: { query: '{ funnel(from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z") { marketSize } }', role: Role.ANALYST },
    suggestBudget: { query: '{ suggestBudget(campaignIds: [], total: { amountMinor: 100, currency: "USD" }) { method } }', role: Role.ANALYST },
    allianceImpact: {
      query: '{ allianceImpact(allianceId: "00000000-0000-4000-8000-000000000000", from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z") { bucket } }',
      role: Role.ANALYST,
    },
  };

  it('every root query field is in the table above', async () => {
    const schema = await app.ok(a.token, `{ __schema { queryType { fields { name } } } }`);
    const built = schema.__schema.queryType.fields.map((f: any) => f.name).sort();
    expect(built).toEqual(Object.keys(ROOT).sort());
  });

  it('each role may call exactly the root fields its roles allow', async () => {
    const outcomes: string[] = [];
    for (const role of [...BRAND_ROLES, Role.PLATFORM_ADMIN]) {
      const token = role === Role.PLATFORM_ADMIN ? app.adminToken : app.token(a.id, [role]);
      for (const [field, { query, role: needed }] of Object.entries(ROOT)) {
        const result = await app.gql(token, query);
        const allowed = needed === 'ANY' || effectiveRoles([role]).has(needed);
        const got = codes(result);
        // A platform admin passes role checks of brand fields only to find it has no brand (FORBIDDEN as well).
        const ok = allowed ? !got.includes('FORBIDDEN') : got.includes('FORBIDDEN');
        if (!ok) outcomes.push(`${role} ${field}: expected ${allowed ? 'allowed' : 'FORBIDDEN'}, got ${JSON.stringify(got)}`);
      }
    }
    expect(outcomes).toEqual([]);
  });
});

describe('in production, every transport hides the schema', () => {
  let app: TestApp;
  let brand: TestBrand;

  beforeAll(async () => {
    app = await TestApp.start({ NODE_ENV: 'production', ALLIED_DEMO: 'false', ALLIED_TRACKING_SECRET: 'roles-test-tracking-secret-0123456789abcdef' });
    brand = await app.brand('Prod Brand');
  });
  afterAll(() => app.stop());

  it('refuses introspection over HTTP and WebSocket for every credential, and suggests no field names', async () => {
    const introspect = '{ __schema { types { name } } }';
    for (const token of [brand.token, app.token(brand.id, [Role.INGEST]), app.adminToken]) {
      const http = await app.gql(token, introspect);
      expect(http.data?.__schema).toBeUndefined();
      expect([...new Set(codes(http))]).toEqual(['BAD_USER_INPUT']);
      const ws = await overWs(app, token, introspect, {});
      expect(ws.data?.__schema).toBeUndefined();
      expect([...new Set((ws.errors ?? []).map((e: any) => e.extensions.code))]).toEqual(['BAD_USER_INPUT']);
    }
    for (const token of [null, brand.token]) {
      const typo = await app.gql(token, '{ course { id } }'.replace('course', 'coursez'));
      expect(codes(typo)).toEqual(['BAD_USER_INPUT']);
      expect(JSON.stringify(typo.errors)).not.toMatch(/Did you mean/);
    }
    const wsTypo = await overWs(app, brand.token, '{ coursez { id } }', {});
    expect(JSON.stringify(wsTypo.errors)).not.toMatch(/Did you mean|courses/);
  });
});
