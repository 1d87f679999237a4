import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import jwt from 'jsonwebtoken';
import type { Config } from '../config';
import { AlliedError, unauthenticated } from '../errors';
import type { CredentialThrottle } from '../limits/credential-throttle';
import { rateLimited } from '../limits/rate';
import { Principal } from './principal';
import { isRole, Role } from './roles';
import type { RunAs } from './run-as';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: unknown): value is string => typeof value === 'string' && UUID.test(value);

const API_KEY_PREFIX = 'allied_';
const SECRET_BYTES = 24;

/**
 * How JWTs are checked and (for `allied token`) made. Keys are KeyObjects,
 * built once: given a string, the JWT library re-parses it on every verify,
 * which cost about a millisecond per request.
 */
export interface JwtKeys {
  algorithm: 'HS256' | 'RS256';
  verifyKey: crypto.KeyObject;
  signKey?: crypto.KeyObject;
  /** When set, tokens must carry this `iss`, and `allied token` signs it. */
  issuer?: string;
  /** When set, tokens must name this audience in `aud`, and `allied token` signs it. */
  audience?: string;
}

export function hmacKeys(secret: string): JwtKeys {
  const key = crypto.createSecretKey(Buffer.from(secret, 'utf8'));
  return { algorithm: 'HS256', verifyKey: key, signKey: key };
}

/**
 * The keys from configuration. In development with no key configured, a
 * secret is generated once and kept in the data directory so tokens survive
 * restarts.
 */
export function resolveJwtKeys(config: Pick<Config, 'jwt' | 'dataDir' | 'env'>): JwtKeys {
  const claims = { issuer: config.jwt.issuer, audience: config.jwt.audience };
  if (config.jwt.publicKey) {
    return {
      algorithm: 'RS256',
      verifyKey: crypto.createPublicKey(config.jwt.publicKey),
      signKey: config.jwt.privateKey ? crypto.createPrivateKey(config.jwt.privateKey) : undefined,
      ...claims,
    };
  }
  return { ...hmacKeys(config.jwt.secret ?? developmentSecret(config.dataDir, 'jwt-secret')), ...claims };
}

/** A random secret generated once into `dataDir/<name>` (mode 600) and read from there afterwards: development only. */
export function developmentSecret(dataDir: string, name: string): string {
  const file = path.join(dataDir, name);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dataDir, { recursive: true });
    try {
      fs.writeFileSync(file, crypto.randomBytes(48).toString('base64url'), { mode: 0o600, flag: 'wx' });
    } catch (error) {
      // Another process wrote it first: read theirs.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  return fs.readFileSync(file, 'utf8').trim();
}

export interface TokenClaims {
  sub: string;
  tid?: string;
  roles: Role[];
}

/** Signs a JWT with the configured key; `ttlSeconds` sets `exp`. */
export function signToken(keys: JwtKeys, claims: TokenClaims, ttlSeconds: number): string {
  if (!keys.signKey) throw new Error('JWT_PRIVATE_KEY is needed to sign RS256 tokens');
  return jwt.sign({ ...claims }, keys.signKey, {
    algorithm: keys.algorithm,
    expiresIn: ttlSeconds,
    ...(keys.issuer ? { issuer: keys.issuer } : {}),
    ...(keys.audience ? { audience: keys.audience } : {}),
  });
}

/**
 * An API key's secret: its brand and id (for lookup) and random bytes; stored
 * only as an HMAC-SHA256 under the server's key (`hashKey`), so the table of
 * hashes alone, leaked, cannot confirm a key.
 */
export function newApiKeySecret(brandId: string, keyId: string, hashKey: Buffer): { secret: string; hash: Buffer } {
  const body = Buffer.concat([uuidBytes(brandId), uuidBytes(keyId), crypto.randomBytes(SECRET_BYTES)]);
  const secret = API_KEY_PREFIX + body.toString('base64url');
  return { secret, hash: apiKeyHash(hashKey, secret) };
}

export function apiKeyHash(hashKey: Buffer, secret: string): Buffer {
  return crypto.createHmac('sha256', hashKey).update(secret).digest();
}

