/**
 * What the operator's views need from storage beyond the core's `Store`: applications and their keys, a paged
 * list of verifications, and aggregates over a time range. Aggregates are computed by the database (grouped
 * counts and sums), so a dashboard over a busy day reads a few hundred rows, not every verification.
 * Both stores implement it with the same dialect-neutral queries (src/storage/kysely-store.ts).
 */
import type { ApiKeyRecord } from "./ports.js";
import type { ChannelName, Verification, VerificationStatus } from "./types.js";

export interface ApplicationRecord {
  id: string;
  name: string;
  createdAt: number;
}

export interface StoredApiKey extends ApiKeyRecord {
  /** null while the key works */
  revokedAt: number | null;
}

export interface VerificationQuery {
  applicationId: string;
  status?: VerificationStatus | undefined;
  /** verifications with at least one attempt on this channel */
  channel?: ChannelName | undefined;
  country?: string | undefined;
  /** keyset cursor: only verifications older than this one (created_at, then id) */
  before?: { createdAt: number; id: string } | undefined;
  limit: number;
}

/** The verifications of one application created in [from, to). */
export interface StatsRange {
  applicationId: string;
  from: number;
  to: number;
}

/** Verifications counted by time bucket (index from `from`, `bucketMs` wide) and status. */
export interface VerificationBucketRow {
  bucket: number;
  status: VerificationStatus;
  count: number;
}

export interface VerificationGroupRow {
  country: string;
  status: VerificationStatus;
  reason: string | null;
  /** the risk outcome recorded at start; null when no assessment ran */
  riskOutcome: string | null;
  count: number;
}

/** Attempts of the range's verifications, grouped by everything an outcome is broken down by. */
export interface AttemptGroupRow {
  channel: ChannelName;
  status: string;
  reason: string | null;
  trunkId: string | null;
  poolId: string | null;
  country: string;
  count: number;
  /** sum of list prices, USD */
  cost: number;
}

export interface AttemptBucketRow {
  bucket: number;
  channel: ChannelName;
  count: number;
  cost: number;
}

export interface BlockGroupRow {
  source: "admin" | "detector";
  scope: "number" | "prefix" | "country";
  shadow: boolean;
  count: number;
}

export interface DeliveryGroupRow {
  endpointId: string;
  status: "pending" | "delivered" | "failed";
  count: number;
  /** mean latency of the last attempt of these deliveries; null when none was attempted */
  meanLatencyMs: number | null;
  /** when the newest of them was created */
  lastAt: number;
}

export interface OperatorStore {
  listApplications(): Promise<ApplicationRecord[]>;
  /** An application's keys, revoked ones included, oldest first. */
  listApiKeys(applicationId: string): Promise<StoredApiKey[]>;
  /** Revokes a working key of the application; false when it has no such working key. */
  revokeApiKey(applicationId: string, id: string, now: number): Promise<boolean>;

  /** Newest first (created_at, then id), with their attempts. */
  listVerifications(query: VerificationQuery): Promise<Verification[]>;

  verificationBuckets(range: StatsRange, bucketMs: number): Promise<VerificationBucketRow[]>;
  verificationGroups(range: StatsRange): Promise<VerificationGroupRow[]>;
  attemptGroups(range: StatsRange): Promise<AttemptGroupRow[]>;
  attemptBuckets(range: StatsRange, bucketMs: number): Promise<AttemptBucketRow[]>;
  /**
   * Time from start to verified (ms) at each fraction (0..1, nearest rank) over the range's verified
   * verifications, with how many there were; the values are null when there were none.
   */
  timeToVerify(range: StatsRange, fractions: readonly number[]): Promise<{ count: number; values: (number | null)[] }>;
  /** Block-list entries made in the range (the admin's and the pumping detector's, expired ones included). */
  blockGroups(range: StatsRange): Promise<BlockGroupRow[]>;
  /** Deliveries to the application's endpoints created in the range. */
  deliveryGroups(range: StatsRange): Promise<DeliveryGroupRow[]>;
  /** The global order (seq) of the application's newest event; 0 when it has none. */
  latestEventSeq(applicationId: string): Promise<number>;
  /** Live (unexpired) CLI leases per pool at `now`. */
  liveLeaseCounts(now: number): Promise<Map<string, number>>;
}
