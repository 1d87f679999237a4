import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What learners do: impressions, clicks, views, enrolments, purchases,
 * refunds, ratings, feedback, completions. Learner-level rows never cross
 * brands: only the ingesting brand reads them (alliance figures come from
 * aggregates). Each event's idempotency key is unique per brand, so a retried
 * or concurrent duplicate is never stored twice.
 */
export class Events1764100000000 implements MigrationInterface {
  name = 'Events1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table events (
        tenant_id uuid not null references brands(id),
        id uuid not null,
        idempotency_key text not null check (char_length(idempotency_key) between 1 and 200),
        type text not null check (type in ('IMPRESSION','CLICK','VIEW','ENROLL','PURCHASE','REFUND','RATING','FEEDBACK','COMPLETE')),
        learner_id uuid not null,
        occurred_at timestamptz(3) not null,
        course_tenant_id uuid,
        course_id uuid,
        campaign_tenant_id uuid,
        campaign_id uuid,
        creative_id uuid,
        -- The alliance of a joint course or joint campaign: alliance figures are computed from it.
        alliance_id uuid references alliances(id),
        amount_minor bigint check (amount_minor between 1 and 9007199254740991),
        currency char(3) check (currency ~ '^[A-Z]{3}$'),
        rating smallint check (rating between 1 and 5),
        text text check (char_length(text) <= 4000),
        refund_of uuid,
        received_at timestamptz(3) not null default now(),
        primary key (tenant_id, id),
        unique (tenant_id, idempotency_key),
        foreign key (tenant_id, learner_id) references learners(tenant_id, id),
        foreign key (course_tenant_id, course_id) references courses(tenant_id, id),
        foreign key (campaign_tenant_id, campaign_id) references campaigns(tenant_id, id),
        foreign key (tenant_id, refund_of) references events(tenant_id, id),
        check ((type in ('PURCHASE','REFUND')) = (amount_minor is not null and currency is not null)),
        check (type not in ('PURCHASE','REFUND') or course_id is not null),
        check ((type = 'REFUND') = (refund_of is not null)),
        check ((type = 'RATING') = (rating is not null)),
        check ((type = 'FEEDBACK') = (text is not null))
      )`);
    await q.query(`create index events_tenant_time on events (tenant_id, occurred_at)`);
    await q.query(`create index events_learner_time on events (tenant_id, learner_id, occurred_at)`);
    await q.query(`create index events_alliance_time on events (alliance_id, occurred_at) where alliance_id is not null`);
    await q.query(`create index events_refunds on events (tenant_id, refund_of) where refund_of is not null`);

    await q.query(`alter table events enable row level security`);
    await q.query(`alter table events force row level security`);
    await q.query(`
      create policy events_tenant on events
      using (tenant_id = (select allied_current_tenant()))
      with check (tenant_id = (select allied_current_tenant()))`);
    // Events are facts: recorded once, never edited or deleted by the application.
    await q.query(`grant select, insert on events to allied_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop table events`);
  }
}