export interface AuthenticatorOptions {
  /** Longest JWT lifetime accepted (exp − now), in seconds. */
  maxTokenTtlSeconds?: number;
  /** Failed-credential throttling per client address. */
  throttle?: CredentialThrottle;
  /** Whether a brand exists; when given, a JWT naming a brand that does not is UNAUTHENTICATED. */
  brandExists?: (brandId: string) => Promise<boolean>;
  /** The HMAC key API keys are stored under (see newApiKeySecret); without it, API keys are refused. */
  apiKeyHashKey?: Buffer;
}

// Brand ids seen to exist. Brands are never deleted, so an entry never goes
// stale; the set is only bounded.
const KNOWN_BRANDS_MAX = 100_000;
/**
 * Tokens whose signature and claims were checked, with their principal, so a
 * client that sends the same token on every request pays for one HMAC or RSA
 * check, not one per request. An entry is used only until the token's exp
 * (with the same clock tolerance as the check); the map is bounded, oldest out.
 */
const VERIFIED_TOKENS_MAX = 10_000;
const CLOCK_TOLERANCE_SECONDS = 5;

/** Turns a bearer token into a principal, or throws UNAUTHENTICATED (RATE_LIMITED for a throttled address). */
export class Authenticator {
  private readonly knownBrands = new Set<string>();
  private readonly verified = new Map<string, { principal: Principal; exp: number }>();

  constructor(
    private readonly keys: JwtKeys,
    /** How API keys are looked up: inside the brand they name. */
    private readonly runAs: RunAs,
    private readonly options: AuthenticatorOptions = {},
  ) {}

  /**
   * The principal of an Authorization header value; null when there is none.
   * `address` is the client's: after too many failures from it, credentials
   * are refused without being checked until its window ends.
   */
  async authenticate(authorization: string | undefined, address = 'unknown'): Promise<Principal | null> {
    if (authorization === undefined || authorization === '') return null;
    const throttle = this.options.throttle;
    const wait = throttle?.retryAfter(address) ?? 0;
    if (wait > 0) {
      throw rateLimited('ALLIED_MAX_CREDENTIAL_FAILURES', wait, `Too many failed credentials from your address; retry in ${wait} s.`);
    }
    try {
      return await this.check(authorization);
    } catch (error) {
      if (throttle && error instanceof AlliedError && error.code === 'UNAUTHENTICATED') await throttle.failed(address);
      throw error;
    }
  }

