create or replace function allied_settled_alliances() returns setof uuid
language plpgsql stable security definer set search_path = pg_catalog, public
as $$ begin
  return query select distinct alliance_id from public.settlement_lines where brand_id = public.allied_current_tenant();
end $$;
