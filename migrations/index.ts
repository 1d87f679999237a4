import { Foundation1763800000000 } from './1763800000000-foundation';
import { Alliances1763900000000 } from './1763900000000-alliances';
import { Campaigns1764000000000 } from './1764000000000-campaigns';
import { Events1764100000000 } from './1764100000000-events';
import { Metrics1764200000000 } from './1764200000000-metrics';
import { Attribution1764300000000 } from './1764300000000-attribution';
import { Settlements1764400000000 } from './1764400000000-settlements';
import { CredentialFailures1764500000000 } from './1764500000000-credential-failures';
import { FormerMemberView1764600000000 } from './1764600000000-former-member-view';
import { SqlFunctions1764700000000 } from './1764700000000-sql-functions';
import { Jobs1764800000000 } from './1764800000000-jobs';
import { Models1764900000000 } from './1764900000000-models';
import { Experiments1765000000000 } from './1765000000000-experiments';
import { CreativeCounts1765100000000 } from './1765100000000-creative-counts';
import { Demands1765200000000 } from './1765200000000-demands';
import { Lifecycle1765300000000 } from './1765300000000-lifecycle';
import { Email1765400000000 } from './1765400000000-email';
import { Loyalty1765500000000 } from './1765500000000-loyalty';
import { Impact1765600000000 } from './1765600000000-impact';
import { FirstSeen1765700000000 } from './1765700000000-first-seen';
import { SettlementHash1765800000000 } from './1765800000000-settlement-hash';
import { RefundPurchaseTime1765900000000 } from './1765900000000-refund-purchase-time';

/** Every migration in order; listed explicitly so compiled and ts-jest runs load the same set. */
export const migrations = [Foundation1763800000000, Alliances1763900000000, Campaigns1764000000000, Events1764100000000, Metrics1764200000000, Attribution1764300000000, Settlements1764400000000, CredentialFailures1764500000000, FormerMemberView1764600000000, SqlFunctions1764700000000, Jobs1764800000000, Models1764900000000, Experiments1765000000000, CreativeCounts1765100000000, Demands1765200000000, Lifecycle1765300000000, Email1765400000000, Loyalty1765500000000, Impact1765600000000, FirstSeen1765700000000, SettlementHash1765800000000, RefundPurchaseTime1765900000000];