  private async check(authorization: string): Promise<Principal> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) throw unauthenticated('Malformed Authorization header: expected "Bearer <token>".');
    const token = match[1];
    if (token.startsWith(API_KEY_PREFIX)) return this.fromApiKey(token);
    const principal = this.verifiedJwt(token);
    if (principal.brandId && this.options.brandExists) await this.requireBrand(principal.brandId, this.options.brandExists);
    return principal;
  }

  /** A token naming a brand that does not exist is as invalid as a forged one. */
  private async requireBrand(brandId: string, exists: (brandId: string) => Promise<boolean>): Promise<void> {
    if (this.knownBrands.has(brandId)) return;
    if (!(await exists(brandId))) throw unauthenticated("The token's brand does not exist.");
    if (this.knownBrands.size >= KNOWN_BRANDS_MAX) this.knownBrands.clear();
    this.knownBrands.add(brandId);
  }

  /** fromJwt, remembered until the token expires. */
  private verifiedJwt(token: string): Principal {
    const known = this.verified.get(token);
    if (known && Date.now() / 1000 <= known.exp + CLOCK_TOLERANCE_SECONDS) return known.principal;
    this.verified.delete(token);
    const { principal, exp } = this.fromJwt(token);
    if (this.verified.size >= VERIFIED_TOKENS_MAX) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, { principal, exp });
    return principal;
  }

  private fromJwt(token: string): { principal: Principal; exp: number } {
    let payload: jwt.JwtPayload | string;
    try {
      // The algorithm is fixed by configuration, never taken from the token:
      // this rejects alg "none" and HS256 tokens signed with a public key.
      // Issuer and audience are checked where configured; clocks may differ by CLOCK_TOLERANCE_SECONDS.
      payload = jwt.verify(token, this.keys.verifyKey, {
        algorithms: [this.keys.algorithm],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        ...(this.keys.issuer ? { issuer: this.keys.issuer } : {}),
        ...(this.keys.audience ? { audience: this.keys.audience } : {}),
      });
    } catch (error) {
      if (error instanceof jwt.TokenExpiredError) throw unauthenticated('The token has expired.');
      if (error instanceof jwt.NotBeforeError) throw unauthenticated('The token is not valid yet (nbf).');
      const claim = error instanceof jwt.JsonWebTokenError && /^jwt (issuer|audience) invalid/.exec(error.message)?.[1];
      throw unauthenticated(claim ? `The token's ${claim === 'issuer' ? 'issuer (iss)' : 'audience (aud)'} is not the one this server accepts.` : 'The token is invalid.');
    }
    if (typeof payload === 'string') throw unauthenticated('The token is invalid.');
    const { sub, tid, roles, exp } = payload as jwt.JwtPayload & { tid?: unknown; roles?: unknown };
    if (typeof exp !== 'number') throw unauthenticated('The token has no expiry (exp).');
    // A token issued in the future is from a clock that is wrong by more than the tolerance.
    const { iat } = payload as jwt.JwtPayload;
    if (typeof iat === 'number' && iat > Date.now() / 1000 + CLOCK_TOLERANCE_SECONDS) throw unauthenticated('The token was issued in the future (iat).');
    const maxTtl = this.options.maxTokenTtlSeconds;
    if (maxTtl !== undefined && exp - Date.now() / 1000 > maxTtl + 5) {
      throw unauthenticated(`The token lives longer than the ${maxTtl}-second maximum (ALLIED_MAX_TOKEN_TTL_SECONDS); ask for a shorter one.`);
    }
    if (typeof sub !== 'string' || sub === '') throw unauthenticated('The token has no subject (sub).');
    if (!Array.isArray(roles) || !roles.every(isRole)) {
      throw unauthenticated('The token\'s "roles" must be an array of role names.');
    }
    const platformAdmin = roles.includes(Role.PLATFORM_ADMIN);
    if (platformAdmin && tid !== undefined) throw unauthenticated('A platform-admin token must not name a brand (tid).');
    if (!platformAdmin && !isUuid(tid)) throw unauthenticated('The token\'s brand (tid) must be a brand id.');
    return { principal: new Principal(sub, platformAdmin ? null : (tid as string).toLowerCase(), roles, 'jwt'), exp };
  }

  private async fromApiKey(token: string): Promise<Principal> {
    const body = Buffer.from(token.slice(API_KEY_PREFIX.length), 'base64url');
    const hashKey = this.options.apiKeyHashKey;
    if (body.length !== 32 + SECRET_BYTES || !hashKey) throw unauthenticated('The API key is invalid.');
    const brandId = bytesToUuid(body.subarray(0, 16));
    const keyId = bytesToUuid(body.subarray(16, 32));
    const hash = apiKeyHash(hashKey, token);
    // Keys created before hashes were keyed are stored as a plain SHA-256:
    // accepted, and stored under the key from their first use on.
    const legacy = sha256(token);
    // Looked up inside the named brand's transaction, so RLS confines the
    // search to that brand; the hash decides.
    const rows: { roles: Role[] }[] = await this.runAs(
      Principal.system(brandId, 'api-key-lookup', []),
      async (ctx) => {
        const manager = await ctx.manager();
        const found: { roles: Role[]; legacy: boolean }[] = await manager.query(
          `select roles, secret_hash = $4 as legacy from api_keys
            where tenant_id = $1 and id = $2 and secret_hash in ($3, $4) and revoked_at is null`,
          [brandId, keyId, hash, legacy],
        );
        if (found[0]?.legacy) {
          await manager.query(`update api_keys set secret_hash = $3 where tenant_id = $1 and id = $2 and secret_hash = $4`, [brandId, keyId, hash, legacy]);
        }
        return found;
      },
      // Key lookups share one slice of the pool, so forged keys naming a
      // brand never use up that brand's share.
      { admissionKey: 'credentials' },
    ).catch((error) => {
      if (error instanceof AlliedError && error.code === 'UNAUTHENTICATED') return [];
      throw error;
    });
    if (rows.length === 0) throw unauthenticated('The API key is invalid or has been revoked.');
    return new Principal(`api-key:${keyId}`, brandId, rows[0].roles, 'api-key');
  }
}

function sha256(text: string): Buffer {
  return crypto.createHash('sha256').update(text).digest();
}

function uuidBytes(uuid: string): Buffer {
  return Buffer.from(uuid.replace(/-/g, ''), 'hex');
}

function bytesToUuid(bytes: Buffer): string {
  const h = bytes.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
