import crypto from 'node:crypto';
import type { CampaignEntity } from '../entities';
import { CampaignKind, CampaignStatus, EventType, JourneyBranchCondition, JourneyStatus, JourneyStepKind, JourneyTriggerKind } from '../entities/enums';
import { LIFECYCLE_JOIN, LIFECYCLE_STAGE_SQL } from '../entities/rows';
import { badInput, notFound } from '../errors';
import type { JobQueue } from '../jobs/queue';
import type { JobHandler } from '../jobs/runner';
import type { Money } from '../schema/common.types';
import type {
  CreateJourneyInput,
  Journey,
  JourneyGroupFigures,
  JourneyReport,
  CampaignJourney,
  JourneyStep,
  JourneyStepInput,
  JourneyTrigger,
  JourneyTriggerInput,
} from '../schema/journey.types';
import type { RequestContext } from '../tenancy/context';
import { isUuid } from '../tenancy/credentials';
import type { CampaignService } from './campaign.service';
import type { EmailSettingsService } from './email-settings.service';
import { compareProportions, COMPARISON_METHOD } from './experiment-stats';
import { nextSendingTime } from './sending-window';

export const JOURNEY_TICK_JOB = 'journeys.tick';
export const MAIL_SEND_JOB = 'mail.send';
const MAX_STEPS = 50;
/** Enrollments advanced per tick transaction; a fuller backlog ticks again at once. */
const ADVANCE_BATCH = 1000;
/** EVENT_WITHOUT_FOLLOW_UP looks back this many days beyond afterDays: nobody is reminded of an enrolment from years ago. */
export const FOLLOW_UP_LOOKBACK_DAYS = 30;

const JOURNEY_COLUMNS = 'id, campaign_id, name, status, trigger, steps, exit_on_purchase, holdout_percent, created_at, ended_at';

function journeyFromRow(row: Record<string, unknown>): Journey {
  const trigger = row.trigger as Record<string, unknown>;
  return {
    id: row.id as string,
    campaignId: row.campaign_id as string,
    name: row.name as string,
    status: row.status as JourneyStatus,
    trigger: {
      kind: trigger.kind as JourneyTriggerKind,
      stage: (trigger.stage as JourneyTrigger['stage']) ?? null,
      segment: (trigger.segment as string) ?? null,
      eventType: (trigger.eventType as EventType) ?? null,
      followUpType: (trigger.followUpType as EventType) ?? null,
      afterDays: (trigger.afterDays as number) ?? null,
      at: trigger.at ? new Date(trigger.at as string) : null,
    },
    steps: (row.steps as JourneyStep[]).map((s) => ({
      kind: s.kind,
      minutes: s.minutes ?? null,
      templateId: s.templateId ?? null,
      condition: s.condition ?? null,
      thenStep: s.thenStep ?? null,
      elseStep: s.elseStep ?? null,
    })),
    exitOnPurchase: row.exit_on_purchase as boolean,
    holdoutPercent: Number(row.holdout_percent),
    createdAt: row.created_at as Date,
    endedAt: (row.ended_at as Date | null) ?? null,
  };
}

interface Due {
  learner_id: string;
  step: number;
  enrolled_at: Date;
}

interface Outcome {
  learner: string;
  step: number;
  state: 'ACTIVE' | 'DONE' | 'EXITED';
  exitReason: string | null;
  nextAt: Date | null;
}

interface NewMessage {
  learner: string;
  step: number;
  template: string;
  state: 'QUEUED' | 'SUPPRESSED';
  reason: string | null;
}

/**
 * Email journeys. A journey belongs to an EMAIL campaign of the brand and
 * runs from durable jobs: each ACTIVE journey has one `journeys.tick` job
 * pending at a time, which
 *
 * 1. ends the journey when its campaign has ended;
 * 2. enrolls every consenting learner the trigger selects who has not
 *    entered before, one statement, with a sticky holdout drawn from a hash
 *    of journey and learner (holdout learners receive nothing);
 * 3. advances due enrollments (up to 1000 per transaction): exits
 *    (unsubscribed, purchased), waits, branches, and sends, where a send is
 *    a row of `email_messages` keyed by (journey, learner, step) plus a
 *    `mail.send` job, both in the tick's transaction;
 * 4. enqueues the next tick.
 *
 * Sends are scheduled at the brand's sending rate from the first time
 * outside quiet hours and inside the campaign's window; the weekly cap
 * counts every journey's messages of the learner. Ticks of one brand take
 * a transaction lock, so caps and rate slots are never raced.
 */
