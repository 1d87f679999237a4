import crypto from 'node:crypto';
import { CAMPAIGN_TRANSITIONS } from '../../src/services/campaign.service';
import { CampaignStatus } from '../../src/schema/campaign.types';
import { Role } from '../../src/tenancy/roles';
import { Q, createAlliance, propose } from '../support/alliances';
import { codes, TestApp, type TestBrand } from '../support/server';

const CREATE = `mutation($input: CreateCampaignInput!) { createCampaign(input: $input) {
  id name kind status startsAt endsAt windowStartHour windowEndHour timeZone budget { amountMinor currency } targetSegments
  sponsorship { propertyKind propertyName sport startsAt fee { amountMinor currency } }
  owner { id } alliance { id } courses { id } creatives { id } createdAt } }`;
const ADD_CREATIVE = `mutation($c: ID!, $input: CreativeInput!) { addCreative(campaignId: $c, input: $input) { id channel headline body imageUrl } }`;
const SET_STATUS = `mutation($id: ID!, $s: CampaignStatus!) { setCampaignStatus(id: $id, status: $s) { id status } }`;
const SPEND = `mutation($c: ID!, $a: MoneyInput!, $at: DateTime!) { recordCampaignSpend(campaignId: $c, amount: $a, occurredAt: $at) { id } }`;

const base = (over: Record<string, unknown> = {}) => ({
  name: 'Spring promotion',
  kind: 'AD_PLACEMENT',
  startsAt: '2026-03-01T00:00:00Z',
  budget: { amountMinor: 500000, currency: 'USD' },
  ...over,
});

