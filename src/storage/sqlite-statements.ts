/**
 * The SQLite store's prepared statements, and which columns a save writes: a save whose verification keeps its
 * fixed fields writes only the changing columns, so the JSON of the others is not serialised again.
 */
import type SqliteDatabase from "better-sqlite3";
import type { Statement } from "better-sqlite3";
import type { Verification } from "../core/types.js";
import { VERIFICATION_COLUMNS } from "./rows.js";
import type { AttemptsTable, VerificationsTable } from "./schema.js";
export const ATTEMPT_COLUMNS = [
  "id",
  "verification_id",
  "seq",
  "channel",
  "status",
  "reason",
  "sip_code",
  "pool_id",
  "cli_key",
  "cli_prefix",
  "code_length",
  "code_mac",
  "created_at",
  "dialed_at",
  "ringing_at",
  "ended_at",
  "expires_at",
  "trunk_id",
  "invited_at",
  "reason_header",
  "detail",
  "cost",
  "phone_report",
  "dial",
] as const satisfies readonly (keyof AttemptsTable)[];

/**
 * The columns of a verification that a transition may change. A save whose verification keeps all the others (see
 * `sameFixedFields`) writes only these, so the JSON of the fixed ones is not serialised again.
 */
export const VERIFICATION_CHANGING = [
  "status",
  "reason",
  "checks_used",
  "guess_probability",
  "verified_caller_id",
  "updated_at",
  "expires_at",
  "ended_at",
  "version",
  "workflow",
  "step",
  "step_deadline",
] as const satisfies readonly (keyof VerificationsTable)[];

/** The same for attempts: what a call or message records as it progresses is all in the other columns. */
export const ATTEMPT_FIXED = new Set<keyof AttemptsTable>([
  "id",
  "verification_id",
  "seq",
  "channel",
  "pool_id",
  "cli_key",
  "cli_prefix",
  "code_length",
  "code_mac",
  "created_at",
  "dial",
]);
export const ATTEMPT_CHANGING = ATTEMPT_COLUMNS.filter((c) => !ATTEMPT_FIXED.has(c));

const insertSql = (table: string, columns: readonly string[]) =>
  `insert into ${table} (${columns.join(", ")}) values (${columns.map((c) => `@${c}`).join(", ")})`;
const assignments = (columns: readonly string[]) =>
  columns
    .filter((c) => c !== "id")
    .map((c) => `${c} = @${c}`)
    .join(", ");

export function sameColumns(a: AttemptsTable, b: AttemptsTable, columns: Iterable<keyof AttemptsTable>): boolean {
  for (const column of columns) if (a[column] !== b[column]) return false;
  return true;
}

/**
 * True when `v` keeps every column of `previous` outside VERIFICATION_CHANGING. The domain copies a verification shallowly, so its JSON
 * fields are the same objects unless a change replaced them.
 */
export function sameFixedFields(v: Verification, previous: Verification): boolean {
  return (
    v.id === previous.id &&
    v.applicationId === previous.applicationId &&
    v.phone === previous.phone &&
    v.country === previous.country &&
    v.reference === previous.reference &&
    v.metadata === previous.metadata &&
    v.client === previous.client &&
    v.clientTokenHash === previous.clientTokenHash &&
    v.maxChecks === previous.maxChecks &&
    v.risk === previous.risk &&
    v.createdAt === previous.createdAt &&
    v.email === previous.email
  );
}

/** The id and the columns of VERIFICATION_CHANGING. */
export function changingRow(v: Verification): Pick<VerificationsTable, "id" | (typeof VERIFICATION_CHANGING)[number]> {
  return {
    id: v.id,
    status: v.status,
    reason: v.reason,
    checks_used: v.checksUsed,
    guess_probability: v.guessProbability,
    verified_caller_id: v.verifiedCallerId,
    updated_at: v.updatedAt,
    expires_at: v.expiresAt,
    ended_at: v.endedAt,
    version: v.version,
    workflow: JSON.stringify(v.workflow),
    step: v.step,
    step_deadline: v.stepDeadline,
  };
}

