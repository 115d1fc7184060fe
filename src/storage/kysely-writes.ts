/**
 * Writes the Kysely store makes inside its transactions: a verification's timer, and its events with the outbox's
 * delivery rows. Plus the row mapping of a reverse flash call waiting for its call, which the SQLite store shares.
 */
import { type Kysely, sql } from "kysely";
import type { DomainEvent } from "../core/types.js";
import { eventRows } from "./rows.js";
import type { Database } from "./schema.js";

type Tx = Kysely<Database>;

export async function setTimer(db: Tx, verificationId: string, wakeAt: number | null): Promise<void> {
  if (wakeAt === null) {
    await db.deleteFrom("timers").where("verification_id", "=", verificationId).execute();
    return;
  }
  await db
    .insertInto("timers")
    .values({ verification_id: verificationId, due_at: wakeAt, claimed_until: 0 })
    .onConflict((oc) => oc.column("verification_id").doUpdateSet({ due_at: wakeAt, claimed_until: 0 }))
    .execute();
}

/** The events, and the outbox's delivery rows for the endpoints that want each one (see sqlite-store.ts). */
export async function insertEvents(tx: Tx, events: DomainEvent[], applicationId: string): Promise<void> {
  for (const row of eventRows(events, applicationId)) {
    const { seq } = await tx.insertInto("events").values(row).returning("seq").executeTakeFirstOrThrow();
    await sql`insert into webhook_deliveries (id, endpoint_id, event_seq, event_id, verification_id, status,
        attempts, next_attempt_at, claimed_until, created_at)
      select 'msg_' || substr(${row.id}, 5) || substr(w.id, 5), w.id, ${seq}, ${row.id}, ${row.verification_id},
        'pending', 0, ${row.created_at}, 0, ${row.created_at}
      from webhook_endpoints w
      where w.application_id = ${applicationId} and w.enabled = 1
        and (w.event_types = '*' or w.event_types like ${`%,${row.type},%`})`.execute(tx);
  }
}

export function toReverseRef(r: { verification_id: string; phone: string; dial?: string | null; expires_at: number }) {
  return { verificationId: r.verification_id, phone: r.phone, dial: r.dial as string, expiresAt: Number(r.expires_at) };
}
