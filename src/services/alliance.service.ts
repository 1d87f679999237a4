import crypto from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { AllianceEntity, AllianceMemberEntity } from '../entities';
import { ALLIANCE_COLUMNS, allianceFromRow, MEMBER_COLUMNS, memberFromRow, returnedRows } from '../entities/rows';
import { badInput, conflict, forbidden, notFound } from '../errors';
import type { AllianceStatus, CreateAllianceInput } from '../schema/alliance.types';
import type { RequestContext } from '../tenancy/context';
import { isUuid } from '../tenancy/credentials';
import type { AuditService } from './audit.service';
import { paginate, newestFirst, type Page, type PageArgs } from './pagination';

/** An alliance and its members, read under the alliance's lock. */
export interface AllianceState {
  manager: EntityManager;
  alliance: AllianceEntity;
  members: AllianceMemberEntity[];
  /** The caller's membership. */
  mine: AllianceMemberEntity;
}

const activeIds = (members: AllianceMemberEntity[]) => members.filter((m) => m.status === 'ACTIVE').map((m) => m.brandId);

/**
 * Alliances between brands. Status: FORMING until at least two members are
 * ACTIVE and an agreement is ACTIVE; then ACTIVE; DISSOLVED (for good) when
 * members leave and fewer than two ACTIVE remain. Every change is audited.
 *
 * Changes to one alliance are serialised by a transaction-scoped advisory
 * lock on its id, taken before anything is read.
 */
export class AllianceService {
  constructor(private readonly audit: AuditService) {}

  // --- reads ----------------------------------------------------------------

  /** An alliance the caller is an ACTIVE member of or invited to; null otherwise. */
  async get(ctx: RequestContext, id: string): Promise<AllianceEntity | null> {
    return isUuid(id) ? this.byId(ctx).load(id) : null;
  }

  /** Brands that are ACTIVE members of an alliance the caller can see (an empty set otherwise). */
  async activeMemberIds(ctx: RequestContext, allianceId: string): Promise<Set<string>> {
    const manager = await ctx.manager();
    const rows: { brand_id: string }[] = await manager.query(
      `select brand_id from alliance_members where alliance_id = $1 and status = 'ACTIVE'`,
      [allianceId],
    );
    return new Set(rows.map((r) => r.brand_id));
  }

  /**
   * The alliance of a settlement the caller reads: visible as usual, or, for
   * a brand that has left, because the brand has lines in its settlements.
   */
  async ofSettlement(ctx: RequestContext, id: string): Promise<AllianceEntity | null> {
    return isUuid(id) ? this.settlementAlliances(ctx).load(id) : null;
  }

  /** `ofSettlement`, batched per request: the visible alliance where there is one, else the one the brand left. */
  private settlementAlliances(ctx: RequestContext) {
    return ctx.loader<string, AllianceEntity | null>('alliance.ofSettlement', async (ids) => {
      const manager = await ctx.manager();
      // A brand that left sees the alliance as it was when it left (allied_former_alliance).
      const rows: Record<string, unknown>[] = await manager.query(
        `select ${ALLIANCE_COLUMNS}, 0 as rank from alliances a where a.id = any($1::uuid[]) and a.id in (select allied_visible_alliances())
         union all
         select f.id, f.name, f.purpose, f.status, null, f.created_at, f.created_at, 1 from unnest($1::uuid[]) x, allied_former_alliance(x) f
         order by rank`,
        [ids],
      );
      const byId = new Map<string, AllianceEntity>();
      for (const row of rows) if (!byId.has(row.id as string)) byId.set(row.id as string, allianceFromRow(row));
      return ids.map((id) => byId.get(id) ?? null);
    });
  }

  async list(ctx: RequestContext, args: PageArgs & { status?: AllianceStatus | null }): Promise<Page<AllianceEntity>> {
    const where = ['a.id in (select allied_visible_alliances())'];
    const params: unknown[] = [];
    if (args.status) {
      params.push(args.status);
      where.push(`a.status = $${params.length}`);
    }
    return paginate(
      await ctx.manager(),
      { list: 'alliances', select: ALLIANCE_COLUMNS, from: 'alliances a', where, params, ...newestFirst('a'), map: allianceFromRow },
      args,
    );
  }

