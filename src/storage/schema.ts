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
  /** null while the key works */
  revoked_at: number | null;
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
  /** JSON of the fraud controls' RiskAssessment */
  risk: string | null;
  verified_caller_id: string | null;
  created_at: number;
  updated_at: number;
  expires_at: number;
  ended_at: number | null;
  version: number;
  /** JSON: WorkflowStep[] */
  workflow: string;
  step: number;
  step_deadline: number | null;
  email: string | null;
  /** when its personal data was removed (migration 0012); written only by the retention job and erasure */
  redacted_at?: number | null;
  /** `retention` or `erasure` */
  redaction?: string | null;
  /** the API key id that asked for an erasure */
  erased_by?: string | null;
  /** JSON of the fraud controls' refusal of its start (migration 0012) */
  refusal: string | null;
  /** JSON of why an automatic workflow chose its channels (migration 0017) */
  channel_choice?: string | null;
  /** the application's review number it verifies (migration 0012); set when it is created, never changed */
  review_number_id: string | null;
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
  trunk_id: string | null;
  invited_at: number | null;
  reason_header: string | null;
  detail: string | null;
  cost: number | null;
  /** JSON of the phone's delivery report (migration 0017) */
  phone_report?: string | null;
  /** reverse flash calls: the inbound number to call (migration 0013); null for every other attempt */
  dial?: string | null;
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
  /** null only for events written before migration 0002 whose verification is gone */
  application_id: string | null;
  attempt_id: string | null;
  type: string;
  data: string;
  created_at: number;
}

export interface WebhookEndpointsTable {
  id: string;
  application_id: string;
  url: string;
  description: string | null;
  /** `*`, or the accepted types as `,type,type,` */
  event_types: string;
  enabled: number;
  disabled_reason: string | null;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: number | null;
  created_at: number;
  updated_at: number;
  /** `standard` (Standard Webhooks) or `sinch` (Sinch's VerificationResultEvent, Sinch-signed) */
  format: string;
}

export interface WebhookDeliveriesTable {
  id: string;
  endpoint_id: string;
  event_seq: number;
  event_id: string;
  verification_id: string;
  status: string;
  attempts: number;
  next_attempt_at: number;
  claimed_until: number;
  last_status_code: number | null;
  last_error: string | null;
  last_latency_ms: number | null;
  created_at: number;
  ended_at: number | null;
}

export interface WebhookAttemptsTable {
  id: string;
  delivery_id: string;
  endpoint_id: string;
  attempted_at: number;
  status_code: number | null;
  latency_ms: number;
  error: string | null;
}

export interface TimersTable {
  verification_id: string;
  due_at: number;
  claimed_until: number;
}

export interface DecisionCallbacksTable {
  application_id: string;
  url: string;
  secret: string;
  timeout_ms: number;
  default_decision: string;
  created_at: number;
  updated_at: number;
  /** `flashverify` or `sinch` (Sinch's VerificationRequestEvent, Sinch-signed) */
  format: string;
}

export interface SinchCredentialsTable {
  id: string;
  application_id: string;
  /** the public half, a UUID, as Sinch's application keys are */
  application_key: string;
  /** the secret, AES-256-GCM under a key derived from the server secret */
  secret_sealed: string;
  label: string;
  created_at: number;
  revoked_at: number | null;
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

export interface FraudRulesTable {
  id: string;
  application_id: string;
  list: string;
  scope: string;
  value: string;
  reason: string;
  source: string;
  /** 0 or 1 */
  shadow: number;
  created_at: number;
  expires_at: number | null;
}

/** rate-limiter-flexible's RateLimiterSQLite counters */
export interface RateLimitsTable {
  key: string;
  points: number;
  expire: number | null;
}

export interface MessageTemplatesTable {
  application_id: string;
  channel: string;
  language: string;
  /** JSON: the channel's fields (see TemplateContent) */
  content: string;
  updated_at: number;
  updated_by: string;
}

export interface ApplicationLanguagesTable {
  application_id: string;
  default_language: string;
  updated_at: number;
}

/** The delivery measurement's counters (migration 0017): one row per network, channel, trunk and bucket. */
export interface DeliveryCountsTable {
  network: string;
  channel: string;
  /** '' when the channel has no trunks */
  trunk: string;
  /** start of the bucket, epoch ms */
  bucket: number;
  placed: number;
  delivered: number;
  verified: number;
  /** sum of the verified ones' time to verify */
  verify_ms: number;
  received: number;
  late: number;
  not_received: number;
}

/** An application's review numbers (migration 0012): kept after removal, for the audit. */
export interface ReviewNumbersTable {
  id: string;
  application_id: string;
  phone: string;
  code: string | null;
  caller_id: string | null;
  label: string;
  created_at: number;
  created_by: string;
  removed_at: number | null;
  removed_by: string | null;
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
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  timers: TimersTable;
  decision_callbacks: DecisionCallbacksTable;
  fraud_rules: FraudRulesTable;
  rate_limits: RateLimitsTable;
  sinch_credentials: SinchCredentialsTable;
  message_templates: MessageTemplatesTable;
  application_languages: ApplicationLanguagesTable;
  delivery_counts: DeliveryCountsTable;
  review_numbers: ReviewNumbersTable;
}