/**
 * Claims due timers. The inner select is where PostgreSQL adds `for update skip locked` so that several nodes
 * claim disjoint rows; SQLite has one writer, so the update alone is atomic.
 */
export const CLAIM_TIMERS_SQL = `update timers set claimed_until = @claim_until
  where verification_id in (select verification_id from timers where due_at <= @now and claimed_until <= @now
    order by due_at limit @limit)
  returning verification_id`;

/**
 * Claims due deliveries: the heads of chains (a verification's oldest pending delivery to an endpoint, due and
 * unclaimed), oldest due first through the due index, each with the rest of its chain, which waits behind the head
 * for everyone else. A chain's order holds because nothing but its head is ever claimable; the cost follows the
 * batch, not the backlog (each candidate's chain is probed through its index). PostgreSQL runs the same claim as
 * migration 0011's function. `heads` is materialized once for both of its uses (SQLite flattened it into the first
 * and ran it again for the second), and `cross join` keeps the heads outside when the chains are looked up (left
 * to the planner with `heads` materialized, it scanned every pending delivery instead).
 */
export const CLAIM_DELIVERIES_SQL = `with heads as materialized (
    select d.id, d.endpoint_id, d.verification_id, d.event_seq from webhook_deliveries d
    where d.status = 'pending' and d.next_attempt_at <= @now and d.claimed_until <= @now
      and not exists (select 1 from webhook_deliveries p
        where p.endpoint_id = d.endpoint_id and p.verification_id = d.verification_id
          and p.event_seq < d.event_seq and p.status = 'pending')
      and exists (select 1 from webhook_endpoints w where w.id = d.endpoint_id and w.enabled = 1)
    order by d.next_attempt_at limit @limit)
  update webhook_deliveries set claimed_until = @claim_until
  where id in (select id from heads)
    or id in (select p.id from heads h cross join webhook_deliveries p on p.endpoint_id = h.endpoint_id
      and p.verification_id = h.verification_id and p.event_seq > h.event_seq and p.status = 'pending')
  returning *`;

