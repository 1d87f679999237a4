import type { EntityManager } from 'typeorm';
import { badInput } from '../errors';
import { DEFAULT_PAGE, MAX_PAGE } from '../limits/pages';

export { DEFAULT_PAGE, MAX_PAGE };

export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

export interface Edge<T> {
  node: T;
  readonly cursor: string;
}

/** A Relay connection; `totalCount` is counted only when a client asks for it. */
export interface Page<T> {
  edges: Edge<T>[];
  pageInfo: { hasNextPage: boolean; readonly endCursor: string | null };
  readonly totalCount: Promise<number>;
}

/** One column of a keyset ordering: its SQL, its type for the cursor's value, and how to read it off a node. */
export interface SortKey<T> {
  sql: string;
  type: 'text' | 'uuid' | 'timestamptz' | 'bigint';
  of: (node: T) => string;
}

/** A filtered list to page through, in plain SQL with positional parameters. */
export interface ListQuery<T> {
  /** Names the list inside its cursors, so a cursor of one list is refused by another. */
  list: string;
  select: string;
  from: string;
  where: string[];
  params: unknown[];
  keys: SortKey<T>[];
  direction: 'ASC' | 'DESC';
  map: (row: Record<string, unknown>) => T;
}

/** The usual order of a tenant's rows: newest first, ties broken by id. */
export function newestFirst<T extends { createdAt: Date; id: string }>(alias: string) {
  const keys: SortKey<T>[] = [
    { sql: `${alias}.created_at`, type: 'timestamptz', of: (row) => row.createdAt.toISOString() },
    { sql: `${alias}.id`, type: 'uuid', of: (row) => row.id },
  ];
  return { keys, direction: 'DESC' as const };
}

export function checkFirst(requested: number | null | undefined): number {
  const first = requested ?? DEFAULT_PAGE;
  if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE) {
    throw badInput(`first must be between 0 and ${MAX_PAGE}.`);
  }
  return first;
}

// A cursor is opaque to clients: base64url of a JSON array tagged with its list.
export function encodeCursor(list: string, values: string[]): string {
  return Buffer.from(JSON.stringify([list, ...values])).toString('base64url');
}

export function decodeCursor(list: string, cursor: string, arity: number): string[] {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(parsed) &&
      parsed.length === arity + 1 &&
      parsed[0] === list &&
      parsed.every((v) => typeof v === 'string')
    ) {
      return parsed.slice(1) as string[];
    }
  } catch {
    // fall through to the error below
  }
  throw badInput('after is not a cursor of this list; pass an endCursor or cursor this list returned.');
}

export function emptyPage<T>(): Page<T> {
  return { edges: [], pageInfo: { hasNextPage: false, endCursor: null }, totalCount: Promise.resolve(0) };
}

/**
 * Keyset pagination: rows after the cursor in the keys' order. The last key
 * must be unique (the id), so the order is total and pages never overlap.
 * Cursors are encoded only when a client reads them.
 */
export async function paginate<T>(manager: EntityManager, query: ListQuery<T>, args: PageArgs): Promise<Page<T>> {
  const first = checkFirst(args.first);
  const where = [...query.where];
  const params = [...query.params];
  if (args.after) {
    const values = decodeCursor(query.list, args.after, query.keys.length);
    const placeholders = query.keys.map((k, i) => {
      params.push(values[i]);
      return `$${params.length}::${k.type}`;
    });
    const op = query.direction === 'ASC' ? '>' : '<';
    where.push(`(${query.keys.map((k) => k.sql).join(', ')}) ${op} (${placeholders.join(', ')})`);
  }
  const filter = where.length ? `where ${where.join(' and ')}` : '';
  const order = query.keys.map((k) => `${k.sql} ${query.direction}`).join(', ');
  const rows: Record<string, unknown>[] =
    first === 0
      ? []
      : await manager.query(`select ${query.select} from ${query.from} ${filter} order by ${order} limit ${first + 1}`, params);
  const cursorOf = (node: T) => encodeCursor(query.list, query.keys.map((k) => k.of(node)));
  const edges = rows.slice(0, first).map((row) => {
    const node = query.map(row);
    return {
      node,
      get cursor() {
        return cursorOf(node);
      },
    };
  });
  let total: Promise<number> | undefined;
  const countFilter = query.where.length ? `where ${query.where.join(' and ')}` : '';
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > first,
      get endCursor() {
        return edges.length ? edges[edges.length - 1].cursor : null;
      },
    },
    get totalCount() {
      total ??= manager
        .query(`select count(*)::int as n from ${query.from} ${countFilter}`, query.params)
        .then((r: { n: number }[]) => r[0].n);
      return total;
    },
  };
}

/** `%term%` for ILIKE, with the pattern characters in the term escaped. */
export function containsPattern(term: string): string {
  return `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
