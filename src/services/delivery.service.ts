import crypto from 'node:crypto';
import { CampaignStatus, EventType } from '../entities/enums';
import { CAMPAIGN_COLUMNS, campaignFromRow, LIFECYCLE_JOIN, LIFECYCLE_STAGE_SQL, prefixedColumns, unprefixed } from '../entities/rows';
import type { JobHandler, RunningJob } from '../jobs/runner';
import type { JobQueue } from '../jobs/queue';
import type { TrackingTokens } from '../mail/tokens';
import type { Mailer, OutgoingMessage } from '../mail/transport';
import type { RequestContext } from '../tenancy/context';
import type { ContactService } from './contact.service';
import { EMAIL_SETTINGS_COLUMNS, emailSettingsFromRow } from './email-settings.service';
import type { EventService } from './event.service';
import { MAIL_SEND_JOB } from './journey.service';
import { nextSendingTime, sendingProblem } from './sending-window';
import { TEMPLATE_COLUMNS, templateFromRow, type LearnerFacts, type TemplateService } from './template.service';

export interface DeliveryOptions {
  mailer: Mailer;
  tokens: TrackingTokens;
  /** The From header. */
  from: string;
  /** Where tracking links point, without a trailing slash. */
  publicUrl: string;
  linkTtlDays: number;
}

interface MessageRow extends LearnerFacts, Record<string, unknown> {
  id: string;
  learner_id: string;
  state: string;
  journey_status: string;
  campaign_id: string;
  template_id: string;
  email: string | null;
  name: string | null;
  consent: string | null;
}

