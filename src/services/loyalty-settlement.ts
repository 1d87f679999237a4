import type { EntityManager } from 'typeorm';

/** What one brand owes another for the discounts it gave on the first's points in a period, netted. */
export interface LoyaltyLine {
  /** Issued the points, owes the money. */
  payerBrandId: string;
  /** Gave the discount, is paid. */
  payeeBrandId: string;
  /** The payer's points redeemed at the payee, and their value. */
  points: bigint;
  grossMinor: bigint;
  /** The payee's points redeemed at the payer, and their value: what the payer is owed back. */
  offsetPoints: bigint;
  offsetMinor: bigint;
  /** grossMinor − offsetMinor, never negative: who pays whom is chosen so. */
  amountMinor: bigint;
}

export interface LoyaltyFlow {
  issuer: string;
  redeemer: string;
  points: bigint;
  valueMinor: bigint;
}

/**
 * Nets the flows per pair of brands: A's points redeemed at B (B gave the
 * discount, so A owes B their value) against B's redeemed at A. One line per
 * pair that had any flow, from the brand that owes on balance; a pair whose
 * flows cancel exactly is a line of 0 from the smaller brand id. Lines in
 * order of payer, then payee.
 *
 * Worked example: A's 300 points redeemed at B at 1 cent (300) and B's 120
 * at A (120): A pays B 300 − 120 = 180.
 */
export function netLoyaltyFlows(flows: readonly LoyaltyFlow[]): LoyaltyLine[] {
  const key = (x: string, y: string) => (x < y ? `${x}|${y}` : `${y}|${x}`);
  const pairs = new Map<string, { lo: string; hi: string; loToHi: LoyaltyFlow | null; hiToLo: LoyaltyFlow | null }>();
  for (const f of flows) {
    if (f.issuer === f.redeemer) continue;
    const [lo, hi] = f.issuer < f.redeemer ? [f.issuer, f.redeemer] : [f.redeemer, f.issuer];
    const pair = pairs.get(key(lo, hi)) ?? { lo, hi, loToHi: null, hiToLo: null };
    // lo issued, hi redeemed: lo owes hi.
    if (f.issuer === lo) pair.loToHi = add(pair.loToHi, f);
    else pair.hiToLo = add(pair.hiToLo, f);
    pairs.set(key(lo, hi), pair);
  }
  const lines: LoyaltyLine[] = [];
  for (const { lo, hi, loToHi, hiToLo } of pairs.values()) {
    const owedByLo = loToHi?.valueMinor ?? 0n;
    const owedByHi = hiToLo?.valueMinor ?? 0n;
    const loPays = owedByLo >= owedByHi;
    const [payer, payee, gross, offset] = loPays ? [lo, hi, loToHi, hiToLo] : [hi, lo, hiToLo, loToHi];
    lines.push({
      payerBrandId: payer,
      payeeBrandId: payee,
      points: gross?.points ?? 0n,
      grossMinor: gross?.valueMinor ?? 0n,
      offsetPoints: offset?.points ?? 0n,
      offsetMinor: offset?.valueMinor ?? 0n,
      amountMinor: (gross?.valueMinor ?? 0n) - (offset?.valueMinor ?? 0n),
    });
  }
  return lines.sort((x, y) => (x.payerBrandId < y.payerBrandId ? -1 : x.payerBrandId > y.payerBrandId ? 1 : x.payeeBrandId < y.payeeBrandId ? -1 : 1));
}

function add(into: LoyaltyFlow | null, f: LoyaltyFlow): LoyaltyFlow {
  return into ? { ...into, points: into.points + f.points, valueMinor: into.valueMinor + f.valueMinor } : { ...f };
}

/** The period's loyalty lines of an alliance in one currency (allied_loyalty_settlement_figures, netted). */
export async function loyaltyLines(manager: EntityManager, key: { allianceId: string; currency: string; start: Date; end: Date }): Promise<LoyaltyLine[]> {
  const rows: { issuer: string; redeemer: string; points: string; value_minor: string }[] = await manager.query(
    `select issuer, redeemer, points::text, value_minor::text from allied_loyalty_settlement_figures($1, $2, $3, $4)`,
    [key.allianceId, key.currency, key.start, key.end],
  );
  return netLoyaltyFlows(rows.map((r) => ({ issuer: r.issuer, redeemer: r.redeemer, points: BigInt(r.points), valueMinor: BigInt(r.value_minor) })));
}

export async function storeLoyaltyLines(manager: EntityManager, allianceId: string, settlementId: string, lines: readonly LoyaltyLine[]): Promise<void> {
  if (lines.length === 0) return;
  const column = <K extends keyof LoyaltyLine>(k: K) => lines.map((l) => String(l[k]));
  await manager.query(
    `insert into settlement_loyalty_lines (alliance_id, settlement_id, payer_brand_id, payee_brand_id, points, offset_points, gross_minor, offset_minor, amount_minor)
     select $1, $2, u.* from unnest($3::uuid[], $4::uuid[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[]) as u`,
    [allianceId, settlementId, column('payerBrandId'), column('payeeBrandId'), column('points'), column('offsetPoints'), column('grossMinor'), column('offsetMinor'), column('amountMinor')],
  );
}

export async function readLoyaltyLines(manager: EntityManager, settlementId: string): Promise<LoyaltyLine[]> {
  const rows = await manager.query(
    `select payer_brand_id, payee_brand_id, points::text, offset_points::text, gross_minor::text, offset_minor::text, amount_minor::text
     from settlement_loyalty_lines where settlement_id = $1 order by payer_brand_id, payee_brand_id`,
    [settlementId],
  );
  return rows.map((r: Record<string, string>) => ({
    payerBrandId: r.payer_brand_id,
    payeeBrandId: r.payee_brand_id,
    points: BigInt(r.points),
    offsetPoints: BigInt(r.offset_points),
    grossMinor: BigInt(r.gross_minor),
    offsetMinor: BigInt(r.offset_minor),
    amountMinor: BigInt(r.amount_minor),
  }));
}
