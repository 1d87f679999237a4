import { Role } from '../../src/tenancy/roles';
import { activeAlliance } from '../support/alliances';
import { codes, TestApp, type TestBrand } from '../support/server';

/**
 * A joint loyalty programme end to end, with exact numbers: proposed by
 * the LEAD and accepted by the partner; a learner enrolled at the lead
 * earns on joint-course purchases in two currencies, once per event; the
 * partner links its own learner with the member code and earns on its own
 * courses (it opted in); redemption at the partner spends oldest points
 * first, never more than the balance, once per idempotency key, also when
 * many redemptions race at both brands. Learners never cross brands.
 */

const PROGRAM = `mutation($i: CreateLoyaltyProgramInput!) { createLoyaltyProgram(input: $i) {
  id version status earnRates { currency points } redemptionValues { currency minorPerPoint } expiryMonths
  tiers { name minPoints discountBasisPoints earlyAccess } acceptances { brandId ownCourses } } }`;
const ACCEPT = `mutation($id: ID!, $own: Boolean) { acceptLoyaltyProgram(programId: $id, ownCourses: $own) { status version acceptances { brandId ownCourses } } }`;
const ENROLL = `mutation($l: ID!) { enrollLoyaltyMember(learnerId: $l) { code member { id balance debt } } }`;
const LINK = `mutation($l: ID!, $c: String!) { linkLoyaltyMember(learnerId: $l, code: $c) { id balance } }`;
const REDEEM = `mutation($i: RedeemLoyaltyPointsInput!) { redeemLoyaltyPoints(input: $i) { entryId points value { amountMinor currency } member { balance } } }`;
const MEMBER = `query($l: ID!) { learner(id: $l) { loyalty { id allianceId balance debt } } }`;
const RECORD = `mutation($e: [EventInput!]!) { recordEvents(events: $e) { accepted duplicates } }`;

