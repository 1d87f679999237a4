import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseUrl } from 'node:url';
import { ApolloServer, HeaderMap, type ApolloServerPlugin, type HTTPGraphQLRequest, type HTTPGraphQLResponse } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
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
  type ExecutionResult,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ValidationRule,
} from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import { createApp, type App } from './app';
import type { Config } from './config';
import type { Database } from './db/database';
import { AlliedError } from './errors';
import { maskError, toGraphQLError, type MaskOptions } from './error-mask';
import { textLiteralsRule } from './limits/document';
import type { OperationGuard } from './limits/guard';
import { bodyTimeout, heartbeat, limitConnections, upgradeAddress } from './limits/http';
import { subscribeShared } from './realtime/fanout';
import type { LiveHub } from './realtime/live';
import type { SignalBus } from './realtime/signal';
import { dashboard } from './routes/dashboard';
import { exportRoutes } from './routes/exports';
import { healthRoutes } from './routes/health';
import { ingestRoute } from './routes/ingest';
import { mailRoutes } from './routes/mail';
import { metricsRoute } from './routes/metrics';
import {
  clientAddress,
  isRefusal,
  jsonErrors,
  notFound,
  PendingWork,
  requestLogging,
  requestPrincipal,
  sendRefusal,
  type LoggedRequest,
} from './routes/respond';
import type { RequestContext } from './tenancy/context';
import type { Principal } from './tenancy/principal';
import { runIn } from './tenancy/run-as';
import type { Telemetry } from './telemetry';

export interface RunningServer {
  url: string;
  port: number;
  httpServer: http.Server;
  app: App;
  /** Change signals between instances (LISTEN/NOTIFY on PostgreSQL, in memory on the embedded database). */
  signals: SignalBus;
  /** This instance's live subscriptions. */
  live: LiveHub;
  /** Drains HTTP and WebSocket, then stops the application; the database stays open. */
  stop(): Promise<void>;
}

type Masker = (error: GraphQLError, log: Logger) => ReturnType<typeof maskError>['error'];

/** Builds the application on an open database and serves it over HTTP and WebSocket. */
export async function startServer(config: Config, database: Database, logger: Logger): Promise<RunningServer> {
  const app = await createApp(config, database, logger);
  try {
    return await serve(app);
  } catch (error) {
    await app.stop();
    throw error;
  }
}

