// Streams live metrics to a BI tool as CSV lines on stdout, one per snapshot the
// server sends: pipe it into a push dataset, a file a dashboard tails, or a queue.
//
//   ALLIED_TOKEN=<token> node examples/bi-stream.mjs [allianceId] > live.csv
//
// ALLIED_URL (default ws://localhost:4000/graphql) is the server; the token may
// be a JWT or an API key with ANALYST or above. Reconnects with backoff when
// the connection drops (the server sends a fresh snapshot on resubscribe).
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const url = process.env.ALLIED_URL ?? 'ws://localhost:4000/graphql';
const token = process.env.ALLIED_TOKEN;
const allianceId = process.argv[2] ?? null;
if (!token) {
  console.error('Set ALLIED_TOKEN to a token or API key.');
  process.exit(2);
}

const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { authorization: token },
  retryAttempts: Infinity,
  // A refused credential (4401) or a forbidden scope is final; anything else (a restart, a dropped network) is retried.
  shouldRetry: (event) => !(typeof event?.code === 'number' && event.code >= 4400 && event.code < 4500),
});

const money = (list) => list.map((m) => `${m.currency}:${m.amountMinor}`).join(';');
console.log('at,window_start,revenue,purchases,impressions,clicks,ctr,conversions,satisfaction,active_learners');
client.subscribe(
  {
    query: `subscription($a: ID) { metrics(window: LAST_24_HOURS, allianceId: $a) {
      at windowStart revenue { amountMinor currency } purchases impressions clicks ctr conversions satisfaction activeLearners } }`,
    variables: { a: allianceId },
  },
  {
    next: ({ data, errors }) => {
      if (errors) return console.error(JSON.stringify(errors));
      const m = data.metrics;
      console.log([m.at, m.windowStart, money(m.revenue), m.purchases, m.impressions, m.clicks, m.ctr, m.conversions, m.satisfaction ?? '', m.activeLearners].join(','));
    },
    error: (error) => {
      console.error(error instanceof Error ? error.message : JSON.stringify(error));
      process.exit(1);
    },
    complete: () => process.exit(0),
  },
);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => client.dispose().then(() => process.exit(0)));
