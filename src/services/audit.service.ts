import crypto from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { AuditEntryEntity } from '../entities';
import { AUDIT_COLUMNS, auditFromRow } from '../entities/rows';
import type { RequestContext } from '../tenancy/context';
import { paginate, type Page, type PageArgs } from './pagination';

/** The append-only record of membership and agreement changes, readable by the alliance's ACTIVE members. */
export class AuditService {
  async record(
    ctx: RequestContext,
    manager: EntityManager,
    allianceId: string,
    action: string,
    before: unknown,
    after: unknown,
  ): Promise<void> {
    await manager.query(
      `insert into alliance_audit (alliance_id, id, actor_brand_id, actor_subject, action, before, after)
       values ($1, $2, $3, $4, $5, $6, $7)`,
      [allianceId, crypto.randomUUID(), ctx.brandId, ctx.caller.subject, action, json(before), json(after)],
    );
  }

  /** Newest first. */
  async list(ctx: RequestContext, allianceId: string, args: PageArgs): Promise<Page<AuditEntryEntity>> {
    return paginate(
      await ctx.manager(),
      {
        list: 'audit',
        select: AUDIT_COLUMNS,
        from: 'alliance_audit e',
        where: ['e.alliance_id = $1'],
        params: [allianceId],
        keys: [{ sql: 'e.seq', type: 'bigint', of: (e) => e.seq }],
        direction: 'DESC',
        map: auditFromRow,
      },
      args,
    );
  }
}

const json = (value: unknown) => (value === undefined || value === null ? null : JSON.stringify(value));
