/**
 * The load generator of bench/ml/marketing.ts, run in a worker thread of
 * its own so that the server's event loop is not the client's: `connections`
 * clients, each with one keep-alive connection, each sending the next of
 * `bodies` (round robin across clients) as soon as its previous answer has
 * arrived, for `warmup` seconds unmeasured and then `seconds` measured.
 * Latency is timed per request with performance.now() (sub-millisecond),
 * from sending to the last byte of the answer. An answer counts as failed
 * unless it is HTTP 200 without GraphQL errors; `reason` values in the
 * answers are counted.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';

export interface LoadRequest {
  url: string;
  token: string;
  bodies: string[];
  connections: number;
  warmup: number;
  seconds: number;
}

export interface LoadResult {
  /** Measured latencies, ms, in completion order. */
  latencies: number[];
  seconds: number;
  failures: number;
  firstFailure: string | null;
  reasons: Record<string, number>;
}

function post(agent: http.Agent, url: URL, token: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST',
      agent,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'content-length': Buffer.byteLength(body) },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString('utf8') }));
    });
    req.end(body);
  });
}

/** Runs the load; `onMeasuring` is called when the warm-up is over and the measured window begins. */
export async function runLoad(request: LoadRequest, onMeasuring: () => void = () => undefined): Promise<LoadResult> {
  const url = new URL(request.url);
  const result: LoadResult = { latencies: [], seconds: 0, failures: 0, firstFailure: null, reasons: {} };
  let next = 0;
  const phase = async (seconds: number, measured: boolean) => {
    const until = performance.now() + seconds * 1000;
    const from = performance.now();
    await Promise.all(
      Array.from({ length: request.connections }, async () => {
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        try {
          while (performance.now() < until) {
            const body = request.bodies[next++ % request.bodies.length];
            const t = performance.now();
            let answer: { status: number; text: string };
            try {
              answer = await post(agent, url, request.token, body);
            } catch (error) {
              answer = { status: 0, text: String(error) };
            }
            const ms = performance.now() - t;
            if (!measured) continue;
            if (answer.status !== 200 || answer.text.includes('"errors"')) {
              result.failures++;
              result.firstFailure ??= `${answer.status} ${answer.text.slice(0, 300)}`;
              continue;
            }
            result.latencies.push(ms);
            const reason = /"reason":"(\w+)"/.exec(answer.text)?.[1] ?? 'none';
            result.reasons[reason] = (result.reasons[reason] ?? 0) + 1;
          }
        } finally {
          agent.destroy();
        }
      }),
    );
    if (measured) result.seconds = (performance.now() - from) / 1000;
  };
  if (request.warmup > 0) await phase(request.warmup, false);
  onMeasuring();
  await phase(request.seconds, true);
  return result;
}

if (parentPort && workerData) {
  const port = parentPort;
  runLoad(workerData as LoadRequest, () => port.postMessage({ measuring: true })).then(
    (result) => port.postMessage({ result }),
    (error: unknown) => port.postMessage({ error: String((error as Error)?.stack ?? error) }),
  );
}
