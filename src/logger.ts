import pino, { type Logger } from 'pino';

/** JSON logs on stdout; every request's lines carry its requestId. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'allied' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: ['req.headers.authorization', 'authorization', 'secret'],
  });
}
