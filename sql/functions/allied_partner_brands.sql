create or replace function allied_partner_brands() returns setof uuid
language plpgsql stable security definer set search_path = pg_catalog, public
as $$ begin
  return query select distinct other.brand_id
    from public.alliance_members mine
    join public.alliance_members other on other.alliance_id = mine.alliance_id
    join public.alliances a on a.id = mine.alliance_id
    where mine.brand_id = public.allied_current_tenant() and mine.status = 'ACTIVE'
      and other.status = 'ACTIVE' and other.brand_id <> mine.brand_id
      and a.status <> 'DISSOLVED';
end $$;
