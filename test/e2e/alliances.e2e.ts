import { Q, createAlliance, propose } from '../support/alliances';
import { codes, TestApp, type TestBrand } from '../support/server';

/**
 * The whole life of an alliance with three brands and an outsider: invite,
 * accept, decline, propose, accept by all, supersede, leave, lead hand-over,
 * dissolve. At every step the outsider and the declined brand see nothing.
 */
describe('alliance lifecycle', () => {
  let app: TestApp;
  let a: TestBrand; // the lead
  let b: TestBrand;
  let c: TestBrand;
  let outsider: TestBrand;
  let allianceId: string;
  const agreementIds: string[] = [];
  let jointCourse: string;
  let aPublished: string;

  beforeAll(async () => {
    app = await TestApp.start();
    a = await app.brand('Summit Learning', 'KNOWLEDGE_PLATFORM', { content: 0.9, venue: 0.1 });
    b = await app.brand('Harbor FC', 'SPORTS_ORGANIZATION', { venue: 0.95, audience: 0.8 });
    c = await app.brand('Pixel Tech', 'TECH_VENDOR', { technology: 0.9 });
    outsider = await app.brand('Nosy Corp', 'ADVERTISER');
    aPublished = await app.course(a, { title: 'Summit Published' });
    await app.ok(a.token, 'mutation($id: ID!) { updateCourse(id: $id, input: { status: PUBLISHED }) { id } }', { id: aPublished });
  });
  afterAll(() => app.stop());

  const view = async (who: TestBrand) => (await app.ok(who.token, Q.view, { id: allianceId })).alliance;

  /** What an outsider (or a brand that declined or left) must see: nothing at all. */
  async function seesNothing(who: TestBrand) {
    const res = await app.ok(who.token, `query($id: ID!) {
      alliance(id: $id) { id }
      node(id: $id) { id }
      alliances(first: 100) { edges { node { id } } }
    }`, { id: allianceId });
    expect(res.alliance).toBeNull();
    expect(res.node).toBeNull();
    expect(res.alliances.edges.map((e: any) => e.node.id)).not.toContain(allianceId);
    // The joint course's owner keeps its own course (without the alliance) after leaving.
    const ownsJoint = who.id === a.id;
    for (const id of [...agreementIds, ...(jointCourse && !ownsJoint ? [jointCourse] : [])]) {
      const node = await app.ok(who.token, 'query($id: ID!) { node(id: $id) { id } course(id: $id) { id } }', { id });
      expect(node).toEqual({ node: null, course: null });
    }
    const direct = await app.gql(who.token, 'mutation($id: ID!) { acceptAgreement(agreementId: $id) { id } }', { id: agreementIds[0] ?? allianceId });
    expect(codes(direct)).toEqual(['NOT_FOUND']);
    const catalog = await app.ok(who.token, '{ courses(first: 100, filter: { scope: PARTNERS }) { edges { node { id owner { id } } } } }');
    for (const e of catalog.courses.edges) expect(e.node.owner.id).toBe(who.id);
  }

  it('A creates the alliance as LEAD, inviting B and C', async () => {
    allianceId = await createAlliance(app, a, [b, c], 'Summit × Harbor');
    const seen = await view(a);
    expect(seen.status).toBe('FORMING');
    expect([seen.members[0].brand.id, seen.members[0].role]).toEqual([a.id, 'LEAD']);
    expect(new Map(seen.members.map((m: any) => [m.brand.id, m.status]))).toEqual(
      new Map([[a.id, 'ACTIVE'], [b.id, 'INVITED'], [c.id, 'INVITED']]),
    );
    expect(seen.auditLog.edges.map((e: any) => e.node.action).reverse()).toEqual(['ALLIANCE_CREATED', 'MEMBER_INVITED', 'MEMBER_INVITED']);
    await seesNothing(outsider);
  });

  it('an invited brand sees the invitation (name, purpose, lead, members) and nothing more', async () => {
    const seen = await view(b);
    expect(seen).toMatchObject({ name: 'Summit × Harbor', purpose: 'Joint courses', status: 'FORMING', activeAgreement: null, agreements: [] });
    expect(seen.members.find((m: any) => m.role === 'LEAD').brand.id).toBe(a.id);
    expect(seen.courses.totalCount).toBe(0);
    expect(seen.auditLog.totalCount).toBe(0);
    const listed = await app.ok(b.token, '{ alliances { edges { node { id status } } } }');
    expect(listed.alliances.edges).toEqual([{ node: { id: allianceId, status: 'FORMING' } }]);
  });

  it('B accepts and C declines; C then sees nothing', async () => {
    const accepted = await app.ok(b.token, Q.respond, { a: allianceId, yes: true });
    expect(accepted.respondToInvitation.members.find((m: any) => m.brand.id === b.id).status).toBe('ACTIVE');
    const declined = await app.ok(c.token, Q.respond, { a: allianceId, yes: false });
    expect(declined.respondToInvitation.members.find((m: any) => m.brand.id === c.id).status).toBe('DECLINED');
    await seesNothing(c);
    await seesNothing(outsider);
    expect((await view(a)).status).toBe('FORMING');
  });

  it('an agreement proposed by A and accepted by B comes into force; the alliance becomes ACTIVE', async () => {
    const v1 = await propose(app, a, allianceId, [[a, 6000], [b, 4000]]);
    agreementIds.push(v1.id);
    expect(v1).toMatchObject({ version: 1, status: 'PROPOSED', acceptances: [{ brand: { id: a.id } }] });
    expect((await view(a)).status).toBe('FORMING');
    const accepted = await app.ok(b.token, Q.accept, { id: v1.id });
    expect(accepted.acceptAgreement).toEqual({ id: v1.id, version: 1, status: 'ACTIVE', alliance: { status: 'ACTIVE' } });
    const seen = await view(b);
    expect(seen.status).toBe('ACTIVE');
    expect(seen.activeAgreement.shares).toEqual([
      { brand: { id: a.id }, basisPoints: 6000 },
      { brand: { id: b.id }, basisPoints: 4000 },
    ]);
    await seesNothing(c);
    await seesNothing(outsider);
  });

  it('joint courses are visible to ACTIVE members and editable only by their owner', async () => {
    const created = await app.ok(a.token, `mutation($input: CreateCourseInput!) { createCourse(input: $input) { id alliance { id name } owner { id } } }`, {
      input: { title: 'Matchday Analytics', topics: ['football', 'data'], level: 'INTERMEDIATE', format: 'VIDEO', price: { amountMinor: 9900, currency: 'USD' }, allianceId },
    });
    jointCourse = created.createCourse.id;
    expect(created.createCourse.alliance).toEqual({ id: allianceId, name: 'Summit × Harbor' });

    const bSees = await app.ok(b.token, `query($id: ID!, $a: ID) {
      course(id: $id) { title owner { id } alliance { id } }
      node(id: $id) { ... on Course { title } }
      alliance: courses(filter: { allianceId: $a }) { edges { node { id } } }
      scoped: courses { edges { node { id } } }
      own: courses(filter: { scope: OWN }) { edges { node { id } } }
      partners: courses(filter: { scope: PARTNERS }) { edges { node { id } } }
    }`, { id: jointCourse, a: allianceId });
    expect(bSees.course).toEqual({ title: 'Matchday Analytics', owner: { id: a.id }, alliance: { id: allianceId } });
    expect(bSees.node).toEqual({ title: 'Matchday Analytics' });
    expect(bSees.alliance.edges).toEqual([{ node: { id: jointCourse } }]);
    expect(bSees.scoped.edges.map((e: any) => e.node.id)).toContain(jointCourse);
    expect(bSees.own.edges.map((e: any) => e.node.id)).not.toContain(jointCourse);
    expect(bSees.partners.edges.map((e: any) => e.node.id)).toEqual(expect.arrayContaining([jointCourse, aPublished]));
    expect((await view(b)).courses.edges.map((e: any) => e.node.id)).toEqual([jointCourse]);

    const edit = await app.gql(b.token, 'mutation($id: ID!) { updateCourse(id: $id, input: { title: "mine now" }) { id } }', { id: jointCourse });
    expect(codes(edit)).toEqual(['FORBIDDEN']);
    await seesNothing(c);
    await seesNothing(outsider);
  });

  it('C is invited again and joins; a second version supersedes the first from its effectiveFrom', async () => {
    await app.ok(a.token, Q.invite, { a: allianceId, b: c.id });
    await app.ok(c.token, Q.respond, { a: allianceId, yes: true });
    const v2 = await propose(app, a, allianceId, [[a, 5000], [b, 3000], [c, 2000]], '2026-06-01T00:00:00Z');
    agreementIds.push(v2.id);
    await app.ok(b.token, Q.accept, { id: v2.id });
    expect((await view(a)).activeAgreement.version).toBe(1);
    await app.ok(c.token, Q.accept, { id: v2.id });
    const seen = await view(c);
    expect(seen.activeAgreement.version).toBe(2);
    expect(seen.agreements.map((g: any) => [g.version, g.status, g.effectiveTo])).toEqual([
      [2, 'ACTIVE', null],
      [1, 'SUPERSEDED', '2026-06-01T00:00:00.000Z'],
    ]);
    expect(seen.status).toBe('ACTIVE');
  });

  it('the LEAD leaves: B, the longest-standing member, leads; the agreement that paid A ends', async () => {
    const left = await app.ok(a.token, Q.leave, { a: allianceId });
    expect(left.leaveAlliance.members.find((m: any) => m.brand.id === a.id)).toMatchObject({ status: 'LEFT', role: 'MEMBER' });
    const seen = await view(b);
    expect(seen.members.find((m: any) => m.role === 'LEAD').brand.id).toBe(b.id);
    expect(seen.activeAgreement).toBeNull();
    expect(seen.agreements[0]).toMatchObject({ version: 2, status: 'SUPERSEDED' });
    expect(seen.status).toBe('FORMING');
    const actions = seen.auditLog.edges.map((e: any) => e.node.action);
    expect(actions.slice(0, 4)).toEqual(['STATUS_CHANGED', 'AGREEMENT_ENDED', 'LEAD_TRANSFERRED', 'MEMBER_LEFT']);
    await seesNothing(a);
    const kept = await app.ok(a.token, 'query($id: ID!) { course(id: $id) { title alliance { id } } }', { id: jointCourse });
    expect(kept.course).toEqual({ title: 'Matchday Analytics', alliance: null });
  });

  it('B and C agree on version 3; then C leaves and the alliance dissolves', async () => {
    const v3 = await propose(app, b, allianceId, [[b, 5000], [c, 5000]], '2026-09-01T00:00:00Z');
    agreementIds.push(v3.id);
    await app.ok(c.token, Q.accept, { id: v3.id });
    expect((await view(b)).status).toBe('ACTIVE');
    await app.ok(c.token, Q.leave, { a: allianceId });
    const seen = await view(b);
    expect(seen.status).toBe('DISSOLVED');
    expect(seen.activeAgreement).toBeNull();
    const again = await app.gql(b.token, Q.propose, { input: { allianceId, effectiveFrom: '2027-01-01T00:00:00Z', shares: [{ brandId: b.id, basisPoints: 10000 }] } });
    expect(codes(again)).toEqual(['CONFLICT']);
    for (const who of [a, c, outsider]) await seesNothing(who);
  });

  it('the audit log tells the whole story to ACTIVE members, who did what, with before and after', async () => {
    const seen = await view(b);
    const entries = seen.auditLog.edges.map((e: any) => e.node).reverse();
    expect(entries.map((e: any) => e.action)).toEqual([
      'ALLIANCE_CREATED', 'MEMBER_INVITED', 'MEMBER_INVITED',
      'INVITATION_ACCEPTED', 'INVITATION_DECLINED',
      'AGREEMENT_PROPOSED', 'AGREEMENT_ACCEPTED', 'AGREEMENT_ACCEPTED', 'AGREEMENT_ACTIVATED', 'STATUS_CHANGED',
      'MEMBER_INVITED', 'INVITATION_ACCEPTED',
      'AGREEMENT_PROPOSED', 'AGREEMENT_ACCEPTED', 'AGREEMENT_ACCEPTED', 'AGREEMENT_ACCEPTED', 'AGREEMENT_SUPERSEDED', 'AGREEMENT_ACTIVATED',
      'MEMBER_LEFT', 'LEAD_TRANSFERRED', 'AGREEMENT_ENDED', 'STATUS_CHANGED',
      'AGREEMENT_PROPOSED', 'AGREEMENT_ACCEPTED', 'AGREEMENT_ACCEPTED', 'AGREEMENT_ACTIVATED', 'STATUS_CHANGED',
      'MEMBER_LEFT', 'AGREEMENT_ENDED', 'STATUS_CHANGED',
    ]);
    expect(entries[4]).toMatchObject({ actor: { id: c.id }, before: { status: 'INVITED' }, after: { status: 'DECLINED' } });
    expect(entries[5].after).toMatchObject({ version: 1, shares: [{ brandId: a.id, basisPoints: 6000 }, { brandId: b.id, basisPoints: 4000 }] });
    expect(entries.at(-1)).toMatchObject({ actor: { id: c.id }, before: { status: 'ACTIVE' }, after: { status: 'DISSOLVED' } });
    // Append-only: the application role may not change or delete entries.
    const grants = await app.sql(
      `select privilege_type from information_schema.role_table_grants where grantee = 'allied_app' and table_name = 'alliance_audit' order by 1`,
    );
    expect(grants.map((g: any) => g.privilege_type)).toEqual(['INSERT', 'SELECT']);
  });
});
