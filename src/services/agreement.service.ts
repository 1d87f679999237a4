import crypto from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { AgreementEntity } from '../entities';
import { AGREEMENT_COLUMNS, agreementFromRow, returnedRows } from '../entities/rows';
import { badInput, conflict, notFound, pgCode, PG } from '../errors';
import type { ProposeAgreementInput } from '../schema/alliance.types';
import type { RequestContext } from '../tenancy/context';
import { isUuid } from '../tenancy/credentials';
import type { AllianceService, AllianceState } from './alliance.service';
import type { AuditService } from './audit.service';
import { shareProblems, type Share } from './shares';

export interface Acceptance {
  brandId: string;
  acceptedAt: Date;
}

/**
 * Versioned revenue-share agreements. Any ACTIVE member proposes (and so
 * accepts) terms with a share for every ACTIVE member; the agreement becomes
 * ACTIVE when every ACTIVE member has accepted, superseding the previous one
 * from the new `effectiveFrom`. Versions are numbered per alliance and never
 * edited; at most one proposal is open and one agreement ACTIVE at a time.
 */
export class AgreementService {
  constructor(
    private readonly alliances: AllianceService,
    private readonly audit: AuditService,
  ) {}

  async propose(ctx: RequestContext, input: ProposeAgreementInput): Promise<AgreementEntity> {
    const state = await this.alliances.lockAsActiveMember(ctx, input.allianceId);
    const { manager, alliance, members } = state;
    if (alliance.status === 'DISSOLVED') throw conflict('The alliance is dissolved; no agreement can be proposed.');
    if (input.effectiveTo && input.effectiveTo <= input.effectiveFrom) {
      throw badInput('effectiveTo must be later than effectiveFrom.');
    }
    const shares: Share[] = input.shares.map((s) => ({ brandId: s.brandId.toLowerCase(), basisPoints: s.basisPoints }));
    const active = members.filter((m) => m.status === 'ACTIVE').map((m) => m.brandId);
    const problems = shareProblems(active, shares);
    if (problems.length) throw badInput(`Invalid shares: ${problems.join('; ')}.`, { problems });

    const agreements = await this.ofAlliance(manager, alliance.id);
    const open = agreements.find((a) => a.status === 'PROPOSED');
    if (open) throw conflict(`Agreement version ${open.version} is still open; accept or reject it first.`);
    const inForce = agreements.find((a) => a.status === 'ACTIVE');
    if (inForce && input.effectiveFrom < inForce.effectiveFrom) {
      throw badInput(`effectiveFrom must not precede the agreement in force (version ${inForce.version}, from ${inForce.effectiveFrom.toISOString()}).`);
    }
    const settled = await this.settledUntil(manager, alliance.id);
    if (settled && input.effectiveFrom < settled) {
      throw badInput(
        `effectiveFrom must not fall in a FINALIZED settlement period; the alliance's revenue is settled until ${settled.toISOString()}.`,
      );
    }
    const version = Math.max(0, ...agreements.map((a) => a.version)) + 1;
    const id = crypto.randomUUID();
    const obligations = (input.obligations ?? []).map((o) => o.trim());
    try {
      await manager.query(
        `insert into agreements (alliance_id, id, version, status, obligations, effective_from, effective_to, proposed_by)
         values ($1, $2, $3, 'PROPOSED', $4, $5, $6, $7)`,
        [alliance.id, id, version, obligations, input.effectiveFrom, input.effectiveTo ?? null, ctx.brandId],
      );
    } catch (error) {
      // The lock makes this rare; the unique indexes are the last word.
      if (pgCode(error) === PG.uniqueViolation) throw conflict('Another proposal was made at the same time; reload and try again.');
      throw error;
    }
    for (const share of shares) {
      await manager.query(
        `insert into agreement_shares (alliance_id, agreement_id, brand_id, basis_points) values ($1, $2, $3, $4)`,
        [alliance.id, id, share.brandId, share.basisPoints],
      );
    }
    await this.audit.record(ctx, manager, alliance.id, 'AGREEMENT_PROPOSED', null, {
      id,
      version,
      shares,
      obligations,
      effectiveFrom: input.effectiveFrom,
      effectiveTo: input.effectiveTo ?? null,
    });
    // Proposing is signing: the proposer's acceptance is recorded with the proposal.
    await this.recordAcceptance(ctx, state, id, version);
    return this.reload(manager, alliance.id, id);
  }

