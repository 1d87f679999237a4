import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Email marketing (src/services/contact.service.ts, template.service.ts,
 * journey.service.ts, src/mail/):
 *
 * - `learner_contacts`: a learner's address, name and consent. Personal
 *   data: the brand's own rows only, deleted by forgetLearner.
 * - `email_settings`: the brand's time zone, quiet hours, weekly cap per
 *   learner, sending rate, and the next free sending slot.
 * - `email_templates`: subject, MJML and text bodies with Liquid variables.
 * - `journeys` on EMAIL campaigns, `journey_enrollments` (one per learner
 *   and journey: its step, holdout flag and next due time) and
 *   `email_messages` (one per journey, learner and step: the idempotency
 *   key of a send).
 * - `email_outbox`: where messages go when no SMTP server is configured.
 *
 * EMAIL_OPEN and EMAIL_CLICK join the event types: the tracking links
 * record them against the journey's campaign.
 */
export class Email1765400000000 implements MigrationInterface {
  name = 'Email1765400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`alter table events drop constraint events_type_check`);
    await q.query(`
      alter table events add constraint events_type_check
      check (type in ('IMPRESSION','CLICK','VIEW','ENROLL','PURCHASE','REFUND','RATING','FEEDBACK','COMPLETE','EMAIL_OPEN','EMAIL_CLICK'))`);

    await q.query(`
      create table learner_contacts (
        tenant_id uuid not null references brands(id),
        learner_id uuid not null,
        email text not null check (char_length(email) between 3 and 254),
        name text check (char_length(name) between 1 and 200),
        -- Null: no statement of consent yet, which is no consent.
        consent text check (consent in ('OPTED_IN','OPTED_OUT')),
        consent_at timestamptz(3),
        consent_source text check (char_length(consent_source) between 1 and 100),
        updated_at timestamptz(3) not null default now(),
        primary key (tenant_id, learner_id),
        foreign key (tenant_id, learner_id) references learners(tenant_id, id),
        check ((consent is null) = (consent_at is null))
      )`);

    await q.query(`
      create table email_settings (
        tenant_id uuid primary key references brands(id),
        time_zone text not null,
        quiet_start_hour smallint not null check (quiet_start_hour between 0 and 23),
        quiet_end_hour smallint not null check (quiet_end_hour between 0 and 23),
        weekly_cap smallint not null check (weekly_cap between 1 and 100),
        per_minute integer not null check (per_minute between 1 and 1000000),
        -- The earliest time the next message may be scheduled at (the sending rate).
        next_slot_at timestamptz(3),
        updated_at timestamptz(3) not null default now()
      )`);

    await q.query(`
      create table email_templates (
        tenant_id uuid not null references brands(id),
        id uuid not null,
        name text not null check (char_length(name) between 1 and 200),
        subject text not null check (char_length(subject) between 1 and 1000),
        mjml text not null check (char_length(mjml) between 1 and 200000),
        text_body text not null check (char_length(text_body) between 1 and 100000),
        recommend_scope text not null check (recommend_scope in ('OWN','ALLIANCE')),
        recommend_count smallint not null check (recommend_count between 0 and 10),
        offer jsonb,
        created_by text not null check (char_length(created_by) between 1 and 200),
        created_at timestamptz(3) not null default now(),
        updated_at timestamptz(3) not null default now(),
        primary key (tenant_id, id),
        unique (tenant_id, name)
      )`);

    await q.query(`
      create table journeys (
        tenant_id uuid not null references brands(id),
        id uuid not null,
        campaign_id uuid not null,
        name text not null check (char_length(name) between 1 and 200),
        status text not null check (status in ('ACTIVE','PAUSED','ENDED')),
        trigger jsonb not null,
        steps jsonb not null check (jsonb_typeof(steps) = 'array'),
        exit_on_purchase boolean not null,
        holdout_percent smallint not null check (holdout_percent between 0 and 50),
        created_by text not null check (char_length(created_by) between 1 and 200),
        created_at timestamptz(3) not null default now(),
        ended_at timestamptz(3),
        primary key (tenant_id, id),
        foreign key (tenant_id, campaign_id) references campaigns(tenant_id, id)
      )`);
    await q.query(`create index journeys_campaign on journeys (tenant_id, campaign_id)`);

    await q.query(`
      create table journey_enrollments (
        tenant_id uuid not null,
        journey_id uuid not null,
        learner_id uuid not null,
        holdout boolean not null,
        state text not null check (state in ('ACTIVE','DONE','EXITED')),
        exit_reason text check (exit_reason in ('PURCHASED','UNSUBSCRIBED','CAMPAIGN_ENDED','FORGOTTEN')),
        step smallint not null default 0,
        next_at timestamptz(3),
        enrolled_at timestamptz(3) not null default now(),
        updated_at timestamptz(3) not null default now(),
        primary key (tenant_id, journey_id, learner_id),
        foreign key (tenant_id, journey_id) references journeys(tenant_id, id),
        foreign key (tenant_id, learner_id) references learners(tenant_id, id)
      )`);
    await q.query(`create index journey_enrollments_due on journey_enrollments (tenant_id, journey_id, next_at) where state = 'ACTIVE'`);
    await q.query(`create index journey_enrollments_learner on journey_enrollments (tenant_id, learner_id)`);

