import { Role } from '../../src/tenancy/roles';
import { activeAlliance } from '../support/alliances';
import { Watch, wsClient } from '../support/live';
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
const MEMBER = `query($l: ID!) { learner(id: $l) { loyalty { id allianceId balance debt pointsEarned12Months } } }`;
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

  it('reverses a refunded purchase: the unspent part at once, the spent part as a debt that later earnings pay first', async () => {
    await app.ok(lead.token, RECORD, { e: [{ type: 'VIEW', idempotencyKey: 'bo-v', learnerExternalId: 'bo', occurredAt: new Date().toISOString() }] });
    const bo = await learnerId(lead, 'bo');
    await app.ok(lead.token, ENROLL, { l: bo });
    await app.ok(lead.token, RECORD, { e: [purchase('bo-1', 'bo', joint, 10_000, 'USD')] }); // 100 points
    await app.ok(lead.token, REDEEM, { i: { learnerId: bo, points: 70, currency: 'USD', idempotencyKey: 'bo-order' } });
    const figures = async () => (await app.ok(lead.token, MEMBER, { l: bo })).learner.loyalty[0];
    expect(await figures()).toMatchObject({ balance: 30, debt: 0 });
    // A partial refund (40.00 of 100.00 USD) takes 40 points, from what is left of the purchase's points.
    await app.ok(lead.token, RECORD, { e: [{ type: 'REFUND', idempotencyKey: 'bo-r1', learnerExternalId: 'bo', courseId: joint, refundOf: 'bo-1', amount: { amountMinor: 4_000, currency: 'USD' }, occurredAt: new Date().toISOString() }] });
    expect(await figures()).toMatchObject({ balance: 0, debt: 10 });
    // The rest of the refund: 60 more points, all of them spent already.
    await app.ok(lead.token, RECORD, { e: [{ type: 'REFUND', idempotencyKey: 'bo-r2', learnerExternalId: 'bo', courseId: joint, refundOf: 'bo-1', amount: { amountMinor: 6_000, currency: 'USD' }, occurredAt: new Date().toISOString() }] });
    expect(await figures()).toMatchObject({ balance: 0, debt: 70, pointsEarned12Months: 0 });
    // A refund beyond the purchase reverses nothing more.
    await app.ok(lead.token, RECORD, { e: [{ type: 'REFUND', idempotencyKey: 'bo-r3', learnerExternalId: 'bo', courseId: joint, refundOf: 'bo-1', amount: { amountMinor: 1_000, currency: 'USD' }, occurredAt: new Date().toISOString() }] });
    expect(await figures()).toMatchObject({ balance: 0, debt: 70 });
    // New earnings pay the debt first: 50 points pay 50 of it, then 45 pay the last 20 and leave 25.
    await app.ok(lead.token, RECORD, { e: [purchase('bo-2', 'bo', joint, 5_000, 'USD')] });
    expect(await figures()).toMatchObject({ balance: 0, debt: 20 });
    await app.ok(lead.token, RECORD, { e: [purchase('bo-3', 'bo', joint, 4_500, 'USD')] });
    expect(await figures()).toMatchObject({ balance: 25, debt: 0, pointsEarned12Months: 95 });
  });

  it('expires points first in first out, 12 months after they were earned, and decides tiers by the last 12 months', async () => {
    await app.ok(lead.token, RECORD, { e: [{ type: 'VIEW', idempotencyKey: 'cy-v', learnerExternalId: 'cy', occurredAt: new Date().toISOString() }] });
    const cy = await learnerId(lead, 'cy');
    await app.ok(lead.token, ENROLL, { l: cy });
    const monthsAgo = (m: number, days = 0) => new Date(Date.now() - m * 30.44 * 86_400_000 - days * 86_400_000).toISOString();
    await app.ok(lead.token, RECORD, {
      e: [
        { ...purchase('cy-old', 'cy', joint, 80_000, 'USD'), occurredAt: monthsAgo(13) }, // 800 points, expired a month ago
        { ...purchase('cy-mid', 'cy', joint, 60_000, 'USD'), occurredAt: monthsAgo(11, 16) }, // 600 points, expire in about two weeks
        purchase('cy-new', 'cy', joint, 50_000, 'USD'), // 500 points
      ],
    });
    const figures = async () => (await app.ok(lead.token, `query($l: ID!) { learner(id: $l) { loyalty { balance expiringIn30Days pointsEarned12Months tier { name discountBasisPoints earlyAccess } } } }`, { l: cy })).learner.loyalty[0];
    // The 800 are gone; 600 + 500 earned in the last 12 months: SILVER (1,000), not GOLD (5,000).
    expect(await figures()).toEqual({ balance: 1100, expiringIn30Days: 600, pointsEarned12Months: 1100, tier: { name: 'SILVER', discountBasisPoints: 500, earlyAccess: true } });
    // Spending takes the points that expire first.
    await app.ok(lead.token, REDEEM, { i: { learnerId: cy, points: 650, currency: 'USD', idempotencyKey: 'cy-order' } });
    expect(await figures()).toMatchObject({ balance: 450, expiringIn30Days: 0 });
    const kinds = await app.sql(
      `select e.kind, e.points, lot.reason from loyalty_ledger e left join loyalty_ledger lot on lot.id = e.of_lot
       where e.member_id = (select member_id from loyalty_links where learner_id = $1) and e.kind = 'EXPIRE'`,
      [cy],
    );
    expect(kinds).toEqual([{ kind: 'EXPIRE', points: -800, reason: 'PURCHASE' }]);
    // Refunding the newest purchase drops the tier: 600 earned in 12 months is below SILVER.
    await app.ok(lead.token, RECORD, { e: [{ type: 'REFUND', idempotencyKey: 'cy-r', learnerExternalId: 'cy', courseId: joint, refundOf: 'cy-new', amount: { amountMinor: 50_000, currency: 'USD' }, occurredAt: new Date().toISOString() }] });
    expect(await figures()).toMatchObject({ balance: 0, pointsEarned12Months: 600, tier: null });
    const history = (await app.ok(lead.token, `query($l: ID!) { learner(id: $l) { loyalty { history(first: 10) { edges { node { kind points brandId value { amountMinor } } } } } } }`, { l: cy })).learner.loyalty[0].history.edges.map((e: any) => e.node);
    expect(history.map((h: { kind: string }) => h.kind).sort()).toEqual(['EARN', 'EARN', 'EARN', 'EXPIRE', 'REDEEM', 'REVERSE']);
    expect(history.find((h: { kind: string }) => h.kind === 'REDEEM')).toEqual({ kind: 'REDEEM', points: -650, brandId: lead.id, value: { amountMinor: 650 } });
  });

  it('adjusts by hand with a reason (OWNER, ADMIN), audited, never below zero', async () => {
    const adjust = `mutation($i: AdjustLoyaltyPointsInput!) { adjustLoyaltyPoints(input: $i) { balance } }`;
    const editor = app.token(partner.id, [Role.EDITOR]);
    expect(codes(await app.gql(editor, adjust, { i: { learnerId: annAtPartner, points: 10, reason: 'goodwill', idempotencyKey: 'adj-0' } }))).toEqual(['FORBIDDEN']);
    const start = await balance(partner, annAtPartner);
    expect((await app.ok(partner.token, adjust, { i: { learnerId: annAtPartner, points: 25, reason: 'late delivery', idempotencyKey: 'adj-1' } })).adjustLoyaltyPoints.balance).toBe(start + 25);
    expect((await app.ok(partner.token, adjust, { i: { learnerId: annAtPartner, points: 25, reason: 'late delivery', idempotencyKey: 'adj-1' } })).adjustLoyaltyPoints.balance).toBe(start + 25);
    expect(codes(await app.gql(partner.token, adjust, { i: { learnerId: annAtPartner, points: -(start + 26), reason: 'too much', idempotencyKey: 'adj-2' } }))).toEqual(['BAD_USER_INPUT']);
    expect((await app.ok(partner.token, adjust, { i: { learnerId: annAtPartner, points: -5, reason: 'correction', idempotencyKey: 'adj-3' } })).adjustLoyaltyPoints.balance).toBe(start + 20);
    const audit = await app.sql(`select after from alliance_audit where alliance_id = $1 and action = 'LOYALTY_POINTS_ADJUSTED' order by seq`, [allianceId]);
    expect(audit.map((a: { after: { points: number; reason: string; memberId: string } }) => a.after)).toEqual([
      { memberId, points: 25, reason: 'late delivery' },
      { memberId, points: -5, reason: 'correction' },
    ]);
  });

  it('rate limits codes that match nothing, answering like an unknown code until then', async () => {
    await app.ok(partner.token, RECORD, { e: [{ type: 'VIEW', idempotencyKey: 'guess-v', learnerExternalId: 'guesser', occurredAt: new Date().toISOString() }] });
    const guesser = await learnerId(partner, 'guesser');
    const answers: string[] = [];
    for (let i = 0; i < 25; i++) answers.push(codes(await app.gql(partner.token, LINK, { l: guesser, c: `ZZZZ-ZZZZ-ZZ${'23456789ABCDEFGHJKMNPQRSTUVWXYZ'[i]}Z` }))[0]);
    // The first wrong codes (wrong, unknown and garbage above count too) are NOT_FOUND; then RATE_LIMITED, whatever the code.
    expect(answers.filter((c) => c === 'NOT_FOUND').length).toBeGreaterThan(10);
    expect(answers.slice(-3)).toEqual(['RATE_LIMITED', 'RATE_LIMITED', 'RATE_LIMITED']);
    expect(codes(await app.gql(partner.token, LINK, { l: guesser, c: code }))).toEqual(['RATE_LIMITED']);
    // Another brand is not held back by it.
    expect(codes(await app.gql(outsider.token, LINK, { l: await learnerId(outsider, 'o-ann'), c: 'ZZZZ-ZZZZ-ZZZZ' }))).toEqual(['NOT_FOUND']);
  });

  it("settles redemptions between brands: the issuer owes the redeeming brand their value, netted per pair, exactly", async () => {
    const start = new Date(Date.now() - 86_400_000).toISOString();
    const end = new Date(Date.now() + 86_400_000).toISOString();
    const run = `mutation($i: RunSettlementInput!) { runSettlement(input: $i) { id loyaltyLines { payerBrandId payeeBrandId points gross { amountMinor } offsetPoints offset { amountMinor } amount { amountMinor currency } } } }`;
    const settlement = (await app.ok(lead.token, run, { i: { allianceId, currency: 'USD', periodStart: start, periodEnd: end } })).runSettlement;
    // The oracle: every spent lot of every REDEEM, read straight from the tables, valued at 1 cent a point.
    const spent: { issuer: string; redeemer: string; points: number }[] = await app.sql(
      `select lot.brand_id as issuer, r.brand_id as redeemer, a.points from loyalty_ledger r
       join loyalty_allocations a on a.entry_id = r.id join loyalty_ledger lot on lot.id = a.lot_id
       where r.alliance_id = $1 and r.kind = 'REDEEM'`,
      [allianceId],
    );
    const owed = (from: string, to: string) => spent.filter((x) => x.issuer === from && x.redeemer === to).reduce((n, x) => n + x.points, 0);
    const leadToPartner = owed(lead.id, partner.id);
    const partnerToLead = owed(partner.id, lead.id);
    expect(leadToPartner).toBeGreaterThanOrEqual(300);
    const [payer, payee, gross, offset] = leadToPartner >= partnerToLead ? [lead.id, partner.id, leadToPartner, partnerToLead] : [partner.id, lead.id, partnerToLead, leadToPartner];
    expect(settlement.loyaltyLines).toEqual([
      { payerBrandId: payer, payeeBrandId: payee, points: gross, gross: { amountMinor: gross }, offsetPoints: offset, offset: { amountMinor: offset }, amount: { amountMinor: gross - offset, currency: 'USD' } },
    ]);
    // The partner reads the same lines; the CSV carries them as LOYALTY rows.
    const seen = (await app.ok(partner.token, `query($id: ID!) { settlement(id: $id) { loyaltyLines { amount { amountMinor } } } }`, { id: settlement.id })).settlement;
    expect(seen.loyaltyLines).toEqual([{ amount: { amountMinor: gross - offset } }]);
    const csv = await app.http.get(`/settlements/${settlement.id}.csv`).set('authorization', `Bearer ${partner.token}`);
    const rows = csv.text.trimEnd().split('\r\n').map((r) => r.split(','));
    const loyaltyRows = rows.filter((r) => r[13] === 'LOYALTY');
    expect(loyaltyRows.map((r) => [r[8], r[12], r[14], r[15]])).toEqual([[payee, String(gross - offset), payer, String(gross)]]);
    expect((await app.ok(outsider.token, `query($id: ID!) { settlement(id: $id) { id } }`, { id: settlement.id })).settlement).toBeNull();
  });

  it("reports each member brand's points issued, redeemed, expired, reversed and outstanding, which add up", async () => {
    const program = (
      await app.ok(partner.token, `query($a: ID!) { loyaltyProgram(allianceId: $a) { figures { brandId issued redeemed expired reversed outstanding outstandingValue { amountMinor currency } members } } }`, { a: allianceId })
    ).loyaltyProgram;
    const byBrand = new Map(program.figures.map((f: { brandId: string }) => [f.brandId, f]));
    expect([...byBrand.keys()].sort()).toEqual([lead.id, partner.id].sort());
    // The oracle, from the tables: issued lots per brand, and the balances of every membership.
    const [issuedByLead] = await app.sql(`select coalesce(sum(points), 0)::int as n from loyalty_ledger where alliance_id = $1 and brand_id = $2 and points > 0`, [allianceId, lead.id]);
    const [issuedByPartner] = await app.sql(`select coalesce(sum(points), 0)::int as n from loyalty_ledger where alliance_id = $1 and brand_id = $2 and points > 0`, [allianceId, partner.id]);
    const leadFigures = byBrand.get(lead.id) as any;
    const partnerFigures = byBrand.get(partner.id) as any;
    expect(leadFigures.issued).toBe(issuedByLead.n);
    expect(partnerFigures.issued).toBe(issuedByPartner.n);
    for (const f of [leadFigures, partnerFigures]) {
      expect(f.redeemed + f.expired + f.reversed + f.outstanding).toBe(f.issued);
      expect(f.outstandingValue).toEqual([{ amountMinor: f.outstanding, currency: 'USD' }]);
    }
    expect(leadFigures.expired).toBe(800);
    expect(leadFigures.members).toBe(3);
    expect(partnerFigures.members).toBe(1);
    // Everything outstanding is in some member's balance.
    const balances = await Promise.all([
      ...(await app.sql(`select learner_id from loyalty_links where tenant_id = $1`, [lead.id])).map((l: { learner_id: string }) => balance(lead, l.learner_id)),
    ]);
    expect(balances.reduce((a: number, b: number) => a + b, 0)).toBe(leadFigures.outstanding + partnerFigures.outstanding);
    expect((await app.ok(outsider.token, `query($a: ID!) { loyaltyProgram(allianceId: $a) { id } }`, { a: allianceId })).loyaltyProgram).toBeNull();
  });

  it('streams balance changes to every linked brand, each seeing its own learner, whichever brand earned or spent', async () => {
    const WATCH = `subscription($id: ID!) { loyaltyMemberUpdated(id: $id) { id learnerId balance pointsEarned12Months tier { name } } }`;
    const clients = [lead, partner, outsider].map((b) => wsClient(app.server.url, b.token));
    try {
      const [atLead, atPartner, atOutsider] = clients.map((c) => new Watch(c, WATCH, { id: memberId }));
      const start = (await atLead.until(() => true)).balance as number;
      expect(await atPartner.until(() => true)).toMatchObject({ id: memberId, learnerId: annAtPartner, balance: start });
      expect(atLead.values[0].learnerId).toBe(ann);
      // Another brand's membership, or none, answer alike.
      expect(await atOutsider.failure()).toEqual(['NOT_FOUND']);
      const unknown = new Watch(clients[2], WATCH, { id: '00000000-0000-4000-8000-000000000000' });
      expect(await unknown.failure()).toEqual(['NOT_FOUND']);

      // Earned at the lead (12.34 USD of the joint course: 12 points), then spent at the partner.
      await app.ok(lead.token, RECORD, { e: [purchase('live-1', 'ann', joint, 1234, 'USD')] });
      for (const w of [atLead, atPartner]) await w.until((m) => m.balance === start + 12);
      await app.ok(partner.token, REDEEM, { i: { learnerId: annAtPartner, points: 5, currency: 'USD', idempotencyKey: 'live-order' } });
      for (const w of [atLead, atPartner]) await w.until((m) => m.balance === start + 7);
      // A redemption that fails, and a repeated one, change nothing and send nothing.
      expect(codes(await app.gql(partner.token, REDEEM, { i: { learnerId: annAtPartner, points: 1_000_000, currency: 'USD', idempotencyKey: 'live-big' } }))).toEqual(['BAD_USER_INPUT']);
      await app.ok(partner.token, REDEEM, { i: { learnerId: annAtPartner, points: 5, currency: 'USD', idempotencyKey: 'live-order' } });
      await new Promise((r) => setTimeout(r, 300));
      expect(atPartner.values.map((m) => m.balance)).toEqual([start, start + 12, start + 7]);
      expect(atPartner.values.every((m) => m.learnerId === annAtPartner)).toBe(true);
      expect(atLead.values.every((m) => m.learnerId === ann)).toBe(true);
    } finally {
      await Promise.all(clients.map((c) => c.dispose()));
    }
  });

  it('keeps the ledger append-only for the application', async () => {
    await expect(app.asBrand(partner.id, (m) => m.query(`update loyalty_ledger set points = 1000000 where member_id = $1`, [memberId]))).rejects.toThrow(/permission denied/);
    await expect(app.asBrand(partner.id, (m) => m.query(`delete from loyalty_allocations`))).rejects.toThrow(/permission denied/);
  });
});
