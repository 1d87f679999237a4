import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A refund keeps its purchase's time, stored when the refund is (the purchase
 * is read then anyway to check it). Settlements and metrics count a refund
 * with its purchase: allied_attributed_revenue looked the purchase up by key
 * for every refund, about 1.1 s of a 1,000,000-event settlement
 * (bench/RESULTS.md, "settlement: where the time goes"). Existing refunds get
 * theirs here; a check keeps every refund, and only refunds, with one.
 */
export class RefundPurchaseTime1765900000000 implements MigrationInterface {
  name = 'RefundPurchaseTime1765900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`alter table events add column refund_purchase_at timestamptz(3)`);
    await q.query(
      `update events r set refund_purchase_at = p.occurred_at
       from events p where r.refund_of is not null and p.tenant_id = r.tenant_id and p.id = r.refund_of`,
    );
    await q.query(`alter table events add constraint events_refund_purchase_at check ((refund_of is null) = (refund_purchase_at is null))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`alter table events drop column refund_purchase_at`);
  }
}
