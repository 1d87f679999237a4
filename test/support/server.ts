import crypto from 'node:crypto';
import pino, { type Logger } from 'pino';
import request from 'supertest';
import { loadConfig, type Config } from '../../src/config';
import type { Database } from '../../src/db/database';
import { createLogger } from '../../src/logger';
import { startServer, type RunningServer } from '../../src/server';
import { hmacKeys, signToken } from '../../src/tenancy/credentials';
import { Principal } from '../../src/tenancy/principal';
import { Role } from '../../src/tenancy/roles';
import type { EntityManager } from 'typeorm';
import { openTestDatabase } from './database';

export const TEST_JWT_SECRET = 'allied-test-secret-0123456789-abcdefghij';
export const testKeys = hmacKeys(TEST_JWT_SECRET);

export interface GqlResult<T = any> {
  status: number;
  data?: T;
  errors?: { message: string; extensions: { code: string; [k: string]: unknown }; path?: string[] }[];
}

export interface TestBrand {
  id: string;
  slug: string;
  token: string;
}

/** A real server on a real database (one per suite), with helpers to speak GraphQL to it. */
export class TestApp {
  private constructor(
    readonly db: Database,
    readonly server: RunningServer,
    readonly config: Config,
  ) {}

  static async start(overrides: Partial<Record<string, string>> = {}, options: { logger?: Logger } = {}): Promise<TestApp> {
    const db = await openTestDatabase();
    const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, PORT: '0', HOST: '127.0.0.1', ALLIED_ML_DEVICE: 'cpu', ...overrides });
    const server = await startServer(config, db, options.logger ?? createLogger(process.env.LOG_LEVEL ?? 'silent'));
    return new TestApp(db, server, config);
  }

  async stop(): Promise<void> {
    await this.server.stop();
    await this.db.close();
  }

  /** Runs `work` in a transaction of `brandId`, as Allied itself does for a brand (a system principal). */
  asBrand<T>(brandId: string, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.server.app.runAs(Principal.system(brandId, 'test'), async (ctx) => work(await ctx.manager()));
  }

  get http() {
    return request(this.server.httpServer);
  }

  token(brandId: string | null, roles: Role[], ttlSeconds = 3600): string {
    return signToken(
      testKeys,
      brandId ? { sub: `test-${roles.join('-').toLowerCase()}`, tid: brandId, roles } : { sub: 'test-admin', roles },
      ttlSeconds,
    );
  }

  get adminToken(): string {
    return this.token(null, [Role.PLATFORM_ADMIN]);
  }

  async gql<T = any>(token: string | null, query: string, variables?: Record<string, unknown>): Promise<GqlResult<T>> {
    const req = this.http.post('/graphql').set('content-type', 'application/json');
    if (token) req.set('authorization', `Bearer ${token}`);
    const res = await req.send({ query, variables });
    return { status: res.status, data: res.body.data, errors: res.body.errors };
  }

  /** Like gql, but fails the test on any error. */
  async ok<T = any>(token: string | null, query: string, variables?: Record<string, unknown>): Promise<T> {
    const result = await this.gql<T>(token, query, variables);
    if (result.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
    return result.data as T;
  }

  /** Creates a brand as platform admin and returns it with an OWNER token. */
  async brand(name = 'Brand', kind = 'KNOWLEDGE_PLATFORM', resources?: Record<string, number>): Promise<TestBrand> {
    const slug = `${name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')}-${crypto.randomBytes(3).toString('hex')}`;
    const data = await this.ok(this.adminToken, `mutation($input: CreateBrandInput!) { createBrand(input: $input) { id slug } }`, {
      input: { slug, name, kind, resources },
    });
    const id = data.createBrand.id as string;
    return { id, slug, token: this.token(id, [Role.OWNER]) };
  }

  async course(brand: TestBrand, input: Partial<Record<string, unknown>> = {}): Promise<string> {
    const data = await this.ok(brand.token, `mutation($input: CreateCourseInput!) { createCourse(input: $input) { id } }`, {
      input: {
        title: 'A course',
        topics: ['python'],
        level: 'BEGINNER',
        format: 'VIDEO',
        price: { amountMinor: 1000, currency: 'USD' },
        ...input,
      },
    });
    return data.createCourse.id;
  }

  /** Runs SQL as the owner connection (test set-up and direct checks). */
  sql<T = any>(text: string, params: unknown[] = []): Promise<T[]> {
    return this.db.dataSource.query(text, params);
  }
}

export function codes(result: GqlResult): string[] {
  return (result.errors ?? []).map((e) => e.extensions.code);
}

/** A logger that keeps its JSON lines in memory, for tests that check what was logged. */
export function memoryLogger(level = 'info'): { logger: Logger; lines: Record<string, any>[] } {
  const lines: Record<string, any>[] = [];
  const logger = pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}
