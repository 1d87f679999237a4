-- The topics, in lower case, of the PUBLISHED courses of the given brands: what a brand's public catalog
-- offers, for partner suggestions to match against the caller's unmet demands. Topics only: no title,
-- price or draft ever leaves its brand this way. Spans brands, hence SECURITY DEFINER.
create or replace function allied_published_topics(p_brands uuid[])
returns table (brand_id uuid, topic text)
language sql stable security definer set search_path = pg_catalog, public
as $$
  select distinct c.tenant_id, lower(t)
  from public.courses c, unnest(c.topics) as t
  where c.tenant_id = any(p_brands) and c.status = 'PUBLISHED' and public.allied_current_tenant() is not null
$$;