export function prepareStatements(db: SqliteDatabase.Database) {
  const statement = (sql: string): Statement => db.prepare(sql);
  return {
    claimIdempotency: statement(
      `${insertSql("idempotency_keys", ["application_id", "key", "request_hash", "verification_id", "created_at"])}
       on conflict (application_id, key) do nothing`,
    ),
    findIdempotency: statement("select * from idempotency_keys where application_id = @application_id and key = @key"),
    // A lease is free when absent or stale (its verification cannot be live any more).
    takeLease: statement(
      `${insertSql("cli_leases", ["pool_id", "cli_key", "verification_id", "expires_at"])}
       on conflict (cli_key) do update set pool_id = excluded.pool_id, verification_id = excluded.verification_id,
         expires_at = excluded.expires_at where cli_leases.expires_at < @now`,
    ),
    releaseLeases: statement("delete from cli_leases where verification_id = @id"),
    liveReverse: statement(
      `select a.verification_id, v.phone, a.dial, a.expires_at from attempts a join verifications v
       on v.id = a.verification_id where a.dial = @dial and a.expires_at > @now and v.status = 'pending'`,
    ),
    liveReverseOfPhone: statement(
      `select a.verification_id, v.phone, a.dial, a.expires_at from verifications v join attempts a
       on a.verification_id = v.id where v.phone = @phone and v.status = 'pending' and a.dial = @dial
       and a.expires_at > @now`,
    ),
    liveReverseAll: statement(
      `select a.verification_id, v.phone, a.dial, a.expires_at from attempts a join verifications v
       on v.id = a.verification_id where a.dial is not null and a.expires_at > @now and v.status = 'pending'`,
    ),
    liveLeaseKeys: statement("select cli_key from cli_leases where pool_id = @pool_id and expires_at >= @now"),
    insertVerification: statement(insertSql("verifications", VERIFICATION_COLUMNS)),
    updateVerification: statement(
      `update verifications set ${assignments(VERIFICATION_COLUMNS)} where id = @id and version = @expected_version`,
    ),
    updateVerificationChanging: statement(
      `update verifications set ${assignments(VERIFICATION_CHANGING)} where id = @id and version = @expected_version`,
    ),
    getVerification: statement("select * from verifications where id = @id"),
    insertAttempt: statement(insertSql("attempts", ATTEMPT_COLUMNS)),
    upsertAttempt: statement(
      `${insertSql("attempts", ATTEMPT_COLUMNS)} on conflict (id) do update set ${assignments(ATTEMPT_COLUMNS)}`,
    ),
    updateAttemptChanging: statement(`update attempts set ${assignments(ATTEMPT_CHANGING)} where id = @id`),
    getAttempts: statement("select * from attempts where verification_id = @id order by seq"),
    setLastCli: statement(
      "insert into phone_last_cli (phone, cli_key) values (@phone, @cli_key) on conflict (phone) do update set cli_key = excluded.cli_key",
    ),
    lastCliKey: statement("select cli_key from phone_last_cli where phone = @phone"),
    listWithLiveAttempts: statement(
      `select distinct verification_id from attempts where status in ('dialing', 'ringing')
       order by verification_id limit @limit`,
    ),
    insertEvent: statement(
      insertSql("events", ["id", "verification_id", "application_id", "attempt_id", "type", "data", "created_at"]),
    ),
    insertDelivery: statement(
      `insert into webhook_deliveries (id, endpoint_id, event_seq, event_id, verification_id, status, attempts,
         next_attempt_at, claimed_until, created_at)
       values (@id, @endpoint_id, @event_seq, @event_id, @verification_id, 'pending', 0, @now, 0, @now)`,
    ),
    enabledEndpoints: statement("select id, application_id, event_types from webhook_endpoints where enabled = 1"),
    listEvents: statement("select * from events where verification_id = @id and seq > @after order by seq"),
    eventBySeq: statement("select * from events where seq = @seq"),
    upsertTimer: statement(
      `insert into timers (verification_id, due_at, claimed_until) values (@verification_id, @due_at, 0)
       on conflict (verification_id) do update set due_at = excluded.due_at, claimed_until = 0`,
    ),
    deleteTimer: statement("delete from timers where verification_id = @verification_id"),
    claimTimers: statement(CLAIM_TIMERS_SQL),
    claimDeliveries: statement(CLAIM_DELIVERIES_SQL),
    endpointById: statement("select * from webhook_endpoints where id = @id"),
    insertDeliveryAttempt: statement(
      insertSql("webhook_attempts", [
        "id",
        "delivery_id",
        "endpoint_id",
        "attempted_at",
        "status_code",
        "latency_ms",
        "error",
      ]),
    ),
    completeDelivery: statement(
      `update webhook_deliveries set status = @status, attempts = attempts + 1, next_attempt_at = @next_attempt_at,
         claimed_until = 0, last_status_code = @status_code, last_error = @error, last_latency_ms = @latency_ms,
         ended_at = @ended_at
       where id = @id`,
    ),
    releaseDelivery: statement("update webhook_deliveries set claimed_until = 0 where id = @id"),
    renewClaim: statement(
      `update webhook_deliveries set claimed_until = @until
       where id = @id and claimed_until = @claimed_until and status = 'pending'`,
    ),
    // The rest of a chain waits behind its head: out of the due range while the head backs off.
    deferChain: statement(
      `update webhook_deliveries set next_attempt_at = @next_attempt_at
       where status = 'pending' and next_attempt_at < @next_attempt_at
         and endpoint_id = (select endpoint_id from webhook_deliveries where id = @id)
         and verification_id = (select verification_id from webhook_deliveries where id = @id)
         and event_seq > (select event_seq from webhook_deliveries where id = @id)`,
    ),
    disableEndpoint: statement(
      "update webhook_endpoints set enabled = 0, disabled_reason = @reason, updated_at = @now where id = @id",
    ),
    insertFraudRule: statement(
      insertSql("fraud_rules", [
        "id",
        "application_id",
        "list",
        "scope",
        "value",
        "reason",
        "source",
        "shadow",
        "created_at",
        "expires_at",
      ]),
    ),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;
