/** The contract's roles. A credential carries some; each implies those listed for it. */
export enum Role {
  OWNER = 'OWNER',
  ADMIN = 'ADMIN',
  EDITOR = 'EDITOR',
  ANALYST = 'ANALYST',
  INGEST = 'INGEST',
  PLATFORM_ADMIN = 'PLATFORM_ADMIN',
}

export const ALL_ROLES = Object.values(Role);
/** Roles an API key may carry: a key always belongs to one brand. */
export const BRAND_ROLES: readonly Role[] = ALL_ROLES.filter((r) => r !== Role.PLATFORM_ADMIN);

// OWNER and ADMIN run the brand; EDITOR manages the catalog and may ingest;
// ANALYST reads; INGEST only writes events, so a leaked ingest key reads nothing.
const IMPLIES: Record<Role, Role[]> = {
  [Role.OWNER]: [Role.ADMIN, Role.EDITOR, Role.ANALYST, Role.INGEST],
  [Role.ADMIN]: [Role.EDITOR, Role.ANALYST, Role.INGEST],
  [Role.EDITOR]: [Role.ANALYST, Role.INGEST],
  [Role.ANALYST]: [],
  [Role.INGEST]: [],
  [Role.PLATFORM_ADMIN]: [],
};

/** The roles granted, with everything they imply. */
export function effectiveRoles(granted: readonly Role[]): Set<Role> {
  const out = new Set<Role>();
  for (const role of granted) {
    out.add(role);
    for (const implied of IMPLIES[role]) out.add(implied);
  }
  return out;
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ALL_ROLES as string[]).includes(value);
}
