import type { SettlementEntity } from '../entities';
import type { MetricsWindow } from '../entities/enums';
import type { ModelVersionRow } from '../ml/registry/registry';
import type { LoyaltyMember } from '../schema/loyalty.types';
import type { MetricsSnapshot } from '../schema/metrics.types';

/**
 * What a WebSocket operation's context knows of the live hub: the streams it
 * can open and the membership check they need. The hub (src/realtime/live.ts)
 * implements it; the context sees only this, so it depends on nothing that
 * depends on it (this module imports types of the schema and entities only).
 */
export interface LiveSubscriptions {
  /** Whether the brand is an ACTIVE member of the alliance, as the brand itself sees it. */
  isActiveMember(brandId: string, allianceId: string): Promise<boolean>;
  metrics(brandId: string, connection: object, window: MetricsWindow, allianceId: string | null): AsyncIterableIterator<MetricsSnapshot>;
  settlements(brandId: string, connection: object, allianceId: string): AsyncIterableIterator<SettlementEntity>;
  modelTraining(brandId: string, connection: object, versionId: string): AsyncIterableIterator<ModelVersionRow>;
  loyaltyMember(brandId: string, connection: object, memberId: string): AsyncIterableIterator<LoyaltyMember>;
}
