import pino, { type Logger } from 'pino';
import SonicBoom from 'sonic-boom';

/**
 * Where log lines go: stdout, written asynchronously. A reader that has gone
 * away (a supervisor or harness that exited first, a closed pipe) must never
 * stop the process: the first failed write turns this destination off, and
 * nothing flushes at exit, where a synchronous flush into a closed pipe
 * retries forever. Lines are written out, with a bound, by `closeLogs` before the
 * process exits on purpose.
 */
const destinations = new Set<SonicBoom>();

function stdoutDestination(): SonicBoom {
  const destination = new SonicBoom({ fd: 1, sync: false, minLength: 0 });
  destination.on('error', () => silence(destination));
  destinations.add(destination);
  return destination;
}

function silence(destination: SonicBoom): void {
  destinations.delete(destination);
  const dropped = destination as unknown as Record<'write' | 'flush' | 'flushSync' | 'end', unknown>;
  dropped.write = () => true;
  dropped.flush = (cb?: (err?: Error) => void) => cb?.();
  dropped.flushSync = () => undefined;
  dropped.end = () => undefined;
}

/** JSON logs on stdout; every request's lines carry its requestId. */
export function createLogger(level: string): Logger {
  return pino(
    {
      level,
      base: { service: 'allied' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: ['req.headers.authorization', 'authorization', 'secret'],
    },
    stdoutDestination(),
  );
}

/**
 * Writes out every logger's buffered lines and closes the destinations (later
 * lines are dropped), waiting at most `timeoutMs`: a stalled reader is given up on.
 */
export async function closeLogs(timeoutMs = 2000): Promise<void> {
  const closing = [...destinations].map((destination) => {
    destinations.delete(destination);
    return new Promise<void>((resolve) => {
      destination.once('close', resolve);
      destination.once('error', () => resolve());
      try {
        destination.end();
      } catch {
        resolve();
      }
    }).finally(() => silence(destination));
  });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs).unref()));
  await Promise.race([Promise.all(closing), deadline]);
  clearTimeout(timer);
}

/** Exits once the logs are written out (or `timeoutMs` has passed). */
export async function exitAfterLogs(code: number, timeoutMs?: number): Promise<never> {
  await closeLogs(timeoutMs);
  process.exit(code);
}

/**
 * Writes to stdout or stderr whose reader has gone away fail with EPIPE;
 * a server keeps serving (and stops cleanly) without anyone reading them.
 */
export function tolerateClosedOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
    });
  }
}