describe('campaigns', () => {
  let app: TestApp;
  let a: TestBrand;
  let b: TestBrand;
  let outsider: TestBrand;
  let aCourse: string;

  beforeAll(async () => {
    app = await TestApp.start();
    a = await app.brand('Campaign Academy');
    b = await app.brand('Campaign Club', 'SPORTS_ORGANIZATION');
    outsider = await app.brand('Campaign Outsider', 'ADVERTISER');
    aCourse = await app.course(a, { title: 'Promoted course' });
  });
  afterAll(() => app.stop());

  const create = async (brand: TestBrand, over: Record<string, unknown> = {}) =>
    (await app.ok(brand.token, CREATE, { input: base(over) })).createCampaign;

  it('creates a brand campaign with sensible defaults, promoted courses and creatives', async () => {
    const c = await create(a, { courseIds: [aCourse], targetSegments: ['vip', ' vip', 'students'], windowStartHour: 21, windowEndHour: 23, timeZone: 'Asia/Shanghai' });
    expect(c).toMatchObject({
      name: 'Spring promotion', kind: 'AD_PLACEMENT', status: 'DRAFT', endsAt: null, windowStartHour: 21, windowEndHour: 23,
      timeZone: 'Asia/Shanghai', budget: { amountMinor: 500000, currency: 'USD' }, targetSegments: ['vip', 'students'],
      sponsorship: null, owner: { id: a.id }, alliance: null, courses: [{ id: aCourse }], creatives: [],
    });
    const utc = await create(a);
    expect(utc.timeZone).toBe('UTC');

    const creative = (await app.ok(a.token, ADD_CREATIVE, { c: c.id, input: { channel: 'SOCIAL', headline: ' Learn with us ', imageUrl: 'https://cdn.example.org/a.png' } })).addCreative;
    expect(creative).toMatchObject({ channel: 'SOCIAL', headline: 'Learn with us', body: null, imageUrl: 'https://cdn.example.org/a.png' });
    const read = await app.ok(a.token, `query($id: ID!, $cr: ID!) {
      campaign(id: $id) { creatives { id } }
      node(id: $id) { __typename }
      creative: node(id: $cr) { __typename ... on Creative { headline } }
      campaigns(first: 100) { totalCount }
    }`, { id: c.id, cr: creative.id });
    expect(read.campaign.creatives).toEqual([{ id: creative.id }]);
    expect(read.node).toEqual({ __typename: 'Campaign' });
    expect(read.creative).toEqual({ __typename: 'Creative', headline: 'Learn with us' });
    expect(read.campaigns.totalCount).toBe(2);
  });

  it('a SPONSORSHIP campaign carries its sports property and fee; other kinds carry none', async () => {
    const sponsorship = { propertyKind: 'TEAM', propertyName: 'Harbor City FC U19', sport: 'football', startsAt: '2026-04-01T18:00:00Z', fee: { amountMinor: 2000000, currency: 'EUR' } };
    const c = await create(a, { kind: 'SPONSORSHIP', sponsorship });
    expect(c.sponsorship).toEqual({ ...sponsorship, startsAt: '2026-04-01T18:00:00.000Z' });
    expect(codes(await app.gql(a.token, CREATE, { input: base({ kind: 'SPONSORSHIP' }) }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await app.gql(a.token, CREATE, { input: base({ kind: 'EMAIL', sponsorship }) }))).toEqual(['BAD_USER_INPUT']);
  });

  it('rejects bad input with a clear code, storing nothing', async () => {
    const [{ n: before }] = await app.sql('select count(*)::int as n from campaigns');
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ timeZone: 'Mars/Olympus' }, 'BAD_USER_INPUT', /IANA time zone/],
      [{ endsAt: '2026-02-01T00:00:00Z' }, 'BAD_USER_INPUT', /endsAt must be later/],
      [{ windowStartHour: 9 }, 'BAD_USER_INPUT', /both windowStartHour and windowEndHour/],
      [{ windowStartHour: 9, windowEndHour: 24 }, 'BAD_USER_INPUT', /0\.\.23/],
      [{ budget: { amountMinor: -5, currency: 'USD' } }, 'BAD_USER_INPUT', /negative/],
      [{ budget: { amountMinor: 5, currency: 'usd' } }, 'BAD_USER_INPUT', /ISO 4217/],
      [{ name: '  ' }, 'BAD_USER_INPUT', /blank/],
      [{ startsAt: 'soon' }, 'BAD_USER_INPUT', /DateTime/],
      [{ kind: 'BILLBOARD' }, 'BAD_USER_INPUT', /BILLBOARD/],
      [{ targetSegments: Array.from({ length: 51 }, (_, i) => `s${i}`) }, 'BAD_USER_INPUT', /at most 50/],
      [{ courseIds: [crypto.randomUUID()] }, 'NOT_FOUND', /Course/],
      [{ allianceId: crypto.randomUUID() }, 'NOT_FOUND', /Alliance not found/],
    ];
    for (const [over, code, message] of cases) {
      const res = await app.gql(a.token, CREATE, { input: base(over) });
      expect({ over, codes: codes(res) }).toEqual({ over, codes: [code] });
      expect(res.errors?.[0].message).toMatch(message);
    }
    const foreignCourse = await app.course(b, { title: 'Not yours' });
    expect(codes(await app.gql(a.token, CREATE, { input: base({ courseIds: [foreignCourse] }) }))).toEqual(['NOT_FOUND']);
    const c = await create(a);
    const badCreative = await app.gql(a.token, ADD_CREATIVE, { c: c.id, input: { channel: 'SOCIAL', headline: 'x', imageUrl: 'javascript:alert(1)' } });
    expect(codes(badCreative)).toEqual(['BAD_USER_INPUT']);
    for (const amount of [{ amountMinor: 0, currency: 'USD' }, { amountMinor: -10, currency: 'USD' }]) {
      expect(codes(await app.gql(a.token, SPEND, { c: c.id, a: amount, at: '2026-03-02T00:00:00Z' }))).toEqual(['BAD_USER_INPUT']);
    }
    const [{ n: after }] = await app.sql('select count(*)::int as n from campaigns');
    expect(after).toBe(before + 1);
    const [{ n: spend }] = await app.sql('select count(*)::int as n from campaign_spend where campaign_id = $1', [c.id]);
    expect(spend).toBe(0);
  });

  it('follows the status machine exactly: every pair of statuses', async () => {
    const pathTo: Record<CampaignStatus, CampaignStatus[]> = {
      DRAFT: [],
      SCHEDULED: [CampaignStatus.SCHEDULED],
      ACTIVE: [CampaignStatus.ACTIVE],
      PAUSED: [CampaignStatus.ACTIVE, CampaignStatus.PAUSED],
      ENDED: [CampaignStatus.ACTIVE, CampaignStatus.ENDED],
    };
    const statuses = Object.values(CampaignStatus);
    for (const from of statuses) {
      for (const to of statuses) {
        const c = await create(a, { name: `${from} to ${to}` });
        for (const step of pathTo[from]) await app.ok(a.token, SET_STATUS, { id: c.id, s: step });
        const res = await app.gql(a.token, SET_STATUS, { id: c.id, s: to });
        const allowed = from === to || CAMPAIGN_TRANSITIONS[from].includes(to);
        expect({ from, to, codes: codes(res) }).toEqual({ from, to, codes: allowed ? [] : ['BAD_USER_INPUT'] });
        const [{ status }] = await app.sql('select status from campaigns where id = $1', [c.id]);
        expect(status).toBe(allowed ? to : from);
      }
    }
    // The contract's chain: DRAFT → SCHEDULED|ACTIVE → PAUSED ↔ ACTIVE → ENDED.
    expect(CAMPAIGN_TRANSITIONS.DRAFT).toEqual(['SCHEDULED', 'ACTIVE']);
    expect(CAMPAIGN_TRANSITIONS.ENDED).toEqual([]);
  });

  it('an ENDED campaign takes no creatives; spend is recorded', async () => {
    const c = await create(a);
    await app.ok(a.token, SPEND, { c: c.id, a: { amountMinor: 12345, currency: 'USD' }, at: '2026-03-05T10:00:00Z' });
    const [{ amount_minor, currency }] = await app.sql('select amount_minor, currency from campaign_spend where campaign_id = $1', [c.id]);
    expect([amount_minor, currency]).toEqual(['12345', 'USD']);
    await app.ok(a.token, SET_STATUS, { id: c.id, s: 'ACTIVE' });
    await app.ok(a.token, SET_STATUS, { id: c.id, s: 'ENDED' });
    expect(codes(await app.gql(a.token, ADD_CREATIVE, { c: c.id, input: { channel: 'EMAIL', headline: 'late' } }))).toEqual(['CONFLICT']);
  });

  it('joint campaigns: ACTIVE members read them, only the owner changes them, outsiders see nothing', async () => {
    const allianceId = await createAlliance(app, a, [b], 'Campaign alliance');
    await app.ok(b.token, Q.respond, { a: allianceId, yes: true });
    expect(codes(await app.gql(a.token, CREATE, { input: base({ kind: 'JOINT_MARKETING', allianceId }) }))).toEqual(['CONFLICT']);
    const v1 = await propose(app, a, allianceId, [[a, 5000], [b, 5000]]);
    await app.ok(b.token, Q.accept, { id: v1.id });

    const joint = await create(a, { kind: 'JOINT_MARKETING', allianceId, name: 'Matchday joint' });
    expect(joint.alliance).toEqual({ id: allianceId });
    const creative = (await app.ok(a.token, ADD_CREATIVE, { c: joint.id, input: { channel: 'VENUE', headline: 'At the stadium' } })).addCreative;

    const seen = await app.ok(b.token, `query($id: ID!, $a: ID!) {
      campaign(id: $id) { name owner { id } creatives { headline } }
      campaigns(allianceId: $a) { edges { node { id } } }
      all: campaigns { edges { node { id } } }
      alliance(id: $a) { campaigns { totalCount } }
    }`, { id: joint.id, a: allianceId });
    expect(seen.campaign).toEqual({ name: 'Matchday joint', owner: { id: a.id }, creatives: [{ headline: 'At the stadium' }] });
    expect(seen.campaigns.edges).toEqual([{ node: { id: joint.id } }]);
    expect(seen.all.edges.map((e: any) => e.node.id)).toContain(joint.id);
    expect(seen.alliance.campaigns.totalCount).toBe(1);

    for (const [query, vars] of [
      [SET_STATUS, { id: joint.id, s: 'ACTIVE' }],
      [ADD_CREATIVE, { c: joint.id, input: { channel: 'SOCIAL', headline: 'hijack' } }],
      [SPEND, { c: joint.id, a: { amountMinor: 1, currency: 'USD' }, at: '2026-03-01T00:00:00Z' }],
    ] as const) {
      expect(codes(await app.gql(b.token, query, vars))).toEqual(['FORBIDDEN']);
      const random = await app.gql(outsider.token, query, vars);
      expect(codes(random)).toEqual(['NOT_FOUND']);
    }
    const nothing = await app.ok(outsider.token, `query($id: ID!, $cr: ID!, $a: ID!) {
      campaign(id: $id) { id } node(id: $id) { id } creative: node(id: $cr) { id }
      campaigns(first: 100) { edges { node { id } } } byAlliance: campaigns(allianceId: $a) { totalCount }
    }`, { id: joint.id, cr: creative.id, a: allianceId });
    expect(nothing).toEqual({ campaign: null, node: null, creative: null, campaigns: { edges: [] }, byAlliance: { totalCount: 0 } });
  });

  it("a brand's own campaigns never show to another brand, and roles apply", async () => {
    const c = await create(a, { name: 'Private plan' });
    const bSees = await app.ok(b.token, 'query($id: ID!) { campaign(id: $id) { id } node(id: $id) { id } }', { id: c.id });
    expect(bSees).toEqual({ campaign: null, node: null });
    const [row] = await app.sql(`select count(*)::int as n from campaigns where tenant_id = $1`, [b.id]);
    expect(row.n).toBe(0);
    expect(codes(await app.gql(app.token(a.id, [Role.ANALYST]), CREATE, { input: base() }))).toEqual(['FORBIDDEN']);
    expect(codes(await app.gql(app.token(a.id, [Role.INGEST]), '{ campaigns { totalCount } }'))).toEqual(['FORBIDDEN']);
    const editor = app.token(a.id, [Role.EDITOR]);
    expect((await app.ok(editor, CREATE, { input: base({ name: 'By an editor' }) })).createCampaign.owner.id).toBe(a.id);
  });
});