  async accept(ctx: RequestContext, agreementId: string): Promise<AgreementEntity> {
    const { state, agreement } = await this.lockOpen(ctx, agreementId, 'accepted');
    const accepted = await this.acceptances(state.manager, agreement.id);
    if (accepted.some((a) => a.brandId === ctx.brandId)) {
      throw conflict(`Your brand has already accepted agreement version ${agreement.version}.`);
    }
    await this.recordAcceptance(ctx, state, agreement.id, agreement.version);
    return this.reload(state.manager, agreement.allianceId, agreement.id);
  }

  async reject(ctx: RequestContext, agreementId: string): Promise<AgreementEntity> {
    const { state, agreement } = await this.lockOpen(ctx, agreementId, 'rejected');
    await state.manager.query(`update agreements set status = 'REJECTED', decided_at = now() where alliance_id = $1 and id = $2`, [
      agreement.allianceId,
      agreement.id,
    ]);
    await this.audit.record(ctx, state.manager, agreement.allianceId, 'AGREEMENT_REJECTED', { id: agreement.id, version: agreement.version, status: 'PROPOSED' }, { status: 'REJECTED' });
    return this.reload(state.manager, agreement.allianceId, agreement.id);
  }

  /** An agreement of an alliance the caller is an ACTIVE member of; null otherwise. */
  async get(ctx: RequestContext, id: string): Promise<AgreementEntity | null> {
    return isUuid(id) ? this.byId(ctx).load(id) : null;
  }

  /** Agreements by id, batched per request (a settlement's lines each name theirs). */
  byId(ctx: RequestContext) {
    return ctx.loader<string, AgreementEntity | null>('agreement.byId', async (ids) => {
      const manager = await ctx.manager();
      const rows: Record<string, unknown>[] = await manager.query(
        `select ${AGREEMENT_COLUMNS} from agreements g where g.id = any($1::uuid[]) and g.alliance_id in (select allied_active_alliances())`,
        [ids],
      );
      const byId = new Map(rows.map(agreementFromRow).map((a) => [a.id, a]));
      return ids.map((id) => byId.get(id) ?? null);
    });
  }

  /** All versions of the caller's alliances' agreements, newest first, batched per request. */
  versions(ctx: RequestContext) {
    return ctx.loader<string, AgreementEntity[]>('agreement.versions', async (allianceIds) => {
      const manager = await ctx.manager();
      const rows: Record<string, unknown>[] = await manager.query(
        `select ${AGREEMENT_COLUMNS} from agreements g
         where g.alliance_id = any($1::uuid[]) and g.alliance_id in (select allied_active_alliances())
         order by g.alliance_id, g.version desc`,
        [allianceIds],
      );
      const all = rows.map(agreementFromRow);
      return allianceIds.map((id) => all.filter((a) => a.allianceId === id));
    });
  }

  shares(ctx: RequestContext) {
    return ctx.loader<string, Share[]>('agreement.shares', async (agreementIds) => {
      const manager = await ctx.manager();
      const rows: { agreement_id: string; brand_id: string; basis_points: number }[] = await manager.query(
        `select agreement_id, brand_id, basis_points from agreement_shares
         where agreement_id = any($1::uuid[]) and alliance_id in (select allied_active_alliances())
         order by basis_points desc, brand_id`,
        [agreementIds],
      );
      return agreementIds.map((id) =>
        rows.filter((r) => r.agreement_id === id).map((r) => ({ brandId: r.brand_id, basisPoints: r.basis_points })),
      );
    });
  }

  acceptancesOf(ctx: RequestContext) {
    return ctx.loader<string, Acceptance[]>('agreement.acceptances', async (agreementIds) => {
      const manager = await ctx.manager();
      const rows: { agreement_id: string; brand_id: string; accepted_at: Date }[] = await manager.query(
        `select agreement_id, brand_id, accepted_at from agreement_acceptances
         where agreement_id = any($1::uuid[]) and alliance_id in (select allied_active_alliances())
         order by accepted_at, brand_id`,
        [agreementIds],
      );
      return agreementIds.map((id) =>
        rows.filter((r) => r.agreement_id === id).map((r) => ({ brandId: r.brand_id, acceptedAt: r.accepted_at })),
      );
    });
  }

  // --- internals ----------------------------------------------------------------

