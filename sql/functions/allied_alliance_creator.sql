create or replace function allied_alliance_creator(p_alliance uuid) returns uuid
language plpgsql stable security definer set search_path = pg_catalog, public
as $$ begin
  return (select created_by from public.alliances where id = p_alliance);
end $$;