  /** Members of visible alliances, LEAD first then by joining, batched per request. */
  members(ctx: RequestContext) {
    return ctx.loader<string, AllianceMemberEntity[]>('alliance.members', async (ids) => {
      const manager = await ctx.manager();
      const rows: Record<string, unknown>[] = await manager.query(
        `select ${MEMBER_COLUMNS} from alliance_members m
         where m.alliance_id = any($1::uuid[]) and m.alliance_id in (select allied_visible_alliances())
         order by m.alliance_id, m.role = 'LEAD' desc, m.joined_at nulls last, m.invited_at, m.brand_id`,
        [ids],
      );
      const members = rows.map(memberFromRow);
      return ids.map((id) => members.filter((m) => m.allianceId === id));
    });
  }

  /**
   * The alliance for a new joint course or campaign: the caller must be an
   * ACTIVE member (NOT_FOUND if it cannot see the alliance, FORBIDDEN if only
   * invited) and the alliance ACTIVE (CONFLICT otherwise).
   */
  async jointAlliance(ctx: RequestContext, allianceId: string, what: string): Promise<string> {
    const alliance = await this.get(ctx, allianceId);
    if (!alliance) throw notFound('Alliance');
    if (!(await this.isActiveMember(ctx, alliance.id))) {
      throw forbidden('Your brand is invited to this alliance; accept the invitation first.');
    }
    if (alliance.status !== 'ACTIVE') throw conflict(`Joint ${what} need an ACTIVE alliance; this one is ${alliance.status}.`);
    return alliance.id;
  }

  /** Whether the caller is an ACTIVE member of the alliance. */
  async isActiveMember(ctx: RequestContext, allianceId: string): Promise<boolean> {
    const mine = (await this.members(ctx).load(allianceId)).find((m) => m.brandId === ctx.brandId);
    return mine?.status === 'ACTIVE';
  }

  // --- membership -------------------------------------------------------------

  /** Creates an alliance with the caller's brand as ACTIVE LEAD and the given brands INVITED. */
  async create(ctx: RequestContext, input: CreateAllianceInput): Promise<AllianceEntity> {
    const me = ctx.brandId;
    const invitees = [...new Set(input.inviteBrandIds.map((id) => id.toLowerCase()))];
    if (invitees.includes(me)) throw badInput('inviteBrandIds must not include your own brand; it becomes the LEAD.');
    const manager = await ctx.manager();
    await this.requireBrands(manager, invitees);
    const id = crypto.randomUUID();
    await manager.query(`insert into alliances (id, name, purpose, created_by) values ($1, $2, $3, $4)`, [
      id,
      input.name.trim(),
      input.purpose ?? null,
      me,
    ]);
    await manager.query(
      `insert into alliance_members (alliance_id, brand_id, role, status, joined_at) values ($1, $2, 'LEAD', 'ACTIVE', now())`,
      [id, me],
    );
    await ctx.membershipChanged();
    await this.audit.record(ctx, manager, id, 'ALLIANCE_CREATED', null, { name: input.name.trim(), purpose: input.purpose ?? null, lead: me });
    for (const brandId of invitees) {
      await manager.query(
        `insert into alliance_members (alliance_id, brand_id, role, status) values ($1, $2, 'MEMBER', 'INVITED')`,
        [id, brandId],
      );
      await this.audit.record(ctx, manager, id, 'MEMBER_INVITED', null, { brandId });
    }
    return this.reload(ctx, id);
  }

