import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { onPostgres, openTestDatabase } from './database';
import { TEST_JWT_SECRET } from './server';

const bin = path.resolve(__dirname, '../../bin/allied.js');

/** `allied serve` as a child process (from the build in dist/), once it listens; extra env on top of the test defaults. */
export async function startServerProcess(env: Record<string, string>): Promise<{ child: ChildProcess; port: number; output: () => string }> {
  const child = spawn(process.execPath, [bin, 'serve'], {
    env: { ...process.env, NODE_OPTIONS: '', NODE_ENV: 'test', LOG_LEVEL: 'info', PORT: '0', HOST: '127.0.0.1', JWT_SECRET: TEST_JWT_SECRET, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const m = /"msg":"listening"/.test(out) && /"url":"http:\/\/[^:]+:(\d+)\//.exec(out);
    if (m) return { child, port: Number(m[1]), output: () => out };
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`server did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** SIGTERM, and wait for the exit. */
export async function stopServerProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/**
 * For suites whose servers run as child processes: on PostgreSQL, a fresh
 * migrated database they connect to (its URL, and how to drop it); on the
 * embedded database, '' (each child opens its data directory).
 */
export async function childDatabase(): Promise<{ databaseUrl: string; drop: () => Promise<void> }> {
  if (!onPostgres) return { databaseUrl: '', drop: async () => undefined };
  const db = await openTestDatabase();
  await db.dataSource.destroy();
  return { databaseUrl: db.url!, drop: () => db.close().catch(() => undefined) };
}