export class JourneyService {
  readonly handlers: Record<string, JobHandler> = {
    [JOURNEY_TICK_JOB]: (job, ctx) => this.tick(ctx, (job.payload as { journeyId: string }).journeyId),
  };

  constructor(
    private readonly campaigns: CampaignService,
    private readonly settings: EmailSettingsService,
    private readonly jobs: JobQueue,
    private readonly options: { tickSeconds: number; mailMaxAttempts: number },
  ) {}

  async create(ctx: RequestContext, input: CreateJourneyInput): Promise<Journey> {
    const campaign = await this.ownEmailCampaign(ctx, input.campaignId);
    const trigger = checkTrigger(input.trigger);
    const steps = checkSteps(input.steps);
    const manager = await ctx.manager();
    const templates = [...new Set(steps.map((s) => s.templateId).filter((t): t is string => t != null))];
    const known: { id: string }[] = templates.length
      ? await manager.query(`select id from email_templates where tenant_id = $1 and id = any($2::uuid[])`, [ctx.brandId, templates])
      : [];
    const missing = templates.filter((t) => !known.some((k) => k.id === t));
    if (missing.length) throw badInput(`Email template ${missing[0]} not found.`);
    const [row] = await manager.query(
      `insert into journeys (tenant_id, id, campaign_id, name, status, trigger, steps, exit_on_purchase, holdout_percent, created_by)
       values ($1, $2, $3, $4, 'ACTIVE', $5, $6, $7, $8, $9) returning ${JOURNEY_COLUMNS}`,
      [
        ctx.brandId, crypto.randomUUID(), campaign.id, input.name.trim(), JSON.stringify(trigger), JSON.stringify(steps),
        input.exitOnPurchase ?? true, input.holdoutPercent ?? 10, ctx.caller.subject.slice(0, 200),
      ],
    );
    const journey = journeyFromRow(row);
    await this.scheduleTick(ctx, journey.id, new Date());
    return journey;
  }

  async setStatus(ctx: RequestContext, id: string, status: JourneyStatus): Promise<Journey> {
    const journey = await this.get(ctx, id);
    if (!journey) throw notFound('Journey');
    if (journey.status === JourneyStatus.ENDED) throw badInput('The journey has ended; an ended journey stays ended.');
    const manager = await ctx.manager();
    const [[row]] = await manager.query(
      `update journeys set status = $3, ended_at = case when $3 = 'ENDED' then now() end where tenant_id = $1 and id = $2 returning ${JOURNEY_COLUMNS}`,
      [ctx.brandId, id, status],
    );
    if (status === JourneyStatus.ENDED) await this.endEnrollments(ctx, id, 'CAMPAIGN_ENDED');
    // A tick chain may have stopped while it was paused (or after failing): resuming starts one.
    if (status === JourneyStatus.ACTIVE) await this.scheduleTick(ctx, id, new Date());
    return journeyFromRow(row);
  }

  async get(ctx: RequestContext, id: string): Promise<Journey | null> {
    if (!isUuid(id)) return null;
    const [row] = await (await ctx.manager()).query(`select ${JOURNEY_COLUMNS} from journeys where tenant_id = $1 and id = $2`, [ctx.brandId, id]);
    return row ? journeyFromRow(row) : null;
  }

  async list(ctx: RequestContext, campaignId: string | null): Promise<Journey[]> {
    const params: unknown[] = [ctx.brandId];
    let where = 'tenant_id = $1';
    if (campaignId != null) {
      if (!isUuid(campaignId)) return [];
      params.push(campaignId);
      where += ' and campaign_id = $2';
    }
    const rows = await (await ctx.manager()).query(`select ${JOURNEY_COLUMNS} from journeys where ${where} order by created_at desc, id limit 500`, params);
    return rows.map(journeyFromRow);
  }

