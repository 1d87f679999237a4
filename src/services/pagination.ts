import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { badInput } from '../errors';

export const MAX_PAGE = 100;
export const DEFAULT_PAGE = 20;

export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

export interface Edge<T> {
  node: T;
  cursor: string;
}

/** A Relay connection; `totalCount` is counted only when a client asks for it. */
export interface Page<T> {
  edges: Edge<T>[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  readonly totalCount: Promise<number>;
}

/** One column of a keyset ordering: the SQL expression and how to read it off a row. */
export interface SortKey<T> {
  sql: string;
  cast: string;
  of: (row: T) => string;
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
 * Keyset pagination over `query` (already filtered), ordered by `keys` in one
 * direction. The last key must be unique (the id), so the order is total.
 */
export async function paginate<T extends ObjectLiteral>(
  list: string,
  query: SelectQueryBuilder<T>,
  args: PageArgs,
  keys: SortKey<T>[],
  direction: 'ASC' | 'DESC',
): Promise<Page<T>> {
  const first = checkFirst(args.first);
  const counted = query.clone();
  const page = query.clone();
  if (args.after) {
    const values = decodeCursor(list, args.after, keys.length);
    const op = direction === 'ASC' ? '>' : '<';
    const params: Record<string, string> = {};
    const placeholders = keys.map((k, i) => {
      params[`after${i}`] = values[i];
      return `cast(:after${i} as ${k.cast})`;
    });
    page.andWhere(`(${keys.map((k) => k.sql).join(', ')}) ${op} (${placeholders.join(', ')})`, params);
  }
  keys.forEach((k, i) => (i === 0 ? page.orderBy(k.sql, direction) : page.addOrderBy(k.sql, direction)));
  const rows = first === 0 ? [] : await page.limit(first + 1).getMany();
  const edges = rows.slice(0, first).map((node) => ({ node, cursor: encodeCursor(list, keys.map((k) => k.of(node))) }));
  let total: Promise<number> | undefined;
  return {
    edges,
    pageInfo: { hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null },
    get totalCount() {
      return (total ??= counted.getCount());
    },
  };
}

/** `%term%` for ILIKE, with the pattern characters in the term escaped. */
export function containsPattern(term: string): string {
  return `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
