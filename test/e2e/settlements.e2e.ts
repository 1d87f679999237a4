import { Q, activeAlliance, propose } from '../support/alliances';
import { codes, TestApp, type TestBrand } from '../support/server';
import { FINALIZE, READ, RECORD, RUN, lineAmounts, runSettlement } from '../support/settlements';

/**
 * Settlements end to end, with worked examples whose numbers are exact:
 * shares 3333/3333/3334 of 100, 5000/3000/2000 of 999, a share change
 * mid-period, two currencies, unsettled events, a refund after finalization
 * (a period with only refunds), finalization rules, export and isolation.
 */
describe('settlements', () => {
  let app: TestApp;
  let a: TestBrand; // LEAD
  let b: TestBrand;
  let c: TestBrand;
  let invited: TestBrand;
  let outsider: TestBrand;
  let allianceId: string;
  let joint: string;
  let seq = 0;

  const buy = (by: TestBrand, key: string, at: string, amountMinor: number, currency = 'USD') =>
    app.ok(by.token, RECORD, {
      events: [{ idempotencyKey: key, type: 'PURCHASE', learnerExternalId: `learner-${++seq}`, occurredAt: at, courseId: joint, amount: { amountMinor, currency } }],
    });
  const run = (currency: string, from: string, to: string, by = a) => runSettlement(app, by, allianceId, currency, from, to);
  const runRaw = (by: TestBrand, currency: string, from: string, to: string) =>
    app.gql(by.token, RUN, { i: { allianceId, currency, periodStart: from, periodEnd: to } });

  beforeAll(async () => {
    app = await TestApp.start();
    a = await app.brand('Settle Academy');
    b = await app.brand('Settle Club', 'SPORTS_ORGANIZATION');
    c = await app.brand('Settle Sponsor', 'SPONSOR');
    invited = await app.brand('Settle Invitee');
    outsider = await app.brand('Settle Outsider');
    ({ allianceId } = await activeAlliance(app, a, [b, c], [[a, 3333], [b, 3333], [c, 3334]], '2025-01-01T00:00:00Z'));
    const v2 = await propose(app, a, allianceId, [[a, 5000], [b, 3000], [c, 2000]], '2025-02-01T00:00:00Z');
    for (const x of [b, c]) await app.ok(x.token, Q.accept, { id: v2.id });
    await app.ok(a.token, Q.invite, { a: allianceId, b: invited.id });
    joint = await app.course(a, { title: 'Joint course', allianceId });

    await buy(a, 'dec-70', '2024-12-20T10:00:00Z', 70); // before any agreement: unsettled
    await buy(b, 'jan-100', '2025-01-10T10:00:00Z', 100);
    await buy(a, 'jan-eur-500', '2025-01-12T10:00:00Z', 500, 'EUR');
    await buy(b, 'feb-999', '2025-02-10T10:00:00Z', 999);
  });
  afterAll(() => app.stop());

  it('reports events with no agreement in force as unsettled, paying no one', async () => {
    const s = await run('USD', '2024-12-01T00:00:00Z', '2025-01-01T00:00:00Z');
    expect(s).toMatchObject({ status: 'DRAFT', eventCount: 0, unsettledEventCount: 1, net: { amountMinor: 0, currency: 'USD' }, lines: [] });
    expect(s.unsettledFrom).toBe('2024-12-20T10:00:00.000Z');
    expect(s.unsettledTo).toBe('2024-12-20T10:00:00.000Z');
  });

  it('splits 100 by 3333/3333/3334 and 999 by 5000/3000/2000 exactly, per agreement version across a share change', async () => {
    const jan = await run('USD', '2025-01-01T00:00:00Z', '2025-02-01T00:00:00Z');
    expect(lineAmounts(jan)).toEqual(
      [[a.id, 1, 33], [b.id, 1, 33], [c.id, 1, 34]].sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
    );
    const feb = await run('USD', '2025-02-01T00:00:00Z', '2025-03-01T00:00:00Z');
    expect(new Map(lineAmounts(feb).map(([id, , amount]) => [id, amount]))).toEqual(new Map([[a.id, 499], [b.id, 300], [c.id, 200]]));
    expect(feb.lines.every((l: any) => l.agreementVersion === 2 && l.versionNet.amountMinor === 999)).toBe(true);

    const both = await run('USD', '2025-01-01T00:00:00Z', '2025-03-01T00:00:00Z');
    expect(both).toMatchObject({ gross: { amountMinor: 1099 }, refunds: { amountMinor: 0 }, net: { amountMinor: 1099 }, eventCount: 2, unsettledEventCount: 0 });
    const byVersion = (v: number) => new Map(both.lines.filter((l: any) => l.agreementVersion === v).map((l: any) => [l.brand.id, l.amount.amountMinor]));
    expect(byVersion(1)).toEqual(new Map([[a.id, 33], [b.id, 33], [c.id, 34]]));
    expect(byVersion(2)).toEqual(new Map([[a.id, 499], [b.id, 300], [c.id, 200]]));
    expect(both.lines.reduce((s: number, l: any) => s + l.amount.amountMinor, 0)).toBe(both.net.amountMinor);
    expect(both.lines.find((l: any) => l.brand.id === c.id && l.agreementVersion === 1).shareBasisPoints).toBe(3334);
  });

  it('settles each currency on its own; equal remainders go to the lower brand id', async () => {
    const eur = await run('EUR', '2025-01-01T00:00:00Z', '2025-02-01T00:00:00Z');
    expect(eur.net).toEqual({ amountMinor: 500, currency: 'EUR' });
    // 500 × 3333/10000 = 166.65 (twice), × 3334/10000 = 166.7: floors leave 2, for C (.7) then the lower of A and B (.65).
    const [low, high] = [a.id, b.id].sort();
    expect(new Map(lineAmounts(eur).map(([id, , amount]) => [id, amount]))).toEqual(new Map([[c.id, 167], [low, 167], [high, 166]]));
    const usd = await run('USD', '2025-01-01T00:00:00Z', '2025-02-01T00:00:00Z');
    expect(usd.net.amountMinor).toBe(100);
  });

  it('recomputes a DRAFT in place when run again', async () => {
    const first = await run('USD', '2025-04-01T00:00:00Z', '2025-05-01T00:00:00Z');
    expect(first.eventCount).toBe(0);
    await buy(b, 'apr-1000', '2025-04-02T00:00:00Z', 1000);
    const second = await run('USD', '2025-04-01T00:00:00Z', '2025-05-01T00:00:00Z', b);
    expect(second.id).toBe(first.id);
    expect(second).toMatchObject({ eventCount: 1, net: { amountMinor: 1000 }, createdAt: first.createdAt });
    expect(Date.parse(second.computedAt)).toBeGreaterThanOrEqual(Date.parse(first.computedAt));
  });

  it('finalizes only as the LEAD, once, for an ended period; FINALIZED periods never overlap', async () => {
    const jan = await run('USD', '2025-01-01T00:00:00Z', '2025-02-01T00:00:00Z');
    expect(codes(await app.gql(b.token, FINALIZE, { id: jan.id }))).toEqual(['FORBIDDEN']);
    const now = Date.now();
    const future = await run('USD', new Date(now - 86_400_000).toISOString(), new Date(now + 86_400_000).toISOString());
    expect(codes(await app.gql(a.token, FINALIZE, { id: future.id }))).toEqual(['BAD_USER_INPUT']);

    const done = (await app.ok(a.token, FINALIZE, { id: jan.id })).finalizeSettlement;
    expect(done).toMatchObject({ id: jan.id, status: 'FINALIZED', net: { amountMinor: 100 } });
    expect(done.finalizedAt).not.toBeNull();
    expect(codes(await app.gql(a.token, FINALIZE, { id: jan.id }))).toEqual(['CONFLICT']);
    expect(codes(await runRaw(a, 'USD', '2025-01-01T00:00:00Z', '2025-02-01T00:00:00Z'))).toEqual(['CONFLICT']);
    expect(codes(await runRaw(b, 'USD', '2025-01-15T00:00:00Z', '2025-02-15T00:00:00Z'))).toEqual(['CONFLICT']);
    // The January–February DRAFT overlaps the FINALIZED January: it can no longer be finalized.
    const [{ id: both }] = await app.sql(`select id from settlements where alliance_id = $1 and period_start = '2025-01-01' and period_end = '2025-03-01'`, [allianceId]);
    expect(codes(await app.gql(a.token, FINALIZE, { id: both }))).toEqual(['CONFLICT']);
    // Another currency is another ledger.
    const eur = await run('EUR', '2025-01-01T00:00:00Z', '2025-02-01T00:00:00Z');
    expect(eur.status).toBe('DRAFT');
    // Even the database owner cannot change it.
    await expect(app.sql(`update settlements set net_minor = 0, gross_minor = 0 where id = $1`, [jan.id])).rejects.toThrow(/FINALIZED/);
    await expect(app.sql(`delete from settlement_lines where settlement_id = $1`, [jan.id])).rejects.toThrow(/FINALIZED/);
    expect((await app.ok(c.token, READ, { id: jan.id })).settlement).toMatchObject({ status: 'FINALIZED', net: { amountMinor: 100 } });
  });

  it('claws back a refund of a settled purchase in the next settlement, by the share that applied to the purchase', async () => {
    await app.ok(b.token, RECORD, {
      events: [{ idempotencyKey: 'mar-refund-40', type: 'REFUND', learnerExternalId: 'refunder', occurredAt: '2025-03-10T00:00:00Z', courseId: joint, refundOf: 'jan-100', amount: { amountMinor: 40, currency: 'USD' } }],
    });
    const mar = await run('USD', '2025-03-01T00:00:00Z', '2025-04-01T00:00:00Z');
    // Only a refund: gross 0, net −40, split by version 1 (3333/3333/3334) as −13, −13, −14.
    expect(mar).toMatchObject({ gross: { amountMinor: 0 }, refunds: { amountMinor: 40 }, clawbacks: { amountMinor: 40 }, net: { amountMinor: -40 }, eventCount: 1 });
    expect(new Map(lineAmounts(mar).map(([id, v, amount]) => [id, [v, amount]]))).toEqual(new Map([[a.id, [1, -13]], [b.id, [1, -13]], [c.id, [1, -14]]]));
    // The finalized January is untouched.
    const [jan] = await app.sql(`select net_minor::int as net from settlements where alliance_id = $1 and status = 'FINALIZED' and currency = 'USD'`, [allianceId]);
    expect(jan.net).toBe(100);
  });

  it('a refund in the same period simply reduces the purchase', async () => {
    await buy(a, 'may-300', '2025-05-03T00:00:00Z', 300);
    await app.ok(a.token, RECORD, {
      events: [{ idempotencyKey: 'may-refund-300', type: 'REFUND', learnerExternalId: 'x', occurredAt: '2025-05-04T00:00:00Z', courseId: joint, refundOf: 'may-300', amount: { amountMinor: 300, currency: 'USD' } }],
    });
    const may = await run('USD', '2025-05-01T00:00:00Z', '2025-06-01T00:00:00Z');
    expect(may).toMatchObject({ gross: { amountMinor: 300 }, refunds: { amountMinor: 300 }, clawbacks: { amountMinor: 0 }, net: { amountMinor: 0 }, eventCount: 2 });
    expect(may.lines.every((l: any) => l.amount.amountMinor === 0)).toBe(true);
  });

  it('refuses to finalize figures that changed since the run', async () => {
    const mar = await run('USD', '2025-03-01T00:00:00Z', '2025-04-01T00:00:00Z');
    await buy(b, 'mar-late-50', '2025-03-20T00:00:00Z', 50);
    expect(codes(await app.gql(a.token, FINALIZE, { id: mar.id }))).toEqual(['CONFLICT']);
    const rerun = await run('USD', '2025-03-01T00:00:00Z', '2025-04-01T00:00:00Z');
    expect(rerun.net.amountMinor).toBe(10);
    const done = (await app.ok(a.token, FINALIZE, { id: mar.id })).finalizeSettlement;
    expect(done.status).toBe('FINALIZED');
    expect(done.lines.reduce((s: number, l: any) => s + l.amount.amountMinor, 0)).toBe(10);
  });

  it('records every run and finalization in the audit log', async () => {
    const log = (await app.ok(b.token, `query($id: ID!) { alliance(id: $id) { auditLog(first: 100) { edges { node { action actor { id } after } } } } }`, { id: allianceId })).alliance.auditLog.edges.map((e: any) => e.node);
    const runs = log.filter((e: any) => e.action === 'SETTLEMENT_RUN');
    const finals = log.filter((e: any) => e.action === 'SETTLEMENT_FINALIZED');
    expect(runs.length).toBeGreaterThanOrEqual(12);
    expect(finals.map((e: any) => e.after.status)).toEqual(['FINALIZED', 'FINALIZED']);
    expect(finals.every((e: any) => e.actor.id === a.id)).toBe(true);
  });

  it('refuses an agreement taking effect inside a FINALIZED period', async () => {
    const res = await app.gql(a.token, Q.propose, {
      input: { allianceId, effectiveFrom: '2025-03-15T00:00:00Z', shares: [{ brandId: a.id, basisPoints: 10000 }, { brandId: b.id, basisPoints: 0 }, { brandId: c.id, basisPoints: 0 }] },
    });
    expect(codes(res)).toEqual(['BAD_USER_INPUT']);
    expect(res.errors![0].message).toMatch(/FINALIZED/);
  });

  it('exports CSV, one row per line, to the same readers', async () => {
    const [{ id }] = await app.sql(`select id from settlements where alliance_id = $1 and status = 'FINALIZED' and period_start = '2025-01-01'`, [allianceId]);
    const res = await app.http.get(`/settlements/${id}.csv`).set('authorization', `Bearer ${b.token}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    const rows = res.text.trimEnd().split('\r\n').map((r) => r.split(','));
    expect(rows[0]).toEqual(['settlement_id', 'alliance_id', 'currency', 'period_start', 'period_end', 'status', 'agreement_version', 'agreement_id', 'brand_id', 'brand_name', 'share_basis_points', 'version_net_minor', 'amount_minor', 'line_type', 'payer_brand_id', 'points']);
    expect(rows.slice(1).every((r) => r[13] === 'REVENUE')).toBe(true);
    expect(rows.length).toBe(4);
    expect(rows.slice(1).map((r) => [r[8], Number(r[12])]).sort()).toEqual([[a.id, 33], [b.id, 33], [c.id, 34]].sort());
    expect(rows.slice(1).every((r) => r[5] === 'FINALIZED' && r[2] === 'USD' && r[3] === '2025-01-01T00:00:00.000Z')).toBe(true);

    expect((await app.http.get(`/settlements/${id}.csv`)).status).toBe(401);
    expect((await app.http.get(`/settlements/${id}.csv`).set('authorization', `Bearer ${outsider.token}`)).status).toBe(404);
    expect((await app.http.get(`/settlements/${id}.csv`).set('authorization', `Bearer ${invited.token}`)).status).toBe(404);
    expect((await app.http.get(`/settlements/not-an-id.csv`).set('authorization', `Bearer ${b.token}`)).status).toBe(404);
  });

  it('shows nothing to outsiders or invited brands, who can neither run nor read', async () => {
    const [{ id }] = await app.sql(`select id from settlements where alliance_id = $1 limit 1`, [allianceId]);
    for (const brand of [outsider, invited]) {
      expect((await app.ok(brand.token, READ, { id })).settlement).toBeNull();
      expect((await app.ok(brand.token, `query($id: ID!) { node(id: $id) { id } }`, { id })).node).toBeNull();
      expect((await app.ok(brand.token, `query($a: ID!) { settlements(allianceId: $a) { totalCount edges { node { id } } } }`, { a: allianceId })).settlements).toEqual({ totalCount: 0, edges: [] });
    }
    expect(codes(await runRaw(outsider, 'USD', '2025-07-01T00:00:00Z', '2025-08-01T00:00:00Z'))).toEqual(['NOT_FOUND']);
    expect(codes(await runRaw(invited, 'USD', '2025-07-01T00:00:00Z', '2025-08-01T00:00:00Z'))).toEqual(['FORBIDDEN']);
    // An ANALYST of a member reads but does not run.
    const analyst = app.token(b.id, ['ANALYST' as never]);
    expect(codes(await app.gql(analyst, RUN, { i: { allianceId, currency: 'USD', periodStart: '2025-07-01T00:00:00Z', periodEnd: '2025-08-01T00:00:00Z' } }))).toEqual(['FORBIDDEN']);
    expect((await app.ok(analyst, READ, { id })).settlement.id).toBe(id);
    expect((await app.ok(a.token, `query($id: ID!) { node(id: $id) { __typename id } }`, { id })).node).toEqual({ __typename: 'Settlement', id });
  });

  it('rejects bad input clearly', async () => {
    const bad = async (over: Record<string, unknown>) =>
      codes(await app.gql(a.token, RUN, { i: { allianceId, currency: 'USD', periodStart: '2025-07-01T00:00:00Z', periodEnd: '2025-08-01T00:00:00Z', ...over } }));
    expect(await bad({ currency: 'usd' })).toEqual(['BAD_USER_INPUT']);
    expect(await bad({ currency: 'XYZ' })).toEqual(['BAD_USER_INPUT']);
    expect(await bad({ periodEnd: '2025-07-01T00:00:00Z' })).toEqual(['BAD_USER_INPUT']);
    expect(await bad({ periodEnd: '2027-01-01T00:00:00Z' })).toEqual(['BAD_USER_INPUT']);
    expect(await bad({ periodStart: 'yesterday' })).toEqual(['BAD_USER_INPUT']);
    expect(await bad({ allianceId: 'nope' })).toEqual(['NOT_FOUND']);
    expect(codes(await app.gql(a.token, FINALIZE, { id: '00000000-0000-4000-8000-000000000000' }))).toEqual(['NOT_FOUND']);
  });

  it('a brand that left keeps seeing the settlements it was part of, and runs none', async () => {
    const [{ id }] = await app.sql(`select id from settlements where alliance_id = $1 and status = 'FINALIZED' and period_start = '2025-01-01'`, [allianceId]);
    const statusAtExit = (await app.ok(c.token, Q.leave, { a: allianceId })).leaveAlliance.status;
    const seen = (await app.ok(c.token, READ, { id })).settlement;
    expect(seen).toMatchObject({ id, status: 'FINALIZED', alliance: { id: allianceId } });
    // What C sees of the alliance is frozen at its exit: the alliance changing
    // afterwards (here A leaves, dissolving it) is none of its business.
    await app.ok(a.token, Q.leave, { a: allianceId });
    const [{ status: now }] = await app.sql(`select status from alliances where id = $1`, [allianceId]);
    expect(now).toBe('DISSOLVED');
    const later = await app.ok(c.token, `query($id: ID!) { settlement(id: $id) { alliance { id name status members { status } agreements { id } } } }`, { id });
    expect(later.settlement.alliance).toMatchObject({ id: allianceId, status: statusAtExit, members: [], agreements: [] });
    expect(statusAtExit).not.toBe('DISSOLVED');
    expect((await app.ok(c.token, `query($id: ID!) { alliance(id: $id) { id } }`, { id: allianceId })).alliance).toBeNull();
    // Finalizing it names the settlement as missing, exactly as a random id does.
    const refused = await app.gql(c.token, FINALIZE, { id });
    expect(codes(refused)).toEqual(['NOT_FOUND']);
    expect(refused.errors?.[0].message).toBe((await app.gql(c.token, FINALIZE, { id: '00000000-0000-4000-8000-000000000000' })).errors?.[0].message);
    expect(seen.lines.map((l: any) => l.amount.amountMinor).sort()).toEqual([33, 33, 34]);
    const list = (await app.ok(c.token, `query($a: ID!) { settlements(allianceId: $a, first: 50) { totalCount } }`, { a: allianceId })).settlements;
    expect(list.totalCount).toBeGreaterThan(0);
    expect((await app.http.get(`/settlements/${id}.csv`).set('authorization', `Bearer ${c.token}`)).status).toBe(200);
    expect(codes(await runRaw(c, 'USD', '2025-07-01T00:00:00Z', '2025-08-01T00:00:00Z'))).toEqual(['NOT_FOUND']);
  });
});