  /** The journeys of a campaign the caller may read: its own, or a joint campaign of its ACTIVE alliances (names and states only; the first 100). */
  async ofCampaign(ctx: RequestContext, campaignId: string): Promise<CampaignJourney[]> {
    if (!isUuid(campaignId)) return [];
    const rows = await (await ctx.manager()).query(`select id, name, status, created_at from allied_campaign_journeys($1)`, [campaignId]);
    return rows.map((r: { id: string; name: string; status: JourneyStatus; created_at: Date }) => ({ id: r.id, name: r.name, status: r.status, createdAt: r.created_at }));
  }

  /**
   * Treated against holdout, from allied_journey_report: the same SQL
   * serves the owner and the partners of a joint campaign (aggregates
   * only). Null for a journey the caller may not see.
   */
  async report(ctx: RequestContext, journeyId: string): Promise<JourneyReport | null> {
    if (!isUuid(journeyId)) return null;
    const rows: ReportRow[] = await (await ctx.manager()).query(`select * from allied_journey_report($1)`, [journeyId]);
    if (rows.length === 0) return null;
    const group = (holdout: boolean) => figures(rows.find((r) => r.holdout === holdout));
    const treated = group(false);
    const holdout = group(true);
    const comparison = compareProportions(
      { exposures: holdout.eligible, conversions: holdout.converted },
      { exposures: treated.eligible, conversions: treated.converted },
    );
    return {
      treated,
      holdout,
      uplift: { ...comparison, ciLow: comparison.ci[0], ciHigh: comparison.ci[1] },
      method: `Learners who bought after entering, treated against holdout: ${COMPARISON_METHOD}. The holdout is a sticky random share of the eligible learners who receive nothing.`,
    };
  }

  // ---------------------------------------------------------------- ticks --

  private async tick(ctx: RequestContext, journeyId: string): Promise<void> {
    const manager = await ctx.manager();
    // One tick of a brand at a time (every instance): the weekly cap and the rate slots are counted, not raced.
    await manager.query(`select pg_advisory_xact_lock(hashtextextended($1, 0))`, [`journeys:${ctx.brandId}`]);
    const journey = await this.get(ctx, journeyId);
    if (!journey || journey.status !== JourneyStatus.ACTIVE) return;
    const campaign = await this.campaigns.get(ctx, journey.campaignId);
    const now = new Date();
    if (!campaign || campaign.status === CampaignStatus.ENDED || (campaign.endsAt && campaign.endsAt <= now)) {
      await manager.query(`update journeys set status = 'ENDED', ended_at = now() where tenant_id = $1 and id = $2`, [ctx.brandId, journeyId]);
      await this.endEnrollments(ctx, journeyId, 'CAMPAIGN_ENDED');
      return;
    }
    let more = false;
    // Before the campaign is ACTIVE and started nobody enters or moves: the journey waits for it.
    if (campaign.status === CampaignStatus.ACTIVE && campaign.startsAt <= now) {
      await this.enroll(ctx, journey);
      more = (await this.advance(ctx, journey, campaign, now)) === ADVANCE_BATCH;
    }
    await this.scheduleTick(ctx, journeyId, more ? now : new Date(now.getTime() + this.options.tickSeconds * 1000));
  }

  private async scheduleTick(ctx: RequestContext, journeyId: string, at: Date): Promise<void> {
    await this.jobs.enqueue(ctx, { kind: JOURNEY_TICK_JOB, payload: { journeyId }, idempotencyKey: `${journeyId}:${at.getTime()}`, runAt: at });
  }