/** HTTP routes and GraphQL (over HTTP and WebSocket) for `app`, listening on the configured port. */
export async function serve(app: App): Promise<RunningServer> {
  const { config, guard, schema } = app;
  const { limits } = config;
  const production = config.env === 'production';
  const maskOptions: MaskOptions = { hideSchema: production };
  const masked: Masker = (error, log) => {
    const { error: shown, unexpected } = maskError(error.toJSON(), error, maskOptions);
    if (unexpected) log.error({ err: error.originalError ?? error, path: error.path }, 'unexpected error');
    return shown;
  };
  // Size, depth, aliases, directives and cost are checked before validation (guard.documentFor).
  const extraRules: ValidationRule[] = [textLiteralsRule(), ...(production ? [NoSchemaIntrospectionCustomRule] : [])];

  const web = express();
  web.disable('x-powered-by');
  // GraphQL responses are per-caller and rarely repeat; hashing each for an ETag is wasted work.
  web.set('etag', false);
  web.set('trust proxy', 'loopback');
  const httpServer = http.createServer({ connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs) }, web);
  limitConnections(httpServer, limits);

  const { telemetry } = app;
  const { slowOperationMs } = config.observability;
  web.use(requestLogging(app.log, { slowMs: slowOperationMs, started: () => telemetry.requestStarted(), answered: (...args) => telemetry.request(...args) }));
  web.use(healthRoutes(app.database));
  web.use(metricsRoute(telemetry, { token: config.observability.metricsToken, production }));
  // Work to wait for before the database closes: transactions of clients
  // that hung up, and uploads still being stored.
  const releasing = new PendingWork();
  // Every route but health checks counts against the client address's rate.
  web.use((req, res, next) => {
    try {
      guard.admitAddress(clientAddress(req));
      next();
    } catch (error) {
      sendRefusal(res, error as AlliedError);
    }
  });
  const ws = graphqlOverWebSocket(app, httpServer, [...extraRules, ...specifiedRules], masked);
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
      { async serverWillStart() { return { async drainServer() { await ws.dispose(); } }; } },
      costWithVariables(schema, guard),
      operationOutcome(masked),
      operationMetrics(telemetry, slowOperationMs),
    ],
  });
  await apollo.start();

  web.use(
    '/graphql',
    bodyTimeout(limits.bodyTimeoutMs),
    express.json({ limit: limits.bodyBytes }),
    documentChecks(schema, guard),
    graphqlOverHttp(app, apollo, releasing),
  );
  // After /graphql, which most requests are: they need not pass these routers' matching first.
  web.use(ingestRoute(app, releasing));
  web.use(dashboard());
  web.use(exportRoutes(app));
  web.use(mailRoutes(app));
  web.use(notFound);
  web.use(jsonErrors);

  try {
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(config.port, config.host, () => resolve());
    });
  } catch (error) {
    // Nothing listens: stop what this function started (the caller stops the app).
    await apollo.stop().catch(() => undefined);
    ws.stopHeartbeat();
    throw error;
  }
  const { port } = httpServer.address() as AddressInfo;
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;

  let stopping: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${port}/graphql`,
    port,
    httpServer,
    app,
    signals: app.signals,
    live: app.live,
    stop() {
      // Drains HTTP (in-flight requests finish, new ones are refused) and
      // closes WebSockets; then waits for transactions of clients that hung
      // up, so the database is never closed under a running statement.
      stopping ??= apollo
        .stop()
        .then(() => releasing.settled())
        .then(() => ws.stopHeartbeat())
        .then(() => app.stop());
      return stopping;
    },
  };
}

/** Checked before Apollo parses anything: the variables' text, then the document's limits. */
function documentChecks(schema: GraphQLSchema, guard: OperationGuard) {
  return (req: Request, res: Response, next: NextFunction) => {
    try {
      guard.checkVariables(req.body?.variables);
      const query = req.body?.query ?? req.query.query;
      if (typeof query === 'string') guard.documentFor(schema, query);
      next();
    } catch (error) {
      if (error instanceof AlliedError) sendRefusal(res, error);
      else next(error);
    }
  };
}

/**
 * GraphQL over HTTP: the caller's operation runs through `runAs`, so it is
 * one tenant transaction, committed before the response leaves (or rolled
 * back, see `operationOutcome`), with signals published after the commit.
 */
function graphqlOverHttp(app: App, apollo: ApolloServer<RequestContext>, releasing: PendingWork) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const { id: requestId, log } = req as LoggedRequest;
    let principal: Principal | null;
    try {
      principal = await requestPrincipal(app.authenticator, app.guard, req);
    } catch (error) {
      if (isRefusal(error)) return sendRefusal(res, error);
      return next(error);
    }
    let response: HTTPGraphQLResponse | undefined;
    try {
      await app.runAs(
        principal,
        async (ctx) => {
          // A client that goes away mid-operation: roll back now, store nothing after.
          res.once('close', () => {
            if (!res.writableFinished) releasing.track(ctx.abandon());
          });
          response = await apollo.executeHTTPGraphQLRequest({ httpGraphQLRequest: apolloRequest(req), context: async () => ctx });
        },
        { requestId, log, limits: app.operationLimits },
      );
    } catch (error) {
      // Before a response there was nothing to commit: a fault like any other.
      if (!response) return next(error);
      log.error({ err: error }, 'commit failed');
      res.status(200).json({
        errors: [{ message: 'The operation could not be committed; nothing was saved.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
      });
      return;
    }
    await sendApolloResponse(res, response!);
  };
}

function apolloRequest(req: Request): HTTPGraphQLRequest {
  const headers = new HeaderMap();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  return { method: req.method.toUpperCase(), headers, search: parseUrl(req.url).search ?? '', body: req.body };
}

async function sendApolloResponse(res: Response, response: HTTPGraphQLResponse): Promise<void> {
  for (const [key, value] of response.headers) res.setHeader(key, value);
  res.statusCode = response.status ?? 200;
  if (response.body.kind === 'complete') {
    res.send(response.body.string);
    return;
  }
  for await (const chunk of response.body.asyncIterator) res.write(chunk);
  res.end();
}

/** graphql-ws on the HTTP server's /graphql: the same limits, checks and transaction rules as over HTTP. */
function graphqlOverWebSocket(app: App, httpServer: http.Server, rules: readonly ValidationRule[], masked: Masker) {
  const { guard, schema, config } = app;
  const slowMs = config.observability.slowOperationMs;
  // A WebSocket message is held to the same size as an HTTP body.
  const wsServer = new WebSocketServer({ server: httpServer, path: '/graphql', maxPayload: config.limits.bodyBytes });
  const stopHeartbeat = heartbeat(wsServer, config.limits.idleTimeoutMs);
  app.telemetry.countWebSockets(() => wsServer.clients.size);
  const wsAddress = (extra: { request: http.IncomingMessage }) => upgradeAddress(extra.request);
  const principalOf = (extra: unknown) => (extra as { principal?: Principal }).principal ?? null;
  const cleanup = useServer(
    {
      schema,
      connectionInitWaitTimeout: config.limits.connectionInitTimeoutMs,
      onConnect: async (ctx) => {
        const raw = ctx.connectionParams?.authorization;
        const header = typeof raw === 'string' && raw !== '' && !/^bearer\s/i.test(raw) ? `Bearer ${raw}` : raw;
        try {
          guard.admitAddress(wsAddress(ctx.extra));
          const principal = await app.authenticator.authenticate(typeof header === 'string' ? header : undefined, wsAddress(ctx.extra));
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
          guard.admitPrincipal(principalOf(ctx.extra));
          guard.checkVariables(payload.variables);
          const document = guard.documentFor(schema, payload.query);
          const invalid = validate(schema, document, rules);
          if (invalid.length > 0) {
            app.telemetry.operation(payload.operationName, 'unknown', 'ws', 0, codesOf(invalid));
            return [...invalid];
          }
          const refusal = guard.costRefusal(schema, document, payload.variables, payload.operationName);
          if (refusal) return [toGraphQLError(refusal)];
          return { schema, document, variableValues: payload.variables, operationName: payload.operationName };
        } catch (error) {
          if (error instanceof AlliedError) return [toGraphQLError(error)];
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
      },
      context: (ctx) => {
        const requestId = crypto.randomUUID();
        const context = app.newContext(principalOf(ctx.extra), {
          requestId,
          log: app.log.child({ requestId, ws: true }),
          limits: app.operationLimits,
        });
        context.live = { hub: app.live, connection: ctx.extra };
        return context;
      },
      // Queries and mutations: one transaction each, through the same entry as HTTP's.
      execute: async (args: ExecutionArgs) => {
        const ctx = args.contextValue as RequestContext;
        const started = performance.now();
        const operation = operationNode(args);
        const result = await runIn(ctx, async () => settle(ctx, operation?.operation, (await execute(args)) as ExecutionResult));
        const name = operation?.name?.value;
        observeOperation(app.telemetry, ctx.log, slowMs, { name, type: operation?.operation, transport: 'ws', started, errors: result.errors });
        return result;
      },
      subscribe: async (args: ExecutionArgs) => {
        const subscribed = await subscribeShared(args);
        const errors = 'errors' in subscribed ? subscribed.errors : undefined;
        app.telemetry.operation(operationNode(args)?.name?.value, 'subscription', 'ws', 0, codesOf(errors));
        return subscribed;
      },
      onNext: async (_ctx, _id, _payload, args, result) => {
        const context = args.contextValue as RequestContext;
        const over = context.budget.exceeded;
        // A subscription's context lives on: each event reads in its own short transaction.
        await context.release();
        if (over) return { errors: [masked(toGraphQLError(over), context.log)] };
        if (!result.errors) return;
        return { ...result, errors: result.errors.map((e) => masked(e, context.log)) };
      },
      onError: (_ctx, _id, _payload, errors) => errors.map((e) => masked(e, app.log)),
    },
    wsServer,
  );
  return { dispose: () => cleanup.dispose(), stopHeartbeat };
}

/** The operation `args` runs: the named one, else the document's only one. */
function operationNode(args: ExecutionArgs): OperationDefinitionNode | undefined {
  return args.document.definitions.find(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION && (!args.operationName || d.name?.value === args.operationName),
  );
}

/**
 * What an operation's result means for its transaction. Past its object
 * budget, the answer is that error alone and nothing is stored. A mutation
 * operation is all or nothing: with any error it commits nothing and returns
 * no data. (A failing non-null mutation field nulls the whole response, so a
 * client could not tell which of several mutations had been stored; after a
 * rollback it can simply retry.)
 */
function settle(ctx: RequestContext, operation: OperationTypeNode | undefined, result: ExecutionResult): ExecutionResult {
  const over = ctx.budget.exceeded;
  if (over) {
    ctx.rollbackOnly();
    return { errors: [toGraphQLError(over)] };
  }
  if (operation === OperationTypeNode.MUTATION && (result.errors?.length ?? 0) > 0) {
    ctx.rollbackOnly();
    return { ...result, data: null };
  }
  return result;
}

/** Over HTTP: the cost check that needs the request's variables, before execution. */
function costWithVariables(schema: GraphQLSchema, guard: OperationGuard): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, request }) {
          const refusal = guard.costRefusal(schema, document, request.variables, request.operationName);
          if (refusal) throw toGraphQLError(refusal, { http: { status: 400 } });
        },
      };
    },
  };
}

/** Over HTTP: logs unexpected errors, and applies `settle` to the result before it is sent (runAs then commits or rolls back). */
function operationOutcome(masked: Masker): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ contextValue, errors }) {
          for (const error of errors) masked(error, contextValue.log);
        },
        async willSendResponse({ contextValue, response, operation }) {
          if (response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          const settled = settle(contextValue, operation?.operation, result as ExecutionResult);
          if (settled === (result as ExecutionResult)) return;
          const errors = settled.errors?.map((e) => (e instanceof GraphQLError && e.originalError instanceof AlliedError ? masked(e, contextValue.log) : e));
          response.body.singleResult = { ...settled, errors } as typeof result;
        },
      };
    },
  };
}

/** The contract codes of a result's errors, as the client sees them once masked. */
function codesOf(errors: readonly (GraphQLError | { extensions?: Record<string, unknown> })[] | undefined): string[] {
  if (!errors) return [];
  return errors.map((e) => {
    const shown = e instanceof GraphQLError ? maskError(e.toJSON(), e, { hideSchema: false }).error : e;
    return String(shown.extensions?.code ?? 'INTERNAL_SERVER_ERROR');
  });
}

interface FinishedOperation {
  name: string | null | undefined;
  type: string | undefined;
  transport: 'http' | 'ws';
  started: number;
  errors: readonly (GraphQLError | { extensions?: Record<string, unknown> })[] | undefined;
}

/** Counts and times a finished operation, and logs it when it took longer than `slowMs`. */
function observeOperation(telemetry: Telemetry, log: Logger, slowMs: number, op: FinishedOperation): void {
  const ms = performance.now() - op.started;
  const codes = codesOf(op.errors);
  telemetry.operation(op.name, op.type ?? 'unknown', op.transport, ms / 1000, codes);
  if (ms > slowMs) log.warn({ operation: op.name ?? null, type: op.type ?? 'unknown', transport: op.transport, ms: Math.round(ms), errors: codes.length }, 'slow operation');
}

/** Over HTTP: each operation's count, duration and error codes, by operation name (never variables). */
function operationMetrics(telemetry: Telemetry, slowMs: number): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      const started = performance.now();
      return {
        async willSendResponse({ contextValue, response, operation, operationName }) {
          const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
          observeOperation(telemetry, contextValue.log, slowMs, { name: operationName, type: operation?.operation, transport: 'http', started, errors });
        },
      };
    },
  };
}
