import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { bertShapedGraph, LABELS_JSON, randomWeights, VOCAB } from '../support/bert';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/**
 * The README's first command, as a new user runs it: the built `allied`
 * binary on an empty embedded database prints the URL and demo tokens,
 * serves them, stops cleanly on SIGTERM, and reuses its data on restart.
 */
const bin = path.resolve(__dirname, '../../bin/allied.js');
const built = fs.existsSync(path.resolve(__dirname, '../../dist/src/main.js'));

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `allied …` to its exit; several run side by side. */
function allied(args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<Ran> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [bin, ...args], { env, cwd, encoding: 'utf8', timeout: 30_000 }, (error, stdout, stderr) =>
      resolve({ status: child.exitCode ?? (error ? -1 : 0), stdout, stderr }),
    );
  });
}

/** A port nothing listens on (bound once, then released). */
async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

const STACK_FRAME = /^\s+at /m;

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

      // Unknown routes answer JSON, and request logs name the path asked for.
      const missing = await fetch(new URL('/no-such-route', server.url));
      expect(missing.status).toBe(404);
      expect(await missing.json()).toEqual({ errors: [{ message: expect.stringMatching(/No route GET \/no-such-route/), extensions: { code: 'NOT_FOUND' } }] });
      // The request's log line reaches the pipe a moment after its response.
      for (let i = 0; i < 100 && !/"path":"\/no-such-route"/.test(server.output()); i++) await new Promise((r) => setTimeout(r, 50));
      expect(server.output()).toMatch(/"method":"POST","path":"\/graphql","status":200/);
      expect(server.output()).toMatch(/"method":"GET","path":"\/no-such-route","status":404/);

      // The server's data dir is not the default one: from elsewhere, with
      // only its PORT, allied token says which variable it needs and creates
      // nothing; with another data dir's secret, the server's refusal is reported.
      const port = new URL(server.url).port;
      const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'allied-cwd-'));
      try {
        const withoutDir = { ...env(), ALLIED_DATA_DIR: '', PORT: port };
        const noSecret = await allied(['token', '--platform-admin'], withoutDir, elsewhere);
        expect(noSecret.status).toBe(1);
        expect(noSecret.stdout).toBe('');
        expect(noSecret.stderr).toMatch(/^allied: ALLIED_DATA_DIR: no JWT secret in .*Set ALLIED_DATA_DIR to the data directory of the server/);
        expect(fs.readdirSync(elsewhere)).toEqual([]);

        fs.mkdirSync(path.join(elsewhere, 'data'));
        fs.writeFileSync(path.join(elsewhere, 'data', 'jwt-secret'), 'another-secret-another-secret-another-secret');
        const [wrongSecret, wrongBrand] = await Promise.all([
          allied(['token', '--platform-admin'], withoutDir, elsewhere),
          allied(['token', '--brand', 'harbor-fc', '--roles', 'OWNER'], withoutDir, elsewhere),
        ]);
        for (const refused of [wrongSecret, wrongBrand]) {
          expect(refused.status).toBe(1);
          expect(refused.stdout).toBe('');
          expect(refused.stderr).toMatch(new RegExp(`ALLIED_DATA_DIR: the Allied server on port ${port} \\(PORT\\) refuses tokens signed with the secret in .*jwt-secret`));
        }
        expect(fs.readdirSync(path.join(elsewhere, 'data'))).toEqual(['jwt-secret']);
      } finally {
        fs.rmSync(elsewhere, { recursive: true, force: true });
      }

      // A busy port is refused before a data dir is created or migrated.
      const freshDir = path.join(os.tmpdir(), `allied-unused-${process.pid}-${Date.now()}`);
      const busy = await allied(['serve'], { ...env(), ALLIED_DATA_DIR: freshDir, PORT: port });
      expect(busy.status).toBe(1);
      expect(busy.stderr).toMatch(new RegExp(`^allied: PORT: port ${port} on HOST 127\\.0\\.0\\.1 is already in use`));
      expect(busy.stderr).not.toMatch(STACK_FRAME);
      expect(busy.stdout).not.toMatch(/migrations applied/);
      expect(fs.existsSync(freshDir)).toBe(false);

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

  it('model register checks a BERT NER graph and makes it the brand\'s active model, which the server then serves', async () => {
    const files = fs.mkdtempSync(path.join(os.tmpdir(), 'allied-bert-'));
    try {
      fs.writeFileSync(path.join(files, 'model.onnx'), bertShapedGraph(randomWeights(3)));
      fs.writeFileSync(path.join(files, 'vocab.txt'), `${VOCAB.join('\n')}\n`);
      fs.writeFileSync(path.join(files, 'labels.json'), LABELS_JSON);
      fs.writeFileSync(path.join(files, 'bad-labels.json'), JSON.stringify(['O', 'B-MISC']));
      const args = (labels = 'labels.json') => ['model', 'register', '--brand', 'harbor-fc', '--kind', 'NER', '--onnx', path.join(files, 'model.onnx'), '--vocab', path.join(files, 'vocab.txt'), '--labels', path.join(files, labels)];

      const usage = await allied(['model', 'register', '--brand', 'harbor-fc', '--kind', 'NER'], env());
      expect(usage.status).toBe(2);
      expect(usage.stderr).toMatch(/model register needs --onnx[\s\S]*Usage: allied model register/);
      const kind = await allied([...args().slice(0, 4), '--kind', 'CTR', ...args().slice(6)], env());
      expect(kind.status).toBe(2);
      expect(kind.stderr).toMatch(/--kind must be NER/);
      const labels = await allied(args('bad-labels.json'), env());
      expect(labels.status).toBe(1);
      expect(labels.stderr).toMatch(/MISC is not one of/);

      const ok = await allied(args(), env());
      // (ONNX Runtime's probe of the GPU providers may warn on stderr; Allied itself says nothing there.)
      expect({ status: ok.status, allied: /allied:/.test(ok.stderr) }).toEqual({ status: 0, allied: false });
      const id = /model (\S+) registered for harbor-fc and active: 9 labels, 20 tokens, int64 inputs/.exec(ok.stdout)?.[1];
      expect(id).toBeTruthy();

      const server = await start();
      try {
        const answer = await query(server.url, server.tokens['harbor-fc'], '{ extractDemands(text: "need a beginner python course") { model entities { type text } } }');
        expect(answer.data.extractDemands.model).toBe(id);
        const other = await query(server.url, server.tokens['summit-academy'], '{ extractDemands(text: "need a beginner python course") { model } }');
        expect(other.data.extractDemands.model).toMatch(/^allied-default-ner-/);
      } finally {
        expect(await stop(server)).toBe(0);
      }
    } finally {
      fs.rmSync(files, { recursive: true, force: true });
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

  it('answers --help per command, and usage without a command, touching nothing', async () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'allied-help-'));
    const untouched = path.join(cwd, 'never-created');
    const quiet = { ...env(), ALLIED_DATA_DIR: untouched };
    try {
      const asks: string[][] = [['serve', '--help'], ['serve', '-h'], ['migrate', '--help'], ['migrate', '-h'], ['token', '--help'], ['token', '-h'], ['print-schema', '--help'], ['token', '--brand', '-h']];
      const answers = await Promise.all(asks.map((args) => allied(args, quiet, cwd)));
      answers.forEach((answer, i) => {
        expect({ args: asks[i], status: answer.status, stderr: answer.stderr }).toEqual({ args: asks[i], status: 0, stderr: '' });
        expect(answer.stdout).toMatch(new RegExp(`^Usage: allied ${asks[i][0]}\\b`));
        expect(answer.stdout).not.toMatch(/type Query|applied|ey[\w-]+\./);
      });
      expect(answers[4].stdout).toMatch(/--platform-admin[\s\S]*--roles[\s\S]*ALLIED_DATA_DIR/);

      const [none, help] = await Promise.all([allied([], quiet, cwd), allied(['--help'], quiet, cwd)]);
      expect(none.status).toBe(2);
      expect(none.stdout).toBe('');
      expect(none.stderr).toMatch(/a command is needed[\s\S]*serve[\s\S]*migrate[\s\S]*token[\s\S]*print-schema/);
      expect(help.status).toBe(0);
      expect(help.stdout).toMatch(/^Usage: allied <command>/);
      expect(fs.readdirSync(cwd)).toEqual([]);
    } finally {
      fs.rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('refuses unknown flags and arguments with exit 2, touching nothing', async () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'allied-flags-'));
    const quiet = { ...env(), ALLIED_DATA_DIR: path.join(cwd, 'never-created') };
    try {
      const cases: [string[], RegExp][] = [
        [['serve', '--bogus'], /serve: unknown option "--bogus"/],
        [['serve', 'now'], /serve: unexpected argument "now"/],
        [['migrate', '--force'], /migrate: unknown option "--force"/],
        [['print-schema', '--json'], /print-schema: unknown option "--json"/],
        [['token', '--platform-admin', '--brand=harbor-fc'], /names no brand/],
        [['token', '--brand', 'harbor-fc', '--roles', 'OWNER', '--role', 'ADMIN'], /token: unknown option "--role"/],
        [['token', '--ttl', '1h', '--ttl', '2h', '--platform-admin'], /--ttl is given twice/],
        [['token', '--brand'], /--brand needs a value/],
        [['launch'], /unknown command "launch"/],
      ];
      const answers = await Promise.all(cases.map(([args]) => allied(args, quiet, cwd)));
      answers.forEach((answer, i) => {
        expect({ args: cases[i][0], status: answer.status, stdout: answer.stdout }).toEqual({ args: cases[i][0], status: 2, stdout: '' });
        expect(answer.stderr).toMatch(cases[i][1]);
        expect(answer.stderr).toMatch(/Usage: allied/);
      });
      expect(fs.readdirSync(cwd)).toEqual([]);
    } finally {
      fs.rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('an unreachable DATABASE_URL is named, with its host and port and without its password', async () => {
    const port = await closedPort();
    const url = `postgres://allied:pa55-w0rd-secret@127.0.0.1:${port}/allied`;
    const answers = await Promise.all([allied(['serve'], { ...env(), DATABASE_URL: url }), allied(['migrate'], { ...env(), DATABASE_URL: url })]);
    for (const answer of answers) {
      expect(answer.status).toBe(1);
      expect(answer.stderr).toMatch(new RegExp(`^allied: DATABASE_URL: cannot reach PostgreSQL at 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)\\. Start PostgreSQL there or correct DATABASE_URL`));
      expect(answer.stderr + answer.stdout).not.toMatch(/pa55-w0rd-secret/);
      expect(answer.stderr).not.toMatch(STACK_FRAME);
    }
  });
});
