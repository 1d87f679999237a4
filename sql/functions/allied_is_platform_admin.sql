create or replace function allied_is_platform_admin() returns boolean
language sql stable parallel safe
as $$ select coalesce(current_setting('app.platform_admin', true), '') = 'on' $$;
