import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The README's first command, as a new user runs it: the built `allied`
 * binary on an empty embedded database prints the URL and demo tokens,
 * serves them, stops cleanly on SIGTERM, and reuses its data on restart.
 */
const bin = path.resolve(__dirname, '../../bin/allied.js');
const built = fs.existsSync(path.resolve(__dirname, '../../dist/src/main.js'));

interface Started {
  child: ChildProcess;
  output: () => string;
  url: string;
  tokens: Record<string, string>;
}

describe('the allied command', () => {
  let dataDir: string;
  const env = () => ({ ...process.env, NODE_OPTIONS: '', NODE_ENV: 'development', ALLIED_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', DATABASE_URL: '' });

  beforeAll(() => {
    if (!built) throw new Error('run `npm run build` first (npm test does)');
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'allied-cli-'));
  });
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  async function start(): Promise<Started> {
    const child = spawn(process.execPath, [bin, 'serve'], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const deadline = Date.now() + 45_000;
    while (!/Try: curl/.test(out)) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`server did not start:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const url = /GraphQL \(HTTP and WebSocket\): (\S+)/.exec(out)![1];
    const tokens: Record<string, string> = {};
    for (const m of out.matchAll(/^\s{4}([\w -]+?)(?: \(OWNER\))?: (ey\S+)$/gm)) tokens[m[1]] = m[2];
    return { child, output: () => out, url, tokens };
  }

  async function stop(server: Started): Promise<number | null> {
    server.child.kill('SIGTERM');
    return new Promise((resolve) => server.child.once('exit', (code) => resolve(code)));
  }

  const query = async (url: string, token: string, q: string) => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query: q }) });
    return (await res.json()) as { data?: any; errors?: any[] };
  };

  it('first run creates the demo, prints working tokens, and stops cleanly on SIGTERM', async () => {
    const server = await start();
    try {
      expect(Object.keys(server.tokens).sort()).toEqual(['harbor-fc', 'platform admin', 'summit-academy']);
      const mine = await query(server.url, server.tokens['summit-academy'], '{ me { brand { slug } } courses { totalCount } }');
      expect(mine.data).toEqual({ me: { brand: { slug: 'summit-academy' } }, courses: { totalCount: 3 } });
      const brands = await query(server.url, server.tokens['platform admin'], '{ brands { totalCount } }');
      expect(brands.data.brands.totalCount).toBe(2);

      const cli = spawnSync(process.execPath, [bin, 'token', '--brand', 'harbor-fc', '--roles', 'ANALYST', '--ttl', '10m'], { env: env(), encoding: 'utf8' });
      expect(cli.status).toBe(0);
      expect(cli.stdout.trim()).toMatch(/^ey[\w-]+\.[\w-]+\.[\w-]+$/);
      const viaCli = await query(server.url, cli.stdout.trim(), '{ me { roles brand { slug } } }');
      expect(viaCli.data.me).toEqual({ roles: ['ANALYST'], brand: { slug: 'harbor-fc' } });

      const second = spawnSync(process.execPath, [bin, 'serve'], { env: env(), encoding: 'utf8', timeout: 20_000 });
      expect(second.status).toBe(2);
      expect(second.stderr).toMatch(/in use by process/);
    } finally {
      expect(await stop(server)).toBe(0);
    }
    expect(server.output()).toMatch(/"msg":"stopped"/);
  });

  it('a restart reuses the data: same brands, no second demo', async () => {
    const server = await start();
    try {
      const brands = await query(server.url, server.tokens['platform admin'], '{ brands { totalCount edges { node { slug } } } }');
      expect(brands.data.brands.totalCount).toBe(2);
      expect(server.output()).not.toMatch(/demo data created/);
    } finally {
      expect(await stop(server)).toBe(0);
    }
  });

  it('token and migrate validate their arguments', () => {
    const bad = spawnSync(process.execPath, [bin, 'token', '--brand', 'harbor-fc', '--roles', 'WIZARD'], { env: env(), encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/WIZARD/);
    const ttl = spawnSync(process.execPath, [bin, 'token', '--platform-admin', '--ttl', 'soon'], { env: env(), encoding: 'utf8' });
    expect(ttl.status).toBe(2);
    const admin = spawnSync(process.execPath, [bin, 'token', '--platform-admin'], { env: env(), encoding: 'utf8' });
    expect(admin.stdout.trim().split('.')).toHaveLength(3);
    const migrate = spawnSync(process.execPath, [bin, 'migrate'], { env: env(), encoding: 'utf8' });
    expect(migrate.stdout).toMatch(/no pending migrations/);
    const config = spawnSync(process.execPath, [bin, 'serve'], { env: { ...env(), PORT: 'eighty' }, encoding: 'utf8' });
    expect(config.status).toBe(2);
    expect(config.stderr).toMatch(/PORT/);
  });
});
