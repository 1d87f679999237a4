create or replace function allied_valid_resources(r jsonb) returns boolean
language sql immutable parallel safe
as $$
  select case when jsonb_typeof(r) <> 'object' then false else
    (select count(*) <= 32 from jsonb_each(r)) and not exists (
      select 1 from jsonb_each(r) e
      where char_length(e.key) not between 1 and 64
         or case when jsonb_typeof(e.value) <> 'number' then true
                 else (e.value)::text::numeric not between 0 and 1 end)
  end $$;
