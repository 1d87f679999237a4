import crypto from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import type { AlliedError } from '../errors';
import type { OperationGuard } from '../limits/guard';
import type { Authenticator } from '../tenancy/credentials';
import type { Principal } from '../tenancy/principal';
import type { Role } from '../tenancy/roles';

/** What every HTTP route may answer with, in the shape GraphQL errors have, and who is asking. */

export type LoggedRequest = Request & { id: string; log: Logger };

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** A JSON error answer in the shape GraphQL errors have. */
export function sendError(res: Response, status: number, code: string, message: string): void {
  res.status(status).json({ errors: [{ message, extensions: { code } }] });
}

/** A refusal as a plain JSON answer: its HTTP status (401 for credentials by default), headers and extensions. */
export function sendRefusal(res: Response, error: Pick<AlliedError, 'message' | 'extensions'>): void {
  const { http: head, ...extensions } = error.extensions as { code: string; http?: { status?: number; headers?: Map<string, string> } };
  for (const [name, value] of head?.headers ?? []) res.setHeader(name, value);
  res.status(head?.status ?? (extensions.code === 'UNAUTHENTICATED' ? 401 : 400)).json({ errors: [{ message: error.message, extensions }] });
}

/** The client's address (the peer's, or the forwarding proxy's word for it when the proxy is on loopback). */
export function clientAddress(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

/** The request's credential (null without one), counted against its brand's rate; a refusal is thrown as AlliedError. */
export async function requestPrincipal(authenticator: Authenticator, guard: OperationGuard, req: Request): Promise<Principal | null> {
  const principal = await authenticator.authenticate(req.headers.authorization, clientAddress(req));
  guard.admitPrincipal(principal);
  return principal;
}

/** The request's brand credential if it holds `role`; otherwise answers 401, 403 or 429 and returns null. */
export async function brandPrincipal(
  authenticator: Authenticator,
  guard: OperationGuard,
  req: Request,
  res: Response,
  role: Role,
  forbiddenMessage: string,
): Promise<Principal | null> {
  let principal: Principal | null;
  try {
    principal = await requestPrincipal(authenticator, guard, req);
  } catch (error) {
    if (!isRefusal(error)) throw error;
    sendRefusal(res, error);
    return null;
  }
  if (!principal) {
    sendError(res, 401, 'UNAUTHENTICATED', 'A valid credential is required: send Authorization: Bearer <token>.');
  } else if (!principal.brandId || !principal.has(role)) {
    sendError(res, 403, 'FORBIDDEN', forbiddenMessage);
  } else {
    return principal;
  }
  return null;
}

/** A coded error meant for the client (an AlliedError, or a GraphQL error carrying a code). */
export function isRefusal(error: unknown): error is Pick<AlliedError, 'message' | 'extensions'> {
  const code = (error as { extensions?: { code?: unknown } } | null)?.extensions?.code;
  return error instanceof Error && typeof code === 'string';
}

/** Gives each request an id (the client's X-Request-Id when well formed) and a logger carrying it; logs each response. */
/** What each answered request is also reported to: its metrics, and the threshold above which it is logged as slow. */
export interface RequestObserver {
  slowMs: number;
  /** A request arrived; `done` is called once when its connection has answered or gone. */
  started(): { done(): void };
  answered(method: string, path: string, status: number, seconds: number): void;
}

export function requestLogging(logger: Logger, observer?: RequestObserver) {
  return (req: Request, res: Response, next: NextFunction) => {
    const header = req.headers['x-request-id'];
    const id = typeof header === 'string' && REQUEST_ID.test(header) ? header : crypto.randomUUID();
    const started = process.hrtime.bigint();
    const log = logger.child({ requestId: id });
    Object.assign(req, { id, log });
    res.setHeader('x-request-id', id);
    if (observer) {
      const flight = observer.started();
      res.once('close', () => flight.done());
    }
    res.once('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      // Tracking and unsubscribe tokens are bearer links: their paths are logged without them.
      const path = req.originalUrl.split('?')[0].replace(/^\/(t\/[oc]|u)\/.+$/, '/$1/<token>');
      const line = { method: req.method, path, status: res.statusCode, ms: Math.round(ms * 10) / 10 };
      log.info(line, 'request');
      if (!observer) return;
      observer.answered(req.method, req.originalUrl.split('?')[0], res.statusCode, ms / 1000);
      if (ms > observer.slowMs) log.warn(line, 'slow request');
    });
    next();
  };
}

/** Any route not served: JSON, never Express's HTML page. */
export function notFound(req: Request, res: Response): void {
  sendError(res, 404, 'NOT_FOUND', `No route ${req.method} ${req.path}; GraphQL is at /graphql.`);
}

/** Body-parser and other middleware errors as JSON, never an HTML stack page. */
export function jsonErrors(error: { status?: number; type?: string }, req: Request, res: Response, _next: NextFunction): void {
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

/** Promises to wait for before shutting down: transactions of clients that hung up, uploads still being stored. */
export class PendingWork {
  private readonly pending = new Set<Promise<unknown>>();

  track(work: Promise<unknown>): void {
    const settled = work.catch(() => undefined).finally(() => this.pending.delete(settled));
    this.pending.add(settled);
  }

  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}
