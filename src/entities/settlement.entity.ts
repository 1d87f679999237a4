/**
 * A settlement as read with plain SQL (services/settlement.service.ts);
 * settlements are never written through TypeORM, so these are not mapped
 * entities. Amounts are minor units of `currency`.
 */
export class SettlementEntity {
  allianceId!: string;
  id!: string;
  currency!: string;
  periodStart!: Date;
  periodEnd!: Date;
  status!: 'DRAFT' | 'FINALIZED';
  grossMinor!: number;
  refundsMinor!: number;
  clawbacksMinor!: number;
  netMinor!: number;
  eventCount!: number;
  unsettledCount!: number;
  unsettledFrom!: Date | null;
  unsettledTo!: Date | null;
  runBy!: string;
  createdAt!: Date;
  computedAt!: Date;
  finalizedAt!: Date | null;

  private money(amountMinor: number) {
    return { amountMinor, currency: this.currency };
  }
  get gross() {
    return this.money(this.grossMinor);
  }
  get refunds() {
    return this.money(this.refundsMinor);
  }
  get clawbacks() {
    return this.money(this.clawbacksMinor);
  }
  get net() {
    return this.money(this.netMinor);
  }
  get unsettledEventCount() {
    return this.unsettledCount;
  }
}

/** One brand's amount under one agreement version. */
export class SettlementLineEntity {
  settlementId!: string;
  agreementId!: string;
  agreementVersion!: number;
  brandId!: string;
  shareBasisPoints!: number;
  versionNetMinor!: number;
  amountMinor!: number;
  currency!: string;

  get amount() {
    return { amountMinor: this.amountMinor, currency: this.currency };
  }
  get versionNet() {
    return { amountMinor: this.versionNetMinor, currency: this.currency };
  }
}
