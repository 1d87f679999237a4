create or replace function allied_own_settlements() returns setof uuid
language plpgsql stable security definer set search_path = pg_catalog, public
as $$ begin
  return query select distinct settlement_id from public.settlement_lines where brand_id = public.allied_current_tenant();
end $$;
