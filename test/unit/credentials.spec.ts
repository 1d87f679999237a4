import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import jwt from 'jsonwebtoken';
import type { RunAs } from '../../src/tenancy/run-as';
import { Authenticator, hmacKeys, resolveJwtKeys, signToken } from '../../src/tenancy/credentials';
import { Role } from '../../src/tenancy/roles';

const SECRET = 'unit-test-secret-0123456789abcdefghijklmnop';
const BRAND = '3f1c2d3e-9a8b-4c1d-9e2f-3a4b5c6d7e8f';
const hsKeys = hmacKeys(SECRET);
// JWTs are checked without the database; only API keys are looked up.
const noDatabase: RunAs = () => Promise.reject(new Error('these specs never reach the database'));

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

function hmacToken(header: object, payload: object, key: string | Buffer): string {
  const body = `${b64(header)}.${b64(payload)}`;
  return `${body}.${crypto.createHmac('sha256', key).update(body).digest('base64url')}`;
}

async function rejection(auth: Authenticator, token: string): Promise<string> {
  try {
    await auth.authenticate(`Bearer ${token}`);
  } catch (error) {
    const e = error as { extensions: { code: string }; message: string };
    expect(e.extensions.code).toBe('UNAUTHENTICATED');
    return e.message;
  }
  throw new Error('token was accepted');
}

