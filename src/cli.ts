import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import 'reflect-metadata';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { ConfigError, loadConfig, StartupError, type Config } from './config';
import { openDatabase } from './db/database';
import { DEMO_BRANDS, seedDemo } from './demo';
import { createLogger, exitAfterLogs, tolerateClosedOutput } from './logger';
import { buildAlliedSchema } from './resolvers';
import { createApp, type App } from './app';
import { serve as listen, type RunningServer } from './server';
import { resolveJwtKeys, signToken, type JwtKeys } from './tenancy/credentials';
import { isRole, Role } from './tenancy/roles';
import { Principal } from './tenancy/principal';
import { AlliedError } from './errors';
import type { ModelKind } from './entities/enums';
import type { ModelVersionRow } from './ml/registry/registry';
import { trainShippedTagger } from './ml/ner/ship';

/** A command's flags: `value` takes the next argument (or `--flag=value`), `switch` takes none. */
type FlagSpec = Record<string, 'value' | 'switch'>;
type Flags = Map<string, string | true>;

interface Command {
  usage: string;
  flags: FlagSpec;
  run(config: Config, flags: Flags): Promise<void>;
}

const COMMANDS: Record<string, Command> = {
  serve: {
    usage: `Usage: allied serve

Starts the GraphQL API (HTTP and WebSocket) on HOST:PORT (default 0.0.0.0:4000),
on PostgreSQL at DATABASE_URL or, unset, on the embedded database in
ALLIED_DATA_DIR (default ./data). Applies pending migrations; on an empty
database it creates the demo brands (ALLIED_DEMO). Stops cleanly on SIGTERM or
Ctrl-C.`,
    flags: {},
    run: (config) => serve(config),
  },
  migrate: {
    usage: `Usage: allied migrate

Applies pending migrations to DATABASE_URL (or the embedded database in
ALLIED_DATA_DIR) and exits. The server also applies them when it starts.`,
    flags: {},
    run: (config) => migrateOnly(config),
  },
  token: {
    usage: `Usage: allied token --platform-admin [--ttl 1h]
       allied token --brand <slug> --roles OWNER,ADMIN [--ttl 1h]

Prints a signed token for the server, and nothing else.
  --platform-admin     a platform-admin token (no brand)
  --brand <slug>       the brand the token acts for
  --roles <list>       comma-separated: OWNER, ADMIN, EDITOR, ANALYST, INGEST
  --ttl <n>[smhd]      lifetime, default 1h (at most ALLIED_MAX_TOKEN_TTL_SECONDS)

It signs with JWT_SECRET (or JWT_PRIVATE_KEY), or else with the secret the
server generated in its data directory: run it with the server's
ALLIED_DATA_DIR. It never creates a data directory or a secret. When the
server is running it checks that the server accepts the token.`,
    flags: { '--platform-admin': 'switch', '--brand': 'value', '--roles': 'value', '--ttl': 'value' },
    run: (config, flags) => token(config, flags),
  },
  'train-ner': {
    usage: `Usage: allied train-ner

Trains the demand tagger Allied ships for every brand (models/ner/) from
the corpus generated from the repository's lexicon and patterns, with a
fixed seed, in this process, showing the progress: the same source gives
the same model. Needs no database.`,
    flags: {},
    run: () => trainNer(),
  },
  train: {
    usage: `Usage: allied train --brand <slug> [--kind RECOMMENDER|CTR|SEGMENTATION|NER]

Trains a new version of one of the brand's models from its recorded events,
shows the progress, and prints the held-out metrics and whether the version
was made active (it is when its metric is not worse than the active one's).
With a server running on this database (ALLIED_DATA_DIR's, or one answering
on PORT) the server trains it; otherwise this process opens the database and
trains it itself, in a worker thread.
  --brand <slug>       the brand whose model is trained
  --kind <kind>        RECOMMENDER (the default), CTR, SEGMENTATION or NER`,
    flags: { '--brand': 'value', '--kind': 'value' },
    run: (config, flags) => train(config, flags),
  },
  'model register': {
    usage: `Usage: allied model register --brand <slug> --kind NER --onnx model.onnx --vocab vocab.txt --labels labels.json [--cased] [--max-tokens 512]

Registers a BERT-style token classifier exported to ONNX (inputs
input_ids, attention_mask and token_type_ids, int64 or int32; output
logits [batch, tokens, labels]) as the brand's active NER model:
extractDemands and feedback extraction use it from then on. The labels
are O, B-<type> and I-<type> of TOPIC, LEVEL, FORMAT, TIME, BUDGET,
PERSON, ORG and LOC (PER, LOCATION and ORGANIZATION are read as theirs),
as a JSON array, an object of index to label, or a config with id2label.
The graph is loaded and run on two probe texts before anything is stored.
Opens the database itself: with the embedded database, stop its server
first.
  --brand <slug>       the brand the model is for
  --kind NER           the only kind that can be registered
  --onnx <file>        the graph
  --vocab <file>       vocab.txt, one WordPiece token a line
  --labels <file>      the labels by output index
  --cased              the vocabulary is cased (by default text is lower-cased and accents stripped)
  --max-tokens <n>     tokens per window, [CLS] and [SEP] included (default 512)`,
    flags: { '--brand': 'value', '--kind': 'value', '--onnx': 'value', '--vocab': 'value', '--labels': 'value', '--cased': 'switch', '--max-tokens': 'value' },
    run: (config, flags) => registerModel(config, flags),
  },
  'print-schema': {
    usage: `Usage: allied print-schema

Prints the GraphQL schema (SDL) the server implements; npm run schema:print
writes it to schema.graphql.`,
    flags: {},
    run: async () => {
      process.stdout.write(printSchema(lexicographicSortSchema(await buildAlliedSchema())) + '\n');
    },
  },
};