  /** Enrolls the trigger's consenting learners who never entered; returns how many entered. */
  async enroll(ctx: RequestContext, journey: Journey): Promise<number> {
    const t = journey.trigger;
    const params: unknown[] = [ctx.brandId, journey.id, journey.holdoutPercent / 100];
    const param = (value: unknown) => `$${params.push(value)}`;
    let condition: string;
    switch (t.kind) {
      case JourneyTriggerKind.STAGE_ENTERED:
        condition = `${LIFECYCLE_STAGE_SQL} = ${param(t.stage)}`;
        break;
      case JourneyTriggerKind.SEGMENT_ENTERED:
        condition = `l.segment = ${param(t.segment)}`;
        break;
      case JourneyTriggerKind.EVENT_WITHOUT_FOLLOW_UP: {
        const days = param(t.afterDays);
        condition = `exists (
          select 1 from events e
          where e.tenant_id = l.tenant_id and e.learner_id = l.id and e.type = ${param(t.eventType)}
            and e.occurred_at <= now() - make_interval(days => ${days})
            and e.occurred_at > now() - make_interval(days => ${days} + ${FOLLOW_UP_LOOKBACK_DAYS})
            and not exists (select 1 from events f where f.tenant_id = e.tenant_id and f.learner_id = e.learner_id
                            and f.type = ${param(t.followUpType ?? EventType.PURCHASE)} and f.occurred_at >= e.occurred_at))`;
        break;
      }
      case JourneyTriggerKind.SCHEDULED:
        condition = `now() >= ${param(t.at)}::timestamptz${t.stage ? ` and ${LIFECYCLE_STAGE_SQL} = ${param(t.stage)}` : ''}`;
        break;
    }
    // The holdout draw: the first 52 bits of md5(journey:learner) as a number in [0, 1), against the share.
    const entered: unknown[] = await (await ctx.manager()).query(
      `insert into journey_enrollments (tenant_id, journey_id, learner_id, holdout, state, step, next_at)
       select $1::uuid, $2::uuid, x.id, x.holdout, case when x.holdout then 'DONE' else 'ACTIVE' end, 0, case when x.holdout then null else now() end
       from (
         select l.id, (('x' || substr(md5($2::uuid::text || ':' || l.id::text), 1, 13))::bit(52)::bigint)::float8 / 4503599627370496 < $3 as holdout
         from learners l
         ${LIFECYCLE_JOIN}
         join learner_contacts ct on ct.tenant_id = l.tenant_id and ct.learner_id = l.id and ct.consent = 'OPTED_IN'
         where l.tenant_id = $1 and ${condition}
           and not exists (select 1 from journey_enrollments x where x.tenant_id = l.tenant_id and x.journey_id = $2 and x.learner_id = l.id)
       ) x
       on conflict do nothing
       returning 1`,
      params,
    );
    return entered.length;
  }

  /** Moves due learners through their steps; returns how many were due. */
  private async advance(ctx: RequestContext, journey: Journey, campaign: CampaignEntity, now: Date): Promise<number> {
    const manager = await ctx.manager();
    const due: Due[] = await manager.query(
      `select learner_id, step, enrolled_at from journey_enrollments
       where tenant_id = $1 and journey_id = $2 and state = 'ACTIVE' and next_at <= now()
       order by next_at, learner_id limit ${ADVANCE_BATCH}`,
      [ctx.brandId, journey.id],
    );
    if (due.length === 0) return 0;
    const facts = await this.facts(ctx, journey, due);
    const settings = await this.settings.get(ctx);
    const outcomes: Outcome[] = [];
    const messages: NewMessage[] = [];
    for (const d of due) {
      const outcome = walk(journey, d, facts, settings.weeklyCap, now, messages);
      outcomes.push(outcome);
    }
    await manager.query(
      `update journey_enrollments e set step = u.step, state = u.state, exit_reason = u.exit_reason, next_at = u.next_at, updated_at = now()
       from unnest($3::uuid[], $4::smallint[], $5::text[], $6::text[], $7::timestamptz[]) as u(learner, step, state, exit_reason, next_at)
       where e.tenant_id = $1 and e.journey_id = $2 and e.learner_id = u.learner`,
      [ctx.brandId, journey.id, outcomes.map((o) => o.learner), outcomes.map((o) => o.step), outcomes.map((o) => o.state), outcomes.map((o) => o.exitReason), outcomes.map((o) => o.nextAt)],
    );
    if (messages.length) await this.queueMessages(ctx, journey, campaign, messages, now);
    return due.length;
  }