describe('JWT credentials (HS256)', () => {
  const auth = new Authenticator(hsKeys, noDatabase);
  const claims = { sub: 'someone', tid: BRAND, roles: ['EDITOR'] };

  it('accept a signed token and read sub, tid and roles', async () => {
    const principal = await auth.authenticate(`Bearer ${signToken(hsKeys, { sub: 'someone', tid: BRAND, roles: [Role.EDITOR] }, 60)}`);
    expect(principal).toMatchObject({ subject: 'someone', brandId: BRAND, roles: ['EDITOR'], credential: 'jwt' });
    expect(principal!.has(Role.ANALYST)).toBe(true);
    expect(principal!.has(Role.ADMIN)).toBe(false);
  });

  it('treat no header as anonymous and a non-Bearer header as an error', async () => {
    await expect(auth.authenticate(undefined)).resolves.toBeNull();
    await expect(auth.authenticate('Basic dXNlcjpwdw==')).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
  });

  it('reject alg "none"', async () => {
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, exp: now() + 60 })}.`;
    expect(await rejection(auth, unsigned)).toMatch(/invalid/);
  });

  it('reject a token signed with another secret, or tampered with', async () => {
    expect(await rejection(auth, jwt.sign({ ...claims }, 'x'.repeat(40), { expiresIn: 60 }))).toMatch(/invalid/);
    const good = jwt.sign({ ...claims }, SECRET, { expiresIn: 60 });
    const [h, , s] = good.split('.');
    expect(await rejection(auth, `${h}.${b64({ ...claims, roles: ['OWNER'], exp: now() + 60 })}.${s}`)).toMatch(/invalid/);
  });

  it('reject expired tokens, and tokens without exp', async () => {
    expect(await rejection(auth, hmacToken({ alg: 'HS256' }, { ...claims, exp: now() - 60 }, SECRET))).toMatch(/expired/);
    expect(await rejection(auth, hmacToken({ alg: 'HS256' }, claims, SECRET))).toMatch(/exp/);
  });

  it('reject malformed tokens and claims', async () => {
    for (const token of ['abc', 'a.b.c', 'ey.ey.ey']) expect(await rejection(auth, token)).toMatch(/invalid/);
    const sign = (payload: object) => hmacToken({ alg: 'HS256' }, { exp: now() + 60, ...payload }, SECRET);
    expect(await rejection(auth, sign({ ...claims, sub: '' }))).toMatch(/sub/);
    expect(await rejection(auth, sign({ ...claims, roles: 'OWNER' }))).toMatch(/roles/);
    expect(await rejection(auth, sign({ ...claims, roles: ['WIZARD'] }))).toMatch(/roles/);
    expect(await rejection(auth, sign({ ...claims, tid: 'brand-1' }))).toMatch(/tid/);
    expect(await rejection(auth, sign({ sub: 'x', roles: ['OWNER'] }))).toMatch(/tid/);
    expect(await rejection(auth, sign({ sub: 'x', tid: BRAND, roles: ['PLATFORM_ADMIN'] }))).toMatch(/platform-admin/);
  });

  it('check a token once, and refuse it again once it expires though it was accepted before', async () => {
    const fresh = new Authenticator(hsKeys, noDatabase);
    const token = hmacToken({ alg: 'HS256' }, { ...claims, exp: now() + 2 }, SECRET);
    const first = await fresh.authenticate(`Bearer ${token}`);
    expect(await fresh.authenticate(`Bearer ${token}`)).toBe(first);
    const later = jest.spyOn(Date, 'now').mockReturnValue((now() + 8) * 1000);
    try {
      expect(await rejection(fresh, token)).toMatch(/expired/);
    } finally {
      later.mockRestore();
    }
    // A tampered copy of an accepted token is checked on its own, and refused.
    const [h, , sig] = token.split('.');
    expect(await rejection(fresh, `${h}.${b64({ ...claims, roles: ['OWNER'], exp: now() + 2 })}.${sig}`)).toMatch(/invalid/);
  });

  it('accept a platform admin without a brand', async () => {
    const principal = await auth.authenticate(`Bearer ${signToken(hsKeys, { sub: 'ops', roles: [Role.PLATFORM_ADMIN] }, 60)}`);
    expect(principal).toMatchObject({ brandId: null, isPlatformAdmin: true });
  });
});

describe('JWT issuer, audience and clock skew', () => {
  const keys = { ...hsKeys, issuer: 'https://id.example.com', audience: 'allied-api' };
  const auth = new Authenticator(keys, noDatabase);
  const claims = { sub: 'someone', tid: BRAND, roles: ['EDITOR'] };
  const sign = (payload: object) => hmacToken({ alg: 'HS256' }, { exp: now() + 60, ...claims, ...payload }, SECRET);

  it('accept the configured iss and aud, and sign them into tokens of its own', async () => {
    await expect(auth.authenticate(`Bearer ${sign({ iss: keys.issuer, aud: ['other', keys.audience] })}`)).resolves.toMatchObject({ subject: 'someone' });
    const own = signToken(keys, { sub: 'cli', tid: BRAND, roles: [Role.ANALYST] }, 60);
    expect(jwt.decode(own)).toMatchObject({ iss: keys.issuer, aud: keys.audience });
    await expect(auth.authenticate(`Bearer ${own}`)).resolves.toMatchObject({ subject: 'cli' });
  });

  it('reject another issuer or audience, or none where one is configured', async () => {
    expect(await rejection(auth, sign({ iss: 'https://evil.example.com', aud: keys.audience }))).toMatch(/issuer \(iss\)/);
    expect(await rejection(auth, sign({ aud: keys.audience }))).toMatch(/issuer \(iss\)/);
    expect(await rejection(auth, sign({ iss: keys.issuer, aud: 'someone-else' }))).toMatch(/audience \(aud\)/);
    expect(await rejection(auth, sign({ iss: keys.issuer }))).toMatch(/audience \(aud\)/);
  });

  it('allow 5 seconds of clock skew and no more, for exp, nbf and iat', async () => {
    const open = new Authenticator(hsKeys, noDatabase);
    await expect(open.authenticate(`Bearer ${sign({ exp: now() - 2 })}`)).resolves.toBeTruthy();
    expect(await rejection(open, sign({ exp: now() - 30 }))).toMatch(/expired/);
    await expect(open.authenticate(`Bearer ${sign({ nbf: now() + 2, iat: now() + 2 })}`)).resolves.toBeTruthy();
    expect(await rejection(open, sign({ nbf: now() + 30 }))).toMatch(/not valid yet/);
    expect(await rejection(open, sign({ iat: now() + 30 }))).toMatch(/issued in the future/);
  });
});

describe('JWT credentials (RS256)', () => {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pub = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const priv = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const keys = resolveJwtKeys({ env: 'test', dataDir: '/nonexistent', jwt: { publicKey: pub, privateKey: priv } });
  const auth = new Authenticator(keys, noDatabase);

  it('accept tokens signed with the private key', async () => {
    const token = signToken(keys, { sub: 'rs', tid: BRAND, roles: [Role.ANALYST] }, 60);
    await expect(auth.authenticate(`Bearer ${token}`)).resolves.toMatchObject({ subject: 'rs', brandId: BRAND });
  });

  it('reject algorithm confusion: an HS256 token keyed with the public key', async () => {
    const forged = hmacToken({ alg: 'HS256', typ: 'JWT' }, { sub: 'evil', tid: BRAND, roles: ['OWNER'], exp: now() + 60 }, pub);
    expect(await rejection(auth, forged)).toMatch(/invalid/);
  });
});

describe('development JWT secret', () => {
  it('is generated once into the data directory and reused', () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'allied-jwt-'));
    try {
      const first = resolveJwtKeys({ env: 'development', dataDir, jwt: {} });
      const second = resolveJwtKeys({ env: 'development', dataDir, jwt: {} });
      expect(first.verifyKey.equals(second.verifyKey)).toBe(true);
      expect(first.verifyKey.symmetricKeySize).toBeGreaterThanOrEqual(32);
      expect(fs.statSync(path.join(dataDir, 'jwt-secret')).mode & 0o777).toBe(0o600);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
