import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type NextFunction, type Request, type Response } from 'express';
import {
  execute,
  GraphQLError,
  Kind,
  NoSchemaIntrospectionCustomRule,
  OperationTypeNode,
  specifiedRules,
  validate,
  type ExecutionArgs,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ValidationRule,
} from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import pg from 'pg';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import type { Config } from './config';
import type { Database } from './db/database';
import { AlliedError, maskError, type MaskOptions } from './errors';
import { Admission, admit } from './limits/admission';
import { CredentialThrottle, MemoryFailureStore, PostgresFailureStore } from './limits/credential-throttle';
import { textLiteralsRule } from './limits/document';
import { OperationGuard } from './limits/guard';
import { bodyTimeout, heartbeat, limitConnections, upgradeAddress } from './limits/http';
import { MAX_SERIES_POINTS } from './services/metrics.service';
import { MAX_PAGE } from './services/pagination';
import { dashboard } from './dashboard';
import { subscribeShared } from './realtime/fanout';
import { LiveHub } from './realtime/live';
import { InProcessBus, PostgresBus, type SignalBus } from './realtime/signals';
import { buildAlliedSchema } from './schema/build';
import { RequestContext } from './tenancy/context';
import { Authenticator, resolveJwtKeys } from './tenancy/credentials';
import type { Principal } from './tenancy/principal';
import { Role } from './tenancy/roles';
import { services } from './services';
import { MAX_EVENTS_PER_CALL } from './services/event-rules';

export interface RunningServer {
  url: string;
  port: number;
  httpServer: http.Server;
  /** Change signals between instances (LISTEN/NOTIFY on PostgreSQL, in memory on the embedded database). */
  signals: SignalBus;
  /** This instance's live subscriptions. */
  live: LiveHub;
  stop(): Promise<void>;
}

type LoggedRequest = Request & { id: string; log: Logger };

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** An NDJSON event line: 4000 characters of feedback text fit many times over. */
const MAX_NDJSON_LINE_BYTES = 64 * 1024;

/** A JSON error answer in the shape GraphQL errors have. */
function sendError(res: Response, status: number, code: string, message: string): void {
  res.status(status).json({ errors: [{ message, extensions: { code } }] });
}

/** A refusal as a plain JSON answer: its HTTP status (401 for credentials by default), headers and extensions. */
function sendRefusal(res: Response, error: AlliedError): void {
  const { http: head, ...extensions } = error.extensions as { http?: { status?: number; headers?: Map<string, string> } };
  for (const [name, value] of head?.headers ?? []) res.setHeader(name, value);
  res.status(head?.status ?? (error.code === 'UNAUTHENTICATED' ? 401 : 400)).json({ errors: [{ message: error.message, extensions }] });
}

/** The request's brand credential if it holds `role`; otherwise answers 401, 403 or 429 and returns null. */
async function brandPrincipal(
  authenticator: Authenticator,
  guard: OperationGuard,
  req: Request,
  res: Response,
  role: Role,
  forbiddenMessage: string,
) {
  const principal = await authenticator
    .authenticate(req.headers.authorization, clientAddress(req))
    .then((p) => {
      guard.admitPrincipal(p);
      return p;
    })
    .catch((error: unknown) => {
      if (error instanceof AlliedError) return error;
      throw error;
    });
  if (principal instanceof AlliedError) {
    sendRefusal(res, principal);
  } else if (!principal) {
    sendError(res, 401, 'UNAUTHENTICATED', 'A valid credential is required: send Authorization: Bearer <token>.');
  } else if (!principal.brandId || !principal.has(role)) {
    sendError(res, 403, 'FORBIDDEN', forbiddenMessage);
  } else {
    return principal;
  }
  return null;
}

/** LISTEN/NOTIFY when several instances may share the database (PostgreSQL); in memory on the embedded one. */
async function openSignals(config: Config, database: Database, logger: Logger): Promise<SignalBus> {
  const url = config.databaseUrl ?? (database.dataSource.options as { url?: string }).url;
  if (database.kind === 'embedded' || !url) return new InProcessBus();
  const bus = new PostgresBus(url, database.dataSource, logger);
  await bus.start();
  return bus;
}

