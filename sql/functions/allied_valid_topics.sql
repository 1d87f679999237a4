create or replace function allied_valid_topics(t text[]) returns boolean
language sql immutable parallel safe
as $$
  select cardinality(t) <= 20 and not exists (
    select 1 from unnest(t) x where x is null or char_length(x) not between 1 and 64) $$;
