import { activeAlliance, propose, Q } from '../support/alliances';
import { memoryLogger, TestApp, type TestBrand } from '../support/server';
import { RECORD, runSettlement } from '../support/settlements';

/**
 * Field resolvers load through per-request DataLoaders: however many parents
 * a list has, each loader runs one batch per level, with every key at once.
 * Each batch is logged at debug level with its loader and key count; these
 * tests read that record back for one request at a time.
 */
describe('DataLoader batches', () => {
  const logged = memoryLogger('debug');
  let app: TestApp;
  let a: TestBrand;
  let b: TestBrand;
  let c: TestBrand;
  let allianceId: string;

  /** The loader batches one request ran: loader name → key count of each batch. */
  async function batchesOf(token: string, query: string, variables?: Record<string, unknown>) {
    const res = await app.http.post('/graphql').set('authorization', `Bearer ${token}`).send({ query, variables });
    expect(res.body.errors).toBeUndefined();
    const requestId = res.headers['x-request-id'];
    const batches: Record<string, number[]> = {};
    for (const line of logged.lines) {
      if (line.requestId === requestId && line.msg === 'loader batch') (batches[line.loader] ??= []).push(line.keys);
    }
    return { data: res.body.data, batches };
  }

  beforeAll(async () => {
    app = await TestApp.start({}, { logger: logged.logger });
    a = await app.brand('Batch Academy');
    b = await app.brand('Batch Club', 'SPORTS_ORGANIZATION');
    c = await app.brand('Batch Sponsor', 'SPONSOR');
    ({ allianceId } = await activeAlliance(app, a, [b, c], [[a, 5000], [b, 3000], [c, 2000]], '2025-01-01T00:00:00Z'));
    const v2 = await propose(app, a, allianceId, [[a, 4000], [b, 4000], [c, 2000]], '2025-02-01T00:00:00Z');
    for (const x of [b, c]) await app.ok(x.token, Q.accept, { id: v2.id });
    const joint = await app.course(a, { title: 'Joint batch course', allianceId });
    for (const [key, at] of [['jan', '2025-01-10T10:00:00Z'], ['feb', '2025-02-10T10:00:00Z']]) {
      await app.ok(a.token, RECORD, {
        events: [{ idempotencyKey: key, type: 'PURCHASE', learnerExternalId: `l-${key}`, occurredAt: at, courseId: joint, amount: { amountMinor: 1000, currency: 'USD' } }],
      });
    }
    await runSettlement(app, a, allianceId, 'USD', '2025-01-01T00:00:00Z', '2025-03-01T00:00:00Z');
    await runSettlement(app, a, allianceId, 'USD', '2025-01-01T00:00:00Z', '2025-02-01T00:00:00Z');
    for (let i = 0; i < 3; i++) await app.course(b, { title: `Club course ${i}` });
  });
  afterAll(() => app.stop());

  it('batches settlements: their alliance, lines, each line brand and agreement version', async () => {
    const { data, batches } = await batchesOf(
      a.token,
      `query($a: ID!) { settlements(allianceId: $a) { edges { node { alliance { id } lines { brand { id } agreement { version } } } } } }`,
      { a: allianceId },
    );
    const settlements = data.settlements.edges.map((e: any) => e.node);
    expect(settlements).toHaveLength(2);
    const versions = new Set(settlements.flatMap((s: any) => s.lines.map((l: any) => l.agreement.version)));
    expect(versions).toEqual(new Set([1, 2]));
    expect(batches).toEqual({
      'alliance.ofSettlement': [1],
      'settlement.lines': [2],
      'brand.profiles': [3],
      'agreement.byId': [2],
    });
  });

  it("batches an alliance's members, agreements, their shares and acceptances", async () => {
    const { data, batches } = await batchesOf(
      b.token,
      `query($a: ID!) { alliance(id: $a) { members { brand { name } } agreements { version shares { brand { id } } acceptances { brand { id } } } } }`,
      { a: allianceId },
    );
    expect(data.alliance.agreements).toHaveLength(2);
    expect(batches['alliance.byId']).toEqual([1]);
    expect(batches['alliance.members']).toEqual([1]);
    expect(batches['agreement.versions']).toEqual([1]);
    expect(batches['agreement.shares']).toEqual([2]);
    expect(batches['agreement.acceptances']).toEqual([2]);
    // Members, then shares and acceptances: brands of each level in one batch.
    expect(batches['brand.profiles'].every((n) => n <= 3)).toBe(true);
    expect(batches['brand.profiles'].length).toBeLessThanOrEqual(2);
  });

  it("batches a catalog page's owners and alliances", async () => {
    const { data, batches } = await batchesOf(b.token, `{ courses(first: 10) { edges { node { owner { name } alliance { id } } } } }`);
    const owners = new Set(data.courses.edges.map((e: any) => e.node.owner.name));
    expect(owners).toEqual(new Set(['Batch Club', 'Batch Academy']));
    expect(batches['brand.profiles']).toEqual([2]);
    expect(batches['alliance.byId']).toEqual([1]);
  });

  it("batches campaigns' creatives and metrics", async () => {
    const make = async (name: string) => {
      const { createCampaign } = await app.ok(a.token, `mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { id } }`, {
        i: { name, kind: 'AD_PLACEMENT', startsAt: '2026-01-01T00:00:00Z', budget: { amountMinor: 100, currency: 'USD' } },
      });
      for (const [headline, channel] of [[`${name} one`, 'SOCIAL'], [`${name} two`, 'EMAIL']]) {
        await app.ok(a.token, `mutation($c: ID!, $i: CreativeInput!) { addCreative(campaignId: $c, input: $i) { id } }`, {
          c: createCampaign.id,
          i: { headline, channel },
        });
      }
    };
    await make('Spring');
    await make('Autumn');
    const { data, batches } = await batchesOf(a.token, `{ campaigns(first: 10) { edges { node { creatives { id } metrics { impressions } owner { id } } } } }`);
    expect(data.campaigns.edges).toHaveLength(2);
    expect(batches['campaign.creatives']).toEqual([2]);
    expect(batches['metrics.campaign']).toEqual([2]);
    expect(batches['brand.profiles']).toEqual([1]);
  });
});
