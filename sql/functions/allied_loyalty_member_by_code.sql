-- The membership of an alliance whose member code has this HMAC, for an ACTIVE member of that alliance
-- linking its own learner with the code the learner gave it; null for any other caller, alliance or code.
-- Memberships are visible only to brands already linked to them, hence SECURITY DEFINER.
create or replace function allied_loyalty_member_by_code(p_alliance uuid, p_code_hash text) returns uuid
language sql stable security definer set search_path = pg_catalog, public
as $$
  select m.id from public.loyalty_members m
  where m.alliance_id = p_alliance and m.code_hash = p_code_hash
    and p_alliance in (select public.allied_active_alliances())
$$;