  /** What the steps and exits of due learners depend on, read for the whole batch at once. */
  private async facts(ctx: RequestContext, journey: Journey, due: Due[]): Promise<Facts> {
    const manager = await ctx.manager();
    const ids = due.map((d) => d.learner_id);
    const [consents, purchases, engagement, weekly] = await Promise.all([
      manager.query(`select learner_id, consent from learner_contacts where tenant_id = $1 and learner_id = any($2::uuid[])`, [ctx.brandId, ids]),
      manager.query(
        `select distinct u.learner from unnest($2::uuid[], $3::timestamptz[]) as u(learner, since)
         join events e on e.tenant_id = $1 and e.learner_id = u.learner and e.type = 'PURCHASE' and e.occurred_at >= u.since`,
        [ctx.brandId, ids, due.map((d) => d.enrolled_at)],
      ),
      manager.query(
        `select learner_id, bool_or(opened_at is not null) as opened, bool_or(clicked_at is not null) as clicked
         from email_messages where tenant_id = $1 and journey_id = $2 and learner_id = any($3::uuid[]) group by learner_id`,
        [ctx.brandId, journey.id, ids],
      ),
      manager.query(
        `select learner_id, count(*)::int as n from email_messages
         where tenant_id = $1 and learner_id = any($2::uuid[]) and state in ('QUEUED', 'SENT') and send_at > now() - interval '7 days'
         group by learner_id`,
        [ctx.brandId, ids],
      ),
    ]);
    return {
      consent: new Map(consents.map((r: { learner_id: string; consent: string | null }) => [r.learner_id, r.consent])),
      purchased: new Set(purchases.map((r: { learner: string }) => r.learner)),
      opened: new Set(engagement.filter((r: { opened: boolean }) => r.opened).map((r: { learner_id: string }) => r.learner_id)),
      clicked: new Set(engagement.filter((r: { clicked: boolean }) => r.clicked).map((r: { learner_id: string }) => r.learner_id)),
      weekly: new Map(weekly.map((r: { learner_id: string; n: number }) => [r.learner_id, r.n])),
    };
  }

  /**
   * Messages and their send jobs, one statement each. Each QUEUED message
   * gets the next slot of the brand's sending rate, from the first time the
   * campaign may send (quiet hours, its window).
   */
  private async queueMessages(ctx: RequestContext, journey: Journey, campaign: CampaignEntity, messages: NewMessage[], now: Date): Promise<void> {
    const manager = await ctx.manager();
    const settings = await this.settings.get(ctx);
    const queued = messages.filter((m) => m.state === 'QUEUED');
    const from = nextSendingTime(campaign, settings, now) ?? now;
    const slots = await this.settings.takeSlots(ctx, queued.length, from);
    let i = 0;
    const sendAt = messages.map((m) => (m.state === 'QUEUED' ? slots[i++] : now));
    const ids = messages.map(() => crypto.randomUUID());
    const inserted: { id: string; send_at: Date; state: string }[] = await manager.query(
      `insert into email_messages (tenant_id, id, journey_id, learner_id, step, template_id, state, reason, send_at)
       select $1, u.id, $2, u.learner, u.step, u.template, u.state, u.reason, u.send_at
       from unnest($3::uuid[], $4::uuid[], $5::smallint[], $6::uuid[], $7::text[], $8::text[], $9::timestamptz[])
         as u(id, learner, step, template, state, reason, send_at)
       on conflict (tenant_id, journey_id, learner_id, step) do nothing
       returning id, send_at, state`,
      [ctx.brandId, journey.id, ids, messages.map((m) => m.learner), messages.map((m) => m.step), messages.map((m) => m.template), messages.map((m) => m.state), messages.map((m) => m.reason), sendAt],
    );
    await this.jobs.enqueueMany(
      ctx,
      MAIL_SEND_JOB,
      inserted.filter((m) => m.state === 'QUEUED').map((m) => ({ payload: { messageId: m.id }, idempotencyKey: m.id, runAt: m.send_at })),
      this.options.mailMaxAttempts,
    );
  }

