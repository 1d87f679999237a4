import crypto from 'node:crypto';
import type { Signal } from '../../src/realtime/signal';
import { Principal } from '../../src/tenancy/principal';
import { TestApp, type TestBrand } from '../support/server';

/**
 * The tenant transaction every operation runs in, as pipelining makes it: the
 * operation's first statements follow the opening one in the same round trip,
 * and change signals travel with the commit.
 */
describe('tenant transactions', () => {
  let app: TestApp;
  let brand: TestBrand;

  beforeAll(async () => {
    app = await TestApp.start();
    brand = await app.brand('Transaction Brand');
  });
  afterAll(() => app.stop());

  /** Signals naming `id` that reach this instance's listeners within `ms`. */
  const heard = async (id: string, work: () => Promise<unknown>, ms = 1500): Promise<Signal[]> => {
    const got: Signal[] = [];
    const stop = app.server.app.signals.listen((signals) => got.push(...signals.filter((s) => 'id' in s && s.id === id)));
    try {
      await work().catch(() => undefined);
      await new Promise((r) => setTimeout(r, ms));
      return got;
    } finally {
      stop();
    }
  };

  it('sends change signals when the transaction commits, and none when it rolls back', async () => {
    const scope = crypto.randomUUID();
    const failed = await heard(scope, () =>
      app.server.app.runAs(Principal.system(brand.id, 'test'), async (ctx) => {
        await (await ctx.manager()).query('select 1');
        ctx.changed([{ kind: 'alliance', id: scope }]);
        throw new Error('the operation fails after marking a change');
      }),
    );
    expect(failed).toEqual([]);
    const committed = await heard(scope, () =>
      app.server.app.runAs(Principal.system(brand.id, 'test'), async (ctx) => {
        await (await ctx.manager()).query('select 1');
        ctx.changed([{ kind: 'alliance', id: scope }, { kind: 'alliance', id: scope }]);
      }),
    );
    expect(committed).toEqual([{ kind: 'alliance', id: scope }]);
  });

  it("fails statements sent behind a failed opening with the opening's error, and never commits them", async () => {
    const missing = crypto.randomUUID();
    const attempt = app.server.app.runAs(Principal.system(missing, 'test'), async (ctx) => {
      const manager = await ctx.manager();
      // Issued at once, behind the statement that finds the brand gone; the second fails on its own account too.
      return Promise.all([manager.query('select 1 as one'), manager.query('select 1 / 0 as never')]);
    });
    await expect(attempt).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    // The connection went back clean: the next operation runs as usual.
    const [row] = await app.server.app.runAs(Principal.system(brand.id, 'test'), async (ctx) =>
      (await ctx.manager()).query('select current_setting($1) as tenant', ['app.tenant_id']),
    );
    expect(row.tenant).toBe(brand.id);
  });

  it('runs statements issued together in the order they were issued, as the tenant', async () => {
    const rows = await app.server.app.runAs(Principal.system(brand.id, 'test'), async (ctx) => {
      const manager = await ctx.manager();
      await manager.query('create temporary table pipeline_order (n int) on commit drop');
      const writes = [1, 2, 3].map((n) => manager.query('insert into pipeline_order values ($1)', [n]));
      const read = manager.query(`select array_agg(n order by ctid) as ns, current_user as role, current_setting('app.tenant_id') as tenant from pipeline_order`);
      await Promise.all(writes);
      return read;
    });
    expect(rows[0]).toEqual({ ns: [1, 2, 3], role: 'allied_app', tenant: brand.id });
  });
});