  /** The LEAD invites a brand; a brand that declined or left may be invited again. */
  async invite(ctx: RequestContext, allianceId: string, brandId: string): Promise<AllianceEntity> {
    const { manager, alliance, members, mine } = await this.lockAsActiveMember(ctx, allianceId);
    if (mine.role !== 'LEAD') throw forbidden("Only the alliance's LEAD may invite brands.");
    if (alliance.status === 'DISSOLVED') throw conflict('The alliance is dissolved; no one can be invited.');
    const target = brandId.toLowerCase();
    await this.requireBrands(manager, [target]);
    const existing = members.find((m) => m.brandId === target);
    if (existing?.status === 'ACTIVE') throw conflict('That brand is already an ACTIVE member.');
    if (existing?.status === 'INVITED') throw conflict('That brand has already been invited.');
    if (existing) {
      await manager.query(
        `update alliance_members set status = 'INVITED', role = 'MEMBER', invited_at = now(), joined_at = null, left_at = null
         where alliance_id = $1 and brand_id = $2`,
        [allianceId, target],
      );
    } else {
      await manager.query(
        `insert into alliance_members (alliance_id, brand_id, role, status) values ($1, $2, 'MEMBER', 'INVITED')`,
        [allianceId, target],
      );
    }
    await this.audit.record(ctx, manager, allianceId, 'MEMBER_INVITED', existing ? { status: existing.status } : null, {
      brandId: target,
      status: 'INVITED',
    });
    return this.reload(ctx, allianceId);
  }

  /** The invited brand accepts (becomes ACTIVE) or declines its invitation. */
  async respond(ctx: RequestContext, allianceId: string, accept: boolean): Promise<AllianceEntity> {
    const state = await this.lockedState(ctx, allianceId);
    const mine = state?.members.find((m) => m.brandId === ctx.brandId);
    if (!state || !mine || (mine.status !== 'INVITED' && mine.status !== 'ACTIVE')) throw notFound('Invitation');
    if (mine.status === 'ACTIVE') throw conflict('Your brand is already an ACTIVE member; there is no invitation to answer.');
    const { manager, alliance, members } = state;
    if (alliance.status === 'DISSOLVED') throw conflict('The alliance has been dissolved.');
    if (!accept) {
      // Recorded first: once DECLINED, the brand can no longer write to the alliance.
      await this.audit.record(ctx, manager, allianceId, 'INVITATION_DECLINED', { status: 'INVITED' }, { status: 'DECLINED' });
      await manager.query(`update alliance_members set status = 'DECLINED' where alliance_id = $1 and brand_id = $2`, [
        allianceId,
        ctx.brandId,
      ]);
      return this.snapshot(alliance, members, (m) => (m.brandId === ctx.brandId ? { status: 'DECLINED' } : {}));
    }
    await manager.query(
      `update alliance_members set status = 'ACTIVE', joined_at = now() where alliance_id = $1 and brand_id = $2`,
      [allianceId, ctx.brandId],
    );
    await this.audit.record(ctx, manager, allianceId, 'INVITATION_ACCEPTED', { status: 'INVITED' }, { status: 'ACTIVE' });
    await ctx.membershipChanged();
    await this.rejectOpenProposals(ctx, manager, allianceId, 'a brand joined');
    await this.refreshStatus(ctx, manager, alliance, activeIds(members).length + 1, false);
    return this.reload(ctx, allianceId);
  }

