create or replace function allied_former_alliance(p_alliance uuid)
returns table (id uuid, name text, purpose text, status text, created_at timestamptz)
language sql stable security definer set search_path = pg_catalog, public
as $$
  select a.id, a.name::text, a.purpose::text, coalesce(m.alliance_status_at_exit, a.status)::text, a.created_at
  from public.alliances a
  join public.alliance_members m on m.alliance_id = a.id and m.brand_id = public.allied_current_tenant()
  where a.id = p_alliance
    and a.id not in (select public.allied_visible_alliances())
    and a.id in (select public.allied_settled_alliances())
$$;
