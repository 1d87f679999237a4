import type http from 'node:http';
import type { Socket } from 'node:net';
import type { NextFunction, Request, Response } from 'express';
import type { WebSocket, WebSocketServer } from 'ws';

export interface ConnectionLimits {
  headersTimeoutMs: number;
  idleTimeoutMs: number;
  connectionsPerIp: number;
}

/**
 * Connection-level limits of the HTTP server (and so of WebSockets, which
 * start as HTTP requests): headers must arrive within `headersTimeoutMs`; a
 * connection idle for `idleTimeoutMs` is closed (slow uploads that stop
 * sending included); one address holds at most `connectionsPerIp`
 * connections. Request bodies have their own time limit (bodyTimeout).
 */
export function limitConnections(server: http.Server, limits: ConnectionLimits): void {
  server.headersTimeout = limits.headersTimeoutMs;
  // Whole-request time is limited per route (bodyTimeout): uploads to /ingest
  // may rightly stream for minutes while they keep sending.
  server.requestTimeout = 0;
  server.keepAliveTimeout = Math.min(5000, limits.idleTimeoutMs);
  server.setTimeout(limits.idleTimeoutMs);
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const count = (open.get(address) ?? 0) + 1;
    if (count > limits.connectionsPerIp) {
      socket.destroy();
      return;
    }
    open.set(address, count);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
    });
  });
}

/**
 * A request whose body has not fully arrived within `ms` is answered 408 and
 * its connection closed: a client trickling a body byte by byte cannot hold
 * a request open.
 */
export function bodyTimeout(ms: number) {
  return (req: Request, res: Response, next: NextFunction) => {
    const timer = setTimeout(() => {
      if (req.complete) return;
      if (!res.headersSent) {
        res.setHeader('connection', 'close');
        res.status(408).json({
          errors: [
            {
              message: `The request body did not arrive within ${ms} ms.`,
              extensions: { code: 'BAD_USER_INPUT', limit: 'ALLIED_BODY_TIMEOUT_MS' },
            },
          ],
        });
      }
      res.once('finish', () => req.destroy());
    }, ms);
    const done = () => clearTimeout(timer);
    req.once('end', done);
    res.once('close', done);
    next();
  };
}

/**
 * Pings every WebSocket each `ms`; one that has not answered the previous
 * ping is dead (a vanished peer, a half-open connection) and is terminated.
 * Returns the stop function.
 */
export function heartbeat(wsServer: WebSocketServer, ms: number): () => void {
  const alive = new WeakSet<WebSocket>();
  wsServer.on('connection', (socket) => {
    alive.add(socket);
    socket.on('pong', () => alive.add(socket));
  });
  const timer = setInterval(() => {
    for (const socket of wsServer.clients) {
      if (!alive.has(socket)) {
        socket.terminate();
        continue;
      }
      alive.delete(socket);
      socket.ping();
    }
  }, ms);
  timer.unref();
  return () => clearInterval(timer);
}

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

/**
 * The client address of a WebSocket upgrade, by the rule HTTP requests use
 * (Express's `trust proxy` = loopback): a proxy on this machine may name
 * the client in X-Forwarded-For; anyone else is who its socket says.
 */
export function upgradeAddress(req: http.IncomingMessage): string {
  const peer = req.socket.remoteAddress ?? 'unknown';
  const forwarded = req.headers['x-forwarded-for'];
  if (!LOOPBACK.test(peer) || typeof forwarded !== 'string') return peer;
  const hops = forwarded.split(',').map((h) => h.trim()).filter(Boolean);
  return hops.at(-1) ?? peer;
}