const USAGE = `Usage: allied <command> [options]

Commands:
  serve          start the API (embedded database unless DATABASE_URL is set)
  migrate        apply pending database migrations and exit
  token          print a signed token (allied token --help)
  train          train a brand's model and print its metrics (allied train --help)
  train-ner      retrain the demand tagger Allied ships (models/ner/)
  model register register a brand's own BERT NER graph (allied model register --help)
  print-schema   print the GraphQL schema (SDL)

allied <command> --help describes a command.`;

export async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  try {
    // Usage is answered before the configuration is read or anything is
    // touched, so asking for help never creates a data directory.
    if (name === undefined) fail(`a command is needed\n\n${USAGE}`);
    if (name === 'help' || name === '--help' || name === '-h') {
      console.log(USAGE);
      return;
    }
    // Two-word commands ("model register") are looked up as such.
    const pair = rest.length > 0 && Object.hasOwn(COMMANDS, `${name} ${rest[0]}`);
    const key = pair ? `${name} ${rest[0]}` : name;
    const args = pair ? rest.slice(1) : rest;
    const command = Object.hasOwn(COMMANDS, key) ? COMMANDS[key] : undefined;
    if (!command) fail(`unknown command "${name}"\n\n${USAGE}`);
    if (args.includes('--help') || args.includes('-h')) {
      console.log(command.usage);
      return;
    }
    const opts = parseFlags(key, command, args);
    await command.run(loadConfig(), opts);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof UsageError) fail(error.message);
    if (error instanceof StartupError) {
      console.error(`allied: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
}

class UsageError extends Error {}

function fail(message: string): never {
  console.error(`allied: ${message}`);
  process.exit(2);
}

/** Only the command's own flags, each once; no positional arguments. */
function parseFlags(name: string, command: Command, args: string[]): Flags {
  const out: Flags = new Map();
  const refuse = (problem: string) => new UsageError(`${problem}\n\n${command.usage}`);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('-')) throw refuse(`${name}: unexpected argument "${arg}"`);
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const kind = Object.hasOwn(command.flags, flag) ? command.flags[flag] : undefined;
    if (!kind) throw refuse(`${name}: unknown option "${flag}"`);
    if (out.has(flag)) throw refuse(`${name}: ${flag} is given twice`);
    if (kind === 'switch') {
      if (eq > 0) throw refuse(`${name}: ${flag} takes no value`);
      out.set(flag, true);
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
    if (value === undefined || value === '' || (eq < 0 && value.startsWith('-'))) throw refuse(`${name}: ${flag} needs a value`);
    out.set(flag, value);
  }
  return out;
}

async function serve(config: Config): Promise<void> {
  tolerateClosedOutput();
  const log = createLogger(config.logLevel);
  // Everything that can refuse the start is checked before the data
  // directory is created or the database is opened and migrated.
  if (!config.databaseUrl) refuseIfServed(config.dataDir);
  await requirePortFree(config);
  const lock = config.databaseUrl ? undefined : claimDataDir(config.dataDir);
  const database = await openDatabase(config).catch((error: unknown) => {
    lock?.release();
    throw error;
  });
  if (database.applied.length > 0) log.info({ migrations: database.applied }, 'migrations applied');
  let app: App | undefined;
  let server: RunningServer;
  try {
    app = await createApp(config, database, log);
    if (config.demo && config.env !== 'production') await seedDemo(app, log);
    server = await listen(app);
  } catch (error) {
    // Whatever started is stopped, in order, before the process reports the failure.
    await app?.stop().catch(() => undefined);
    await database.close().catch(() => undefined);
    lock?.release();
    // Another process may take the port between the check above and listen.
    throw listenProblem(config, error) ?? error;
  }
  lock?.record(server.port, config.host);
  log.info({ url: server.url, database: database.kind }, 'listening');
  await printWelcome(config, database.dataSource, server.url);

  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info({ signal }, 'shutting down: draining HTTP and WebSocket, closing the database');
    const timer = setTimeout(() => {
      log.error('shutdown took too long; exiting');
      void exitAfterLogs(1, 1000);
    }, 20_000).unref();
    try {
      await server.stop();
      await database.close();
      lock?.release();
      clearTimeout(timer);
      log.info('stopped');
      await exitAfterLogs(0);
    } catch (error) {
      log.error({ err: error }, 'shutdown failed');
      await exitAfterLogs(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

async function printWelcome(config: Config, dataSource: import('typeorm').DataSource, url: string) {
  const lines = [``, `Allied is running.`, `  GraphQL (HTTP and WebSocket): ${url}`];
  lines.push(`  Database: ${config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `embedded, in ${config.dataDir}`}`);
  if (config.env !== 'production') {
    const keys = resolveJwtKeys(config);
    if (keys.signKey) {
      const week = 7 * 24 * 3600;
      // allied token signs with this data directory's secret: name it unless it is the default.
      const ownSecret = !config.jwt.secret && !config.jwt.publicKey && config.dataDir !== path.resolve('data');
      const tokenCommand = `${ownSecret ? `ALLIED_DATA_DIR=${config.dataDir} ` : ''}npx allied token --help`;
      lines.push(`  Tokens (valid 7 days; new ones: ${tokenCommand}):`);
      lines.push(`    platform admin: ${signToken(keys, { sub: 'platform-admin', roles: [Role.PLATFORM_ADMIN] }, week)}`);
      const slugs = DEMO_BRANDS.map((b) => b.slug);
      const rows: { id: string; slug: string }[] = await dataSource.query(
        'select id, slug from brands where slug = any($1) order by slug',
        [slugs],
      );
      for (const row of rows) {
        const jwt = signToken(keys, { sub: `${row.slug}-owner`, tid: row.id, roles: [Role.OWNER] }, week);
        lines.push(`    ${row.slug} (OWNER): ${jwt}`);
      }
      lines.push(`  Try: curl -s ${url} -H 'content-type: application/json' \\`);
      lines.push(`         -H "authorization: Bearer <token>" -d '{"query":"{ me { subject roles brand { name } } }"}'`);
    }
  }
  process.stdout.write(lines.join('\n') + '\n\n');
}

async function migrateOnly(config: Config): Promise<void> {
  claimDataDirIfEmbedded(config);
  const database = await openDatabase(config);
  console.log(database.applied.length ? `applied: ${database.applied.join(', ')}` : 'no pending migrations');
  await database.close();
}

// --- allied train ------------------------------------------------------------

/** What `allied train` shows of a version as it trains. */
interface TrainingView {
  id: string;
  status: string;
  active: boolean;
  device: string;
  progress: number;
  message: string | null;
  failure: string | null;
  metrics: Record<string, unknown> | null;
  decision: { reason?: string } | null;
}

const VERSION_FIELDS = 'id status active device progress message failure metrics decision';

async function train(config: Config, opts: Flags): Promise<void> {
  const slug = opts.get('--brand');
  if (typeof slug !== 'string') throw new UsageError(`train needs --brand <slug>\n\n${COMMANDS.train.usage}`);
  const kind = String(opts.get('--kind') ?? 'RECOMMENDER').toUpperCase();
  if (!['RECOMMENDER', 'CTR', 'NER', 'SEGMENTATION'].includes(kind)) throw new UsageError(`--kind must be RECOMMENDER, CTR, NER or SEGMENTATION, got "${kind}"`);
  const server = await findServer(config);
  const final = server ? await trainOnServer(config, server, slug, kind) : await trainHere(config, slug, kind);
  process.stdout.write('\n');
  if (final.status !== 'READY') {
    console.error(`allied: training failed: ${final.failure ?? final.status}`);
    await exitAfterLogs(1);
  }
  console.log(`model ${final.id} READY on ${final.device}${final.active ? ', now active' : ', not active'}`);
  if (final.decision?.reason) console.log(final.decision.reason);
  for (const [name, value] of Object.entries(final.metrics ?? {})) {
    if (typeof value === 'number') console.log(`  ${name.padEnd(22)} ${Number.isInteger(value) ? value : value.toFixed(4)}`);
    else if (typeof value === 'string') console.log(`  ${name.padEnd(22)} ${value}`);
  }
}

/** `allied model register`: a brand's own BERT NER graph, checked and made active. */
async function registerModel(config: Config, opts: Flags): Promise<void> {
  const usage = COMMANDS['model register'].usage;
  const need = (flag: string): string => {
    const value = opts.get(flag);
    if (typeof value !== 'string') throw new UsageError(`model register needs ${flag}\n\n${usage}`);
    return value;
  };
  const slug = need('--brand');
  if (need('--kind').toUpperCase() !== 'NER') throw new UsageError('--kind must be NER: only NER models can be registered');
  const read = (flag: string) => {
    const file = need(flag);
    try {
      return fs.readFileSync(file);
    } catch (error) {
      throw new UsageError(`${flag} ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
    }
  };
  const input = {
    onnx: new Uint8Array(read('--onnx')),
    vocab: read('--vocab').toString('utf8'),
    labels: read('--labels').toString('utf8'),
    lowercase: !opts.has('--cased'),
    maxTokens: opts.has('--max-tokens') ? Number(opts.get('--max-tokens')) : undefined,
  };
  const brandId = await brandIdFromDatabase(config, slug);
  if (!brandId) throw new UsageError(`no brand with slug "${slug}" in ${databaseName(config)}`);
  const database = await openDatabase(config);
  const app = await createApp(config, database, createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel));
  try {
    const version = await app.runAs(Principal.system(brandId, 'cli model register'), (ctx) => app.services.models.registerBert(ctx, input)).catch((error: unknown) => {
      if (error instanceof AlliedError) throw new StartupError('--onnx', error.message);
      throw error;
    });
    console.log(`model ${version.id} registered for ${slug} and active: ${String(version.metrics?.labels)} labels, ${String(version.metrics?.vocabulary)} tokens, ${String(version.metrics?.inputType)} inputs`);
  } finally {
    await app.stop();
    await database.close();
  }
}

