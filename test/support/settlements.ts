import type { TestApp, TestBrand } from './server';

/** GraphQL operations of the settlement suites. */
export const SETTLEMENT_FIELDS = `id status currency periodStart periodEnd
  gross { amountMinor currency } refunds { amountMinor } clawbacks { amountMinor } net { amountMinor currency }
  eventCount unsettledEventCount unsettledFrom unsettledTo createdAt computedAt finalizedAt alliance { id name }
  lines { brand { id } shareBasisPoints amount { amountMinor currency } agreementVersion versionNet { amountMinor } }`;
export const RUN = `mutation($i: RunSettlementInput!) { runSettlement(input: $i) { ${SETTLEMENT_FIELDS} } }`;
export const FINALIZE = `mutation($id: ID!) { finalizeSettlement(id: $id) { ${SETTLEMENT_FIELDS} } }`;
export const READ = `query($id: ID!) { settlement(id: $id) { ${SETTLEMENT_FIELDS} } }`;
export const RECORD = `mutation($events: [EventInput!]!) { recordEvents(events: $events) { accepted rejected { index code message } } }`;

/** Runs a settlement, failing the test on any error. */
export async function runSettlement(app: TestApp, by: TestBrand, allianceId: string, currency: string, periodStart: string, periodEnd: string) {
  return (await app.ok(by.token, RUN, { i: { allianceId, currency, periodStart, periodEnd } })).runSettlement;
}

/** Lines as [brand id, version, amount], in the server's order. */
export const lineAmounts = (s: { lines: { brand: { id: string }; agreementVersion: number; amount: { amountMinor: number } }[] }) =>
  s.lines.map((l) => [l.brand.id, l.agreementVersion, l.amount.amountMinor]);
