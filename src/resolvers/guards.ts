import type { AuthChecker } from 'type-graphql';
import { forbidden } from '../errors';
import type { RequestContext } from '../tenancy/context';
import type { Role } from '../tenancy/roles';

/**
 * `@Authorized(...roles)`: no credential is UNAUTHENTICATED; a credential
 * without one of the roles (or a role implying it) is FORBIDDEN.
 */
export const authChecker: AuthChecker<RequestContext, Role> = ({ context }, roles) => {
  const caller = context.caller;
  if (roles.length > 0 && !caller.hasAny(roles)) {
    throw forbidden(`This operation needs one of the roles ${roles.join(', ')}.`);
  }
  return true;
};