  private async endEnrollments(ctx: RequestContext, journeyId: string, reason: string): Promise<void> {
    await (await ctx.manager()).query(
      `update journey_enrollments set state = 'EXITED', exit_reason = $3, next_at = null, updated_at = now()
       where tenant_id = $1 and journey_id = $2 and state = 'ACTIVE'`,
      [ctx.brandId, journeyId, reason],
    );
  }

  private async ownEmailCampaign(ctx: RequestContext, campaignId: string): Promise<CampaignEntity> {
    const campaign = isUuid(campaignId) ? await this.campaigns.get(ctx, campaignId) : null;
    // A partner's joint campaign is visible but not the caller's to send from: learners never cross brands.
    if (!campaign || campaign.tenantId !== ctx.brandId) throw notFound('Campaign');
    if (campaign.kind !== CampaignKind.EMAIL) throw badInput(`Journeys run on EMAIL campaigns; this one is ${campaign.kind}.`);
    if (campaign.status === CampaignStatus.ENDED) throw badInput('The campaign has ended.');
    return campaign;
  }
}

interface Facts {
  consent: Map<string, string | null>;
  purchased: Set<string>;
  opened: Set<string>;
  clicked: Set<string>;
  weekly: Map<string, number>;
}

/**
 * One due learner's way through the steps, from where it stands, until a
 * wait, the end, or an exit. Sends add to `messages` (SUPPRESSED past the
 * weekly cap). Branches only go forward, so this ends within the steps.
 */
function walk(journey: Journey, d: Due, facts: Facts, weeklyCap: number, now: Date, messages: NewMessage[]): Outcome {
  const learner = d.learner_id;
  const exit = (reason: string): Outcome => ({ learner, step: d.step, state: 'EXITED', exitReason: reason, nextAt: null });
  if (facts.consent.get(learner) !== 'OPTED_IN') return exit('UNSUBSCRIBED');
  if (journey.exitOnPurchase && facts.purchased.has(learner)) return exit('PURCHASED');
  let step = d.step;
  while (step < journey.steps.length) {
    const s = journey.steps[step];
    if (s.kind === JourneyStepKind.WAIT) {
      return { learner, step: step + 1, state: 'ACTIVE', exitReason: null, nextAt: new Date(now.getTime() + s.minutes! * 60_000) };
    }
    if (s.kind === JourneyStepKind.SEND) {
      const sent = facts.weekly.get(learner) ?? 0;
      const capped = sent >= weeklyCap;
      messages.push({ learner, step, template: s.templateId!, state: capped ? 'SUPPRESSED' : 'QUEUED', reason: capped ? 'WEEKLY_CAP' : null });
      if (!capped) facts.weekly.set(learner, sent + 1);
      step++;
      continue;
    }
    const met =
      s.condition === JourneyBranchCondition.OPENED ? facts.opened.has(learner)
      : s.condition === JourneyBranchCondition.CLICKED ? facts.clicked.has(learner)
      : facts.purchased.has(learner);
    step = met ? s.thenStep! : s.elseStep!;
  }
  return { learner, step, state: 'DONE', exitReason: null, nextAt: null };
}

