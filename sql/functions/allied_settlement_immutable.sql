create or replace function allied_settlement_immutable() returns trigger
language plpgsql set search_path = pg_catalog, public
as $$ begin
  if tg_table_name = 'settlements' then
    if old.status = 'FINALIZED' then
      raise exception 'settlement % is FINALIZED', old.id using errcode = '55000';
    end if;
    return case when tg_op = 'DELETE' then old else new end;
  end if;
  if exists (select 1 from public.settlements s
             where s.id = case when tg_op = 'INSERT' then new.settlement_id else old.settlement_id end
               and s.status = 'FINALIZED') then
    raise exception 'settlement is FINALIZED' using errcode = '55000';
  end if;
  return case when tg_op = 'DELETE' then old else new end;
end $$;
