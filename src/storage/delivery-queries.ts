/**
 * The delivery measurement's counters (see DeliveryCountsStore) in Kysely, for SQLite and PostgreSQL alike: every
 * node adds its counts to the same rows, in one statement per flush.
 */
import { type Kysely, sql } from "kysely";
import type { DeliveryCount, DeliveryCountsStore, DeliveryTotals } from "../core/delivery-measure.js";
import type { Database } from "./schema.js";

const COUNTED = ["placed", "delivered", "verified", "verify_ms", "received", "late", "not_received"] as const;

export class DeliveryQueries implements DeliveryCountsStore {
  constructor(private readonly db: Kysely<Database>) {}

  async addDeliveryCounts(rows: readonly DeliveryCount[]): Promise<void> {
    if (rows.length === 0) return;
    await this.db
      .insertInto("delivery_counts")
      .values(
        rows.map((r) => ({
          network: r.network,
          channel: r.channel,
          trunk: r.trunk,
          bucket: r.bucket,
          placed: r.placed,
          delivered: r.delivered,
          verified: r.verified,
          verify_ms: r.verifyMs,
          received: r.received,
          late: r.late,
          not_received: r.notReceived,
        })),
      )
      .onConflict((oc) =>
        oc
          .columns(["network", "channel", "trunk", "bucket"])
          .doUpdateSet(
            Object.fromEntries(
              COUNTED.map((c) => [c, sql`${sql.ref(`delivery_counts.${c}`)} + ${sql.ref(`excluded.${c}`)}`]),
            ),
          ),
      )
      .execute();
  }

  async deliveryTotals(since: number): Promise<DeliveryTotals[]> {
    const rows = await this.db
      .selectFrom("delivery_counts")
      .select((eb) => ["network", "channel", "trunk", ...COUNTED.map((c) => eb.fn.sum<number | string>(c).as(c))])
      .where("bucket", ">=", since)
      .groupBy(["network", "channel", "trunk"])
      .execute();
    return rows.map((r) => ({
      network: r.network,
      channel: r.channel,
      trunk: r.trunk,
      placed: Number(r.placed),
      delivered: Number(r.delivered),
      verified: Number(r.verified),
      verifyMs: Number(r.verify_ms),
      received: Number(r.received),
      late: Number(r.late),
      notReceived: Number(r.not_received),
    }));
  }

  async pruneDeliveryCounts(before: number): Promise<void> {
    await this.db.deleteFrom("delivery_counts").where("bucket", "<", before).execute();
  }
}
