import crypto from 'node:crypto';
import { Role } from '../../src/tenancy/roles';
import { Q, allianceFootprint, createAlliance, propose } from '../support/alliances';
import { codes, TestApp, type TestBrand } from '../support/server';

/** Every bad request gets a code a partner developer can act on, and changes nothing. */
describe('alliance rules', () => {
  let app: TestApp;
  let a: TestBrand;
  let b: TestBrand;
  let c: TestBrand;
  let outsider: TestBrand;
  let allianceId: string;

  beforeAll(async () => {
    app = await TestApp.start();
    a = await app.brand('Rule Lead');
    b = await app.brand('Rule Member');
    c = await app.brand('Rule Invitee');
    outsider = await app.brand('Rule Outsider');
    allianceId = await createAlliance(app, a, [b, c]);
    await app.ok(b.token, Q.respond, { a: allianceId, yes: true });
  });
  afterAll(() => app.stop());

  /** Runs a bad operation: expects `code`, a message matching `message`, and no change to the alliance. */
  async function refused(token: string, query: string, variables: Record<string, unknown>, code: string, message?: RegExp) {
    const before = await allianceFootprint(app, allianceId);
    const res = await app.gql(token, query, variables);
    expect({ codes: codes(res), message: res.errors?.[0]?.message }).toEqual({ codes: [code], message: message ? expect.stringMatching(message) : expect.any(String) });
    expect(await allianceFootprint(app, allianceId)).toEqual(before);
    return res;
  }

  const shares = (...s: [TestBrand, number][]) => s.map(([brand, basisPoints]) => ({ brandId: brand.id, basisPoints }));
  const proposal = (over: Record<string, unknown>) => ({ input: { allianceId, effectiveFrom: '2026-03-01T00:00:00Z', shares: shares([a, 5000], [b, 5000]), ...over } });

  describe('shares', () => {
    it.each([
      ['not summing to 10000', () => shares([a, 5000], [b, 4000]), /sum to 9000 basis points/],
      ['negative', () => shares([a, 11000], [b, -1000]), /between 0 and 10000/],
      ['for a non-member', () => shares([a, 4000], [b, 3000], [outsider, 3000]), /not an ACTIVE member/],
      ['for an invited brand', () => shares([a, 4000], [b, 3000], [c, 3000]), /not an ACTIVE member/],
      ['missing a member', () => shares([a, 10000]), /has no share/],
      ['twice for one brand', () => shares([a, 5000], [a, 2500], [b, 2500]), /more than one share/],
    ])('%s: BAD_USER_INPUT', async (_case, list, message) => {
      await refused(a.token, Q.propose, proposal({ shares: list() }), 'BAD_USER_INPUT', message);
    });

    it('an unknown brand id is refused like a non-member', async () => {
      await refused(a.token, Q.propose, proposal({ shares: [...shares([a, 5000], [b, 4000]), { brandId: crypto.randomUUID(), basisPoints: 1000 }] }), 'BAD_USER_INPUT', /not an ACTIVE member/);
    });
  });

  describe('agreements', () => {
    it('effectiveTo before effectiveFrom: BAD_USER_INPUT', async () => {
      await refused(a.token, Q.propose, proposal({ effectiveTo: '2026-02-01T00:00:00Z' }), 'BAD_USER_INPUT', /effectiveTo must be later/);
    });

    it('a malformed time: BAD_USER_INPUT', async () => {
      await refused(a.token, Q.propose, proposal({ effectiveFrom: 'next tuesday' }), 'BAD_USER_INPUT');
    });

    it('an outsider, or an invited brand, cannot propose', async () => {
      await refused(outsider.token, Q.propose, proposal({}), 'NOT_FOUND', /Alliance not found/);
      await refused(c.token, Q.propose, proposal({}), 'FORBIDDEN', /accept the invitation first/);
    });

    it('accepting twice, accepting a decided agreement, and a second open proposal are CONFLICTs', async () => {
      const v1 = await propose(app, a, allianceId, [[a, 5000], [b, 5000]]);
      await refused(a.token, Q.accept, { id: v1.id }, 'CONFLICT', /already accepted/);
      await refused(b.token, Q.propose, proposal({}), 'CONFLICT', /version 1 is still open/);
      await app.ok(b.token, Q.accept, { id: v1.id });
      await refused(b.token, Q.accept, { id: v1.id }, 'CONFLICT', /is ACTIVE; only a PROPOSED/);
      await refused(b.token, Q.reject, { id: v1.id }, 'CONFLICT', /is ACTIVE/);
    });

    it('a new version may not start before the one in force', async () => {
      await refused(a.token, Q.propose, proposal({ effectiveFrom: '2025-12-31T00:00:00Z' }), 'BAD_USER_INPUT', /must not precede/);
    });

    it('a rejected proposal stays rejected; unknown and foreign agreement ids are NOT_FOUND', async () => {
      const v2 = await propose(app, b, allianceId, [[a, 3000], [b, 7000]], '2026-04-01T00:00:00Z');
      const rejected = await app.ok(a.token, Q.reject, { id: v2.id });
      expect(rejected.rejectAgreement.status).toBe('REJECTED');
      await refused(b.token, Q.accept, { id: v2.id }, 'CONFLICT', /REJECTED/);
      await refused(outsider.token, Q.accept, { id: v2.id }, 'NOT_FOUND', /Agreement not found/);
      await refused(a.token, Q.accept, { id: crypto.randomUUID() }, 'NOT_FOUND', /Agreement not found/);
      await refused(a.token, Q.accept, { id: 'not-an-id' }, 'NOT_FOUND', /Agreement not found/);
    });

    it('two proposals racing each other: one wins, the other gets CONFLICT', async () => {
      const race = (who: TestBrand, bp: number) =>
        app.gql(who.token, Q.propose, proposal({ effectiveFrom: '2026-05-01T00:00:00Z', shares: shares([a, bp], [b, 10000 - bp]) }));
      const results = await Promise.all([race(a, 6000), race(b, 4000), race(a, 7000)]);
      const won = results.filter((r) => !r.errors);
      expect(won).toHaveLength(1);
      expect(results.filter((r) => codes(r)[0] === 'CONFLICT')).toHaveLength(2);
      const [row] = await app.sql(`select count(*)::int as n from agreements where alliance_id = $1 and status = 'PROPOSED'`, [allianceId]);
      expect(row.n).toBe(1);
      await app.ok(a.token, Q.reject, { id: won[0].data.proposeAgreement.id });
    });
  });

  describe('membership', () => {
    it('inviting an existing member or an invited brand is a CONFLICT', async () => {
      await refused(a.token, Q.invite, { a: allianceId, b: b.id }, 'CONFLICT', /already an ACTIVE member/);
      await refused(a.token, Q.invite, { a: allianceId, b: c.id }, 'CONFLICT', /already been invited/);
      await refused(a.token, Q.invite, { a: allianceId, b: a.id }, 'CONFLICT', /already an ACTIVE member/);
    });

    it('unknown or malformed brand ids are NOT_FOUND', async () => {
      await refused(a.token, Q.invite, { a: allianceId, b: crypto.randomUUID() }, 'NOT_FOUND', /Brand/);
      await refused(a.token, Q.invite, { a: allianceId, b: 'nobody' }, 'NOT_FOUND', /Brand/);
      const res = await app.gql(a.token, Q.create, { input: { name: 'Ghosts', inviteBrandIds: [crypto.randomUUID()] } });
      expect(codes(res)).toEqual(['NOT_FOUND']);
      const [row] = await app.sql(`select count(*)::int as n from alliances where name = 'Ghosts'`);
      expect(row.n).toBe(0);
    });

    it('only the LEAD invites; an outsider cannot even find the alliance', async () => {
      await refused(b.token, Q.invite, { a: allianceId, b: outsider.id }, 'FORBIDDEN', /Only the alliance's LEAD/);
      await refused(outsider.token, Q.invite, { a: allianceId, b: outsider.id }, 'NOT_FOUND', /Alliance not found/);
      const analyst = app.token(a.id, [Role.ANALYST]);
      await refused(analyst, Q.invite, { a: allianceId, b: outsider.id }, 'FORBIDDEN');
    });

    it('responding to no invitation is NOT_FOUND; a member responding is a CONFLICT', async () => {
      await refused(outsider.token, Q.respond, { a: allianceId, yes: true }, 'NOT_FOUND', /Invitation not found/);
      await refused(b.token, Q.respond, { a: allianceId, yes: true }, 'CONFLICT', /already an ACTIVE member/);
      await refused(a.token, Q.respond, { a: crypto.randomUUID(), yes: true }, 'NOT_FOUND', /Invitation not found/);
    });

    it('an invited brand declines rather than leaves; creating with yourself invited is BAD_USER_INPUT', async () => {
      await refused(c.token, Q.leave, { a: allianceId }, 'CONFLICT', /decline the invitation instead/);
      await refused(outsider.token, Q.leave, { a: allianceId }, 'NOT_FOUND');
      const res = await app.gql(a.token, Q.create, { input: { name: 'Me, myself', inviteBrandIds: [a.id] } });
      expect(codes(res)).toEqual(['BAD_USER_INPUT']);
    });

    it('joint courses need an ACTIVE alliance and an ACTIVE member', async () => {
      const forming = await createAlliance(app, a, [b], 'Still forming');
      await app.ok(b.token, Q.respond, { a: forming, yes: true });
      const course = { title: 'Joint', topics: [], level: 'BEGINNER', format: 'VIDEO', price: { amountMinor: 100, currency: 'USD' } };
      const create = 'mutation($input: CreateCourseInput!) { createCourse(input: $input) { id } }';
      expect(codes(await app.gql(a.token, create, { input: { ...course, allianceId: forming } }))).toEqual(['CONFLICT']);
      expect(codes(await app.gql(outsider.token, create, { input: { ...course, allianceId } }))).toEqual(['NOT_FOUND']);
      expect(codes(await app.gql(c.token, create, { input: { ...course, allianceId } }))).toEqual(['FORBIDDEN']);
      const [row] = await app.sql(`select count(*)::int as n from courses where title = 'Joint'`);
      expect(row.n).toBe(0);
    });

    it('a DISSOLVED alliance accepts no proposals, invitations or answers', async () => {
      const short = await createAlliance(app, a, [b, c], 'Short-lived');
      await app.ok(b.token, Q.respond, { a: short, yes: true });
      await app.ok(b.token, Q.leave, { a: short });
      const [state] = await app.sql(`select status from alliances where id = $1`, [short]);
      expect(state.status).toBe('DISSOLVED');
      expect(codes(await app.gql(a.token, Q.propose, { input: { allianceId: short, effectiveFrom: '2026-01-01T00:00:00Z', shares: shares([a, 10000]) } }))).toEqual(['CONFLICT']);
      expect(codes(await app.gql(a.token, Q.invite, { a: short, b: outsider.id }))).toEqual(['CONFLICT']);
      expect(codes(await app.gql(c.token, Q.respond, { a: short, yes: true }))).toEqual(['CONFLICT']);
    });
  });

  describe('partner suggestions', () => {
    it('rank brands not yet allied by how much they fill the caller\'s gaps, and say why', async () => {
      const own = await app.brand('Gap Co', 'KNOWLEDGE_PLATFORM', { content: 0.9, technology: 0.8, channels: 0.2, audience: 0.3, venue: 0.1, capital: 0.5 });
      const venue = await app.brand('Venue Partner', 'SPORTS_ORGANIZATION', { venue: 0.9, audience: 0.8 });
      const tech = await app.brand('Tech Twin', 'TECH_VENDOR', { technology: 0.9, content: 0.9 });
      const res = await app.ok(own.token, '{ partnerSuggestions(first: 100) { brand { id name } complementarity unmetDemands reason } }');
      const list = res.partnerSuggestions;
      const scores = list.map((s: any) => s.complementarity);
      expect(scores).toEqual([...scores].sort((x: number, y: number) => y - x));
      expect(list.map((s: any) => s.brand.id)).not.toContain(own.id);
      const v = list.find((s: any) => s.brand.id === venue.id);
      // Gaps: content .1, technology .2, channels .8, audience .7, venue .9, capital .5 = 3.2;
      // fills: audience .7, venue .9 = 1.6; 1.6 / 3.2 = 0.5.
      expect(v.complementarity).toBeCloseTo(0.5, 10);
      expect(v.reason).toBe('Fills your gaps in venue (0.90 against your 0.10), audience (0.80 against your 0.30).');
      expect(v.unmetDemands).toEqual([]);
      const t = list.find((s: any) => s.brand.id === tech.id);
      expect(t.complementarity).toBeCloseTo(0.3 / 3.2, 4);
      expect(list.indexOf(v)).toBeLessThan(list.indexOf(t));

      const allianceWithVenue = await createAlliance(app, own, [venue], 'Gap and Venue');
      await app.ok(venue.token, Q.respond, { a: allianceWithVenue, yes: true });
      const after = await app.ok(own.token, '{ partnerSuggestions(first: 100) { brand { id } } }');
      expect(after.partnerSuggestions.map((s: any) => s.brand.id)).not.toContain(venue.id);
      const capped = await app.ok(own.token, '{ partnerSuggestions(first: 1) { brand { id } } }');
      expect(capped.partnerSuggestions).toHaveLength(1);
      expect(codes(await app.gql(own.token, '{ partnerSuggestions(first: 500) { reason } }'))).toEqual(['BAD_USER_INPUT']);
    });
  });
});