/** `allied train-ner`: the shipped tagger, trained here with a progress bar. */
async function trainNer(): Promise<void> {
  const last = { text: '' };
  const started = Date.now();
  // On a terminal the bar moves with every step; elsewhere (a log, CI) a line per percent and epoch.
  const steps = process.stdout.isTTY;
  const shipped = await trainShippedTagger((p) => {
    const message = steps ? `${p.message ?? ''}${Number.isFinite(p.loss) ? `, loss ${p.loss.toFixed(4)}` : ''}` : (p.message ?? '').replace(/, step \d+\/\d+/, '');
    showProgress({ progress: p.fraction, message }, last);
  });
  if (process.stdout.isTTY) process.stdout.write('\n');
  console.log(`${shipped.name} written to models/ner/ in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** Draws the progress bar in place on a terminal, one line per change elsewhere. */
function showProgress(view: Pick<TrainingView, 'progress' | 'message'>, last: { text: string }): void {
  const width = 30;
  const done = Math.round(Math.min(1, Math.max(0, view.progress)) * width);
  const text = `[${'#'.repeat(done)}${'.'.repeat(width - done)}] ${(view.progress * 100).toFixed(0).padStart(3)}% ${view.message ?? ''}`.slice(0, 110);
  if (text === last.text) return;
  last.text = text;
  if (process.stdout.isTTY) process.stdout.write(`\r${text.padEnd(110)}`);
  else process.stdout.write(`${text}\n`);
}

async function untilTrained(read: () => Promise<TrainingView>): Promise<TrainingView> {
  const last = { text: '' };
  for (;;) {
    const view = await read();
    showProgress(view, last);
    if (view.status !== 'TRAINING') return view;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function trainOnServer(config: Config, server: FoundServer, slug: string, kind: string): Promise<TrainingView> {
  const signer = signingKeys(config);
  await requireAccepted(server, signer, config);
  const brandId = await brandIdFromServer(server, signer.keys, slug);
  if (!brandId) throw new UsageError(`no brand with slug "${slug}" on ${server.name}`);
  const owner = signToken(signer.keys, { sub: `${slug}-cli`, tid: brandId, roles: [Role.ADMIN] }, 3600);
  console.log(`training on ${server.name}`);
  const started = await ask(server, owner, `mutation($k: ModelKind!) { trainModel(kind: $k) { ${VERSION_FIELDS} } }`, { k: kind });
  if (started.errors?.length) throw new StartupError('--kind', started.errors[0].message);
  const id = (started.data?.trainModel as TrainingView).id;
  return untilTrained(async () => {
    const body = await ask(server, owner, `query($k: ModelKind) { models(kind: $k) { ${VERSION_FIELDS} } }`, { k: kind });
    const version = (body.data?.models as TrainingView[] | undefined)?.find((m) => m.id === id);
    if (!version) throw new Error(`${server.name} no longer lists model ${id}`);
    return version;
  });
}

async function trainHere(config: Config, slug: string, kind: string): Promise<TrainingView> {
  const brandId = await brandIdFromDatabase(config, slug);
  if (!brandId) throw new UsageError(`no brand with slug "${slug}" in ${databaseName(config)}`);
  const database = await openDatabase(config);
  const app = await createApp(config, database, createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel));
  try {
    const as = Principal.system(brandId, 'cli train');
    const view = (v: ModelVersionRow): TrainingView => ({ ...v, decision: v.decision as TrainingView['decision'] });
    const started = await app.runAs(as, (ctx) => app.services.models.train(ctx, kind as ModelKind)).catch((error: unknown) => {
      if (error instanceof AlliedError) throw new StartupError('--kind', error.message);
      throw error;
    });
    console.log(`training in this process on ${app.models.provider}`);
    return await untilTrained(async () => view((await app.runAs(as, (ctx) => app.services.models.get(ctx, started.id)))!));
  } finally {
    await app.stop();
    await database.close();
  }
}

// --- allied token ------------------------------------------------------------

function parseTtl(value: string): number {
  const match = /^(\d+)([smhd])$/.exec(value);
  if (!match) throw new UsageError(`--ttl must look like 30m, 1h or 7d, got "${value}"`);
  return Number(match[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[match[2] as 's' | 'm' | 'h' | 'd'];
}

async function token(config: Config, opts: Flags): Promise<void> {
  const usage = COMMANDS.token.usage;
  const ttl = parseTtl(String(opts.get('--ttl') ?? '1h'));
  if (ttl > config.limits.maxTokenTtlSeconds) {
    throw new UsageError(`--ttl may be at most ${config.limits.maxTokenTtlSeconds} s (ALLIED_MAX_TOKEN_TTL_SECONDS); the server refuses longer-lived tokens`);
  }
  const platformAdmin = opts.has('--platform-admin');
  const slug = opts.get('--brand');
  const rolesArg = opts.get('--roles');
  if (platformAdmin && (slug || rolesArg)) throw new UsageError(`a platform-admin token names no brand: give --platform-admin alone\n\n${usage}`);
  if (!platformAdmin && (typeof slug !== 'string' || typeof rolesArg !== 'string')) {
    throw new UsageError(`token needs --platform-admin, or --brand <slug> and --roles\n\n${usage}`);
  }
  const roles = platformAdmin ? [Role.PLATFORM_ADMIN] : String(rolesArg).split(',').map((r) => r.trim().toUpperCase());
  const bad = roles.filter((r) => !isRole(r) || (!platformAdmin && r === Role.PLATFORM_ADMIN));
  if (bad.length) throw new UsageError(`unknown or brand-less roles: ${bad.join(', ')}`);

  const signer = signingKeys(config);
  const server = await findServer(config);
  if (server) await requireAccepted(server, signer, config);
  if (platformAdmin) {
    process.stdout.write(signToken(signer.keys, { sub: 'platform-admin', roles: [Role.PLATFORM_ADMIN] }, ttl) + '\n');
    return;
  }
  const brandId = server ? await brandIdFromServer(server, signer.keys, String(slug)) : await brandIdFromDatabase(config, String(slug));
  if (!brandId) throw new UsageError(`no brand with slug "${slug}" ${server ? `on ${server.name}` : `in ${databaseName(config)}`}`);
  process.stdout.write(signToken(signer.keys, { sub: `${slug}-cli`, tid: brandId, roles: roles as Role[] }, ttl) + '\n');
}

interface Signer {
  keys: JwtKeys;
  /** What the tokens are signed with, and the variable that chooses it. */
  source: string;
  variable: string;
}

/**
 * The server's signing key, never a new one: a secret generated here would
 * sign tokens no running server accepts.
 */
function signingKeys(config: Config): Signer {
  if (config.jwt.publicKey) {
    if (!config.jwt.privateKey) throw new StartupError('JWT_PRIVATE_KEY', 'the server checks RS256 tokens (JWT_PUBLIC_KEY); set JWT_PRIVATE_KEY to the matching private key to sign them');
    return { keys: resolveJwtKeys(config), source: 'JWT_PRIVATE_KEY', variable: 'JWT_PRIVATE_KEY' };
  }
  if (config.jwt.secret) return { keys: resolveJwtKeys(config), source: 'JWT_SECRET', variable: 'JWT_SECRET' };
  const file = path.join(config.dataDir, 'jwt-secret');
  if (!fs.existsSync(file)) {
    throw new StartupError(
      'ALLIED_DATA_DIR',
      `no JWT secret in ${config.dataDir} (a server creates ${path.basename(file)} there when it first starts). ` +
        'Set ALLIED_DATA_DIR to the data directory of the server the token is for (it prints "Database: embedded, in <dir>" when it starts), ' +
        "or set JWT_SECRET to the server's secret.",
    );
  }
  return { keys: resolveJwtKeys(config), source: `the secret in ${file}`, variable: 'ALLIED_DATA_DIR' };
}

interface FoundServer {
  url: string;
  name: string;
}

/**
 * The server the token is for: the one holding this data directory (its lock
 * file records the port), or else an Allied server answering on PORT.
 */
async function findServer(config: Config): Promise<FoundServer | undefined> {
  const running = config.databaseUrl ? undefined : runningServer(config.dataDir);
  if (running?.port) {
    return { url: `http://${dialHost(running.host)}:${running.port}/graphql`, name: `the server of ${config.dataDir} (process ${running.pid}, port ${running.port})` };
  }
  if (config.port === 0) return undefined;
  const base = `http://${dialHost(config.host)}:${config.port}`;
  const health = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(3000) })
    .then((r) => r.json() as Promise<{ status?: string }>)
    .catch(() => undefined);
  return health?.status === 'ok' ? { url: `${base}/graphql`, name: `the Allied server on port ${config.port} (PORT)` } : undefined;
}