describe('joint loyalty', () => {
  let app: TestApp;
  let lead: TestBrand;
  let partner: TestBrand;
  let outsider: TestBrand;
  let allianceId: string;
  let programId: string;
  let joint: string;
  let leadOwn: string;
  let partnerOwn: string;
  let ann: string;
  let annAtPartner: string;
  let code: string;
  let memberId: string;

  beforeAll(async () => {
    app = await TestApp.start();
    lead = await app.brand('Loyalty Lead');
    partner = await app.brand('Loyalty Partner');
    outsider = await app.brand('Loyalty Outsider');
    ({ allianceId } = await activeAlliance(app, lead, [partner], [[lead, 5000], [partner, 5000]]));
    joint = await app.course(lead, { title: 'Joint Course', allianceId });
    leadOwn = await app.course(lead, { title: 'Lead Own' });
    partnerOwn = await app.course(partner, { title: 'Partner Own' });
  });
  afterAll(async () => {
    await app?.stop();
  });

  const purchase = (key: string, learner: string, course: string, amountMinor: number, currency: string) => ({
    type: 'PURCHASE', idempotencyKey: key, learnerExternalId: learner, courseId: course, amount: { amountMinor, currency }, occurredAt: new Date(Date.now() - 60_000).toISOString(),
  });
  const learnerId = async (brand: TestBrand, externalId: string) => (await app.ok(brand.token, `query($x: String) { learner(externalId: $x) { id } }`, { x: externalId })).learner.id as string;
  const balance = async (brand: TestBrand, learner: string) => (await app.ok(brand.token, MEMBER, { l: learner })).learner.loyalty[0]?.balance;

  it('is proposed by the LEAD and ACTIVE once every ACTIVE member accepts', async () => {
    const input = {
      allianceId,
      earnRates: [{ currency: 'USD', points: 1 }, { currency: 'CNY', points: 2 }],
      redemptionValues: [{ currency: 'USD', minorPerPoint: 1 }],
      tiers: [{ name: 'GOLD', minPoints: 5000, discountBasisPoints: 1000 }, { name: 'SILVER', minPoints: 1000, discountBasisPoints: 500, earlyAccess: true }],
    };
    expect(codes(await app.gql(partner.token, PROGRAM, { i: input }))).toEqual(['FORBIDDEN']);
    expect(codes(await app.gql(app.token(lead.id, [Role.EDITOR]), PROGRAM, { i: input }))).toEqual(['FORBIDDEN']);
    expect(codes(await app.gql(lead.token, PROGRAM, { i: { ...input, redemptionValues: [] } }))).toEqual(['BAD_USER_INPUT']);
    const proposed = (await app.ok(lead.token, PROGRAM, { i: input })).createLoyaltyProgram;
    programId = proposed.id;
    expect(proposed).toMatchObject({ version: 1, status: 'PROPOSED', expiryMonths: 12, acceptances: [{ brandId: lead.id, ownCourses: false }] });
    expect(proposed.tiers.map((t: { name: string }) => t.name)).toEqual(['SILVER', 'GOLD']);
    expect(codes(await app.gql(lead.token, PROGRAM, { i: input }))).toEqual(['CONFLICT']);
    expect(codes(await app.gql(lead.token, ENROLL, { l: '00000000-0000-4000-8000-000000000000' }))).toEqual(['NOT_FOUND']);

    const accepted = (await app.ok(partner.token, ACCEPT, { id: programId, own: true })).acceptLoyaltyProgram;
    expect(accepted.status).toBe('ACTIVE');
    expect(accepted.acceptances).toContainEqual({ brandId: partner.id, ownCourses: true });
    expect(codes(await app.gql(partner.token, ACCEPT, { id: programId }))).toEqual(['CONFLICT']);
    expect((await app.ok(outsider.token, `query($a: ID!) { loyaltyProgram(allianceId: $a) { id } }`, { a: allianceId })).loyaltyProgram).toBeNull();
    expect(codes(await app.gql(outsider.token, ACCEPT, { id: programId }))).toEqual(['NOT_FOUND']);
    const audit = await app.sql(`select action from alliance_audit where alliance_id = $1 and action like 'LOYALTY%' order by seq`, [allianceId]);
    expect(audit.map((r: { action: string }) => r.action)).toEqual(['LOYALTY_PROGRAM_PROPOSED', 'LOYALTY_PROGRAM_ACCEPTED', 'LOYALTY_PROGRAM_ACTIVE']);
  });

  it('earns on joint-course purchases in two currencies, once per event, and not on courses that do not earn', async () => {
    await app.ok(lead.token, RECORD, { e: [{ type: 'VIEW', idempotencyKey: 'ann-v', learnerExternalId: 'ann', occurredAt: new Date().toISOString() }] });
    ann = await learnerId(lead, 'ann');
    const enrolled = (await app.ok(lead.token, ENROLL, { l: ann })).enrollLoyaltyMember;
    code = enrolled.code;
    memberId = enrolled.member.id;
    expect(code).toMatch(/^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$/);
    expect(enrolled.member).toMatchObject({ balance: 0, debt: 0 });
    expect(codes(await app.gql(lead.token, ENROLL, { l: ann }))).toEqual(['CONFLICT']);

    const events = [
      purchase('p1', 'ann', joint, 19_900, 'USD'), // 199.00 USD × 1 = 199
      purchase('p2', 'ann', joint, 9_950, 'CNY'), // 99.50 CNY × 2 = 199 (rounded down from 199.0)
      purchase('p3', 'ann', joint, 1_999, 'CNY'), // 19.99 CNY × 2 = 39.98 → 39
      purchase('p4', 'ann', joint, 5_000, 'EUR'), // no EUR rate: nothing
      purchase('p5', 'ann', leadOwn, 10_000, 'USD'), // the lead did not opt in its own courses
    ];
    expect((await app.ok(lead.token, RECORD, { e: events })).recordEvents.accepted).toBe(5);
    expect(await balance(lead, ann)).toBe(199 + 199 + 39);
    expect((await app.ok(lead.token, RECORD, { e: events })).recordEvents.duplicates).toBe(5);
    expect(await balance(lead, ann)).toBe(437);
    const earned = await app.sql(`select points, reason from loyalty_ledger where member_id = $1 order by points`, [memberId]);
    expect(earned).toEqual([{ points: 39, reason: 'PURCHASE' }, { points: 199, reason: 'PURCHASE' }, { points: 199, reason: 'PURCHASE' }]);
  });

  it('links at the partner only with the code; a wrong code answers like an unknown one', async () => {
    await app.ok(partner.token, RECORD, { e: [{ type: 'VIEW', idempotencyKey: 'anna-v', learnerExternalId: 'anna-p', occurredAt: new Date().toISOString() }] });
    annAtPartner = await learnerId(partner, 'anna-p');
    const wrong = await app.gql(partner.token, LINK, { l: annAtPartner, c: code.replace(/.$/, (c) => (c === '2' ? '3' : '2')) });
    const unknown = await app.gql(partner.token, LINK, { l: annAtPartner, c: 'ZZZZ-ZZZZ-ZZZZ' });
    const garbage = await app.gql(partner.token, LINK, { l: annAtPartner, c: 'not a code' });
    expect(codes(wrong)).toEqual(['NOT_FOUND']);
    expect(wrong.errors![0].message).toBe(unknown.errors![0].message);
    expect(garbage.errors![0].message).toBe(unknown.errors![0].message);
    // The outsider is in no alliance with a programme: the code is worth nothing there.
    await app.ok(outsider.token, RECORD, { e: [{ type: 'VIEW', idempotencyKey: 'o-v', learnerExternalId: 'o-ann', occurredAt: new Date().toISOString() }] });
    expect(codes(await app.gql(outsider.token, LINK, { l: await learnerId(outsider, 'o-ann'), c: code }))).toEqual(['NOT_FOUND']);

    const linked = (await app.ok(partner.token, LINK, { l: annAtPartner, c: code.toLowerCase() })).linkLoyaltyMember;
    expect(linked).toEqual({ id: memberId, balance: 437 });
    // Each brand reads its own learner; neither reads the other's.
    expect((await app.ok(partner.token, `query($l: ID!) { learner(id: $l) { id } }`, { l: ann })).learner).toBeNull();
    expect((await app.ok(lead.token, `query($l: ID!) { learner(id: $l) { id } }`, { l: annAtPartner })).learner).toBeNull();
    expect(await app.asBrand(partner.id, (m) => m.query(`select count(*)::int as n from loyalty_links`))).toEqual([{ n: 1 }]);
    // The ledger holds memberships, never a learner of either brand.
    const columns = await app.sql(`select column_name from information_schema.columns where table_name in ('loyalty_ledger', 'loyalty_members', 'loyalty_allocations')`);
    expect(columns.map((c: { column_name: string }) => c.column_name)).not.toContain('learner_id');

    // The partner opted its own courses in.
    await app.ok(partner.token, RECORD, { e: [purchase('pp1', 'anna-p', partnerOwn, 5_000, 'USD')] });
    expect(await balance(partner, annAtPartner)).toBe(487);
    expect(await balance(lead, ann)).toBe(487);
  });

  it('redeems at the partner oldest points first, once per key, never beyond the balance', async () => {
    const first = (await app.ok(partner.token, REDEEM, { i: { learnerId: annAtPartner, points: 300, currency: 'USD', idempotencyKey: 'order-1' } })).redeemLoyaltyPoints;
    expect(first).toMatchObject({ points: 300, value: { amountMinor: 300, currency: 'USD' }, member: { balance: 187 } });
    const again = (await app.ok(partner.token, REDEEM, { i: { learnerId: annAtPartner, points: 300, currency: 'USD', idempotencyKey: 'order-1' } })).redeemLoyaltyPoints;
    expect(again).toEqual(first);
    expect(codes(await app.gql(partner.token, REDEEM, { i: { learnerId: annAtPartner, points: 5, currency: 'USD', idempotencyKey: 'order-1' } }))).toEqual(['CONFLICT']);
    const tooMuch = await app.gql(partner.token, REDEEM, { i: { learnerId: annAtPartner, points: 188, currency: 'USD', idempotencyKey: 'order-2' } });
    expect(codes(tooMuch)).toEqual(['BAD_USER_INPUT']);
    expect(codes(await app.gql(partner.token, REDEEM, { i: { learnerId: annAtPartner, points: 1, currency: 'CNY', idempotencyKey: 'order-3' } }))).toEqual(['BAD_USER_INPUT']);
    // 300 points: the lots expire in the order they were earned (all 12 months after), so the lead's
    // three lots (199, 199, 39 in earning order, the same minute) and none of the partner's 50.
    const used = await app.sql(
      `select l.brand_id, sum(a.points)::int as points from loyalty_allocations a join loyalty_ledger l on l.id = a.lot_id
       where a.entry_id = $1 group by l.brand_id`,
      [first.entryId],
    );
    expect(used).toEqual([{ brand_id: lead.id, points: 300 }]);
  });

  it('never overspends under 20 concurrent redemptions at both brands', async () => {
    const before = await balance(partner, annAtPartner); // 187
    const attempts = Array.from({ length: 20 }, (_, i) => {
      const [brand, learner] = i % 2 === 0 ? [lead, ann] : [partner, annAtPartner];
      return app.gql(brand.token, REDEEM, { i: { learnerId: learner, points: 40, currency: 'USD', idempotencyKey: `race-${i}` } });
    });
    const results = await Promise.all(attempts);
    const succeeded = results.filter((r) => !r.errors?.length).length;
    expect(succeeded).toBe(Math.floor(before / 40));
    expect(results.filter((r) => r.errors?.length).every((r) => codes(r)[0] === 'BAD_USER_INPUT')).toBe(true);
    expect(await balance(lead, ann)).toBe(before - 40 * succeeded);
    const [{ spent }] = await app.sql(`select -sum(points)::int as spent from loyalty_ledger where member_id = $1 and kind = 'REDEEM'`, [memberId]);
    const [{ allocated }] = await app.sql(
      `select sum(a.points)::int as allocated from loyalty_allocations a join loyalty_ledger e on e.id = a.entry_id where e.member_id = $1`,
      [memberId],
    );
    expect(allocated).toBe(spent);
  });

  it('keeps the ledger append-only for the application', async () => {
    await expect(app.asBrand(partner.id, (m) => m.query(`update loyalty_ledger set points = 1000000 where member_id = $1`, [memberId]))).rejects.toThrow(/permission denied/);
    await expect(app.asBrand(partner.id, (m) => m.query(`delete from loyalty_allocations`))).rejects.toThrow(/permission denied/);
  });
});
