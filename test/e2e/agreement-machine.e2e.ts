import fc from 'fast-check';
import { Q } from '../support/alliances';
import { TestApp, type TestBrand } from '../support/server';

/**
 * Random sequences of proposals, acceptances, rejections, invitations,
 * answers and departures, sent through the API: whatever happens, an
 * alliance never has two ACTIVE agreements, never an ACTIVE agreement with a
 * share for a non-member or shares not summing to 10000, never two open
 * proposals or two LEADs, and DISSOLVED is final.
 */
type Command =
  | { kind: 'propose'; by: number; weights: number[] }
  | { kind: 'accept' | 'reject'; by: number }
  | { kind: 'invite'; who: number }
  | { kind: 'respond'; who: number; accept: boolean }
  | { kind: 'leave'; who: number };

const BRANDS = 4;
const who = fc.nat({ max: BRANDS - 1 });
// Weighted towards joining, proposing and accepting, so sequences reach
// agreements in force and dissolution, not just refusals.
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('propose' as const), by: who, weights: fc.array(fc.nat({ max: 10 }), { minLength: BRANDS, maxLength: BRANDS }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('accept' as const), by: who }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reject' as const), by: who }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('invite' as const), who }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('respond' as const), who, accept: fc.oneof(fc.constant(true), fc.constant(true), fc.constant(true), fc.constant(false)) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('leave' as const), who }) },
);


describe('agreement state machine (property)', () => {
  let app: TestApp;
  let brands: TestBrand[];

  beforeAll(async () => {
    app = await TestApp.start();
    brands = [];
    for (let i = 0; i < BRANDS; i++) brands.push(await app.brand(`Machine ${i}`));
  });
  afterAll(() => app.stop());

  async function members(allianceId: string): Promise<Map<string, { status: string; role: string }>> {
    const rows = await app.sql(`select brand_id, status, role from alliance_members where alliance_id = $1`, [allianceId]);
    return new Map(rows.map((r: any) => [r.brand_id, { status: r.status, role: r.role }]));
  }

  /** Shares split by weights over the currently ACTIVE members (sometimes invalid on purpose, when all weights are 0). */
  function sharesFor(active: string[], weights: number[]) {
    const total = active.reduce((sum, _id, i) => sum + weights[i], 0);
    if (total === 0) return active.map((brandId) => ({ brandId, basisPoints: 0 }));
    let given = 0;
    return active.map((brandId, i) => {
      const basisPoints = i === active.length - 1 ? 10000 - given : Math.floor((weights[i] * 10000) / total);
      given += basisPoints;
      return { brandId, basisPoints };
    });
  }

  /** The i-th eligible brand, or (when none is eligible) any brand, so refusals are exercised too. */
  const pick = (eligible: string[], i: number) =>
    eligible.length ? brands.find((b) => b.id === eligible[i % eligible.length])! : brands[i % BRANDS];

  async function run(allianceId: string, cmd: Command) {
    const m = await members(allianceId);
    const withStatus = (status: string) => [...m].filter(([, v]) => v.status === status).map(([id]) => id);
    const active = withStatus('ACTIVE');
    const [open] = await app.sql(`select id from agreements where alliance_id = $1 and status = 'PROPOSED'`, [allianceId]);
    switch (cmd.kind) {
      case 'propose':
        return app.gql(pick(active, cmd.by).token, Q.propose, {
          input: { allianceId, effectiveFrom: '2026-01-01T00:00:00Z', shares: sharesFor(active, cmd.weights) },
        });
      case 'accept': {
        const accepted = open
          ? (await app.sql(`select brand_id from agreement_acceptances where agreement_id = $1`, [open.id])).map((r: any) => r.brand_id)
          : [];
        const pending = active.filter((id) => !accepted.includes(id));
        return app.gql(pick(pending, cmd.by).token, Q.accept, { id: open?.id ?? allianceId });
      }
      case 'reject':
        return app.gql(pick(active, cmd.by).token, Q.reject, { id: open?.id ?? allianceId });
      case 'invite': {
        const lead = [...m].find(([, v]) => v.role === 'LEAD')?.[0];
        const outside = brands.map((b) => b.id).filter((id) => !['ACTIVE', 'INVITED'].includes(m.get(id)?.status ?? ''));
        return app.gql(pick(lead ? [lead] : [], 0).token, Q.invite, { a: allianceId, b: pick(outside, cmd.who).id });
      }
      case 'respond':
        return app.gql(pick(withStatus('INVITED'), cmd.who).token, Q.respond, { a: allianceId, yes: cmd.accept });
      case 'leave':
        return app.gql(pick(active, cmd.who).token, Q.leave, { a: allianceId });
    }
  }

  const reached = { inForce: 0, dissolved: 0, accepted: 0 };

  async function checkInvariants(allianceId: string, wasDissolved: boolean): Promise<boolean> {
    const m = await members(allianceId);
    const active = new Set([...m].filter(([, v]) => v.status === 'ACTIVE').map(([id]) => id));
    const agreements = await app.sql(`select id, status from agreements where alliance_id = $1`, [allianceId]);
    const inForce = agreements.filter((g: any) => g.status === 'ACTIVE');
    expect(inForce.length).toBeLessThanOrEqual(1);
    expect(agreements.filter((g: any) => g.status === 'PROPOSED').length).toBeLessThanOrEqual(1);
    if (inForce[0]) {
      reached.inForce++;
      const shares = await app.sql(`select brand_id, basis_points from agreement_shares where agreement_id = $1`, [inForce[0].id]);
      for (const s of shares) expect(active.has(s.brand_id)).toBe(true);
      expect(shares.reduce((sum: number, s: any) => sum + s.basis_points, 0)).toBe(10000);
    }
    const leads = [...m].filter(([, v]) => v.role === 'LEAD');
    expect(leads.length).toBe(1);
    if (active.size > 0) expect(active.has(leads[0][0])).toBe(true);
    const [{ status }] = await app.sql(`select status from alliances where id = $1`, [allianceId]);
    if (wasDissolved) expect(status).toBe('DISSOLVED');
    if (status === 'ACTIVE') {
      expect(active.size).toBeGreaterThanOrEqual(2);
      expect(inForce).toHaveLength(1);
    }
    if (status === 'DISSOLVED') reached.dissolved++;
    return status === 'DISSOLVED';
  }

  it('holds its invariants over random operation sequences', async () => {
    let round = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 6, maxLength: 24 }), async (commands) => {
        const lead = brands[round++ % BRANDS];
        const invited = brands.filter((b) => b !== lead);
        const created = await app.ok(lead.token, Q.create, { input: { name: `Machine ${round}`, inviteBrandIds: invited.map((b) => b.id) } });
        const allianceId = created.createAlliance.id;
        let dissolved = false;
        for (const cmd of commands) {
          const res = await run(allianceId, cmd);
          if (!res.errors && cmd.kind === 'accept') reached.accepted++;
          for (const e of res.errors ?? []) expect(['BAD_USER_INPUT', 'CONFLICT', 'NOT_FOUND', 'FORBIDDEN']).toContain(e.extensions.code);
          dissolved = await checkInvariants(allianceId, dissolved);
        }
      }),
      { numRuns: 30 },
    );
    // The sequences must reach the interesting states, or the property says little.
    expect(reached.accepted).toBeGreaterThan(5);
    expect(reached.inForce).toBeGreaterThan(0);
    expect(reached.dissolved).toBeGreaterThan(0);
  });
});
