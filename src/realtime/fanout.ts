import { createSourceEventStream, execute, print, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';

/**
 * Payloads that read the same for every subscriber (a scope's metrics
 * snapshot: no resolver under it depends on who asks). For those, one
 * execution per distinct operation serves every subscriber of the scope.
 */
const shareable = new WeakSet<object>();
const executions = new WeakMap<object, Map<string, Promise<ExecutionResult>>>();
const printed = new WeakMap<DocumentNode, string>();

export function markShareable<T extends object>(payload: T): T {
  shareable.add(payload);
  return payload;
}

function operationKey(args: ExecutionArgs): string {
  let text = printed.get(args.document);
  if (text === undefined) {
    text = print(args.document);
    printed.set(args.document, text);
  }
  return `${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? {})}\u0000${text}`;
}

async function executeFor(args: ExecutionArgs, payload: unknown): Promise<ExecutionResult> {
  const run = () => execute({ ...args, rootValue: payload }) as Promise<ExecutionResult>;
  if (typeof payload !== 'object' || payload === null || !shareable.has(payload)) return run();
  let byOperation = executions.get(payload);
  if (!byOperation) executions.set(payload, (byOperation = new Map()));
  const key = operationKey(args);
  let result = byOperation.get(key);
  if (!result) byOperation.set(key, (result = run()));
  return result;
}

/**
 * graphql's `subscribe`, except that shareable payloads are executed once per
 * distinct operation rather than once per subscriber. Ending the stream
 * (client completes, connection closes) ends the source at once.
 */
export async function subscribeShared(args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const stream = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in Object(stream))) return stream as ExecutionResult;
  const source = (stream as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  const iterator: AsyncIterableIterator<ExecutionResult> = {
    [Symbol.asyncIterator]: () => iterator,
    async next() {
      const item = await source.next();
      if (item.done) return { value: undefined, done: true };
      return { value: await executeFor(args, item.value), done: false };
    },
    async return() {
      await source.return?.();
      return { value: undefined, done: true };
    },
    async throw(error: unknown) {
      await source.return?.();
      throw error;
    },
  };
  return iterator;
}
