import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What a brand that left an alliance sees of it through the settlements it
 * has lines in: the alliance's id, name and purpose, and its status as it
 * was when the brand left — never the alliance's current state, which
 * `alliance(id)` hides from it. Replaces the policy that let such a brand
 * read the whole alliances row.
 *
 * Memberships that ended before this migration get the alliance's status at
 * the time of the migration: the best record there is.
 */
export class FormerMemberView1764600000000 implements MigrationInterface {
  name = 'FormerMemberView1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`alter table alliance_members add column alliance_status_at_exit text
      check (alliance_status_at_exit in ('FORMING','ACTIVE','DISSOLVED'))`);
    await q.query(`update alliance_members m set alliance_status_at_exit = a.status
      from alliances a where a.id = m.alliance_id and m.status = 'LEFT'`);
    await q.query(`drop policy alliances_settled_read on alliances`);
    await q.query(`
      create function allied_former_alliance(p_alliance uuid)
      returns table (id uuid, name text, purpose text, status text, created_at timestamptz)
      language sql stable security definer set search_path = pg_catalog, public
      as $$
        select a.id, a.name::text, a.purpose::text, coalesce(m.alliance_status_at_exit, a.status)::text, a.created_at
        from public.alliances a
        join public.alliance_members m on m.alliance_id = a.id and m.brand_id = public.allied_current_tenant()
        where a.id = p_alliance
          and a.id not in (select public.allied_visible_alliances())
          and a.id in (select public.allied_settled_alliances())
      $$`);
    await q.query(`revoke all on function allied_former_alliance(uuid) from public`);
    await q.query(`grant execute on function allied_former_alliance(uuid) to allied_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop function allied_former_alliance(uuid)`);
    await q.query(`create policy alliances_settled_read on alliances for select to allied_app
      using (id in (select allied_settled_alliances()))`);
    await q.query(`alter table alliance_members drop column alliance_status_at_exit`);
  }
}