const ADDRESS = /[^\s<>@"']+@[^\s<>@"']+/g;

/** An SMTP answer without any address in it: reasons are stored and may be shown. */
function redacted(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(ADDRESS, '<address>').slice(0, 1000);
}

/**
 * Sending and tracking. A `mail.send` job delivers one message: inside the
 * job's transaction it locks the message row, checks it is still QUEUED,
 * that the learner still consents, that the journey and campaign still
 * run and that it is not quiet hours (else it is suppressed, or put off to
 * the first allowed time); then renders, sends, and marks it SENT, so the
 * SENT state and the send commit together. A failed attempt is retried
 * with backoff by the job runner; the last failed attempt marks the
 * message BOUNCED with the server's reason (addresses removed).
 *
 * Tracking links carry signed tokens (src/mail/tokens.ts): an open or a
 * click becomes an EMAIL_OPEN or EMAIL_CLICK event of the campaign (once
 * per message, and once per link), and unsubscribing opts the learner out
 * at once.
 */
export class DeliveryService {
  readonly handlers: Record<string, JobHandler> = {
    [MAIL_SEND_JOB]: (job, ctx) => this.send(job, ctx),
  };

  constructor(
    private readonly templates: TemplateService,
    private readonly contacts: ContactService,
    private readonly events: EventService,
    private readonly jobs: JobQueue,
    private readonly options: DeliveryOptions,
  ) {}

  get mailerKind(): Mailer['kind'] {
    return this.options.mailer.kind;
  }

  get tokens(): TrackingTokens {
    return this.options.tokens;
  }

  /**
   * The brand's outbox, newest first (the last 100), or one message of it
   * with its whole source. Only filled when no SMTP server is configured.
   */
  async outbox(ctx: RequestContext, messageId: string | null): Promise<{ messageId: string; recipient: string; subject: string; createdAt: Date; raw?: string }[]> {
    const manager = await ctx.manager();
    if (messageId !== null && !/^[0-9a-f-]{36}$/i.test(messageId)) return [];
    const rows = await manager.query(
      `select message_id, recipient, subject, created_at${messageId ? ', raw' : ''} from email_outbox
       where tenant_id = $1 ${messageId ? 'and message_id = $2' : ''} order by created_at desc, message_id limit 100`,
      messageId ? [ctx.brandId, messageId] : [ctx.brandId],
    );
    return rows.map((r: Record<string, unknown>) => ({
      messageId: r.message_id as string,
      recipient: r.recipient as string,
      subject: r.subject as string,
      createdAt: r.created_at as Date,
      ...(messageId ? { raw: r.raw as string } : {}),
    }));
  }

  private async send(job: RunningJob, ctx: RequestContext): Promise<void> {
    const { messageId } = job.payload as { messageId: string };
    const manager = await ctx.manager();
    // The message, locked, with everything a send needs (its learner, campaign, template, the brand's
    // sending rules), in one round trip: on a machine where each round trip costs, sending is round trips.
    const [message]: MessageRow[] = await manager.query(
      `select m.id, m.learner_id, m.state, j.status as journey_status, j.campaign_id, m.template_id,
         c.email, c.name, c.consent, l.segment, l.demands, ${LIFECYCLE_STAGE_SQL} as stage,
         ${prefixedColumns(CAMPAIGN_COLUMNS, 'k', 'k_')}, ${prefixedColumns(TEMPLATE_COLUMNS, 't', 't_')},
         ${prefixedColumns(EMAIL_SETTINGS_COLUMNS, 's', 's_')}
       from email_messages m
       join journeys j on j.tenant_id = m.tenant_id and j.id = m.journey_id
       join campaigns k on k.tenant_id = j.tenant_id and k.id = j.campaign_id
       join email_templates t on t.tenant_id = m.tenant_id and t.id = m.template_id
       join learners l on l.tenant_id = m.tenant_id and l.id = m.learner_id
       ${LIFECYCLE_JOIN}
       left join learner_contacts c on c.tenant_id = m.tenant_id and c.learner_id = m.learner_id
       left join email_settings s on s.tenant_id = m.tenant_id
       where m.tenant_id = $1 and m.id = $2 for update of m`,
      [ctx.brandId, messageId],
    );
    // Sent already (a repeated job), suppressed, or gone: nothing to do, ever.
    if (!message || message.state !== 'QUEUED') return;
    const suppress = (reason: string) =>
      manager.query(`update email_messages set state = 'SUPPRESSED', reason = $3 where tenant_id = $1 and id = $2`, [ctx.brandId, messageId, reason]);

    if (!message.email) return void (await suppress('NO_CONTACT'));
    if (message.consent !== 'OPTED_IN') return void (await suppress(message.consent === 'OPTED_OUT' ? 'UNSUBSCRIBED' : 'NO_CONSENT'));
    const contact = { email: message.email, name: message.name };
    if (message.journey_status === 'ENDED') return void (await suppress('JOURNEY_ENDED'));
    const campaign = campaignFromRow(unprefixed(message, 'k_'));
    if (campaign.status === CampaignStatus.ENDED || (campaign.endsAt && campaign.endsAt <= new Date())) {
      return void (await suppress('CAMPAIGN_ENDED'));
    }
    const settings = emailSettingsFromRow(unprefixed(message, 's_'));
    const now = new Date();
    if (message.journey_status === 'PAUSED' || sendingProblem(campaign, settings, now)) {
      // Not now: the same message, later (a paused journey looks again in an hour).
      const later = message.journey_status === 'PAUSED' ? new Date(now.getTime() + 3_600_000) : nextSendingTime(campaign, settings, now);
      if (!later) return void (await suppress('CAMPAIGN_NOT_SENDING'));
      await manager.query(`update email_messages set send_at = $3 where tenant_id = $1 and id = $2`, [ctx.brandId, messageId, later]);
      await this.jobs.enqueue(ctx, { kind: MAIL_SEND_JOB, payload: { messageId }, idempotencyKey: `${messageId}:${later.getTime()}`, runAt: later, maxAttempts: job.maxAttempts });
      return;
    }

    const template = templateFromRow(unprefixed(message, 't_'));
    const unsubscribeUrl = this.link('unsubscribe', ctx.brandId, messageId);
    const variables = await this.templates.variables(ctx, template, message.learner_id, campaign.allianceId, unsubscribeUrl, {
      learner: message,
      contactName: message.name,
    });
    const rendered = await this.templates.render(template, variables!);
    const outgoing: OutgoingMessage = {
      id: messageId,
      from: this.options.from,
      to: contact.name ? `"${contact.name.replace(/["\\\r\n]/g, '')}" <${contact.email}>` : contact.email,
      subject: rendered.subject,
      html: this.trackHtml(rendered.html, ctx.brandId, messageId, unsubscribeUrl),
      text: rendered.text.includes(unsubscribeUrl) ? rendered.text : `${rendered.text}\n\n--\nUnsubscribe: ${unsubscribeUrl}\n`,
      headers: {
        // RFC 8058: one-click unsubscribe by POST to the link.
        'List-Unsubscribe': `<${unsubscribeUrl}>`,
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
        'X-Allied-Campaign': campaign.id,
      },
    };
    let smtpId: string;
    try {
      smtpId = await this.options.mailer.send(outgoing, manager);
    } catch (error) {
      if (job.attempt < job.maxAttempts) throw new Error(`Sending failed (attempt ${job.attempt} of ${job.maxAttempts}): ${redacted(error)}`);
      await manager.query(`update email_messages set state = 'BOUNCED', reason = $3 where tenant_id = $1 and id = $2`, [ctx.brandId, messageId, redacted(error)]);
      return;
    }
    await manager.query(
      `update email_messages set state = 'SENT', sent_at = now(), smtp_message_id = $3 where tenant_id = $1 and id = $2`,
      [ctx.brandId, messageId, smtpId.slice(0, 300)],
    );
  }

  /** A signed link of the message. */
  link(action: 'open' | 'click' | 'unsubscribe', brandId: string, messageId: string, url?: string): string {
    const token = this.options.tokens.sign({ action, brandId, messageId, url, expires: Math.floor(Date.now() / 1000) + this.options.linkTtlDays * 86_400 });
    const path = action === 'open' ? `/t/o/${token}.gif` : action === 'click' ? `/t/c/${token}` : `/u/${token}`;
    return `${this.options.publicUrl}${path}`;
  }

  /** Every http(s) link through the click tracker, an open pixel, and an unsubscribe footer when the template has no link of its own. */
  private trackHtml(html: string, brandId: string, messageId: string, unsubscribeUrl: string): string {
    let out = html.replace(/href="(https?:\/\/[^"]+)"/g, (whole, url: string) => {
      const target = url.replace(/&amp;/g, '&');
      if (target === unsubscribeUrl) return whole;
      return `href="${this.link('click', brandId, messageId, target)}"`;
    });
    const footer = out.includes(unsubscribeUrl)
      ? ''
      : `<div style="font:12px sans-serif;color:#666;text-align:center;padding:16px"><a href="${unsubscribeUrl}">Unsubscribe</a></div>`;
    const pixel = `<img src="${this.link('open', brandId, messageId)}" width="1" height="1" alt="" style="display:block;border:0">`;
    return out.includes('</body>') ? out.replace('</body>', `${footer}${pixel}</body>`) : `${out}${footer}${pixel}`;
  }

  // ------------------------------------------------------------- tracking --

  /** The learner opened the message: its first open is an EMAIL_OPEN event. */
  async opened(ctx: RequestContext, messageId: string): Promise<void> {
    const row = await this.mark(ctx, messageId, `opened_at = coalesce(opened_at, now())`, `opened_at is null`);
    if (row) await this.record(ctx, row, EventType.EMAIL_OPEN, `email-open:${messageId}`);
  }

  /** The learner followed a link: an EMAIL_CLICK event (once per link), which also counts as an open. */
  async clicked(ctx: RequestContext, messageId: string, url: string): Promise<void> {
    const row = await this.mark(ctx, messageId, `clicked_at = coalesce(clicked_at, now()), opened_at = coalesce(opened_at, now())`, 'true');
    if (!row) return;
    const link = crypto.createHash('sha256').update(url).digest('hex').slice(0, 16);
    await this.record(ctx, row, EventType.EMAIL_CLICK, `email-click:${messageId}:${link}`);
  }

  /** The learner unsubscribed from the message's link: opted out at once, for every journey of the brand. */
  async unsubscribed(ctx: RequestContext, messageId: string): Promise<void> {
    const row = await this.mark(ctx, messageId, `unsubscribed_at = coalesce(unsubscribed_at, now())`, 'true');
    if (row) await this.contacts.optOut(ctx, row.learner_id, 'unsubscribe link');
  }

  private async mark(ctx: RequestContext, messageId: string, set: string, when: string): Promise<{ learner_id: string; campaign_id: string; external_id: string } | null> {
    const manager = await ctx.manager();
    const [rows] = await manager.query(
      `update email_messages m set ${set}
       from journeys j, learners l
       where m.tenant_id = $1 and m.id = $2 and m.state = 'SENT' and ${when}
         and j.tenant_id = m.tenant_id and j.id = m.journey_id and l.tenant_id = m.tenant_id and l.id = m.learner_id
       returning m.learner_id, j.campaign_id, l.external_id`,
      [ctx.brandId, messageId],
    );
    return rows[0] ?? null;
  }

  private async record(ctx: RequestContext, row: { campaign_id: string; external_id: string }, type: EventType, key: string): Promise<void> {
    await this.events.record(ctx, [{ idempotencyKey: key, type, learnerExternalId: row.external_id, occurredAt: new Date(), campaignId: row.campaign_id }]);
  }
}