/** Where to connect to a server listening on `host`: the wildcard addresses are reached on loopback. */
function dialHost(host: string | undefined): string {
  if (!host || host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

async function ask(server: FoundServer, jwt: string, query: string, variables?: object) {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${jwt}` },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(10_000),
  });
  return (await response.json()) as { data?: Record<string, any> | null; errors?: { message: string; extensions?: { code?: string } }[] };
}

/** Refuses to print a token the running server would refuse. */
async function requireAccepted(server: FoundServer, signer: Signer, config: Config): Promise<void> {
  const probe = signToken(signer.keys, { sub: 'allied-cli', roles: [Role.PLATFORM_ADMIN] }, 60);
  const body = await ask(server, probe, '{ me { subject } }');
  if (body.data?.me) return;
  if (body.errors?.[0]?.extensions?.code !== 'UNAUTHENTICATED') {
    throw new Error(`${server.name} answered unexpectedly: ${JSON.stringify(body).slice(0, 500)}`);
  }
  const hint =
    signer.variable === 'ALLIED_DATA_DIR'
      ? `it was started with another data directory (it prints "Database: embedded, in <dir>" when it starts: set ALLIED_DATA_DIR to that) or with JWT_SECRET (set the same one here)${config.databaseUrl ? '' : '; for a server on another port, set PORT to it'}`
      : `give allied token the same ${signer.variable} the server has`;
  throw new StartupError(signer.variable, `${server.name} refuses tokens signed with ${signer.source} (${body.errors[0].message}): ${hint}.`);
}

async function brandIdFromServer(server: FoundServer, keys: JwtKeys, slug: string): Promise<string | undefined> {
  const admin = signToken(keys, { sub: 'allied-cli', roles: [Role.PLATFORM_ADMIN] }, 60);
  const body = await ask(server, admin, 'query($slug: String) { brand(slug: $slug) { id } }', { slug });
  if (body.errors?.length) throw new Error(`${server.name} answered: ${body.errors[0].message}`);
  return (body.data?.brand as { id: string } | null)?.id;
}

const databaseName = (config: Config) => (config.databaseUrl ? 'the database at DATABASE_URL' : `the embedded database in ${config.dataDir}`);

/** With no server running, the brand is looked up in the database itself; an embedded one must already exist. */
async function brandIdFromDatabase(config: Config, slug: string): Promise<string | undefined> {
  if (!config.databaseUrl && !fs.existsSync(path.join(config.dataDir, 'pgdata'))) {
    throw new StartupError(
      'ALLIED_DATA_DIR',
      `no embedded database in ${config.dataDir}. Set ALLIED_DATA_DIR to the data directory of the server the token is for, or DATABASE_URL to its PostgreSQL.`,
    );
  }
  claimDataDirIfEmbedded(config);
  // Reading a slug needs no migration; a token command changes nothing.
  const database = await openDatabase(config, { runMigrations: false });
  try {
    const rows: { id: string }[] = await database.dataSource.query('select id from brands where slug = $1', [slug]);
    return rows[0]?.id;
  } finally {
    await database.close();
  }
}

// --- the port ------------------------------------------------------------------

/** Fails, as listen would, when HOST:PORT cannot be listened on; PORT 0 (any free port) always can. */
async function requirePortFree(config: Config): Promise<void> {
  if (config.port === 0) return;
  const probe = net.createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (error) => reject(listenProblem(config, error) ?? error));
    probe.listen({ port: config.port, host: config.host, exclusive: true }, () => probe.close(() => resolve()));
  });
}

function listenProblem(config: Config, error: unknown): StartupError | undefined {
  const code = (error as { code?: string }).code;
  switch (code) {
    case 'EADDRINUSE':
      return new StartupError(
        'PORT',
        `port ${config.port} on HOST ${config.host} is already in use (by another Allied or another program). Stop that, or set PORT to a free port.`,
      );
    case 'EACCES':
      return new StartupError('PORT', `not permitted to listen on port ${config.port} on HOST ${config.host}; set PORT to a port above 1023.`);
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new StartupError('HOST', `cannot listen on ${config.host} (${code}): set HOST to an address of this machine, or 0.0.0.0 for all of them.`);
    default:
      return undefined;
  }
}

// --- one process per embedded data directory -------------------------------

interface DataDirLock {
  record(port: number, host: string): void;
  release(): void;
}

const lockFile = (dataDir: string) => path.join(dataDir, 'allied.pid');

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The live process (other than this one) holding the data directory, with where it listens once it does. */
function runningServer(dataDir: string): { pid: number; port?: number; host?: string } | undefined {
  try {
    const { pid, port, host } = JSON.parse(fs.readFileSync(lockFile(dataDir), 'utf8'));
    return typeof pid === 'number' && pid !== process.pid && isAlive(pid) ? { pid, port, host } : undefined;
  } catch {
    return undefined;
  }
}

function refuseIfServed(dataDir: string): void {
  const holder = runningServer(dataDir);
  if (holder) throw new UsageError(`the embedded database in ${dataDir} is in use by process ${holder.pid}`);
}

/** The embedded database may be opened by one process at a time. */
function claimDataDir(dataDir: string): DataDirLock {
  refuseIfServed(dataDir);
  fs.mkdirSync(dataDir, { recursive: true });
  const file = lockFile(dataDir);
  fs.writeFileSync(file, JSON.stringify({ pid: process.pid }));
  return {
    record: (port, host) => fs.writeFileSync(file, JSON.stringify({ pid: process.pid, port, host })),
    release: () => fs.rmSync(file, { force: true }),
  };
}

function claimDataDirIfEmbedded(config: Config): void {
  if (config.databaseUrl) return;
  const lock = claimDataDir(config.dataDir);
  process.once('exit', () => lock.release());
}