function checkTrigger(t: JourneyTriggerInput): JourneyTriggerInput {
  const only = (allowed: (keyof JourneyTriggerInput)[]) => {
    for (const key of ['stage', 'segment', 'eventType', 'followUpType', 'afterDays', 'at'] as const) {
      if (t[key] != null && !allowed.includes(key)) throw badInput(`A ${t.kind} trigger does not take ${key}.`);
    }
  };
  switch (t.kind) {
    case JourneyTriggerKind.STAGE_ENTERED:
      only(['stage']);
      if (!t.stage) throw badInput('A STAGE_ENTERED trigger needs a stage.');
      return { kind: t.kind, stage: t.stage };
    case JourneyTriggerKind.SEGMENT_ENTERED:
      only(['segment']);
      if (!t.segment || t.segment.length > 100) throw badInput('A SEGMENT_ENTERED trigger needs a segment of 1..100 characters.');
      return { kind: t.kind, segment: t.segment };
    case JourneyTriggerKind.EVENT_WITHOUT_FOLLOW_UP:
      only(['eventType', 'followUpType', 'afterDays']);
      if (!t.eventType || t.afterDays == null) throw badInput('An EVENT_WITHOUT_FOLLOW_UP trigger needs eventType and afterDays.');
      if (t.eventType === (t.followUpType ?? EventType.PURCHASE)) throw badInput('eventType and followUpType must differ.');
      return { kind: t.kind, eventType: t.eventType, followUpType: t.followUpType ?? EventType.PURCHASE, afterDays: t.afterDays };
    case JourneyTriggerKind.SCHEDULED:
      only(['at', 'stage']);
      if (!t.at) throw badInput('A SCHEDULED trigger needs at.');
      return { kind: t.kind, at: t.at, ...(t.stage ? { stage: t.stage } : {}) };
  }
}

function checkSteps(steps: JourneyStepInput[]): JourneyStepInput[] {
  if (steps.length === 0 || steps.length > MAX_STEPS) throw badInput(`A journey has 1..${MAX_STEPS} steps.`);
  if (!steps.some((s) => s.kind === JourneyStepKind.SEND)) throw badInput('A journey needs at least one SEND step.');
  return steps.map((s, i) => {
    const where = `steps[${i}]`;
    const unexpected = (keys: (keyof JourneyStepInput)[]) => {
      for (const key of keys) if (s[key] != null) throw badInput(`${where}: a ${s.kind} step does not take ${key}.`);
    };
    switch (s.kind) {
      case JourneyStepKind.WAIT:
        unexpected(['templateId', 'condition', 'thenStep', 'elseStep']);
        if (s.minutes == null) throw badInput(`${where}: a WAIT step needs minutes.`);
        return { kind: s.kind, minutes: s.minutes };
      case JourneyStepKind.SEND:
        unexpected(['minutes', 'condition', 'thenStep', 'elseStep']);
        if (!s.templateId || !isUuid(s.templateId)) throw badInput(`${where}: a SEND step needs the templateId of one of the brand's templates.`);
        return { kind: s.kind, templateId: s.templateId };
      case JourneyStepKind.BRANCH: {
        unexpected(['minutes', 'templateId']);
        if (!s.condition || s.thenStep == null || s.elseStep == null) throw badInput(`${where}: a BRANCH step needs condition, thenStep and elseStep.`);
        for (const target of [s.thenStep, s.elseStep]) {
          if (!Number.isInteger(target) || target <= i || target > steps.length) {
            throw badInput(`${where}: a branch goes forward, to a step after it (${i + 1}..${steps.length - 1}) or to ${steps.length} to finish.`);
          }
        }
        return { kind: s.kind, condition: s.condition, thenStep: s.thenStep, elseStep: s.elseStep };
      }
    }
  });
}

interface ReportRow {
  holdout: boolean;
  eligible: number;
  sent: number;
  delivered: number;
  bounced: number;
  suppressed: number;
  opened: number;
  clicked: number;
  converted: number;
  unsubscribed: number;
  revenue: Record<string, string> | null;
}

function figures(row: ReportRow | undefined): JourneyGroupFigures {
  const n = (x: number | undefined) => Number(x ?? 0);
  const eligible = n(row?.eligible);
  const converted = n(row?.converted);
  const revenue: Money[] = Object.entries(row?.revenue ?? {})
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([currency, amount]) => ({ currency, amountMinor: Number(amount) }));
  return {
    eligible,
    sent: n(row?.sent),
    delivered: n(row?.delivered),
    bounced: n(row?.bounced),
    suppressed: n(row?.suppressed),
    opened: n(row?.opened),
    clicked: n(row?.clicked),
    converted,
    revenue,
    unsubscribed: n(row?.unsubscribed),
    conversionRate: eligible > 0 ? converted / eligible : 0,
  };
}
