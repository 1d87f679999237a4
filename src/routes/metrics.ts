import crypto from 'node:crypto';
import { Router } from 'express';
import type { Telemetry } from '../telemetry';
import { sendError, type LoggedRequest } from './respond';

/**
 * GET /metrics in Prometheus's text format. With a token configured, a scrape
 * must send it as `Authorization: Bearer <token>`; in production without one,
 * the route is not served. Never rate-limited, like the health checks.
 */
export function metricsRoute(telemetry: Telemetry, options: { token?: string; production: boolean }): Router {
  const router = Router();
  const expected = options.token ? crypto.createHash('sha256').update(options.token).digest() : undefined;
  router.get('/metrics', async (req, res) => {
    if (!expected && options.production) return sendError(res, 404, 'NOT_FOUND', 'No route GET /metrics; set ALLIED_METRICS_TOKEN to serve it.');
    if (expected && !bearerMatches(req.headers.authorization, expected)) {
      res.setHeader('www-authenticate', 'Bearer realm="metrics"');
      return sendError(res, 401, 'UNAUTHENTICATED', 'GET /metrics needs the metrics token as a bearer credential.');
    }
    try {
      const text = await telemetry.text();
      res.setHeader('content-type', telemetry.contentType);
      res.setHeader('cache-control', 'no-store');
      res.send(text);
    } catch (error) {
      (req as LoggedRequest).log.error({ err: error }, 'metrics failed');
      sendError(res, 500, 'INTERNAL_SERVER_ERROR', 'The metrics could not be collected.');
    }
  });
  return router;
}

/** Compares digests, so the time taken says nothing about the token. */
function bearerMatches(header: string | undefined, expected: Buffer): boolean {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  if (!match) return false;
  return crypto.timingSafeEqual(crypto.createHash('sha256').update(match[1]).digest(), expected);
}
