import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { signToken } from '../../src/tenancy/credentials';
import { Role } from '../../src/tenancy/roles';
import { childDatabase, startServerProcess } from '../support/process';
import { testKeys } from '../support/server';

/**
 * `allied serve` stopping on SIGTERM: under load, in-flight requests finish,
 * WebSockets close with Going Away, nothing is half-written and the process
 * exits 0; and with nobody reading its output any more, it still exits.
 */
describe('stopping on SIGTERM', () => {
  let dataDir: string;
  let databaseUrl = '';
  let dropDatabase: (() => Promise<void>) | undefined;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'allied-stop-'));
    ({ databaseUrl, drop: dropDatabase } = await childDatabase());
  });
  afterAll(async () => {
    // A server that did not exit is killed by its PID, never left behind.
    for (const child of children) if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
    await dropDatabase?.();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const start = async () => {
    const server = await startServerProcess({ ALLIED_DATA_DIR: dataDir, ALLIED_DEMO: 'true', DATABASE_URL: databaseUrl });
    children.push(server.child);
    return server;
  };

  /** The exit code, or 'still running' once `ms` have passed. */
  const exitWithin = (child: ChildProcess, ms: number) =>
    new Promise<number | null | 'still running'>((resolve) => {
      if (child.exitCode !== null) return resolve(child.exitCode);
      const timer = setTimeout(() => resolve('still running'), ms);
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });

  it('exits after "stopped" even when the reader of its stdout and stderr has gone away', async () => {
    const server = await start();
    // A supervisor or harness that exited first: the pipes' reading ends close.
    server.child.stdout!.destroy();
    server.child.stderr!.destroy();
    server.child.kill('SIGTERM');
    // Well inside the 20 s forced exit, which would say 1.
    expect(await exitWithin(server.child, 15_000)).toBe(0);
  });

  it('finishes in-flight requests, closes WebSockets with 1001, stores whole uploads, then exits 0', async () => {
    const server = await start();
    const base = `http://127.0.0.1:${server.port}`;
    const admin = signToken(testKeys, { sub: 'stop-test', roles: [Role.PLATFORM_ADMIN] }, 600);
    /** A POST whose body is sent in two parts: the second when `finish` is called. */
    const open = (urlPath: string, token: string, type: string) => {
      const req = http.request(`${base}${urlPath}`, { method: 'POST', agent: false, headers: { 'content-type': type, authorization: `Bearer ${token}` } });
      const response = new Promise<{ status: number; body: string } | { error: string }>((resolve) => {
        req.on('response', (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode!, body: text }));
          res.on('error', (e) => resolve({ error: e.message }));
        });
        req.on('error', (e) => resolve({ error: (e as NodeJS.ErrnoException).code ?? e.message }));
      });
      return { begin: (part: string) => req.write(part), finish: (rest: string) => req.end(rest), response };
    };
    const post = (urlPath: string, token: string, body: string) => {
      const request = open(urlPath, token, 'application/json');
      request.finish(body);
      return request.response;
    };
    const gql = async (token: string, query: string) => {
      const res = await post('/graphql', token, JSON.stringify({ query }));
      if ('error' in res) throw new Error(res.error);
      return JSON.parse(res.body);
    };
    const brandId = (await gql(admin, '{ brand(slug: "summit-academy") { id } }')).data.brand.id;
    const token = signToken(testKeys, { sub: 'stop-test', tid: brandId, roles: [Role.INGEST, Role.ANALYST] }, 600);

    // A subscriber, acknowledged, whose socket must close with Going Away.
    const socket = new WebSocket(`ws://127.0.0.1:${server.port}/graphql`, 'graphql-transport-ws');
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: token } })));
      socket.on('message', (m) => {
        if (JSON.parse(String(m)).type === 'connection_ack') resolve();
      });
      socket.once('error', reject);
    });

    // Reads and one upload in flight when the signal arrives: the server has
    // their headers and the first part of their bodies, and waits for the rest.
    const occurredAt = new Date(Date.now() - 3_600_000).toISOString();
    const lines = Array.from({ length: 3000 }, (_, i) =>
      JSON.stringify({ idempotencyKey: `stop-${i}`, type: 'IMPRESSION', learnerExternalId: `viewer-${i % 50}`, occurredAt }) + '\n',
    );
    const upload = open('/ingest', token, 'application/x-ndjson');
    upload.begin(lines.slice(0, 1500).join(''));
    const query = JSON.stringify({ query: '{ courses(first: 50) { totalCount edges { node { id title } } } }' });
    const reads = Array.from({ length: 20 }, () => open('/graphql', token, 'application/json'));
    for (const read of reads) read.begin(query.slice(0, 20));
    // Until the server has begun all 21 (a busy machine may take a while to accept them); the scrape is the 22nd.
    for (let i = 0; i < 200; i++) {
      const metrics = await fetch(`${base}/metrics`).then((r) => r.text());
      if (Number(/^allied_http_requests_in_flight (\d+)/m.exec(metrics)?.[1]) >= 22) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const exited = exitWithin(server.child, 25_000);
    server.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    for (const read of reads) read.finish(query.slice(20));
    upload.finish(lines.slice(1500).join(''));
    // A new connection is refused: the port is closed while the others drain.
    expect(await post('/graphql', token, query)).toEqual({ error: 'ECONNREFUSED' });

    for (const read of await Promise.all(reads.map((r) => r.response))) {
      expect(read).toMatchObject({ status: 200 });
      const body = JSON.parse((read as { body: string }).body);
      expect(body.errors).toBeUndefined();
      expect(body.data.courses.edges.length).toBeGreaterThan(0);
    }
    const uploaded = await upload.response;
    expect(uploaded).toMatchObject({ status: 200 });
    expect(JSON.parse((uploaded as { body: string }).body)).toMatchObject({ accepted: 3000, rejected: [] });
    expect(await closed).toBe(1001);
    expect(await exited).toBe(0);
    expect(server.output()).toMatch(/"msg":"stopped"/);

    // Restarted on the same data: the acknowledged upload is there, whole.
    const again = await start();
    try {
      const res = await fetch(`http://127.0.0.1:${again.port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ metrics(window: LAST_24_HOURS) { impressions } }' }),
      });
      expect(((await res.json()) as any).data.metrics.impressions).toBe(3000);
    } finally {
      const stopped = exitWithin(again.child, 25_000);
      again.child.kill('SIGTERM');
      expect(await stopped).toBe(0);
    }
  });
});
