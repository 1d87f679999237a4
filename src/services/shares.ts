/** Revenue shares: basis points per brand, summing to exactly 10000. */
export const TOTAL_BASIS_POINTS = 10_000;

export interface Share {
  brandId: string;
  basisPoints: number;
}

/**
 * Everything wrong with `shares` as the terms between `activeMembers`: one
 * share per ACTIVE member, none for anyone else, each an integer in
 * 0..10000, together exactly 10000. Empty when the shares are valid.
 */
export function shareProblems(activeMembers: readonly string[], shares: readonly Share[]): string[] {
  const problems: string[] = [];
  const members = new Set(activeMembers);
  const seen = new Set<string>();
  let total = 0;
  for (const { brandId, basisPoints } of shares) {
    if (seen.has(brandId)) problems.push(`brand ${brandId} has more than one share`);
    seen.add(brandId);
    if (!members.has(brandId)) problems.push(`brand ${brandId} is not an ACTIVE member of the alliance`);
    if (!Number.isInteger(basisPoints) || basisPoints < 0 || basisPoints > TOTAL_BASIS_POINTS) {
      problems.push(`the share of brand ${brandId} must be a whole number of basis points in 0..10000`);
    }
    total += basisPoints;
  }
  for (const member of activeMembers) {
    if (!seen.has(member)) problems.push(`ACTIVE member ${member} has no share`);
  }
  if (total !== TOTAL_BASIS_POINTS) {
    problems.push(`shares sum to ${total} basis points; they must sum to exactly ${TOTAL_BASIS_POINTS}`);
  }
  return problems;
}
