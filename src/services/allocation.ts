import { TOTAL_BASIS_POINTS, type Share } from './shares';

const BASIS = BigInt(TOTAL_BASIS_POINTS);

/**
 * Splits `net` minor units between brands by basis points, exactly: the
 * largest-remainder method.
 *
 * 1. Each brand gets floor(|net| × share / 10000).
 * 2. The units left over (fewer than the number of brands) go one each to the
 *    brands with the largest remainders (|net| × share mod 10000); equal
 *    remainders go to the lower brand id first (ids compared as lower-case
 *    strings).
 * 3. A negative net (more refunds than sales) is split as its absolute value
 *    and every amount negated, so a refund takes back exactly what the same
 *    sale would have paid out.
 *
 * The amounts always sum to `net`, and the same inputs always give the same
 * amounts, whatever order the shares come in.
 *
 * Worked example: 999 split 5000/3000/2000 between brands a < b < c.
 * Exact shares are 499.5, 299.7 and 199.8; the floors 499 + 299 + 199 = 997
 * leave 2 units; the remainders are 5000, 7000 and 8000, so c and then b get
 * one each: a 499, b 300, c 200 (sum 999). With 3333/3333/3334 of 100: floors
 * 33, 33, 33 leave 1; remainders 3300, 3300, 3400, so c gets it: 33, 33, 34.
 * Of −100 the same shares give −33, −33, −34.
 */
export function allocate(net: bigint, shares: readonly Share[]): Map<string, bigint> {
  const total = shares.reduce((sum, s) => sum + s.basisPoints, 0);
  if (total !== TOTAL_BASIS_POINTS || shares.some((s) => !Number.isInteger(s.basisPoints) || s.basisPoints < 0)) {
    throw new Error(`shares ${shares.map((s) => s.basisPoints).join('/')} are not whole basis points summing to ${TOTAL_BASIS_POINTS}`);
  }
  const negative = net < 0n;
  const whole = negative ? -net : net;
  const parts = shares.map((s) => {
    const exact = whole * BigInt(s.basisPoints);
    return { brandId: s.brandId.toLowerCase(), amount: exact / BASIS, remainder: exact % BASIS };
  });
  let left = whole - parts.reduce((sum, p) => sum + p.amount, 0n);
  const byRemainder = [...parts].sort((x, y) =>
    x.remainder !== y.remainder ? (y.remainder > x.remainder ? 1 : -1) : x.brandId < y.brandId ? -1 : x.brandId > y.brandId ? 1 : 0,
  );
  for (const part of byRemainder) {
    if (left === 0n) break;
    part.amount += 1n;
    left -= 1n;
  }
  return new Map(parts.map((p) => [p.brandId, negative ? -p.amount : p.amount]));
}
