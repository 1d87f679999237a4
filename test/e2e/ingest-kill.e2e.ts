import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Role } from '../../src/tenancy/roles';
import { childDatabase, startServerProcess } from '../support/process';
import { testKeys } from '../support/server';
import { signToken } from '../../src/tenancy/credentials';

/**
 * SIGKILL the server in the middle of a large NDJSON upload, restart it, and
 * resend the whole file: no event lost, none stored twice.
 */
const LINES = 20_000;

describe('ingestion survives a killed server', () => {
  let dataDir: string;
  let databaseUrl = '';
  let dropDatabase: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'allied-kill-'));
    ({ databaseUrl, drop: dropDatabase } = await childDatabase());
  });
  afterAll(async () => {
    await dropDatabase?.();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const start = () => startServerProcess({ ALLIED_DATA_DIR: dataDir, ALLIED_DEMO: 'true', DATABASE_URL: databaseUrl });

  const gql = async (port: number, token: string, query: string) => {
    const res = await fetch(`http://127.0.0.1:${port}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query }) });
    return (await res.json()) as any;
  };

  it('stores every line exactly once after a kill, a restart and a full resend', async () => {
    let server = await start();
    const admin = signToken(testKeys, { sub: 'kill-test', roles: [Role.PLATFORM_ADMIN] }, 600);
    const brandId = (await gql(server.port, admin, '{ brand(slug: "summit-academy") { id } }')).data.brand.id;
    const token = signToken(testKeys, { sub: 'kill-test', tid: brandId, roles: [Role.INGEST, Role.ANALYST] }, 600);
    const occurredAt = new Date(Date.now() - 3_600_000).toISOString();
    const lines = Array.from({ length: LINES }, (_, i) =>
      JSON.stringify({ idempotencyKey: `kill-${i}`, type: 'IMPRESSION', learnerExternalId: `viewer-${i % 300}`, occurredAt }) + '\n',
    );
    const impressions = async (port: number) => (await gql(port, token, '{ metrics(window: LAST_24_HOURS) { impressions } }')).data.metrics.impressions as number;

    // Stream the file slowly; kill the server once some batches are committed.
    const upload = http.request({ host: '127.0.0.1', port: server.port, path: '/ingest', method: 'POST', headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${token}` } });
    upload.on('error', () => undefined);
    let written = 0;
    const pump = setInterval(() => {
      if (written < LINES) upload.write(lines.slice(written, (written += 200)).join(''));
    }, 25);
    try {
      for (let i = 0; i < 600 && (await impressions(server.port)) < 1000; i++) await new Promise((r) => setTimeout(r, 25));
      server.child.kill('SIGKILL');
      await new Promise((r) => server.child.once('exit', r));
    } finally {
      clearInterval(pump);
      upload.destroy();
    }

    server = await start();
    try {
      const before = await impressions(server.port);
      expect(before).toBeGreaterThanOrEqual(1000);
      expect(before).toBeLessThan(LINES);
      const res = await fetch(`http://127.0.0.1:${server.port}/ingest`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${token}` }, body: lines.join('') });
      const summary = (await res.json()) as any;
      expect(summary).toMatchObject({ rejected: [], truncated: null });
      expect(summary.accepted + summary.duplicates).toBe(LINES);
      expect(summary.duplicates).toBe(before);
      expect(await impressions(server.port)).toBe(LINES);
    } finally {
      server.child.kill('SIGTERM');
      await new Promise((r) => server.child.once('exit', r));
    }
  });
});
