import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Campaigns of a brand, or of an alliance it is an ACTIVE member of (joint
 * campaigns, readable by the alliance's ACTIVE members, changed only by the
 * owning brand), with their creatives, promoted courses, sports sponsorship
 * and recorded spend.
 */
export class Campaigns1764000000000 implements MigrationInterface {
  name = 'Campaigns1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table campaigns (
        tenant_id uuid not null references brands(id),
        id uuid not null,
        alliance_id uuid references alliances(id),
        name text not null check (char_length(name) between 1 and 200),
        kind text not null check (kind in ('JOINT_MARKETING','AD_PLACEMENT','SPONSORSHIP','EMAIL','LOYALTY')),
        status text not null default 'DRAFT' check (status in ('DRAFT','SCHEDULED','ACTIVE','PAUSED','ENDED')),
        starts_at timestamptz(3) not null,
        ends_at timestamptz(3),
        window_start_hour int check (window_start_hour between 0 and 23),
        window_end_hour int check (window_end_hour between 0 and 23),
        time_zone text not null default 'UTC' check (char_length(time_zone) between 1 and 64),
        budget_minor bigint not null check (budget_minor between 0 and 9007199254740991),
        currency char(3) not null check (currency ~ '^[A-Z]{3}$'),
        target_segments text[] not null default '{}' check (cardinality(target_segments) <= 50),
        sponsorship_property_kind text check (sponsorship_property_kind in ('EVENT','TEAM','ATHLETE')),
        sponsorship_property_name text check (char_length(sponsorship_property_name) between 1 and 200),
        sponsorship_sport text check (char_length(sponsorship_sport) between 1 and 100),
        sponsorship_starts_at timestamptz(3),
        sponsorship_fee_minor bigint check (sponsorship_fee_minor between 0 and 9007199254740991),
        sponsorship_fee_currency char(3) check (sponsorship_fee_currency ~ '^[A-Z]{3}$'),
        created_at timestamptz(3) not null default now(),
        updated_at timestamptz(3) not null default now(),
        primary key (tenant_id, id),
        check (ends_at is null or ends_at > starts_at),
        check ((window_start_hour is null) = (window_end_hour is null)),
        -- A sponsorship belongs to SPONSORSHIP campaigns, and they have one.
        check ((kind = 'SPONSORSHIP') = (sponsorship_property_kind is not null)),
        check ((sponsorship_property_kind is null) = (sponsorship_fee_minor is null))
      )`);
    await q.query(`create index campaigns_tenant_created on campaigns (tenant_id, created_at desc, id desc)`);
    await q.query(`create index campaigns_alliance on campaigns (alliance_id, created_at desc, id desc) where alliance_id is not null`);
    await q.query(`create index campaigns_id on campaigns (id)`);

    await q.query(`
      create table campaign_courses (
        tenant_id uuid not null,
        campaign_id uuid not null,
        alliance_id uuid references alliances(id),
        course_tenant_id uuid not null,
        course_id uuid not null,
        position int not null,
        primary key (tenant_id, campaign_id, course_id),
        foreign key (tenant_id, campaign_id) references campaigns(tenant_id, id),
        foreign key (course_tenant_id, course_id) references courses(tenant_id, id)
      )`);
    await q.query(`
      create table creatives (
        tenant_id uuid not null,
        id uuid not null,
        campaign_id uuid not null,
        alliance_id uuid references alliances(id),
        channel text not null check (channel in ('SOCIAL','SEARCH','IN_APP','EMAIL','PARTNER_SITE','BROADCAST','VENUE')),
        headline text not null check (char_length(headline) between 1 and 200),
        body text check (char_length(body) <= 2000),
        image_url text check (char_length(image_url) <= 2000),
        created_at timestamptz(3) not null default now(),
        primary key (tenant_id, id),
        foreign key (tenant_id, campaign_id) references campaigns(tenant_id, id)
      )`);
    await q.query(`create index creatives_campaign on creatives (tenant_id, campaign_id, created_at)`);
    await q.query(`create index creatives_id on creatives (id)`);
    await q.query(`
      create table campaign_spend (
        tenant_id uuid not null,
        id uuid not null,
        campaign_id uuid not null,
        alliance_id uuid references alliances(id),
        amount_minor bigint not null check (amount_minor between 1 and 9007199254740991),
        currency char(3) not null check (currency ~ '^[A-Z]{3}$'),
        occurred_at timestamptz(3) not null,
        created_at timestamptz(3) not null default now(),
        primary key (tenant_id, id),
        foreign key (tenant_id, campaign_id) references campaigns(tenant_id, id)
      )`);
    await q.query(`create index campaign_spend_campaign on campaign_spend (tenant_id, campaign_id, currency)`);

    // The owner reads and writes; ACTIVE members of the campaign's alliance read.
    for (const table of ['campaigns', 'campaign_courses', 'creatives', 'campaign_spend']) {
      await q.query(`alter table ${table} enable row level security`);
      await q.query(`alter table ${table} force row level security`);
      await q.query(`
        create policy ${table}_tenant on ${table}
        using (tenant_id = (select allied_current_tenant()))
        with check (tenant_id = (select allied_current_tenant()))`);
      await q.query(`create policy ${table}_alliance_read on ${table} for select to allied_app
        using (alliance_id in (select allied_active_alliances()))`);
      await q.query(`grant select, insert, update on ${table} to allied_app`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop table campaign_spend, creatives, campaign_courses, campaigns`);
  }
}
