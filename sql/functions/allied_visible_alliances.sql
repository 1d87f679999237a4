create or replace function allied_visible_alliances() returns setof uuid
language plpgsql stable security definer set search_path = pg_catalog, public
as $$ begin
  return query select alliance_id from public.alliance_members
    where brand_id = public.allied_current_tenant() and status in ('ACTIVE','INVITED');
end $$;