  /**
   * The caller's brand leaves. A leaving LEAD hands the lead to the
   * longest-standing ACTIVE member. The agreement in force ends if it gave
   * the leaver a share (it would otherwise pay a non-member), open proposals
   * are rejected, and with fewer than two ACTIVE members left the alliance
   * is DISSOLVED.
   */
  async leave(ctx: RequestContext, allianceId: string): Promise<AllianceEntity> {
    const state = await this.lockedState(ctx, allianceId);
    const mine = state?.members.find((m) => m.brandId === ctx.brandId);
    if (!state || !mine) throw notFound('Alliance');
    if (mine.status === 'INVITED') throw conflict('Your brand is only invited; decline the invitation instead.');
    if (mine.status !== 'ACTIVE') throw notFound('Alliance');
    const { manager, alliance, members } = state;
    const others = members
      .filter((m) => m.status === 'ACTIVE' && m.brandId !== ctx.brandId)
      .sort((a, b) => a.joinedAt!.getTime() - b.joinedAt!.getTime() || a.brandId.localeCompare(b.brandId));
    await this.audit.record(ctx, manager, allianceId, 'MEMBER_LEFT', { status: 'ACTIVE', role: mine.role }, { status: 'LEFT' });

    const successor = mine.role === 'LEAD' ? others[0]?.brandId : undefined;
    if (successor) {
      await manager.query(`update alliance_members set role = 'MEMBER' where alliance_id = $1 and brand_id = $2`, [allianceId, ctx.brandId]);
      await manager.query(`update alliance_members set role = 'LEAD' where alliance_id = $1 and brand_id = $2`, [allianceId, successor]);
      await this.audit.record(ctx, manager, allianceId, 'LEAD_TRANSFERRED', { lead: ctx.brandId }, { lead: successor });
    }
    await this.endAgreementsSharingWith(ctx, manager, allianceId, ctx.brandId);
    await this.rejectOpenProposals(ctx, manager, allianceId, 'a member left');
    const status = await this.refreshStatus(ctx, manager, alliance, others.length, true);
    await manager.query(
      `update alliance_members set status = 'LEFT', left_at = now(), alliance_status_at_exit = $3 where alliance_id = $1 and brand_id = $2`,
      [allianceId, ctx.brandId, status],
    );
    await ctx.membershipChanged();
    return this.snapshot({ ...alliance, status }, members, (m) => {
      if (m.brandId === ctx.brandId) return { status: 'LEFT', role: successor ? 'MEMBER' : m.role, leftAt: new Date() };
      return m.brandId === successor ? { role: 'LEAD' } : {};
    });
  }

  // --- shared with agreements ---------------------------------------------

  /**
   * Takes the alliance's lock and reads it with its members; NOT_FOUND unless
   * the caller is an ACTIVE member (an invited brand is told to accept first).
   */
  async lockAsActiveMember(ctx: RequestContext, allianceId: string): Promise<AllianceState> {
    const state = await this.lockedState(ctx, allianceId);
    const mine = state?.members.find((m) => m.brandId === ctx.brandId);
    if (!state || !mine || (mine.status !== 'ACTIVE' && mine.status !== 'INVITED')) throw notFound('Alliance');
    if (mine.status === 'INVITED') throw forbidden('Your brand is invited to this alliance; accept the invitation first.');
    return { ...state, mine };
  }

  /**
   * Recomputes the stored status after a change; DISSOLVED never changes.
   * `leaving` marks a departure, the only way an alliance dissolves.
   */
  async refreshStatus(
    ctx: RequestContext,
    manager: EntityManager,
    alliance: AllianceEntity,
    activeMembers: number,
    leaving: boolean,
  ): Promise<string> {
    const [{ active }] = await manager.query(
      `select exists (select 1 from agreements where alliance_id = $1 and status = 'ACTIVE') as active`,
      [alliance.id],
    );
    const current = (await manager.query(`select status from alliances where id = $1`, [alliance.id]))[0].status as string;
    let next = current;
    if (current !== 'DISSOLVED') {
      if (leaving && activeMembers < 2) next = 'DISSOLVED';
      else next = activeMembers >= 2 && active ? 'ACTIVE' : 'FORMING';
    }
    if (next !== current) {
      await manager.query(`update alliances set status = $2, updated_at = now() where id = $1`, [alliance.id, next]);
      // This request may have loaded the alliance before the change.
      this.byId(ctx).clear(alliance.id);
      await this.audit.record(ctx, manager, alliance.id, 'STATUS_CHANGED', { status: current }, { status: next });
    }
    return next;
  }

  // --- internals ----------------------------------------------------------------

