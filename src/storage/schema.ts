/**
 * The database schema as Kysely sees it. Column types are the portable subset of SQLite and PostgreSQL: text,
 * integers (epoch milliseconds in bigint columns), doubles, and JSON kept as text, so one set of queries serves
 * both dialects.
 */
import type { Generated } from "kysely";

export interface ApplicationsTable {
  id: string;
  name: string;
  created_at: number;
}

export interface ApiKeysTable {
  id: string;
  application_id: string;
  key_hash: string;
  label: string;
  created_at: number;
}

export interface PoolsTable {
  id: string;
  name: string;
  /** JSON array of ranges and numbers */
  numbers: string;
  code_length: number;
  /** JSON array of ISO countries or "*" */
  countries: string;
  created_at: number;
}

export interface VerificationsTable {
  id: string;
  application_id: string;
  phone: string;
  country: string;
  status: string;
  reason: string | null;
  reference: string | null;
  metadata: string | null;
  client: string | null;
  client_token_hash: string;
  max_checks: number;
  checks_used: number;
  guess_probability: number;
  verified_caller_id: string | null;
  created_at: number;
  updated_at: number;
  expires_at: number;
  ended_at: number | null;
  version: number;
}

export interface AttemptsTable {
  id: string;
  verification_id: string;
  seq: number;
  channel: string;
  status: string;
  reason: string | null;
  sip_code: number | null;
  pool_id: string;
  cli_key: string;
  cli_prefix: string;
  code_length: number;
  code_mac: string;
  created_at: number;
  dialed_at: number | null;
  ringing_at: number | null;
  ended_at: number | null;
  expires_at: number;
}

export interface CliLeasesTable {
  pool_id: string;
  cli_key: string;
  verification_id: string;
  expires_at: number;
}

export interface PhoneLastCliTable {
  phone: string;
  cli_key: string;
}

export interface EventsTable {
  /** global order of events: the outbox cursor */
  seq: Generated<number>;
  id: string;
  verification_id: string;
  attempt_id: string | null;
  type: string;
  data: string;
  created_at: number;
}

export interface IdempotencyKeysTable {
  application_id: string;
  key: string;
  request_hash: string;
  verification_id: string;
  created_at: number;
}

export interface SettingsTable {
  name: string;
  value: string;
}

export interface Database {
  applications: ApplicationsTable;
  api_keys: ApiKeysTable;
  pools: PoolsTable;
  verifications: VerificationsTable;
  attempts: AttemptsTable;
  cli_leases: CliLeasesTable;
  phone_last_cli: PhoneLastCliTable;
  events: EventsTable;
  settings: SettingsTable;
  idempotency_keys: IdempotencyKeysTable;
}
