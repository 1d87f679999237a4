import { effectiveRoles, Role } from './roles';

/** Who is calling: built once per request (or WebSocket connection) from the credential. */
export class Principal {
  private readonly effective: Set<Role>;

  constructor(
    readonly subject: string,
    /** The caller's brand (the tenant); null for platform admins. */
    readonly brandId: string | null,
    readonly roles: readonly Role[],
    readonly credential: 'jwt' | 'api-key',
  ) {
    this.effective = effectiveRoles(roles);
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