/** On PostgreSQL, two connections of their own for computing live snapshots; none on the embedded database. */
function liveMetricsPool(config: Config, database: Database): pg.Pool | undefined {
  const url = config.databaseUrl ?? (database.dataSource.options as { url?: string }).url;
  if (database.kind === 'embedded' || !url) return undefined;
  const pool = new pg.Pool({ connectionString: url, max: 2, application_name: 'allied-live-metrics' });
  // Idle connections the server ends are replaced on next use; never fatal.
  pool.on('error', () => undefined);
  return pool;
}

/** The client's address (the peer's, or the forwarding proxy's word for it when the proxy is on loopback). */
function clientAddress(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

/** Builds the HTTP + WebSocket server on an open database and starts listening. */
export async function startServer(config: Config, database: Database, logger: Logger): Promise<RunningServer> {
  const schema = await buildAlliedSchema();
  const { limits } = config;
  const production = config.env === 'production';
  const maskOptions: MaskOptions = { hideSchema: production };
  const guard = new OperationGuard(limits, { maxPage: MAX_PAGE, maxSeriesPoints: MAX_SERIES_POINTS });
  const operationLimits = { maxObjects: limits.maxCost, maxEvents: MAX_EVENTS_PER_CALL };
  // The embedded database is one connection; PostgreSQL has the configured pool.
  const capacity = database.kind === 'embedded' ? 1 : config.databasePoolSize;
  admit(
    database.dataSource,
    new Admission({
      capacity,
      perKey: Math.max(1, Math.floor((capacity * limits.poolSharePercent) / 100)),
      waitMs: limits.poolWaitMs,
      queuePerKey: 100,
      statementTimeoutMs: limits.statementTimeoutMs,
      operationTimeoutMs: limits.operationTimeoutMs,
    }),
  );
  const throttle = new CredentialThrottle(
    database.kind === 'embedded' ? new MemoryFailureStore() : new PostgresFailureStore(database.dataSource),
    limits.credentialFailures,
    limits.credentialWindowSeconds,
  );
  const authenticator = new Authenticator(resolveJwtKeys(config), database.dataSource, {
    maxTokenTtlSeconds: limits.maxTokenTtlSeconds,
    throttle,
    brandExists: async (brandId) => (await database.dataSource.query(`select 1 from brands where id = $1`, [brandId])).length > 0,
  });
  const signals = await openSignals(config, database, logger);
  const live = new LiveHub(database.dataSource, signals, logger, {
    perConnection: config.limits.subscriptionsPerConnection,
    perBrand: config.limits.subscriptionsPerBrand,
    minIntervalMs: 1000,
    refreshMs: 30_000,
    pool: liveMetricsPool(config, database),
  });
  // Size, depth, aliases, directives and cost are checked before validation (guard.documentFor).
  const extraRules: ValidationRule[] = [textLiteralsRule(), ...(production ? [NoSchemaIntrospectionCustomRule] : [])];
  const rules = [...extraRules, ...specifiedRules];
  const newContext = (principal: Principal | null, requestId: string, log: Logger) =>
    new RequestContext(database.dataSource, principal, requestId, log, signals, operationLimits);

  const app = express();
  app.disable('x-powered-by');
  // GraphQL responses are per-caller and rarely repeat; hashing each for an ETag is wasted work.
  app.set('etag', false);
  app.set('trust proxy', 'loopback');
  const httpServer = http.createServer({ connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs) }, app);
  limitConnections(httpServer, limits);

  app.use(requestLogging(logger));
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (req, res) => {
    const ready = await readiness(database).catch((error: unknown) => {
      (req as LoggedRequest).log.warn({ err: error }, 'readiness check failed');
      return 'database unreachable';
    });
    if (ready === true) res.json({ status: 'ready', database: database.kind });
    else res.status(503).json({ status: 'unavailable', reason: ready });
  });

  // Work to wait for before the database closes: transactions of clients
  // that hung up, and uploads still being stored.
  const releasing = new PendingWork();

  // Every route but health checks counts against the client address's rate.
  app.use((req, res, next) => {
    try {
      guard.admitAddress(clientAddress(req));
      next();
    } catch (error) {
      sendRefusal(res, error as AlliedError);
    }
  });

  app.post('/ingest', async (req, res, next) => {
    const fail = (status: number, code: string, message: string) => sendError(res, status, code, message);
    try {
      if (!/^application\/(x-)?ndjson\b/i.test(req.headers['content-type'] ?? '')) {
        return fail(415, 'BAD_USER_INPUT', 'Send one JSON event per line with Content-Type: application/x-ndjson.');
      }
      const principal = await brandPrincipal(authenticator, guard, req, res, Role.INGEST, 'Ingesting events needs a brand credential with INGEST, EDITOR, ADMIN or OWNER.');
      if (!principal) return;
      const { log } = req as LoggedRequest;
      const work = services.ingest.ingest(database.dataSource, principal, log, req, MAX_NDJSON_LINE_BYTES, signals);
      releasing.track(work);
      const summary = await work;
      if (!res.destroyed) res.json(summary);
    } catch (error) {
      next(error);
    }
  });

  app.use(dashboard());

  // A settlement as CSV for BI tools and accounting; readable by whoever may read it through GraphQL.
  app.get('/settlements/:file', async (req: Request, res, next) => {
    const fail = (status: number, code: string, message: string) => sendError(res, status, code, message);
    const { log, id: requestId } = req as LoggedRequest;
    let ctx: RequestContext | undefined;
    try {
      const [, id] = /^([0-9a-f-]{36})\.csv$/i.exec(String(req.params.file)) ?? [];
      if (!id) return fail(404, 'NOT_FOUND', 'Ask for /settlements/<settlement id>.csv.');
      const principal = await brandPrincipal(authenticator, guard, req, res, Role.ANALYST, 'Reading settlements needs a brand credential with ANALYST, EDITOR, ADMIN or OWNER.');
      if (!principal) return;
      ctx = new RequestContext(database.dataSource, principal, requestId, log);
      const csv = await services.settlements.csv(ctx, id.toLowerCase());
      await ctx.finish(true);
      if (csv === null) return fail(404, 'NOT_FOUND', 'Settlement not found.');
      res
        .status(200)
        .type('text/csv; charset=utf-8; header=present')
        .set('content-disposition', `attachment; filename="settlement-${id.toLowerCase()}.csv"`)
        .set('cache-control', 'no-store')
        .send(csv);
    } catch (error) {
      if (ctx) await ctx.finish(false).catch(() => undefined);
      next(error);
    }
  });

  // A WebSocket message is held to the same size as an HTTP body.
  const wsServer = new WebSocketServer({ server: httpServer, path: '/graphql', maxPayload: limits.bodyBytes });
  const stopHeartbeat = heartbeat(wsServer, limits.idleTimeoutMs);
  const wsAddress = (extra: { request: http.IncomingMessage }) => upgradeAddress(extra.request);
  const wsServerCleanup = useServer(
    {
      schema,
      connectionInitWaitTimeout: 10_000,
      onConnect: async (ctx) => {
        const raw = ctx.connectionParams?.authorization;
        const header = typeof raw === 'string' && raw !== '' && !/^bearer\s/i.test(raw) ? `Bearer ${raw}` : raw;
        try {
          guard.admitAddress(wsAddress(ctx.extra));
          const principal = await authenticator.authenticate(typeof header === 'string' ? header : undefined, wsAddress(ctx.extra));
          if (!principal) throw new AlliedError('UNAUTHENTICATED', 'missing credential');
          (ctx.extra as { principal?: Principal }).principal = principal;
          return true;
        } catch (error) {
          const limited = error instanceof AlliedError && error.code === 'RATE_LIMITED';
          ctx.extra.socket.close(limited ? 4429 : 4401, limited ? 'Too many requests' : 'Unauthorized');
          return false;
        }
      },
      // Every operation message counts against the same rates as an HTTP
      // request and passes the same checks, in the same order: size, tokens,
      // depth, aliases, directives and cost, then validation, then the cost
      // with its variables.
      onSubscribe: (ctx, _id, payload) => {
        try {
          guard.admitAddress(wsAddress(ctx.extra));
          guard.admitPrincipal((ctx.extra as { principal?: Principal }).principal ?? null);
          guard.checkVariables(payload.variables);
          const document = guard.documentFor(schema, payload.query);
          const invalid = validate(schema, document, rules);
          if (invalid.length > 0) return [...invalid];
          const refusal = guard.costRefusal(schema, document, payload.variables, payload.operationName);
          if (refusal) return [refusal];
          return { schema, document, variableValues: payload.variables, operationName: payload.operationName };
        } catch (error) {
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
      },
      context: (ctx) => {
        const requestId = crypto.randomUUID();
        const principal = (ctx.extra as { principal?: Principal }).principal ?? null;
        const context = newContext(principal, requestId, logger.child({ requestId, ws: true }));
        context.live = { hub: live, connection: ctx.extra };
        return context;
      },
      execute: (args: ExecutionArgs) => executeInTransaction(args),
      subscribe: (args: ExecutionArgs) => subscribeShared(args),
      onNext: async (_ctx, _id, _payload, args, result) => {
        const context = args.contextValue as RequestContext;
        const over = context.budget.exceeded;
        // A subscription's context lives on: each event reads in its own short transaction.
        await context.release();
        if (over) return { errors: [masked(over, context.log)] };
        if (!result.errors) return;
        return { ...result, errors: result.errors.map((e) => masked(e, context.log)) };
      },
      onError: (_ctx, _id, _payload, errors) => errors.map((e) => masked(e, logger)),
    },
    wsServer,
  );

  function masked(error: GraphQLError, log: Logger) {
    const { error: shown, unexpected } = maskError(error.toJSON(), error, maskOptions);
    if (unexpected) log.error({ err: error.originalError ?? error, path: error.path }, 'unexpected error');
    return shown;
  }

  const apollo = new ApolloServer<RequestContext>({
    schema,
    validationRules: extraRules,
    parseOptions: guard.parseOptions,
    introspection: !production,
    includeStacktraceInErrorResponses: false,
    // The process entry owns signal handling: it drains this server, then closes the database.
    stopOnTerminationSignals: false,
    formatError: (formatted, error) => maskError(formatted, error, maskOptions).error,
    plugins: [
      // Allied sets no cache hints; the default plugin would still hook every field.
      ApolloServerPluginCacheControlDisabled(),
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: 10_000 }),
      { async serverWillStart() { return { async drainServer() { await wsServerCleanup.dispose(); } }; } },
      costWithVariables(schema, guard),
      operationTransaction(masked),
    ],
  });
  await apollo.start();

  app.use(
    '/graphql',
    bodyTimeout(limits.bodyTimeoutMs),
    express.json({ limit: limits.bodyBytes }),
    (req, res, next) => {
      // Checked before Apollo parses anything: the variables' text, then the document's limits.
      try {
        guard.checkVariables(req.body?.variables);
        const query = req.body?.query ?? req.query.query;
        if (typeof query === 'string') guard.documentFor(schema, query);
        next();
      } catch (error) {
        if (error instanceof AlliedError) sendRefusal(res, error);
        else next(error);
      }
    },
    expressMiddleware(apollo, {
      context: async ({ req, res }) => {
        const { id, log } = req as LoggedRequest;
        let principal: Principal | null;
        try {
          principal = await authenticator.authenticate(req.headers.authorization, clientAddress(req));
          guard.admitPrincipal(principal);
        } catch (error) {
          if (error instanceof AlliedError && error.code === 'UNAUTHENTICATED') {
            throw new AlliedError(error.code, error.message, { http: { status: 401 } });
          }
          throw error;
        }
        const ctx = newContext(principal, id, log);
        // A client that goes away mid-operation: release the transaction (a
        // no-op once the response has been sent, as the transaction is over).
        res.once('close', () => releasing.track(ctx.finish(false)));
        return ctx;
      },
    }),
  );
  app.use((req, res) => sendError(res, 404, 'NOT_FOUND', `No route ${req.method} ${req.path}; GraphQL is at /graphql.`));
  app.use(jsonErrors);

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => resolve());
  });
  const { port } = httpServer.address() as AddressInfo;
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;

  let stopping: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${port}/graphql`,
    port,
    httpServer,
    signals,
    live,
    stop() {
      // Drains HTTP (in-flight requests finish, new ones are refused) and
      // closes WebSockets; then waits for transactions of clients that hung
      // up, so the database is never closed under a running statement.
      stopping ??= apollo
        .stop()
        .then(() => releasing.settled())
        .then(() => stopHeartbeat())
        .then(() => live.close())
        .then(() => signals.close());
      return stopping;
    },
  };
}

/**
 * A mutation operation is all or nothing: with any error it commits nothing
 * and returns no data. (A failing non-null mutation field nulls the whole
 * response, so a client could not tell which of several mutations had been
 * stored; after a rollback it can simply retry.)
 */
function mutationFailed(operation: OperationTypeNode | undefined, result: { errors?: readonly unknown[] }): boolean {
  return operation === OperationTypeNode.MUTATION && (result.errors?.length ?? 0) > 0;
}

/** Promises to wait for before shutting down. */
class PendingWork {
  private readonly pending = new Set<Promise<unknown>>();

  track(work: Promise<unknown>): void {
    const settled = work.catch(() => undefined).finally(() => this.pending.delete(settled));
    this.pending.add(settled);
  }

  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}

/** Over HTTP: the cost check that needs the request's variables, before execution. */
function costWithVariables(schema: GraphQLSchema, guard: OperationGuard): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, request }) {
          const refusal = guard.costRefusal(schema, document, request.variables, request.operationName);
          if (refusal) {
            refusal.extensions.http = { status: 400 };
            throw refusal;
          }
        },
      };
    },
  };
}

/**
 * Ends each operation's transaction before the response leaves: commit, then
 * the response. An operation that ran past its object budget answers with
 * that error alone, and commits nothing.
 */
function operationTransaction(masked: (error: GraphQLError, log: Logger) => unknown): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ contextValue, errors }) {
          for (const error of errors) masked(error, contextValue.log);
        },
        async willSendResponse({ contextValue, response, operation }) {
          const result = response.body.kind === 'single' ? response.body.singleResult : {};
          const over = contextValue.budget.exceeded;
          if (over && response.body.kind === 'single') {
            await contextValue.finish(false);
            response.body.singleResult = { errors: [masked(over, contextValue.log) as GraphQLError] };
            return;
          }
          if (mutationFailed(operation?.operation, result)) {
            await contextValue.finish(false);
            if (response.body.kind === 'single') response.body.singleResult.data = null;
            return;
          }
          try {
            await contextValue.finish(true);
          } catch (error) {
            contextValue.log.error({ err: error }, 'commit failed');
            if (response.body.kind === 'single') {
              response.body.singleResult = {
                errors: [
                  {
                    message: 'The operation could not be committed; nothing was saved.',
                    extensions: { code: 'INTERNAL_SERVER_ERROR' },
                  },
                ],
              };
            }
          }
        },
      };
    },
  };
}

/** Queries and mutations over WebSocket: the same one-transaction and object-budget rules as over HTTP. */
async function executeInTransaction(args: ExecutionArgs) {
  const ctx = args.contextValue as RequestContext;
  try {
    const result = await execute(args);
    const over = ctx.budget.exceeded;
    if (over) {
      await ctx.finish(false);
      return { errors: [over] };
    }
    const operation = args.document.definitions.find(
      (d): d is OperationDefinitionNode =>
        d.kind === Kind.OPERATION_DEFINITION && (!args.operationName || d.name?.value === args.operationName),
    );
    if (mutationFailed(operation?.operation, result)) {
      await ctx.finish(false);
      return { ...result, data: null };
    }
    await ctx.finish(true);
    return result;
  } catch (error) {
    await ctx.finish(false);
    throw error;
  }
}

async function readiness(database: Database): Promise<true | string> {
  await database.dataSource.query('select 1');
  const pending = await database.dataSource.showMigrations();
  return pending ? 'migrations pending' : true;
}

function requestLogging(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction) => {
    const header = req.headers['x-request-id'];
    const id = typeof header === 'string' && REQUEST_ID.test(header) ? header : crypto.randomUUID();
    const started = process.hrtime.bigint();
    const log = logger.child({ requestId: id });
    Object.assign(req, { id, log });
    res.setHeader('x-request-id', id);
    res.once('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      log.info({ method: req.method, path: req.originalUrl.split('?')[0], status: res.statusCode, ms: Math.round(ms * 10) / 10 }, 'request');
    });
    next();
  };
}

/** Body-parser and other middleware errors as JSON, never an HTML stack page. */
function jsonErrors(error: { status?: number; type?: string }, req: Request, res: Response, _next: NextFunction) {
  const status = error.status && error.status >= 400 && error.status < 500 ? error.status : 500;
  if (status === 500) (req as LoggedRequest).log.error({ err: error }, 'request failed');
  const message =
    error.type === 'entity.too.large'
      ? 'The request body is too large.'
      : status === 500
        ? 'Internal server error.'
        : 'The request body is not valid JSON.';
  res.status(status).json({
    errors: [{ message, extensions: { code: status === 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_USER_INPUT' } }],
  });
}