    await q.query(`
      create table email_messages (
        tenant_id uuid not null,
        id uuid not null,
        journey_id uuid not null,
        learner_id uuid not null,
        step smallint not null,
        template_id uuid not null,
        state text not null check (state in ('QUEUED','SENT','BOUNCED','SUPPRESSED')),
        -- Why a message was suppressed or bounced; never an address.
        reason text check (char_length(reason) <= 1000),
        send_at timestamptz(3) not null,
        sent_at timestamptz(3),
        smtp_message_id text check (char_length(smtp_message_id) <= 300),
        opened_at timestamptz(3),
        clicked_at timestamptz(3),
        unsubscribed_at timestamptz(3),
        created_at timestamptz(3) not null default now(),
        primary key (tenant_id, id),
        -- The idempotency key of a send: a step reaches a learner once.
        unique (tenant_id, journey_id, learner_id, step),
        foreign key (tenant_id, journey_id) references journeys(tenant_id, id),
        foreign key (tenant_id, learner_id) references learners(tenant_id, id),
        foreign key (tenant_id, template_id) references email_templates(tenant_id, id)
      )`);
    await q.query(`create index email_messages_learner on email_messages (tenant_id, learner_id, send_at)`);

    await q.query(`
      create table email_outbox (
        tenant_id uuid not null,
        message_id uuid not null,
        recipient text not null,
        subject text not null,
        -- The whole message as it would have gone over SMTP (RFC 5322).
        raw text not null,
        created_at timestamptz(3) not null default now(),
        primary key (tenant_id, message_id),
        foreign key (tenant_id, message_id) references email_messages(tenant_id, id)
      )`);

    const grants: Record<string, string> = {
      learner_contacts: 'select, insert, update, delete',
      email_settings: 'select, insert, update',
      email_templates: 'select, insert, update',
      journeys: 'select, insert, update',
      journey_enrollments: 'select, insert, update',
      email_messages: 'select, insert, update',
      email_outbox: 'select, insert, delete',
    };
    for (const [table, privileges] of Object.entries(grants)) {
      await q.query(`alter table ${table} enable row level security`);
      await q.query(`alter table ${table} force row level security`);
      await q.query(`
        create policy ${table}_tenant on ${table} to allied_app
        using (tenant_id = (select allied_current_tenant()))
        with check (tenant_id = (select allied_current_tenant()))`);
      await q.query(`grant ${privileges} on ${table} to allied_app`);
    }

    // Declared here; the bodies live in sql/functions/<name>.sql.
    await q.query(`
      create function allied_journey_report(p_journey uuid)
      returns table (holdout boolean, eligible int, sent int, delivered int, bounced int, suppressed int, opened int, clicked int,
                     converted int, unsubscribed int, revenue jsonb)
      language sql stable security definer set search_path = pg_catalog, public as $$ select null::boolean, 0, 0, 0, 0, 0, 0, 0, 0, 0, null::jsonb where false $$`);
    await q.query(`revoke all on function allied_journey_report(uuid) from public`);
    await q.query(`grant execute on function allied_journey_report(uuid) to allied_app`);
    await q.query(`
      create function allied_campaign_journeys(p_campaign uuid) returns table (id uuid, name text, status text, created_at timestamptz)
      language sql stable security definer set search_path = pg_catalog, public as $$ select null::uuid, null::text, null::text, null::timestamptz where false $$`);
    await q.query(`revoke all on function allied_campaign_journeys(uuid) from public`);
    await q.query(`grant execute on function allied_campaign_journeys(uuid) to allied_app`);
    await q.query(`create function allied_forget_learner(p_learner uuid) returns void language sql security definer set search_path = pg_catalog, public as $$ select $$`);
    await q.query(`revoke all on function allied_forget_learner(uuid) from public`);
    await q.query(`grant execute on function allied_forget_learner(uuid) to allied_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop function allied_forget_learner(uuid)`);
    await q.query(`drop function allied_campaign_journeys(uuid)`);
    await q.query(`drop function allied_journey_report(uuid)`);
    for (const table of ['email_outbox', 'email_messages', 'journey_enrollments', 'journeys', 'email_templates', 'email_settings', 'learner_contacts']) {
      await q.query(`drop table ${table}`);
    }
    await q.query(`alter table events drop constraint events_type_check`);
    await q.query(`
      alter table events add constraint events_type_check
      check (type in ('IMPRESSION','CLICK','VIEW','ENROLL','PURCHASE','REFUND','RATING','FEEDBACK','COMPLETE'))`);
  }
}
