import { badInput, notFound } from '../errors';
import { ContactConsent } from '../entities/enums';
import type { LearnerContact, UpsertLearnerContactInput } from '../schema/email.types';
import type { RequestContext } from '../tenancy/context';
import { isUuid } from '../tenancy/credentials';
import { contactProblem, normaliseEmail, type ContactStatement } from './contact-rules';
import type { AfterStoreHook, StoredEvent } from './event.service';
import { ensureLearners } from './learner.service';

interface Upsert extends ContactStatement {
  learnerId: string;
  /** When the consent (if any) was stated. */
  at: Date;
}

const CONTACT_COLUMNS = 'email, name, consent, consent_at, consent_source, updated_at';

function contactFromRow(row: Record<string, unknown>): LearnerContact {
  return {
    email: row.email as string,
    name: (row.name as string | null) ?? null,
    consent: (row.consent as ContactConsent | null) ?? null,
    consentAt: (row.consent_at as Date | null) ?? null,
    consentSource: (row.consent_source as string | null) ?? null,
    updatedAt: row.updated_at as Date,
  };
}

/**
 * Learners' email contacts and consent: personal data of the brand, under
 * its row-level security, never logged (no message here names an address)
 * and erased by `forget`. A statement of consent carries a time; an older
 * one never overrides a newer one, so events arriving late cannot undo an
 * unsubscribe. The address and name are the latest given.
 */
export class ContactService {
  /** Contacts that events carry, stored with the events. */
  readonly afterStore: AfterStoreHook = (ctx, stored) => this.fromEvents(ctx, stored);

  private async fromEvents(ctx: RequestContext, stored: readonly StoredEvent[]): Promise<void> {
    // One statement per learner (its latest event's): one row may not be upserted twice in a statement.
    const latest = new Map<string, StoredEvent>();
    for (const e of stored) {
      if (!e.contact) continue;
      const seen = latest.get(e.learner);
      if (!seen || e.at >= seen.at) latest.set(e.learner, e);
    }
    const upserts = [...latest.values()].map((e) => ({ ...e.contact!, learnerId: e.learner, at: e.at }));
    if (upserts.length) await this.write(ctx, upserts);
  }

  async upsert(ctx: RequestContext, input: UpsertLearnerContactInput): Promise<LearnerContact> {
    const problem = contactProblem(input);
    if (problem) throw badInput(problem.replace(/^contact\./, ''));
    if ((input.learnerId == null) === (input.learnerExternalId == null)) throw badInput('Pass exactly one of learnerId and learnerExternalId.');
    const manager = await ctx.manager();
    let learnerId = input.learnerId ?? null;
    if (learnerId != null) {
      if (!isUuid(learnerId) || !(await manager.query(`select 1 from learners where tenant_id = $1 and id = $2`, [ctx.brandId, learnerId])).length) {
        throw notFound('Learner');
      }
    } else {
      const externalId = input.learnerExternalId!;
      if (externalId.trim() === '' || externalId.length > 200) throw badInput('learnerExternalId must be 1..200 characters.');
      learnerId = (await ensureLearners(manager, ctx.brandId, [externalId])).get(externalId)!;
    }
    const at = input.consentAt ?? new Date();
    if (at.getTime() > Date.now() + 5 * 60_000) throw badInput('consentAt may not be in the future.');
    await this.write(ctx, [{ ...input, learnerId, at }]);
    return (await this.get(ctx, learnerId))!;
  }

  async get(ctx: RequestContext, learnerId: string): Promise<LearnerContact | null> {
    if (!isUuid(learnerId)) return null;
    const manager = await ctx.manager();
    const [row] = await manager.query(`select ${CONTACT_COLUMNS} from learner_contacts where tenant_id = $1 and learner_id = $2`, [ctx.brandId, learnerId]);
    return row ? contactFromRow(row) : null;
  }

  /** The learner opts out, now (an unsubscribe link, or the brand acting on a request). */
  async optOut(ctx: RequestContext, learnerId: string, source: string): Promise<boolean> {
    const manager = await ctx.manager();
    const [, count] = await manager.query(
      `update learner_contacts set consent = 'OPTED_OUT', consent_at = greatest(now(), consent_at), consent_source = $3, updated_at = now()
       where tenant_id = $1 and learner_id = $2`,
      [ctx.brandId, learnerId, source],
    );
    return count > 0;
  }

  /**
   * Erases the learner's personal data: its contact, outbox copies of its
   * messages, its feedback's words and what was read from them, and its
   * external id (replaced by an opaque one). Its events stay as facts
   * without text, so figures and reports keep their anonymous counts.
   */
  async forget(ctx: RequestContext, learnerId: string): Promise<{ learnerId: string; forgottenAt: Date }> {
    const manager = await ctx.manager();
    // FOR UPDATE, as allied_forget_learner takes it (why: there): a weaker lock first would have to be upgraded later.
    if (!isUuid(learnerId) || !(await manager.query(`select 1 from learners where tenant_id = $1 and id = $2 for update`, [ctx.brandId, learnerId])).length) {
      throw notFound('Learner');
    }
    await manager.query(`select allied_forget_learner($1)`, [learnerId]);
    return { learnerId, forgottenAt: new Date() };
  }

  private async write(ctx: RequestContext, upserts: Upsert[]): Promise<void> {
    upserts.sort((a, b) => (a.learnerId < b.learnerId ? -1 : 1));
    const manager = await ctx.manager();
    const col = <T>(f: (u: Upsert) => T) => upserts.map(f);
    await manager.query(
      `insert into learner_contacts as c (tenant_id, learner_id, email, name, consent, consent_at, consent_source)
       select $1, u.learner, u.email, u.name, u.consent, case when u.consent is null then null else u.at end,
              case when u.consent is null then null else u.source end
       from unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::text[]) as u(learner, email, name, consent, at, source)
       on conflict (tenant_id, learner_id) do update set
         email = excluded.email,
         name = coalesce(excluded.name, c.name),
         consent = case when excluded.consent is not null and (c.consent_at is null or excluded.consent_at >= c.consent_at) then excluded.consent else c.consent end,
         consent_source = case when excluded.consent is not null and (c.consent_at is null or excluded.consent_at >= c.consent_at) then excluded.consent_source else c.consent_source end,
         consent_at = case when excluded.consent is not null and (c.consent_at is null or excluded.consent_at >= c.consent_at) then excluded.consent_at else c.consent_at end,
         updated_at = now()`,
      [
        ctx.brandId,
        col((u) => u.learnerId),
        col((u) => normaliseEmail(u.email)),
        col((u) => u.name?.trim() ?? null),
        col((u) => u.consent ?? null),
        col((u) => u.at),
        col((u) => u.source?.trim() ?? (u.consent ? 'api' : null)),
      ],
    );
  }
}