  private byId(ctx: RequestContext) {
    return ctx.loader<string, AllianceEntity | null>('alliance.byId', async (ids) => {
      const manager = await ctx.manager();
      const rows: Record<string, unknown>[] = await manager.query(
        `select ${ALLIANCE_COLUMNS} from alliances a where a.id = any($1::uuid[]) and a.id in (select allied_visible_alliances())`,
        [ids],
      );
      const byId = new Map(rows.map((r) => [r.id as string, allianceFromRow(r)]));
      return ids.map((id) => byId.get(id) ?? null);
    });
  }

  private async reload(ctx: RequestContext, id: string): Promise<AllianceEntity> {
    this.byId(ctx).clear(id);
    this.members(ctx).clear(id);
    const alliance = await this.get(ctx, id);
    if (!alliance) throw notFound('Alliance');
    return alliance;
  }

  private async lockedState(ctx: RequestContext, allianceId: string) {
    if (!isUuid(allianceId)) return null;
    const manager = await ctx.manager();
    await manager.query(`select pg_advisory_xact_lock(hashtextextended($1, 0))`, [`alliance:${allianceId}`]);
    this.byId(ctx).clear(allianceId);
    this.members(ctx).clear(allianceId);
    const [alliance, members] = await Promise.all([this.get(ctx, allianceId), this.members(ctx).load(allianceId)]);
    return alliance ? { manager, alliance, members } : null;
  }

  /**
   * The alliance as it stands after the caller's answer or departure, for a
   * response the caller may no longer read from the database.
   */
  private snapshot(
    alliance: Omit<AllianceEntity, 'membersSnapshot'>,
    members: AllianceMemberEntity[],
    change: (m: AllianceMemberEntity) => Partial<AllianceMemberEntity>,
  ): AllianceEntity {
    const copy = Object.assign(new AllianceEntity(), alliance);
    copy.membersSnapshot = members.map((m) => Object.assign(new AllianceMemberEntity(), m, change(m)));
    return copy;
  }

  private async requireBrands(manager: EntityManager, ids: string[]): Promise<void> {
    const malformed = ids.filter((id) => !isUuid(id));
    const rows: { id: string }[] = ids.length
      ? await manager.query(`select id from brands where id = any($1::uuid[])`, [ids.filter(isUuid)])
      : [];
    const found = new Set(rows.map((r) => r.id));
    const missing = [...malformed, ...ids.filter((id) => isUuid(id) && !found.has(id))];
    if (missing.length) throw notFound(`Brand ${missing.join(', ')}`);
  }

  private async rejectOpenProposals(ctx: RequestContext, manager: EntityManager, allianceId: string, reason: string) {
    const rejected = returnedRows<{ id: string; version: number }>(
      await manager.query(
        `update agreements set status = 'REJECTED', decided_at = now()
         where alliance_id = $1 and status = 'PROPOSED' returning id, version`,
        [allianceId],
      ),
    );
    for (const a of rejected) {
      await this.audit.record(ctx, manager, allianceId, 'AGREEMENT_REJECTED', { id: a.id, version: a.version, status: 'PROPOSED' }, {
        status: 'REJECTED',
        reason: `membership changed: ${reason}`,
      });
    }
  }

  private async endAgreementsSharingWith(ctx: RequestContext, manager: EntityManager, allianceId: string, brandId: string) {
    const result = await manager.query(
      `update agreements g set status = 'SUPERSEDED', decided_at = now(),
              effective_to = case when g.effective_to is not null and g.effective_to < greatest(now(), g.effective_from)
                                  then g.effective_to else greatest(now(), g.effective_from) end
       where g.alliance_id = $1 and g.status = 'ACTIVE'
         and exists (select 1 from agreement_shares s where s.agreement_id = g.id and s.brand_id = $2)
       returning g.id, g.version, g.effective_to`,
      [allianceId, brandId],
    );
    const ended = returnedRows<{ id: string; version: number; effective_to: Date }>(result);
    for (const a of ended) {
      await this.audit.record(ctx, manager, allianceId, 'AGREEMENT_ENDED', { id: a.id, version: a.version, status: 'ACTIVE' }, {
        status: 'SUPERSEDED',
        effectiveTo: a.effective_to,
        reason: 'a member with a share left',
      });
    }
  }
}