  /** Locks the agreement's alliance (caller an ACTIVE member) and checks the agreement is still PROPOSED. */
  private async lockOpen(ctx: RequestContext, agreementId: string, verb: string) {
    const found = await this.get(ctx, agreementId);
    if (!found) throw notFound('Agreement');
    const state = await this.alliances.lockAsActiveMember(ctx, found.allianceId);
    const agreement = await this.reload(state.manager, found.allianceId, found.id);
    if (agreement.status !== 'PROPOSED') {
      throw conflict(`Agreement version ${agreement.version} is ${agreement.status}; only a PROPOSED agreement can be ${verb}.`);
    }
    return { state, agreement };
  }

  /** Records the caller's acceptance; with every ACTIVE member accepted, the agreement comes into force. */
  private async recordAcceptance(ctx: RequestContext, state: AllianceState, agreementId: string, version: number) {
    const { manager, alliance, members } = state;
    await manager.query(
      `insert into agreement_acceptances (alliance_id, agreement_id, brand_id) values ($1, $2, $3)`,
      [alliance.id, agreementId, ctx.brandId],
    );
    await this.audit.record(ctx, manager, alliance.id, 'AGREEMENT_ACCEPTED', null, { id: agreementId, version, brandId: ctx.brandId });
    const accepted = new Set((await this.acceptances(manager, agreementId)).map((a) => a.brandId));
    const active = members.filter((m) => m.status === 'ACTIVE');
    if (!active.every((m) => accepted.has(m.brandId))) return;

    const [next] = await manager.query(`select effective_from from agreements where alliance_id = $1 and id = $2`, [alliance.id, agreementId]);
    const settled = await this.settledUntil(manager, alliance.id);
    if (settled && next.effective_from < settled) {
      throw conflict(
        `A settlement was FINALIZED until ${settled.toISOString()} after version ${version} was proposed; it would change settled revenue. Reject it and propose a later effectiveFrom.`,
      );
    }
    const superseded = returnedRows<{ id: string; version: number }>(await manager.query(
      `update agreements set status = 'SUPERSEDED', decided_at = now(),
              effective_to = case when effective_to is not null and effective_to < $2 then effective_to else $2 end
       where alliance_id = $1 and status = 'ACTIVE' returning id, version`,
      [alliance.id, next.effective_from],
    ));
    for (const old of superseded) {
      await this.audit.record(ctx, manager, alliance.id, 'AGREEMENT_SUPERSEDED', { id: old.id, version: old.version, status: 'ACTIVE' }, {
        status: 'SUPERSEDED',
        effectiveTo: next.effective_from,
        by: version,
      });
    }
    await manager.query(`update agreements set status = 'ACTIVE', decided_at = now() where alliance_id = $1 and id = $2`, [
      alliance.id,
      agreementId,
    ]);
    await this.audit.record(ctx, manager, alliance.id, 'AGREEMENT_ACTIVATED', { id: agreementId, version, status: 'PROPOSED' }, { status: 'ACTIVE' });
    await this.alliances.refreshStatus(ctx, manager, alliance, active.length, false);
  }

  /**
   * The end of the latest FINALIZED settlement period of the alliance (any
   * currency), or null. A new agreement may not take effect before it: it
   * would change the terms of revenue already settled.
   */
  private async settledUntil(manager: EntityManager, allianceId: string): Promise<Date | null> {
    const [row] = await manager.query(`select max(period_end) as until from settlements where alliance_id = $1 and status = 'FINALIZED'`, [
      allianceId,
    ]);
    return row?.until ?? null;
  }

  private async ofAlliance(manager: EntityManager, allianceId: string): Promise<AgreementEntity[]> {
    const rows: Record<string, unknown>[] = await manager.query(
      `select ${AGREEMENT_COLUMNS} from agreements g where g.alliance_id = $1 order by g.version desc`,
      [allianceId],
    );
    return rows.map(agreementFromRow);
  }

  private async acceptances(manager: EntityManager, agreementId: string): Promise<Acceptance[]> {
    const rows: { brand_id: string; accepted_at: Date }[] = await manager.query(
      `select brand_id, accepted_at from agreement_acceptances where agreement_id = $1`,
      [agreementId],
    );
    return rows.map((r) => ({ brandId: r.brand_id, acceptedAt: r.accepted_at }));
  }

  private async reload(manager: EntityManager, allianceId: string, id: string): Promise<AgreementEntity> {
    const rows: Record<string, unknown>[] = await manager.query(
      `select ${AGREEMENT_COLUMNS} from agreements g where g.alliance_id = $1 and g.id = $2`,
      [allianceId, id],
    );
    if (!rows[0]) throw notFound('Agreement');
    return agreementFromRow(rows[0]);
  }
}
