/** Pieces every benchmark under bench/ needs: settings, throwaway databases, the machine, RESULTS.md sections. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { signToken, type JwtKeys } from '../src/tenancy/credentials';
import { Role } from '../src/tenancy/roles';

export const RESULTS_FILE = path.resolve(__dirname, '..', '..', 'bench', 'RESULTS.md');

/** Production refuses to start without a secret for email links; the benchmarks' servers all use this one. */
export const BENCH_TRACKING_SECRET = 'bench-tracking-secret-0123456789abcdefghij';

/**
 * Node's flags for a benchmark's server child process: the ones this
 * benchmark runs under (bench/run.sh passes the server's production flags,
 * as `npm start` and the Docker image set them), so the child runs as
 * production does; a profile of the benchmark is not one of the server.
 */
export const serverNodeFlags = (): string[] => process.execArgv.filter((flag) => !flag.startsWith('--cpu-prof'));

export function nonNegativeInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new Error(`${name}: expected a whole number, got "${raw}"`);
  return Number(raw);
}

export function positiveInt(name: string, fallback: number): number {
  const value = nonNegativeInt(name, fallback);
  if (value === 0) throw new Error(`${name} must be at least 1`);
  return value;
}

export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A new, empty database on the PostgreSQL server at `adminUrl` (a role that may create databases), and its removal. */
export async function throwawayDatabase(adminUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `allied_bench_${crypto.randomBytes(6).toString('hex')}`;
  await withClient(adminUrl, (c) => c.query(`create database ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => withClient(adminUrl, (c) => c.query(`drop database if exists ${name} with (force)`)).then(() => undefined),
  };
}

/** "CPU model, N cores, M GiB memory, Node.js version" for RESULTS.md. */
export function machine(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB memory, Node.js ${process.version}`;
}

export const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

function readResults(): string {
  return fs.existsSync(RESULTS_FILE)
    ? fs.readFileSync(RESULTS_FILE, 'utf8')
    : '# Benchmark results\n\nEach section is written by the benchmark of the same name under `bench/`; see bench/README.md.\n\n';
}

/** The lines of the `## name` section of RESULTS.md as it stands (empty when there is none). */
export function readSection(name: string): string[] {
  const lines = readResults().split('\n');
  const start = lines.findIndex((l) => l.trim() === `## ${name}`);
  if (start === -1) return [];
  const end = lines.findIndex((l, i) => i > start && /^## /.test(l));
  return lines.slice(start, end === -1 ? lines.length : end);
}

/** Replaces the `## name` section of RESULTS.md (up to the next `## `), or appends it; other sections stay as they are. */
export function writeSection(name: string, section: string): void {
  const current = readResults();
  const lines = current.split('\n');
  const start = lines.findIndex((l) => l.trim() === `## ${name}`);
  let next: string;
  if (start === -1) {
    next = `${current.replace(/\n*$/, '\n\n')}${section}`;
  } else {
    let end = lines.findIndex((l, i) => i > start && /^## /.test(l));
    if (end === -1) end = lines.length;
    const before = lines.slice(0, start).join('\n');
    const after = lines.slice(end).join('\n');
    next = `${before.replace(/\n*$/, '\n\n')}${section.replace(/\n*$/, '\n')}${after ? `\n${after}` : ''}`;
  }
  fs.writeFileSync(RESULTS_FILE, next.replace(/\n*$/, '\n'));
}

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** One GraphQL request over HTTP; throws on any error. */
export async function graphql(url: string, token: string, query: string, variables?: Record<string, unknown>): Promise<any> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: any; errors?: unknown[] };
  if (res.status !== 200 || body.errors?.length) throw new Error(`GraphQL failed (${res.status}): ${JSON.stringify(body).slice(0, 500)}`);
  return body.data;
}

/** Brands created by a platform admin, each with an OWNER token. */
export async function benchBrands(url: string, keys: JwtKeys, slugs: string[]): Promise<{ id: string; token: string }[]> {
  const admin = signToken(keys, { sub: 'bench-admin', roles: [Role.PLATFORM_ADMIN] }, 3600);
  const brands: { id: string; token: string }[] = [];
  for (const [i, slug] of slugs.entries()) {
    const { createBrand } = await graphql(url, admin, `mutation($i: CreateBrandInput!) { createBrand(input: $i) { id } }`, {
      i: { slug, name: slug.replace(/-/g, ' '), kind: 'KNOWLEDGE_PLATFORM' },
    });
    brands.push({ id: createBrand.id, token: signToken(keys, { sub: `bench-owner-${i}`, tid: createBrand.id, roles: [Role.OWNER] }, 3600) });
  }
  return brands;
}

/** An alliance led by `lead` that every one of `others` has joined (PENDING until an agreement is accepted). */
export async function benchAlliance(url: string, lead: { token: string }, others: { id: string; token: string }[], name: string): Promise<string> {
  const { createAlliance } = await graphql(url, lead.token, `mutation($i: CreateAllianceInput!) { createAlliance(input: $i) { id } }`, {
    i: { name, inviteBrandIds: others.map((b) => b.id) },
  });
  for (const b of others) await graphql(url, b.token, `mutation($a: ID!) { respondToInvitation(allianceId: $a, accept: true) { id } }`, { a: createAlliance.id });
  return createAlliance.id as string;
}

/** An agreement version proposed by the lead and accepted by the others. */
export async function benchAgreement(url: string, brands: { id: string; token: string }[], allianceId: string, effectiveFrom: string, shares: number[]): Promise<void> {
  const [lead, ...others] = brands;
  const { proposeAgreement } = await graphql(url, lead.token, `mutation($i: ProposeAgreementInput!) { proposeAgreement(input: $i) { id } }`, {
    i: { allianceId, effectiveFrom, shares: brands.map((b, k) => ({ brandId: b.id, basisPoints: shares[k] })) },
  });
  for (const b of others) await graphql(url, b.token, `mutation($id: ID!) { acceptAgreement(agreementId: $id) { id } }`, { id: proposeAgreement.id });
}
