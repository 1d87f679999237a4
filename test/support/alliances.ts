import type { TestApp, TestBrand } from './server';

/** GraphQL operations of the alliance suites, and helpers that fail the test on any error. */
export const Q = {
  create: `mutation($input: CreateAllianceInput!) { createAlliance(input: $input) { id status members { brand { id } role status } } }`,
  invite: `mutation($a: ID!, $b: ID!) { inviteToAlliance(allianceId: $a, brandId: $b) { id members { brand { id } status } } }`,
  respond: `mutation($a: ID!, $yes: Boolean!) { respondToInvitation(allianceId: $a, accept: $yes) { id status members { brand { id } role status } } }`,
  leave: `mutation($a: ID!) { leaveAlliance(allianceId: $a) { id status members { brand { id } role status } } }`,
  propose: `mutation($input: ProposeAgreementInput!) { proposeAgreement(input: $input) { id version status effectiveFrom effectiveTo shares { brand { id } basisPoints } acceptances { brand { id } } } }`,
  accept: `mutation($id: ID!) { acceptAgreement(agreementId: $id) { id version status alliance { status } } }`,
  reject: `mutation($id: ID!) { rejectAgreement(agreementId: $id) { id version status } }`,
  view: `query($id: ID!) { alliance(id: $id) {
    id name purpose status
    members { brand { id } role status joinedAt }
    activeAgreement { id version shares { brand { id } basisPoints } }
    agreements { id version status effectiveFrom effectiveTo }
    courses { totalCount edges { node { id title owner { id } alliance { id } } } }
    auditLog(first: 100) { totalCount edges { node { action actor { id } actorSubject before after } } }
  } }`,
};

export async function createAlliance(app: TestApp, lead: TestBrand, invite: TestBrand[], name = 'Alliance'): Promise<string> {
  const data = await app.ok(lead.token, Q.create, { input: { name, purpose: 'Joint courses', inviteBrandIds: invite.map((b) => b.id) } });
  return data.createAlliance.id;
}

export async function propose(app: TestApp, by: TestBrand, allianceId: string, shares: [TestBrand, number][], effectiveFrom = '2026-01-01T00:00:00Z') {
  const data = await app.ok(by.token, Q.propose, {
    input: { allianceId, effectiveFrom, shares: shares.map(([b, basisPoints]) => ({ brandId: b.id, basisPoints })), obligations: ['content', 'venue'] },
  });
  return data.proposeAgreement;
}

/** Row counts of everything an alliance owns, read as the owner: "nothing changed" is these staying equal. */
export async function allianceFootprint(app: TestApp, allianceId: string) {
  const [row] = await app.sql(
    `select (select count(*) from alliance_members where alliance_id = $1)::int as members,
            (select string_agg(brand_id || ':' || status || ':' || role, ',' order by brand_id) from alliance_members where alliance_id = $1) as membership,
            (select count(*) from agreements where alliance_id = $1)::int as agreements,
            (select string_agg(version || ':' || status, ',' order by version) from agreements where alliance_id = $1) as versions,
            (select count(*) from agreement_acceptances where alliance_id = $1)::int as acceptances,
            (select count(*) from alliance_audit where alliance_id = $1)::int as audit,
            (select status from alliances where id = $1) as status`,
    [allianceId],
  );
  return row;
}

/** An ACTIVE alliance of `lead` and `others` (who accept), with an agreement in force from `effectiveFrom`. */
export async function activeAlliance(
  app: TestApp,
  lead: TestBrand,
  others: TestBrand[],
  shares: [TestBrand, number][],
  effectiveFrom = '2026-01-01T00:00:00Z',
): Promise<{ allianceId: string; agreementId: string }> {
  const allianceId = await createAlliance(app, lead, others);
  for (const b of others) await app.ok(b.token, Q.respond, { a: allianceId, yes: true });
  const agreement = await propose(app, lead, allianceId, shares, effectiveFrom);
  for (const b of others) await app.ok(b.token, Q.accept, { id: agreement.id });
  return { allianceId, agreementId: agreement.id };
}
