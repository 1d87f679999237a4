// PostGraphile 5 (amber preset) over Allied's database: the catalog benchmark's peer.
// Started by bench/catalog.ts as a child process; prints its URL, then serves until killed.
//
// It answers as Allied does: the same JWT (HS256, JWT_SECRET) verified per request, and each
// operation in one transaction as the role allied_app with the brand in the transaction-local
// setting app.tenant_id, so the same row-level security policies decide what it reads.
//
//   DATABASE_URL=postgres://… JWT_SECRET=… node serve.cjs
'use strict';

// grafserv uses Promise.withResolvers (Node 22); Node 20 lacks it.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new Promise((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

const http = require('node:http');
const jwt = require('jsonwebtoken');
const { postgraphile } = require('postgraphile');
const { PostGraphileAmberPreset } = require('postgraphile/presets/amber');
const { makePgService } = require('postgraphile/adaptors/pg');
const { grafserv } = require('postgraphile/grafserv/node');

const secret = process.env.JWT_SECRET;
if (!process.env.DATABASE_URL || !secret) throw new Error('Set DATABASE_URL and JWT_SECRET.');

/** The brand of a verified bearer token; null (no tenant: RLS shows nothing) without one. */
function brandOf(req) {
  const header = req && req.headers.authorization;
  if (!header || !/^bearer /i.test(header)) return null;
  try {
    const claims = jwt.verify(header.slice(7), secret, { algorithms: ['HS256'] });
    return typeof claims.tid === 'string' ? claims.tid : null;
  } catch {
    return null;
  }
}

const preset = {
  extends: [PostGraphileAmberPreset],
  // Allied indexes alliance_id with partial indexes (where alliance_id is not null), which PostGraphile does not
  // count as covering the foreign key; without this it would hide alliance → courses and alliance → campaigns.
  disablePlugins: ['PgIndexBehaviorsPlugin'],
  pgServices: [
    makePgService({ connectionString: process.env.DATABASE_URL, schemas: ['public'], poolConfig: { max: Number(process.env.POOL_SIZE || 10) } }),
  ],
  grafast: {
    context(requestContext) {
      const brand = brandOf(requestContext.node && requestContext.node.req);
      return { pgSettings: { role: 'allied_app', 'app.tenant_id': brand || '', 'app.platform_admin': 'off' } };
    },
    explain: false,
  },
  grafserv: { graphiql: false, watch: false },
};

async function main() {
  const pgl = postgraphile(preset);
  const serv = pgl.createServ(grafserv);
  const server = http.createServer();
  serv.addTo(server);
  await new Promise((resolve) => server.listen(Number(process.env.PORT || 0), '127.0.0.1', resolve));
  // Build the schema before saying we are ready, so warm-up measures serving only.
  await pgl.getSchema();
  console.log(`ready http://127.0.0.1:${server.address().port}/graphql`);
  const stop = () => server.close(() => pgl.release().then(() => process.exit(0)));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
