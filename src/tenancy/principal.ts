import { effectiveRoles, Role } from './roles';

/** Who is calling: built once per request (or WebSocket connection) from the credential. */
export class Principal {
  private readonly effective: Set<Role>;

  constructor(
    readonly subject: string,
    /** The caller's brand (the tenant); null for platform admins. */
    readonly brandId: string | null,
    readonly roles: readonly Role[],
    /** How the caller proved who it is; `system` for Allied's own work (jobs, live figures, demo data). */
    readonly credential: 'jwt' | 'api-key' | 'system',
  ) {
    this.effective = effectiveRoles(roles);
  }

  /**
   * Allied acting for a brand (or, with no brand, for the platform) on its own
   * account, never on a forged credential: its subject, `system:<purpose>`, is
   * what audit entries and logs show as the actor.
   */
  static system(brandId: string | null, purpose: string, roles: readonly Role[] = brandId ? [Role.OWNER] : [Role.PLATFORM_ADMIN]): Principal {
    return new Principal(`system:${purpose}`, brandId, roles, 'system');
  }

  has(role: Role): boolean {
    return this.effective.has(role);
  }

  hasAny(roles: readonly Role[]): boolean {
    return roles.some((r) => this.effective.has(r));
  }

  get isPlatformAdmin(): boolean {
    return this.effective.has(Role.PLATFORM_ADMIN);
  }
}
