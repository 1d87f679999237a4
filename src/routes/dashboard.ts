import path from 'node:path';
import express, { type Router } from 'express';
import { packageRoot } from '../package-root';

// The page talks only to this server: its scripts, its GraphQL endpoint over HTTP and WebSocket.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * GET /dashboard: the live dashboard (public/dashboard), with the browser
 * builds it uses from the installed packages: the graphql-ws client and
 * uPlot, its charting library. Static files; the page signs in with a
 * credential the user pastes.
 */
export function dashboard(): Router {
  const router = express.Router();
  const headers = (res: express.Response) => {
    res.set('content-security-policy', CSP);
    res.set('x-content-type-options', 'nosniff');
    res.set('referrer-policy', 'no-referrer');
  };
  const uplot = path.dirname(require.resolve('uplot'));
  const vendored: Record<string, string> = {
    '/dashboard/graphql-ws.js': path.join(path.dirname(require.resolve('graphql-ws')), '..', 'umd', 'graphql-ws.min.js'),
    '/dashboard/uplot.js': path.join(uplot, 'uPlot.iife.min.js'),
    '/dashboard/uplot.css': path.join(uplot, 'uPlot.min.css'),
  };
  for (const [route, file] of Object.entries(vendored)) {
    router.get(route, (_req, res) => {
      headers(res);
      res.sendFile(file);
    });
  }
  router.get('/dashboard', (req, res, next) => {
    // /dashboard and /dashboard/ both serve the page; its assets are linked absolutely.
    if (req.path !== '/dashboard' && req.path !== '/dashboard/') return next();
    headers(res);
    res.sendFile(path.join(packageRoot(), 'public', 'dashboard', 'index.html'));
  });
  router.use('/dashboard', express.static(path.join(packageRoot(), 'public', 'dashboard'), { index: 'index.html', setHeaders: headers }));
  return router;
}
